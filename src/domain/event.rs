//! Events: every change to a task, as a fact in its history.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::{PersonId, TaskId};
use super::people::Side;
use super::routing::{ApprovalWhy, Category, RouteReason};
use super::task::{ChatRef, Priority, Status, Visibility};

/// Who caused an event: a person, or Ponte itself (timers, chat links).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    Person(PersonId),
    Ponte,
}

impl Who {
    pub fn person(self) -> Option<PersonId> {
        match self {
            Who::Person(p) => Some(p),
            Who::Ponte => None,
        }
    }
}

/// One entry of a task's history. `seq` starts at 1 and has no gaps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub task: TaskId,
    pub seq: u32,
    pub at: Timestamp,
    pub by: Who,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. The serialized form (tag `type`, snake_case) is the stable
/// format of `ponte export`: add variants and optional fields, never rename.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        title: String,
        details: String,
        requester: PersonId,
        asking_side: Side,
        priority: Priority,
        due: Option<Timestamp>,
    },
    /// The task was sent to a side, with the reason (rule) that decided it.
    Routed {
        side: Side,
        category: Option<Category>,
        reason: RouteReason,
    },
    Claimed {
        by: PersonId,
    },
    Unclaimed,
    Assigned {
        to: PersonId,
    },
    Commented {
        body: String,
        visibility: Visibility,
    },
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    DueChanged {
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    },
    Retitled {
        from: String,
        to: String,
    },
    /// The task moved to the other side.
    HandedOff {
        from: Side,
        to: Side,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The company's IT must approve before the MSP acts.
    ApprovalRequested {
        why: ApprovalWhy,
    },
    ApprovalGranted,
    ApprovalRefused {
        reason: String,
    },
    Reopened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    ChatLinked {
        chat: ChatRef,
    },
}

impl EventKind {
    /// A stable name for the kind of event (the `type` of the export format).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::Routed { .. } => "routed",
            EventKind::Claimed { .. } => "claimed",
            EventKind::Unclaimed => "unclaimed",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Commented { .. } => "commented",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::PriorityChanged { .. } => "priority_changed",
            EventKind::DueChanged { .. } => "due_changed",
            EventKind::Retitled { .. } => "retitled",
            EventKind::HandedOff { .. } => "handed_off",
            EventKind::ApprovalRequested { .. } => "approval_requested",
            EventKind::ApprovalGranted => "approval_granted",
            EventKind::ApprovalRefused { .. } => "approval_refused",
            EventKind::Reopened { .. } => "reopened",
            EventKind::ChatLinked { .. } => "chat_linked",
        }
    }

    /// Which side may see this event. Internal notes stay on their side.
    pub fn visibility(&self) -> Visibility {
        match self {
            EventKind::Commented { visibility, .. } => *visibility,
            _ => Visibility::Shared,
        }
    }
}
