//! Events: every change to a task, as a fact in its history.
//!
//! An `Event` is the task, its `seq` (from 1, no gaps), when (`at`), who (`by`) and
//! what (`EventKind`). Events are the record: their JSON is the stable `ponte export`
//! format, so kinds and optional fields are only ever added. A comment's `Visibility`
//! (shared, or one side's internal note) travels with its event.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::escalation::Target;
use super::ids::{PersonId, TaskId};
use super::people::Side;
use super::routing::{ApprovalWhy, Category, RouteReason};
use super::sla::SlaClock;
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
        /// Serialized as `claimed_by`: an `Event` flattens its kind beside
        /// its own `by` (who caused it), and two `by` keys in one object do
        /// not read back.
        #[serde(rename = "claimed_by")]
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
    /// Someone of the MSP saw the task and stops its escalation, without
    /// claiming it (yet). Changes nothing else.
    Acknowledged,
    /// A step of the task's escalation policy paged someone (issue 5).
    /// Recorded with the `Page` effect that delivers it, so a page exists
    /// once: `key` is the page's idempotency key (`page:ACME-42@1:r0:s2`).
    Paged {
        key: String,
        round: u32,
        step: u32,
        target: Target,
        /// The person paged, when the target is one (the on-call of a
        /// schedule is resolved when the page is sent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<PersonId>,
        /// Sent after its time (Ponte was down, or the task was snoozed).
        #[serde(default)]
        late: bool,
        /// Earlier steps to the same target that were overdue together with
        /// this one and are not sent (one page per target, not a burst).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    /// A page could not reach its target for good (DMs closed, a missing
    /// permission, a pager refusing it): the escalation's next step is due
    /// at once (see `escalation::plan`). `reason` says what failed.
    PageFailed {
        key: String,
        reason: String,
    },
    /// A page was delivered as message `message` in the chat channel
    /// `channel` (a DM): Ponte's bookkeeping, so that the page follows the
    /// task (its status and buttons are edited as the task changes).
    PageDelivered {
        key: String,
        channel: u64,
        message: u64,
    },
    /// The on-call engineer snoozed the escalation: no step pages before
    /// `until`.
    Snoozed {
        until: Timestamp,
    },
    /// The requester or the IT manager escalated the task by hand
    /// (`/task escalate`): `target` is paged now, with `key`.
    Escalated {
        reason: String,
        key: String,
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<PersonId>,
    },
    /// The task's mirrored card and thread on the other side's server.
    Mirrored {
        chat: ChatRef,
    },
    /// Someone wrote in one of the task's threads. Shared messages are
    /// relayed to the other thread; internal notes stay where written.
    Said {
        author: String,
        side: Side,
        /// The thread it was written in, and the message's id there.
        thread: u64,
        message: u64,
        body: String,
        visibility: Visibility,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
    },
    /// A message of a thread was edited.
    SaidEdited {
        message: u64,
        body: String,
        visibility: Visibility,
    },
    /// The copy of message `source` in the other thread is `copy`.
    Relayed {
        source: u64,
        copy: u64,
    },
    /// Someone else reports the same problem and joins the task.
    ReporterAdded {
        person: PersonId,
    },
    /// An SLA clock of `side` reached the warning share of its target
    /// (issue 6). Recorded once per side and clock by Ponte's SLA timer.
    SlaWarned {
        side: Side,
        clock: SlaClock,
        percent: u32,
        target_minutes: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        breach_at: Option<Timestamp>,
    },
    /// An SLA clock of `side` went past its target (issue 6), once per side
    /// and clock.
    SlaBreached {
        side: Side,
        clock: SlaClock,
        target_minutes: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        breach_at: Option<Timestamp>,
    },
    /// A monitoring alert opened this task (issue 20): `source` is the
    /// client's integration (or `heartbeat`), `fingerprint` the alert's
    /// identity there, `group` the key a storm folds by. A `storm` task
    /// takes the group's later alerts (`alert_folded`).
    AlertFired {
        source: String,
        fingerprint: String,
        #[serde(default)]
        group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        severity: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        #[serde(default)]
        storm: bool,
    },
    /// The task's alert fired again while the task was open.
    AlertRepeated {
        source: String,
        fingerprint: String,
    },
    /// Another alert of the storm's group folded into this task; `count`
    /// alerts have folded in so far.
    AlertFolded {
        source: String,
        fingerprint: String,
        title: String,
        count: u32,
    },
    /// An alert of the task resolved in its monitoring system; `firing`
    /// of the task's alerts still fire. `resolves_task`: it was the last
    /// one and nobody had touched the task, so the task is resolved with it
    /// (the next event).
    AlertResolved {
        source: String,
        fingerprint: String,
        firing: u32,
        #[serde(default)]
        resolves_task: bool,
    },
}

/// A file attached to a message, relayed as a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
    pub url: String,
}

impl EventKind {
    /// A stable name for the kind of event (the `type` of the export format).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::AlertFired { .. } => "alert_fired",
            EventKind::AlertRepeated { .. } => "alert_repeated",
            EventKind::AlertFolded { .. } => "alert_folded",
            EventKind::AlertResolved { .. } => "alert_resolved",
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
            EventKind::Acknowledged => "acknowledged",
            EventKind::Mirrored { .. } => "mirrored",
            EventKind::Said { .. } => "said",
            EventKind::SaidEdited { .. } => "said_edited",
            EventKind::Relayed { .. } => "relayed",
            EventKind::ReporterAdded { .. } => "reporter_added",
            EventKind::Paged { .. } => "paged",
            EventKind::Snoozed { .. } => "snoozed",
            EventKind::PageFailed { .. } => "page_failed",
            EventKind::PageDelivered { .. } => "page_delivered",
            EventKind::Escalated { .. } => "escalated",
            EventKind::SlaWarned { .. } => "sla_warned",
            EventKind::SlaBreached { .. } => "sla_breached",
        }
    }

    /// Which side may see this event. Internal notes stay on their side.
    pub fn visibility(&self) -> Visibility {
        match self {
            EventKind::Commented { visibility, .. }
            | EventKind::Said { visibility, .. }
            | EventKind::SaidEdited { visibility, .. } => *visibility,
            // Who is paged, and when, is the MSP's own business.
            EventKind::Paged { .. }
            | EventKind::Snoozed { .. }
            | EventKind::PageFailed { .. }
            | EventKind::PageDelivered { .. } => Visibility::Side(Side::Msp),
            _ => Visibility::Shared,
        }
    }
}

/// Test fixtures: `kinds` as a person's events on `task` at `at`,
/// numbered from `first` (1 for a creation, `version + 1` after that).
#[cfg(test)]
pub(crate) fn numbered(
    task: &TaskId,
    first: u32,
    at: Timestamp,
    by: PersonId,
    kinds: Vec<EventKind>,
) -> Vec<Event> {
    (first..)
        .zip(kinds)
        .map(|(seq, kind)| Event {
            task: task.clone(),
            seq,
            at,
            by: super::Who::Person(by),
            kind,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ClientKey;

    /// Every kind of event survives JSON: the kind is flattened into the
    /// event, so no field of a kind may share a name with a field of `Event`.
    #[test]
    fn every_event_kind_round_trips_through_json() {
        let at: Timestamp = "2025-03-03T09:00:00Z".parse().unwrap();
        let network = Category::new("network").unwrap();
        let kinds = vec![
            EventKind::Created {
                title: "VPN down".into(),
                details: String::new(),
                requester: PersonId(3),
                asking_side: Side::Internal,
                priority: Priority::P2,
                due: Some(at),
            },
            EventKind::Routed {
                side: Side::Msp,
                category: Some(network.clone()),
                reason: RouteReason::Category {
                    category: network.clone(),
                    owner: Side::Msp,
                },
            },
            EventKind::Claimed { by: PersonId(7) },
            EventKind::Unclaimed,
            EventKind::Assigned { to: PersonId(8) },
            EventKind::Commented {
                body: "note".into(),
                visibility: Visibility::Side(Side::Msp),
            },
            EventKind::StatusChanged {
                from: Status::New,
                to: Status::Resolved,
                reason: Some("done".into()),
            },
            EventKind::PriorityChanged {
                from: Priority::P2,
                to: Priority::P1,
            },
            EventKind::DueChanged {
                from: None,
                to: Some(at),
            },
            EventKind::Retitled {
                from: "a".into(),
                to: "b".into(),
            },
            EventKind::HandedOff {
                from: Side::Msp,
                to: Side::Internal,
                reason: None,
            },
            EventKind::ApprovalRequested {
                why: ApprovalWhy::CategoryNeedsApproval { category: network },
            },
            EventKind::ApprovalGranted,
            EventKind::ApprovalRefused {
                reason: "no".into(),
            },
            EventKind::Reopened { reason: None },
            EventKind::ChatLinked {
                chat: ChatRef {
                    channel: Some(1),
                    thread: None,
                    message: Some(2),
                },
            },
            EventKind::Acknowledged,
            EventKind::Mirrored {
                chat: ChatRef {
                    channel: Some(3),
                    thread: Some(4),
                    message: Some(4),
                },
            },
            EventKind::Said {
                author: "Paolo".into(),
                side: Side::Msp,
                thread: 4,
                message: 5,
                body: "on my way".into(),
                visibility: Visibility::Shared,
                attachments: vec![Attachment {
                    name: "log.txt".into(),
                    size: 1200,
                    url: "https://cdn.example/log.txt".into(),
                }],
            },
            EventKind::SaidEdited {
                message: 5,
                body: "on my way!".into(),
                visibility: Visibility::Side(Side::Msp),
            },
            EventKind::Relayed { source: 5, copy: 6 },
            EventKind::ReporterAdded {
                person: PersonId(11),
            },
            EventKind::Paged {
                key: "page:ACME-1@1:r0:s1".into(),
                round: 0,
                step: 1,
                target: Target::OnCall("msp-secondary".into()),
                to: Some(PersonId(9022)),
                late: true,
                skipped: vec!["page:ACME-1@1:r0:s0".into()],
            },
            EventKind::Snoozed { until: at },
            EventKind::PageFailed {
                key: "page:ACME-1@1:r0:s0".into(),
                reason: "direct messages closed".into(),
            },
            EventKind::PageDelivered {
                key: "page:ACME-1@1:r0:s1".into(),
                channel: 31,
                message: 32,
            },
            EventKind::Escalated {
                reason: "waiting since this morning".into(),
                key: "escalate:ACME-1:1".into(),
                target: Target::Role(900),
                to: None,
            },
            EventKind::SlaWarned {
                side: Side::Msp,
                clock: SlaClock::FirstResponse,
                percent: 75,
                target_minutes: 120,
                breach_at: Some(at),
            },
            EventKind::SlaBreached {
                side: Side::Internal,
                clock: SlaClock::Resolution,
                target_minutes: 480,
                breach_at: None,
            },
        ];
        for (seq, kind) in (1..).zip(kinds) {
            let event = Event {
                task: TaskId::new(ClientKey::new("ACME").unwrap(), 1),
                seq,
                at,
                by: Who::Person(PersonId(9)),
                kind,
            };
            let json = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(back, event);
        }
    }
}
