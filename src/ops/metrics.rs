//! What Ponte counts while it runs, and `/metrics` (see
//! [`crate::ops::health`]) in the OpenMetrics text format, encoded by
//! `prometheus-client`.
//!
//! No serenity and no sled: any part of Ponte increments a metric of
//! [`global()`] (e.g. `metrics::global().pages_sent.inc()`), and the health
//! server renders them with the values only known at scrape time
//! ([`Gauges`]: outbox depth and wait, gateway state, open tasks by client
//! and side) and the process's own figures (resident memory, CPU time, open
//! descriptors, read from `/proc/self`).
//!
//! Interactions are counted per kind and outcome, and timed from receipt to answer in
//! one histogram ([`LATENCY_BUCKETS`]). SLA breaches are counted per client and side
//! as the SLA timer records them.
//!
//! Families still to come (issue 17): per-lane outbox depth and wait, and
//! dead letters, go into [`Gauges`] and [`Metrics::registry`] beside the
//! outbox ones.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InteractionLabels {
    kind: &'static str,
    outcome: &'static str,
}

/// A client and a side, as labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SideLabels {
    client: String,
    side: String,
}

/// What monitoring's input did (issue 20): the integration (a configured
/// name, or `heartbeat`) and the result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    source: String,
    result: &'static str,
}

/// Why the inbound listener refused a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Every metric Ponte keeps.
#[derive(Debug)]
pub struct Metrics {
    interactions: Family<InteractionLabels, Counter>,
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
    sla_breaches: Family<SideLabels, Counter>,
    alerts: Family<AlertLabels, Counter>,
    inbound_refused: Family<RefusedLabels, Counter>,
    heartbeat_out: Family<OutcomeLabels, Counter>,
}

/// What a heartbeat-out period did.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Values read when `/metrics` is scraped.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    /// Entries waiting in the outbox, if the store could count them.
    pub outbox_depth: Option<u64>,
    /// How long the first outbox entry has been due, in seconds (0 while
    /// it waits on a retry's backoff), if the store could read it.
    pub outbox_first_due_seconds: Option<f64>,
    /// Whether the gateway is connected.
    pub gateway_connected: bool,
    /// Open tasks as (client, handling side, count), if the store could
    /// count them.
    pub open_tasks: Option<Vec<(String, String, u64)>>,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            interactions: Family::default(),
            interaction_latency: Histogram::new(LATENCY_BUCKETS),
            deliveries_sent: Counter::default(),
            deliveries_failed: Counter::default(),
            pages_sent: Counter::default(),
            pages_failed: Counter::default(),
            sla_breaches: Family::default(),
            alerts: Family::default(),
            inbound_refused: Family::default(),
            heartbeat_out: Family::default(),
            dead_letters: Counter::default(),
        }
    }

    /// Counts one interaction and, unless it was ignored, how long its
    /// answer took.
    pub fn interaction(&self, kind: InteractionKind, outcome: InteractionOutcome, took: Duration) {
        self.interaction_counter(kind, outcome).inc();
        if outcome != InteractionOutcome::Ignored {
            self.interaction_latency.observe(took.as_secs_f64());
        }
    }

    fn interaction_counter(&self, kind: InteractionKind, outcome: InteractionOutcome) -> Counter {
        self.interactions
            .get_or_create(&InteractionLabels {
                kind: kind.label(),
                outcome: outcome.label(),
            })
            .clone()
    }

    pub fn interactions(&self, kind: InteractionKind, outcome: InteractionOutcome) -> u64 {
        self.interaction_counter(kind, outcome).get()
    }

    /// Counts an SLA breach recorded on a task of `client`, for `side`.
    pub fn sla_breach(&self, client: &str, side: &str) {
        self.sla_breaches
            .get_or_create(&SideLabels {
                client: client.to_owned(),
                side: side.to_owned(),
            })
            .inc();
    }

    /// Counts an alert or beat of `source` and what it did.
    pub fn alert(&self, source: &str, result: &'static str) {
        self.alerts
            .get_or_create(&AlertLabels {
                source: source.to_owned(),
                result,
            })
            .inc();
    }

    /// Counts a heartbeat-out period: `sent`, `failed` or `skipped`.
    pub fn heartbeat_out(&self, outcome: &'static str) {
        self.heartbeat_out
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a request the inbound listener refused, by reason.
    pub fn inbound_refused(&self, reason: &'static str) {
        self.inbound_refused
            .get_or_create(&RefusedLabels { reason })
            .inc();
    }

    /// Every family, with this scrape's values: the long-lived metrics
    /// (shared, not copied), then the scrape's gauges and process figures.
    pub fn registry(&self, gauges: &Gauges) -> Registry {
        let mut r = Registry::default();
        r.register(
            "ponte_build",
            "The running Ponte's version.",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        // Every kind and outcome, also those not seen yet (a 0 is a value).
        for kind in InteractionKind::ALL {
            for outcome in InteractionOutcome::ALL {
                self.interaction_counter(kind, outcome);
            }
        }
        r.register(
            "ponte_interactions",
            "Interactions handled, by kind and outcome.",
            self.interactions.clone(),
        );
        r.register(
            "ponte_interaction_latency_seconds",
            "Time from an interaction to its answer.",
            self.interaction_latency.clone(),
        );
        for (name, help, counter) in [
            (
                "ponte_deliveries_sent",
                "Outbox entries delivered.",
                &self.deliveries_sent,
            ),
            (
                "ponte_deliveries_failed",
                "Outbox delivery attempts that failed (retried later).",
                &self.deliveries_failed,
            ),
            (
                "ponte_dead_letters",
                "Outbox entries set aside because delivery was refused for good (ponte outbox list).",
                &self.dead_letters,
            ),
            (
                "ponte_pages_sent",
                "Pages sent to on-call people.",
                &self.pages_sent,
            ),
            (
                "ponte_pages_failed",
                "Page attempts that failed.",
                &self.pages_failed,
            ),
        ] {
            r.register(name, help, counter.clone());
        }
        r.register(
            "ponte_alerts",
            "Alerts and heartbeats received since start, by integration and what they did.",
            self.alerts.clone(),
        );
        r.register(
            "ponte_heartbeat_out",
            "Heartbeat-out periods: sent, failed (the URL did not answer 2xx) or skipped (a loop was stale).",
            self.heartbeat_out.clone(),
        );
        r.register(
            "ponte_inbound_refused",
            "Requests the alert listener refused, by reason (auth, rate, size, format, unknown).",
            self.inbound_refused.clone(),
        );
        r.register(
            "ponte_sla_breaches",
            "SLA breaches recorded since start, by client and side.",
            self.sla_breaches.clone(),
        );
        if let Some(depth) = gauges.outbox_depth {
            r.register(
                "ponte_outbox_depth",
                "Side effects waiting in the outbox.",
                gauge(depth as i64),
            );
        }
        if let Some(seconds) = gauges.outbox_first_due_seconds {
            let g = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
            g.set(seconds);
            r.register(
                "ponte_outbox_first_due_seconds",
                "How long the outbox's first entry has been due (0 while it waits on a retry).",
                g,
            );
        }
        r.register(
            "ponte_gateway_connected",
            "1 while the Discord gateway is connected.",
            gauge(i64::from(gauges.gateway_connected)),
        );
        if let Some(open) = &gauges.open_tasks {
            let family = Family::<SideLabels, Gauge>::default();
            for (client, side, n) in open {
                family
                    .get_or_create(&SideLabels {
                        client: client.clone(),
                        side: side.clone(),
                    })
                    .set(*n as i64);
            }
            r.register(
                "ponte_open_tasks",
                "Open tasks by client and the side handling them.",
                family,
            );
        }
        process::register(&mut r);
        r
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let registry = self.registry(&gauges);
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
            tracing::error!(error = %e, "cannot encode /metrics");
        }
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn gauge(value: i64) -> Gauge {
    let g = Gauge::default();
    g.set(value);
    g
}

/// The process's own figures, under the names Prometheus' process
/// collectors use (`prometheus-client` has none): resident memory, CPU time
/// and descriptors, from `/proc/self` (Linux; absent elsewhere).
mod process {
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;
    use prometheus_client::registry::Registry;

    pub(super) fn register(r: &mut Registry) {
        // SAFETY: sysconf and getrlimit read process constants into
        // values owned here.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        if let Some(pages) = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        {
            r.register(
                "process_resident_memory_bytes",
                "Resident memory of the process.",
                ConstGauge::new((pages * page) as i64),
            );
        }
        // utime and stime: fields 14 and 15 of /proc/self/stat, counted
        // after the command name (which may hold spaces) in parentheses.
        if let Some(cpu) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let rest = s.get(s.rfind(')')? + 2..)?;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let user: f64 = fields.get(11)?.parse().ok()?;
                let system: f64 = fields.get(12)?.parse().ok()?;
                Some((user + system) / ticks)
            })
        {
            r.register(
                "process_cpu_seconds",
                "User and system CPU time of the process.",
                ConstCounter::new(cpu),
            );
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            r.register(
                "process_open_fds",
                "Open file descriptors of the process.",
                ConstGauge::new(fds.count() as i64),
            );
        }
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            r.register(
                "process_max_fds",
                "The process's limit on open file descriptors.",
                ConstGauge::new(i64::try_from(limit.rlim_cur).unwrap_or(i64::MAX)),
            );
        }
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
            ..Gauges::default()
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
        m.pages_sent.inc_by(3);
        m.pages_failed.inc();
        m.deliveries_sent.inc();
        m.deliveries_failed.inc_by(2);
        let text = m.render(Gauges::default());
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = l.rsplit_once(' ').expect("name value");
            assert!(value.parse::<f64>().is_ok(), "{l}");
            let family = name.split('{').next().unwrap_or(name);
            let family = family
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count")
                .trim_end_matches("_total")
                .trim_end_matches("_info");
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
    fn build_process_open_tasks_and_breaches_are_exposed() {
        let m = Metrics::new();
        m.sla_breach("ACME", "msp");
        m.sla_breach("ACME", "msp");
        m.interaction_latency.observe(3600.0);
        let text = m.render(Gauges {
            outbox_depth: Some(2),
            outbox_first_due_seconds: Some(12.5),
            gateway_connected: true,
            open_tasks: Some(vec![
                ("ACME".into(), "internal".into(), 3),
                ("ACME".into(), "msp".into(), 1),
            ]),
        });
        assert!(
            text.contains(&format!(
                "ponte_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(text.contains("ponte_sla_breaches_total{client=\"ACME\",side=\"msp\"} 2"));
        assert!(text.contains("ponte_open_tasks{client=\"ACME\",side=\"internal\"} 3"));
        assert!(text.contains("ponte_open_tasks{client=\"ACME\",side=\"msp\"} 1"));
        assert!(text.contains("ponte_outbox_first_due_seconds 12.5"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"+Inf\"} 1"));
        assert!(text.contains("ponte_interaction_latency_seconds_bucket{le=\"10.0\"} 0"));
        for family in [
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_max_fds",
        ] {
            let value = line(&text, &format!("{family} "))
                .rsplit_once(' ')
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("{family} has no number"));
            assert!(value > 0.0, "{family} {value}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
