//! The operator's view: `/healthz` and `/metrics` on a local address
//! (`[ponte].health_addr`).
//!
//! `/healthz` answers 200 only when the Discord gateway is connected and the
//! store takes a write and a flush (within [`STORE_CHECK_TIMEOUT`]);
//! otherwise 503 with a JSON body naming the check that failed. `/metrics`
//! is [`crate::ops::metrics`] in Prometheus' text format. The checks come
//! through a [`Probe`], so this module knows neither serenity nor sled; the
//! store's checks block, and run on tokio's blocking pool.
//!
//! `POST /backup` is how `ponte backup` gets a copy from a running bot, which holds the
//! store's lock: only from a loopback peer, only with the secret of
//! `PONTE_BACKUP_SECRET` (off when it is not set), one backup at a time.
//! `crate::run::BotProbe` implements [`Probe`].
//!
//! The server bounds what a caller can hold: at most [`MAX_CONNECTIONS`]
//! connections (more wait in the kernel's queue, using no descriptor), each
//! with [`READ_TIMEOUT`] to send its headers and its body, no keep-alive, and
//! on a loopback address only `Host: localhost`/`127.0.0.1`/`[::1]` (a web
//! page cannot reach it through DNS rebinding).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::watch;

use crate::ops::metrics::{Gauges, Metrics};

/// What the health server asks of the running bot.
pub trait Probe: Send + Sync + 'static {
    /// Whether the gateway is connected now.
    fn gateway_connected(&self) -> bool;
    /// Writes and flushes something small through the store. Blocks.
    fn store_writable(&self) -> Result<(), String>;
    /// How many entries wait in the outbox. Blocks.
    fn outbox_depth(&self) -> Result<u64, String>;
    /// How many deliveries were refused for good and wait as dead letters
    /// (`ponte outbox list`). Blocks.
    fn dead_letters(&self) -> Result<u64, String> {
        Ok(0)
    }
    /// What `/metrics` shows of the store: open tasks by client and side,
    /// and how long the outbox's first entry has been due. Blocks.
    fn figures(&self) -> Result<Figures, String> {
        Ok(Figures::default())
    }
    /// When each loop last worked, with a ping through the writer and how
    /// long the timers may be quiet (issue 20); `None`: not shown.
    fn liveness(&self) -> Option<LivenessCheck> {
        None
    }
    /// Makes a consistent copy of the store in `dir` (new or empty) and
    /// says what it copied. Blocks.
    fn backup(&self, dir: &Path) -> Result<String, String> {
        let _ = dir;
        Err("this bot cannot make backups".into())
    }
}

/// What `/healthz` needs to show each loop (see [`Probe::liveness`]).
pub struct LivenessCheck {
    pub liveness: Arc<crate::ops::liveness::Liveness>,
    pub ping_writer: crate::ops::heartbeat_out::PingWriter,
    /// `/healthz` fails when the timers have not finished a firing for
    /// longer than this (`[ponte].timers_stale_seconds`).
    pub timers_stale: std::time::Duration,
}

/// The store's figures for `/metrics` (see [`Probe::figures`]).
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// (client, handling side, open tasks).
    pub open_tasks: Vec<(String, String, u64)>,
    /// Seconds the outbox's first entry has been due; `None` when empty.
    pub outbox_first_due_seconds: Option<f64>,
}

#[derive(Clone)]
struct Shared {
    probe: Arc<dyn Probe>,
    metrics: &'static Metrics,
    /// How long `/healthz` waits for the store's write before it calls the
    /// store not writable.
    store_timeout: std::time::Duration,
    /// What `POST /backup` must carry (`Authorization: Bearer ...`); no
    /// backups through the port without it.
    backup_secret: Option<Arc<str>>,
    /// One backup at a time.
    backup_running: Arc<tokio::sync::Semaphore>,
}

/// How the health server is set up beyond its routes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The secret `POST /backup` needs (from `PONTE_BACKUP_SECRET`).
    pub backup_secret: Option<String>,
}

impl Options {
    /// From the environment: `PONTE_BACKUP_SECRET`, registered for redaction.
    pub fn from_env() -> Self {
        let backup_secret = std::env::var(BACKUP_SECRET_VAR)
            .ok()
            .filter(|s| !s.trim().is_empty());
        if let Some(secret) = &backup_secret {
            crate::ops::redact::register(secret);
        }
        Self { backup_secret }
    }
}

/// The environment variable holding the backup secret, for the bot and for
/// `ponte backup`.
pub const BACKUP_SECRET_VAR: &str = "PONTE_BACKUP_SECRET";
/// Connections served at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a caller has to send its request's headers, and its body.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The largest request body (`POST /backup` sends a path).
const MAX_BODY: usize = 16 * 1024;

/// How long `/healthz` waits for the store: a stuck store (a hung write,
/// see [`crate::ops::watchdog`]) answers 503 instead of never, within the Docker
/// health check's 15 s.
pub const STORE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The routes, on `metrics` (usually [`crate::ops::metrics::global`]).
pub fn router(probe: Arc<dyn Probe>, metrics: &'static Metrics, options: Options) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/backup", axum::routing::post(backup))
        .with_state(Shared {
            probe,
            metrics,
            store_timeout: STORE_CHECK_TIMEOUT,
            backup_secret: options.backup_secret.map(Arc::from),
            backup_running: Arc::new(tokio::sync::Semaphore::new(1)),
        })
}

async fn blocking<T: Send + 'static>(
    probe: &Arc<dyn Probe>,
    f: fn(&dyn Probe) -> Result<T, String>,
) -> Result<T, String> {
    let probe = probe.clone();
    tokio::task::spawn_blocking(move || f(probe.as_ref()))
        .await
        .unwrap_or_else(|e| Err(format!("the check did not finish: {e}")))
}

async fn healthz(State(shared): State<Shared>) -> Response {
    let gateway = shared.probe.gateway_connected();
    let store = tokio::time::timeout(
        shared.store_timeout,
        blocking(&shared.probe, |p| p.store_writable()),
    )
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "no answer in {} s",
            shared.store_timeout.as_secs_f64()
        ))
    });
    let mut failed = Vec::new();
    if !gateway {
        failed.push("gateway");
    }
    if store.is_err() {
        failed.push("store");
    }
    let parts = match shared.probe.liveness() {
        Some(check) => Some(parts(check, gateway, shared.store_timeout, &mut failed).await),
        None => None,
    };
    // Dead letters degrade, they do not fail: a restart fixes nothing,
    // people must (a permission, closed DMs), and the bot goes on.
    let dead = blocking(&shared.probe, |p| p.dead_letters()).await;
    let degraded: Vec<&str> = match &dead {
        Ok(n) if *n > 0 => vec!["dead_letters"],
        _ => Vec::new(),
    };
    let body = json!({
        "status": if !failed.is_empty() { "unhealthy" } else if degraded.is_empty() { "ok" } else { "degraded" },
        "failed": failed,
        "degraded": degraded,
        "checks": {
            "gateway": if gateway { "connected".to_owned() } else { "disconnected".to_owned() },
            "store": match &store {
                Ok(()) => "writable".to_owned(),
                Err(e) => format!("not writable: {e}"),
            },
            "dead_letters": match &dead {
                Ok(0) => "none".to_owned(),
                Ok(n) => format!("{n} deliveries refused for good: see `ponte outbox list`"),
                Err(e) => format!("cannot count: {e}"),
            },
        },
        "parts": parts,
    });
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// Each loop with the time of its last success and its age, after a ping
/// through the writer; adds `writer` (no answer within `timeout`) and
/// `timers` (quiet for longer than allowed) to `failed`.
async fn parts(
    check: LivenessCheck,
    gateway: bool,
    timeout: std::time::Duration,
    failed: &mut Vec<&'static str>,
) -> serde_json::Value {
    use crate::ops::liveness::{Part, age};
    if gateway {
        check.liveness.mark(Part::Gateway);
    }
    let writer = tokio::time::timeout(timeout, (check.ping_writer)())
        .await
        .unwrap_or(false);
    if !writer {
        failed.push("writer");
    }
    let now = jiff::Timestamp::now();
    let mut out = serde_json::Map::new();
    for (part, last) in check.liveness.parts() {
        let age = age(last, now);
        if part == Part::Timers && age.is_none_or(|a| a > check.timers_stale) {
            failed.push("timers");
        }
        out.insert(
            part.name().to_owned(),
            json!({
                "last_success": last.map(|t| t.to_string()),
                "age_seconds": age.map(|a| a.as_secs()),
            }),
        );
    }
    if let Some(timers) = out.get_mut("timers") {
        timers["stale_after_seconds"] = json!(check.timers_stale.as_secs());
    }
    serde_json::Value::Object(out)
}

async fn metrics_text(State(shared): State<Shared>) -> Response {
    let depth = blocking(&shared.probe, |p| p.outbox_depth()).await;
    if let Err(e) = &depth {
        tracing::warn!(error = %e, "cannot count the outbox for /metrics");
    }
    let figures = blocking(&shared.probe, |p| p.figures()).await;
    if let Err(e) = &figures {
        tracing::warn!(error = %e, "cannot read the store's figures for /metrics");
    }
    let figures = figures.ok();
    let text = shared.metrics.render(Gauges {
        outbox_depth: depth.ok(),
        gateway_connected: shared.probe.gateway_connected(),
        outbox_first_due_seconds: figures.as_ref().and_then(|f| f.outbox_first_due_seconds),
        open_tasks: figures.map(|f| f.open_tasks),
    });
    (
        [(header::CONTENT_TYPE, crate::ops::metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

/// The body of `POST /backup`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct BackupRequest {
    /// An absolute path to a directory that does not exist yet, outside the
    /// data directory.
    pub dir: PathBuf,
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (status, format!("{text}\n")).into_response()
}

/// Whether `given` is `secret`, in time that does not depend on where they
/// differ (also the alert listener's bearer check).
pub(crate) fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `POST /backup`: `ponte backup` asks the running bot, which holds the
/// store's lock, for a copy. Only from this machine (a loopback peer), only
/// with the backup secret, only one at a time; the store checks the target.
async fn backup(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    if !peer.ip().is_loopback() {
        return refuse(
            StatusCode::FORBIDDEN,
            "backups are only made for local callers",
        );
    }
    let Some(secret) = &shared.backup_secret else {
        return refuse(
            StatusCode::FORBIDDEN,
            "backups through the health port are off: start Ponte with PONTE_BACKUP_SECRET set",
        );
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(given.as_bytes(), secret.as_bytes()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "wrong or missing backup secret: give ponte backup the bot's PONTE_BACKUP_SECRET",
        );
    }
    let body = tokio::time::timeout(
        READ_TIMEOUT,
        axum::body::to_bytes(request.into_body(), MAX_BODY),
    )
    .await;
    let request: BackupRequest = match body {
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request body came too slowly",
            );
        }
        Ok(Err(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
            );
        }
        Ok(Ok(bytes)) => match serde_json::from_slice(&bytes) {
            Ok(request) => request,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("give {{\"dir\": \"/absolute/new/dir\"}}: {e}"),
                );
            }
        },
    };
    let Ok(_running) = shared.backup_running.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::CONFLICT,
            "a backup is already running; try again when it is done",
        );
    };
    let probe = shared.probe.clone();
    let done = tokio::task::spawn_blocking(move || probe.backup(&request.dir)).await;
    match done {
        Ok(Ok(report)) => (StatusCode::OK, report).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// On a loopback address, only requests naming it by a loopback name: a
/// web page in a browser on this machine cannot reach the port through a
/// name of its own that resolves to 127.0.0.1 (DNS rebinding).
async fn check_host(
    State(bound): State<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if bound.ip().is_loopback() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        if !matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
            return refuse(
                StatusCode::MISDIRECTED_REQUEST,
                "this port answers only to localhost, 127.0.0.1 or [::1]",
            );
        }
    }
    next.run(request).await
}

/// Binds `addr` (before returning, so a port in use is reported at start).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Returns once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Serves the routes on `listener` until `stop` turns true, with the
/// bounds of the module's doc.
pub async fn serve(
    listener: tokio::net::TcpListener,
    probe: Arc<dyn Probe>,
    metrics: &'static Metrics,
    options: Options,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    let app = router(probe, metrics, options)
        .layer(axum::middleware::from_fn_with_state(bound, check_host));
    serve_bounded(listener, app, stop).await
}

/// Serves `app` on `listener` until `stop` turns true: at most
/// [`MAX_CONNECTIONS`] connections, [`READ_TIMEOUT`] for the headers, no
/// keep-alive; each request carries its peer as `ConnectInfo`. The alert
/// listener (`crate::inbound`) is served the same way.
pub async fn serve_bounded(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        // Wait for a free slot before accepting: a caller past the limit
        // waits in the listen queue, holding no descriptor of ours.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = stopped(&mut stop) => return Ok(()),
        };
        let Ok(slot) = slot else { return Ok(()) };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most often: wait, do not spin.
                    tracing::warn!(error = %e, "the health server cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => return Ok(()),
        };
        let service = hyper_util::service::TowerToHyperService::new(
            app.clone().layer(axum::Extension(ConnectInfo(peer))),
        );
        tokio::spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "a health connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    struct Fake {
        connected: AtomicBool,
        store: Mutex<Result<(), String>>,
    }

    impl Probe for Fake {
        fn gateway_connected(&self) -> bool {
            self.connected.load(Ordering::SeqCst)
        }
        fn store_writable(&self) -> Result<(), String> {
            self.store.lock().map_or(Ok(()), |s| s.clone())
        }
        fn outbox_depth(&self) -> Result<u64, String> {
            Ok(4)
        }
    }

    static METRICS: std::sync::LazyLock<Metrics> = std::sync::LazyLock::new(Metrics::new);

    /// A store that never answers until released.
    struct Stuck {
        release: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl Probe for Stuck {
        fn gateway_connected(&self) -> bool {
            true
        }
        fn store_writable(&self) -> Result<(), String> {
            let release = self.release.lock().unwrap();
            let _ = release.recv();
            Ok(())
        }
        fn outbox_depth(&self) -> Result<u64, String> {
            Ok(0)
        }
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_reported_not_waited_for() {
        let (release, rx) = std::sync::mpsc::channel();
        let shared = Shared {
            probe: Arc::new(Stuck {
                release: Mutex::new(rx),
            }),
            metrics: &METRICS,
            store_timeout: std::time::Duration::from_millis(200),
            backup_secret: None,
            backup_running: Arc::new(tokio::sync::Semaphore::new(1)),
        };
        let response = healthz(State(shared)).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["failed"], json!(["store"]));
        assert_eq!(body["checks"]["store"], "not writable: no answer in 0.2 s");
        release.send(()).unwrap();
    }

    /// A healthy bot with dead letters.
    struct WithDeadLetters;

    impl Probe for WithDeadLetters {
        fn gateway_connected(&self) -> bool {
            true
        }
        fn store_writable(&self) -> Result<(), String> {
            Ok(())
        }
        fn outbox_depth(&self) -> Result<u64, String> {
            Ok(0)
        }
        fn dead_letters(&self) -> Result<u64, String> {
            Ok(2)
        }
    }

    #[tokio::test]
    async fn dead_letters_degrade_healthz_without_failing_it() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(
            listener,
            Arc::new(WithDeadLetters),
            &METRICS,
            Options::default(),
            stopped,
        ));
        let r = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "a restart fixes nothing: no 503");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["degraded"], json!(["dead_letters"]));
        assert!(
            body["checks"]["dead_letters"]
                .as_str()
                .unwrap()
                .contains("ponte outbox list")
        );
        stop.send(true).unwrap();
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn healthz_says_which_check_failed_and_metrics_are_served() {
        let fake = Arc::new(Fake {
            connected: AtomicBool::new(true),
            store: Mutex::new(Ok(())),
        });
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(
            listener,
            fake.clone(),
            &METRICS,
            Options::default(),
            stopped,
        ));
        let http = reqwest::Client::new();
        let get = |path: &'static str| {
            let http = http.clone();
            async move {
                let r = http
                    .get(format!("http://{addr}{path}"))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };

        let (status, body) = get("/healthz").await;
        assert_eq!(status, 200, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["status"], "ok");

        fake.connected.store(false, Ordering::SeqCst);
        let (status, body) = get("/healthz").await;
        assert_eq!(status, 503);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["failed"], json!(["gateway"]));
        assert_eq!(body["checks"]["gateway"], "disconnected");

        fake.connected.store(true, Ordering::SeqCst);
        *fake.store.lock().unwrap() = Err("disk full".into());
        let (status, body) = get("/healthz").await;
        assert_eq!(status, 503);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["failed"], json!(["store"]));
        assert_eq!(body["checks"]["store"], "not writable: disk full");

        METRICS.pages_sent.inc();
        let (status, text) = get("/metrics").await;
        assert_eq!(status, 200);
        assert!(text.contains("ponte_outbox_depth 4"), "{text}");
        assert!(text.contains("ponte_pages_sent_total 1"), "{text}");
        assert!(text.contains("ponte_gateway_connected 1"), "{text}");

        stop.send(true).unwrap();
        server.await.unwrap().unwrap();
    }
}
