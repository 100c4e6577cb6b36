//! `/digest preview`: the digest of the reader's side for the company of
//! the place, as it stands now, shown only to the reader. Since the last
//! digest posted for that side (or the last 24 hours). The MSP's staff may
//! name a client (`client:`); in the MSP's queue channel, naming none, they
//! get the MSP side of every client they serve, as in the lead's digest. A
//! requester's preview carries no internal note.

use super::bot::Bot;
use super::identity::Resolved;
use crate::app::engine::{InternalError, PonteError};
use crate::app::personal_digests::Change;
use crate::app::reply::Answer;
use crate::app::reply::render::{Renderer, Reply};
use crate::domain::Side;
use crate::domain::UserError;
use crate::domain::effect::{LEAD_DIGEST_PREFIX, digest_prefix};
use crate::i18n::Lang;
use crate::store::Store;

impl<S: Store> Bot<S> {
    pub(super) async fn digest_preview(
        &self,
        lang: Lang,
        who: &Resolved,
        client: Option<String>,
    ) -> Result<Answer, PonteError> {
        let side = who.actor.side;
        // The MSP's staff where no client is (the queue channel), naming
        // none: the MSP side of every client, as the lead's digest.
        let every_client = side == Side::Msp
            && who.actor.works_for(Side::Msp)
            && who.client.is_none()
            && client.as_deref().is_none_or(|c| c.trim().is_empty());
        if every_client {
            return self.lead_digest_preview(lang, who).await;
        }
        let client = match client {
            Some(named) => super::sla::report_client(&self.config, side, who, Some(&named))?,
            None => who.client.clone().ok_or(UserError::ClientNeeded)?,
        };
        if !who.actor.serves(&client) {
            return Err(UserError::UnknownClient {
                input: client.to_string(),
            }
            .into());
        }
        let name = self
            .config
            .client(&client)
            .map_or_else(|| client.to_string(), |c| c.name.clone());
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let now = self.clock.now();
        let key = client.clone();
        let reader = who.actor.audience();
        let digest = tokio::task::spawn_blocking(move || {
            let since = store.last_mark(&digest_prefix(&key, side))?.map(|m| m.at);
            crate::app::digests::client_digest_as(&*store, &config, &key, side, reader, since, now)
        })
        .await
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?
        .ok_or(UserError::ClientNeeded)?;
        let renderer = Renderer {
            messages: &self.messages,
            lang,
        };
        let messages = renderer.digest(&digest, &name, None);
        Ok(self.preview_answer(lang, messages))
    }

    /// `/digest preview` in the MSP's queue: every client the person serves.
    async fn lead_digest_preview(&self, lang: Lang, who: &Resolved) -> Result<Answer, PonteError> {
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let now = self.clock.now();
        let actor = who.actor.clone();
        let lead = tokio::task::spawn_blocking(move || {
            let since = store.last_mark(LEAD_DIGEST_PREFIX)?.map(|m| m.at);
            let mut lead = crate::app::digests::lead_digest(&*store, &config, since, now)?;
            lead.clients.retain(|d| actor.serves(&d.client));
            Ok::<_, crate::store::StoreError>(lead)
        })
        .await
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?;
        let renderer = Renderer {
            messages: &self.messages,
            lang,
        };
        let config = &self.config;
        let name_of = |k: &crate::domain::ClientKey| {
            config
                .client(k)
                .map_or_else(|| k.to_string(), |c| c.name.clone())
        };
        let messages = renderer.lead_digest(&lead, name_of, None);
        Ok(self.preview_answer(lang, messages))
    }

    /// The first message of a digest, with a note of how many more there are.
    fn preview_answer(&self, lang: Lang, mut messages: Vec<String>) -> Answer {
        let total = messages.len();
        if total == 0 {
            return Answer::Reply(Reply::ephemeral(self.messages.text(
                lang,
                "list-empty",
                &[],
            )));
        }
        let mut content = messages.swap_remove(0);
        if total > 1 {
            let more = self.messages.text(
                lang,
                "digest-preview-more",
                &[(
                    "count",
                    crate::domain::error::Arg::Number((total - 1) as i64),
                )],
            );
            if content.chars().count() + more.chars().count() < 1999 {
                content.push('\n');
                content.push_str(&more);
            }
        }
        Answer::Reply(Reply::ephemeral(content))
    }
}

/// `/digest subscribe` and `/digest unsubscribe`: a personal digest by
/// direct message (see `crate::app::personal_digests`), answered privately in
/// the person's language. A client's person is subscribed for the client
/// of the place; the MSP's people for every client.
impl<S: Store> Bot<S> {
    pub(super) async fn digest_subscribe(
        &self,
        lang: Lang,
        who: &Resolved,
        subscribe: bool,
    ) -> Result<Answer, PonteError> {
        let side = who.actor.side;
        let client = match side {
            Side::Internal => Some(who.client.clone().ok_or(UserError::ClientNeeded)?),
            Side::Msp => None,
        };
        let want = subscribe.then_some((side, client, lang));
        let store = self.ledger.store().clone();
        let person = who.actor.person;
        let now = self.clock.now();
        let change = tokio::task::spawn_blocking(move || {
            crate::app::personal_digests::set(&*store, person, want, now)
        })
        .await
        .map_err(|e| PonteError::Internal(InternalError::log("digest subscription", &e)))?
        .map_err(|e| PonteError::Internal(InternalError::log("digest subscription", &e)))?;
        let id = match (subscribe, change) {
            (true, Change::Done) => "digest-subscribed",
            (true, Change::Already) => "digest-already-subscribed",
            (false, Change::Done) => "digest-unsubscribed",
            (false, Change::Already) => "digest-not-subscribed",
        };
        Ok(Answer::Reply(Reply::ephemeral(self.messages.text(
            lang,
            id,
            &[],
        ))))
    }
}
