//! Watching the emulator as things happen, for the load tool: when the bot
//! answered each interaction and when each message was created, told to an
//! observer synchronously (under the emulator's lock, so keep it quick).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::model::buttons_of;

/// Something that happened in the emulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// The bot's initial response to an interaction (the callback).
    Callback {
        interaction: u64,
        /// The callback type (4 message, 5 deferred, 6/7 update, 9 modal).
        kind: u8,
        /// From the dispatch of INTERACTION_CREATE to the callback.
        after: Duration,
    },
    /// A message was created, by anyone (ephemeral ones included).
    Message {
        id: u64,
        channel: u64,
        author: u64,
        /// The message it replies to (`message_reference`).
        reply_to: Option<u64>,
        /// The labels of its buttons.
        buttons: Vec<String>,
        at: Instant,
    },
}

/// What is told about everything observed.
pub(crate) type Observer = Arc<dyn Fn(&Observed) + Send + Sync>;

/// The event for a message just created from its JSON.
pub(crate) fn message(json: &Value, author: u64) -> Observed {
    let id_at = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
    };
    let components = json
        .get("components")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Observed::Message {
        id: id_at("/id").unwrap_or(0),
        channel: id_at("/channel_id").unwrap_or(0),
        author,
        reply_to: id_at("/message_reference/message_id"),
        buttons: buttons_of(components)
            .into_iter()
            .filter_map(|b| b.label)
            .collect(),
        at: Instant::now(),
    }
}
