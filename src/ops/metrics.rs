//! What Ponte counts while it runs, written in Prometheus' text format for
//! `/metrics` (see [`crate::ops::health`]).
//!
//! Plain atomics, no serenity and no sled: any part of Ponte increments a
//! counter of [`global()`] (e.g. `metrics::global().pages_sent.inc()`), and
//! the health server renders them with the values only known at scrape time
//! (outbox depth, gateway state).
//!
//! Interactions are counted per kind and outcome, and timed from receipt to answer in
//! one histogram ([`LATENCY_BUCKETS`]).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A counter that only goes up.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What kind of interaction Ponte answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InteractionKind {
    Command,
    Button,
    Modal,
    Mention,
}

impl InteractionKind {
    pub const ALL: [InteractionKind; 4] = [Self::Command, Self::Button, Self::Modal, Self::Mention];

    pub fn label(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Button => "button",
            Self::Modal => "modal",
            Self::Mention => "mention",
        }
    }
}

/// How answering it went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InteractionOutcome {
    /// Answered within the deadline.
    Answered,
    /// Deferred (slow), then answered by an edit.
    Deferred,
    /// Not Ponte's, left alone.
    Ignored,
    /// The answer could not be sent.
    Failed,
}

impl InteractionOutcome {
    pub const ALL: [InteractionOutcome; 4] =
        [Self::Answered, Self::Deferred, Self::Ignored, Self::Failed];

    pub fn label(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Deferred => "deferred",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds (Discord wants an answer
/// within 3 s; Ponte defers after 1.5 s).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0,
];

/// A latency histogram (cumulative buckets are computed when rendered).
#[derive(Debug)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len() + 1],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

const KINDS: usize = InteractionKind::ALL.len();
const OUTCOMES: usize = InteractionOutcome::ALL.len();

/// Every metric Ponte keeps.
#[derive(Debug)]
pub struct Metrics {
    interactions: [[Counter; OUTCOMES]; KINDS],
    /// Time from receiving an interaction to sending its answer.
    pub interaction_latency: Histogram,
    /// Outbox entries delivered.
    pub deliveries_sent: Counter,
    /// Outbox delivery attempts that failed (each is retried).
    pub deliveries_failed: Counter,
    /// Outbox entries set aside for good (refused; `ponte outbox list`).
    pub dead_letters: Counter,
    /// Pages sent to on-call people.
    pub pages_sent: Counter,
    /// Page attempts that failed.
    pub pages_failed: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Values read when `/metrics` is scraped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Entries waiting in the outbox, if the store could count them.
    pub outbox_depth: Option<u64>,
    /// Whether the gateway is connected.
    pub gateway_connected: bool,
}

static GLOBAL: Metrics = Metrics::new();

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

impl Metrics {
    pub const fn new() -> Self {
        Self {
            interactions: [const { [const { Counter::new() }; OUTCOMES] }; KINDS],
            interaction_latency: Histogram::new(),
            deliveries_sent: Counter::new(),
            deliveries_failed: Counter::new(),
            dead_letters: Counter::new(),
            pages_sent: Counter::new(),
            pages_failed: Counter::new(),
        }
    }

    /// Counts one interaction and, unless it was ignored, how long its
    /// answer took.
    pub fn interaction(&self, kind: InteractionKind, outcome: InteractionOutcome, took: Duration) {
        self.interactions[kind as usize][outcome as usize].inc();
        if outcome != InteractionOutcome::Ignored {
            self.interaction_latency.observe(took);
        }
    }

    pub fn interactions(&self, kind: InteractionKind, outcome: InteractionOutcome) -> u64 {
        self.interactions[kind as usize][outcome as usize].get()
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, gauges);
        out
    }

    fn write(&self, out: &mut String, gauges: Gauges) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP ponte_interactions_total Interactions handled, by kind and outcome."
        )?;
        writeln!(out, "# TYPE ponte_interactions_total counter")?;
        for kind in InteractionKind::ALL {
            for outcome in InteractionOutcome::ALL {
                writeln!(
                    out,
                    "ponte_interactions_total{{kind=\"{}\",outcome=\"{}\"}} {}",
                    kind.label(),
                    outcome.label(),
                    self.interactions(kind, outcome)
                )?;
            }
        }
        let h = &self.interaction_latency;
        writeln!(
            out,
            "# HELP ponte_interaction_latency_seconds Time from an interaction to its answer."
        )?;
        writeln!(out, "# TYPE ponte_interaction_latency_seconds histogram")?;
        let mut cumulative = 0;
        for (le, bucket) in LATENCY_BUCKETS.iter().zip(&h.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            writeln!(
                out,
                "ponte_interaction_latency_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            )?;
        }
        cumulative += h.buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        writeln!(
            out,
            "ponte_interaction_latency_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        )?;
        let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        writeln!(out, "ponte_interaction_latency_seconds_sum {sum}")?;
        writeln!(out, "ponte_interaction_latency_seconds_count {cumulative}")?;
        let counters = [
            (
                "ponte_deliveries_sent_total",
                "Outbox entries delivered.",
                &self.deliveries_sent,
            ),
            (
                "ponte_deliveries_failed_total",
                "Outbox delivery attempts that failed (retried later).",
                &self.deliveries_failed,
            ),
            (
                "ponte_dead_letters_total",
                "Outbox entries set aside because delivery was refused for good (ponte outbox list).",
                &self.dead_letters,
            ),
            (
                "ponte_pages_sent_total",
                "Pages sent to on-call people.",
                &self.pages_sent,
            ),
            (
                "ponte_pages_failed_total",
                "Page attempts that failed.",
                &self.pages_failed,
            ),
        ];
        for (name, help, counter) in counters {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} counter")?;
            writeln!(out, "{name} {}", counter.get())?;
        }
        if let Some(depth) = gauges.outbox_depth {
            writeln!(
                out,
                "# HELP ponte_outbox_depth Side effects waiting in the outbox."
            )?;
            writeln!(out, "# TYPE ponte_outbox_depth gauge")?;
            writeln!(out, "ponte_outbox_depth {depth}")?;
        }
        writeln!(
            out,
            "# HELP ponte_gateway_connected 1 while the Discord gateway is connected."
        )?;
        writeln!(out, "# TYPE ponte_gateway_connected gauge")?;
        writeln!(
            out,
            "ponte_gateway_connected {}",
            u8::from(gauges.gateway_connected)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
    }

    #[test]
    fn counts_interactions_by_kind_and_outcome_with_latency() {
        let m = Metrics::new();
        m.interaction(
            InteractionKind::Command,
            InteractionOutcome::Answered,
            Duration::from_millis(30),
        );
        m.interaction(
            InteractionKind::Command,
            InteractionOutcome::Answered,
            Duration::from_millis(2000),
        );
        m.interaction(
            InteractionKind::Button,
            InteractionOutcome::Ignored,
            Duration::from_millis(1),
        );
        let text = m.render(Gauges {
            outbox_depth: Some(7),
            gateway_connected: true,
        });
        assert_eq!(
            line(
                &text,
                "ponte_interactions_total{kind=\"command\",outcome=\"answered\"}"
            ),
            "ponte_interactions_total{kind=\"command\",outcome=\"answered\"} 2"
        );
        assert!(text.contains("ponte_interactions_total{kind=\"button\",outcome=\"ignored\"} 1"));
        // Ignored interactions are not timed; buckets are cumulative.
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"1.5\"} 1"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"2.5\"} 2"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("ponte_interaction_latency_seconds_count 2"));
        assert!(text.contains("ponte_interaction_latency_seconds_sum 2.03"));
        assert!(text.contains("ponte_outbox_depth 7"));
        assert!(text.contains("ponte_gateway_connected 1"));
    }

    #[test]
    fn every_sample_line_is_well_formed_and_every_family_typed() {
        let m = Metrics::new();
        m.pages_sent.add(3);
        m.pages_failed.inc();
        m.deliveries_sent.inc();
        m.deliveries_failed.add(2);
        let text = m.render(Gauges::default());
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = l.rsplit_once(' ').expect("name value");
            assert!(value.parse::<f64>().is_ok(), "{l}");
            let family = name.split('{').next().unwrap_or(name);
            let family = family
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{family} has no TYPE"
            );
        }
        assert!(text.contains("ponte_pages_sent_total 3"));
        assert!(text.contains("ponte_pages_failed_total 1"));
        assert!(text.contains("ponte_deliveries_sent_total 1"));
        assert!(text.contains("ponte_deliveries_failed_total 2"));
        // Unknown depth: no sample rather than a made-up one.
        assert!(!text.contains("ponte_outbox_depth "));
        assert!(text.contains("ponte_gateway_connected 0"));
    }

    #[test]
    fn a_huge_latency_lands_in_inf() {
        let h = Histogram::new();
        h.observe(Duration::from_secs(3600));
        assert_eq!(h.buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed), 1);
        assert_eq!(h.count(), 1);
    }
}
