//! Free text to a task draft: side, category, priority, due time, assignee
//! and title, each guess with the reason for it, so the requester can confirm
//! or correct it. Italian and English, any case, accents optional, one typo
//! tolerated in cue words of five letters or more (`urgnet`, `bloccatto`).
//!
//! Pure: no I/O, no clock reads. The time zone is the client's; `now` is
//! passed in.
//!
//! # Priority
//! The first rule that applies decides, and the draft's reasons name the
//! words that made it apply:
//!
//! 1. an explicit `P1`..`P4` (or `priority 2`, `priorità 2`) → that priority;
//! 2. a security incident (`ransomware`, `data breach`), a safety risk
//!    (`smoke`, `allagato`), nothing working (`non funziona niente`) or
//!    customers hit (`customers can't pay`) → **P1**; so is an outage cue
//!    with one of the client's business-critical systems
//!    (`ClientRouting::critical`: `centralino`, `ERP`);
//! 3. an outage cue (`down`, `outage`, `nobody can work`, `non funziona`,
//!    `bloccato`, `fermo`, ...) and a whole-office scope (`whole office`,
//!    `everyone`, `all users`, `tutto l'ufficio`, `tutti`, `nessuno riesce`,
//!    ..., or a site as the subject: `la filiale è offline`) → **P1**;
//! 4. a calm cue (`not urgent`, `no rush`, `non è urgente`, `con calma`, ...)
//!    → **P4**;
//! 5. an urgency cue (`urgent`, `ASAP`, `critical`, `urgente`, `subito`,
//!    `critico`, ...), nobody able to do something (`nobody can print`), or
//!    an outage cue not limited to one person → **P2**;
//! 6. an outage cue limited to one person (`my laptop`, `il mio pc`,
//!    `non riesco`, `only me`) → **P3**;
//! 7. the matched category's default priority;
//! 8. the client's default priority.
//!
//! An urgency cue right after a negation (`non urgente`, `isn't urgent`) does
//! not count; `down` after `shut`/`slow`/... is not an outage; `tutti` in a
//! greeting (`ciao a tutti`) is not a scope.
//!
//! # Due time
//! See [`when`] for the phrases and what each means: end of day is 18:00
//! local, next week is Monday 09:00 local, a weekday is the coming one at
//! 18:00, dates are day first.
//!
//! The [`Draft`] names a typed [`Reason`] for every guess; `ponte triage` prints a
//! draft and its reasons, to test a configuration's rules by hand.

mod lexicon;
mod title;
mod when;
mod words;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod unseen;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::people::Side;
use super::routing::{Category, ClientRouting, RouteReason, SideChoice};
use super::task::Priority;
use lexicon::*;
use words::{Found, Word, find_all, quote};

pub use title::TITLE_LIMIT;
pub use when::START_OF_DAY;

/// Only this many characters of a text are read for cues (the details keep
/// the whole text).
pub const READ_LIMIT: usize = 4000;

/// What Ponte understood from a request written in free text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// A short title: the first sentence, without mentions, greetings and
    /// urgency words, at most [`TITLE_LIMIT`] characters.
    pub title: String,
    /// The whole text.
    pub details: String,
    /// The side the requester asked for, or `auto` for the routing rules.
    pub side: SideChoice,
    pub category: Option<Category>,
    pub priority: Priority,
    pub due: Option<Timestamp>,
    /// The first Discord user mentioned that is not the bot.
    pub assignee: Option<u64>,
    /// Why: one entry per guess.
    pub reasons: Vec<Reason>,
}

/// What kind of priority cue matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CueKind {
    /// `P1`, `priority 2`.
    Explicit,
    /// `down`, `non funziona`.
    Outage,
    /// `urgent`, `subito`.
    Urgent,
    /// `no rush`, `con calma`.
    Calm,
    /// A security incident under way: `ransomware`, `data breach`.
    Security,
    /// A risk to people or premises: `smoke`, `allagato`.
    Safety,
    /// One of the client's business-critical systems is out of order.
    Critical,
}

/// How many people a problem hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A whole office, everyone.
    WholeOffice,
    /// The requester alone.
    OnePerson,
    /// The company's customers.
    Customers,
}

/// Why the draft says what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "guess", rename_all = "snake_case")]
pub enum Reason {
    /// A word or phrase set the priority. `cue` is the lexicon entry,
    /// `typed` the text as written (they differ for typos and accents).
    PriorityCue {
        cue: String,
        typed: String,
        kind: CueKind,
        priority: Priority,
    },
    /// Who is affected weighed in on the priority.
    Scope {
        phrase: String,
        scope: Scope,
        priority: Priority,
    },
    /// No cue: the matched category's default priority.
    CategoryPriority {
        category: Category,
        priority: Priority,
    },
    /// No cue and no category: the client's default priority.
    DefaultPriority { priority: Priority },
    /// A phrase set the due time.
    DueCue { phrase: String, due: Timestamp },
    /// The requester named a side.
    SideHint { phrase: String, side: Side },
    /// The requester named both sides: the routing rules decide.
    SideConflict { msp: String, internal: String },
    /// A keyword matched a category (the routing rule that matched).
    Category(RouteReason),
    /// Someone was mentioned: they are proposed as the assignee.
    Mention { user: u64 },
}

/// Understands `text` for a client with `routing`, in the client's time
/// zone, at `now`.
pub fn understand(text: &str, routing: &ClientRouting, tz: &TimeZone, now: Timestamp) -> Draft {
    understand_for_bot(text, None, routing, tz, now)
}

/// [`understand`], not taking a mention of the bot itself (`bot_id`) for
/// the assignee.
pub fn understand_for_bot(
    text: &str,
    bot_id: Option<u64>,
    routing: &ClientRouting,
    tz: &TimeZone,
    now: Timestamp,
) -> Draft {
    let visible = title::strip_invisible(text);
    let (plain, mentions) = title::strip_mentions(&visible);
    let read: &str = match plain.char_indices().nth(READ_LIMIT) {
        Some((cut, _)) => &plain[..cut],
        None => &plain,
    };
    let words = words::words(read);
    let mut reasons = Vec::new();

    let side = side_hint(read, &words, &mut reasons);

    let category = routing
        .match_keywords(read)
        .or_else(|| routing.match_keywords(&words::fold(read)))
        .map(|(rule, keyword)| {
            reasons.push(Reason::Category(RouteReason::Keyword {
                category: rule.category.clone(),
                keyword: keyword.to_owned(),
                owner: rule.owner,
            }));
            rule
        });

    let mut priority_reasons = Vec::new();
    let critical = routing
        .critical_in(read)
        .or_else(|| routing.critical_in(&words::fold(read)));
    let priority = match score(read, &words, critical) {
        Some(scored) => {
            priority_reasons.extend(scored.reasons);
            scored.priority
        }
        None => match category {
            Some(rule) => {
                priority_reasons.push(Reason::CategoryPriority {
                    category: rule.category.clone(),
                    priority: rule.priority,
                });
                rule.priority
            }
            None => {
                priority_reasons.push(Reason::DefaultPriority {
                    priority: routing.default_priority,
                });
                routing.default_priority
            }
        },
    };
    reasons.extend(priority_reasons);

    let due = when::find_due(read, &words, tz, now).map(|found| {
        reasons.push(Reason::DueCue {
            phrase: read[found.start..found.end].to_owned(),
            due: found.due,
        });
        found.due
    });

    let assignee = mentions.into_iter().find(|id| Some(*id) != bot_id);
    if let Some(user) = assignee {
        reasons.push(Reason::Mention { user });
    }

    Draft {
        title: title::title(read),
        details: text.to_owned(),
        side,
        category: category.map(|rule| rule.category.clone()),
        priority,
        due,
        assignee,
        reasons,
    }
}

fn side_hint(text: &str, words: &[Word], reasons: &mut Vec<Reason>) -> SideChoice {
    let msp = find_all(words, TO_MSP).into_iter().next();
    let internal = find_all(words, TO_INTERNAL).into_iter().next();
    let said = |f: &Found| quote(text, words, f.first, f.end).to_owned();
    match (msp, internal) {
        (Some(m), Some(i)) => {
            reasons.push(Reason::SideConflict {
                msp: said(&m),
                internal: said(&i),
            });
            SideChoice::Auto
        }
        (Some(found), None) => {
            reasons.push(Reason::SideHint {
                phrase: said(&found),
                side: Side::Msp,
            });
            SideChoice::To(Side::Msp)
        }
        (None, Some(found)) => {
            reasons.push(Reason::SideHint {
                phrase: said(&found),
                side: Side::Internal,
            });
            SideChoice::To(Side::Internal)
        }
        (None, None) => SideChoice::Auto,
    }
}

struct Scored {
    priority: Priority,
    reasons: Vec<Reason>,
}

fn word(words: &[Word], at: usize) -> &str {
    words.get(at).map_or("", |w| w.folded.as_str())
}

/// Whether the cue at word `at` follows a negation (`non urgente`, `isn't
/// that urgent`), skipping a couple of filler words.
fn negated(words: &[Word], at: usize) -> bool {
    const FILLERS: &[&str] = &[
        "t", "e", "is", "that", "so", "very", "really", "molto", "cosi", "troppo", "proprio",
    ];
    let mut i = at;
    for _ in 0..3 {
        let Some(before) = i.checked_sub(1) else {
            return false;
        };
        let w = word(words, before);
        if NEGATORS.contains(&w) {
            return true;
        }
        if !FILLERS.contains(&w) {
            return false;
        }
        i = before;
    }
    false
}

fn overlaps(a: &Found, b: &Found) -> bool {
    a.first < b.end && b.first < a.end
}

/// The priority the cues of a text call for, with the cues; `None` when the
/// text has no cue (the category or client default applies). `critical` is
/// the client's business-critical system the text names, if any.
fn score(text: &str, words: &[Word], critical: Option<&str>) -> Option<Scored> {
    let said = |f: &Found| quote(text, words, f.first, f.end).to_owned();
    let cue = |f: &Found, kind, priority| Reason::PriorityCue {
        cue: f.entry.to_owned(),
        typed: said(f),
        kind,
        priority,
    };
    let scope = |f: &Found, scope, priority| Reason::Scope {
        phrase: said(f),
        scope,
        priority,
    };
    let p1 = |reasons| {
        Some(Scored {
            priority: Priority::P1,
            reasons,
        })
    };

    if let Some((found, priority)) = explicit(words) {
        return Some(Scored {
            priority,
            reasons: vec![cue(&found, CueKind::Explicit, priority)],
        });
    }
    // What stops the business or endangers people, whatever else is said.
    if let Some(f) = find_all(words, INCIDENT).first() {
        return p1(vec![cue(f, CueKind::Security, Priority::P1)]);
    }
    if let Some(f) = find_all(words, SAFETY).first() {
        return p1(vec![cue(f, CueKind::Safety, Priority::P1)]);
    }
    if let Some(f) = find_all(words, NOTHING).first() {
        return p1(vec![cue(f, CueKind::Outage, Priority::P1)]);
    }
    if let Some(f) = find_all(words, CUSTOMERS).first() {
        return p1(vec![scope(f, Scope::Customers, Priority::P1)]);
    }

    let calm = find_all(words, CALM);
    let urgent: Vec<Found> = find_all(words, URGENT)
        .into_iter()
        .filter(|f| !calm.iter().any(|c| overlaps(c, f)) && !negated(words, f.first))
        .collect();
    let outage: Vec<Found> = find_all(words, OUTAGE)
        .into_iter()
        .filter(|f| {
            // `shut down`, `slow down` are no outage.
            let not_down = f.entry == "down"
                && f.first
                    .checked_sub(1)
                    .is_some_and(|b| NOT_AN_OUTAGE_BEFORE_DOWN.contains(&word(words, b)));
            !calm.iter().any(|c| overlaps(c, f)) && !not_down
        })
        .collect();
    if let (Some(o), Some(system)) = (outage.first(), critical) {
        return p1(vec![
            Reason::PriorityCue {
                cue: system.to_owned(),
                typed: system.to_owned(),
                kind: CueKind::Critical,
                priority: Priority::P1,
            },
            cue(o, CueKind::Outage, Priority::P1),
        ]);
    }
    let mut wide = wide_scope(words);
    if !outage.is_empty() {
        wide.extend(site_scope(words));
    }
    let single = single_scope(words);

    let (priority, reasons) = match (outage.first(), wide.first(), calm.first(), urgent.first()) {
        (Some(o), Some(w), _, _) => (
            Priority::P1,
            vec![
                cue(o, CueKind::Outage, Priority::P1),
                scope(w, Scope::WholeOffice, Priority::P1),
            ],
        ),
        (_, _, Some(c), _) => (Priority::P4, vec![cue(c, CueKind::Calm, Priority::P4)]),
        (_, _, _, Some(u)) => (Priority::P2, vec![cue(u, CueKind::Urgent, Priority::P2)]),
        (None, Some(w), None, None) if NOBODY_CAN.contains(&w.entry) => (
            // `nobody can print`: everyone is held up, if not stopped.
            Priority::P2,
            vec![scope(w, Scope::WholeOffice, Priority::P2)],
        ),
        (Some(o), None, None, None) => match single.first() {
            Some(s) => (
                Priority::P3,
                vec![
                    cue(o, CueKind::Outage, Priority::P3),
                    scope(s, Scope::OnePerson, Priority::P3),
                ],
            ),
            None => (Priority::P2, vec![cue(o, CueKind::Outage, Priority::P2)]),
        },
        (None, _, None, None) => return None,
    };
    Some(Scored { priority, reasons })
}

/// A whole site as the subject (`la filiale è offline`, `the warehouse is
/// down`): a site word not after a preposition (`in the warehouse`).
fn site_scope(words: &[Word]) -> Vec<Found> {
    find_all(words, SITES)
        .into_iter()
        .filter(|f| {
            let mut at = f.first;
            while at > 0 && ARTICLES.contains(&word(words, at - 1)) {
                at -= 1;
            }
            let before = at.checked_sub(1).map_or("", |b| word(words, b));
            !PLACE_PREPOSITIONS.contains(&before)
        })
        .collect()
}

/// `P1`..`P4`, `priority 2`, `priorità 2`.
fn explicit(words: &[Word]) -> Option<(Found, Priority)> {
    let level = |w: &str| match w {
        "1" => Some(Priority::P1),
        "2" => Some(Priority::P2),
        "3" => Some(Priority::P3),
        "4" => Some(Priority::P4),
        _ => None,
    };
    (0..words.len()).find_map(|i| {
        let w = word(words, i);
        if let Some(n) = w.strip_prefix('p') {
            if let Some(p) = level(n) {
                let found = Found {
                    entry: "P1..P4",
                    first: i,
                    end: i + 1,
                };
                return Some((found, p));
            }
        }
        if matches!(w, "priority" | "priorita" | "prio") {
            let p = level(word(words, i + 1))?;
            let found = Found {
                entry: "priority 1..4",
                first: i,
                end: i + 2,
            };
            return Some((found, p));
        }
        None
    })
}

fn wide_scope(words: &[Word]) -> Vec<Found> {
    const TIMES: &[&str] = &[
        "giorni",
        "volte",
        "mattine",
        "sere",
        "mesi",
        "settimane",
        "anni",
        "giorno",
        "mattina",
    ];
    find_all(words, WIDE)
        .into_iter()
        .filter(|f| {
            let loose = matches!(f.entry, "tutti" | "tutte" | "everyone" | "everybody");
            if !loose {
                return true;
            }
            let before = f.first.checked_sub(1).map_or("", |b| word(words, b));
            let greeting = GREETING_BEFORE_ALL.contains(&before);
            // `tutti i giorni`, `tutte le volte`: every day, every time.
            let time =
                TIMES.contains(&word(words, f.end)) || TIMES.contains(&word(words, f.end + 1));
            !greeting && !time
        })
        .collect()
}

fn single_scope(words: &[Word]) -> Vec<Found> {
    let mut out = find_all(words, SINGLE);
    for i in 0..words.len() {
        if MY.contains(&word(words, i)) {
            let next = word(words, i + 1);
            if next.is_empty() || GROUP_NOUNS.contains(&next) {
                continue;
            }
            let article = i
                .checked_sub(1)
                .is_some_and(|b| matches!(word(words, b), "il" | "la" | "i" | "le"));
            out.push(Found {
                entry: "my ...",
                first: if article { i - 1 } else { i },
                end: i + 2,
            });
        }
    }
    out.sort_by_key(|f| f.first);
    out
}
