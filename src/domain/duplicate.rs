//! Duplicate reports: when many people report one outage, a new request
//! that resembles an open task of the same client from the last hours is
//! offered to join it instead of opening another.
//!
//! `find` picks the open task of the client most like a new draft: same category,
//! created within `WINDOW` (4 h) before `now`, a Jaccard similarity of meaningful
//! words of at least `THRESHOLD` (0.3). The candidates are the open tasks created in
//! the window among the client's latest `CANDIDATES` (200), which the caller reads
//! through the store's index by creation (`Ledger::recent_open`). Joining is
//! `Command::JoinAsReporter`, recorded as `reporter_added`.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::routing::Category;
use super::task::Task;
use super::text;

/// How far back a task counts as "the same problem, just reported".
pub const WINDOW: SignedDuration = SignedDuration::from_hours(4);
/// How many of a client's latest tasks a new report is compared with (those
/// of them open and created within [`WINDOW`]): during an outage the
/// latest reports are the likeliest to match, and each comparison reads a
/// snapshot while someone waits for the preview.
pub const CANDIDATES: usize = 200;
/// The share of words two reports must have in common (Jaccard index of
/// their meaningful words) to be the same problem.
pub const THRESHOLD: f64 = 0.3;

/// Words that say nothing about the problem, in English and Italian.
const STOP: &[&str] = &[
    "the",
    "and",
    "for",
    "not",
    "but",
    "our",
    "all",
    "any",
    "can",
    "has",
    "have",
    "with",
    "from",
    "this",
    "that",
    "since",
    "again",
    "please",
    "still",
    "does",
    "doesn",
    "isn",
    "are",
    "was",
    "its",
    "non",
    "per",
    "con",
    "che",
    "del",
    "della",
    "dei",
    "delle",
    "nel",
    "nella",
    "una",
    "uno",
    "gli",
    "le",
    "il",
    "la",
    "da",
    "di",
    "al",
    "alla",
    "sul",
    "sulla",
    "anche",
    "più",
    "ancora",
    "come",
    "stamattina",
    "oggi",
    "urgente",
    "urgent",
    "asap",
    "help",
    "aiuto",
];

/// The meaningful words of a text: lower-cased, three letters or more, no
/// stop words; a trailing plural `s` is dropped so "printers" meets "printer".
pub fn keywords(text: &str) -> BTreeSet<String> {
    text::words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.chars().count() >= 3 => stem.to_owned(),
            _ => w,
        })
        .collect()
}

/// How alike two texts are, from 0 (nothing in common) to 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (keywords(a), keywords(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// The open task of `candidates` that a new request (`text`, in
/// `category`) most resembles: same category, created within `WINDOW`
/// before `now`, and at least `THRESHOLD` alike. Requests without a
/// category are never duplicates (too little to go on).
pub fn find<'a>(
    text: &str,
    category: Option<&Category>,
    candidates: &'a [Task],
    now: Timestamp,
) -> Option<&'a Task> {
    let category = category?;
    candidates
        .iter()
        .filter(|t| t.status.is_open())
        .filter(|t| t.category.as_ref() == Some(category))
        .filter(|t| t.created_at <= now && now.duration_since(t.created_at) <= WINDOW)
        .map(|t| (t, similarity(text, &format!("{}\n{}", t.title, t.details))))
        .filter(|(_, score)| *score >= THRESHOLD)
        .max_by(|(a, x), (b, y)| x.total_cmp(y).then(b.created_at.cmp(&a.created_at)))
        .map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        ClientKey, Event, EventKind, PersonId, Priority, RouteReason, Side, TaskId, Who,
    };

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn task(n: u64, title: &str, category: &str, created: &str) -> Task {
        let id = TaskId::new(ClientKey::new("ACME").unwrap(), n);
        let event = |seq, kind| Event {
            task: id.clone(),
            seq,
            at: at(created),
            by: Who::Person(PersonId(1)),
            kind,
        };
        let category = Category::new(category).unwrap();
        Task::fold(&[
            event(
                1,
                EventKind::Created {
                    title: title.into(),
                    details: String::new(),
                    requester: PersonId(1),
                    asking_side: Side::Internal,
                    priority: Priority::P2,
                    due: None,
                },
            ),
            event(
                2,
                EventKind::Routed {
                    side: Side::Msp,
                    category: Some(category.clone()),
                    reason: RouteReason::Category {
                        category,
                        owner: Side::Msp,
                    },
                },
            ),
        ])
        .unwrap()
    }

    #[test]
    fn the_same_outage_reported_twice_is_a_duplicate() {
        let now = at("2026-11-27T10:00:00Z");
        let open = [
            task(
                1,
                "The VPN is down in Milan",
                "network",
                "2026-11-27T09:00:00Z",
            ),
            task(
                2,
                "Printer jammed on floor 2",
                "printers",
                "2026-11-27T09:30:00Z",
            ),
        ];
        let network = Category::new("network").unwrap();
        let found = find("VPN down again in Milan office", Some(&network), &open, now);
        assert_eq!(found.map(|t| t.id.number()), Some(1));
        // Same category, other words: a different problem.
        assert!(
            find(
                "Wifi slow in the Rome warehouse",
                Some(&network),
                &open,
                now
            )
            .is_none()
        );
        // Same words, other category: not the same task.
        let email = Category::new("email").unwrap();
        assert!(find("VPN down in Milan", Some(&email), &open, now).is_none());
        // No category: never a duplicate.
        assert!(find("VPN down in Milan", None, &open, now).is_none());
    }

    #[test]
    fn only_recent_open_tasks_count() {
        let network = Category::new("network").unwrap();
        let mut old = task(
            1,
            "The VPN is down in Milan",
            "network",
            "2026-11-27T03:00:00Z",
        );
        let now = at("2026-11-27T09:00:00Z");
        assert!(
            find(
                "VPN down in Milan",
                Some(&network),
                std::slice::from_ref(&old),
                now
            )
            .is_none()
        );
        old.created_at = at("2026-11-27T06:00:00Z");
        assert!(
            find(
                "VPN down in Milan",
                Some(&network),
                std::slice::from_ref(&old),
                now
            )
            .is_some()
        );
        old.status = crate::domain::Status::Resolved;
        assert!(find("VPN down in Milan", Some(&network), &[old], now).is_none());
    }

    #[test]
    fn similarity_ignores_case_plurals_and_filler_words() {
        assert!(similarity("The PRINTERS are jammed", "printer jammed") > 0.99);
        assert_eq!(similarity("", "anything"), 0.0);
        assert!(
            similarity("la stampante non stampa", "stampante bloccata, non stampa") >= THRESHOLD
        );
        assert!(similarity("password scaduta", "stampante bloccata") < THRESHOLD);
    }
}
