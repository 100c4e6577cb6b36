//! Effects: what has to happen outside Ponte because of a change (a chat
//! message, later pages, digests and relays). They are recorded in the
//! store's outbox in the same transaction as the change, then delivered by
//! workers that retry; each has a key that makes its delivery idempotent.

use serde::{Deserialize, Serialize};

use super::event::{Event, EventKind};
use super::ids::TaskId;
use super::task::Task;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Show events `first..=last` of a task in the chat: refresh its card
    /// and post them in its thread (each side sees what it may see).
    Announce { task: TaskId, first: u32, last: u32 },
    /// Ask the client's IT manager to approve or refuse: a card with
    /// Approve and Refuse buttons, for the approval request at event `seq`.
    AskApproval { task: TaskId, seq: u32 },
}

impl Effect {
    /// The idempotency key: delivering two effects with one key is delivering one.
    pub fn key(&self) -> String {
        match self {
            Effect::Announce { task, first, last } => format!("announce:{task}:{first}-{last}"),
            Effect::AskApproval { task, seq } => format!("approval:{task}:{seq}"),
        }
    }

    /// The task this effect is about, if it is about one. Effects of one
    /// task are delivered in order; others in their own lane.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Effect::Announce { task, .. } => Some(task),
            Effect::AskApproval { task, .. } => Some(task),
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
    let mut effects = vec![Effect::Announce {
        task: task.id.clone(),
        first: first.seq,
        last: last.seq,
    }];
    // After the announcement, so the task's card and thread exist when the
    // IT manager's card points to them.
    effects.extend(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::ApprovalRequested { .. }))
            .map(|e| Effect::AskApproval {
                task: task.id.clone(),
                seq: e.seq,
            }),
    );
    effects
}
