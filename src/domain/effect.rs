//! Effects: what has to happen outside Ponte because of a change (a chat
//! message, later pages, digests and relays). They are recorded in the
//! store's outbox in the same transaction as the change, then delivered by
//! workers that retry; each has a key that makes its delivery idempotent.

use serde::{Deserialize, Serialize};

use super::event::{Event, EventKind};
use super::ids::TaskId;
use super::task::Task;
use super::{ClientKey, Side};
use jiff::Timestamp;
use jiff::civil::Date;

/// The once-only key of a side's digest of a client on a local date,
/// `digest:ACME:internal:2026-11-28`; it is also the digest's mark.
pub fn digest_key(client: &ClientKey, side: Side, date: Date) -> String {
    format!("{}{date}", digest_prefix(client, side))
}

/// The prefix of [`digest_key`] for one client and side.
pub fn digest_prefix(client: &ClientKey, side: Side) -> String {
    format!("digest:{client}:{side}:")
}

/// The once-only key of the MSP lead's digest on a date.
pub fn lead_digest_key(date: Date) -> String {
    format!("{LEAD_DIGEST_PREFIX}{date}")
}

/// The prefix of [`lead_digest_key`].
pub const LEAD_DIGEST_PREFIX: &str = "digest-lead:";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Show events `first..=last` of a task in the chat: refresh its card
    /// and post them in its thread (each side sees what it may see).
    Announce { task: TaskId, first: u32, last: u32 },
    /// Post a side's digest of a client for `date` (its local day), due at
    /// `due`, covering what happened since `since` (the previous digest);
    /// `late` when it was recorded after its time (Ponte was down).
    Digest {
        client: ClientKey,
        side: Side,
        date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    },
    /// Post the MSP lead's digest across all clients (see `Digest`).
    LeadDigest {
        date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    },
}

impl Effect {
    /// The idempotency key: delivering two effects with one key is delivering one.
    pub fn key(&self) -> String {
        match self {
            Effect::Announce { task, first, last } => format!("announce:{task}:{first}-{last}"),
            Effect::Digest {
                client, side, date, ..
            } => digest_key(client, *side, *date),
            Effect::LeadDigest { date, .. } => lead_digest_key(*date),
        }
    }

    /// The task this effect is about, if it is about one. Effects of one
    /// task are delivered in order; others in their own lane.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Effect::Announce { task, .. } => Some(task),
            Effect::Digest { .. } | Effect::LeadDigest { .. } => None,
        }
    }
}

/// The effects of appending `events` to `task` (the task already folded).
pub fn effects_of(task: &Task, events: &[Event]) -> Vec<Effect> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    // Linking a task to its chat messages is the adapter's own bookkeeping:
    // nothing to announce.
    if events
        .iter()
        .all(|e| matches!(e.kind, EventKind::ChatLinked { .. }))
    {
        return Vec::new();
    }
    vec![Effect::Announce {
        task: task.id.clone(),
        first: first.seq,
        last: last.seq,
    }]
}
