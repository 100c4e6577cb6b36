//! Delivering digests: the digest is built from the store at its due time
//! (on the blocking pool), rendered in the client's language and posted in
//! the side's channel (the lead's: a channel or a direct message), each
//! message with a nonce from the digest's key, so a repeated delivery shows
//! nothing twice.
//!
//! The chart (`crate::app::chart`) is attached to the first message of a client's or
//! the lead's digest, under the same nonces as the text. Personal digests go by direct
//! message to the subscriber, in their language.

use jiff::Timestamp;
use jiff::civil::Date;

use super::Chat;
use super::sink::ChatSink;
use crate::app::outbox::DeliveryError;
use crate::app::reply::Attachment;
use crate::app::reply::render::{Renderer, Reply, limits};
use crate::config::LeadTarget;
use crate::domain::chart::ChartData;
use crate::domain::effect::Effect;
use crate::domain::{ClientKey, Side};
use crate::i18n::Lang;
use crate::store::Store;

fn blocking_failed(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::transient(format!("building the digest: {e}"))
}

impl<S: Store, C: Chat> ChatSink<S, C> {
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
        let (digest, chart) = tokio::task::spawn_blocking(move || {
            let digest =
                crate::app::digests::client_digest(&*store, &config, &key, side, since, due)?;
            let chart = crate::app::digests::client_chart(&*store, &config, &key, due)?;
            Ok::<_, crate::store::StoreError>((digest, chart))
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
        self.post_all_with_chart(channel.get(), messages, &effect.key(), chart, &renderer)
            .await
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
        let tz = lead.calendar.tz().clone();
        let (digest, chart) = tokio::task::spawn_blocking(move || {
            let digest = crate::app::digests::lead_digest(&*store, &config, since, due)?;
            let chart = crate::app::digests::lead_chart(&*store, &config, &tz, due)?;
            Ok::<_, crate::store::StoreError>((digest, chart))
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
            LeadTarget::User(user) => self
                .chat
                .direct(user)
                .await
                .map_err(|e| e.context("opening the lead's DM"))?,
        };
        self.post_all_with_chart(channel, messages, &effect.key(), chart, &renderer)
            .await
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

    /// Posts a digest's messages, the first one with the chart attached
    /// (drawn here; a chart that cannot be drawn is left out, the digest
    /// still goes) and its legend. Same nonces as [`Self::post_all`].
    async fn post_all_with_chart(
        &self,
        channel: u64,
        mut messages: Vec<String>,
        key: &str,
        chart: ChartData,
        renderer: &Renderer<'_>,
    ) -> Result<(), DeliveryError> {
        let png = match tokio::task::spawn_blocking(move || crate::app::chart::render_png(&chart))
            .await
        {
            Ok(Ok(png)) => png,
            Ok(Err(e)) => {
                tracing::error!(error = %e, key, "digest chart not drawn");
                return self.post_all(channel, messages, key).await;
            }
            Err(e) => {
                tracing::error!(error = %e, key, "digest chart not drawn");
                return self.post_all(channel, messages, key).await;
            }
        };
        let legend = renderer.chart_legend();
        let Some(first) = messages.first_mut() else {
            return Ok(());
        };
        if first.chars().count() + 1 + legend.chars().count() <= limits::CONTENT {
            first.push('\n');
            first.push_str(&legend);
        } else {
            messages.insert(1, legend);
        }
        let mut rest = messages.into_iter().enumerate();
        if let Some((i, content)) = rest.next() {
            let reply = Reply {
                content,
                file: Some(Attachment {
                    name: crate::app::chart::FILE_NAME.to_owned(),
                    bytes: png,
                }),
                ..Reply::default()
            };
            self.chat
                .post(channel, &reply, &format!("{key}#{i}"))
                .await
                .map_err(|e| e.context("posting a digest with its chart"))?;
        }
        for (i, content) in rest {
            let reply = Reply {
                content,
                ..Reply::default()
            };
            self.post(channel, &reply, &format!("{key}#{i}")).await?;
        }
        Ok(())
    }

    /// A subscriber's own digest, by direct message, in their language.
    pub(super) async fn deliver_personal_digest(
        &self,
        effect: &Effect,
    ) -> Result<(), DeliveryError> {
        let Effect::PersonalDigest {
            person,
            side,
            client,
            lang,
            due,
            late,
            ..
        } = effect
        else {
            return Ok(());
        };
        let (person, side, due, late) = (*person, *side, *due, *late);
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let key = client.clone();
        let digest = tokio::task::spawn_blocking(move || {
            // Unsubscribed since it was recorded: nothing to send.
            if crate::app::personal_digests::current(&*store, person)?.is_none() {
                return Ok(None);
            }
            crate::app::personal_digests::build(&*store, &config, person, side, key.as_ref(), due)
                .map(Some)
        })
        .await
        .map_err(blocking_failed)?
        .map_err(blocking_failed)?;
        let Some(digest) = digest else { return Ok(()) };
        let renderer = Renderer {
            messages: &self.messages,
            lang: Lang::from_locale(lang).unwrap_or(self.config.msp().language),
        };
        let messages = renderer.personal_digest(&digest, late.then_some(due));
        let channel = self
            .chat
            .direct(person.0)
            .await
            .map_err(|e| e.context("opening a personal digest's DM"))?;
        self.post_all(channel, messages, &effect.key()).await
    }
}
