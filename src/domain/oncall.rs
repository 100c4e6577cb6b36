//! On-call schedules: a rotation of people in shifts, with overrides.
//!
//! A rotation's shifts are laid out in *local civil time*: shift `k` starts
//! at `start + k × shift` on the wall clock of the rotation's time zone, then
//! becomes an instant. A weekly handover at Monday 09:00 Europe/Rome stays at
//! 09:00 local across the DST changes (that week is an hour shorter or
//! longer), and 12-hour shifts stay at 09:00/21:00 local (the night shift of
//! a DST change lasts 11 or 13 hours). Each boundary is computed from `start`
//! (never by adding shifts one after the other), so nothing drifts.
//!
//! Nothing here reads the clock: every question takes the instant it is about.
//!
//! [`Rotation`] lays out the shifts; a [`Schedule`] is a rotation with its
//! [`Override`]s (the override added last wins where two overlap; any override wins
//! over the rotation) and answers [`Schedule::on_call`], [`Schedule::shifts`] and
//! [`Schedule::handovers`].

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};

use super::ids::PersonId;

/// Why a rotation, an override or a schedule is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("rotation `{rotation}` has no members")]
    NoMembers { rotation: String },
    #[error("rotation `{rotation}`: the shift length must be longer than zero")]
    ShiftNotPositive { rotation: String },
    #[error(
        "rotation `{rotation}`: the shift length must be given in weeks, days, hours or minutes, not months or years"
    )]
    CalendarShift { rotation: String },
    #[error("an override must end after it starts (from {from}, to {to})")]
    EmptyOverride { from: Timestamp, to: Timestamp },
}

/// People taking turns, in order, in shifts of equal local length.
#[derive(Clone, Debug)]
pub struct Rotation {
    name: String,
    members: Vec<PersonId>,
    start: DateTime,
    shift: Span,
    tz: TimeZone,
    /// The shift's length on the wall clock (days are 24 civil hours).
    civil_len: SignedDuration,
}

impl PartialEq for Rotation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.members == other.members
            && self.start == other.start
            && self.shift.fieldwise() == other.shift.fieldwise()
            && self.tz == other.tz
    }
}

impl Rotation {
    /// A rotation whose first shift (the first member's) starts at `start`,
    /// local time in `tz`. `shift` is in weeks, days, hours and minutes
    /// (e.g. `1.week()` or `12.hours()`).
    pub fn new(
        name: impl Into<String>,
        members: Vec<PersonId>,
        start: DateTime,
        shift: Span,
        tz: TimeZone,
    ) -> Result<Self, ScheduleError> {
        let name = name.into();
        if members.is_empty() {
            return Err(ScheduleError::NoMembers { rotation: name });
        }
        if shift.get_years() != 0 || shift.get_months() != 0 {
            return Err(ScheduleError::CalendarShift { rotation: name });
        }
        let civil_len = shift
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|_| ScheduleError::CalendarShift {
                rotation: name.clone(),
            })?;
        if !civil_len.is_positive() {
            return Err(ScheduleError::ShiftNotPositive { rotation: name });
        }
        Ok(Self {
            name,
            members,
            start,
            shift,
            tz,
            civil_len,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn members(&self) -> &[PersonId] {
        &self.members
    }

    pub fn start(&self) -> DateTime {
        self.start
    }

    pub fn shift(&self) -> Span {
        self.shift
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The instant shift `k` starts (shift 0 starts at `start`; negative
    /// shifts extend the rotation backwards). A local time that does not
    /// exist (in a DST gap) moves forward by the gap; one that exists twice
    /// takes the earlier instant.
    pub fn shift_start(&self, k: i64) -> Timestamp {
        let far = if k >= 0 {
            Timestamp::MAX
        } else {
            Timestamp::MIN
        };
        let Some(nanos) = self.civil_len.as_nanos().checked_mul(i128::from(k)) else {
            return far;
        };
        let Some(offset) = SignedDuration::try_from_nanos_i128(nanos) else {
            return far;
        };
        self.start
            .checked_add(offset)
            .ok()
            .and_then(|civil| self.tz.to_ambiguous_timestamp(civil).compatible().ok())
            .unwrap_or(far)
    }

    /// The shift that holds `at`: `shift_start(k) <= at < shift_start(k + 1)`.
    pub fn shift_index(&self, at: Timestamp) -> i64 {
        let civil = at.to_zoned_datetime(self.tz.clone()).datetime();
        let since = civil.duration_since(self.start).as_nanos();
        let len = self.civil_len.as_nanos();
        // A first guess on the wall clock, corrected on the instants (a DST
        // change moves it by at most one).
        let mut k = i64::try_from(since.div_euclid(len)).unwrap_or(0);
        while self.shift_start(k.saturating_add(1)) <= at && k < i64::MAX - 1 {
            k += 1;
        }
        while self.shift_start(k) > at && k > i64::MIN + 1 {
            k -= 1;
        }
        k
    }

    /// Whose turn shift `k` is.
    pub fn member(&self, k: i64) -> PersonId {
        let n = self.members.len() as i64;
        self.members[k.rem_euclid(n) as usize]
    }
}

/// Someone covers the on-call instead of the rotation, from `from` until
/// (excluding) `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Override {
    pub person: PersonId,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Override {
    pub fn new(person: PersonId, from: Timestamp, to: Timestamp) -> Result<Self, ScheduleError> {
        let o = Self { person, from, to };
        o.validate()?;
        Ok(o)
    }

    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.to <= self.from {
            return Err(ScheduleError::EmptyOverride {
                from: self.from,
                to: self.to,
            });
        }
        Ok(())
    }

    pub fn covers(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// Who is on call at an instant, and until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnCall {
    pub person: PersonId,
    /// The end of the current shift or override, whichever comes first (a
    /// later override starting inside it also ends it).
    pub until: Timestamp,
    pub by_override: bool,
}

/// A stretch of time with one person on call, for the schedule view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub person: PersonId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub by_override: bool,
}

/// What decides who is on call at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Rotation(i64),
    Override(usize),
}

/// A rotation with its overrides. The override added last wins where
/// overrides overlap; any override wins over the rotation.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    rotation: Rotation,
    overrides: Vec<Override>,
}

impl Schedule {
    pub fn new(rotation: Rotation, overrides: Vec<Override>) -> Result<Self, ScheduleError> {
        for o in &overrides {
            o.validate()?;
        }
        Ok(Self {
            rotation,
            overrides,
        })
    }

    pub fn name(&self) -> &str {
        self.rotation.name()
    }

    pub fn rotation(&self) -> &Rotation {
        &self.rotation
    }

    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Adds an override; it wins over every override added before.
    pub fn add_override(&mut self, o: Override) -> Result<(), ScheduleError> {
        o.validate()?;
        self.overrides.push(o);
        Ok(())
    }

    fn source(&self, at: Timestamp) -> Source {
        match self.overrides.iter().rposition(|o| o.covers(at)) {
            Some(i) => Source::Override(i),
            None => Source::Rotation(self.rotation.shift_index(at)),
        }
    }

    fn person(&self, source: Source) -> PersonId {
        match source {
            Source::Override(i) => self.overrides[i].person,
            Source::Rotation(k) => self.rotation.member(k),
        }
    }

    /// The first instant after `at` where what decides the on-call changes.
    fn next_change(&self, at: Timestamp) -> Timestamp {
        let current = self.source(at);
        let mut t = at;
        loop {
            let next_shift = self
                .rotation
                .shift_start(self.rotation.shift_index(t).saturating_add(1));
            let next_edge = self
                .overrides
                .iter()
                .flat_map(|o| [o.from, o.to])
                .filter(|e| *e > t)
                .min();
            let b = next_edge.map_or(next_shift, |e| e.min(next_shift));
            if b == Timestamp::MAX || self.source(b) != current {
                return b;
            }
            t = b;
        }
    }

    /// Who is on call at `at`.
    pub fn on_call(&self, at: Timestamp) -> OnCall {
        let source = self.source(at);
        OnCall {
            person: self.person(source),
            until: self.next_change(at),
            by_override: matches!(source, Source::Override(_)),
        }
    }

    /// The stretches of on-call between `from` and `to`, in order, cut at
    /// `from` and `to`: rotation shifts, and overrides where they apply.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            let source = self.source(t);
            let end = self.next_change(t).min(to);
            out.push(Shift {
                person: self.person(source),
                start: t,
                end,
                by_override: matches!(source, Source::Override(_)),
            });
            t = end;
        }
        out
    }

    /// The instants in `[from, to)` at which the person on call changes
    /// (a shift or override that hands over to the same person is no
    /// handover).
    pub fn handovers(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let before = from
            .checked_sub(SignedDuration::from_nanos(1))
            .map(|t| self.person(self.source(t)))
            .ok();
        let mut previous = before;
        let mut out = Vec::new();
        for shift in self.shifts(from, to) {
            if previous.is_some_and(|p| p != shift.person) {
                out.push(shift.start);
            }
            previous = Some(shift.person);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan;
    use jiff::civil::date;

    use super::*;

    const ALICE: PersonId = PersonId(1);
    const BOB: PersonId = PersonId(2);
    const CARLA: PersonId = PersonId(3);
    const DINO: PersonId = PersonId(4);

    fn rome() -> TimeZone {
        TimeZone::get("Europe/Rome").unwrap()
    }

    /// An instant given as local time in Rome.
    fn local(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        date(y, m, d)
            .at(h, min, 0, 0)
            .to_zoned_datetime(rome())
            .unwrap()
            .timestamp()
    }

    fn local_time(t: Timestamp) -> DateTime {
        t.to_zoned_datetime(rome()).datetime()
    }

    /// Weekly, Monday 09:00 Rome, starting Monday 2026-03-16.
    fn weekly() -> Rotation {
        Rotation::new(
            "primary",
            vec![ALICE, BOB, CARLA],
            date(2026, 3, 16).at(9, 0, 0, 0),
            1.week(),
            rome(),
        )
        .unwrap()
    }

    fn twelve_hours() -> Rotation {
        Rotation::new(
            "noc",
            vec![ALICE, BOB],
            date(2026, 3, 27).at(9, 0, 0, 0),
            12.hours(),
            rome(),
        )
        .unwrap()
    }

    fn schedule(rotation: Rotation, overrides: Vec<Override>) -> Schedule {
        Schedule::new(rotation, overrides).unwrap()
    }

    #[test]
    fn invalid_rotations_and_overrides_are_refused() {
        let start = date(2026, 3, 16).at(9, 0, 0, 0);
        assert_eq!(
            Rotation::new("r", vec![], start, 1.week(), rome()),
            Err(ScheduleError::NoMembers {
                rotation: "r".into()
            })
        );
        for zero in [0.hours(), 0.weeks(), (-1).days()] {
            assert_eq!(
                Rotation::new("r", vec![ALICE], start, zero, rome()),
                Err(ScheduleError::ShiftNotPositive {
                    rotation: "r".into()
                })
            );
        }
        assert_eq!(
            Rotation::new("r", vec![ALICE], start, 1.month(), rome()),
            Err(ScheduleError::CalendarShift {
                rotation: "r".into()
            })
        );
        let t = local(2026, 3, 20, 12, 0);
        assert_eq!(
            Override::new(BOB, t, t),
            Err(ScheduleError::EmptyOverride { from: t, to: t })
        );
        let backwards = Override {
            person: BOB,
            from: t,
            to: t - SignedDuration::from_hours(1),
        };
        assert!(Schedule::new(weekly(), vec![backwards]).is_err());
        let mut s = schedule(weekly(), vec![]);
        assert!(s.add_override(backwards).is_err());
        assert!(s.overrides().is_empty());
    }

    #[test]
    fn weekly_handover_stays_at_nine_local_across_both_dst_changes() {
        let s = schedule(weekly(), vec![]);
        // Spring: Sunday 2026-03-29 02:00 → 03:00. The week from Monday
        // 23 March is an hour shorter, and Monday 30 March is still 09:00.
        let spring = s.on_call(local(2026, 3, 28, 12, 0));
        assert_eq!(spring.person, BOB);
        assert_eq!(spring.until, local(2026, 3, 30, 9, 0));
        assert_eq!(
            local_time(spring.until),
            date(2026, 3, 30).at(9, 0, 0, 0),
            "still 09:00 local"
        );
        assert_eq!(spring.until.to_string(), "2026-03-30T07:00:00Z");
        assert_eq!(
            s.rotation()
                .shift_start(2)
                .duration_since(s.rotation().shift_start(1)),
            SignedDuration::from_hours(7 * 24 - 1)
        );
        // Just before and at the handover.
        let before = local(2026, 3, 30, 9, 0) - SignedDuration::from_nanos(1);
        assert_eq!(s.on_call(before).person, BOB);
        assert_eq!(s.on_call(local(2026, 3, 30, 9, 0)).person, CARLA);

        // Autumn: Sunday 2026-10-25 03:00 → 02:00. 2026-10-19 is 31 weeks
        // after the start: 31 mod 3 = 1, Bob; Monday 26 October is Carla's.
        let autumn = s.on_call(local(2026, 10, 25, 12, 0));
        assert_eq!(autumn.person, BOB);
        assert_eq!(local_time(autumn.until), date(2026, 10, 26).at(9, 0, 0, 0));
        assert_eq!(autumn.until.to_string(), "2026-10-26T08:00:00Z");
        assert_eq!(s.on_call(autumn.until).person, CARLA);
        assert!(!autumn.by_override);
    }

    #[test]
    fn twelve_hour_shifts_hand_over_at_nine_and_twenty_one_local() {
        let s = schedule(twelve_hours(), vec![]);
        let from = local(2026, 3, 28, 0, 0);
        let to = local(2026, 3, 31, 0, 0);
        let shifts = s.shifts(from, to);
        let locals: Vec<(PersonId, String)> = shifts
            .iter()
            .map(|sh| (sh.person, local_time(sh.start).to_string()))
            .collect();
        assert_eq!(
            locals,
            vec![
                (BOB, "2026-03-28T00:00:00".into()),
                (ALICE, "2026-03-28T09:00:00".into()),
                (BOB, "2026-03-28T21:00:00".into()),
                (ALICE, "2026-03-29T09:00:00".into()),
                (BOB, "2026-03-29T21:00:00".into()),
                (ALICE, "2026-03-30T09:00:00".into()),
                (BOB, "2026-03-30T21:00:00".into()),
            ]
        );
        // The night of the DST change is an hour short.
        let night = shifts[2];
        assert_eq!(
            night.end.duration_since(night.start),
            SignedDuration::from_hours(11)
        );
        assert_eq!(shifts.last().unwrap().end, to);
        // Shifts tile the range without gaps.
        for pair in shifts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
    }

    #[test]
    fn an_override_inside_a_shift_covers_it_and_hands_back() {
        let from = local(2026, 3, 18, 18, 0);
        let to = local(2026, 3, 19, 8, 0);
        let s = schedule(weekly(), vec![Override::new(DINO, from, to).unwrap()]);
        let before = s.on_call(local(2026, 3, 18, 12, 0));
        assert_eq!(
            before,
            OnCall {
                person: ALICE,
                until: from,
                by_override: false
            },
            "Alice's shift is cut where the override starts"
        );
        assert_eq!(
            s.on_call(local(2026, 3, 18, 20, 0)),
            OnCall {
                person: DINO,
                until: to,
                by_override: true
            }
        );
        let after = s.on_call(to);
        assert_eq!(after.person, ALICE);
        assert_eq!(after.until, local(2026, 3, 23, 9, 0));
        assert_eq!(
            s.handovers(local(2026, 3, 16, 0, 0), local(2026, 3, 24, 0, 0)),
            vec![local(2026, 3, 16, 9, 0), from, to, local(2026, 3, 23, 9, 0)]
        );
    }

    #[test]
    fn an_override_spanning_a_handover_ends_before_the_next_shift_takes_over() {
        // Dino covers Sunday 20:00 to Monday 12:00, across the Monday 09:00
        // handover from Alice to Bob.
        let from = local(2026, 3, 22, 20, 0);
        let to = local(2026, 3, 23, 12, 0);
        let s = schedule(weekly(), vec![Override::new(DINO, from, to).unwrap()]);
        let during = s.on_call(local(2026, 3, 23, 8, 0));
        assert_eq!(during.person, DINO);
        assert_eq!(
            during.until, to,
            "the rotation's handover under the override is no change"
        );
        let after = s.on_call(to);
        assert_eq!(after.person, BOB);
        assert_eq!(after.until, local(2026, 3, 30, 9, 0));
        let shifts = s.shifts(local(2026, 3, 22, 0, 0), local(2026, 3, 24, 0, 0));
        let people: Vec<(PersonId, bool)> =
            shifts.iter().map(|s| (s.person, s.by_override)).collect();
        assert_eq!(people, vec![(ALICE, false), (DINO, true), (BOB, false)]);
        assert_eq!(
            s.handovers(local(2026, 3, 22, 0, 0), local(2026, 3, 24, 0, 0)),
            vec![from, to]
        );
    }

    #[test]
    fn the_override_added_last_wins_where_overrides_overlap() {
        let first =
            Override::new(DINO, local(2026, 3, 18, 10, 0), local(2026, 3, 18, 20, 0)).unwrap();
        let second =
            Override::new(CARLA, local(2026, 3, 18, 14, 0), local(2026, 3, 18, 16, 0)).unwrap();
        let s = schedule(weekly(), vec![first, second]);
        let at = |h| s.on_call(local(2026, 3, 18, h, 0));
        assert_eq!(
            at(12),
            OnCall {
                person: DINO,
                until: local(2026, 3, 18, 14, 0),
                by_override: true
            }
        );
        assert_eq!(
            at(15),
            OnCall {
                person: CARLA,
                until: local(2026, 3, 18, 16, 0),
                by_override: true
            }
        );
        assert_eq!(
            at(17),
            OnCall {
                person: DINO,
                until: local(2026, 3, 18, 20, 0),
                by_override: true
            }
        );
        assert_eq!(at(21).person, ALICE);

        // Added the other way round, the longer override hides the shorter.
        let mut s = schedule(weekly(), vec![second]);
        s.add_override(first).unwrap();
        assert_eq!(s.on_call(local(2026, 3, 18, 15, 0)).person, DINO);
        assert_eq!(
            s.on_call(local(2026, 3, 18, 12, 0)).until,
            local(2026, 3, 18, 20, 0),
            "a hidden override changes nothing"
        );
    }

    #[test]
    fn the_two_week_view_lists_every_stretch_and_handover() {
        let o = Override::new(DINO, local(2026, 3, 25, 9, 0), local(2026, 3, 26, 9, 0)).unwrap();
        let s = schedule(weekly(), vec![o]);
        let from = local(2026, 3, 20, 15, 30);
        let to = from
            .to_zoned_datetime(rome())
            .checked_add(2.weeks())
            .unwrap()
            .timestamp();
        let shifts = s.shifts(from, to);
        let view: Vec<(PersonId, String, String, bool)> = shifts
            .iter()
            .map(|sh| {
                (
                    sh.person,
                    local_time(sh.start).to_string(),
                    local_time(sh.end).to_string(),
                    sh.by_override,
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                (
                    ALICE,
                    "2026-03-20T15:30:00".into(),
                    "2026-03-23T09:00:00".into(),
                    false
                ),
                (
                    BOB,
                    "2026-03-23T09:00:00".into(),
                    "2026-03-25T09:00:00".into(),
                    false
                ),
                (
                    DINO,
                    "2026-03-25T09:00:00".into(),
                    "2026-03-26T09:00:00".into(),
                    true
                ),
                (
                    BOB,
                    "2026-03-26T09:00:00".into(),
                    "2026-03-30T09:00:00".into(),
                    false
                ),
                (
                    CARLA,
                    "2026-03-30T09:00:00".into(),
                    "2026-04-03T15:30:00".into(),
                    false
                ),
            ]
        );
        assert_eq!(
            s.handovers(from, to),
            shifts[1..].iter().map(|s| s.start).collect::<Vec<_>>()
        );
        // A handover exactly at `from` counts; one exactly at `to` does not.
        let monday = local(2026, 3, 23, 9, 0);
        assert_eq!(s.handovers(monday, local(2026, 3, 25, 9, 0)), vec![monday]);
        assert!(s.shifts(to, from).is_empty());
    }

    #[test]
    fn an_override_by_the_person_on_call_is_no_handover() {
        let o = Override::new(ALICE, local(2026, 3, 22, 20, 0), local(2026, 3, 23, 12, 0)).unwrap();
        let s = schedule(weekly(), vec![o]);
        assert_eq!(
            s.handovers(local(2026, 3, 22, 0, 0), local(2026, 3, 24, 0, 0)),
            vec![local(2026, 3, 23, 12, 0)],
            "Alice keeps it past 09:00, then Bob takes over at 12:00"
        );
    }

    #[test]
    fn on_call_agrees_with_the_shift_view_minute_by_minute_across_dst() {
        let overrides = vec![
            Override::new(DINO, local(2026, 10, 24, 20, 0), local(2026, 10, 25, 10, 0)).unwrap(),
            Override::new(CARLA, local(2026, 10, 25, 1, 0), local(2026, 10, 25, 4, 0)).unwrap(),
        ];
        for rotation in [weekly(), twelve_hours()] {
            let s = schedule(rotation, overrides.clone());
            let from = local(2026, 10, 23, 0, 0);
            let to = local(2026, 10, 28, 0, 0);
            let shifts = s.shifts(from, to);
            let mut t = from;
            while t < to {
                let now = s.on_call(t);
                let shift = shifts
                    .iter()
                    .find(|sh| sh.start <= t && t < sh.end)
                    .unwrap();
                assert_eq!(now.person, shift.person, "at {t}");
                assert_eq!(now.by_override, shift.by_override, "at {t}");
                if shift.end < to {
                    assert_eq!(now.until, shift.end, "at {t}");
                }
                t += SignedDuration::from_mins(17);
            }
        }
        // The 12-hour night of the autumn change lasts 13 hours.
        let s = schedule(twelve_hours(), vec![]);
        let night = s.on_call(local(2026, 10, 25, 1, 0));
        let started = s
            .rotation()
            .shift_start(s.rotation().shift_index(night.until) - 1);
        assert_eq!(local_time(started), date(2026, 10, 24).at(21, 0, 0, 0));
        assert_eq!(
            night.until.duration_since(started),
            SignedDuration::from_hours(13)
        );
        assert_eq!(local_time(night.until), date(2026, 10, 25).at(9, 0, 0, 0));
    }

    #[test]
    fn the_rotation_extends_before_its_start() {
        let s = schedule(weekly(), vec![]);
        let earlier = s.on_call(local(2026, 3, 10, 12, 0));
        assert_eq!(earlier.person, CARLA);
        assert_eq!(earlier.until, local(2026, 3, 16, 9, 0));
    }
}
