//! Delivery of outbox effects to people, through a chat's [`Chat`] port: a
//! new task's card and thread, card updates and history lines, the bridge's
//! mirrored card and relayed messages ([`sink`]), pages and shift handovers
//! ([`page`]), and digests ([`digest`]). The app decides what to show and
//! where (it reads the task, renders the [`crate::app::reply`] model and
//! records the chat's ids back through the ledger); the chat adapter only
//! posts. Deliveries may repeat (after a failure or a restart), so each
//! step is idempotent: every post carries a key the chat de-duplicates on,
//! a thread started from a message is that message's, edits are absolute,
//! and linking a card to its task is keyed.

use std::future::Future;

use crate::app::outbox::DeliveryError;
use crate::app::reply::Reply;

pub mod digest;
mod notice;
pub mod page;
mod queue;
pub mod sink;

pub use sink::ChatSink;

/// What deliveries need of a chat. Channel, message, server and person ids
/// are the chat's own. `crate::discord::chat` implements it for Discord.
pub trait Chat: Send + Sync + 'static {
    /// Posts `reply` in `channel` (a channel, a thread or a direct-message
    /// channel) and returns the new message's id. `key` names the delivery:
    /// a post repeated with the same key shows nothing twice.
    fn post(
        &self,
        channel: u64,
        reply: &Reply,
        key: &str,
    ) -> impl Future<Output = Result<u64, DeliveryError>> + Send;

    /// Replaces what a message Ponte posted shows.
    fn edit(
        &self,
        channel: u64,
        message: u64,
        edit: &Edit,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// Starts a thread named `name` from `message` in `channel` and returns
    /// the thread's id. A thread that exists already for that message (a
    /// repeated delivery) is that thread.
    fn start_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
    ) -> impl Future<Output = Result<u64, DeliveryError>> + Send;

    /// The server `channel` belongs to, if it belongs to one.
    fn server_of(
        &self,
        channel: u64,
    ) -> impl Future<Output = Result<Option<u64>, DeliveryError>> + Send;

    /// The direct-message channel with `person`.
    fn direct(&self, person: u64) -> impl Future<Output = Result<u64, DeliveryError>> + Send;
}

/// What an edit replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// A card message: its cards and buttons (the text is left as it is).
    Card(Reply),
    /// A message's text (a relayed message edited at its source).
    Text(String),
}

impl DeliveryError {
    /// The same error, saying what was being done.
    pub fn context(self, what: &str) -> Self {
        DeliveryError {
            message: format!("{what}: {}", self.message),
            failure: self.failure,
        }
    }
}

/// A stable short hash of `key` (FNV-1a), within Discord's 25 characters
/// for a nonce: the de-duplication key of a post, and of an edited message
/// in request keys.
pub fn nonce(key: &str) -> String {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("p{hash:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_stable_short_and_distinct() {
        let a = nonce("announce:ACME-1:1-2#0");
        assert_eq!(a, nonce("announce:ACME-1:1-2#0"));
        assert_ne!(a, nonce("announce:ACME-1:1-2#1"));
        assert!(a.len() <= 25);
    }
}
