//! A task and its state, always the fold of its events.
//!
//! `Task` with its `Status` (and which transitions `Status::can_move_to` allows),
//! `Priority`, `Approval` and `Visibility`. `Task::fold` builds a task from its history
//! and `Task::apply` adds one event: events are facts, so applying one never refuses it
//! on business grounds, only on a broken sequence. The stored snapshot is a cache of
//! the fold (a property test and `check_integrity` compare them); its `facts` keep what
//! the digests and SLA clocks need of the history (see `facts`).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::event::{Event, EventKind, Who};
use super::facts::Facts;
use super::ids::{PersonId, TaskId};
use super::people::{Audience, Side};
use super::routing::{Category, RouteReason};

/// How urgent a task is. P1 is the most urgent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = super::UserError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P1" | "1" => Ok(Priority::P1),
            "P2" | "2" => Ok(Priority::P2),
            "P3" | "3" => Ok(Priority::P3),
            "P4" | "4" => Ok(Priority::P4),
            _ => Err(super::UserError::BadPriority {
                input: s.chars().take(20).collect(),
            }),
        }
    }
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Claimed,
    InProgress,
    WaitingOnRequester,
    WaitingOnOtherSide,
    Resolved,
    Closed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::New,
        Status::Claimed,
        Status::InProgress,
        Status::WaitingOnRequester,
        Status::WaitingOnOtherSide,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
    ];

    /// Statuses in which somebody still has to do something.
    pub const OPEN: [Status; 5] = [
        Status::New,
        Status::Claimed,
        Status::InProgress,
        Status::WaitingOnRequester,
        Status::WaitingOnOtherSide,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// No further change is possible.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }

    /// A stable one-byte code for storage keys.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Claimed => "claimed",
            Status::InProgress => "in_progress",
            Status::WaitingOnRequester => "waiting_on_requester",
            Status::WaitingOnOtherSide => "waiting_on_other_side",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    /// The statuses a task may move to from this one with a plain status
    /// change. Reopening (from resolved) is its own command.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        match self {
            New => matches!(
                to,
                Claimed
                    | InProgress
                    | WaitingOnRequester
                    | WaitingOnOtherSide
                    | Resolved
                    | Cancelled
            ),
            Claimed => matches!(
                to,
                New | InProgress | WaitingOnRequester | WaitingOnOtherSide | Resolved | Cancelled
            ),
            InProgress => matches!(
                to,
                WaitingOnRequester | WaitingOnOtherSide | Resolved | Cancelled
            ),
            WaitingOnRequester => {
                matches!(to, InProgress | WaitingOnOtherSide | Resolved | Cancelled)
            }
            WaitingOnOtherSide => {
                matches!(to, InProgress | WaitingOnRequester | Resolved | Cancelled)
            }
            Resolved => matches!(to, Closed),
            Closed | Cancelled => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = super::UserError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| super::UserError::BadStatus {
                input: s.chars().take(30).collect(),
            })
    }
}

/// Who may read a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Both sides see it.
    Shared,
    /// An internal note: only this side sees it. It never crosses the bridge.
    Side(Side),
}

impl Visibility {
    /// Whether `audience` may read it: shared text everyone, a side's
    /// internal note only that side's staff (never a requester).
    pub fn visible_to(self, audience: Audience) -> bool {
        match self {
            Visibility::Shared => true,
            Visibility::Side(s) => audience == Audience::Staff(s),
        }
    }
}

/// Where a task lives in the chat. The adapter fills these in after it posted
/// the task's card and opened its thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatRef {
    pub channel: Option<u64>,
    pub thread: Option<u64>,
    pub message: Option<u64>,
}

impl Task {
    /// The thread across the bridge from `thread`: the mirror of the task's
    /// thread, or the task's thread for its mirror; `None` when there is no
    /// mirror (both sides read one thread) or `thread` is neither.
    pub fn other_thread(&self, thread: u64) -> Option<u64> {
        let (main, mirror) = (self.chat.thread?, self.mirror.thread?);
        if thread == main {
            Some(mirror)
        } else if thread == mirror {
            Some(main)
        } else {
            None
        }
    }
}

/// Whether the company's IT has to approve before the MSP acts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Approval {
    #[default]
    NotNeeded,
    Pending {
        since: Timestamp,
    },
    Granted {
        by: Who,
        at: Timestamp,
    },
    Refused {
        by: Who,
        at: Timestamp,
        reason: String,
    },
}

impl Approval {
    /// The MSP may not start or finish the work yet.
    pub fn blocks_msp(&self) -> bool {
        matches!(self, Approval::Pending { .. } | Approval::Refused { .. })
    }
}

/// The current state of a task: never stored on its own authority, always the
/// fold of its events (the stored snapshot is a cache of that fold).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub details: String,
    pub requester: PersonId,
    pub asking_side: Side,
    pub handling_side: Side,
    pub assignee: Option<PersonId>,
    pub priority: Priority,
    pub category: Option<Category>,
    pub due: Option<Timestamp>,
    pub status: Status,
    pub approval: Approval,
    pub route: Option<RouteReason>,
    pub chat: ChatRef,
    /// The mirrored card and thread on the other side's server, if any.
    #[serde(default)]
    pub mirror: ChatRef,
    /// Others who reported the same problem and joined the task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reporters: Vec<PersonId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The number of events folded in: the sequence number of the last one.
    pub version: u32,
    /// What the digests and SLA clocks need from the history (whose move
    /// since when, responses, acknowledgements, latest comments), kept by
    /// the fold. Snapshots written before it existed are folded again from
    /// their events when the store is opened.
    #[serde(default)]
    pub facts: Facts,
}

/// Why a list of events does not fold into a task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("a task's history must start with `created`")]
    NoCreation,
    #[error("event {seq} of {task} is out of order (expected {expected})")]
    OutOfOrder {
        task: TaskId,
        seq: u32,
        expected: u32,
    },
    #[error("event {seq} belongs to {found}, not {task}")]
    WrongTask {
        task: TaskId,
        found: TaskId,
        seq: u32,
    },
}

impl Task {
    /// Folds a whole history into the task it describes.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Task, FoldError> {
        let mut events = events.into_iter();
        let first = events.next().ok_or(FoldError::NoCreation)?;
        let mut task = Task::created(first)?;
        for event in events {
            task.apply(event)?;
        }
        Ok(task)
    }

    fn created(event: &Event) -> Result<Task, FoldError> {
        let EventKind::Created {
            title,
            details,
            requester,
            asking_side,
            priority,
            due,
        } = &event.kind
        else {
            return Err(FoldError::NoCreation);
        };
        if event.seq != 1 {
            return Err(FoldError::OutOfOrder {
                task: event.task.clone(),
                seq: event.seq,
                expected: 1,
            });
        }
        let mut task = Task {
            id: event.task.clone(),
            title: title.clone(),
            details: details.clone(),
            requester: *requester,
            asking_side: *asking_side,
            handling_side: asking_side.other(),
            assignee: None,
            priority: *priority,
            category: None,
            due: *due,
            status: Status::New,
            approval: Approval::NotNeeded,
            route: None,
            chat: ChatRef::default(),
            mirror: ChatRef::default(),
            reporters: Vec::new(),
            created_at: event.at,
            updated_at: event.at,
            version: 1,
            facts: Facts::default(),
        };
        task.facts = Facts::created(&task, event.at);
        Ok(task)
    }

    /// Applies one more event. Events are facts: applying never refuses one
    /// on business grounds, only on a broken sequence.
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        if event.task != self.id {
            return Err(FoldError::WrongTask {
                task: self.id.clone(),
                found: event.task.clone(),
                seq: event.seq,
            });
        }
        if event.seq != self.version + 1 {
            return Err(FoldError::OutOfOrder {
                task: self.id.clone(),
                seq: event.seq,
                expected: self.version + 1,
            });
        }
        let handling_before = self.handling_side;
        match &event.kind {
            EventKind::Created { .. } => {
                return Err(FoldError::OutOfOrder {
                    task: self.id.clone(),
                    seq: event.seq,
                    expected: self.version + 1,
                });
            }
            EventKind::Routed {
                side,
                category,
                reason,
            } => {
                self.handling_side = *side;
                self.category = category.clone();
                self.route = Some(reason.clone());
                self.approval = Approval::NotNeeded;
            }
            EventKind::Claimed { by } => {
                self.assignee = Some(*by);
                self.status = Status::Claimed;
            }
            EventKind::Unclaimed => {
                self.assignee = None;
                self.status = Status::New;
            }
            EventKind::Assigned { to } => {
                self.assignee = Some(*to);
                if self.status == Status::New {
                    self.status = Status::Claimed;
                }
            }
            EventKind::Commented { .. }
            | EventKind::Acknowledged
            | EventKind::Said { .. }
            | EventKind::SaidEdited { .. }
            | EventKind::Relayed { .. } => {}
            EventKind::Mirrored { chat } => self.mirror = *chat,
            EventKind::ReporterAdded { person } => {
                if !self.reporters.contains(person) {
                    self.reporters.push(*person);
                }
            }
            EventKind::Paged { .. }
            | EventKind::Snoozed { .. }
            | EventKind::Escalated { .. }
            | EventKind::PageFailed { .. }
            | EventKind::PageDelivered { .. } => {}
            EventKind::SlaWarned { .. } | EventKind::SlaBreached { .. } => {}
            // Monitoring's bookkeeping: a resolution's status change is its
            // own event.
            EventKind::AlertFired { .. }
            | EventKind::AlertRepeated { .. }
            | EventKind::AlertFolded { .. }
            | EventKind::AlertResolved { .. } => {}
            EventKind::StatusChanged { to, .. } => self.status = *to,
            EventKind::PriorityChanged { to, .. } => self.priority = *to,
            EventKind::DueChanged { to, .. } => self.due = *to,
            EventKind::Retitled { to, .. } => self.title = to.clone(),
            EventKind::HandedOff { to, .. } => {
                self.handling_side = *to;
                self.assignee = None;
                self.status = Status::New;
                self.approval = Approval::NotNeeded;
            }
            EventKind::ApprovalRequested { .. } => {
                self.approval = Approval::Pending { since: event.at };
            }
            EventKind::ApprovalGranted => {
                self.approval = Approval::Granted {
                    by: event.by,
                    at: event.at,
                };
            }
            EventKind::ApprovalRefused { reason } => {
                self.approval = Approval::Refused {
                    by: event.by,
                    at: event.at,
                    reason: reason.clone(),
                };
            }
            EventKind::Reopened { .. } => {
                self.status = if self.assignee.is_some() {
                    Status::InProgress
                } else {
                    Status::New
                };
            }
            EventKind::ChatLinked { chat } => {
                if chat.channel.is_some() {
                    self.chat.channel = chat.channel;
                }
                if chat.thread.is_some() {
                    self.chat.thread = chat.thread;
                }
                if chat.message.is_some() {
                    self.chat.message = chat.message;
                }
            }
        }
        self.facts.record_time(self.updated_at, event.at);
        self.version = event.seq;
        self.updated_at = event.at;
        let holder = super::sla::Holder::of(self);
        self.facts
            .record(event, handling_before, holder, self.handling_side);
        Ok(())
    }

    /// Whose move it is: the side that has to act next, or `None` when the
    /// ball is with the requester or the task is finished.
    ///
    /// While the MSP waits for the IT manager's approval (or after a
    /// refusal), the move is the company's: the MSP is never charged for
    /// time spent waiting on the company.
    pub fn whose_move(&self) -> Option<Side> {
        match self.status {
            Status::New | Status::Claimed | Status::InProgress
                if self.handling_side == Side::Msp && self.approval.blocks_msp() =>
            {
                Some(Side::Internal)
            }
            Status::New | Status::Claimed | Status::InProgress => Some(self.handling_side),
            Status::WaitingOnOtherSide => Some(self.handling_side.other()),
            Status::WaitingOnRequester | Status::Resolved | Status::Closed | Status::Cancelled => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_is_not_a_plain_status_change_and_final_states_are_final() {
        assert!(!Status::Resolved.can_move_to(Status::InProgress));
        for to in Status::ALL {
            assert!(!Status::Closed.can_move_to(to));
            assert!(!Status::Cancelled.can_move_to(to));
        }
        assert!(Status::Resolved.can_move_to(Status::Closed));
    }

    #[test]
    fn every_open_status_can_still_be_resolved_or_cancelled() {
        // No path strands a task: from every open status it can still be
        // finished one way or the other.
        for from in Status::OPEN {
            assert!(from.can_move_to(Status::Resolved), "{from}");
            assert!(from.can_move_to(Status::Cancelled), "{from}");
        }
    }

    #[test]
    fn statuses_and_priorities_parse_what_people_type() {
        assert_eq!("in progress".parse::<Status>().unwrap(), Status::InProgress);
        assert_eq!(
            "Waiting-on-requester".parse::<Status>().unwrap(),
            Status::WaitingOnRequester
        );
        assert!("done".parse::<Status>().is_err());
        assert_eq!("p1".parse::<Priority>().unwrap(), Priority::P1);
        assert_eq!("3".parse::<Priority>().unwrap(), Priority::P3);
        assert!("P5".parse::<Priority>().is_err());
    }
}
