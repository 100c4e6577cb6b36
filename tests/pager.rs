//! Outside pagers against a local HTTP receiver (axum on 127.0.0.1:0):
//! PagerDuty-shaped and signed-webhook requests, a receiver down for ten
//! minutes (manual clock) after which every page arrives once, and a
//! receiver that always fails, which gives the channel fallback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jiff::{SignedDuration, Timestamp};
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::outbox::{Deliverer, DeliveryError, Sink};
use ponte::config::Config;
use ponte::domain::effect::Effect;
use ponte::domain::effect::effects_with_history;
use ponte::domain::escalation::Target;
use ponte::domain::event::{Event, EventKind};
use ponte::domain::task::{Status, Task};
use ponte::domain::{ClientKey, TaskId};
use ponte::domain::{PersonId, Priority, Side, Who};
use ponte::notify::pager::{Delivered, OutsidePage, PagerClient, Pagers, Secret, verify};
use ponte::store::{Mark, SledStore, Store};
use serde_json::Value;

const SECRET: &str = "webhook-secret-for-tests";
const ROUTING_KEY: &str = "R0UTINGKEY0123456789";

#[derive(Default)]
struct Receiver {
    up: AtomicBool,
    /// Every request that was answered 2xx: (path, headers, body).
    accepted: Mutex<Vec<(String, HeaderMap, Value)>>,
    refused: Mutex<usize>,
}

async fn receive(
    State(rx): State<Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !rx.up.load(Ordering::SeqCst) {
        *rx.refused.lock().unwrap() += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if uri.path() == "/hook" {
        let ts: i64 = headers["x-ponte-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sig = headers["x-ponte-signature"].to_str().unwrap();
        if !verify(&Secret::new(SECRET), ts, &body, sig) {
            return StatusCode::UNAUTHORIZED;
        }
    }
    let json: Value = serde_json::from_slice(&body).unwrap();
    rx.accepted
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), headers, json));
    StatusCode::ACCEPTED
}

async fn receiver(up: bool) -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver::default());
    rx.up.store(up, Ordering::SeqCst);
    let app = Router::new()
        .route("/enqueue", post(receive))
        .route("/hook", post(receive))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (rx, format!("http://{addr}"))
}

fn config(base: &str, max_attempts: u32) -> Config {
    let text = include_str!("../config/ponte.example.toml").to_owned()
        + &format!(
            r#"
[[pagers]]
name = "pd"
kind = "pagerduty"
url = "{base}/enqueue"
routing_key_env = "TEST_PD_KEY"
max_attempts = {max_attempts}

[[pagers]]
name = "hook"
kind = "webhook"
url = "{base}/hook"
secret_env = "TEST_HOOK_SECRET"
max_attempts = {max_attempts}
"#
        );
    Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn pagers(config: &Config) -> Pagers {
    Pagers::new(PagerClient::new(config.oncall(), |var| match var {
        "TEST_PD_KEY" => Some(ROUTING_KEY.to_owned()),
        "TEST_HOOK_SECRET" => Some(SECRET.to_owned()),
        _ => None,
    }))
}

fn page(n: u64) -> OutsidePage {
    OutsidePage {
        key: format!("page:ACME-{n}@1:r0:s0"),
        task: format!("ACME-{n}"),
        priority: "P1".into(),
        title: "Mail down".into(),
        late: false,
    }
}

#[tokio::test]
async fn pagerduty_and_webhook_requests_have_the_right_bodies_and_signatures() {
    let (rx, base) = receiver(true).await;
    let config = config(&base, 5);
    let pagers = pagers(&config);
    let now: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    assert_eq!(
        pagers.deliver("pd", &page(1), now).await,
        Ok(Delivered::Sent)
    );
    assert_eq!(
        pagers.deliver("hook", &page(2), now).await,
        Ok(Delivered::Sent)
    );
    let accepted = rx.accepted.lock().unwrap();
    assert_eq!(accepted.len(), 2);
    let (path, _, pd) = &accepted[0];
    assert_eq!(path, "/enqueue");
    assert_eq!(pd["routing_key"], ROUTING_KEY);
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["dedup_key"], "ACME-1");
    assert_eq!(pd["payload"]["severity"], "critical");
    assert_eq!(pd["payload"]["source"], "ponte");
    assert_eq!(pd["payload"]["summary"], "ACME-1 (P1): Mail down");
    let (path, headers, hook) = &accepted[1];
    assert_eq!(path, "/hook");
    assert_eq!(
        headers["x-ponte-timestamp"],
        now.as_second().to_string().as_str()
    );
    assert_eq!(headers["idempotency-key"], "page:ACME-2@1:r0:s0");
    assert!(
        headers["x-ponte-signature"]
            .to_str()
            .unwrap()
            .starts_with("sha256=")
    );
    assert_eq!(hook["key"], "page:ACME-2@1:r0:s0");
    assert_eq!(hook["task"], "ACME-2");
    assert_eq!(hook["target"], "hook");
    // The receiver checked the signature (a wrong one is refused: 401).
    assert!(!verify(
        &Secret::new("another secret"),
        now.as_second(),
        serde_json::to_string(hook).unwrap().as_bytes(),
        headers["x-ponte-signature"].to_str().unwrap()
    ));
}

#[test]
fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
    // The value computed independently (Python's hmac module):
    // hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
    let sig = ponte::notify::pager::signature(&Secret::new("key"), 1_700_000_000, b"{}");
    assert_eq!(
        sig,
        "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
    );
    assert!(verify(&Secret::new("key"), 1_700_000_000, b"{}", &sig));
    assert!(!verify(&Secret::new("key"), 1_700_000_001, b"{}", &sig));
    assert!(!verify(&Secret::new("key"), 1_700_000_000, b"{ }", &sig));
    // Secrets never show in Debug.
    assert_eq!(format!("{:?}", Secret::new("key")), "Secret(***)");
}

/// A sink that pages through `Pagers` and records the channel fallbacks.
struct PagerSink {
    pagers: Pagers,
    clock: Arc<ManualClock>,
    fallbacks: Arc<Mutex<Vec<String>>>,
}

impl Sink for PagerSink {
    async fn deliver(&self, effect: &Effect) -> Result<(), DeliveryError> {
        if let Effect::PagerUpdate {
            task,
            pager,
            action,
            ..
        } = effect
        {
            return self
                .pagers
                .update(pager, &effect.key(), &task.to_string(), *action)
                .await
                .map_err(|e| DeliveryError::transient(e.to_string()));
        }
        let Effect::Page {
            task,
            key,
            target: Target::Pager(name),
            late,
            ..
        } = effect
        else {
            return Ok(());
        };
        let page = OutsidePage {
            key: key.clone(),
            task: task.to_string(),
            priority: "P1".into(),
            title: "Mail down".into(),
            late: *late,
        };
        match self.pagers.deliver(name, &page, self.clock.now()).await {
            Ok(Delivered::Sent) => Ok(()),
            Ok(Delivered::Fallback(_)) => {
                self.fallbacks.lock().unwrap().push(key.clone());
                Ok(())
            }
            Err(e) => Err(DeliveryError::transient(e.to_string())),
        }
    }
}

fn queue(store: &SledStore, pager: &str, n: u64, at: Timestamp) {
    let task = TaskId::new(ClientKey::new("ACME").unwrap(), n);
    let effect = Effect::Page {
        task: task.clone(),
        key: format!("page:{task}@1:r0:s0"),
        target: Target::Pager(pager.into()),
        to: None,
        late: false,
    };
    let mark = Mark {
        key: format!("test:{task}"),
        at,
    };
    assert!(store.commit_mark(&mark, &[effect]).unwrap());
}

#[tokio::test]
async fn a_receiver_down_for_ten_minutes_then_gets_every_page_once() {
    let (rx, base) = receiver(false).await;
    let config = config(&base, 30);
    let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    for n in 1..=3 {
        queue(&store, if n == 2 { "hook" } else { "pd" }, n, start);
    }
    let sink = PagerSink {
        pagers: pagers(&config),
        clock: clock.clone(),
        fallbacks: Arc::default(),
    };
    let deliverer = Deliverer::new(store.clone(), sink, clock.clone());
    // Ten minutes of a receiver that answers 503, a pass every 20 seconds.
    while clock.now() < start + SignedDuration::from_mins(10) {
        deliverer.pass().await.unwrap();
        clock.advance(SignedDuration::from_secs(20));
    }
    assert!(*rx.refused.lock().unwrap() >= 3);
    assert!(rx.accepted.lock().unwrap().is_empty());
    assert_eq!(store.outbox_len().unwrap(), 3, "nothing lost while down");
    rx.up.store(true, Ordering::SeqCst);
    // Within the backoff's longest wait, everything is delivered.
    for _ in 0..40 {
        deliverer.pass().await.unwrap();
        clock.advance(SignedDuration::from_secs(20));
    }
    assert_eq!(store.outbox_len().unwrap(), 0);
    let accepted = rx.accepted.lock().unwrap();
    let mut per_task: HashMap<String, usize> = HashMap::new();
    for (_, _, body) in accepted.iter() {
        let task = body
            .get("dedup_key")
            .or_else(|| body.get("task"))
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        *per_task.entry(task).or_default() += 1;
    }
    assert_eq!(
        per_task,
        HashMap::from([
            ("ACME-1".to_owned(), 1),
            ("ACME-2".to_owned(), 1),
            ("ACME-3".to_owned(), 1)
        ])
    );
}

#[tokio::test]
async fn a_receiver_that_always_fails_gives_the_channel_fallback_once() {
    let (rx, base) = receiver(false).await;
    let config = config(&base, 5);
    let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    queue(&store, "pd", 7, start);
    let fallbacks: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = PagerSink {
        pagers: pagers(&config),
        clock: clock.clone(),
        fallbacks: fallbacks.clone(),
    };
    let deliverer = Deliverer::new(store.clone(), sink, clock.clone());
    for _ in 0..60 {
        deliverer.pass().await.unwrap();
        clock.advance(SignedDuration::from_secs(30));
    }
    assert_eq!(
        *rx.refused.lock().unwrap(),
        5,
        "max_attempts tries, then the fallback"
    );
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(
        *fallbacks.lock().unwrap(),
        vec!["page:ACME-7@1:r0:s0".to_owned()]
    );
}

/// A P1 task's life, paged through `pager`: created, paged, `middle` (its
/// acknowledgement and claim, in some order), resolved, closed. Each
/// change's pager effects, as the engine derives them, are queued in order;
/// their keys are returned.
fn queue_life(
    store: &SledStore,
    id: &TaskId,
    pager: &str,
    at: Timestamp,
    middle: [EventKind; 2],
) -> Vec<String> {
    let event = |seq: u32, kind: EventKind| Event {
        task: id.clone(),
        seq,
        at,
        by: Who::Person(PersonId(1)),
        kind,
    };
    let status = |from, to| EventKind::StatusChanged {
        from,
        to,
        reason: None,
    };
    let mut steps = vec![
        EventKind::Created {
            title: "Mail down".into(),
            details: String::new(),
            requester: PersonId(1),
            asking_side: Side::Internal,
            priority: Priority::P1,
            due: None,
        },
        EventKind::Paged {
            key: format!("page:{id}@1:r0:s0"),
            round: 0,
            step: 0,
            target: Target::Pager(pager.into()),
            to: None,
            late: false,
            skipped: Vec::new(),
        },
    ];
    steps.extend(middle);
    steps.push(status(Status::Claimed, Status::Resolved));
    steps.push(status(Status::Resolved, Status::Closed));
    let mut history: Vec<Event> = Vec::new();
    let mut keys = Vec::new();
    for (i, kind) in steps.into_iter().enumerate() {
        let new = vec![event(i as u32 + 1, kind)];
        let mut all = history.clone();
        all.extend(new.iter().cloned());
        let task = Task::fold(&all).unwrap();
        let effects: Vec<Effect> = effects_with_history(&task, &history, &new)
            .into_iter()
            .filter(|e| matches!(e, Effect::Page { .. } | Effect::PagerUpdate { .. }))
            .collect();
        keys.extend(effects.iter().map(Effect::key));
        let mark = Mark {
            key: format!("test:{id}:{i}"),
            at,
        };
        assert!(store.commit_mark(&mark, &effects).unwrap());
        history = all;
    }
    keys
}

/// Delivers the three queued pager requests while the receiver is down for
/// `down` passes 20 seconds apart (nothing is lost, and nothing overtakes
/// the page), then up: everything is delivered.
async fn deliver_after_outage(
    rx: &Receiver,
    store: Arc<SledStore>,
    config: &Config,
    clock: Arc<ManualClock>,
    down: usize,
) {
    let sink = PagerSink {
        pagers: pagers(config),
        clock: clock.clone(),
        fallbacks: Arc::default(),
    };
    let deliverer = Deliverer::new(store.clone(), sink, clock.clone());
    rx.up.store(false, Ordering::SeqCst);
    for _ in 0..down {
        deliverer.pass().await.unwrap();
        clock.advance(SignedDuration::from_secs(20));
    }
    assert_eq!(store.outbox_len().unwrap(), 3);
    assert!(*rx.refused.lock().unwrap() >= 1);
    rx.up.store(true, Ordering::SeqCst);
    for _ in 0..40 {
        deliverer.pass().await.unwrap();
        clock.advance(SignedDuration::from_secs(20));
    }
    assert_eq!(store.outbox_len().unwrap(), 0);
}

/// A task paged to PagerDuty, then acknowledged, claimed, resolved and
/// closed: the receiver gets trigger, acknowledge, resolve, once each and
/// in this order, although the receiver is down at first (the outbox
/// retries, and the updates wait behind the trigger).
#[tokio::test]
async fn pagerduty_hears_trigger_then_acknowledge_then_resolve_once_each() {
    let (rx, base) = receiver(true).await;
    let config = config(&base, 30);
    let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let id = TaskId::new(ClientKey::new("ACME").unwrap(), 9);
    let middle = [
        EventKind::Acknowledged,
        EventKind::Claimed { by: PersonId(2) },
    ];
    queue_life(&store, &id, "pd", start, middle);
    assert_eq!(
        store.outbox_len().unwrap(),
        3,
        "trigger, acknowledge, resolve"
    );
    // The receiver is down for five minutes first.
    deliver_after_outage(&rx, store, &config, clock, 15).await;
    let accepted = rx.accepted.lock().unwrap();
    let actions: Vec<(&str, &str)> = accepted
        .iter()
        .map(|(_, _, body)| {
            (
                body["event_action"].as_str().unwrap(),
                body["dedup_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("trigger", "ACME-9"),
            ("acknowledge", "ACME-9"),
            ("resolve", "ACME-9")
        ]
    );
    for (_, _, body) in accepted.iter().skip(1) {
        assert_eq!(body["routing_key"], ROUTING_KEY);
        assert!(body.get("payload").is_none());
    }
}

#[tokio::test]
async fn a_webhook_hears_page_then_acknowledge_then_resolve_signed_once_each() {
    let (rx, base) = receiver(true).await;
    let config = config(&base, 30);
    let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let id = TaskId::new(ClientKey::new("ACME").unwrap(), 7);
    let middle = [
        EventKind::Claimed { by: PersonId(2) },
        EventKind::Acknowledged,
    ];
    let keys = queue_life(&store, &id, "hook", start, middle);
    assert_eq!(store.outbox_len().unwrap(), 3, "page, acknowledge, resolve");
    // Down for ten minutes.
    deliver_after_outage(&rx, store, &config, clock, 30).await;
    let accepted = rx.accepted.lock().unwrap();
    // Every request passed the receiver's signature check (else 401).
    let seen: Vec<(&str, &str, &str, &str)> = accepted
        .iter()
        .map(|(path, headers, body)| {
            assert_eq!(path, "/hook");
            assert_eq!(headers["idempotency-key"], body["key"].as_str().unwrap());
            (
                body["event"].as_str().unwrap(),
                body["task"].as_str().unwrap(),
                body["target"].as_str().unwrap(),
                body["key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen.iter()
            .map(|(e, t, p, _)| (*e, *t, *p))
            .collect::<Vec<_>>(),
        [
            ("page", "ACME-7", "hook"),
            ("acknowledge", "ACME-7", "hook"),
            ("resolve", "ACME-7", "hook")
        ]
    );
    // The keys are the effects' own: a retry carries the same one.
    let sent_keys: Vec<&str> = seen.iter().map(|(_, _, _, k)| *k).collect();
    assert_eq!(
        sent_keys[1..],
        keys[1..].iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
}

/// A log writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The pagers' secrets read from the environment are registered with the
/// redactor: when pages fail (and are logged, at every level), the captured
/// log output never shows them, even where a line quotes them outright.
#[tokio::test]
async fn pager_secrets_never_appear_in_the_logs_when_a_page_fails() {
    const KEY_MARKER: &str = "PD-MARKER-7f3a9c1e5b";
    const HOOK_MARKER: &str = "HOOK-MARKER-2d8e4a6f0c";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(ponte::ops::redact::Redacting(move || writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (rx, base) = receiver(false).await;
    let config = config(&base, 2);
    let pagers = Pagers::new(PagerClient::new(config.oncall(), |var| match var {
        "TEST_PD_KEY" => Some(KEY_MARKER.to_owned()),
        "TEST_HOOK_SECRET" => Some(HOOK_MARKER.to_owned()),
        _ => None,
    }));
    let now: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    for name in ["pd", "hook"] {
        // Refused (503), then given up: a warning and an error logged.
        assert!(pagers.deliver(name, &page(40), now).await.is_err());
        assert!(matches!(
            pagers.deliver(name, &page(40), now).await,
            Ok(Delivered::Fallback(_))
        ));
    }
    assert_eq!(*rx.refused.lock().unwrap(), 4);
    // Even a line that quotes the secrets (as a dependency's request dump
    // might) is cut.
    tracing::error!("request dump: routing_key={KEY_MARKER} secret={HOOK_MARKER}");
    drop(_guard);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("pager failed; paging the MSP channel instead"),
        "{logs}"
    );
    assert!(
        logs.contains("request dump: routing_key=<redacted> secret=<redacted>"),
        "{logs}"
    );
    assert!(!logs.contains(KEY_MARKER), "{logs}");
    assert!(!logs.contains(HOOK_MARKER), "{logs}");
}

// ---- Delivery that never stalls (issue 17) ----

/// A receiver that accepts the connection and never answers.
async fn hanging_receiver() -> String {
    let app = Router::new().route(
        "/enqueue",
        post(|| async { std::future::pending::<StatusCode>().await }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A receiver that answers every request with a redirect to `to`.
async fn redirecting_receiver(to: &str) -> String {
    let location = format!("{to}/enqueue");
    let app = Router::new().route(
        "/enqueue",
        post(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Two PagerDuty-shaped pagers: `stuck` at `stuck_base` (with a long
/// timeout, so that a hang lasts) and `pd` at `base`.
fn two_pagers(stuck_base: &str, base: &str) -> Config {
    let text = include_str!("../config/ponte.example.toml").to_owned()
        + &format!(
            r#"
[[pagers]]
name = "stuck"
kind = "pagerduty"
url = "{stuck_base}/enqueue"
routing_key_env = "TEST_PD_KEY"
timeout_seconds = 120

[[pagers]]
name = "pd"
kind = "pagerduty"
url = "{base}/enqueue"
routing_key_env = "TEST_PD_KEY"
"#
        );
    Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Pages through `Pagers`; any other effect is a chat message, recorded.
struct LaneSink {
    pagers: Pagers,
    chat: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
    paged: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
}

impl Sink for LaneSink {
    async fn deliver(&self, effect: &Effect) -> Result<(), DeliveryError> {
        let Effect::Page {
            task,
            key,
            target: Target::Pager(name),
            ..
        } = effect
        else {
            self.chat
                .lock()
                .unwrap()
                .push((effect.key(), std::time::Instant::now()));
            return Ok(());
        };
        let page = OutsidePage {
            key: key.clone(),
            task: task.to_string(),
            priority: "P1".into(),
            title: "Mail down".into(),
            late: false,
        };
        match self.pagers.deliver(name, &page, Timestamp::now()).await {
            Ok(_) => {
                self.paged
                    .lock()
                    .unwrap()
                    .push((task.to_string(), std::time::Instant::now()));
                Ok(())
            }
            Err(e) => Err(DeliveryError::transient(e.to_string())),
        }
    }
}

#[tokio::test]
async fn a_hanging_pager_holds_back_no_other_page_and_no_chat_message() {
    let (rx, base) = receiver(true).await;
    let stuck = hanging_receiver().await;
    let config = two_pagers(&stuck, &base);
    let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    // Oldest first: the page to the hanging pager, then another client's
    // page to a healthy one, then a chat message of a third task.
    queue(&store, "stuck", 1, start);
    let bright = TaskId::new(ClientKey::new("BRIGHT").unwrap(), 1);
    let page = Effect::Page {
        task: bright.clone(),
        key: format!("page:{bright}@1:r0:s0"),
        target: Target::Pager("pd".into()),
        to: None,
        late: false,
    };
    let chat = Effect::Announce {
        task: TaskId::new(ClientKey::new("ACME").unwrap(), 2),
        first: 1,
        last: 1,
    };
    let mark = Mark {
        key: "test:others".into(),
        at: start,
    };
    assert!(store.commit_mark(&mark, &[page, chat]).unwrap());
    let chat_log: Arc<Mutex<Vec<(String, std::time::Instant)>>> = Arc::default();
    let paged: Arc<Mutex<Vec<(String, std::time::Instant)>>> = Arc::default();
    let sink = LaneSink {
        pagers: pagers(&config),
        chat: chat_log.clone(),
        paged: paged.clone(),
    };
    let began = std::time::Instant::now();
    let deliverer = Deliverer::new(store.clone(), sink, clock.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(deliverer.run(
        Arc::new(tokio::sync::Notify::new()),
        stopped,
        std::time::Duration::from_millis(100),
    ));
    // Wait (bounded far below the stuck pager's 120 s) for the other two.
    for _ in 0..600 {
        if !paged.lock().unwrap().is_empty() && !chat_log.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page_after = paged.lock().unwrap().first().map(|(_, at)| *at - began);
    let chat_after = chat_log.lock().unwrap().first().map(|(_, at)| *at - began);
    stop.send(true).unwrap();
    running.await.unwrap();
    let page_after = page_after.expect("the healthy pager's page was held back by the hang");
    let chat_after = chat_after.expect("the chat message was held back by the hang");
    println!(
        "healthy page after {page_after:?}, chat after {chat_after:?} (the other pager still hangs)"
    );
    assert_eq!(rx.accepted.lock().unwrap().len(), 1);
    assert!(
        paged
            .lock()
            .unwrap()
            .iter()
            .all(|(task, _)| task == "BRIGHT-1"),
        "the stuck pager answered nothing"
    );
    // The hanging page is still there to retry: delayed, not dropped.
    let left = store.outbox_due(Timestamp::MAX, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].effect.task().unwrap().to_string(), "ACME-1");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_falls_back_at_once() {
    let (elsewhere, other) = receiver(true).await;
    let redirect = redirecting_receiver(&other).await;
    let config = two_pagers(&redirect, &redirect);
    let pagers = pagers(&config);
    let now: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let delivered = pagers.deliver("pd", &page(1), now).await.unwrap();
    let Delivered::Fallback(error) = delivered else {
        panic!("a redirect must not count as delivered: {delivered:?}");
    };
    let said = error.to_string();
    assert!(said.contains("307"), "{said}");
    assert!(said.contains("redirects are not followed"), "{said}");
    assert!(
        elsewhere.accepted.lock().unwrap().is_empty(),
        "the routing key went to the other address"
    );
}

#[tokio::test]
async fn a_refused_connection_and_a_timeout_are_named() {
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let stuck = hanging_receiver().await;
    let text = include_str!("../config/ponte.example.toml").to_owned()
        + &format!(
            r#"
[[pagers]]
name = "closed"
kind = "pagerduty"
url = "{closed}/enqueue"
routing_key_env = "TEST_PD_KEY"

[[pagers]]
name = "slow"
kind = "pagerduty"
url = "{stuck}/enqueue"
routing_key_env = "TEST_PD_KEY"
timeout_seconds = 1
"#
        );
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let client = pagers(&config).client;
    let now: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
    let refused = client.send("closed", &page(1), now).await.unwrap_err();
    assert!(
        refused.to_string().contains("connection refused"),
        "{refused}"
    );
    let slow = client.send("slow", &page(2), now).await.unwrap_err();
    assert!(slow.to_string().contains("timed out"), "{slow}");
}

#[test]
fn a_pager_url_must_be_https_except_on_this_machine() {
    let text = include_str!("../config/ponte.example.toml").to_owned()
        + r#"
[[pagers]]
name = "pd"
kind = "pagerduty"
url = "http://events.pagerduty.com/v2/enqueue"
routing_key_env = "TEST_PD_KEY"
"#;
    let error = Config::from_toml_str(&text, "test.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("use https://"), "{error}");
    assert!(error.contains("pagers"), "{error}");
}
