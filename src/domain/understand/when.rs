//! Due times in free text, read in the client's time zone.
//!
//! | the text says | due |
//! | --- | --- |
//! | `today`, `oggi`, `end of day`, `EOD`, `in giornata`, `fine giornata`, `stasera` | today 18:00 (after 18:00: tomorrow 18:00) |
//! | `tomorrow`, `domani` | tomorrow 18:00 (`tomorrow morning`, `domani mattina`: 09:00) |
//! | `dopodomani`, `day after tomorrow` | in two days, 18:00 |
//! | `by Friday`, `entro venerdì`, `lunedi` | that coming weekday at 18:00; today's weekday means next week's |
//! | `end of the week`, `fine settimana`, `this weekend`, `nel weekend` | the coming Friday 18:00 (today if it is Friday) |
//! | `end of the month`, `entro fine mese` | the month's last day 18:00 |
//! | `from Monday`, `da lunedì`, `a partire da lunedì` | that coming weekday 09:00 (a start), unless something is broken: then it says since when |
//! | `next week`, `settimana prossima` | next Monday 09:00 |
//! | `in 2 hours`, `fra 2 ore`, `tra 30 minuti`, `within an hour`, `2h` | now plus that time |
//! | `in 3 days`, `fra 3 giorni` | that day at 18:00 |
//! | `12/3`, `12/3/2027`, `2026-12-03` | that date (day first, as the clients write; `12/15` is month first, the other order) at 18:00 |
//! | `3 dicembre`, `entro il 3 dicembre`, `December 3`, `3rd of Dec 2027` | that date at 18:00 |
//!
//! A date without a year is its next occurrence. A due time in the past is
//! ignored. The first due phrase in the text wins.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::lexicon::{DUE_LEADS, MONTHS, PAST_AFTER_WEEKDAY, PAST_BEFORE_WEEKDAY, WEEKDAYS};
use super::words::{Word, match_at, phrase, same_word};
use crate::domain::due::END_OF_DAY;

/// When "next week" starts: Monday at this time.
pub const START_OF_DAY: Time = Time::constant(9, 0, 0, 0);

/// A due phrase: its byte range in the text and the time it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DueFound {
    pub start: usize,
    pub end: usize,
    pub due: Timestamp,
}

struct Clock<'a> {
    tz: &'a TimeZone,
    now: Timestamp,
    today: Date,
}

impl Clock<'_> {
    fn at(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.tz.to_timestamp(DateTime::from_parts(date, time)).ok()
    }

    fn in_days(&self, days: i64, time: Time) -> Option<Timestamp> {
        self.at(self.today.checked_add(days.days()).ok()?, time)
    }

    /// Today at the end of the day, or tomorrow's if that has passed.
    fn end_of_today(&self) -> Option<Timestamp> {
        let today = self.at(self.today, END_OF_DAY)?;
        if today > self.now {
            Some(today)
        } else {
            self.in_days(1, END_OF_DAY)
        }
    }

    /// The coming `day` (next week's if today is `day`).
    fn coming(&self, day: Weekday, time: Time) -> Option<Timestamp> {
        let ahead = match self.today.weekday().until(day) {
            0 => 7,
            n => n,
        };
        self.in_days(i64::from(ahead), time)
    }

    /// `month`/`day` of `year`, or of its next occurrence.
    fn date(&self, year: Option<i16>, month: i8, day: i8) -> Option<Timestamp> {
        match year {
            Some(year) => self.at(Date::new(year, month, day).ok()?, END_OF_DAY),
            None => {
                let this_year = self.today.year();
                (this_year..=this_year.saturating_add(4)).find_map(|y| {
                    let at = self.at(Date::new(y, month, day).ok()?, END_OF_DAY)?;
                    (at > self.now).then_some(at)
                })
            }
        }
    }
}

/// The first due phrase of `text` (whose words are `words`).
pub(super) fn find_due(
    text: &str,
    words: &[Word],
    tz: &TimeZone,
    now: Timestamp,
) -> Option<DueFound> {
    let clock = Clock {
        tz,
        now,
        today: tz.to_datetime(now).date(),
    };
    // `da lunedì` is a start, unless something is broken or not done since
    // then (`non squilla da lunedì`).
    let broken = !super::words::find_all(words, super::lexicon::OUTAGE).is_empty()
        || words
            .iter()
            .any(|w| super::lexicon::NEGATORS.contains(&w.folded.as_str()));
    let from_words = (0..words.len()).find_map(|i| {
        let (end, due) = at_word(words, i, &clock, broken)?;
        (due > now).then_some((i, end, due))
    });
    let from_words = from_words.map(|(first, end, due)| {
        let first = with_leads(words, first);
        DueFound {
            start: words[first].start,
            end: words[end - 1].end,
            due,
        }
    });
    let numeric = numeric_dates(text)
        .into_iter()
        .find_map(|(start, end, y, m, d)| {
            let due = clock.date(y, m, d)?;
            (due > now).then_some(DueFound { start, end, due })
        });
    match (from_words, numeric) {
        (Some(a), Some(b)) => Some(if b.start < a.start { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Moves a phrase's start back over the words that introduce it (`entro il`).
fn with_leads(words: &[Word], mut first: usize) -> usize {
    while first > 0 && DUE_LEADS.contains(&words[first - 1].folded.as_str()) {
        first -= 1;
    }
    first
}

fn any(words: &[Word], at: usize, phrases: &[&str]) -> Option<usize> {
    // Cheap test first: most words start no phrase.
    let first = word(words, at);
    phrases
        .iter()
        .filter(|p| {
            let head = p.split(' ').next().unwrap_or("");
            (head.len() < 5 && first == head) || (head.len() >= 5 && first.len() >= 4)
        })
        .filter_map(|p| match_at(words, at, &phrase(p)))
        .max()
}

fn word(words: &[Word], at: usize) -> &str {
    words.get(at).map_or("", |w| w.folded.as_str())
}

/// A due phrase starting at word `at`: the index past it and its time.
fn at_word(
    words: &[Word],
    at: usize,
    clock: &Clock<'_>,
    broken: bool,
) -> Option<(usize, Timestamp)> {
    const EOD: &[&str] = &[
        "end of day",
        "end of the day",
        "eod",
        "cob",
        "close of business",
        "today",
        "tonight",
        "oggi",
        "in giornata",
        "fine giornata",
        "fine della giornata",
        "stasera",
        "entro sera",
    ];
    if let Some(end) = any(words, at, EOD) {
        return Some((end, clock.end_of_today()?));
    }
    if let Some(end) = any(words, at, &["tomorrow morning", "domani mattina"]) {
        return Some((end, clock.in_days(1, START_OF_DAY)?));
    }
    if let Some(end) = any(words, at, &["day after tomorrow", "dopodomani"]) {
        return Some((end, clock.in_days(2, END_OF_DAY)?));
    }
    if let Some(end) = any(words, at, &["tomorrow", "domani", "tmrw"]) {
        return Some((end, clock.in_days(1, END_OF_DAY)?));
    }
    const NEXT_WEEK: &[&str] = &[
        "next week",
        "settimana prossima",
        "prossima settimana",
        "settimana che viene",
    ];
    if let Some(end) = any(words, at, NEXT_WEEK) {
        return Some((end, clock.coming(Weekday::Monday, START_OF_DAY)?));
    }
    const END_OF_WEEK: &[&str] = &[
        "end of the week",
        "end of week",
        "eow",
        "fine settimana",
        "fine della settimana",
        "this weekend",
        "the weekend",
        "weekend",
        "week end",
    ];
    if let Some(end) = any(words, at, END_OF_WEEK) {
        let friday = match clock.today.weekday() {
            Weekday::Friday => clock.end_of_today()?,
            _ => clock.coming(Weekday::Friday, END_OF_DAY)?,
        };
        return Some((end, friday));
    }
    const END_OF_MONTH: &[&str] = &[
        "end of the month",
        "end of month",
        "month end",
        "eom",
        "fine mese",
        "fine del mese",
        "fine di questo mese",
    ];
    if let Some(end) = any(words, at, END_OF_MONTH) {
        let last = clock.today.last_of_month();
        let due = match clock.at(last, END_OF_DAY)? {
            due if due > clock.now => due,
            _ => clock.at(last.tomorrow().ok()?.last_of_month(), END_OF_DAY)?,
        };
        return Some((end, due));
    }
    if let Some(found) = weekday_at(words, at, clock, broken) {
        return Some(found);
    }
    if let Some(found) = duration_at(words, at, clock) {
        return Some(found);
    }
    month_date_at(words, at, clock)
}

fn weekday_at(
    words: &[Word],
    at: usize,
    clock: &Clock<'_>,
    broken: bool,
) -> Option<(usize, Timestamp)> {
    let got = word(words, at);
    // Abbreviations (3-4 letters) only exactly, names with one typo.
    let day = WEEKDAYS.iter().find_map(|(name, day)| {
        let hit = if name.len() <= 4 {
            got == *name
        } else {
            same_word(got, name)
        };
        hit.then_some(*day)
    })?;
    let abbreviated = got.chars().count() <= 4;
    let before = at.checked_sub(1).map_or("", |i| word(words, i));
    // `from Monday`, `da lunedì`: a start (09:00), unless something is
    // broken (then it is since when).
    if !broken && matches!(before, "from" | "da" | "dal") && !abbreviated {
        return Some((at + 1, clock.coming(day, START_OF_DAY)?));
    }
    if PAST_BEFORE_WEEKDAY.contains(&before) || PAST_AFTER_WEEKDAY.contains(&word(words, at + 1)) {
        return None;
    }
    // `mar`, `gio`, `ven`... are weekdays only right after a lead word.
    if abbreviated && !DUE_LEADS.contains(&before) {
        return None;
    }
    Some((at + 1, clock.coming(day, END_OF_DAY)?))
}

/// `in 2 hours`, `fra 2 ore`, `tra 30 minuti`, `entro un'ora`, `2h`, `in 3 days`.
fn duration_at(words: &[Word], at: usize, clock: &Clock<'_>) -> Option<(usize, Timestamp)> {
    const INTRO: &[&str] = &["in", "within", "fra", "tra", "entro"];
    if !INTRO.contains(&word(words, at)) {
        return None;
    }
    let count = word(words, at + 1);
    let (n, unit, end) = match count {
        "an" | "a" | "one" | "un" | "una" | "uno" => (1, word(words, at + 2), at + 3),
        _ => match count.parse::<i64>() {
            Ok(n) => (n, word(words, at + 2), at + 3),
            Err(_) => {
                // `2h`, `30min`
                let digits = count.find(|c: char| !c.is_ascii_digit())?;
                let (n, unit) = count.split_at(digits);
                (n.parse().ok()?, unit, at + 2)
            }
        },
    };
    if !(1..=1000).contains(&n) {
        return None;
    }
    let due = match unit {
        "hour" | "hours" | "hr" | "hrs" | "h" | "ora" | "ore" => {
            clock.now.checked_add(SignedDuration::from_hours(n)).ok()?
        }
        "minute" | "minutes" | "min" | "mins" | "minuto" | "minuti" => {
            clock.now.checked_add(SignedDuration::from_mins(n)).ok()?
        }
        "day" | "days" | "giorno" | "giorni" => clock.in_days(n, END_OF_DAY)?,
        _ => return None,
    };
    Some((end, due))
}

fn month_named(w: &str) -> Option<i8> {
    MONTHS.iter().find_map(|(name, m)| {
        let hit = if name.len() <= 4 {
            w == *name
        } else {
            same_word(w, name)
        };
        hit.then_some(*m)
    })
}

/// `3`, `3rd`, `1st`, `22nd` as a day of the month.
fn day_number(w: &str) -> Option<i8> {
    let digits = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
    let (n, suffix) = w.split_at(digits);
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") || n.is_empty() || n.len() > 2 {
        return None;
    }
    let n: i8 = n.parse().ok()?;
    (1..=31).contains(&n).then_some(n)
}

fn year_number(w: &str) -> Option<i16> {
    if w.len() != 4 {
        return None;
    }
    w.parse().ok().filter(|y| (2000..=2200).contains(y))
}

/// `3 dicembre`, `3 dicembre 2027`, `3rd of December`, `December 3`.
fn month_date_at(words: &[Word], at: usize, clock: &Clock<'_>) -> Option<(usize, Timestamp)> {
    let (day, month, mut end) = if let Some(day) = day_number(word(words, at)) {
        let of = usize::from(matches!(word(words, at + 1), "of" | "di"));
        let month = month_named(word(words, at + 1 + of))?;
        (day, month, at + 2 + of)
    } else {
        let month = month_named(word(words, at))?;
        let day = day_number(word(words, at + 1))?;
        (day, month, at + 2)
    };
    let year = year_number(word(words, end));
    if year.is_some() {
        end += 1;
    }
    Some((end, clock.date(year, month, day)?))
}

/// Dates written with digits: `12/3`, `12/3/2027`, `12/3/27`, `2026-12-03`;
/// as (start, end, year, month, day), in text order.
fn numeric_dates(text: &str) -> Vec<(usize, usize, Option<i16>, i8, i8)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                let piece: &str = &text[s..i];
                let trimmed = piece.trim_matches(|c: char| !c.is_alphanumeric());
                if let Some((y, m, d)) = numeric_date(trimmed) {
                    let offset = s + piece.find(trimmed).unwrap_or(0);
                    out.push((offset, offset + trimmed.len(), y, m, d));
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    out
}

fn numeric_date(s: &str) -> Option<(Option<i16>, i8, i8)> {
    if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
        let date: Date = s.parse().ok()?;
        return Some((Some(date.year()), date.month(), date.day()));
    }
    if s == "24/7" {
        return None;
    }
    let mut parts = s.split('/');
    let mut day: i8 = small(parts.next()?)?;
    let mut month: i8 = small(parts.next()?)?;
    // Day first, as the clients write; `12/15` can only be month first.
    if month > 12 && day <= 12 {
        std::mem::swap(&mut day, &mut month);
    }
    let year = match parts.next() {
        None => None,
        Some(y) if y.len() == 4 => Some(y.parse::<i16>().ok()?),
        Some(y) if y.len() == 2 => Some(2000 + y.parse::<i16>().ok()?),
        Some(_) => return None,
    };
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((year, month, day))
}

fn small(s: &str) -> Option<i8> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
