//! SLA clocks on stories built with the real domain (`decide_create`,
//! `decide`) at fixed instants, in Rome, with office hours Mon–Fri
//! 08:30–12:30 and 13:30–18:00 and a holiday on 2026-12-08.

use jiff::civil::{DateTime, date, time};
use jiff::tz::TimeZone;

use super::*;
use crate::domain::event::numbered;
use crate::domain::routing::tests::rules;
use crate::domain::{
    Actor, ClientKey, ClientScope, Command, NewTask, PersonId, Role, decide, decide_create,
};

fn rome() -> TimeZone {
    TimeZone::get("Europe/Rome").unwrap()
}

/// A wall-clock time in Rome, `2026-12-01T09:00`.
fn local(s: &str) -> Timestamp {
    rome().to_timestamp(s.parse::<DateTime>().unwrap()).unwrap()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn office() -> BusinessCalendar {
    BusinessCalendar::weekdays(
        rome(),
        &[
            (time(8, 30, 0, 0), time(12, 30, 0, 0)),
            (time(13, 30, 0, 0), time(18, 0, 0, 0)),
        ],
        [date(2026, 12, 8)].into(),
    )
    .unwrap()
}

/// P1 30m/4h around the clock; P2 1h/8h; P3 4h/17h; P4 8h30m/40h.
fn targets() -> SlaTargets {
    SlaTargets {
        first_response: [mins(30), hours(1), hours(4), mins(510)],
        resolution: [hours(4), hours(8), hours(17), hours(40)],
        around_the_clock: [true, false, false, false],
        at_risk_percent: 75,
    }
}

fn acme() -> ClientKey {
    ClientKey::new("ACME").unwrap()
}

fn actor(id: u64, side: Side, role: Role) -> Actor {
    Actor {
        person: PersonId(id),
        side,
        roles: [Role::Requester, role].into_iter().collect(),
        clients: ClientScope::Only(acme()),
    }
}

fn requester() -> Actor {
    Actor::employee(PersonId(1), acme())
}

fn it_tech() -> Actor {
    actor(3, Side::Internal, Role::ItTechnician)
}

fn it_manager() -> Actor {
    actor(4, Side::Internal, Role::ItManager)
}

fn msp() -> Actor {
    actor(5, Side::Msp, Role::MspEngineer)
}

/// A task's history, grown one command at a time through `decide`.
struct Story {
    events: Vec<Event>,
    task: Task,
}

impl Story {
    fn create(number: u64, title: &str, priority: Priority, at: Timestamp) -> Story {
        let new = NewTask {
            title: title.into(),
            priority: Some(priority),
            ..NewTask::default()
        };
        let by = requester();
        let kinds = decide_create(&by, &acme(), &new, &rules(), at).unwrap();
        let id = TaskId::new(acme(), number);
        let events = numbered(&id, 1, at, by.person, kinds);
        let task = Task::fold(&events).unwrap();
        Story { events, task }
    }

    fn run(&mut self, by: &Actor, command: Command, at: Timestamp) -> &mut Self {
        let kinds = decide(&self.task, by, &command, &rules(), at)
            .unwrap_or_else(|e| panic!("{} refused: {e}", command.name()));
        let first = self.task.version + 1;
        for event in numbered(&self.task.id, first, at, by.person, kinds) {
            self.task.apply(&event).unwrap();
            self.events.push(event);
        }
        self
    }

    fn clocks(&self, now: Timestamp) -> SlaStatus {
        clocks(&self.events, &targets(), &office(), now).unwrap()
    }
}

fn status(to: Status) -> Command {
    Command::SetStatus { to, reason: None }
}

fn holders(stretches: &[Stretch]) -> Vec<(Timestamp, Option<Timestamp>, Holder, Side)> {
    stretches
        .iter()
        .map(|s| (s.from, s.to, s.holder, s.handling))
        .collect()
}

#[test]
fn the_clock_pauses_while_waiting_on_the_requester() {
    // Tuesday 2026-12-01, a P3 sent to the MSP.
    let mut story = Story::create(1, "vpn down", Priority::P3, local("2026-12-01T09:00"));
    assert_eq!(story.task.handling_side, Side::Msp);
    story
        .run(&msp(), Command::Claim, local("2026-12-01T10:00"))
        .run(
            &msp(),
            status(Status::InProgress),
            local("2026-12-01T10:00"),
        )
        .run(
            &msp(),
            status(Status::WaitingOnRequester),
            local("2026-12-01T11:00"),
        );
    let asked = story.events.len();
    story
        .run(
            &msp(),
            status(Status::InProgress),
            local("2026-12-01T15:00"),
        )
        .run(&msp(), status(Status::Resolved), local("2026-12-01T16:00"));

    let msp_ = Holder::Side(Side::Msp);
    assert_eq!(
        holders(&timeline(&story.events)),
        vec![
            (
                local("2026-12-01T09:00"),
                Some(local("2026-12-01T11:00")),
                msp_,
                Side::Msp
            ),
            (
                local("2026-12-01T11:00"),
                Some(local("2026-12-01T15:00")),
                Holder::Requester,
                Side::Msp
            ),
            (
                local("2026-12-01T15:00"),
                Some(local("2026-12-01T16:00")),
                msp_,
                Side::Msp
            ),
            (local("2026-12-01T16:00"), None, Holder::Nobody, Side::Msp),
        ]
    );

    // While waiting on the requester the clock is paused.
    let waiting = clocks(
        &story.events[..asked],
        &targets(),
        &office(),
        local("2026-12-01T14:00"),
    )
    .unwrap();
    assert_eq!(waiting.holder, Holder::Requester);
    let side = waiting.side(Side::Msp).unwrap();
    assert_eq!(side.resolution.elapsed, hours(2));
    assert!(!side.resolution.running);
    assert_eq!(side.resolution.breach_at, None);
    assert_eq!(side.waiting_on_requester, mins(120)); // 11:00–12:30, 13:30–14:00

    let done = story.clocks(local("2026-12-01T17:00"));
    assert_eq!(done.holder, Holder::Nobody);
    assert_eq!(done.sides.len(), 1, "the company never held this task");
    let side = done.side(Side::Msp).unwrap();
    let first = side.first_response.unwrap();
    assert_eq!(first.elapsed, hours(1));
    assert_eq!(first.stopped_at, Some(local("2026-12-01T10:00")));
    assert!(first.met());
    assert_eq!(side.resolution.elapsed, hours(3));
    assert_eq!(side.resolution.remaining, hours(14));
    assert_eq!(side.resolution.stopped_at, Some(local("2026-12-01T16:00")));
    assert_eq!(side.resolution.state, ClockState::Ok);
    assert_eq!(side.waiting_on_requester, hours(3));
    assert_eq!(side.waiting_on_other_side, SignedDuration::ZERO);
}

#[test]
fn business_hours_across_a_weekend_then_at_risk_at_75_percent_then_breached() {
    // Friday 2026-12-04 17:30, a P2 (first response within 1h).
    let mut story = Story::create(2, "vpn down", Priority::P2, local("2026-12-04T17:30"));
    let deadline = local("2026-12-07T09:00"); // Monday

    let first = |s: &Story, now| {
        s.clocks(now)
            .side(Side::Msp)
            .unwrap()
            .first_response
            .unwrap()
    };
    let saturday = first(&story, local("2026-12-05T12:00"));
    assert_eq!(saturday.elapsed, mins(30));
    assert_eq!(saturday.percent_used, 50);
    assert_eq!(saturday.state, ClockState::Ok);
    assert!(
        saturday.running,
        "still their move, though nobody is at work"
    );
    assert_eq!(saturday.breach_at, Some(deadline));

    let monday = first(&story, local("2026-12-07T08:45"));
    assert_eq!(monday.elapsed, mins(45));
    assert_eq!(monday.remaining, mins(15));
    assert_eq!(monday.percent_used, 75);
    assert_eq!(monday.state, ClockState::AtRisk);
    assert_eq!(monday.breach_at, Some(deadline));

    let late = first(&story, local("2026-12-07T09:15"));
    assert_eq!(late.state, ClockState::Breached);
    assert_eq!(late.remaining, -mins(15));
    assert_eq!(late.percent_used, 125);
    assert_eq!(late.breach_at, Some(deadline), "when it happened");

    story.run(&msp(), Command::Claim, local("2026-12-07T09:30"));
    let answered = first(&story, local("2026-12-07T12:00"));
    assert_eq!(answered.elapsed, mins(90));
    assert_eq!(answered.state, ClockState::Breached);
    assert!(!answered.running && !answered.met());
    assert_eq!(answered.breach_at, Some(deadline));
}

#[test]
fn a_holiday_is_not_charged_and_a_stopped_clock_is_never_at_risk() {
    // Monday 2026-12-07 17:00; Tuesday is a holiday; answered Wednesday.
    let mut story = Story::create(3, "vpn down", Priority::P3, local("2026-12-07T17:00"));
    story.run(&msp(), Command::Claim, local("2026-12-09T10:30"));
    let status = story.clocks(local("2026-12-09T12:00"));
    let first = status.side(Side::Msp).unwrap().first_response.unwrap();
    assert_eq!(first.elapsed, hours(3)); // 1h Monday + 2h Wednesday
    assert_eq!(first.percent_used, 75);
    assert_eq!(first.state, ClockState::Ok);
    assert!(first.met());
    assert_eq!(first.breach_at, None);
}

#[test]
fn the_dst_changes_in_rome() {
    // Friday 2026-03-27 17:30 CET; clocks go forward on Sunday the 29th.
    let mut story = Story::create(4, "vpn down", Priority::P2, local("2026-03-27T17:30"));
    let first = story
        .clocks(local("2026-03-28T12:00"))
        .side(Side::Msp)
        .unwrap()
        .first_response
        .unwrap();
    // Monday 09:00 CEST is 07:00Z, not 08:00Z.
    assert_eq!(
        first.breach_at,
        Some("2026-03-30T07:00:00Z".parse().unwrap())
    );
    // An answer exactly at the deadline is within target.
    story.run(&msp(), Command::Claim, local("2026-03-30T09:00"));
    let first = story
        .clocks(local("2026-03-30T10:00"))
        .side(Side::Msp)
        .unwrap()
        .first_response
        .unwrap();
    assert_eq!(first.elapsed, hours(1));
    assert_eq!(first.state, ClockState::Ok);
    assert!(first.met());

    // A P1 (around the clock) through the night the clocks go back: from
    // Saturday 2026-10-24 23:00 CEST to Sunday 04:00 CET is five hours on
    // the wall but six real hours.
    let story = Story::create(5, "vpn down", Priority::P1, local("2026-10-24T23:00"));
    let now: Timestamp = "2026-10-25T03:00:00Z".parse().unwrap();
    assert_eq!(rome().to_datetime(now).time(), time(4, 0, 0, 0));
    let status = story.clocks(now);
    assert!(status.around_the_clock);
    let side = status.side(Side::Msp).unwrap();
    assert_eq!(side.resolution.elapsed, hours(6));
    assert_eq!(side.first_response.unwrap().state, ClockState::Breached);
}

#[test]
fn a_task_handed_back_and_forth_charges_each_side_its_own_stretches() {
    // Tuesday 2026-12-01, a printer: the company's IT handles it first.
    let mut story = Story::create(6, "printer jammed", Priority::P3, local("2026-12-01T09:00"));
    assert_eq!(story.task.handling_side, Side::Internal);
    let handoff = || Command::Handoff { reason: None };
    story
        .run(&it_tech(), Command::Claim, local("2026-12-01T09:30"))
        .run(&it_tech(), handoff(), local("2026-12-01T10:00"))
        // Printers are the company's territory: the MSP acts once approved.
        .run(&it_manager(), Command::Approve, local("2026-12-01T10:00"))
        .run(&msp(), Command::Claim, local("2026-12-01T11:00"))
        .run(
            &msp(),
            status(Status::WaitingOnOtherSide),
            local("2026-12-01T12:00"),
        )
        .run(
            &msp(),
            status(Status::InProgress),
            local("2026-12-01T14:30"),
        )
        .run(&msp(), handoff(), local("2026-12-01T15:00"))
        .run(
            &it_tech(),
            status(Status::Resolved),
            local("2026-12-01T16:00"),
        );

    let (int, msp_) = (Holder::Side(Side::Internal), Holder::Side(Side::Msp));
    let got: Vec<(Holder, Side)> = timeline(&story.events)
        .iter()
        .map(|s| (s.holder, s.handling))
        .collect();
    assert_eq!(
        got,
        vec![
            (int, Side::Internal),
            (msp_, Side::Msp),
            (int, Side::Msp), // the MSP waits on the company
            (msp_, Side::Msp),
            (int, Side::Internal),
            (Holder::Nobody, Side::Internal),
        ]
    );

    let status = story.clocks(local("2026-12-01T17:00"));
    let internal = status.side(Side::Internal).unwrap();
    let msp_side = status.side(Side::Msp).unwrap();
    // Internal: 09:00–10:00, 12:00–12:30 + 13:30–14:30, 15:00–16:00.
    assert_eq!(internal.resolution.elapsed, mins(210));
    // MSP: 10:00–12:00, 14:30–15:00.
    assert_eq!(msp_side.resolution.elapsed, mins(150));
    // Together they make the whole working time from 09:00 to 16:00.
    assert_eq!(
        internal.resolution.elapsed + msp_side.resolution.elapsed,
        office().business_duration(local("2026-12-01T09:00"), local("2026-12-01T16:00"))
    );
    assert_eq!(msp_side.waiting_on_other_side, mins(90));
    assert_eq!(internal.waiting_on_other_side, SignedDuration::ZERO);
    // Each side's first response is counted once, from when it first got
    // the task; coming back to the company does not restart its clock.
    let int_first = internal.first_response.unwrap();
    assert_eq!(int_first.elapsed, mins(30));
    assert_eq!(int_first.stopped_at, Some(local("2026-12-01T09:30")));
    let msp_first = msp_side.first_response.unwrap();
    assert_eq!(msp_first.elapsed, hours(1));
    assert_eq!(msp_first.stopped_at, Some(local("2026-12-01T11:00")));
}

#[test]
fn a_p1_is_counted_around_the_clock() {
    // Saturday 2026-12-05 03:00, the VPN is down: a P1.
    let mut story = Story::create(7, "vpn down", Priority::P1, local("2026-12-05T03:00"));
    story.run(&msp(), Command::Claim, local("2026-12-05T03:20"));
    let now = local("2026-12-05T05:00");
    let status = story.clocks(now);
    let side = status.side(Side::Msp).unwrap();
    assert_eq!(side.first_response.unwrap().elapsed, mins(20));
    assert!(side.first_response.unwrap().met());
    assert_eq!(side.resolution.elapsed, hours(2));
    assert_eq!(side.resolution.percent_used, 50);
    assert!(side.resolution.running);
    assert_eq!(side.resolution.breach_at, Some(local("2026-12-05T07:00")));

    // The same task under office hours would not have started counting:
    // four hours from Monday 08:30 end at lunch, 12:30.
    let office_only = SlaTargets {
        around_the_clock: [false; 4],
        ..targets()
    };
    let status = clocks(&story.events, &office_only, &office(), now).unwrap();
    let side = status.side(Side::Msp).unwrap();
    assert_eq!(side.resolution.elapsed, SignedDuration::ZERO);
    assert_eq!(side.resolution.breach_at, Some(local("2026-12-07T12:30")));
}

#[test]
fn the_timeline_merges_what_happens_at_one_instant_and_stops_at_a_broken_history() {
    assert_eq!(timeline(&[]), vec![]);
    // Created (handled by the MSP by default) and routed to the company at
    // the same instant: one stretch.
    let story = Story::create(8, "printer jammed", Priority::P4, local("2026-12-01T09:00"));
    assert_eq!(story.events.len(), 2);
    assert_eq!(
        holders(&timeline(&story.events)),
        vec![(
            local("2026-12-01T09:00"),
            None,
            Holder::Side(Side::Internal),
            Side::Internal
        )]
    );
    let mut broken = story.events.clone();
    let mut late = broken[1].clone();
    late.seq = 5;
    late.at = local("2026-12-01T10:00");
    late.kind = EventKind::StatusChanged {
        from: Status::New,
        to: Status::Cancelled,
        reason: None,
    };
    broken.push(late);
    assert_eq!(timeline(&broken).len(), 1);
    assert!(matches!(
        clocks(&broken, &targets(), &office(), local("2026-12-01T11:00")),
        Err(FoldError::OutOfOrder { seq: 5, .. })
    ));
}

#[test]
fn nearest_rank_percentiles() {
    let ten: Vec<SignedDuration> = (1..=10).map(|m| mins(10 * m)).collect();
    assert_eq!(nearest_rank(&ten, 50), Some(mins(50)));
    assert_eq!(nearest_rank(&ten, 90), Some(mins(90)));
    assert_eq!(nearest_rank(&ten, 91), Some(mins(100)));
    assert_eq!(nearest_rank(&ten, 0), Some(mins(10)));
    assert_eq!(nearest_rank(&ten, 100), Some(mins(100)));
    let four = [hours(1), hours(2), hours(3), hours(4)];
    assert_eq!(nearest_rank(&four, 50), Some(hours(2)));
    assert_eq!(nearest_rank(&four, 90), Some(hours(4)));
    assert_eq!(nearest_rank(&[], 50), None);
}

#[test]
fn the_report_on_a_small_hand_computed_set() {
    let tuesday = local("2026-12-01T09:00");
    let now = local("2026-12-02T12:00");
    let p3 = |n| Story::create(n, "vpn down", Priority::P3, tuesday);
    // MSP P3: answered after 1h and resolved after 3h; answered after 2h;
    // answered after 5h (breached); never answered (breached, open).
    let mut one = p3(11);
    one.run(&msp(), Command::Claim, local("2026-12-01T10:00"))
        .run(&msp(), status(Status::Resolved), local("2026-12-01T12:00"));
    let mut two = p3(12);
    two.run(&msp(), Command::Claim, local("2026-12-01T11:00"));
    let mut five = p3(13);
    five.run(&msp(), Command::Claim, local("2026-12-01T15:00"));
    let silent = p3(14);
    // The company's P3, cancelled by the requester an hour in.
    let mut printer = Story::create(15, "printer jammed", Priority::P3, tuesday);
    printer.run(
        &requester(),
        Command::Cancel { reason: None },
        local("2026-12-01T10:00"),
    );
    // A history with a gap cannot be read.
    let mut gap = p3(16);
    gap.events[1].seq = 3;

    let tasks = [one, two, five, silent, printer, gap]
        .into_iter()
        .map(|s| (s.task, s.events));
    let report = report(tasks, &targets(), &office(), now);

    assert_eq!(report.unreadable, vec![TaskId::new(acme(), 16)]);
    assert_eq!(report.rows.len(), 2);
    let msp_row = report.row(Side::Msp, Priority::P3).unwrap();
    assert_eq!(msp_row.tasks, 4);
    let first = &msp_row.first_response;
    assert_eq!(first.measured, 3);
    // The silent task's breach counts with its running time (11h30m of
    // business time by Wednesday noon): [1h, 2h, 5h, 11h30m].
    assert_eq!(first.median, Some(hours(2))); // rank ceil(2.0) = 2
    assert_eq!(first.p90, Some(hours(11) + mins(30))); // rank ceil(3.6) = 4
    assert_eq!((first.within_target, first.breached), (2, 2));
    assert_eq!(first.breached_open, 1, "the silent task, never answered");
    assert_eq!(first.share_within_target(), Some(0.5));
    let resolution = &msp_row.resolution;
    assert_eq!(resolution.measured, 1);
    assert_eq!(resolution.median, Some(hours(3)));
    assert_eq!(resolution.p90, Some(hours(3)));
    assert_eq!((resolution.within_target, resolution.breached), (1, 0));
    assert_eq!(resolution.share_within_target(), Some(1.0));
    assert_eq!(msp_row.waiting_on_other_side, SignedDuration::ZERO);

    let internal = report.row(Side::Internal, Priority::P3).unwrap();
    assert_eq!(internal.tasks, 1);
    assert_eq!(internal.first_response.measured, 0);
    assert_eq!(internal.first_response.share_within_target(), None);
    assert_eq!(internal.resolution, Figures::default(), "cancelled");
}

// SLA warnings and breaches as events (issue 6), with a manual clock.
mod alerts;
