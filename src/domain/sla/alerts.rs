//! SLA warnings and breaches as events (issue 6): which are due for a task
//! at `now`, and when the next one falls due.
//!
//! **What is alerted.** Exactly the clocks the digest lists as "at risk"
//! and "breached" (`digest::build`): for each side with clocks, its
//! first-response clock (a side that handled the task, until it responded)
//! and its resolution clock (while the task is open), including the side
//! that only held the ball while the handling side waited on it (its clock
//! runs while it is its move). A *warning* when the clock has used
//! `at_risk_percent` of its target, a *breach* when it has used more than
//! the target (a response exactly at the deadline is within target).
//!
//! **Once each.** Each (side, clock, level) is recorded at most once in a
//! task's history (`sla_warned`, `sla_breached`), whatever happens later
//! (a reopen, a priority change). A warning not recorded when the breach is
//! due is never recorded: the breach says more (after an outage Ponte posts
//! one message, not two).
//!
//! **When.** A clock only moves while it runs (the ball is in that side's
//! court, during the calendar's business time, or around the clock for a
//! 24/7 priority), so the next moment is computed from `now` with the same
//! calendar: the instant the elapsed time reaches the warning threshold, or
//! one second past the target for a breach. A change to the task (a
//! handoff, a response) changes the moments; the caller computes them again
//! after each change.
//!
//! **Where.** [`sla_alerts`] gives the alerts due now and not yet recorded, and when
//! the next falls due; [`next_sla_moment`] only the latter. Each [`SlaAlert`] (side,
//! [`SlaClock`], [`AlertLevel`]) has its event and its once-only key,
//! `sla:ACME-42:msp:first_response:warned`. Tests with a manual clock are in
//! `sla/tests/alerts.rs`.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{BusinessCalendar, Clock, ClockState, SlaTargets, clocks};
use crate::domain::event::{Event, EventKind};
use crate::domain::people::Side;

/// Which SLA clock of a side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaClock {
    FirstResponse,
    Resolution,
}

impl SlaClock {
    pub const ALL: [SlaClock; 2] = [SlaClock::FirstResponse, SlaClock::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaClock::FirstResponse => "first_response",
            SlaClock::Resolution => "resolution",
        }
    }
}

/// A warning or a breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    Warning,
    Breach,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warned",
            AlertLevel::Breach => "breached",
        }
    }
}

/// One alert to record (as an `sla_warned` / `sla_breached` event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaAlert {
    pub side: Side,
    pub clock: SlaClock,
    pub level: AlertLevel,
    /// Share of the target used when it was planned, in whole percent.
    pub percent: u32,
    /// The clock's target.
    pub target: SignedDuration,
    /// When the target is (or was) reached.
    pub breach_at: Option<Timestamp>,
}

impl SlaAlert {
    /// The once-only key of this alert of a task:
    /// `sla:ACME-42:msp:first_response:warned`.
    pub fn key(&self, task: &crate::domain::TaskId) -> String {
        format!(
            "sla:{task}:{}:{}:{}",
            self.side,
            self.clock.as_str(),
            self.level.as_str()
        )
    }

    /// The event that records this alert.
    pub fn event(&self) -> EventKind {
        match self.level {
            AlertLevel::Warning => EventKind::SlaWarned {
                side: self.side,
                clock: self.clock,
                percent: self.percent,
                target_minutes: minutes(self.target),
                breach_at: self.breach_at,
            },
            AlertLevel::Breach => EventKind::SlaBreached {
                side: self.side,
                clock: self.clock,
                target_minutes: minutes(self.target),
                breach_at: self.breach_at,
            },
        }
    }
}

fn minutes(d: SignedDuration) -> u32 {
    u32::try_from(d.as_secs().max(0) / 60).unwrap_or(u32::MAX)
}

/// The (side, clock, level) an event records, if it is an SLA alert.
pub fn recorded(kind: &EventKind) -> Option<(Side, SlaClock, AlertLevel)> {
    match kind {
        EventKind::SlaWarned { side, clock, .. } => Some((*side, *clock, AlertLevel::Warning)),
        EventKind::SlaBreached { side, clock, .. } => Some((*side, *clock, AlertLevel::Breach)),
        _ => None,
    }
}

/// What the SLA timer does for one task now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlaPlan {
    /// Alerts due at `now` and not recorded yet (side, then clock order).
    pub due: Vec<SlaAlert>,
    /// The next instant an alert not recorded yet falls due, if nothing
    /// changes the task before.
    pub next: Option<Timestamp>,
}

/// The alerts due for a task at `now` (from its history), and when the
/// next one falls due. A history that does not fold, or a finished task,
/// has none.
pub fn sla_alerts(
    events: &[Event],
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> SlaPlan {
    let Ok(status) = clocks(events, targets, calendar, now) else {
        return SlaPlan::default();
    };
    if status.status.is_final() {
        return SlaPlan::default();
    }
    let done: Vec<(Side, SlaClock, AlertLevel)> =
        events.iter().filter_map(|e| recorded(&e.kind)).collect();
    let around;
    let cal = if status.around_the_clock {
        around = BusinessCalendar::around_the_clock(calendar.tz().clone());
        &around
    } else {
        calendar
    };
    let mut plan = SlaPlan::default();
    for side in &status.sides {
        let mut each = Vec::new();
        if let Some(first) = side.first_response {
            each.push((SlaClock::FirstResponse, first));
        }
        each.push((SlaClock::Resolution, side.resolution));
        for (kind, clock) in each {
            if clock.stopped_at.is_some() {
                continue;
            }
            let has = |level| done.contains(&(side.side, kind, level));
            let breached = has(AlertLevel::Breach);
            let alert = |level| SlaAlert {
                side: side.side,
                clock: kind,
                level,
                percent: clock.percent_used,
                target: clock.target,
                breach_at: clock.breach_at,
            };
            if breached {
                continue;
            }
            if clock.state == ClockState::Breached {
                plan.due.push(alert(AlertLevel::Breach));
                continue;
            }
            let warn_due = clock.percent_used >= targets.at_risk_percent;
            if warn_due && !has(AlertLevel::Warning) {
                plan.due.push(alert(AlertLevel::Warning));
            }
            if !clock.running {
                continue;
            }
            let warned = warn_due || has(AlertLevel::Warning);
            let at = moment(cal, &clock, targets.at_risk_percent, warned, now);
            plan.next = Some(plan.next.map_or(at, |n| n.min(at)));
        }
    }
    plan
}

/// When a running clock next crosses a line: its warning threshold, or
/// (once warned) one second past its target.
fn moment(
    cal: &BusinessCalendar,
    clock: &Clock,
    percent: u32,
    warned: bool,
    now: Timestamp,
) -> Timestamp {
    let line = if warned {
        clock.target + SignedDuration::from_secs(1)
    } else {
        threshold(clock.target, percent)
    };
    let left = line - clock.elapsed;
    if left <= SignedDuration::ZERO {
        return now;
    }
    cal.add_business(now, left)
}

/// The least whole-second business time that is at least `percent` of
/// `target` (so the clock's `percent_used`, rounded down, reaches it).
pub fn threshold(target: SignedDuration, percent: u32) -> SignedDuration {
    let secs = i128::from(target.as_secs().max(0)) * i128::from(percent);
    let secs = (secs + 99) / 100;
    SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The next instant an SLA alert of the task falls due (see
/// [`sla_alerts`]); `None` when no clock of it is running toward one.
pub fn next_sla_moment(
    events: &[Event],
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Option<Timestamp> {
    let plan = sla_alerts(events, targets, calendar, now);
    if plan.due.is_empty() {
        plan.next
    } else {
        Some(now)
    }
}
