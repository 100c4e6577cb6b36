//! Business calendars: when a side is at work, in the client's time zone.
//!
//! A calendar is a time zone, opening hours per weekday (wall-clock ranges,
//! several a day for a lunch break) and holidays (whole local dates). Every
//! question is asked with instants (`Timestamp`) and answered with instants or
//! real elapsed time (`SignedDuration`): a range that spans a DST change is an
//! hour shorter or longer on that day, as it is for the people at work.
//!
//! A range is `start..end` in local wall-clock time; an `end` of `00:00` means
//! the midnight that ends the day, so `00:00..00:00` is the whole day. When a
//! wall-clock time does not exist (a DST gap) the range starts or ends at the
//! first instant after the gap; when it happens twice (a DST fold) a start is
//! the first occurrence and an end the second, so the repeated hour is
//! counted.
//!
//! `BusinessCalendar::business_duration` measures business time between two instants;
//! `BusinessCalendar::add_business` finds a deadline; `around_the_clock` is the
//! calendar of priorities counted 24/7.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

/// Why opening hours are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{weekday:?}: the range {start}..{end} ends before it starts")]
    Inverted {
        weekday: Weekday,
        start: Time,
        end: Time,
    },
    #[error(
        "{weekday:?}: the ranges {first_start}..{first_end} and {second_start}..{second_end} overlap"
    )]
    Overlapping {
        weekday: Weekday,
        first_start: Time,
        first_end: Time,
        second_start: Time,
        second_end: Time,
    },
    #[error("the calendar is never open")]
    NeverOpen,
}

/// One opening range on a day, `start..end` in wall-clock time. An `end` of
/// `00:00` is the midnight that ends the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenRange {
    pub start: Time,
    pub end: Time,
}

impl OpenRange {
    /// Whether the range runs to the end of the day.
    fn to_midnight(self) -> bool {
        self.end == Time::midnight()
    }
}

/// Above this many days, [`BusinessCalendar::business_duration`] counts
/// whole days instead of walking every interval.
const SCAN_DAYS: i64 = 10;

/// When work happens: opening hours per weekday in a time zone, minus holidays.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessCalendar {
    tz: TimeZone,
    /// Indexed Monday = 0 .. Sunday = 6; each day sorted and non-overlapping.
    hours: [Vec<OpenRange>; 7],
    holidays: BTreeSet<Date>,
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

impl BusinessCalendar {
    /// A calendar from opening hours per weekday (`hours[0]` is Monday) as
    /// `(start, end)` pairs, in any order. Refuses a range that ends before
    /// it starts (or is empty), ranges of one day that overlap (touching is
    /// fine), and a calendar with no hours at all.
    pub fn new(
        tz: TimeZone,
        hours: [Vec<(Time, Time)>; 7],
        holidays: BTreeSet<Date>,
    ) -> Result<Self, CalendarError> {
        let mut checked: [Vec<OpenRange>; 7] = Default::default();
        for (i, day) in hours.into_iter().enumerate() {
            let weekday = WEEKDAYS[i];
            let mut ranges: Vec<OpenRange> = day
                .into_iter()
                .map(|(start, end)| OpenRange { start, end })
                .collect();
            for r in &ranges {
                if !r.to_midnight() && r.end <= r.start {
                    return Err(CalendarError::Inverted {
                        weekday,
                        start: r.start,
                        end: r.end,
                    });
                }
            }
            ranges.sort();
            for pair in ranges.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a.to_midnight() || a.end > b.start {
                    return Err(CalendarError::Overlapping {
                        weekday,
                        first_start: a.start,
                        first_end: a.end,
                        second_start: b.start,
                        second_end: b.end,
                    });
                }
            }
            checked[i] = ranges;
        }
        if checked.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(Self {
            tz,
            hours: checked,
            holidays,
        })
    }

    /// The same `ranges` Monday to Friday, closed at the weekend.
    pub fn weekdays(
        tz: TimeZone,
        ranges: &[(Time, Time)],
        holidays: BTreeSet<Date>,
    ) -> Result<Self, CalendarError> {
        let mut hours: [Vec<(Time, Time)>; 7] = Default::default();
        for day in hours.iter_mut().take(5) {
            *day = ranges.to_vec();
        }
        Self::new(tz, hours, holidays)
    }

    /// Always open: every instant is business time (for 24/7 priorities).
    pub fn around_the_clock(tz: TimeZone) -> Self {
        let whole_day = vec![OpenRange {
            start: Time::midnight(),
            end: Time::midnight(),
        }];
        Self {
            tz,
            hours: std::array::from_fn(|_| whole_day.clone()),
            holidays: BTreeSet::new(),
        }
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    /// The opening ranges of a weekday, sorted.
    pub fn hours(&self, weekday: Weekday) -> &[OpenRange] {
        &self.hours[weekday.to_monday_zero_offset() as usize]
    }

    /// Whether `at` is inside business hours (a range includes its start and
    /// excludes its end).
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.intervals_from(at)
            .find(|&(_, end)| end > at)
            .is_some_and(|(start, _)| start <= at)
    }

    /// `at` itself when open, otherwise the next opening instant.
    /// `Timestamp::MAX` if the calendar never opens again (only at the end
    /// of representable time).
    pub fn next_open(&self, at: Timestamp) -> Timestamp {
        self.intervals_from(at)
            .find(|&(_, end)| end > at)
            .map_or(Timestamp::MAX, |(start, _)| start.max(at))
    }

    /// The business time between two instants; negative when `to` is before
    /// `from`.
    ///
    /// Spans of up to [`SCAN_DAYS`] days walk the business intervals one by
    /// one. Longer ones (a task open for months) walk only their first two
    /// and last day; the whole local days between count as their weekday's
    /// opening hours, by whole weeks, minus the holidays among them, with
    /// the days around a time zone transition (DST) walked exactly. Both
    /// give the same result (a property test compares them).
    pub fn business_duration(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to < from {
            return -self.business_duration(to, from);
        }
        if from.duration_until(to) > SignedDuration::from_hours(24 * SCAN_DAYS) {
            if let Some(total) = self.business_duration_by_days(from, to) {
                return total;
            }
        }
        self.scan_duration(from, to)
    }

    /// [`Self::business_duration`] of a long span: the partial days at both
    /// ends walked, the whole days between counted. `None` when the local
    /// midnights cannot be represented (then the caller walks it all).
    fn business_duration_by_days(&self, from: Timestamp, to: Timestamp) -> Option<SignedDuration> {
        let first = self
            .tz
            .to_datetime(from)
            .date()
            .checked_add(Span::new().days(2))
            .ok()?;
        let last = self
            .tz
            .to_datetime(to)
            .date()
            .checked_sub(Span::new().days(1))
            .ok()?;
        let (start, end) = (self.midnight(first)?, self.midnight(last)?);
        if !(from <= start && start < end && end <= to) {
            return None;
        }
        Some(
            self.scan_duration(from, start)
                + self.whole_days(first, last, start, end)?
                + self.scan_duration(end, to),
        )
    }

    /// The business time of the local days `first..last` (`last`
    /// excluded), which run from the instant `start` to `end`.
    fn whole_days(
        &self,
        first: Date,
        last: Date,
        start: Timestamp,
        end: Timestamp,
    ) -> Option<SignedDuration> {
        let days = i64::from(first.until((jiff::Unit::Day, last)).ok()?.get_days());
        let week: SignedDuration = WEEKDAYS.iter().map(|w| self.day_length(*w)).sum();
        let mut total = week * (days / 7) as i32;
        for i in 0..days % 7 {
            total += self.day_length(first.weekday().wrapping_add(days - days % 7 + i));
        }
        for holiday in self.holidays.range(first..last) {
            total -= self.day_length(holiday.weekday());
        }
        // The days around a change of the time zone's offset: their
        // ranges may be shorter or longer than on the wall clock, or spill
        // into the next day. Walk them exactly instead.
        let mut odd = BTreeSet::new();
        let margin = SignedDuration::from_hours(48);
        for transition in self.tz.following(start.checked_sub(margin).ok()?) {
            let at = transition.timestamp();
            if at >= end.checked_add(margin).ok()? {
                break;
            }
            let day = self.tz.to_datetime(at).date();
            for d in [day.yesterday().ok(), Some(day), day.tomorrow().ok()]
                .into_iter()
                .flatten()
            {
                if first <= d && d < last {
                    odd.insert(d);
                }
            }
        }
        for day in odd {
            let counted = if self.holidays.contains(&day) {
                SignedDuration::ZERO
            } else {
                self.day_length(day.weekday())
            };
            let exact =
                self.scan_duration(self.midnight(day)?, self.midnight(day.tomorrow().ok()?)?);
            total += exact - counted;
        }
        Some(total)
    }

    /// The first instant of a local date.
    fn midnight(&self, date: Date) -> Option<Timestamp> {
        self.tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, Time::midnight()))
            .compatible()
            .ok()
    }

    /// The opening hours of a weekday on the wall clock.
    fn day_length(&self, weekday: Weekday) -> SignedDuration {
        self.hours(weekday)
            .iter()
            .map(|r| {
                let end = if r.to_midnight() {
                    SignedDuration::from_hours(24)
                } else {
                    r.end.duration_since(Time::midnight())
                };
                end - r.start.duration_since(Time::midnight())
            })
            .sum()
    }

    /// The business time between `from <= to`, interval by interval.
    fn scan_duration(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        for (start, end) in self.intervals_from(from) {
            if start >= to {
                break;
            }
            let (s, e) = (start.max(from), end.min(to));
            if e > s {
                total += s.duration_until(e);
            }
        }
        total
    }

    /// The instant at which `d` of business time has elapsed since `from`:
    /// a deadline. A deadline that falls exactly at a closing time is that
    /// closing time, not the next opening. `d <= 0` gives `from`.
    pub fn add_business(&self, from: Timestamp, d: SignedDuration) -> Timestamp {
        if d <= SignedDuration::ZERO {
            return from;
        }
        let mut left = d;
        for (start, end) in self.intervals_from(from) {
            if end <= from {
                continue;
            }
            let s = start.max(from);
            let len = s.duration_until(end);
            if len >= left {
                return s + left;
            }
            left -= len;
        }
        Timestamp::MAX
    }

    /// The business intervals `[start, end)` as instants, in order, without
    /// overlaps, from the local day before `at` onwards (a day early, so a
    /// range of the previous day that a DST fold pushes past local midnight
    /// is not missed). Ends when dates run out.
    fn intervals_from(&self, at: Timestamp) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let first = self.tz.to_datetime(at).date();
        let first = first.yesterday().unwrap_or(first);
        let days = std::iter::successors(Some(first), |d| d.tomorrow().ok());
        let mut cursor: Option<Timestamp> = None;
        days.filter(|d| !self.holidays.contains(d))
            .flat_map(move |date| {
                self.hours(date.weekday())
                    .iter()
                    .filter_map(move |r| self.instants(date, *r))
            })
            .filter_map(move |(start, end)| {
                // Keep the intervals strictly ordered even where DST makes
                // two wall-clock ranges meet or overlap as instants.
                let start = cursor.map_or(start, |c| start.max(c));
                if end <= start {
                    return None;
                }
                cursor = Some(end);
                Some((start, end))
            })
    }

    fn instants(&self, date: Date, range: OpenRange) -> Option<(Timestamp, Timestamp)> {
        let start = self
            .tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, range.start))
            .compatible()
            .ok()?;
        let end_dt = if range.to_midnight() {
            DateTime::from_parts(date.tomorrow().ok()?, Time::midnight())
        } else {
            DateTime::from_parts(date, range.end)
        };
        let end = self.tz.to_ambiguous_timestamp(end_dt).later().ok()?;
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn rome() -> TimeZone {
        TimeZone::get("Europe/Rome").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn h(hours: i64) -> SignedDuration {
        SignedDuration::from_hours(hours)
    }

    fn m(mins: i64) -> SignedDuration {
        SignedDuration::from_mins(mins)
    }

    /// Mon–Fri 08:30–12:30 and 13:30–18:00 (8.5 hours a day), closed on
    /// 2026-12-08 (Immacolata) and 2026-12-25.
    fn office() -> BusinessCalendar {
        BusinessCalendar::weekdays(
            rome(),
            &[
                (time(8, 30, 0, 0), time(12, 30, 0, 0)),
                (time(13, 30, 0, 0), time(18, 0, 0, 0)),
            ],
            [date(2026, 12, 8), date(2026, 12, 25)].into(),
        )
        .unwrap()
    }

    #[test]
    fn open_inside_ranges_closed_at_lunch_at_night_and_at_the_weekend() {
        let cal = office();
        // 2026-12-01 is a Tuesday; Rome is UTC+1 in winter.
        assert!(cal.is_open(ts("2026-12-01T07:30:00Z"))); // 08:30 opens
        assert!(!cal.is_open(ts("2026-12-01T07:29:59Z")));
        assert!(!cal.is_open(ts("2026-12-01T11:30:00Z"))); // 12:30 lunch
        assert!(cal.is_open(ts("2026-12-01T12:30:00Z"))); // 13:30
        assert!(!cal.is_open(ts("2026-12-01T17:00:00Z"))); // 18:00 closed
        assert!(!cal.is_open(ts("2026-12-05T10:00:00Z"))); // Saturday
        assert!(!cal.is_open(ts("2026-12-08T10:00:00Z"))); // holiday
    }

    #[test]
    fn next_open_skips_lunch_nights_weekends_and_holidays() {
        let cal = office();
        let open = ts("2026-12-01T09:00:00Z");
        assert_eq!(cal.next_open(open), open);
        assert_eq!(
            cal.next_open(ts("2026-12-01T11:45:00Z")),
            ts("2026-12-01T12:30:00Z")
        );
        // Friday evening -> Monday 08:30.
        assert_eq!(
            cal.next_open(ts("2026-12-04T18:00:00Z")),
            ts("2026-12-07T07:30:00Z")
        );
        // Monday 2026-12-07 evening -> Wednesday (Tuesday is a holiday).
        assert_eq!(
            cal.next_open(ts("2026-12-07T17:00:00Z")),
            ts("2026-12-09T07:30:00Z")
        );
    }

    #[test]
    fn business_time_skips_lunch_and_the_weekend() {
        let cal = office();
        // Friday 2026-12-04 16:00 local -> Monday 2026-12-07 10:00 local:
        // 2h on Friday, 1.5h on Monday.
        let from = ts("2026-12-04T15:00:00Z");
        let to = ts("2026-12-07T09:00:00Z");
        assert_eq!(cal.business_duration(from, to), m(210));
        assert_eq!(cal.business_duration(to, from), -m(210));
        assert_eq!(cal.add_business(from, m(210)), to);
        // Over lunch: 12:00 -> 14:00 local is one hour of work.
        assert_eq!(
            cal.business_duration(ts("2026-12-01T11:00:00Z"), ts("2026-12-01T13:00:00Z")),
            h(1)
        );
        // A whole week: 5 × 8.5h.
        assert_eq!(
            cal.business_duration(ts("2026-11-30T00:00:00Z"), ts("2026-12-07T00:00:00Z")),
            m(5 * 510)
        );
    }

    #[test]
    fn holidays_are_not_business_time() {
        let cal = office();
        // Monday 2026-12-07 17:00 local -> Wednesday 09:30 local: 1h + 1h,
        // Tuesday the 8th is a holiday.
        let from = ts("2026-12-07T16:00:00Z");
        let to = ts("2026-12-09T08:30:00Z");
        assert_eq!(cal.business_duration(from, to), h(2));
        assert_eq!(cal.add_business(from, h(2)), to);
    }

    #[test]
    fn a_deadline_at_closing_time_is_that_closing_time() {
        let cal = office();
        let from = ts("2026-12-01T16:00:00Z"); // Tuesday 17:00
        assert_eq!(cal.add_business(from, h(1)), ts("2026-12-01T17:00:00Z"));
        assert_eq!(
            cal.add_business(from, h(1) + SignedDuration::from_secs(1)),
            ts("2026-12-02T07:30:01Z")
        );
        assert_eq!(cal.add_business(from, SignedDuration::ZERO), from);
        // Starting while closed: the clock starts at the next opening.
        assert_eq!(
            cal.add_business(ts("2026-12-05T10:00:00Z"), h(1)),
            ts("2026-12-07T08:30:00Z")
        );
    }

    #[test]
    fn dst_spring_forward_in_rome() {
        // Sunday 2026-03-29 02:00 CET -> 03:00 CEST: the day has 23 hours.
        let cal = BusinessCalendar::around_the_clock(rome());
        let day_start = ts("2026-03-28T23:00:00Z"); // 00:00 CET
        let next_day = ts("2026-03-29T22:00:00Z"); // 00:00 CEST
        assert_eq!(cal.business_duration(day_start, next_day), h(23));
        // Office hours across the change: Friday 17:00 CET -> Monday 09:30
        // CEST is 1h + 1h of work, though the offset changed.
        let office = office();
        let from = ts("2026-03-27T16:00:00Z");
        let to = ts("2026-03-30T07:30:00Z");
        assert_eq!(office.business_duration(from, to), h(2));
        assert_eq!(office.add_business(from, h(2)), to);
        // Opening on Monday is 08:30 CEST = 06:30Z.
        assert_eq!(office.next_open(from + h(1)), ts("2026-03-30T06:30:00Z"));
        // A night shift 01:00–04:00 that day holds only two real hours.
        let night = BusinessCalendar::new(
            rome(),
            std::array::from_fn(|_| vec![(time(1, 0, 0, 0), time(4, 0, 0, 0))]),
            BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(night.business_duration(day_start, next_day), h(2));
    }

    #[test]
    fn dst_fall_back_in_rome() {
        // Sunday 2026-10-25 03:00 CEST -> 02:00 CET: the day has 25 hours.
        let cal = BusinessCalendar::around_the_clock(rome());
        let day_start = ts("2026-10-24T22:00:00Z"); // 00:00 CEST
        let next_day = ts("2026-10-25T23:00:00Z"); // 00:00 CET
        assert_eq!(cal.business_duration(day_start, next_day), h(25));
        assert_eq!(cal.add_business(day_start, h(25)), next_day);
        // A night shift 01:00–04:00 that day holds four real hours.
        let night = BusinessCalendar::new(
            rome(),
            std::array::from_fn(|_| vec![(time(1, 0, 0, 0), time(4, 0, 0, 0))]),
            BTreeSet::new(),
        )
        .unwrap();
        assert_eq!(night.business_duration(day_start, next_day), h(4));
        // Office hours: Friday 17:00 CEST -> Monday 09:30 CET is 2h.
        let office = office();
        let from = ts("2026-10-23T15:00:00Z");
        let to = ts("2026-10-26T08:30:00Z");
        assert_eq!(office.business_duration(from, to), h(2));
    }

    #[test]
    fn a_range_may_end_at_midnight() {
        // Evening shift Saturday 18:00–24:00 only.
        let mut hours: [Vec<(Time, Time)>; 7] = Default::default();
        hours[5] = vec![(time(18, 0, 0, 0), Time::midnight())];
        let cal = BusinessCalendar::new(rome(), hours, BTreeSet::new()).unwrap();
        // Saturday 2026-12-05 23:59:59 local is open, Sunday 00:00 is not.
        assert!(cal.is_open(ts("2026-12-05T22:59:59Z")));
        assert!(!cal.is_open(ts("2026-12-05T23:00:00Z")));
        assert_eq!(
            cal.business_duration(ts("2026-12-05T00:00:00Z"), ts("2026-12-07T00:00:00Z")),
            h(6)
        );
        // Six hours from Saturday 18:00 end exactly at midnight.
        assert_eq!(
            cal.add_business(ts("2026-12-05T17:00:00Z"), h(6)),
            ts("2026-12-05T23:00:00Z")
        );
        // A range to midnight and one from midnight next day count once each.
        let mut hours: [Vec<(Time, Time)>; 7] = Default::default();
        hours[5] = vec![(time(22, 0, 0, 0), Time::midnight())];
        hours[6] = vec![(Time::midnight(), time(2, 0, 0, 0))];
        let cal = BusinessCalendar::new(rome(), hours, BTreeSet::new()).unwrap();
        assert_eq!(
            cal.business_duration(ts("2026-12-05T00:00:00Z"), ts("2026-12-07T00:00:00Z")),
            h(4)
        );
    }

    #[test]
    fn around_the_clock_counts_every_instant() {
        let cal = BusinessCalendar::around_the_clock(rome());
        let from = ts("2026-12-05T03:17:00Z");
        assert!(cal.is_open(from));
        assert_eq!(cal.next_open(from), from);
        assert_eq!(cal.business_duration(from, from + h(50)), h(50));
        assert_eq!(cal.add_business(from, h(50)), from + h(50));
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        let nine = time(9, 0, 0, 0);
        let noon = time(12, 0, 0, 0);
        let one = time(13, 0, 0, 0);
        let inverted = BusinessCalendar::weekdays(rome(), &[(noon, nine)], BTreeSet::new());
        assert!(matches!(
            inverted,
            Err(CalendarError::Inverted {
                weekday: Weekday::Monday,
                ..
            })
        ));
        let empty = BusinessCalendar::weekdays(rome(), &[(nine, nine)], BTreeSet::new());
        assert!(matches!(empty, Err(CalendarError::Inverted { .. })));
        let overlap = BusinessCalendar::weekdays(
            rome(),
            &[(noon, time(18, 0, 0, 0)), (nine, one)],
            BTreeSet::new(),
        );
        assert_eq!(
            overlap,
            Err(CalendarError::Overlapping {
                weekday: Weekday::Monday,
                first_start: nine,
                first_end: one,
                second_start: noon,
                second_end: time(18, 0, 0, 0),
            })
        );
        let after_midnight_end = BusinessCalendar::weekdays(
            rome(),
            &[
                (time(20, 0, 0, 0), Time::midnight()),
                (time(21, 0, 0, 0), time(22, 0, 0, 0)),
            ],
            BTreeSet::new(),
        );
        assert!(matches!(
            after_midnight_end,
            Err(CalendarError::Overlapping { .. })
        ));
        // Touching ranges are fine.
        assert!(
            BusinessCalendar::weekdays(rome(), &[(nine, noon), (noon, one)], BTreeSet::new())
                .is_ok()
        );
        assert_eq!(
            BusinessCalendar::new(rome(), Default::default(), BTreeSet::new()),
            Err(CalendarError::NeverOpen)
        );
    }

    mod by_days {
        use super::*;
        use proptest::prelude::*;

        const ZONES: [&str; 5] = [
            "Europe/Rome",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Tokyo",
            "UTC",
        ];

        /// Up to two ranges a day from a few shapes (some to midnight, some
        /// across the usual DST hours).
        fn day() -> impl Strategy<Value = Vec<(Time, Time)>> {
            let shapes = vec![
                vec![],
                vec![(time(9, 0, 0, 0), time(18, 0, 0, 0))],
                vec![
                    (time(8, 30, 0, 0), time(12, 30, 0, 0)),
                    (time(13, 30, 0, 0), time(18, 0, 0, 0)),
                ],
                vec![(time(0, 0, 0, 0), Time::midnight())],
                vec![(time(1, 30, 0, 0), time(3, 30, 0, 0))],
                vec![
                    (time(0, 0, 0, 0), time(2, 30, 0, 0)),
                    (time(22, 0, 0, 0), Time::midnight()),
                ],
            ];
            prop::sample::select(shapes)
        }

        fn calendar() -> impl Strategy<Value = BusinessCalendar> {
            (
                prop::sample::select(ZONES.to_vec()),
                prop::array::uniform7(day()),
                prop::collection::btree_set(0i64..900, 0..12),
                any::<bool>(),
            )
                .prop_filter_map("never open", |(zone, hours, holidays, always)| {
                    let tz = TimeZone::get(zone).ok()?;
                    if always {
                        return Some(BusinessCalendar::around_the_clock(tz));
                    }
                    let base = date(2025, 1, 1);
                    let holidays = holidays
                        .into_iter()
                        .filter_map(|d| base.checked_add(Span::new().days(d)).ok())
                        .collect();
                    BusinessCalendar::new(tz, hours, holidays).ok()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Counting whole days gives what walking every interval gives.
            #[test]
            fn long_spans_count_as_walking_every_interval(
                cal in calendar(),
                start in 0i64..(900 * 86_400),
                len in 0i64..(500 * 86_400),
            ) {
                let from = ts("2025-01-01T00:00:00Z") + SignedDuration::from_secs(start);
                let to = from + SignedDuration::from_secs(len);
                prop_assert_eq!(cal.business_duration(from, to), cal.scan_duration(from, to));
                prop_assert_eq!(cal.business_duration(to, from), -cal.scan_duration(from, to));
            }
        }
    }
}
