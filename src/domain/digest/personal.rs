//! A person's own digest (`/digest subscribe`): what is waiting on them.
//! Tasks where it is their move (assigned to them, their side's move),
//! their open requests waiting on them (the handling side asked them
//! something), and the other tasks assigned to them (waiting on someone
//! else), each with its age and the state of their side's SLA clock.
//!
//! Only what the person may see: a client's person gets only that client's
//! tasks, and comments are those their side may see (never an internal
//! note of the other side), as in the side digests; on their own requests
//! they read as a requester (shared comments only).

use jiff::Timestamp;

use super::{Line, Source, line};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::ids::{ClientKey, PersonId};
use crate::domain::people::{Audience, Side};
use crate::domain::sla::{ClockState, Holder, SlaTargets};

/// One task of a personal digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalLine {
    pub line: Line,
    /// The reader's side's most used running clock: its state and percent.
    pub sla: Option<(ClockState, u32)>,
}

/// What is waiting on one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalDigest {
    pub person: PersonId,
    pub side: Side,
    pub now: Timestamp,
    /// Assigned to them, and their side's move.
    pub your_move: Vec<PersonalLine>,
    /// Their own requests, waiting on their answer.
    pub your_requests: Vec<PersonalLine>,
    /// Assigned to them, waiting on someone else.
    pub assigned: Vec<PersonalLine>,
}

impl PersonalDigest {
    pub fn is_empty(&self) -> bool {
        self.your_move.is_empty() && self.your_requests.is_empty() && self.assigned.is_empty()
    }
}

/// Whose personal digest, and what they may see.
pub struct PersonalSpec<'a> {
    pub person: PersonId,
    pub side: Side,
    /// A client's person sees that client's tasks only; `None` (the MSP's
    /// people) sees every client's.
    pub client: Option<&'a ClientKey>,
    pub now: Timestamp,
}

/// Builds the personal digest from `tasks`; `sla` gives a client's targets
/// and calendar (a client without them shows no SLA state).
pub fn build<'t, 'c, T: Source + 't>(
    spec: &PersonalSpec<'_>,
    tasks: impl IntoIterator<Item = &'t T>,
    sla: impl Fn(&ClientKey) -> Option<(&'c SlaTargets, &'c BusinessCalendar)>,
) -> PersonalDigest {
    let mut digest = PersonalDigest {
        person: spec.person,
        side: spec.side,
        now: spec.now,
        your_move: Vec::new(),
        your_requests: Vec::new(),
        assigned: Vec::new(),
    };
    for tracked in tasks {
        let task = tracked.task();
        if !task.status.is_open() || task.created_at > spec.now {
            continue;
        }
        if spec.client.is_some_and(|c| task.id.client() != c) {
            continue;
        }
        let holder = Holder::of(task);
        let assigned_to_me = task.assignee == Some(spec.person) && task.handling_side == spec.side;
        let list = if assigned_to_me && holder == Holder::Side(spec.side) {
            &mut digest.your_move
        } else if holder == Holder::Requester
            && task.requester == spec.person
            && task.asking_side == spec.side
        {
            &mut digest.your_requests
        } else if assigned_to_me {
            &mut digest.assigned
        } else {
            continue;
        };
        let state = sla(task.id.client()).and_then(|(targets, calendar)| {
            let side = tracked.side_clocks(spec.side, targets, calendar, spec.now)?;
            side.first_response
                .iter()
                .chain([&side.resolution])
                .filter(|c| c.stopped_at.is_none())
                .map(|c| (c.state, c.percent_used))
                .max_by_key(|(_, pct)| *pct)
        });
        // Assigned to them: they work for the handling side, and read as
        // its staff. Otherwise their own request: read as a requester (a
        // subscription does not say whether they are staff), so no
        // internal note reaches a requester's digest.
        let reader = if assigned_to_me {
            Audience::Staff(spec.side)
        } else {
            Audience::Requesters
        };
        list.push(PersonalLine {
            line: line(tracked, reader, spec.now),
            sla: state,
        });
    }
    for list in [
        &mut digest.your_move,
        &mut digest.your_requests,
        &mut digest.assigned,
    ] {
        list.sort_by(|a, b| {
            (a.line.priority, b.line.age, a.line.id.to_string()).cmp(&(
                b.line.priority,
                a.line.age,
                b.line.id.to_string(),
            ))
        });
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::super::Tracked;
    use super::super::tests::{Cast, Story, local, office, targets};
    use super::*;
    use crate::domain::Task;
    use crate::domain::{Command, Priority, SideChoice, Status, Visibility};

    fn key(k: &str) -> ClientKey {
        ClientKey::new(k).unwrap()
    }

    /// The snapshots of [`histories`], as the store gives them.
    fn world() -> Vec<Task> {
        histories().into_iter().map(|t| t.task).collect()
    }

    fn histories() -> Vec<Tracked> {
        let acme = key("ACME");
        let beta = key("BETA");
        let a = Cast::of(&acme, 0);
        let b = Cast::of(&beta, 100);
        let msp = SideChoice::To(Side::Msp);
        let internal = SideChoice::To(Side::Internal);
        vec![
            // ACME-1: the MSP engineer's move, with an MSP-only note and
            // an internal note.
            Story::create(
                &acme,
                1,
                &a.requester,
                "VPN drops",
                msp,
                Priority::P2,
                local("2026-11-30T09:00"),
            )
            .run(&a.msp, Command::Claim, local("2026-11-30T09:10"))
            .run(
                &a.tech,
                Command::Comment {
                    body: "Internal budget talk".into(),
                    visibility: Visibility::Side(Side::Internal),
                },
                local("2026-11-30T09:20"),
            )
            .run(
                &a.msp,
                Command::Comment {
                    body: "MSP only: ISP again".into(),
                    visibility: Visibility::Side(Side::Msp),
                },
                local("2026-11-30T09:30"),
            )
            .0,
            // ACME-2: waiting on the requester.
            Story::create(
                &acme,
                2,
                &a.requester,
                "Outlook password",
                msp,
                Priority::P3,
                local("2026-11-30T10:00"),
            )
            .run(&a.msp, Command::Claim, local("2026-11-30T10:10"))
            .run(
                &a.msp,
                Command::SetStatus {
                    to: Status::WaitingOnRequester,
                    reason: None,
                },
                local("2026-11-30T10:20"),
            )
            .0,
            // ACME-3: internal IT's, claimed by the technician.
            Story::create(
                &acme,
                3,
                &a.requester,
                "New laptop",
                internal,
                Priority::P4,
                local("2026-11-30T11:00"),
            )
            .run(&a.tech, Command::Claim, local("2026-11-30T11:10"))
            .0,
            // BETA-1: another client's, claimed by BETA's technician.
            Story::create(
                &beta,
                1,
                &b.requester,
                "Beta secret printer",
                internal,
                Priority::P3,
                local("2026-11-30T11:00"),
            )
            .run(&b.tech, Command::Claim, local("2026-11-30T11:10"))
            .0,
        ]
    }

    fn titles(list: &[PersonalLine]) -> Vec<String> {
        list.iter().map(|l| l.line.title.clone()).collect()
    }

    #[test]
    fn the_msp_engineer_sees_their_move_with_their_sides_notes_only() {
        let a = Cast::of(&key("ACME"), 0);
        let tasks = world();
        let (t, o) = (targets(), office());
        let spec = PersonalSpec {
            person: a.msp.person,
            side: Side::Msp,
            client: None,
            now: local("2026-12-01T10:00"),
        };
        let d = build(&spec, &tasks, |_| Some((&t, &o)));
        assert_eq!(titles(&d.your_move), ["VPN drops"]);
        assert!(d.your_requests.is_empty());
        assert_eq!(titles(&d.assigned), ["Outlook password"]);
        let line = &d.your_move[0];
        assert_eq!(
            line.line.last_comment.as_deref(),
            Some("MSP only: ISP again")
        );
        // P2, 8h of business time from 09:00 Monday: past by Tuesday 10:00.
        assert_eq!(line.sla.map(|s| s.0), Some(ClockState::Breached));
        assert!(
            !format!("{d:?}").contains("Internal budget"),
            "never the other side's internal note"
        );
    }

    #[test]
    fn a_requester_sees_their_requests_waiting_on_them() {
        let a = Cast::of(&key("ACME"), 0);
        let tasks = world();
        let spec = PersonalSpec {
            person: a.requester.person,
            side: Side::Internal,
            client: Some(&key("ACME")),
            now: local("2026-12-01T08:30"),
        };
        let d = build(&spec, &tasks, |_| None);
        assert_eq!(titles(&d.your_requests), ["Outlook password"]);
        assert!(d.your_move.is_empty() && d.assigned.is_empty());
        assert_eq!(d.your_requests[0].sla, None);
    }

    #[test]
    fn a_client_person_never_sees_another_clients_tasks() {
        let a = Cast::of(&key("ACME"), 0);
        let b = Cast::of(&key("BETA"), 100);
        let tasks = world();
        let (t, o) = (targets(), office());
        let acme = key("ACME");
        let spec = PersonalSpec {
            person: a.tech.person,
            side: Side::Internal,
            client: Some(&acme),
            now: local("2026-12-01T08:30"),
        };
        let d = build(&spec, &tasks, |_| Some((&t, &o)));
        assert_eq!(titles(&d.your_move), ["New laptop"]);
        assert!(!format!("{d:?}").contains("Beta"));
        assert!(!format!("{d:?}").contains("MSP only"));
        // Even someone assigned a BETA task, asked for as ACME's, sees nothing of BETA.
        let spec = PersonalSpec {
            person: b.tech.person,
            side: Side::Internal,
            client: Some(&acme),
            now: local("2026-12-01T08:30"),
        };
        assert!(build(&spec, &tasks, |_| Some((&t, &o))).is_empty());
    }
}
