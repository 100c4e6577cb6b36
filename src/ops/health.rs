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
//! `POST /backup` (from a loopback peer only) is how `ponte backup` gets a copy from a
//! running bot, which holds the store's lock. `crate::run::BotProbe` implements
//! [`Probe`].

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
    /// Makes a consistent copy of the store in `dir` (new or empty) and
    /// says what it copied. Blocks.
    fn backup(&self, dir: &Path) -> Result<String, String> {
        let _ = dir;
        Err("this bot cannot make backups".into())
    }
}

#[derive(Clone)]
struct Shared {
    probe: Arc<dyn Probe>,
    metrics: &'static Metrics,
    /// How long `/healthz` waits for the store's write before it calls the
    /// store not writable.
    store_timeout: std::time::Duration,
}

/// How long `/healthz` waits for the store: a stuck store (a hung write,
/// see [`crate::ops::watchdog`]) answers 503 instead of never, within the Docker
/// health check's 15 s.
pub const STORE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The routes, on `metrics` (usually [`crate::ops::metrics::global`]).
pub fn router(probe: Arc<dyn Probe>, metrics: &'static Metrics) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/backup", axum::routing::post(backup))
        .with_state(Shared {
            probe,
            metrics,
            store_timeout: STORE_CHECK_TIMEOUT,
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
    });
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics_text(State(shared): State<Shared>) -> Response {
    let depth = blocking(&shared.probe, |p| p.outbox_depth()).await;
    if let Err(e) = &depth {
        tracing::warn!(error = %e, "cannot count the outbox for /metrics");
    }
    let text = shared.metrics.render(Gauges {
        outbox_depth: depth.ok(),
        gateway_connected: shared.probe.gateway_connected(),
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The body of `POST /backup`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct BackupRequest {
    /// An absolute path to a directory that does not exist yet (or is empty).
    pub dir: PathBuf,
}

/// `POST /backup`: `ponte backup` asks the running bot, which holds the
/// store's lock, for a copy. Only from this machine (a loopback peer), and
/// only into an absolute path.
async fn backup(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Json(request): axum::Json<BackupRequest>,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "backups are only made for local callers\n",
        )
            .into_response();
    }
    if !request.dir.is_absolute() {
        return (StatusCode::BAD_REQUEST, "give an absolute directory\n").into_response();
    }
    let probe = shared.probe.clone();
    let done = tokio::task::spawn_blocking(move || probe.backup(&request.dir)).await;
    match done {
        Ok(Ok(report)) => (StatusCode::OK, report).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Binds `addr` (before returning, so a port in use is reported at start).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves the routes on `listener` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    probe: Arc<dyn Probe>,
    metrics: &'static Metrics,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = router(probe, metrics).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        })
        .await
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

    static METRICS: Metrics = Metrics::new();

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
        let server = tokio::spawn(serve(listener, fake.clone(), &METRICS, stopped));
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
