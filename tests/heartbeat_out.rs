//! The heartbeat out and `/healthz`'s parts (issue 20): with every loop
//! working, the URL is called; a timer that hangs stops the calls and, past
//! `timers_stale`, fails `/healthz` with `timers`; once it is released the
//! calls resume. A writer that does not answer stops them too; a URL that
//! fails or redirects is reported, not followed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use jiff::Timestamp;
use ponte::app::clock::SystemClock;
use ponte::app::engine::Ledger;
use ponte::app::timers::{BoxFuture, Timer, TimerError, Timers};
use ponte::config::monitoring::{HeartbeatOut, PingMethod, PingUrl};
use ponte::ops::health::{LivenessCheck, Probe};
use ponte::ops::heartbeat_out::{Beat, HeartbeatOutLoop};
use ponte::ops::liveness::{Liveness, Part};
use ponte::store::SledStore;
use tokio::sync::Notify;

/// A timer that hangs inside its firing while `hang` is set.
struct Sticky {
    hang: Arc<AtomicBool>,
    release: Arc<Notify>,
}

impl Timer for Sticky {
    fn name(&self) -> &'static str {
        "sticky"
    }
    fn fire(&self, _now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(async move {
            while self.hang.load(Ordering::SeqCst) {
                self.release.notified().await;
            }
            Ok(None)
        })
    }
}

/// A monitoring service's check URL: counts the calls; `/moved` redirects,
/// `/broken` fails.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = Router::new()
        .route(
            "/ping/check",
            get(move || {
                let calls = counted.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    "OK"
                }
            }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/ping/check")]) }),
        )
        .route(
            "/broken",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), calls)
}

fn settings(url: &str) -> HeartbeatOut {
    HeartbeatOut {
        url: PingUrl::Url(url.to_owned()),
        method: PingMethod::Get,
        every: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
        body: None,
    }
}

/// Waits (up to a minute) until `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `/healthz` of a bot whose loops are `liveness`.
struct Loops {
    liveness: Arc<Liveness>,
    ledger: Ledger<SledStore>,
}

impl Probe for Loops {
    fn gateway_connected(&self) -> bool {
        true
    }
    fn store_writable(&self) -> Result<(), String> {
        Ok(())
    }
    fn outbox_depth(&self) -> Result<u64, String> {
        Ok(0)
    }
    fn liveness(&self) -> Option<LivenessCheck> {
        let ledger = self.ledger.clone();
        Some(LivenessCheck {
            liveness: self.liveness.clone(),
            ping_writer: Arc::new(move || {
                let ledger = ledger.clone();
                Box::pin(async move { ledger.ping().await })
            }),
            timers_stale: Duration::from_secs(2),
        })
    }
}

#[tokio::test]
async fn a_stuck_timer_stops_the_heartbeat_out_and_fails_healthz_until_it_is_released() {
    let (base, calls) = receiver().await;
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let ledger = Ledger::start(
        store,
        Arc::new(ponte::domain::routing::Rules::default()),
        Arc::new(SystemClock),
    )
    .unwrap();
    let liveness = ledger.liveness();
    let hang = Arc::new(AtomicBool::new(false));
    let release = Arc::new(Notify::new());
    let mut timers = Timers::new().with_liveness(liveness.clone());
    timers.add(Arc::new(Sticky {
        hang: hang.clone(),
        release: release.clone(),
    }));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wake = Arc::new(Notify::new());
    tokio::spawn(timers.run(
        Arc::new(SystemClock),
        wake.clone(),
        stopped.clone(),
        Duration::from_millis(50),
    ));
    let url = format!("{base}/ping/check");
    let out = HeartbeatOutLoop {
        http: HeartbeatOutLoop::client(&settings(&url)),
        settings: settings(&url),
        url,
        liveness: liveness.clone(),
        ping_writer: {
            let ledger = ledger.clone();
            Arc::new(move || {
                let ledger = ledger.clone();
                Box::pin(async move { ledger.ping().await })
            })
        },
        gateway: Arc::new(|| true),
        timers_window: Duration::from_secs(1),
    };
    let health = ponte::ops::health::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let health_addr = health.local_addr().unwrap();
    tokio::spawn(ponte::ops::health::serve(
        health,
        Arc::new(Loops {
            liveness: liveness.clone(),
            ledger: ledger.clone(),
        }),
        ponte::ops::metrics::global(),
        Default::default(),
        stopped,
    ));
    let healthz = || async {
        let r = reqwest::get(format!("http://{health_addr}/healthz"))
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().await.unwrap())
    };

    // Every loop works: the URL is called, /healthz shows each part.
    until("the timers' first firing", || {
        liveness.last(Part::Timers).is_some()
    })
    .await;
    assert_eq!(out.once().await, Beat::Sent);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let (status, body) = healthz().await;
    assert_eq!(status, 200, "{body}");
    for part in ["writer", "timers", "gateway"] {
        assert!(body["parts"][part]["last_success"].is_string(), "{body}");
    }
    assert_eq!(body["parts"]["timers"]["stale_after_seconds"], 2);

    // A timer hangs: once the timers' window has passed, no call goes out.
    hang.store(true, Ordering::SeqCst);
    wake.notify_one();
    let hung_at = liveness.last(Part::Timers).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let last = liveness.last(Part::Timers).unwrap();
    until("the timers' window to pass", || {
        Timestamp::now().duration_since(last) > jiff::SignedDuration::from_millis(2500)
    })
    .await;
    assert!(last >= hung_at);
    for _ in 0..3 {
        assert_eq!(out.once().await, Beat::Skipped(vec![Part::Timers]));
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no call while a timer hangs"
    );
    let (status, body) = healthz().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failed"], serde_json::json!(["timers"]), "{body}");
    assert!(body["parts"]["timers"]["age_seconds"].as_u64().unwrap() >= 2);

    // Released: the timers fire again, and so does the heartbeat out.
    hang.store(false, Ordering::SeqCst);
    release.notify_waiters();
    until("the timers to fire again", || {
        liveness.last(Part::Timers).is_some_and(|t| t > last)
    })
    .await;
    assert_eq!(out.once().await, Beat::Sent);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(healthz().await.0, 200);
    stop.send(true).unwrap();
}

#[tokio::test]
async fn a_writer_that_does_not_answer_stops_the_heartbeat_out() {
    let (base, calls) = receiver().await;
    let liveness = Arc::new(Liveness::new());
    liveness.mark(Part::Timers);
    let url = format!("{base}/ping/check");
    let out = HeartbeatOutLoop {
        http: HeartbeatOutLoop::client(&settings(&url)),
        settings: settings(&url),
        url,
        liveness: liveness.clone(),
        // A writer stuck in its batch: the ping never comes back.
        ping_writer: Arc::new(|| Box::pin(std::future::pending::<bool>())),
        gateway: Arc::new(|| true),
        timers_window: Duration::from_secs(60),
    };
    assert_eq!(out.once().await, Beat::Skipped(vec![Part::Writer]));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_failing_or_moved_url_is_reported_and_no_redirect_is_followed() {
    let (base, calls) = receiver().await;
    let liveness = Arc::new(Liveness::new());
    let fresh = |url: String| {
        for part in Part::ALL {
            liveness.mark(part);
        }
        HeartbeatOutLoop {
            http: HeartbeatOutLoop::client(&settings(&url)),
            settings: settings(&url),
            url,
            liveness: liveness.clone(),
            ping_writer: Arc::new(|| Box::pin(async { true })),
            gateway: Arc::new(|| true),
            timers_window: Duration::from_secs(60),
        }
    };
    match fresh(format!("{base}/broken")).once().await {
        Beat::Failed(why) => assert!(why.contains("500"), "{why}"),
        other => panic!("{other:?}"),
    }
    match fresh(format!("{base}/moved")).once().await {
        Beat::Failed(why) => assert!(why.contains("redirect"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    // Nobody listens there: a connection error, not a hang.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    match fresh(format!("http://127.0.0.1:{port}/x")).once().await {
        Beat::Failed(why) => assert!(why.contains("connect"), "{why}"),
        other => panic!("{other:?}"),
    }
}
