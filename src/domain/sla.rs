//! SLA clocks: whose move it was over time, and how much business time each
//! side has used against its targets. Everything is derived from a task's
//! events alone, with `now` passed in.
//!
//! # The rules
//!
//! **Whose move.** After each event the task is folded one more step
//! (`Task::apply`) and the holder is read with the rules of
//! [`Task::whose_move`]: new, claimed or in progress → the handling side;
//! waiting on the other side → the other side; waiting on the requester →
//! [`Holder::Requester`]; resolved, closed or cancelled → [`Holder::Nobody`].
//! A pending or refused approval does not move the ball (as in
//! `whose_move`): the MSP's clock runs while it waits for the company's IT
//! to approve.
//!
//! **When a clock runs.** A side's clock runs only during the stretches in
//! which the ball is in its court (`Holder::Side(side)`), and only for the
//! business time of the calendar within those stretches (all of it for a
//! priority that is counted around the clock). Waiting on the requester, on
//! the other side, or a finished task charge nobody. A task handed back and
//! forth accumulates per side.
//!
//! **First response.** A side's first-response clock starts when it first
//! becomes the handling side (at creation, or at the first handoff to it)
//! and stops at the first *response*: an event made by a person (not Ponte)
//! while that side is the handling side, of one of these kinds:
//! `Claimed`, `Assigned`, or `StatusChanged` to in progress, waiting on the
//! requester, waiting on the other side or resolved. Only the handling
//! side's staff may do these (see `permission::authorize`), so the event
//! itself says who responded without a directory of people. Comments do not
//! count: a shared comment may come from either side or the requester, and
//! the domain does not know a person's side. A status change to closed or
//! cancelled does not count either (the requester and the IT manager may do
//! those). A handoff is not a response: the clock just stops running while
//! the other side holds the task and resumes if it comes back. Each side
//! responds once; a later handoff back to it does not restart its clock.
//!
//! **Resolution.** A side's resolution clock counts all its stretches and
//! stops when the task is resolved, closed or cancelled (a reopen resumes
//! it). Targets are those of the task's current priority.
//!
//! **State.** `Breached` once elapsed exceeds the target (a response exactly
//! at the deadline is within target); `AtRisk` when a clock that has not
//! stopped has used at least `at_risk_percent` of its target; `Ok`
//! otherwise. `breach_at` is the instant the elapsed time reached (or, if
//! the clock keeps running, will reach) the target.
//!
//! # Where
//!
//! [`timeline`] (whose move over time), [`clocks`] (first response and resolution per
//! side) and [`report`] (per side and priority, percentiles by [`nearest_rank`]) read
//! a history; [`clocks_of`] and [`report_of`] compute the same from a snapshot alone
//! (its `Task::facts`), which is what digests and `ponte report` use. A property test
//! checks the two agree.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::calendar::BusinessCalendar;
use super::event::{Event, EventKind, Who};
use super::ids::TaskId;
use super::people::Side;
use super::task::{FoldError, Priority, Status, Task};

/// Who has to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    Side(Side),
    Requester,
    Nobody,
}

impl Holder {
    /// The holder of a task as it stands, by the rules of `Task::whose_move`.
    pub fn of(task: &Task) -> Holder {
        match task.whose_move() {
            Some(side) => Holder::Side(side),
            None if task.status == Status::WaitingOnRequester => Holder::Requester,
            None => Holder::Nobody,
        }
    }
}

/// A stretch of time with one holder. `to` is `None` for the stretch that
/// is still going on. `handling` is the side the task was with (the holder
/// differs from it while waiting on the other side or the requester).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub from: Timestamp,
    pub to: Option<Timestamp>,
    pub holder: Holder,
    pub handling: Side,
}

/// Whose move it was over time: consecutive stretches, each starting where
/// the previous one ends, never empty, and never two in a row with the same
/// holder and handling side. A history that does not fold gives the
/// stretches up to the first event that does not apply (none without a
/// creation); [`clocks`] reports such a history as an error instead.
pub fn timeline(events: &[Event]) -> Vec<Stretch> {
    let Some((first, rest)) = events.split_first() else {
        return Vec::new();
    };
    let Ok(mut task) = Task::fold([first]) else {
        return Vec::new();
    };
    for event in rest {
        if task.apply(event).is_err() {
            break;
        }
    }
    task.facts.stretches()
}

/// What the walk through a history collects: how the timeline was computed
/// before the fold kept it in `Task::facts`, kept as the tests' oracle.
#[cfg(test)]
struct Walk {
    task: Task,
    stretches: Vec<Stretch>,
    /// When each side (by `Side as usize`) first responded.
    responded: [Option<Timestamp>; 2],
}

#[cfg(test)]
pub(crate) fn walk_timeline(events: &[Event]) -> Vec<Stretch> {
    walk(events, true).map(|w| w.stretches).unwrap_or_default()
}

#[cfg(test)]
fn walk(events: &[Event], lenient: bool) -> Result<Walk, FoldError> {
    let (first, rest) = events.split_first().ok_or(FoldError::NoCreation)?;
    let mut task = Task::fold([first])?;
    let mut walk = Walk {
        stretches: Vec::new(),
        responded: [None; 2],
        task: task.clone(),
    };
    push(&mut walk.stretches, first.at, &task);
    for event in rest {
        let handling = task.handling_side;
        if let Err(e) = task.apply(event) {
            if lenient {
                break;
            }
            return Err(e);
        }
        if is_response(event) && walk.responded[handling as usize].is_none() {
            walk.responded[handling as usize] = Some(event.at);
        }
        push(&mut walk.stretches, event.at, &task);
    }
    walk.task = task;
    Ok(walk)
}

/// Whether an event is a response of the side handling the task (see the
/// module documentation).
pub fn is_response(event: &Event) -> bool {
    if !matches!(event.by, Who::Person(_)) {
        return false;
    }
    match &event.kind {
        EventKind::Claimed { .. } | EventKind::Assigned { .. } => true,
        EventKind::StatusChanged { to, .. } => matches!(
            to,
            Status::InProgress
                | Status::WaitingOnRequester
                | Status::WaitingOnOtherSide
                | Status::Resolved
        ),
        _ => false,
    }
}

#[cfg(test)]
fn push(stretches: &mut Vec<Stretch>, at: Timestamp, task: &Task) {
    let holder = Holder::of(task);
    let handling = task.handling_side;
    let same = |s: &Stretch| s.holder == holder && s.handling == handling;
    let Some(last) = stretches.last_mut() else {
        stretches.push(Stretch {
            from: at,
            to: None,
            holder,
            handling,
        });
        return;
    };
    if same(last) {
        return;
    }
    // Events are in sequence order; an instant earlier than the last one
    // (a clock skew between writers) counts as the same instant.
    let at = at.max(last.from);
    if last.from == at {
        // The last stretch did not last: replace it, or resume the one
        // before it if that had the same holder.
        stretches.pop();
        if let Some(prev) = stretches.last_mut().filter(|p| same(p)) {
            prev.to = None;
            return;
        }
    } else {
        last.to = Some(at);
    }
    stretches.push(Stretch {
        from: at,
        to: None,
        holder,
        handling,
    });
}

/// Targets per priority (index 0 is P1), and the share of a target after
/// which a running clock is at risk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaTargets {
    pub first_response: [SignedDuration; 4],
    pub resolution: [SignedDuration; 4],
    /// Priorities counted around the clock instead of in business hours.
    pub around_the_clock: [bool; 4],
    /// A clock at or above this percentage of its target is at risk.
    pub at_risk_percent: u32,
}

impl SlaTargets {
    pub fn first_response_for(&self, priority: Priority) -> SignedDuration {
        self.first_response[priority as usize]
    }

    pub fn resolution_for(&self, priority: Priority) -> SignedDuration {
        self.resolution[priority as usize]
    }

    pub fn is_around_the_clock(&self, priority: Priority) -> bool {
        self.around_the_clock[priority as usize]
    }
}

/// How a clock stands against its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClockState {
    Ok,
    AtRisk,
    Breached,
}

/// One clock of one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub target: SignedDuration,
    /// Business time charged to the side so far.
    pub elapsed: SignedDuration,
    /// `target - elapsed`; negative once breached.
    pub remaining: SignedDuration,
    /// `elapsed / target` in whole percent, rounded down (may exceed 100).
    pub percent_used: u32,
    pub state: ClockState,
    /// The ball is in this side's court now and the clock has not stopped.
    pub running: bool,
    /// When the clock stopped for good (the response; the resolution).
    pub stopped_at: Option<Timestamp>,
    /// When elapsed reached the target: in the past if breached, in the
    /// future if the clock is running and nothing changes; `None` when it
    /// has not been reached and the clock is not running.
    pub breach_at: Option<Timestamp>,
}

impl Clock {
    /// Stopped with elapsed within the target.
    pub fn met(&self) -> bool {
        self.stopped_at.is_some() && self.elapsed <= self.target
    }
}

/// The clocks of one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideSla {
    pub side: Side,
    /// The side was the handling side at some point (otherwise it only held
    /// the ball while the handling side waited on it).
    pub handled: bool,
    /// `Some` for a side that handled the task.
    pub first_response: Option<Clock>,
    pub resolution: Clock,
    /// Business time the task spent with this side as handling side while
    /// the ball was with the other side.
    pub waiting_on_other_side: SignedDuration,
    /// Business time the task spent with this side as handling side while
    /// the ball was with the requester.
    pub waiting_on_requester: SignedDuration,
}

/// The SLA figures of one task at `now`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaStatus {
    pub task: TaskId,
    pub priority: Priority,
    pub status: Status,
    pub around_the_clock: bool,
    pub holder: Holder,
    /// The sides that handled or held the task, in `Side::ALL` order.
    pub sides: Vec<SideSla>,
}

impl SlaStatus {
    pub fn side(&self, side: Side) -> Option<&SideSla> {
        self.sides.iter().find(|s| s.side == side)
    }
}

/// The SLA clocks of a task at `now`, from its events. Business time is
/// measured with `calendar`, or around the clock in its time zone when the
/// targets say so for the task's priority. The same as [`clocks_of`] the
/// fold of `events`.
pub fn clocks(
    events: &[Event],
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<SlaStatus, FoldError> {
    Task::fold(events).map(|task| clocks_of(&task, targets, calendar, now))
}

/// The SLA clocks of a task at `now`, from its snapshot alone: whose move
/// it was and when each side responded are kept in `task.facts` by the
/// fold; business time is measured now, with `calendar`.
pub fn clocks_of(
    task: &Task,
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> SlaStatus {
    let stretches = task.facts.stretches();
    measure_clocks(
        task,
        &stretches,
        task.facts.responded,
        None,
        targets,
        calendar,
        now,
    )
}

/// The clocks of one side of [`clocks_of`] (`None` when that side never
/// handled or held the task), without measuring the other side's.
pub fn side_clocks_of(
    task: &Task,
    side: Side,
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Option<SideSla> {
    let stretches = task.facts.stretches();
    measure_clocks(
        task,
        &stretches,
        task.facts.responded,
        Some(side),
        targets,
        calendar,
        now,
    )
    .sides
    .pop()
}

/// [`clocks`] the way it was computed before the snapshot kept the facts:
/// walking the history. The oracle of the tests that snapshots and
/// histories give the same clocks.
#[cfg(test)]
pub(crate) fn clocks_from_history(
    events: &[Event],
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<SlaStatus, FoldError> {
    let walk = walk(events, false)?;
    Ok(measure_clocks(
        &walk.task,
        &walk.stretches,
        walk.responded,
        None,
        targets,
        calendar,
        now,
    ))
}

fn measure_clocks(
    task: &Task,
    stretches: &[Stretch],
    responded: [Option<Timestamp>; 2],
    only: Option<Side>,
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> SlaStatus {
    let priority = task.priority;
    let around = targets.is_around_the_clock(priority);
    let always;
    let cal = if around {
        always = BusinessCalendar::around_the_clock(calendar.tz().clone());
        &always
    } else {
        calendar
    };
    let holder = stretches.last().map_or(Holder::Nobody, |s| s.holder);
    let open = !matches!(holder, Holder::Nobody);
    let resolved_at = stretches
        .last()
        .filter(|s| s.holder == Holder::Nobody)
        .map(|s| s.from);
    let measure = Measure {
        cal,
        stretches,
        now,
        at_risk_percent: targets.at_risk_percent,
        open,
        measured: Default::default(),
    };
    let mut sides = Vec::new();
    for side in Side::ALL
        .into_iter()
        .filter(|s| only.is_none_or(|o| o == *s))
    {
        let handled_from = stretches
            .iter()
            .find(|s| s.handling == side)
            .map(|s| s.from);
        let held = stretches.iter().any(|s| s.holder == Holder::Side(side));
        if handled_from.is_none() && !held {
            continue;
        }
        let first_response = handled_from.map(|start| {
            measure.clock(
                side,
                start,
                responded[side as usize],
                targets.first_response_for(priority),
            )
        });
        let resolution = measure.clock(
            side,
            Timestamp::MIN,
            resolved_at,
            targets.resolution_for(priority),
        );
        let waiting = |h: Holder| {
            stretches
                .iter()
                .filter(|s| s.handling == side && s.holder == h)
                .map(|s| measure.business(s.from, s.to.unwrap_or(now)))
                .sum()
        };
        sides.push(SideSla {
            side,
            handled: handled_from.is_some(),
            first_response,
            resolution,
            waiting_on_other_side: waiting(Holder::Side(side.other())),
            waiting_on_requester: waiting(Holder::Requester),
        });
    }
    SlaStatus {
        task: task.id.clone(),
        priority,
        status: task.status,
        around_the_clock: around,
        holder,
        sides,
    }
}

struct Measure<'a> {
    cal: &'a BusinessCalendar,
    stretches: &'a [Stretch],
    now: Timestamp,
    at_risk_percent: u32,
    open: bool,
    /// The business durations measured so far (from, to, duration): the
    /// clocks of a task often measure the same span (a task held by one
    /// side since its creation and not yet answered: first response and
    /// resolution both run from creation to now), and a span of months
    /// costs a walk of its days around each change of the time zone's
    /// offset.
    measured: std::cell::RefCell<Vec<(Timestamp, Timestamp, SignedDuration)>>,
}

impl Measure<'_> {
    fn business(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let to = to.min(self.now);
        if to <= from {
            return SignedDuration::ZERO;
        }
        self.duration(from, to)
    }

    /// `cal.business_duration(from, to)`, measured once per span.
    fn duration(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let mut measured = self.measured.borrow_mut();
        if let Some(&(_, _, d)) = measured.iter().find(|(f, t, _)| *f == from && *t == to) {
            return d;
        }
        let d = self.cal.business_duration(from, to);
        measured.push((from, to, d));
        d
    }

    /// The clock of `side` counting its stretches from `start` until `stop`
    /// (or now).
    fn clock(
        &self,
        side: Side,
        start: Timestamp,
        stop: Option<Timestamp>,
        target: SignedDuration,
    ) -> Clock {
        let end = stop.map_or(self.now, |s| s.min(self.now));
        let mut elapsed = SignedDuration::ZERO;
        let mut reached = None;
        for s in self.stretches {
            if s.holder != Holder::Side(side) {
                continue;
            }
            let from = s.from.max(start);
            let to = s.to.unwrap_or(self.now).min(end);
            if to <= from {
                continue;
            }
            let len = self.duration(from, to);
            if reached.is_none() && elapsed + len > target {
                reached = Some(self.cal.add_business(from, target - elapsed));
            }
            elapsed += len;
        }
        let running = stop.is_none()
            && self
                .stretches
                .last()
                .is_some_and(|s| s.holder == Holder::Side(side));
        let breach_at =
            reached.or_else(|| running.then(|| self.cal.add_business(self.now, target - elapsed)));
        let percent_used = percent(elapsed, target);
        let state = if elapsed > target {
            ClockState::Breached
        } else if stop.is_none() && self.open && percent_used >= self.at_risk_percent {
            ClockState::AtRisk
        } else {
            ClockState::Ok
        };
        Clock {
            target,
            elapsed,
            remaining: target - elapsed,
            percent_used,
            state,
            running,
            stopped_at: stop,
            breach_at,
        }
    }
}

/// `part / whole` in whole percent, rounded down; a zero target is used up
/// at once (100%).
fn percent(part: SignedDuration, whole: SignedDuration) -> u32 {
    if whole <= SignedDuration::ZERO {
        return 100;
    }
    let p = part.as_nanos().max(0) * 100 / whole.as_nanos();
    u32::try_from(p).unwrap_or(u32::MAX)
}

/// The nearest-rank percentile of ascending `sorted` values: the smallest
/// value such that at least `p` percent of the values are at or below it,
/// i.e. the value at rank `ceil(p/100 × n)` (1-based, at least 1). The
/// median is `p = 50` (the lower middle value for an even count). `None`
/// for no values.
pub fn nearest_rank(sorted: &[SignedDuration], p: u32) -> Option<SignedDuration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Figures of one kind of clock (first response or resolution).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Clocks that stopped: responded, or resolved (cancelled tasks are
    /// not resolutions and are left out of resolution figures).
    pub measured: usize,
    /// Nearest-rank median and 90th percentile of the measured clocks and
    /// of the breached ones still running (their time so far: a breach
    /// never answered counts with its running time, not as nothing).
    pub median: Option<SignedDuration>,
    pub p90: Option<SignedDuration>,
    /// Measured clocks within their target.
    pub within_target: usize,
    /// Clocks over their target, stopped or still open.
    pub breached: usize,
    /// Of `breached`, the clocks still running: never answered (first
    /// response) or never resolved.
    pub breached_open: usize,
}

impl Figures {
    /// Within target over all decided clocks (measured, or breached while
    /// still open), from 0 to 1; `None` when nothing is decided yet.
    pub fn share_within_target(&self) -> Option<f64> {
        let decided = self.within_target + self.breached;
        (decided > 0).then(|| self.within_target as f64 / decided as f64)
    }
}

/// The figures of one side for one priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    pub side: Side,
    pub priority: Priority,
    /// Tasks this side handled at some point.
    pub tasks: usize,
    pub first_response: Figures,
    pub resolution: Figures,
    /// Total business time these tasks waited on the other side.
    pub waiting_on_other_side: SignedDuration,
    /// Total business time these tasks waited on the requester.
    pub waiting_on_requester: SignedDuration,
}

/// SLA figures per side and priority.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One row per side and (current) priority with at least one task, in
    /// side then priority order.
    pub rows: Vec<ReportRow>,
    /// Tasks whose history does not fold; left out of the figures.
    pub unreadable: Vec<TaskId>,
}

impl Report {
    pub fn row(&self, side: Side, priority: Priority) -> Option<&ReportRow> {
        self.rows
            .iter()
            .find(|r| r.side == side && r.priority == priority)
    }
}

#[derive(Default)]
struct Acc {
    tasks: usize,
    first: Vec<Clock>,
    resolution: Vec<Clock>,
    waiting_other: SignedDuration,
    waiting_requester: SignedDuration,
}

/// Aggregates the SLA figures of `tasks` (each with its history) at `now`.
/// A side counts a task if it handled it; its clocks are those of
/// [`clocks`].
pub fn report(
    tasks: impl Iterator<Item = (Task, Vec<Event>)>,
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Report {
    aggregate(
        tasks.map(|(task, events)| clocks(&events, targets, calendar, now).map_err(|_| task.id)),
    )
}

/// [`report`] from snapshots alone (their facts stand for the histories:
/// a snapshot is the fold of its events, so nothing is unreadable).
pub fn report_of(
    tasks: impl Iterator<Item = Task>,
    targets: &SlaTargets,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Report {
    aggregate(tasks.map(|task| Ok(clocks_of(&task, targets, calendar, now))))
}

fn aggregate(statuses: impl Iterator<Item = Result<SlaStatus, TaskId>>) -> Report {
    let mut groups: BTreeMap<(Side, Priority), Acc> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for status in statuses {
        let status = match status {
            Ok(status) => status,
            Err(id) => {
                unreadable.push(id);
                continue;
            }
        };
        for side in status.sides.iter().filter(|s| s.handled) {
            let acc = groups.entry((side.side, status.priority)).or_default();
            acc.tasks += 1;
            acc.first.extend(side.first_response);
            if status.status != Status::Cancelled {
                acc.resolution.push(side.resolution);
            }
            acc.waiting_other += side.waiting_on_other_side;
            acc.waiting_requester += side.waiting_on_requester;
        }
    }
    let rows = groups
        .into_iter()
        .map(|((side, priority), acc)| ReportRow {
            side,
            priority,
            tasks: acc.tasks,
            first_response: figures(&acc.first),
            resolution: figures(&acc.resolution),
            waiting_on_other_side: acc.waiting_other,
            waiting_on_requester: acc.waiting_requester,
        })
        .collect();
    Report { rows, unreadable }
}

fn figures(clocks: &[Clock]) -> Figures {
    let breached_open = |c: &&Clock| c.stopped_at.is_none() && c.state == ClockState::Breached;
    let stopped = clocks.iter().filter(|c| c.stopped_at.is_some()).count();
    let mut times: Vec<SignedDuration> = clocks
        .iter()
        .filter(|c| c.stopped_at.is_some() || breached_open(c))
        .map(|c| c.elapsed)
        .collect();
    times.sort();
    Figures {
        measured: stopped,
        median: nearest_rank(&times, 50),
        p90: nearest_rank(&times, 90),
        within_target: clocks.iter().filter(|c| c.met()).count(),
        breached: clocks
            .iter()
            .filter(|c| c.state == ClockState::Breached)
            .count(),
        breached_open: clocks.iter().filter(breached_open).count(),
    }
}

mod alerts;
pub use alerts::{
    AlertLevel, SlaAlert, SlaClock, SlaPlan, next_sla_moment, recorded, sla_alerts, threshold,
};

#[cfg(test)]
mod tests;
