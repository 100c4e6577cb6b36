//! `/digest preview`: the digest of the reader's side for the company of
//! the place, as it stands now, shown only to the reader. Since the last
//! digest posted for that side (or the last 24 hours).

use super::bot::{Answer, Bot};
use super::identity::Resolved;
use super::render::{Renderer, Reply};
use crate::domain::UserError;
use crate::domain::effect::digest_prefix;
use crate::engine::{InternalError, PonteError};
use crate::i18n::Lang;
use crate::store::Store;

impl<S: Store> Bot<S> {
    pub(super) async fn digest_preview(
        &self,
        lang: Lang,
        who: &Resolved,
    ) -> Result<Answer, PonteError> {
        let client = who.client.clone().ok_or(UserError::ClientNeeded)?;
        let side = who.actor.side;
        let name = self
            .config
            .client(&client)
            .map_or_else(|| client.to_string(), |c| c.name.clone());
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        let now = self.clock.now();
        let key = client.clone();
        let digest = tokio::task::spawn_blocking(move || {
            let since = store.last_mark(&digest_prefix(&key, side))?.map(|m| m.at);
            crate::digests::client_digest(&*store, &config, &key, side, since, now)
        })
        .await
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?
        .map_err(|e| PonteError::Internal(InternalError::log("digest preview", &e)))?
        .ok_or(UserError::ClientNeeded)?;
        let renderer = Renderer {
            messages: &self.messages,
            lang,
        };
        let mut messages = renderer.digest(&digest, &name, None);
        let total = messages.len();
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
        Ok(Answer::Reply(Reply::ephemeral(content)))
    }
}
