//! Snapshot-only digests: a digest built from snapshots (their
//! `Task::facts`) equals the digest built from the full histories the way
//! it was before, for random histories (any commands people may give, in
//! any order, at random times, sometimes with a clock skew between
//! writers), at random `since` and `now`, for both sides and for personal
//! digests; and so do the SLA clocks and the timeline.

use proptest::prelude::*;

use super::personal::{self, PersonalSpec};
use super::tests::{Cast, local, office, targets};
use super::*;
use crate::domain::chart::{ChartData, ChartTask};
use crate::domain::event::numbered;
use crate::domain::routing::tests::rules;
use crate::domain::sla::{clocks_from_history, clocks_of, side_clocks_of, timeline, walk_timeline};
use crate::domain::{Command, NewTask, SideChoice, Visibility, decide, decide_create};

const TITLES: [&str; 5] = [
    "VPN down in Milan",
    "Reboot the file server",
    "Phishing mail from the bank",
    "Printer jammed on floor 2",
    "New laptop for Anna",
];

fn command(cast: &Cast, which: u8, extra: u8) -> Command {
    let body = |s: &str| format!("{s} {extra}");
    match which % 17 {
        0 => Command::Claim,
        1 => Command::Unclaim,
        2 => Command::SetStatus {
            to: Status::InProgress,
            reason: None,
        },
        3 => Command::SetStatus {
            to: Status::WaitingOnRequester,
            reason: None,
        },
        4 => Command::SetStatus {
            to: Status::WaitingOnOtherSide,
            reason: None,
        },
        5 => Command::SetStatus {
            to: Status::Resolved,
            reason: None,
        },
        6 => Command::Comment {
            body: body("shared"),
            visibility: Visibility::Shared,
        },
        7 => Command::Comment {
            body: body("internal note"),
            visibility: Visibility::Side(Side::Internal),
        },
        8 => Command::Comment {
            body: body("msp note"),
            visibility: Visibility::Side(Side::Msp),
        },
        9 => Command::Acknowledge,
        10 => Command::Handoff { reason: None },
        11 => Command::Approve,
        12 => Command::Refuse {
            reason: "not now".into(),
        },
        13 => Command::Reopen { reason: None },
        14 => Command::Close,
        15 => Command::Cancel { reason: None },
        _ => match extra % 2 {
            0 => Command::SetPriority(Priority::ALL[extra as usize % 4]),
            _ => Command::Assign {
                to: cast.msp.clone(),
            },
        },
    }
}

/// One random task: its title, where it goes, its priority, when it starts
/// (minutes after the base), and its steps (who, which command, an extra
/// choice, minutes after the previous step; negative ones are a writer's
/// clock behind the other's).
pub(crate) type Plan = (usize, u8, u8, i64, Vec<(usize, u8, u8, i64)>);

pub(crate) fn plan() -> impl Strategy<Value = Plan> {
    (
        0..TITLES.len(),
        0u8..3,
        0u8..4,
        0i64..(7 * 24 * 60),
        prop::collection::vec((0usize..4, any::<u8>(), any::<u8>(), -20i64..900), 0..25),
    )
}

/// Plays a plan with the real domain (`decide`): refused commands are
/// skipped. The task's snapshot is grown by `apply`, as the engine does.
pub(crate) fn play(client: &ClientKey, number: u64, cast: &Cast, plan: &Plan) -> Tracked {
    let (title, to, priority, start, steps) = plan;
    let people = [&cast.requester, &cast.tech, &cast.manager, &cast.msp];
    let base = local("2026-11-23T07:00");
    let mut at = base + SignedDuration::from_mins(*start);
    let new = NewTask {
        title: TITLES[*title].into(),
        to: match to {
            0 => SideChoice::Auto,
            1 => SideChoice::To(Side::Msp),
            _ => SideChoice::To(Side::Internal),
        },
        priority: Some(Priority::ALL[*priority as usize]),
        ..NewTask::default()
    };
    let kinds = decide_create(&cast.requester, client, &new, &rules(), at).unwrap();
    let id = TaskId::new(client.clone(), number);
    let events = numbered(&id, 1, at, cast.requester.person, kinds);
    let mut tracked = Tracked {
        task: Task::fold(&events).unwrap(),
        events,
    };
    for (who, which, extra, minutes) in steps {
        at += SignedDuration::from_mins(*minutes);
        let actor = people[*who];
        let cmd = command(cast, *which, *extra);
        let Ok(kinds) = decide(&tracked.task, actor, &cmd, &rules(), at) else {
            continue;
        };
        let first = tracked.task.version + 1;
        for event in numbered(&id, first, at, actor.person, kinds) {
            tracked.task.apply(&event).unwrap();
            tracked.events.push(event);
        }
    }
    tracked
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn digests_from_snapshots_equal_digests_from_histories(
        plans in prop::collection::vec(plan(), 1..8),
        since_min in 0i64..(10 * 24 * 60),
        now_after in 0i64..(5 * 24 * 60),
    ) {
        let acme = ClientKey::new("ACME").unwrap();
        let cast = Cast::of(&acme, 0);
        let tracked: Vec<Tracked> = plans
            .iter()
            .enumerate()
            .map(|(i, p)| play(&acme, i as u64 + 1, &cast, p))
            .collect();
        // The snapshot, as stored and read back.
        let snapshots: Vec<Task> = tracked
            .iter()
            .map(|t| serde_json::from_str(&serde_json::to_string(&t.task).unwrap()).unwrap())
            .collect();
        let (t, o) = (targets(), office());
        let since = local("2026-11-23T07:00") + SignedDuration::from_mins(since_min);
        // `now` may fall before some events (a digest built as of its due
        // time, delivered later).
        let now = since + SignedDuration::from_mins(now_after);
        for (tr, snap) in tracked.iter().zip(&snapshots) {
            prop_assert_eq!(snap, &tr.task);
            prop_assert_eq!(&Task::fold(&tr.events).unwrap(), snap);
            prop_assert_eq!(timeline(&tr.events), walk_timeline(&tr.events));
            prop_assert_eq!(
                Some(clocks_of(snap, &t, &o, now)),
                clocks_from_history(&tr.events, &t, &o, now).ok()
            );
            for side in Side::ALL {
                prop_assert_eq!(
                    side_clocks_of(snap, side, &t, &o, now),
                    clocks_of(snap, &t, &o, now).side(side).cloned()
                );
            }
        }
        prop_assert_eq!(
            crate::domain::sla::report_of(snapshots.iter().cloned(), &t, &o, now),
            crate::domain::sla::report(
                tracked.iter().map(|tr| (tr.task.clone(), tr.events.clone())),
                &t,
                &o,
                now
            )
        );
        // The chart: snapshots, and histories only where an event is later
        // than `now`.
        let counted: Vec<ChartTask> = tracked
            .iter()
            .map(|tr| {
                if ChartTask::needs_history(&tr.task, now) {
                    ChartTask::History(tr.clone())
                } else {
                    ChartTask::Snapshot(tr.task.clone())
                }
            })
            .collect();
        let tz = o.tz().clone();
        let mut from_snapshots = ChartData::empty(&tz, now);
        from_snapshots.add(&tz, now, &t, &o, &counted);
        let mut from_histories = ChartData::empty(&tz, now);
        from_histories.add(&tz, now, &t, &o, &tracked);
        prop_assert_eq!(from_snapshots, from_histories);
        for side in Side::ALL {
            for last in [Some(since), None] {
                let spec = DigestSpec {
                    client: &acme,
                    side,
                    reader: crate::domain::Audience::Staff(side),
                    since: last,
                    now,
                    targets: &t,
                    calendar: &o,
                };
                prop_assert_eq!(build(&spec, &snapshots), build(&spec, &tracked));
                // In any order (the store feeds the builder status by
                // status, a page at a time).
                let mut builder = Builder::new(spec);
                for task in snapshots.iter().rev() {
                    builder.add(task);
                }
                prop_assert_eq!(builder.finish(), build(&spec, &snapshots));
            }
            for person in [&cast.requester, &cast.tech, &cast.manager, &cast.msp] {
                let spec = PersonalSpec {
                    person: person.person,
                    side,
                    client: Some(&acme),
                    now,
                };
                prop_assert_eq!(
                    personal::build(&spec, &snapshots, |_| Some((&t, &o))),
                    personal::build(&spec, &tracked, |_| Some((&t, &o)))
                );
            }
        }
    }
}

/// The realistic morning of the digest tests: the snapshots give the same
/// digests as the histories, both sides, and the same personal digests.
#[test]
fn the_realistic_morning_is_the_same_from_snapshots() {
    let mut tracked = tests::acme_tasks();
    tracked.extend(tests::beta_tasks());
    let snapshots: Vec<Task> = tracked.iter().map(|t| t.task.clone()).collect();
    let (t, o) = (targets(), office());
    for client in ["ACME", "BETA"] {
        let client = ClientKey::new(client).unwrap();
        for side in Side::ALL {
            let spec = DigestSpec {
                client: &client,
                side,
                reader: crate::domain::Audience::Staff(side),
                since: Some(tests::since()),
                now: tests::now(),
                targets: &t,
                calendar: &o,
            };
            let from_snapshots = build(&spec, &snapshots);
            assert_eq!(from_snapshots, build(&spec, &tracked));
            assert!(!from_snapshots.is_empty());
        }
    }
    let fresh = snapshots
        .iter()
        .map(|s| s.facts.moves.len())
        .max()
        .unwrap_or(0);
    assert!(fresh >= 2, "some task changed hands");
}

/// Two open tasks alike but for their number (same priority, same
/// creation): listed by number whatever order the builder gets them in.
#[test]
fn open_tasks_alike_are_listed_by_number_in_any_order() {
    let acme = ClientKey::new("ACME").unwrap();
    let cast = Cast::of(&acme, 0);
    let plan: Plan = (0, 1, 2, 60, Vec::new());
    let tasks: Vec<Task> = (1..=3).map(|n| play(&acme, n, &cast, &plan).task).collect();
    let (t, o) = (targets(), office());
    let spec = DigestSpec {
        client: &acme,
        side: Side::Msp,
        reader: crate::domain::Audience::Staff(Side::Msp),
        since: None,
        now: local("2026-11-23T09:00"),
        targets: &t,
        calendar: &o,
    };
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let mut builder = Builder::new(spec);
        for i in order {
            builder.add(&tasks[i]);
        }
        let digest = builder.finish();
        let numbers: Vec<Vec<u64>> = digest
            .open
            .iter()
            .map(|(_, lines)| lines.iter().map(|l| l.id.number()).collect())
            .collect();
        assert_eq!(numbers, [[1, 2, 3]], "{order:?}");
    }
}
