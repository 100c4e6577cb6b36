//! The desk: every use case of what people ask Ponte, in no chat's terms.
//! A chat adapter turns what a person did into a [`request::Interaction`]
//! with its [`request::Origin`]; [`parse`] says what they want (an
//! `Intent`: not mine, parsed, or malformed with what to fix); [`identity`]
//! says who they are and for which client; [`Bot`] does it through the
//! ledger and answers in the [`crate::app::reply`] model. `/sla report`,
//! `/digest preview` and `/mine` live in `sla`, `digest` and `mine`.
//!
//! Adapters reach the desk through the [`Desk`] trait, so they need not
//! know the store behind it.

use std::future::Future;
use std::sync::OnceLock;

use crate::app::reply::{Answer, Reply};
use crate::config::Config;
use crate::domain::TaskId;
use crate::store::Store;

pub mod bot;
mod digest;
pub mod identity;
mod mine;
pub mod parse;
pub mod request;
mod sla;

pub use bot::{Bot, ThreadMessage};
use request::{Interaction, Origin, TargetMessage};

/// What a chat adapter asks of the desk.
pub trait Desk: Send + Sync + 'static {
    /// The configuration: the servers and channels Ponte serves.
    fn config(&self) -> &Config;
    /// The bot's own user id in the chat, set once connected (its mention
    /// is not an assignee).
    fn me(&self) -> &OnceLock<u64>;
    /// What to answer to a command, a button or a form.
    fn handle(
        &self,
        origin: &Origin,
        interaction: &Interaction,
    ) -> impl Future<Output = Answer> + Send;
    /// What to answer to a mention of the bot or a direct message.
    fn mention(
        &self,
        origin: &Origin,
        source: &TargetMessage,
    ) -> impl Future<Output = Reply> + Send;
    /// What to say when the answer was a form but came too late to open
    /// one (the chat's deadline passed): try again.
    fn late_form(&self, origin: &Origin) -> Reply;
    /// Records what someone wrote (or edited) in a task's thread.
    fn thread_message(
        &self,
        origin: &Origin,
        task: TaskId,
        said: ThreadMessage,
    ) -> impl Future<Output = ()> + Send;
}

impl<S: Store> Desk for Bot<S> {
    fn config(&self) -> &Config {
        &self.config
    }

    fn me(&self) -> &OnceLock<u64> {
        &self.me
    }

    fn handle(
        &self,
        origin: &Origin,
        interaction: &Interaction,
    ) -> impl Future<Output = Answer> + Send {
        Bot::handle(self, origin, interaction)
    }

    fn late_form(&self, origin: &Origin) -> Reply {
        Bot::late_form(self, origin)
    }

    fn mention(
        &self,
        origin: &Origin,
        source: &TargetMessage,
    ) -> impl Future<Output = Reply> + Send {
        Bot::mention(self, origin, source)
    }

    fn thread_message(
        &self,
        origin: &Origin,
        task: TaskId,
        said: ThreadMessage,
    ) -> impl Future<Output = ()> + Send {
        Bot::thread_message(self, origin, task, said)
    }
}
