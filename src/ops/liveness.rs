//! Liveness (issue 20): when each loop of the running bot last did its work,
//! for `/healthz` and the heartbeat out.
//!
//! - **writer**: the ledger's writer thread finished a batch (a change, or a
//!   ping the heartbeat out sends through it: a stuck writer answers none);
//! - **timers**: the timer loop finished a firing of every timer (a timer
//!   that hangs inside its firing stops these);
//! - **gateway**: the Discord gateway was seen connected.
//!
//! Times are the process's wall clock (this is about the process, not the
//! sandbox's manual clock). [`Liveness`] is cheap to share and lock-free.
//!
//! The heartbeat out ([`crate::ops::heartbeat_out`]) pings an outside URL
//! only when every part is fresh ([`stale_parts`]), in the manner of Grafana
//! OnCall's escalation auditor: the outside service notices the silence when
//! a loop stops, not only when the process dies.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use jiff::Timestamp;

/// A loop of the running bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Writer,
    Timers,
    Gateway,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Writer, Part::Timers, Part::Gateway];

    pub fn name(self) -> &'static str {
        match self {
            Part::Writer => "writer",
            Part::Timers => "timers",
            Part::Gateway => "gateway",
        }
    }
}

/// When each part last succeeded.
#[derive(Debug, Default)]
pub struct Liveness {
    /// Milliseconds since the Unix epoch; 0 = never.
    last: [AtomicI64; 3],
}

impl Liveness {
    pub fn new() -> Self {
        Self::default()
    }

    /// `part` did its work now.
    pub fn mark(&self, part: Part) {
        self.mark_at(part, Timestamp::now());
    }

    /// `part` did its work at `at` (tests).
    pub fn mark_at(&self, part: Part, at: Timestamp) {
        self.last[part as usize].fetch_max(at.as_millisecond().max(1), Ordering::SeqCst);
    }

    /// When `part` last did its work, if ever.
    pub fn last(&self, part: Part) -> Option<Timestamp> {
        match self.last[part as usize].load(Ordering::SeqCst) {
            0 => None,
            ms => Timestamp::from_millisecond(ms).ok(),
        }
    }

    /// Every part with its last success.
    pub fn parts(&self) -> Vec<(Part, Option<Timestamp>)> {
        Part::ALL.iter().map(|p| (*p, self.last(*p))).collect()
    }
}

/// How long ago `at` was, at `now` (never: `None`).
pub fn age(at: Option<Timestamp>, now: Timestamp) -> Option<Duration> {
    at.map(|at| Duration::try_from(now.duration_since(at)).unwrap_or(Duration::ZERO))
}

/// The parts whose last success is older than their window (or never
/// happened), at `now`. `windows` gives each part's window.
pub fn stale_parts(
    parts: &[(Part, Option<Timestamp>)],
    windows: impl Fn(Part) -> Duration,
    now: Timestamp,
) -> Vec<Part> {
    parts
        .iter()
        .filter(|(part, at)| age(*at, now).is_none_or(|age| age > windows(*part)))
        .map(|(part, _)| *part)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_stale_when_it_never_worked_or_not_within_its_window() {
        let l = Liveness::new();
        let now: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        assert_eq!(
            stale_parts(&l.parts(), |_| Duration::from_secs(60), now),
            Part::ALL
        );
        l.mark_at(Part::Writer, now);
        l.mark_at(Part::Gateway, now);
        l.mark_at(Part::Timers, now - jiff::SignedDuration::from_secs(90));
        assert_eq!(
            stale_parts(&l.parts(), |_| Duration::from_secs(60), now),
            [Part::Timers]
        );
        assert!(stale_parts(&l.parts(), |_| Duration::from_secs(120), now).is_empty());
        // Marks never go back.
        l.mark_at(Part::Writer, now - jiff::SignedDuration::from_secs(600));
        assert_eq!(l.last(Part::Writer), Some(now));
    }
}
