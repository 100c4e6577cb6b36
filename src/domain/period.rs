//! Report periods as people type them (`/sla report period:...`, issue 6):
//! `7d` (the last 7 local days, today included), `this-month`,
//! `last-month`, or `2026-11-01..2026-11-15` (both dates included). Pure:
//! today's local date is passed in.

use jiff::ToSpan;
use jiff::civil::Date;

use super::error::UserError;

/// The longest period a report covers, in days.
pub const MAX_DAYS: u16 = 366;

/// The period when none is given.
pub const DEFAULT: &str = "30d";

/// A period of local dates, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

fn bad(input: &str) -> UserError {
    UserError::BadPeriod {
        input: input.chars().take(40).collect(),
    }
}

fn too_long() -> UserError {
    UserError::PeriodLength {
        max: usize::from(MAX_DAYS),
    }
}

/// Reads a period; `today` is the client's local date.
pub fn parse_period(input: &str, today: Date) -> Result<Period, UserError> {
    let raw = input.trim();
    let lower = raw.to_ascii_lowercase();
    match lower.as_str() {
        "this-month" | "questo-mese" => {
            return Ok(Period {
                from: today.first_of_month(),
                to: today,
            });
        }
        "last-month" | "mese-scorso" => {
            let first = today.first_of_month();
            let last = first.yesterday().map_err(|_| bad(raw))?;
            return Ok(Period {
                from: last.first_of_month(),
                to: last,
            });
        }
        _ => {}
    }
    if let Some(n) = lower.strip_suffix('d').or_else(|| lower.strip_suffix('g')) {
        let days: i64 = n.parse().map_err(|_| bad(raw))?;
        if !(1..=i64::from(MAX_DAYS)).contains(&days) {
            return Err(too_long());
        }
        let from = today.checked_sub((days - 1).days()).map_err(|_| bad(raw))?;
        return Ok(Period { from, to: today });
    }
    let (a, b) = lower.split_once("..").ok_or_else(|| bad(raw))?;
    let from: Date = a.trim().parse().map_err(|_| bad(raw))?;
    let to: Date = b.trim().parse().map_err(|_| bad(raw))?;
    if to < from {
        return Err(bad(raw));
    }
    let days = from.until(to).map_err(|_| bad(raw))?.get_days();
    if i64::from(days) + 1 > i64::from(MAX_DAYS) {
        return Err(too_long());
    }
    Ok(Period { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_forms_people_type() {
        let today = date(2026, 11, 28);
        let p = |s| parse_period(s, today);
        assert_eq!(
            p("7d"),
            Ok(Period {
                from: date(2026, 11, 22),
                to: today
            })
        );
        assert_eq!(p(" 1D ").map(|x| x.from), Ok(today));
        assert_eq!(p("30g").map(|x| x.from), Ok(date(2026, 10, 30)));
        assert_eq!(
            p("this-month"),
            Ok(Period {
                from: date(2026, 11, 1),
                to: today
            })
        );
        assert_eq!(
            parse_period("last-month", date(2026, 3, 5)),
            Ok(Period {
                from: date(2026, 2, 1),
                to: date(2026, 2, 28)
            })
        );
        assert_eq!(
            p("2026-11-01..2026-11-15"),
            Ok(Period {
                from: date(2026, 11, 1),
                to: date(2026, 11, 15)
            })
        );
        assert_eq!(
            p("2026-11-01..2026-11-01").map(|x| x.to),
            Ok(date(2026, 11, 1))
        );
    }

    #[test]
    fn clear_errors() {
        let today = date(2026, 11, 28);
        let p = |s| parse_period(s, today);
        let bad = |s: &str| {
            Err(UserError::BadPeriod {
                input: s.to_owned(),
            })
        };
        assert_eq!(p("last week"), bad("last week"));
        assert_eq!(p("xd"), bad("xd"));
        assert_eq!(p("2026-11-15..2026-11-01"), bad("2026-11-15..2026-11-01"));
        assert_eq!(p("2026-02-30..2026-03-01"), bad("2026-02-30..2026-03-01"));
        assert_eq!(p(""), bad(""));
        assert_eq!(p("0d"), Err(too_long()));
        assert_eq!(p("400d"), Err(too_long()));
        assert_eq!(p("2024-01-01..2026-01-01"), Err(too_long()));
        // A very long input is cut in the message.
        let long = "x".repeat(100);
        assert_eq!(p(&long), bad(&"x".repeat(40)));
    }

    proptest::proptest! {
        /// Whatever is typed: no panic, and a period read is 1 to
        /// `MAX_DAYS` days, in order.
        #[test]
        fn any_input_is_a_period_or_a_clear_error(input in "\\PC{0,30}|[0-9]{1,4}[dg]|[0-9-]{10}\\.\\.[0-9-]{10}") {
            let today = date(2026, 11, 28);
            match parse_period(&input, today) {
                Ok(p) => {
                    proptest::prop_assert!(p.from <= p.to);
                    let days = p.from.until(p.to).unwrap().get_days();
                    proptest::prop_assert!(days < i32::from(MAX_DAYS));
                }
                Err(UserError::BadPeriod { input: shown }) => {
                    proptest::prop_assert!(shown.chars().count() <= 40);
                }
                Err(UserError::PeriodLength { .. }) => {}
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}
