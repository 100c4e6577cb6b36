//! The digest's chart, as numbers: for each of the last [`CHART_DAYS`]
//! local days, the tasks opened and closed per handling side, and the SLA
//! attainment (the share of tasks resolved that day within their
//! resolution target). Pure: built from tasks and their events at `now`;
//! drawn elsewhere (`crate::app::chart`).
//!
//! Days are local days of the reader's time zone. A task counts as a
//! [`ChartTask`]: its snapshot, or its history when it changed after `now` (a
//! chart built as of an earlier time than the task's last change).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::calendar::BusinessCalendar;
use super::digest::Tracked;
use super::event::EventKind;
use super::people::Side;
use super::sla::{ClockState, SlaStatus, SlaTargets, clocks, clocks_of};
use super::task::{Status, Task};

/// What the chart reads of a task.
pub trait Counted {
    fn task(&self) -> &Task;
    /// When it last became finished and how, if it still is as of `now`
    /// (events after `now` are ignored).
    fn finished_as_of(&self, now: Timestamp) -> Option<(Timestamp, Status)>;
    /// Its SLA clocks at `now` (`None` for a history that does not fold).
    fn clocks(
        &self,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SlaStatus>;
}

impl Counted for Tracked {
    fn task(&self) -> &Task {
        &self.task
    }

    fn finished_as_of(&self, now: Timestamp) -> Option<(Timestamp, Status)> {
        let mut finished = None;
        for e in self.events.iter().filter(|e| e.at <= now) {
            match &e.kind {
                EventKind::StatusChanged { to, .. } => {
                    finished = (!to.is_open()).then_some((e.at, *to));
                }
                EventKind::Reopened { .. } => finished = None,
                _ => {}
            }
        }
        finished
    }

    fn clocks(
        &self,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SlaStatus> {
        clocks(&self.events, targets, calendar, now).ok()
    }
}

/// A task as the chart reads it: its snapshot, whose facts say all the
/// chart needs when no event of the task is later than `now`; otherwise
/// its history (a chart built as of an earlier time than the last change).
#[derive(Clone, Debug)]
pub enum ChartTask {
    Snapshot(Task),
    History(Tracked),
}

impl ChartTask {
    /// Whether the chart as of `now` needs the history of `task`.
    pub fn needs_history(task: &Task, now: Timestamp) -> bool {
        task.facts.latest_at(task.updated_at) > now
    }
}

impl Counted for ChartTask {
    fn task(&self) -> &Task {
        match self {
            ChartTask::Snapshot(task) => task,
            ChartTask::History(tracked) => &tracked.task,
        }
    }

    fn finished_as_of(&self, now: Timestamp) -> Option<(Timestamp, Status)> {
        match self {
            // Every event is at or before `now`: the fold's own answer.
            ChartTask::Snapshot(task) if !Self::needs_history(task, now) => task.facts.finish,
            // Not built that way (see `needs_history`); what the snapshot
            // knows as of `now`.
            ChartTask::Snapshot(task) => task.facts.finish.filter(|(at, _)| *at <= now),
            ChartTask::History(tracked) => tracked.finished_as_of(now),
        }
    }

    fn clocks(
        &self,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SlaStatus> {
        match self {
            ChartTask::Snapshot(task) => Some(clocks_of(task, targets, calendar, now)),
            ChartTask::History(tracked) => tracked.clocks(targets, calendar, now),
        }
    }
}

/// How many days a chart shows (today included).
pub const CHART_DAYS: usize = 14;

/// The index of a side in [`Day`]'s arrays.
pub fn side_index(side: Side) -> usize {
    match side {
        Side::Internal => 0,
        Side::Msp => 1,
    }
}

/// One local day of the chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Day {
    pub date: Option<Date>,
    /// Tasks created that day, by handling side (internal, MSP).
    pub opened: [u32; 2],
    /// Tasks that became resolved, closed or cancelled that day (and are
    /// still finished), by handling side.
    pub closed: [u32; 2],
    /// Of the tasks resolved or closed that day (not cancelled): how many
    /// had their resolution clock measured, and how many met it.
    pub measured: u32,
    pub met: u32,
}

impl Day {
    /// The share of measured tasks within target, in percent.
    pub fn attainment(&self) -> Option<u32> {
        (self.measured > 0).then(|| self.met * 100 / self.measured)
    }
}

/// The last [`CHART_DAYS`] days, oldest first; the last one is `now`'s day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartData {
    pub days: Vec<Day>,
}

impl ChartData {
    /// Empty days ending on `now`'s local date in `tz`.
    pub fn empty(tz: &TimeZone, now: Timestamp) -> ChartData {
        let today = tz.to_datetime(now).date();
        let mut days = Vec::with_capacity(CHART_DAYS);
        let mut date = Some(today);
        for _ in 0..CHART_DAYS {
            days.push(Day {
                date,
                ..Day::default()
            });
            date = date.and_then(|d| d.yesterday().ok());
        }
        days.reverse();
        ChartData { days }
    }

    fn day_mut(&mut self, tz: &TimeZone, at: Timestamp) -> Option<&mut Day> {
        let date = tz.to_datetime(at).date();
        self.days.iter_mut().find(|d| d.date == Some(date))
    }

    /// Counts `tasks` (of one client, with its SLA targets and calendar)
    /// into the days, in the time zone `tz` (the reader's). Events after
    /// `now` are ignored.
    pub fn add<'t, T: Counted + 't>(
        &mut self,
        tz: &TimeZone,
        now: Timestamp,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        tasks: impl IntoIterator<Item = &'t T>,
    ) {
        for tracked in tasks {
            let task = tracked.task();
            let side = side_index(task.handling_side);
            if task.created_at <= now {
                if let Some(day) = self.day_mut(tz, task.created_at) {
                    day.opened[side] += 1;
                }
            }
            // The last time it became finished, if it still is (as of now).
            let Some((at, to)) = tracked.finished_as_of(now) else {
                continue;
            };
            let measured = if to == Status::Cancelled {
                None
            } else {
                tracked.clocks(targets, calendar, now).and_then(|status| {
                    status
                        .side(task.handling_side)
                        .map(|s| s.resolution.state != ClockState::Breached)
                })
            };
            if let Some(day) = self.day_mut(tz, at) {
                day.closed[side] += 1;
                if let Some(met) = measured {
                    day.measured += 1;
                    day.met += u32::from(met);
                }
            }
        }
    }

    /// Nothing was opened or closed in the whole window.
    pub fn is_blank(&self) -> bool {
        self.days
            .iter()
            .all(|d| d.opened == [0, 0] && d.closed == [0, 0])
    }

    /// The highest count of one series on one day (for the scale).
    pub fn peak(&self) -> u32 {
        self.days
            .iter()
            .flat_map(|d| d.opened.iter().chain(d.closed.iter()))
            .copied()
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::domain::digest::tests::{Cast, Story, local, office, rome, targets};
    use crate::domain::{ClientKey, Command, Priority, SideChoice};

    fn acme() -> ClientKey {
        ClientKey::new("ACME").unwrap()
    }

    fn resolve() -> Command {
        Command::SetStatus {
            to: Status::Resolved,
            reason: None,
        }
    }

    fn chart(now: Timestamp, tasks: &[Tracked]) -> ChartData {
        let mut chart = ChartData::empty(&rome(), now);
        chart.add(&rome(), now, &targets(), &office(), tasks);
        chart
    }

    fn day(chart: &ChartData, d: Date) -> &Day {
        chart.days.iter().find(|x| x.date == Some(d)).unwrap()
    }

    #[test]
    fn fourteen_days_ending_today_oldest_first() {
        let now = local("2026-12-01T08:30");
        let chart = chart(now, &[]);
        assert_eq!(chart.days.len(), CHART_DAYS);
        assert_eq!(chart.days[0].date, Some(date(2026, 11, 18)));
        assert_eq!(chart.days[13].date, Some(date(2026, 12, 1)));
        assert!(chart.is_blank());
        assert_eq!(chart.peak(), 0);
        assert!(chart.days.iter().all(|d| d.attainment().is_none()));
    }

    #[test]
    fn counts_opened_and_closed_per_day_and_side_with_attainment() {
        let c = Cast::of(&acme(), 0);
        let msp = SideChoice::To(Side::Msp);
        let internal = SideChoice::To(Side::Internal);
        let tasks = vec![
            // MSP, P3 (17h resolution): opened and resolved the same day, in time.
            Story::create(
                &acme(),
                1,
                &c.requester,
                "a",
                msp,
                Priority::P3,
                local("2026-11-30T09:00"),
            )
            .run(&c.msp, Command::Claim, local("2026-11-30T09:10"))
            .run(&c.msp, resolve(), local("2026-11-30T11:00"))
            .0,
            // MSP, P1 (4h around the clock): opened on the 27th, resolved on the
            // 30th: breached.
            Story::create(
                &acme(),
                2,
                &c.requester,
                "b",
                msp,
                Priority::P1,
                local("2026-11-27T09:00"),
            )
            .run(&c.msp, Command::Claim, local("2026-11-27T09:10"))
            .run(&c.msp, resolve(), local("2026-11-30T10:00"))
            .0,
            // Internal, opened on the 30th, still open.
            Story::create(
                &acme(),
                3,
                &c.requester,
                "c",
                internal,
                Priority::P3,
                local("2026-11-30T15:00"),
            )
            .0,
            // Internal, cancelled on the 30th: closed, but not measured.
            Story::create(
                &acme(),
                4,
                &c.requester,
                "d",
                internal,
                Priority::P3,
                local("2026-11-25T15:00"),
            )
            .run(
                &c.requester,
                Command::SetStatus {
                    to: Status::Cancelled,
                    reason: None,
                },
                local("2026-11-30T16:00"),
            )
            .0,
            // Opened 20 days ago: outside the window.
            Story::create(
                &acme(),
                5,
                &c.requester,
                "e",
                msp,
                Priority::P3,
                local("2026-11-10T09:00"),
            )
            .0,
        ];
        let chart = chart(local("2026-12-01T08:30"), &tasks);
        let monday = day(&chart, date(2026, 11, 30));
        assert_eq!(monday.opened, [1, 1]);
        assert_eq!(monday.closed, [1, 2]);
        assert_eq!((monday.measured, monday.met), (2, 1));
        assert_eq!(monday.attainment(), Some(50));
        assert_eq!(day(&chart, date(2026, 11, 27)).opened, [0, 1]);
        assert_eq!(day(&chart, date(2026, 11, 25)).opened, [1, 0]);
        let total: u32 = chart.days.iter().map(|d| d.opened[0] + d.opened[1]).sum();
        assert_eq!(total, 4, "the task of 10 November is outside the window");
        assert_eq!(chart.peak(), 2);
        assert!(!chart.is_blank());
    }

    #[test]
    fn days_are_local_days_of_the_readers_time_zone() {
        let c = Cast::of(&acme(), 0);
        // 23:30 UTC on 30 November is 00:30 on 1 December in Rome.
        let late: Timestamp = "2026-11-30T23:30:00Z".parse().unwrap();
        let tasks = vec![
            Story::create(
                &acme(),
                1,
                &c.requester,
                "a",
                SideChoice::To(Side::Msp),
                Priority::P3,
                late,
            )
            .0,
        ];
        let now = local("2026-12-01T08:30");
        let in_rome = chart(now, &tasks);
        assert_eq!(day(&in_rome, date(2026, 12, 1)).opened, [0, 1]);
        assert_eq!(day(&in_rome, date(2026, 11, 30)).opened, [0, 0]);
        let mut in_utc = ChartData::empty(&TimeZone::UTC, now);
        in_utc.add(&TimeZone::UTC, now, &targets(), &office(), &tasks);
        assert_eq!(day(&in_utc, date(2026, 11, 30)).opened, [0, 1]);
        assert_eq!(day(&in_utc, date(2026, 12, 1)).opened, [0, 0]);
    }

    #[test]
    fn a_reopened_task_is_not_closed_and_later_events_are_ignored() {
        let c = Cast::of(&acme(), 0);
        let msp = SideChoice::To(Side::Msp);
        let tasks = vec![
            Story::create(
                &acme(),
                1,
                &c.requester,
                "a",
                msp,
                Priority::P3,
                local("2026-11-30T09:00"),
            )
            .run(&c.msp, Command::Claim, local("2026-11-30T09:10"))
            .run(&c.msp, resolve(), local("2026-11-30T10:00"))
            .run(
                &c.requester,
                Command::Reopen { reason: None },
                local("2026-11-30T11:00"),
            )
            .0,
            Story::create(
                &acme(),
                2,
                &c.requester,
                "b",
                msp,
                Priority::P3,
                local("2026-12-01T09:00"),
            )
            .0,
        ];
        let chart = chart(local("2026-12-01T08:30"), &tasks);
        assert!(chart.days.iter().all(|d| d.closed == [0, 0]));
        assert_eq!(day(&chart, date(2026, 11, 30)).opened, [0, 1]);
        assert_eq!(day(&chart, date(2026, 12, 1)).opened, [0, 0]);
    }
}
