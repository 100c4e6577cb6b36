//! Telling people that Ponte cannot deliver somewhere (issue 17): when a
//! delivery is refused for good because of the channel it goes to (a missing
//! permission, an archived or locked thread, a channel that is gone), the
//! people who can fix it get one notice per channel and kind of refusal,
//! across restarts (a store mark), in their language: the MSP channel of
//! the effect's client and the client's internal IT channel, never the
//! channel that refused. The entry itself waits as a dead letter
//! (`ponte outbox list|retry|drop`).

use crate::app::outbox::{DeliveryError, Refusal};
use crate::app::reply::Reply;
use crate::app::reply::markup;
use crate::domain::effect::Effect;
use crate::domain::error::Arg;
use crate::i18n::Lang;
use crate::store::{Mark, Store};

use super::Chat;
use super::sink::ChatSink;

impl<S: Store, C: Chat> ChatSink<S, C> {
    /// Tells the responsible people that `effect` was refused for good.
    pub(super) async fn notify_refused(&self, effect: &Effect, error: &DeliveryError) {
        let (channel, kind, id) = match error.refusal() {
            Some(Refusal::Permission { channel }) => (channel, "permission", "notice-permission"),
            Some(Refusal::ThreadClosed { channel }) => (channel, "thread", "notice-thread-closed"),
            Some(Refusal::ChannelType { channel }) => (channel, "type", "notice-channel-type"),
            Some(Refusal::Unknown { channel }) if channel != 0 => (channel, "gone", "notice-gone"),
            Some(Refusal::Unknown { .. } | Refusal::Other | Refusal::DirectMessages) | None => {
                return;
            }
        };
        let mark = format!("notice:{kind}:{channel}");
        let store = self.ledger.store().clone();
        let key = mark.clone();
        let seen = tokio::task::spawn_blocking(move || store.mark(&key)).await;
        if matches!(seen, Ok(Ok(Some(_)))) {
            return;
        }
        let mut told = false;
        for (place, lang) in self.notice_places(effect, channel) {
            let text = self.messages.text(
                lang,
                id,
                &[
                    ("channel", Arg::Text(markup::channel(channel))),
                    ("id", Arg::Text(channel.to_string())),
                ],
            );
            let reply = Reply {
                content: text,
                ..Reply::default()
            };
            match self
                .chat
                .post(place, &reply, &format!("{mark}@{place}"))
                .await
            {
                Ok(_) => told = true,
                Err(e) => {
                    tracing::warn!(channel = place, error = %e, "cannot post a delivery notice")
                }
            }
        }
        if told {
            let store = self.ledger.store().clone();
            let now = jiff::Timestamp::now();
            let written = tokio::task::spawn_blocking(move || {
                store.commit_mark(&Mark { key: mark, at: now }, &[])?;
                store.flush()
            })
            .await;
            if !matches!(written, Ok(Ok(()))) {
                tracing::warn!("cannot remember a delivery notice; it may be posted again");
            }
        }
    }

    /// Where the people who can fix a channel read, with their language:
    /// the MSP channel of the effect's client and its internal IT channel
    /// (the MSP's queue channel for an effect of no client), without
    /// `refused` itself.
    fn notice_places(&self, effect: &Effect, refused: u64) -> Vec<(u64, Lang)> {
        let msp_lang = self.config.msp().language;
        let client = effect
            .task()
            .map(|t| t.client().clone())
            .or_else(|| match effect {
                Effect::Digest { client, .. } => Some(client.clone()),
                _ => None,
            })
            .and_then(|key| self.config.client(&key));
        let mut places = Vec::new();
        match client {
            Some(client) => {
                if let Some(msp) = self.config.msp_channel(&client.key) {
                    places.push((msp.get(), msp_lang));
                }
                if let Some(it) = client.channels.internal_it {
                    places.push((it.get(), client.language));
                }
            }
            None => {
                if let Some(server) = self.config.msp().server {
                    places.push((server.queue_channel.get(), msp_lang));
                }
            }
        }
        places.retain(|(c, _)| *c != refused);
        places.dedup_by_key(|(c, _)| *c);
        places
    }
}
