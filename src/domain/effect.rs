//! Effects: what has to happen outside Ponte because of a change (a chat
//! message, later pages, digests and relays). They are recorded in the
//! store's outbox in the same transaction as the change, then delivered by
//! workers that retry; each has a key that makes its delivery idempotent.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::escalation::Target;
use super::event::{Event, EventKind};
use super::ids::PersonId;
use super::ids::TaskId;
use super::task::Task;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Show events `first..=last` of a task in the chat: refresh its card
    /// and post them in its thread (each side sees what it may see).
    Announce { task: TaskId, first: u32, last: u32 },
    /// Page someone for an escalation step (issue 5): a DM to a person, a
    /// post in a channel or to a role, or an outside pager. `key` is the
    /// page's key (`page:ACME-42@1:r0:s2`), recorded in the task's history
    /// by the `paged` event written with this effect.
    Page {
        task: TaskId,
        key: String,
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<PersonId>,
        #[serde(default)]
        late: bool,
    },
    /// Post the handover of an on-call schedule (issue 5): who hands over
    /// to whom at `at`, and the open urgent tasks.
    Handover {
        schedule: String,
        at: Timestamp,
        from: Option<PersonId>,
        to: PersonId,
        tasks: Vec<TaskId>,
    },
}

impl Effect {
    /// The idempotency key: delivering two effects with one key is delivering one.
    pub fn key(&self) -> String {
        match self {
            Effect::Announce { task, first, last } => format!("announce:{task}:{first}-{last}"),
            Effect::Page { key, .. } => key.clone(),
            Effect::Handover { schedule, at, .. } => {
                format!("handover:{schedule}:{}", at.as_second())
            }
        }
    }

    /// The task this effect is about, if it is about one. Effects of one
    /// task are delivered in order; others in their own lane.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Effect::Announce { task, .. } => Some(task),
            Effect::Page { task, .. } => Some(task),
            Effect::Handover { .. } => None,
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
    // Each page recorded is delivered, in the same transaction's outbox.
    effects.extend(events.iter().filter_map(|e| match &e.kind {
        EventKind::Paged {
            key,
            target,
            to,
            late,
            ..
        } => Some(Effect::Page {
            task: task.id.clone(),
            key: key.clone(),
            target: target.clone(),
            to: *to,
            late: *late,
        }),
        EventKind::Escalated {
            key, target, to, ..
        } => Some(Effect::Page {
            task: task.id.clone(),
            key: key.clone(),
            target: target.clone(),
            to: *to,
            late: false,
        }),
        _ => None,
    }));
    effects
}
