//! `ponte load --alerts N`: the alert listener under load (issue 20). The
//! emulator and the real bot (engine, sled store, outbox) in one process,
//! with the alert listener on a local port; a driver posts `N` distinct
//! alerts to ACME's Alertmanager integration, `batch` alerts per request,
//! `concurrency` requests at a time, each authenticated and parsed as in
//! production. It reports alerts per second recorded as tasks (each request
//! is answered only once its alerts are durable), request latency, and how
//! long the outbox then took to post the tasks' cards (paced below Discord's
//! global rate limit).
//!
//! The baseline, in the same run and process: the same listener, requests
//! and parsing in front of a monitor that records nothing. The difference
//! is Ponte's work: deciding, writing and flushing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::app::clock::SystemClock;
use crate::app::engine::AlertResult;
use crate::app::monitor::{Alert, Monitor, MonitorError, Receipt};
use crate::app::timers::BoxFuture;
use crate::cli::load::{Latency, LoadError, dir_size, proc_status_kib};
use crate::config::Config;
use crate::config::monitoring::{HeartbeatMonitor, Integration};
use crate::emulator::Emulator;
use crate::run::{Connect, start};
use crate::sandbox::cast;
use crate::store::{SledStore, Store, StoreOptions};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub alerts: u64,
    pub batch: usize,
    pub concurrency: usize,
}

/// One side of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub alerts: u64,
    pub requests: u64,
    pub refused: u64,
    pub elapsed_s: f64,
    pub alerts_per_second: f64,
    pub request_latency: Latency,
}

/// What `ponte load --alerts` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub batch: usize,
    pub concurrency: usize,
    pub ponte: Side,
    /// The listener in front of a monitor that records nothing.
    pub baseline: Side,
    pub tasks: u64,
    /// From the last answer until the outbox had posted every card (or
    /// gave up waiting, after five minutes).
    pub cards_posted_after_s: f64,
    /// Deliveries still waiting when the wait ended (0: all posted).
    pub outbox_left: u64,
    pub store_bytes_per_task: Option<f64>,
    pub rss_peak_kib: Option<u64>,
    pub violations: usize,
}

/// A monitor that takes every alert and records nothing.
struct Nothing(Arc<Config>);

impl Monitor for Nothing {
    fn integration(&self, client: &str, name: &str) -> Result<Integration, MonitorError> {
        self.0
            .clients()
            .iter()
            .filter(|c| c.key.as_str() == client)
            .flat_map(|c| c.integrations.iter())
            .find(|i| i.name == name)
            .cloned()
            .ok_or_else(|| MonitorError::UnknownClient(client.to_owned()))
    }

    fn heartbeat_monitor(
        &self,
        client: &str,
        _name: &str,
    ) -> Result<HeartbeatMonitor, MonitorError> {
        Err(MonitorError::UnknownClient(client.to_owned()))
    }

    fn receive<'a>(
        &'a self,
        _client: &'a str,
        _name: &'a str,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<Vec<Receipt>, MonitorError>> {
        Box::pin(async move {
            Ok(alerts
                .into_iter()
                .map(|a| Receipt {
                    fingerprint: a.fingerprint,
                    result: AlertResult::NothingOpen,
                })
                .collect())
        })
    }

    fn beat<'a>(
        &'a self,
        client: &'a str,
        _name: &'a str,
    ) -> BoxFuture<'a, Result<AlertResult, MonitorError>> {
        Box::pin(async move { Err(MonitorError::UnknownClient(client.to_owned())) })
    }
}

/// The secret every integration gets in this run.
const SECRET: &str = "load-test-secret";

fn body(from: u64, count: u64) -> Vec<u8> {
    let alerts: Vec<_> = (from..from + count)
        .map(|i| {
            json!({
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": format!("node-{i}:9100"),
                           "severity": if i % 10 == 0 { "critical" } else { "warning" }},
                "annotations": {"description": "/var is 97% full"},
                "startsAt": "2026-12-06T07:58:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://prometheus.example/graph",
                "fingerprint": format!("load-{i}"),
            })
        })
        .collect();
    // Each alert its own group: a load test of recording, not of folding.
    serde_json::to_vec(&json!({
        "version": "4", "groupKey": format!("{{}}:{{batch=\"{from}\"}}"), "status": "firing",
        "receiver": "ponte", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "https://am.example", "truncatedAlerts": 0, "alerts": alerts,
    }))
    .unwrap_or_default()
}

/// Posts `options.alerts` alerts to `url` and measures.
async fn drive(url: &str, options: &Options) -> Side {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..options.concurrency)
        .map(|_| {
            let (http, next, url) = (http.clone(), next.clone(), url.to_owned());
            let (total, batch) = (options.alerts, options.batch as u64);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let (mut sent, mut refused) = (0u64, 0u64);
                loop {
                    let from = next.fetch_add(batch, std::sync::atomic::Ordering::Relaxed);
                    if from >= total {
                        break;
                    }
                    let count = batch.min(total - from);
                    let at = Instant::now();
                    let ok = http
                        .post(&url)
                        .bearer_auth(SECRET)
                        .header("content-type", "application/json")
                        .body(body(from, count))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    latencies.push(at.elapsed());
                    if ok {
                        sent += count;
                    } else {
                        refused += 1;
                    }
                }
                (latencies, sent, refused)
            })
        })
        .collect();
    let (mut latencies, mut alerts, mut refused) = (Vec::new(), 0, 0);
    for worker in workers {
        if let Ok((l, s, r)) = worker.await {
            latencies.extend(l);
            alerts += s;
            refused += r;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Side {
        alerts,
        requests: latencies.len() as u64,
        refused,
        elapsed_s: elapsed,
        alerts_per_second: if elapsed > 0.0 {
            alerts as f64 / elapsed
        } else {
            0.0
        },
        request_latency: Latency::of(&mut latencies),
    }
}

async fn listen(
    monitor: Arc<dyn Monitor>,
    max_body: usize,
) -> Result<(String, tokio::sync::watch::Sender<bool>), LoadError> {
    let listener = crate::inbound::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| LoadError::Setup(format!("cannot start the alert listener: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let secrets: crate::inbound::Secrets = Arc::new(|_: &str| Some(SECRET.to_owned()));
    tokio::spawn(crate::inbound::serve(
        listener, monitor, secrets, max_body, stopped,
    ));
    Ok((
        format!("http://{addr}/clients/ACME/alerts/prometheus"),
        stop,
    ))
}

/// Runs the load: baseline first, then Ponte.
pub async fn run(options: Options) -> Result<Report, LoadError> {
    if options.alerts == 0 || options.batch == 0 || options.concurrency == 0 {
        return Err(LoadError::Empty);
    }
    if options.batch > crate::inbound::format::MAX_ALERTS {
        return Err(LoadError::Setup(format!(
            "--batch is at most {}",
            crate::inbound::format::MAX_ALERTS
        )));
    }
    // The example's configuration, with the integration's rate and storms
    // out of the way of a load test.
    let text = cast::CONFIG
        .replace("rate_per_minute = 600", "rate_per_minute = 60000")
        .replace("storm_threshold = 5", "storm_threshold = 0");
    let config = Arc::new(
        Config::from_toml_str(&text, "ponte.example.toml")
            .map_err(|e| LoadError::Config(e.to_string()))?,
    );
    // The example leaves [inbound] out: the largest body allowed.
    let max_body = config.inbound().map_or(16 << 20, |i| i.max_body_bytes);

    let (url, stop) = listen(Arc::new(Nothing(config.clone())), max_body).await?;
    let baseline = drive(&url, &options).await;
    let _ = stop.send(true);

    let emulator = Emulator::start(cast::world())
        .await
        .map_err(LoadError::Emulator)?;
    let temp = tempfile::Builder::new()
        .prefix("ponte-load-alerts-")
        .tempdir()
        .map_err(|e| LoadError::Setup(format!("cannot make a data directory: {e}")))?;
    let data_dir = temp.path().to_path_buf();
    let store = {
        let options = StoreOptions::new(&data_dir);
        tokio::task::spawn_blocking(move || SledStore::open(&options))
            .await
            .map_err(|e| LoadError::Setup(e.to_string()))?
            .map_err(|e| LoadError::Setup(format!("cannot open the store: {e}")))?
    };
    let running = start(
        config.clone(),
        Arc::new(store),
        Connect::Http(emulator.http_builder()),
        Arc::new(SystemClock),
    )
    .await?;
    emulator
        .wait_until_connected(Duration::from_secs(60))
        .await
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let (url, stop) = listen(Arc::new(running.monitoring()), max_body).await?;
    let ponte = drive(&url, &options).await;
    let _ = stop.send(true);
    let answered = Instant::now();
    let store = running.bot.ledger.store().clone();
    crate::cli::load::settle_outbox(&store).await;
    let cards_posted_after_s = answered.elapsed().as_secs_f64();
    let (tasks, outbox_left) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            (
                store.task_count().unwrap_or(0),
                store.outbox_len().unwrap_or(0) as u64,
            )
        })
        .await
        .unwrap_or((0, 0))
    };
    running.stop().await;
    drop(store);
    let violations = emulator.violations().len();
    emulator.shutdown();
    let bytes = dir_size(&data_dir);
    Ok(Report {
        batch: options.batch,
        concurrency: options.concurrency,
        ponte,
        baseline,
        tasks,
        cards_posted_after_s,
        outbox_left,
        store_bytes_per_task: (tasks > 0).then(|| bytes as f64 / tasks as f64),
        rss_peak_kib: proc_status_kib("VmHWM"),
        violations,
    })
}

impl Report {
    /// The report as a table.
    pub fn table(&self) -> String {
        let row = |name: &str, s: &Side| {
            format!(
                "{name:<10} {:>8} {:>8} {:>8} {:>9.2} {:>12.0} {:>9.1} {:>9.1}\n",
                s.alerts,
                s.requests,
                s.refused,
                s.elapsed_s,
                s.alerts_per_second,
                s.request_latency.p50_ms,
                s.request_latency.p99_ms,
            )
        };
        let mut out = format!(
            "Alert listener: {} alerts per request, {} requests at a time\n\n\
             {:<10} {:>8} {:>8} {:>8} {:>9} {:>12} {:>9} {:>9}\n",
            self.batch,
            self.concurrency,
            "",
            "alerts",
            "requests",
            "refused",
            "seconds",
            "alerts/s",
            "p50 ms",
            "p99 ms"
        );
        out.push_str(&row("baseline", &self.baseline));
        out.push_str(&row("ponte", &self.ponte));
        out.push_str(&format!("\ntasks recorded: {}\n", self.tasks));
        if self.outbox_left == 0 {
            out.push_str(&format!(
                "cards and threads posted {:.1} s after the last answer (paced below Discord's global limit)\n",
                self.cards_posted_after_s
            ));
        } else {
            out.push_str(&format!(
                "{} deliveries still waiting {:.0} s after the last answer (paced below Discord's global limit)\n",
                self.outbox_left, self.cards_posted_after_s
            ));
        }
        if let Some(b) = self.store_bytes_per_task {
            out.push_str(&format!("store: {b:.0} bytes per task\n"));
        }
        if let Some(kib) = self.rss_peak_kib {
            out.push_str(&format!(
                "peak memory (whole process): {} MiB\n",
                kib / 1024
            ));
        }
        out.push_str(&format!("emulator violations: {}\n", self.violations));
        out
    }
}
