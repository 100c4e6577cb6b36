//! Tests of the domain as a whole: the permission table across roles,
//! actions and states, and properties of the state machine.

use std::fmt::Write as _;

use jiff::Timestamp;
use proptest::prelude::*;

use super::routing::tests::rules;
use super::*;

const ACME: &str = "ACME";
const BRIGHT: &str = "BRIGHT";

fn key(k: &str) -> ClientKey {
    ClientKey::new(k).unwrap()
}

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn person(id: u64, side: Side, roles: &[Role], clients: ClientScope) -> Actor {
    Actor {
        person: PersonId(id),
        side,
        roles: roles.iter().copied().chain([Role::Requester]).collect(),
        clients,
    }
}

/// The cast: everyone who may try something on ACME's tasks.
struct Cast {
    people: Vec<(&'static str, Actor)>,
}

impl Cast {
    fn new() -> Self {
        let acme = || ClientScope::Only(key(ACME));
        let people = vec![
            ("requester", person(1, Side::Internal, &[], acme())),
            ("colleague", person(2, Side::Internal, &[], acme())),
            (
                "it-tech",
                person(3, Side::Internal, &[Role::ItTechnician], acme()),
            ),
            (
                "it-manager",
                person(4, Side::Internal, &[Role::ItManager], acme()),
            ),
            (
                "msp-engineer",
                person(
                    5,
                    Side::Msp,
                    &[Role::MspEngineer],
                    ClientScope::Some([key(ACME)].into()),
                ),
            ),
            (
                "msp-lead",
                person(6, Side::Msp, &[Role::MspLead], ClientScope::All),
            ),
            (
                "other-it-manager",
                person(
                    7,
                    Side::Internal,
                    &[Role::ItManager],
                    ClientScope::Only(key(BRIGHT)),
                ),
            ),
            (
                "other-msp-engineer",
                person(
                    8,
                    Side::Msp,
                    &[Role::MspEngineer],
                    ClientScope::Some([key(BRIGHT)].into()),
                ),
            ),
        ];
        Cast { people }
    }

    fn get(&self, name: &str) -> &Actor {
        &self.people.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

/// Applies decided events to a task, as the engine does.
fn apply(task: &mut Task, by: &Actor, kinds: Vec<EventKind>) {
    for kind in kinds {
        let event = Event {
            task: task.id.clone(),
            seq: task.version + 1,
            at: now(),
            by: Who::Person(by.person),
            kind,
        };
        task.apply(&event).unwrap();
    }
}

fn create(cast: &Cast, text: &str, to: SideChoice) -> (Task, Vec<Event>) {
    let requester = cast.get("requester");
    let new = NewTask {
        title: text.into(),
        to,
        ..Default::default()
    };
    let kinds = decide_create(requester, &key(ACME), &new, &rules(), now()).unwrap();
    let id = TaskId::new(key(ACME), 1);
    let events: Vec<Event> = kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Event {
            task: id.clone(),
            seq: i as u32 + 1,
            at: now(),
            by: Who::Person(requester.person),
            kind,
        })
        .collect();
    (Task::fold(&events).unwrap(), events)
}

fn run(task: &mut Task, actor: &Actor, command: Command) {
    let kinds = decide(task, actor, &command, &rules(), now())
        .unwrap_or_else(|e| panic!("{} refused while setting up: {e}", command.name()));
    apply(task, actor, kinds);
}

/// A task of ACME handled by `side`, brought to `state` by its handlers.
fn task_in(cast: &Cast, side: Side, state: &str) -> Task {
    let (text, worker) = match side {
        Side::Msp => ("vpn down", cast.get("msp-engineer")),
        Side::Internal => ("printer jammed", cast.get("it-tech")),
    };
    let (mut task, _) = create(cast, text, SideChoice::Auto);
    assert_eq!(task.handling_side, side);
    let status = |to| Command::SetStatus { to, reason: None };
    match state {
        "new" => {}
        "claimed" => run(&mut task, worker, Command::Claim),
        "in_progress" => run(&mut task, worker, status(Status::InProgress)),
        "waiting_on_requester" => run(&mut task, worker, status(Status::WaitingOnRequester)),
        "resolved" => run(&mut task, worker, status(Status::Resolved)),
        "closed" => {
            run(&mut task, worker, status(Status::Resolved));
            run(&mut task, cast.get("requester"), Command::Close);
        }
        "cancelled" => run(
            &mut task,
            cast.get("requester"),
            Command::Cancel { reason: None },
        ),
        "awaiting_approval" => {
            // ACME's IT owns security: asking the MSP needs approval.
            let (t, _) = create(cast, "phishing mail", SideChoice::To(Side::Msp));
            task = t;
        }
        other => panic!("unknown state {other}"),
    }
    task
}

fn commands(cast: &Cast, side: Side) -> Vec<(&'static str, Command)> {
    let assignee = match side {
        Side::Msp => cast.get("msp-lead").clone(),
        Side::Internal => cast.get("it-manager").clone(),
    };
    let status = |to| Command::SetStatus { to, reason: None };
    vec![
        ("claim", Command::Claim),
        ("unclaim", Command::Unclaim),
        ("assign", Command::Assign { to: assignee }),
        (
            "comment",
            Command::Comment {
                body: "hi".into(),
                visibility: Visibility::Shared,
            },
        ),
        (
            "note-it",
            Command::Comment {
                body: "n".into(),
                visibility: Visibility::Side(Side::Internal),
            },
        ),
        (
            "note-msp",
            Command::Comment {
                body: "n".into(),
                visibility: Visibility::Side(Side::Msp),
            },
        ),
        ("start", status(Status::InProgress)),
        ("resolve", status(Status::Resolved)),
        ("priority", Command::SetPriority(Priority::P1)),
        ("handoff", Command::Handoff { reason: None }),
        ("approve", Command::Approve),
        (
            "refuse",
            Command::Refuse {
                reason: "not now".into(),
            },
        ),
        ("reopen", Command::Reopen { reason: None }),
        ("close", Command::Close),
        ("cancel", Command::Cancel { reason: None }),
    ]
}

const STATES: [&str; 8] = [
    "new",
    "claimed",
    "in_progress",
    "waiting_on_requester",
    "resolved",
    "closed",
    "cancelled",
    "awaiting_approval",
];

/// The whole permission table: for each handling side, each person and each
/// state, what each command gives: `ok`, or the id of the refusal message
/// (without its `error-` prefix, cut to 12 characters).
fn table() -> String {
    let cast = Cast::new();
    let mut out = String::new();
    for side in Side::ALL {
        let cmds = commands(&cast, side);
        writeln!(out, "## handled by {side}").unwrap();
        write!(out, "{:<20} {:<22}", "who", "state").unwrap();
        for (name, _) in &cmds {
            write!(out, " {name:<12}").unwrap();
        }
        out.push('\n');
        // Other clients' people are refused everything: see the next test.
        for (who, actor) in cast.people.iter().filter(|(w, _)| !w.starts_with("other")) {
            for state in STATES {
                if state == "awaiting_approval" && side == Side::Internal {
                    continue;
                }
                let task = task_in(&cast, side, state);
                write!(out, "{who:<20} {state:<22}").unwrap();
                for (_, cmd) in &cmds {
                    let cell = match decide(&task, actor, cmd, &rules(), now()) {
                        Ok(_) => "ok".to_owned(),
                        Err(e) => e.message_id().trim_start_matches("error-").to_owned(),
                    };
                    let cell: String = cell.chars().take(12).collect();
                    write!(out, " {cell:<12}").unwrap();
                }
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn permission_table() {
    insta::assert_snapshot!(table());
}

#[test]
fn an_alert_sent_to_a_side_says_its_integration_sent_it_there() {
    let cast = Cast::new();
    let alert = |to: SideChoice| NewTask {
        title: "Disk full on db1".into(),
        to,
        alert: Some(monitor::AlertOrigin {
            source: "prometheus".into(),
            fingerprint: "db1".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let reason = |new: &NewTask| {
        decide_create(cast.get("requester"), &key(ACME), new, &rules(), now())
            .unwrap()
            .into_iter()
            .find_map(|k| match k {
                EventKind::Routed { reason, .. } => Some(reason),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        reason(&alert(SideChoice::To(Side::Msp))),
        RouteReason::Monitoring {
            source: "prometheus".into(),
            side: Side::Msp
        }
    );
    // Left to the rules, an alert is routed like anyone's words.
    assert!(matches!(
        reason(&alert(SideChoice::Auto)),
        RouteReason::Default { .. } | RouteReason::Keyword { .. }
    ));
    // A person asking for a side still asked.
    let person = NewTask {
        alert: None,
        ..alert(SideChoice::To(Side::Msp))
    };
    assert_eq!(reason(&person), RouteReason::Requested { side: Side::Msp });
}

#[test]
fn another_client_is_always_refused_whatever_the_state() {
    let cast = Cast::new();
    for side in Side::ALL {
        for state in STATES {
            if state == "awaiting_approval" && side == Side::Internal {
                continue;
            }
            let task = task_in(&cast, side, state);
            for who in ["other-it-manager", "other-msp-engineer"] {
                for (name, cmd) in commands(&cast, side) {
                    assert_eq!(
                        decide(&task, cast.get(who), &cmd, &rules(), now()),
                        Err(UserError::OtherClient),
                        "{who} {name} on a {state} task of {side}"
                    );
                }
            }
        }
    }
    let new = NewTask {
        title: "vpn".into(),
        ..Default::default()
    };
    assert_eq!(
        decide_create(
            cast.get("other-msp-engineer"),
            &key(ACME),
            &new,
            &rules(),
            now()
        ),
        Err(UserError::NotForClient)
    );
}

#[test]
fn a_requester_can_never_do_the_handlers_work() {
    let cast = Cast::new();
    for side in Side::ALL {
        for state in ["new", "claimed", "in_progress"] {
            let task = task_in(&cast, side, state);
            for cmd in [
                Command::Claim,
                Command::SetStatus {
                    to: Status::Resolved,
                    reason: None,
                },
            ] {
                let got = decide(&task, cast.get("requester"), &cmd, &rules(), now());
                assert_eq!(got, Err(UserError::NotStaffOf { side }), "{state} {side}");
            }
        }
    }
}

#[test]
fn the_msp_waits_for_approval_and_the_it_manager_decides() {
    let cast = Cast::new();
    let mut task = task_in(&cast, Side::Msp, "awaiting_approval");
    let engineer = cast.get("msp-engineer");
    let start = Command::SetStatus {
        to: Status::InProgress,
        reason: None,
    };
    // Claiming is fine: it tells the company who will do it once approved.
    run(&mut task, engineer, Command::Claim);
    assert_eq!(
        decide(&task, engineer, &start, &rules(), now()),
        Err(UserError::AwaitingApproval)
    );
    assert_eq!(
        decide(
            &task,
            cast.get("it-tech"),
            &Command::Approve,
            &rules(),
            now()
        ),
        Err(UserError::OnlyItManager)
    );
    run(
        &mut task,
        cast.get("it-manager"),
        Command::Refuse {
            reason: "we do it".into(),
        },
    );
    assert_eq!(
        decide(&task, engineer, &start, &rules(), now()),
        Err(UserError::ApprovalRefused {
            reason: "we do it".into()
        })
    );
    run(&mut task, cast.get("it-manager"), Command::Approve);
    run(&mut task, engineer, start);
    assert_eq!(task.status, Status::InProgress);
}

#[test]
fn handing_off_moves_the_ball_and_asks_approval_when_it_enters_it_territory() {
    let cast = Cast::new();
    // A security task (owned by ACME's IT) handled internally...
    let (mut task, _) = create(&cast, "phishing mail", SideChoice::Auto);
    assert_eq!(task.handling_side, Side::Internal);
    run(&mut task, cast.get("it-tech"), Command::Claim);
    // ...handed to the MSP needs approval, and drops the internal assignee.
    run(
        &mut task,
        cast.get("it-tech"),
        Command::Handoff {
            reason: Some("need help".into()),
        },
    );
    assert_eq!(task.handling_side, Side::Msp);
    assert_eq!(task.assignee, None);
    assert_eq!(task.status, Status::New);
    assert!(matches!(task.approval, Approval::Pending { .. }));
    // Until the IT manager decides, the move is the company's.
    assert_eq!(task.whose_move(), Some(Side::Internal));
    run(&mut task, cast.get("it-manager"), Command::Approve);
    assert_eq!(task.whose_move(), Some(Side::Msp));
}

/// A task created by `who` of ACME.
fn create_by(who: &Actor, text: &str, to: SideChoice) -> Task {
    let new = NewTask {
        title: text.into(),
        to,
        ..Default::default()
    };
    let kinds = decide_create(who, &key(ACME), &new, &rules(), now()).unwrap();
    let events: Vec<Event> = (1..)
        .zip(kinds)
        .map(|(seq, kind)| Event {
            task: TaskId::new(key(ACME), 1),
            seq,
            at: now(),
            by: Who::Person(who.person),
            kind,
        })
        .collect();
    Task::fold(&events).unwrap()
}

#[test]
fn a_change_the_msp_proposes_goes_to_the_msp_once_approved() {
    let cast = Cast::new();
    let engineer = cast.get("msp-engineer");
    let mut task = create_by(engineer, "Update the firewall firmware", SideChoice::Auto);
    assert_eq!(task.handling_side, Side::Internal);
    assert!(is_proposal(&task));
    assert_eq!(task.whose_move(), Some(Side::Internal));
    // Only the IT manager decides; the engineer cannot approve their own.
    for who in ["msp-engineer", "it-tech", "requester"] {
        assert_eq!(
            decide(&task, cast.get(who), &Command::Approve, &rules(), now()),
            Err(UserError::OnlyItManager),
            "{who}"
        );
    }
    run(&mut task, cast.get("it-manager"), Command::Approve);
    assert_eq!(task.handling_side, Side::Msp);
    assert!(matches!(task.approval, Approval::Granted { .. }));
    assert!(!is_proposal(&task));
    run(
        &mut task,
        engineer,
        Command::SetStatus {
            to: Status::InProgress,
            reason: None,
        },
    );
    assert_eq!(task.status, Status::InProgress);
}

#[test]
fn a_refused_proposal_is_cancelled_with_the_reason() {
    let cast = Cast::new();
    let mut task = create_by(
        cast.get("msp-engineer"),
        "Reboot the file server at noon",
        SideChoice::Auto,
    );
    let refuse = |reason: &str| Command::Refuse {
        reason: reason.into(),
    };
    assert_eq!(
        decide(&task, cast.get("it-manager"), &refuse(" "), &rules(), now()),
        Err(UserError::ReasonRequired)
    );
    run(
        &mut task,
        cast.get("it-manager"),
        refuse("not during work hours"),
    );
    assert_eq!(task.status, Status::Cancelled);
    assert!(
        matches!(&task.approval, Approval::Refused { reason, .. } if reason == "not during work hours")
    );
    // Requests of the company's own people are never proposals.
    let (task, _) = create(&cast, "printer jammed", SideChoice::Auto);
    assert!(!is_proposal(&task));
    assert_eq!(task.approval, Approval::NotNeeded);
}

#[test]
fn starting_work_in_the_companys_territory_asks_for_approval_first() {
    let cast = Cast::new();
    // A security task (the company's) sent to the MSP, approved, then
    // routed again: approval is reset, so starting asks again.
    let (mut task, _) = create(&cast, "phishing mail", SideChoice::To(Side::Msp));
    run(&mut task, cast.get("it-manager"), Command::Approve);
    let routed = Event {
        task: task.id.clone(),
        seq: task.version + 1,
        at: now(),
        by: Who::Ponte,
        kind: EventKind::Routed {
            side: Side::Msp,
            category: task.category.clone(),
            reason: RouteReason::Requested { side: Side::Msp },
        },
    };
    task.apply(&routed).unwrap();
    assert_eq!(task.approval, Approval::NotNeeded);
    let start = Command::SetStatus {
        to: Status::InProgress,
        reason: None,
    };
    let engineer = cast.get("msp-engineer");
    let kinds = decide(&task, engineer, &start, &rules(), now()).unwrap();
    assert!(
        matches!(
            kinds.as_slice(),
            [EventKind::ApprovalRequested {
                why: ApprovalWhy::ItTerritory { .. }
            }]
        ),
        "{kinds:?}"
    );
    apply(&mut task, engineer, kinds);
    assert_eq!(
        decide(&task, engineer, &start, &rules(), now()),
        Err(UserError::AwaitingApproval)
    );
}

#[test]
fn someone_reporting_the_same_problem_joins_once() {
    let cast = Cast::new();
    let (mut task, _) = create(&cast, "vpn down", SideChoice::Auto);
    let colleague = cast.get("colleague");
    run(&mut task, colleague, Command::JoinAsReporter);
    assert_eq!(task.reporters, [colleague.person]);
    for who in ["colleague", "requester"] {
        assert_eq!(
            decide(
                &task,
                cast.get(who),
                &Command::JoinAsReporter,
                &rules(),
                now()
            ),
            Err(UserError::Unchanged),
            "{who}"
        );
    }
    assert_eq!(
        decide(
            &task,
            cast.get("other-it-manager"),
            &Command::JoinAsReporter,
            &rules(),
            now()
        ),
        Err(UserError::OtherClient)
    );
}

#[test]
fn starting_an_unowned_task_claims_it() {
    let cast = Cast::new();
    let task = task_in(&cast, Side::Internal, "in_progress");
    assert_eq!(task.assignee, Some(cast.get("it-tech").person));
    assert_eq!(task.status, Status::InProgress);
}

/// Acknowledging an escalation: MSP staff serving the client, on an MSP
/// task nobody picked up yet. It records an event and changes nothing else.
#[test]
fn msp_staff_acknowledge_an_unclaimed_msp_task() {
    let cast = Cast::new();
    let task = task_in(&cast, Side::Msp, "new");
    for who in ["msp-engineer", "msp-lead"] {
        let got = decide(&task, cast.get(who), &Command::Acknowledge, &rules(), now());
        assert_eq!(got, Ok(vec![EventKind::Acknowledged]), "{who}");
        let mut acked = task.clone();
        apply(&mut acked, cast.get(who), got.unwrap());
        // The acknowledgement's time is kept for the digest's escalations.
        assert_eq!(acked.facts.acknowledged, [now()]);
        assert_eq!(
            Task {
                version: task.version,
                facts: task.facts.clone(),
                ..acked
            },
            task,
            "only the version and the acknowledgement's time move"
        );
    }
    for who in ["requester", "colleague", "it-tech", "it-manager"] {
        assert_eq!(
            decide(&task, cast.get(who), &Command::Acknowledge, &rules(), now()),
            Err(UserError::NotStaffOf { side: Side::Msp }),
            "{who}"
        );
    }
    assert_eq!(
        decide(
            &task,
            cast.get("other-msp-engineer"),
            &Command::Acknowledge,
            &rules(),
            now()
        ),
        Err(UserError::OtherClient)
    );
    // A claimed or worked-on task is acknowledged already; a finished one
    // is finished; internal IT's tasks never page.
    let engineer = cast.get("msp-engineer");
    for (side, state, expected) in [
        (Side::Msp, "claimed", UserError::Unchanged),
        (Side::Msp, "in_progress", UserError::Unchanged),
        (
            Side::Msp,
            "cancelled",
            UserError::TaskFinished {
                status: Status::Cancelled,
            },
        ),
        (Side::Internal, "new", UserError::Unchanged),
    ] {
        let task = task_in(&cast, side, state);
        assert_eq!(
            decide(&task, engineer, &Command::Acknowledge, &rules(), now()),
            Err(expected),
            "{state} {side}"
        );
    }
    assert_eq!(Command::Acknowledge.name(), "acknowledge");
    assert_eq!(EventKind::Acknowledged.name(), "acknowledged");
}

#[test]
fn bad_text_is_refused_with_what_to_fix() {
    let cast = Cast::new();
    let who = cast.get("requester");
    let try_new = |new: NewTask| decide_create(who, &key(ACME), &new, &rules(), now());
    assert_eq!(
        try_new(NewTask {
            title: "  ".into(),
            ..Default::default()
        }),
        Err(UserError::TitleEmpty)
    );
    assert_eq!(
        try_new(NewTask {
            title: "é".repeat(201),
            ..Default::default()
        }),
        Err(UserError::TitleTooLong { len: 201, max: 200 })
    );
    let past = "2026-11-26T09:00:00Z".parse().unwrap();
    assert_eq!(
        try_new(NewTask {
            title: "x".into(),
            due: Some(past),
            ..Default::default()
        }),
        Err(UserError::DueInPast)
    );
    let task = task_in(&cast, Side::Internal, "new");
    let empty = Command::Comment {
        body: "\n".into(),
        visibility: Visibility::Shared,
    };
    assert_eq!(
        decide(&task, who, &empty, &rules(), now()),
        Err(UserError::CommentEmpty)
    );
}

// ---- properties ----------------------------------------------------------

fn any_command(cast_size: usize) -> impl Strategy<Value = (usize, u8, u8)> {
    (0..cast_size, 0u8..15, 0u8..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever people try, in any order: the task stays the fold of its
    /// history, every status change taken was an allowed one, and the task
    /// can always still be finished by somebody (no path loses a task).
    #[test]
    fn no_sequence_of_commands_breaks_or_strands_a_task(
        start in prop::sample::select(vec!["vpn down", "printer jammed", "phishing mail", "coffee"]),
        steps in prop::collection::vec(any_command(8), 0..40),
    ) {
        let cast = Cast::new();
        let (mut task, mut history) = create(&cast, start, SideChoice::Auto);
        for (who, which, extra) in steps {
            let actor = &cast.people[who].1;
            let cmds = commands(&cast, task.handling_side);
            let mut cmd = cmds[which as usize % cmds.len()].1.clone();
            if let Command::SetPriority(_) = cmd {
                cmd = Command::SetPriority(Priority::ALL[extra as usize]);
            }
            let Ok(kinds) = decide(&task, actor, &cmd, &rules(), now()) else { continue };
            prop_assert!(!kinds.is_empty());
            for kind in kinds {
                if let EventKind::StatusChanged { from, to, .. } = &kind {
                    prop_assert_eq!(*from, task.status);
                    prop_assert!(from.can_move_to(*to), "{} -> {}", from, to);
                }
                let event = Event {
                    task: task.id.clone(),
                    seq: task.version + 1,
                    at: now(),
                    by: Who::Person(actor.person),
                    kind,
                };
                task.apply(&event).unwrap();
                history.push(event);
            }
            prop_assert_eq!(&Task::fold(&history).unwrap(), &task);
            if task.status.is_open() {
                prop_assert!(task.assignee.is_some() || matches!(task.status, Status::New));
            }
            // Someone can always bring the task to an end.
            if !task.status.is_final() {
                let can_end = cast.people.iter().any(|(_, p)| {
                    decide(&task, p, &Command::Cancel { reason: None }, &rules(), now()).is_ok()
                        || decide(&task, p, &Command::Close, &rules(), now()).is_ok()
                });
                prop_assert!(can_end, "stranded in {}", task.status);
            }
        }
    }

    /// Serialized events read back as the same events (the export format).
    #[test]
    fn events_round_trip_through_json(start in "[a-z ]{1,30}") {
        let cast = Cast::new();
        let (_, events) = create(&cast, &format!("vpn {start}"), SideChoice::Auto);
        for event in events {
            let json = serde_json::to_string(&event).unwrap();
            prop_assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
        }
    }
}

/// The escalation timer's pages are recorded only on the version of the
/// task they were planned from, and only while it waits for a pick-up: a
/// page never follows the acknowledgement or claim that stopped it.
#[test]
fn pages_are_recorded_only_on_the_task_they_were_planned_from() {
    use crate::domain::escalation::{PageKey, PageOrder, Target};
    let cast = Cast::new();
    let task = task_in(&cast, Side::Msp, "new");
    let engineer = cast.get("msp-engineer");
    let order = PageOrder {
        key: PageKey {
            task: task.id.clone(),
            since_seq: 1,
            round: 0,
            step: 0,
        },
        target: Target::OnCall("primary".into()),
        to: Some(PersonId(21)),
        late: false,
        skipped: vec![],
    };
    let page = |as_of| Command::Page {
        as_of,
        pages: vec![order.clone()],
    };
    let got = decide(&task, engineer, &page(task.version), &rules(), now());
    assert_eq!(got, Ok(vec![order.event()]));
    // Planned before a change the store has since written: refused.
    let stale = decide(&task, engineer, &page(task.version - 1), &rules(), now());
    assert_eq!(stale, Err(UserError::Unchanged));
    // Acknowledged in between: the version moved on, nothing is paged.
    let mut acked = task.clone();
    run(&mut acked, engineer, Command::Acknowledge);
    let after_ack = decide(&acked, engineer, &page(task.version), &rules(), now());
    assert_eq!(after_ack, Err(UserError::Unchanged));
    // Claimed: not waiting any more, whatever the version.
    let mut claimed = task.clone();
    run(&mut claimed, engineer, Command::Claim);
    let after_claim = decide(&claimed, engineer, &page(claimed.version), &rules(), now());
    assert_eq!(after_claim, Err(UserError::Unchanged));
    // A snooze is an event with its end.
    let snooze = decide(
        &task,
        engineer,
        &Command::Snooze { minutes: 15 },
        &rules(),
        now(),
    );
    assert_eq!(
        snooze,
        Ok(vec![EventKind::Snoozed {
            until: now() + jiff::SignedDuration::from_mins(15)
        }])
    );
}
