//! The SLA contract and digest settings of the configuration, as checked
//! values (see `[clients.sla]`, `[clients.digest]` and `[msp.digest]` in the
//! example configuration).

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::ids::ChannelId;
use crate::domain::Side;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::sla::SlaTargets;

/// The default warning threshold, in percent of a target.
pub const DEFAULT_WARN_AT_PERCENT: u32 = 75;

/// The default digest time, local to the client.
pub const DEFAULT_DIGEST_TIME: Time = Time::constant(8, 30, 0, 0);

/// The targets used when a client has no `[clients.sla]` table (or leaves a
/// priority out): P1 30m/4h around the clock, P2 2h/8h, P3 4h/24h, P4
/// 8h/40h of business time.
pub fn default_targets() -> SlaTargets {
    let h = SignedDuration::from_hours;
    SlaTargets {
        first_response: [SignedDuration::from_mins(30), h(2), h(4), h(8)],
        resolution: [h(4), h(8), h(24), h(40)],
        around_the_clock: [true, false, false, false],
        at_risk_percent: DEFAULT_WARN_AT_PERCENT,
    }
}

/// When a digest goes out: a local time on some days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestSchedule {
    pub time: Time,
    /// The weekdays; `None` means the days the calendar is open.
    pub days: Option<Vec<Weekday>>,
}

impl DigestSchedule {
    /// Whether a digest goes out on `date`: a configured weekday (or, by
    /// default, a day with opening hours) that is not a holiday.
    pub fn is_digest_day(&self, date: Date, calendar: &BusinessCalendar) -> bool {
        if calendar.holidays().contains(&date) {
            return false;
        }
        match &self.days {
            Some(days) => days.contains(&date.weekday()),
            None => !calendar.hours(date.weekday()).is_empty(),
        }
    }

    /// The digest instant of `date` in `tz` (a time skipped by a DST change
    /// moves forward, as the clock on the wall does).
    pub fn instant_on(&self, date: Date, tz: &TimeZone) -> Option<Timestamp> {
        tz.to_ambiguous_timestamp(date.to_datetime(self.time))
            .compatible()
            .ok()
    }

    /// The latest digest day at or before `now`'s date whose digest time
    /// has come (`now` included), looking back at most two weeks.
    pub fn latest_due(
        &self,
        now: Timestamp,
        calendar: &BusinessCalendar,
    ) -> Option<(Date, Timestamp)> {
        let tz = calendar.tz();
        let mut date = tz.to_datetime(now).date();
        for _ in 0..15 {
            if self.is_digest_day(date, calendar) {
                if let Some(at) = self.instant_on(date, tz) {
                    if at <= now {
                        return Some((date, at));
                    }
                }
            }
            date = date.yesterday().ok()?;
        }
        None
    }

    /// The first digest instant strictly after `now`, looking ahead at most
    /// two weeks.
    pub fn next_after(&self, now: Timestamp, calendar: &BusinessCalendar) -> Option<Timestamp> {
        let tz = calendar.tz();
        let mut date = tz.to_datetime(now).date();
        for _ in 0..15 {
            if self.is_digest_day(date, calendar) {
                if let Some(at) = self.instant_on(date, tz) {
                    if at > now {
                        return Some(at);
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// A client's digests: the schedule, the sides that get one, and where
/// (see `Config::digest_channel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestConfig {
    pub schedule: DigestSchedule,
    pub sides: Vec<Side>,
    /// Instead of the internal IT channel.
    pub internal_channel: Option<ChannelId>,
    /// Instead of the MSP's channel for the client (or its queue).
    pub msp_channel: Option<ChannelId>,
}

/// Where the MSP lead's digest goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeadTarget {
    Channel(ChannelId),
    /// A direct message to this person.
    User(u64),
}

/// The MSP lead's digest across all clients.
#[derive(Clone, Debug)]
pub struct LeadDigest {
    pub schedule: DigestSchedule,
    /// Whose days and time zone the schedule follows (holidays none).
    pub calendar: BusinessCalendar,
    pub target: LeadTarget,
}
