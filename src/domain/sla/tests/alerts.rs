//! SLA warnings and breaches (issue 6) driven with a manual clock: the
//! clock jumps from one `next_sla_moment` to the next, like the SLA timer
//! in the sandbox, and each due alert is recorded through `decide`.

use super::*;
use crate::domain::sla::{AlertLevel, SlaClock, next_sla_moment, sla_alerts, threshold};

/// What was recorded: local time in Rome, side, clock, level.
type Seen = (String, Side, SlaClock, AlertLevel);

fn wall(at: Timestamp) -> String {
    rome()
        .to_datetime(at)
        .strftime("%a %Y-%m-%d %H:%M:%S")
        .to_string()
}

impl Story {
    /// Plays the SLA timer from `from` until just before `until`: at each
    /// moment, records the due alerts (as Ponte would) and jumps to the
    /// next moment.
    fn timer(&mut self, from: Timestamp, until: Timestamp) -> Vec<Seen> {
        let mut seen = Vec::new();
        let mut now = from;
        loop {
            let plan = sla_alerts(&self.events, &targets(), &office(), now);
            if !plan.due.is_empty() {
                for a in &plan.due {
                    seen.push((wall(now), a.side, a.clock, a.level));
                }
                let command = Command::RecordSla {
                    as_of: self.task.version,
                    alerts: plan.due,
                    pages: Vec::new(),
                };
                self.run(&msp(), command, now);
                // Recorded once: asked again at the same instant, nothing.
                assert!(
                    sla_alerts(&self.events, &targets(), &office(), now)
                        .due
                        .is_empty()
                );
            }
            match next_sla_moment(&self.events, &targets(), &office(), now) {
                Some(next) if next < until => {
                    assert!(next > now, "the timer must move on: {}", wall(now));
                    now = next;
                }
                _ => return seen,
            }
        }
    }
}

fn seen(at: &str, side: Side, clock: SlaClock, level: AlertLevel) -> Seen {
    (at.to_owned(), side, clock, level)
}

use AlertLevel::{Breach, Warning};
use SlaClock::{FirstResponse, Resolution};

#[test]
fn warning_threshold_is_the_least_whole_second_at_the_percentage() {
    assert_eq!(threshold(hours(1), 75), mins(45));
    assert_eq!(threshold(hours(8), 75), hours(6));
    assert_eq!(
        threshold(SignedDuration::from_secs(10), 75),
        SignedDuration::from_secs(8)
    );
    assert_eq!(threshold(mins(30), 100), mins(30));
}

#[test]
fn a_p2_across_a_weekend_is_warned_at_75_percent_and_breached_on_monday() {
    // Friday 2026-12-04 17:30: first response 1h, resolution 8h.
    let friday = local("2026-12-04T17:30");
    let mut story = Story::create(21, "vpn down", Priority::P2, friday);
    assert_eq!(
        next_sla_moment(&story.events, &targets(), &office(), friday),
        Some(local("2026-12-07T08:45")),
        "45 business minutes: 30 on Friday, 15 on Monday"
    );
    let got = story.timer(friday, local("2026-12-08T00:00"));
    assert_eq!(
        got,
        vec![
            seen("Mon 2026-12-07 08:45:00", Side::Msp, FirstResponse, Warning),
            seen("Mon 2026-12-07 09:00:01", Side::Msp, FirstResponse, Breach),
            // 30m Friday + 4h + 1h30m Monday = 6h (75% of 8h).
            seen("Mon 2026-12-07 15:00:00", Side::Msp, Resolution, Warning),
            seen("Mon 2026-12-07 17:00:01", Side::Msp, Resolution, Breach),
        ]
    );
    // Everything alerted: nothing more, ever.
    assert_eq!(
        next_sla_moment(
            &story.events,
            &targets(),
            &office(),
            local("2026-12-09T10:00")
        ),
        None
    );
    // The events say what the digest says.
    let status = story.clocks(local("2026-12-07T17:00:01"));
    let msp_ = status.side(Side::Msp).unwrap();
    assert_eq!(msp_.first_response.unwrap().state, ClockState::Breached);
    assert_eq!(msp_.resolution.state, ClockState::Breached);
    let at_warning = story.clocks(local("2026-12-07T08:45"));
    assert_eq!(
        at_warning
            .side(Side::Msp)
            .unwrap()
            .first_response
            .unwrap()
            .state,
        ClockState::AtRisk
    );
}

#[test]
fn a_holiday_is_skipped_by_the_warning() {
    // Monday 2026-12-07 17:00, a P3 (first response 4h); Tuesday is a holiday.
    let monday = local("2026-12-07T17:00");
    let mut story = Story::create(22, "vpn down", Priority::P3, monday);
    let got = story.timer(monday, local("2026-12-09T12:00"));
    assert_eq!(
        got,
        vec![
            // 1h Monday + 2h Wednesday = 3h (75% of 4h).
            seen("Wed 2026-12-09 10:30:00", Side::Msp, FirstResponse, Warning),
            seen("Wed 2026-12-09 11:30:01", Side::Msp, FirstResponse, Breach),
        ]
    );
}

#[test]
fn the_warning_follows_the_dst_change_in_rome() {
    // Friday 2026-03-27 17:30 CET; Monday 08:45 is CEST (UTC+2).
    let friday = local("2026-03-27T17:30");
    let story = Story::create(23, "vpn down", Priority::P2, friday);
    assert_eq!(
        next_sla_moment(&story.events, &targets(), &office(), friday),
        Some("2026-03-30T06:45:00Z".parse().unwrap())
    );
    // A P1 around the clock through the night the clocks go back: 30m
    // first response, warned after 22m30s of real time.
    let night = local("2026-10-25T02:50"); // CEST, before the change
    let mut p1 = Story::create(24, "site down", Priority::P1, night);
    let side = p1.task.handling_side;
    let got = p1.timer(night, night.checked_add(hours(2)).unwrap());
    // 02:50 CEST + 10m is 02:00 CET; 12m30s later is 02:12:30 CET.
    assert_eq!(
        got[0],
        seen("Sun 2026-10-25 02:12:30", side, FirstResponse, Warning)
    );
    assert_eq!(
        got[1],
        seen("Sun 2026-10-25 02:20:01", side, FirstResponse, Breach)
    );
}

#[test]
fn no_alert_while_waiting_on_the_requester() {
    // Tuesday 2026-12-01 09:00, a P3 (resolution 17h, warned at 12h45m).
    let start = local("2026-12-01T09:00");
    let mut story = Story::create(25, "vpn down", Priority::P3, start);
    story
        .run(&msp(), Command::Claim, local("2026-12-01T09:30"))
        .run(
            &msp(),
            status(Status::WaitingOnRequester),
            local("2026-12-01T10:00"),
        );
    // Waiting on the requester: no clock of the MSP runs.
    let waiting = local("2026-12-01T11:00");
    assert!(story.timer(local("2026-12-01T10:00"), waiting).is_empty());
    assert_eq!(
        next_sla_moment(&story.events, &targets(), &office(), waiting),
        None
    );
    story.run(
        &msp(),
        status(Status::InProgress),
        local("2026-12-02T09:00"),
    );
    // 1h Tuesday; Wednesday 09:00-18:00 is 8h; Thursday from 08:30 3h45m.
    let got = story.timer(local("2026-12-02T09:00"), local("2026-12-04T00:00"));
    assert_eq!(
        got,
        vec![
            seen("Thu 2026-12-03 12:15:00", Side::Msp, Resolution, Warning),
            // 17h: 4h15m more, across the lunch break.
            seen("Thu 2026-12-03 17:30:01", Side::Msp, Resolution, Breach),
        ]
    );
}

#[test]
fn a_task_handed_back_and_forth_warns_each_side_on_its_own_clock() {
    // Tuesday 2026-12-01 09:00, a printer (P3, first response 4h): the
    // company's IT first, nobody answers.
    let start = local("2026-12-01T09:00");
    let mut story = Story::create(26, "printer jammed", Priority::P3, start);
    assert_eq!(story.task.handling_side, Side::Internal);
    let handoff = || Command::Handoff { reason: None };
    let mut got = story.timer(start, local("2026-12-01T11:00"));
    story
        .run(&it_manager(), handoff(), local("2026-12-01T11:00"))
        .run(&it_manager(), Command::Approve, local("2026-12-01T11:00"));
    got.extend(story.timer(local("2026-12-01T11:00"), local("2026-12-01T14:00")));
    story.run(&msp(), handoff(), local("2026-12-01T14:00"));
    got.extend(story.timer(local("2026-12-01T14:00"), local("2026-12-01T16:30")));
    story
        .run(&it_manager(), handoff(), local("2026-12-01T16:30"))
        .run(&it_manager(), Command::Approve, local("2026-12-01T16:30"));
    got.extend(story.timer(local("2026-12-01T16:30"), local("2026-12-02T12:00")));
    assert_eq!(
        got,
        vec![
            // Internal IT: 2h until 11:00, then again from 14:00.
            seen(
                "Tue 2026-12-01 15:00:00",
                Side::Internal,
                FirstResponse,
                Warning
            ),
            seen(
                "Tue 2026-12-01 16:00:01",
                Side::Internal,
                FirstResponse,
                Breach
            ),
            // The MSP: 11:00-12:30 and 13:30-14:00 (2h), then from 16:30:
            // 3h30m at Tuesday's closing, 4h at 09:00 on Wednesday.
            seen("Tue 2026-12-01 17:30:00", Side::Msp, FirstResponse, Warning),
            seen("Wed 2026-12-02 09:00:01", Side::Msp, FirstResponse, Breach),
        ]
    );
}

#[test]
fn after_an_outage_only_the_breach_is_recorded_and_a_finished_task_has_none() {
    let friday = local("2026-12-04T17:30");
    let mut story = Story::create(27, "vpn down", Priority::P2, friday);
    // Ponte was down all Monday morning: the warning's time has passed too.
    let late = local("2026-12-07T10:00");
    let plan = sla_alerts(&story.events, &targets(), &office(), late);
    assert_eq!(plan.due.len(), 1);
    assert_eq!(
        (plan.due[0].clock, plan.due[0].level),
        (FirstResponse, Breach)
    );
    assert_eq!(plan.due[0].breach_at, Some(local("2026-12-07T09:00")));
    assert_eq!(
        plan.due[0].key(&story.task.id),
        "sla:ACME-27:msp:first_response:breached"
    );
    // The resolution clock's warning is still ahead.
    assert_eq!(plan.next, Some(local("2026-12-07T15:00")));
    // Resolved: nothing to alert any more.
    story.run(&msp(), status(Status::Resolved), late);
    let done = sla_alerts(
        &story.events,
        &targets(),
        &office(),
        local("2026-12-08T10:00"),
    );
    assert!(done.due.is_empty() && done.next.is_none());
    // A stale plan is refused: the task changed since.
    let stale = Command::RecordSla {
        as_of: 2,
        alerts: plan.due,
        pages: Vec::new(),
    };
    assert!(decide(&story.task, &msp(), &stale, &rules(), late).is_err());
}

#[test]
fn the_side_waited_on_is_alerted_on_its_own_clock() {
    // Tuesday 2026-12-01 09:00, a P2 for the MSP (resolution 8h), which
    // answers at 09:15 and waits on the company's IT from 09:30.
    let start = local("2026-12-01T09:00");
    let mut story = Story::create(28, "vpn down", Priority::P2, start);
    assert_eq!(story.task.handling_side, Side::Msp);
    story
        .run(&msp(), Command::Claim, local("2026-12-01T09:15"))
        .run(
            &msp(),
            status(Status::WaitingOnOtherSide),
            local("2026-12-01T09:30"),
        );
    let got = story.timer(start, local("2026-12-02T12:00"));
    assert_eq!(
        got,
        vec![
            // The company's IT holds the ball: 09:30-12:30 and 13:30-16:30.
            seen(
                "Tue 2026-12-01 16:30:00",
                Side::Internal,
                Resolution,
                Warning
            ),
            // 7h30m on Tuesday, 30m on Wednesday.
            seen(
                "Wed 2026-12-02 09:00:01",
                Side::Internal,
                Resolution,
                Breach
            ),
        ]
    );
    // The same clocks the digest lists: the MSP's are not running.
    let status = story.clocks(local("2026-12-02T10:00"));
    let msp_ = status.side(Side::Msp).unwrap();
    assert_eq!(msp_.resolution.state, ClockState::Ok);
    assert!(!msp_.resolution.running);
    let it = status.side(Side::Internal).unwrap();
    assert!(!it.handled);
    assert_eq!(it.resolution.state, ClockState::Breached);
}
