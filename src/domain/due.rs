//! Due times as people type them in a command option, read in the client's
//! time zone: `2026-12-03` (end of that working day, 18:00) or
//! `2026-12-03 17:00`, also `3/12/2026` and `3/12/2026 17:00` (day first).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

use super::error::UserError;

/// When a date without a time is due: the end of the working day.
pub const END_OF_DAY: Time = Time::constant(18, 0, 0, 0);

/// Reads a due time in `tz`. It must not be in the past.
pub fn parse_due(input: &str, tz: &TimeZone, now: Timestamp) -> Result<Timestamp, UserError> {
    let bad = || UserError::BadDue {
        input: input.chars().take(40).collect(),
    };
    let trimmed = input.trim();
    let (date_part, time_part) = match trimmed.split_once([' ', 'T']) {
        Some((d, t)) => (d.trim(), Some(t.trim())),
        None => (trimmed, None),
    };
    let date = parse_date(date_part).ok_or_else(bad)?;
    let time = match time_part {
        None => END_OF_DAY,
        Some(t) => parse_time(t).ok_or_else(bad)?,
    };
    let at = tz
        .to_timestamp(DateTime::from_parts(date, time))
        .map_err(|_| bad())?;
    if at < now {
        return Err(UserError::DueInPast);
    }
    Ok(at)
}

fn parse_date(s: &str) -> Option<Date> {
    if let Ok(date) = s.parse::<Date>() {
        return Some(date);
    }
    // Day first, as in Italy and the UK: 3/12/2026 or 3.12.2026.
    let mut parts = s.split(['/', '.', '-']);
    let day: i8 = parts.next()?.parse().ok()?;
    let month: i8 = parts.next()?.parse().ok()?;
    let year: i16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::new(year, month, day).ok()
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.split_once([':', '.']).unwrap_or((s, "0"));
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rome() -> TimeZone {
        TimeZone::get("Europe/Rome").unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-27T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn dates_are_read_in_the_clients_time_zone() {
        let at = parse_due("2026-12-03 17:00", &rome(), now()).unwrap();
        assert_eq!(at, "2026-12-03T16:00:00Z".parse().unwrap());
        let at = parse_due("2026-12-03", &rome(), now()).unwrap();
        assert_eq!(at, "2026-12-03T17:00:00Z".parse().unwrap());
        let at = parse_due("3/12/2026 9.30", &rome(), now()).unwrap();
        assert_eq!(at, "2026-12-03T08:30:00Z".parse().unwrap());
    }

    #[test]
    fn nonsense_and_the_past_are_refused() {
        for bad in [
            "tomorrow-ish",
            "2026-13-01",
            "31/02/2026",
            "2026-12-03 25:00",
            "",
        ] {
            assert!(
                matches!(
                    parse_due(bad, &rome(), now()),
                    Err(UserError::BadDue { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse_due("2026-11-01", &rome(), now()),
            Err(UserError::DueInPast)
        );
    }
}
