//! Delivering digests: the digest is built from the store at its due time
//! (on the blocking pool), rendered in the client's language and posted in
//! the side's channel (the lead's: a channel or a direct message), each
//! message with a nonce from the digest's key, so a repeated delivery shows
//! nothing twice.

use jiff::Timestamp;
use jiff::civil::Date;
use serenity::all::UserId;

use super::render::{Renderer, Reply};
use super::sink::ChatSink;
use crate::config::LeadTarget;
use crate::domain::effect::Effect;
use crate::domain::{ClientKey, Side};
use crate::outbox::DeliveryError;
use crate::store::Store;

fn blocking_failed(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError(format!("building the digest: {e}"))
}

impl<S: Store> ChatSink<S> {
    pub(super) async fn deliver_digest(
        &self,
        effect: &Effect,
        client: &ClientKey,
        side: Side,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    ) -> Result<(), DeliveryError> {
        let (Some(conf), Some(channel)) = (
            self.config.client(client),
            self.config.digest_channel(client, side),
        ) else {
            tracing::error!(%client, %side, "a digest for a client or side no longer configured");
            return Ok(());
        };
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let key = client.clone();
        let digest = tokio::task::spawn_blocking(move || {
            crate::digests::client_digest(&*store, &config, &key, side, since, due)
        })
        .await
        .map_err(blocking_failed)?
        .map_err(blocking_failed)?;
        let Some(digest) = digest else { return Ok(()) };
        // Each side reads in its own language: the MSP in the MSP's.
        let lang = match side {
            Side::Msp => self.config.msp().language,
            Side::Internal => conf.language,
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang,
        };
        let messages = renderer.digest(&digest, &conf.name, late.then_some(due));
        self.post_all(channel.get(), messages, &effect.key()).await
    }

    pub(super) async fn deliver_lead_digest(
        &self,
        effect: &Effect,
        _date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    ) -> Result<(), DeliveryError> {
        let Some(lead) = self.config.msp().digest.clone() else {
            return Ok(());
        };
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let digest = tokio::task::spawn_blocking(move || {
            crate::digests::lead_digest(&*store, &config, since, due)
        })
        .await
        .map_err(blocking_failed)?
        .map_err(blocking_failed)?;
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.config.msp().language,
        };
        let config = self.config.clone();
        let name = |k: &ClientKey| {
            config
                .client(k)
                .map_or_else(|| k.to_string(), |c| c.name.clone())
        };
        let messages = renderer.lead_digest(&digest, name, late.then_some(due));
        let channel = match lead.target {
            LeadTarget::Channel(c) => c.get(),
            LeadTarget::User(user) => UserId::new(user)
                .create_dm_channel(&self.http)
                .await
                .map_err(|e| DeliveryError(format!("opening the lead's DM: {e}")))?
                .id
                .get(),
        };
        self.post_all(channel, messages, &effect.key()).await
    }

    async fn post_all(
        &self,
        channel: u64,
        messages: Vec<String>,
        key: &str,
    ) -> Result<(), DeliveryError> {
        for (i, content) in messages.into_iter().enumerate() {
            let reply = Reply {
                content,
                ..Reply::default()
            };
            self.post(channel, &reply, &format!("{key}#{i}")).await?;
        }
        Ok(())
    }
}
