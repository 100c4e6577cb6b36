//! Keeping outside pagers in step with a task (gaps): once a task was paged
//! to an outside pager, acknowledging or claiming it sends `acknowledge`,
//! and resolving, closing or cancelling it sends `resolve` (PagerDuty's
//! event actions, with the task id as dedup key). Derived only from the
//! task's events, so the effects are written in the change's transaction.
//!
//! [`pager_updates`] gives one `Effect::PagerUpdate` per pager paged and action, keyed
//! `pager-<action>:<task>:<pager>:<seq>` (the event that caused it);
//! `effect::effects_with_history` adds them to a change's effects. The engine reads the
//! history only when [`may_update`] says one of the new events could send an update.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::effect::Effect;
use super::escalation::Target;
use super::event::{Event, EventKind};
use super::task::Status;

/// What an outside pager is told after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PagerAction {
    Acknowledge,
    Resolve,
}

impl PagerAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PagerAction::Acknowledge => "acknowledge",
            PagerAction::Resolve => "resolve",
        }
    }
}

/// Where an outside pager stands for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stand {
    Triggered,
    Acknowledged,
    Resolved,
}

/// What `event` does to the pagers' stands, with the action it sends.
fn step(stands: &mut BTreeMap<String, Stand>, event: &Event) -> Vec<(String, PagerAction)> {
    let next = match &event.kind {
        EventKind::Paged {
            target: Target::Pager(name),
            ..
        }
        | EventKind::Escalated {
            target: Target::Pager(name),
            ..
        } => {
            // A new page (after a resolve, a new incident) triggers again.
            stands.insert(name.clone(), Stand::Triggered);
            return Vec::new();
        }
        EventKind::Acknowledged | EventKind::Claimed { .. } => Stand::Acknowledged,
        EventKind::StatusChanged {
            to: Status::Resolved | Status::Closed | Status::Cancelled,
            ..
        } => Stand::Resolved,
        _ => return Vec::new(),
    };
    let mut sent = Vec::new();
    for (name, stand) in stands.iter_mut() {
        let action = match (*stand, next) {
            (Stand::Triggered, Stand::Acknowledged) => PagerAction::Acknowledge,
            (Stand::Triggered | Stand::Acknowledged, Stand::Resolved) => PagerAction::Resolve,
            _ => continue,
        };
        *stand = next;
        sent.push((name.clone(), action));
    }
    sent
}

/// The pager updates that appending `events` to a task whose earlier
/// events are `history` sends: one effect per pager and action, keyed by
/// the event that caused it.
pub fn pager_updates(history: &[Event], events: &[Event]) -> Vec<Effect> {
    let mut stands = BTreeMap::new();
    for event in history {
        step(&mut stands, event);
    }
    let mut effects = Vec::new();
    for event in events {
        for (pager, action) in step(&mut stands, event) {
            effects.push(Effect::PagerUpdate {
                task: event.task.clone(),
                pager,
                action,
                seq: event.seq,
            });
        }
    }
    effects
}

/// Whether any of `events` may send a pager update (so the history is
/// worth reading).
pub fn may_update(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Acknowledged
                | EventKind::Claimed { .. }
                | EventKind::StatusChanged {
                    to: Status::Resolved | Status::Closed | Status::Cancelled,
                    ..
                }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientKey, PersonId, TaskId, Who};

    fn event(seq: u32, kind: EventKind) -> Event {
        Event {
            task: TaskId::new(ClientKey::new("ACME").unwrap(), 1),
            seq,
            at: "2026-11-27T09:00:00Z".parse().unwrap(),
            by: Who::Person(PersonId(1)),
            kind,
        }
    }

    fn paged(seq: u32, target: Target) -> Event {
        event(
            seq,
            EventKind::Paged {
                key: format!("page:ACME-1@1:r0:s{seq}"),
                round: 0,
                step: seq,
                target,
                to: None,
                late: false,
                skipped: Vec::new(),
            },
        )
    }

    fn status(seq: u32, from: Status, to: Status) -> Event {
        event(
            seq,
            EventKind::StatusChanged {
                from,
                to,
                reason: None,
            },
        )
    }

    fn update(pager: &str, action: PagerAction, seq: u32) -> Effect {
        Effect::PagerUpdate {
            task: TaskId::new(ClientKey::new("ACME").unwrap(), 1),
            pager: pager.into(),
            action,
            seq,
        }
    }

    #[test]
    fn ack_then_resolve_once_each_and_only_for_pagers_that_were_paged() {
        let history = vec![
            paged(2, Target::Pager("pd".into())),
            paged(3, Target::Role(9)),
        ];
        let ack = event(4, EventKind::Acknowledged);
        assert_eq!(
            pager_updates(&history, std::slice::from_ref(&ack)),
            [update("pd", PagerAction::Acknowledge, 4)]
        );
        let mut history = history;
        history.push(ack);
        // Claiming after the acknowledgement sends nothing more.
        let claim = event(5, EventKind::Claimed { by: PersonId(2) });
        assert!(pager_updates(&history, std::slice::from_ref(&claim)).is_empty());
        history.push(claim);
        let resolved = status(6, Status::Claimed, Status::Resolved);
        assert_eq!(
            pager_updates(&history, std::slice::from_ref(&resolved)),
            [update("pd", PagerAction::Resolve, 6)]
        );
        history.push(resolved);
        // Closing a resolved task sends nothing more.
        assert!(pager_updates(&history, &[status(7, Status::Resolved, Status::Closed)]).is_empty());
        // A task never paged to a pager sends nothing.
        assert!(
            pager_updates(
                &[paged(2, Target::Role(9))],
                &[status(3, Status::New, Status::Cancelled)]
            )
            .is_empty()
        );
    }

    #[test]
    fn a_cancel_without_ack_resolves_and_a_new_page_after_reopen_triggers_again() {
        let history = vec![paged(2, Target::Pager("pd".into()))];
        assert_eq!(
            pager_updates(&history, &[status(3, Status::New, Status::Cancelled)]),
            [update("pd", PagerAction::Resolve, 3)]
        );
        let history = vec![
            paged(2, Target::Pager("pd".into())),
            status(3, Status::New, Status::Resolved),
            event(4, EventKind::Reopened { reason: None }),
            paged(5, Target::Pager("pd".into())),
        ];
        assert_eq!(
            pager_updates(
                &history,
                &[event(6, EventKind::Claimed { by: PersonId(2) })]
            ),
            [update("pd", PagerAction::Acknowledge, 6)]
        );
        assert!(may_update(&[event(6, EventKind::Acknowledged)]));
        assert!(!may_update(&[event(6, EventKind::Unclaimed)]));
    }
}
