//! The alert listener as a monitoring system meets it (issue 20): the real
//! HTTP server on 127.0.0.1:0 in front of the app and a real store, no
//! Discord. Refused authentication (bearer, HMAC, a stale timestamp), the
//! limits (body size, rate), unknown targets, a secret Ponte does not
//! have, malformed payloads; deduplication under concurrent repeats; storm
//! folding; resolution; and a missed heartbeat opening its task once.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::engine::{AlertResult, Ledger, MonitorOp};
use ponte::app::monitor::{HeartbeatTimer, Monitoring};
use ponte::app::timers::Timer;
use ponte::config::Config;
use ponte::domain::{EventKind, Status, TaskId};
use ponte::notify::pager::{Secret, signature};
use ponte::store::{SledStore, Store};
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../config/ponte.example.toml");

/// ACME gets more integrations: Ponte's generic JSON signed (HMAC), one
/// with a small rate, and one whose secret Ponte lacks.
const EXTRA: &str = r#"
[[clients.integrations]]
name = "uptime"
format = "generic"
auth = "hmac"
secret_env = "PONTE_ACME_UPTIME_SECRET"
storm_threshold = 2

[[clients.integrations]]
name = "limited"
format = "generic"
secret_env = "PONTE_ACME_LIMITED_SECRET"
rate_per_minute = 3

[[clients.integrations]]
name = "unset"
format = "generic"
secret_env = "PONTE_NOT_SET"

[[clients]]
name = "Brightline Logistics""#;

const BRIGHT_PROMETHEUS: &str = r#"
[[clients.integrations]]
name = "prometheus"
format = "alertmanager"
secret_env = "PONTE_BRIGHT_PROMETHEUS_SECRET"
to = "msp"

[[oncall]]"#;

fn config() -> Config {
    let marker = "\n[[clients]]\nname = \"Brightline Logistics\"";
    assert_eq!(EXAMPLE.matches(marker).count(), 1);
    let text = EXAMPLE
        .replace(marker, EXTRA)
        .replace(
            "# [inbound]\n# addr = \"0.0.0.0:9465\"\n# max_body_kb = 1024",
            "[inbound]\naddr = \"127.0.0.1:9465\"\nmax_body_kb = 4",
        )
        // Brightline has an Alertmanager of its own, under the same name.
        .replacen("\n[[oncall]]", BRIGHT_PROMETHEUS, 1);
    Config::from_toml_str(&text, "ponte.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn secret(var: &str) -> String {
    format!("secret-of-{var}")
}

struct Listener {
    url: String,
    ledger: Ledger<SledStore>,
    store: Arc<SledStore>,
    config: Arc<Config>,
    clock: ManualClock,
    stop: tokio::sync::watch::Sender<bool>,
    http: reqwest::Client,
}

impl Listener {
    async fn start() -> Self {
        Self::start_on(Arc::new(SledStore::open_temporary().unwrap())).await
    }

    /// A listener in front of `store`.
    async fn start_on(store: Arc<SledStore>) -> Self {
        let config = Arc::new(config());
        let clock = ManualClock::new("2026-11-27T21:00:00Z".parse().unwrap());
        let ledger = Ledger::start(
            store.clone(),
            Arc::new(config.rules()),
            Arc::new(clock.clone()),
        )
        .unwrap();
        let monitoring = Monitoring::new(
            ledger.clone(),
            config.clone(),
            Arc::new(ponte::i18n::Messages::load().unwrap()),
        );
        let secrets: ponte::inbound::Secrets =
            Arc::new(|var: &str| (var != "PONTE_NOT_SET").then(|| secret(var)));
        let listener = ponte::inbound::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let max_body = config.inbound().unwrap().max_body_bytes;
        tokio::spawn(ponte::inbound::serve(
            listener,
            Arc::new(monitoring),
            secrets,
            max_body,
            stopped,
        ));
        Self {
            url: format!("http://{addr}"),
            ledger,
            store,
            config,
            clock,
            stop,
            http: reqwest::Client::new(),
        }
    }

    /// Posts `body` to Alertmanager's integration with `token`.
    async fn prometheus(&self, token: Option<&str>, body: &Value) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}/clients/ACME/alerts/prometheus", self.url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts `body` to `client`'s Alertmanager integration with `token`.
    async fn prometheus_of(&self, client: &str, token: &str, body: &Value) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/clients/{client}/alerts/prometheus", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts `body` to the signed generic integration, signed at `ts`
    /// with `key`.
    async fn uptime(&self, key: &str, ts: i64, body: &[u8]) -> reqwest::Response {
        self.http
            .post(format!("{}/clients/ACME/alerts/uptime", self.url))
            .header("x-ponte-timestamp", ts.to_string())
            .header("x-ponte-signature", signature(&Secret::new(key), ts, body))
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    fn tasks(&self) -> u64 {
        self.store.task_count().unwrap()
    }

    /// The counts of the alerts folded into task `id`, in order.
    fn folded(&self, id: &str) -> Vec<u32> {
        self.events(id)
            .iter()
            .filter_map(|e| match e {
                EventKind::AlertFolded { count, .. } => Some(*count),
                _ => None,
            })
            .collect()
    }

    fn events(&self, id: &str) -> Vec<EventKind> {
        let id: TaskId = id.parse().unwrap();
        self.store
            .events(&id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn prometheus_token() -> String {
    secret("PONTE_ACME_PROMETHEUS_SECRET")
}

fn am(alerts: &[(&str, &str, &str)]) -> Value {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(fingerprint, status, severity)| {
            json!({
                "status": status,
                "labels": {"alertname": "DiskFull", "instance": fingerprint, "severity": severity},
                "annotations": {},
                "startsAt": "2026-11-27T20:58:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://prometheus.example/graph",
                "fingerprint": fingerprint,
            })
        })
        .collect();
    json!({"version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": "firing",
           "receiver": "ponte", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
           "externalURL": "https://am.example", "truncatedAlerts": 0, "alerts": alerts})
}

#[tokio::test]
async fn a_caller_without_the_secret_is_refused_and_nothing_is_recorded() {
    let l = Listener::start().await;
    let body = am(&[("db1", "firing", "critical")]);
    let (status, text) = l.prometheus(None, &body).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("Authorization: Bearer"), "{text}");
    let (status, _) = l.prometheus(Some("secret-of-SOMETHING_ELSE"), &body).await;
    assert_eq!(status, 401);
    // A prefix of the secret is not the secret.
    let token = prometheus_token();
    let (status, _) = l.prometheus(Some(&token[..token.len() - 1]), &body).await;
    assert_eq!(status, 401);
    assert_eq!(l.tasks(), 0);

    // HMAC: a signature with another key, or none, or an old timestamp.
    let generic = br#"{"title":"Website down","fingerprint":"www","severity":"critical"}"#;
    let now = Timestamp::now().as_second();
    let r = l.uptime("not-the-key", now, generic).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("X-Ponte-Signature"));
    let key = secret("PONTE_ACME_UPTIME_SECRET");
    let r = l.uptime(&key, now - 3600, generic).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("5 minutes"));
    let r = l
        .http
        .post(format!("{}/clients/ACME/alerts/uptime", l.url))
        .bearer_auth(&key)
        .body(generic.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "a bearer token is no signature");
    assert_eq!(l.tasks(), 0);
    // Signed right: recorded.
    let r = l.uptime(&key, now, generic).await;
    assert_eq!(r.status().as_u16(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["alerts"][0]["result"], "opened");
    assert_eq!(l.tasks(), 1);
}

#[tokio::test]
async fn the_listener_bounds_what_a_caller_can_send() {
    let l = Listener::start().await;
    let token = prometheus_token();
    // Over [inbound].max_body_kb (4 KiB here), declared or streamed.
    let many: Vec<(String, &str, &str)> = (0..60)
        .map(|i| (format!("node-{i}"), "firing", "warning"))
        .collect();
    let many: Vec<(&str, &str, &str)> = many.iter().map(|(f, s, v)| (f.as_str(), *s, *v)).collect();
    let (status, text) = l.prometheus(Some(&token), &am(&many)).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("max_body_kb"), "{text}");
    let answer = raw_chunked(&l.url, &token, &[vec![b' '; 3000], vec![b' '; 3000]]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // `limited` takes 3 requests a minute.
    let limited = |body: String| {
        l.http
            .post(format!("{}/clients/ACME/alerts/limited", l.url))
            .bearer_auth(secret("PONTE_ACME_LIMITED_SECRET"))
            .body(body)
            .send()
    };
    for i in 0..3 {
        let body = format!(r#"{{"title":"t{i}","fingerprint":"f{i}"}}"#);
        assert_eq!(limited(body).await.unwrap().status().as_u16(), 200);
    }
    let r = limited(r#"{"title":"t","fingerprint":"f9"}"#.into())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another integration has its own rate.
    let (status, _) = l
        .prometheus(Some(&token), &am(&[("db1", "firing", "critical")]))
        .await;
    assert_eq!(status, 200);
    // Unknown targets, a secret Ponte lacks, a payload that does not read.
    let r = l
        .http
        .post(format!("{}/clients/ACME/alerts/nagios", l.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = l
        .http
        .post(format!("{}/clients/NOPE/heartbeat/x", l.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = l
        .http
        .post(format!("{}/clients/ACME/alerts/unset", l.url))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("not set up"));
    let (status, text) = l
        .prometheus(
            Some(&token),
            &json!({"version": "4", "alerts": [{"status": "burning"}]}),
        )
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("alerts[0]"), "{text}");
    let r = l
        .http
        .get(format!("{}/clients/ACME/alerts/prometheus", l.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405, "only POST");
}

/// Posts a body in chunks (no Content-Length) over a raw connection and
/// returns the answer's text.
async fn raw_chunked(url: &str, token: &str, chunks: &[Vec<u8>]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /clients/ACME/alerts/prometheus HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
        piece.extend_from_slice(chunk);
        piece.extend_from_slice(b"\r\n");
        // The server may answer and close before the last piece.
        if stream.write_all(&piece).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn the_same_alert_sent_at_once_by_many_senders_opens_one_task() {
    let l = Arc::new(Listener::start().await);
    let token = prometheus_token();
    let body = am(&[("db1", "firing", "critical")]);
    let mut sends = Vec::new();
    for _ in 0..20 {
        let (l, token, body) = (l.clone(), token.clone(), body.clone());
        sends.push(tokio::spawn(async move {
            l.prometheus(Some(&token), &body).await
        }));
    }
    let mut opened = 0;
    for send in sends {
        let (status, text) = send.await.unwrap();
        assert_eq!(status, 200, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["alerts"][0]["task"], "ACME-1");
        if answer["alerts"][0]["result"] == "opened" {
            opened += 1;
        }
    }
    assert_eq!(opened, 1);
    assert_eq!(l.tasks(), 1);
    let repeats = l
        .events("ACME-1")
        .iter()
        .filter(|e| matches!(e, EventKind::AlertRepeated { .. }))
        .count();
    assert_eq!(repeats, 19, "each repeat is on the task's record");
}

#[tokio::test]
async fn a_storm_folds_and_the_storm_task_resolves_with_its_last_alert() {
    let l = Listener::start().await;
    let key = secret("PONTE_ACME_UPTIME_SECRET");
    let now = Timestamp::now().as_second();
    // storm_threshold = 2: two alerts of the group open tasks, the third
    // opens the storm task, the rest fold into it.
    let alerts: Vec<Value> = (1..=6)
        .map(|i| json!({"title": format!("Node {i} down"), "fingerprint": format!("n{i}"), "group": "rack"}))
        .collect();
    let body = serde_json::to_vec(&json!({"alerts": alerts})).unwrap();
    let answer: Value = l.uptime(&key, now, &body).await.json().await.unwrap();
    let results: Vec<&str> = answer["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        [
            "opened",
            "opened",
            "opened_storm",
            "folded",
            "folded",
            "folded"
        ]
    );
    assert_eq!(answer["alerts"][5]["task"], "ACME-3");
    assert_eq!(l.folded("ACME-3"), [1, 2, 3]);
    // Another group is not in the storm.
    let other = br#"{"title":"Printer jam","fingerprint":"p1","group":"printers"}"#;
    let answer: Value = l.uptime(&key, now, other).await.json().await.unwrap();
    assert_eq!(answer["alerts"][0]["result"], "opened");
    // The storm's four alerts resolve: the task resolves with the last.
    for (i, fp) in ["n3", "n4", "n5", "n6"].iter().enumerate() {
        let body = format!(r#"{{"fingerprint":"{fp}","status":"resolved"}}"#);
        let answer: Value = l
            .uptime(&key, now, body.as_bytes())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["alerts"][0]["result"], "resolved");
        let task = l.store.task(&"ACME-3".parse().unwrap()).unwrap().unwrap();
        assert_eq!(task.status == Status::Resolved, i == 3, "after {fp}");
    }
}

#[tokio::test]
async fn after_an_export_and_import_alerts_find_their_open_tasks_again() {
    let l = Listener::start().await;
    let key = secret("PONTE_ACME_UPTIME_SECRET");
    let now = Timestamp::now().as_second();
    let fire =
        |fp: &str| format!(r#"{{"title":"Node {fp} down","fingerprint":"{fp}","group":"rack"}}"#);
    let resolve = |fp: &str| format!(r#"{{"fingerprint":"{fp}","status":"resolved"}}"#);
    // n1, n2 open tasks; n3 the storm task (ACME-3); n4 folds into it.
    for fp in ["n1", "n2", "n3", "n4"] {
        assert_eq!(l.uptime(&key, now, fire(fp).as_bytes()).await.status(), 200);
    }
    let mut dump = Vec::new();
    ponte::app::transfer::export(l.store.as_ref(), &mut dump).unwrap();
    drop(l);

    let copy = Arc::new(SledStore::open_temporary().unwrap());
    ponte::app::transfer::import(copy.as_ref(), &mut dump.as_slice()).unwrap();
    let l = Listener::start_on(copy).await;
    let result = |answer: Value| {
        (
            answer["alerts"][0]["result"].as_str().unwrap().to_owned(),
            answer["alerts"][0]["task"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };
    let send = |body: String| {
        let l = &l;
        let key = key.clone();
        async move {
            l.uptime(&key, now, body.as_bytes())
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // The same alert again is a repeat on its task, not a new task.
    assert_eq!(
        result(send(fire("n1")).await),
        ("repeated".into(), "ACME-1".into())
    );
    // The group is still in its storm: a new alert folds in, counting on.
    assert_eq!(
        result(send(fire("n5")).await),
        ("folded".into(), "ACME-3".into())
    );
    assert_eq!(l.tasks(), 3);
    assert_eq!(l.folded("ACME-3"), [1, 2]);
    // A resolution finds its task: the storm task resolves with its last
    // alert, the others stay open until theirs.
    for fp in ["n3", "n4", "n5"] {
        assert_eq!(
            result(send(resolve(fp)).await),
            ("resolved".into(), "ACME-3".into())
        );
    }
    assert_eq!(status_of(&l, "ACME-3"), Status::Resolved);
    assert_eq!(status_of(&l, "ACME-1"), Status::New);
    assert_eq!(
        result(send(resolve("n1")).await),
        ("resolved".into(), "ACME-1".into())
    );
    assert_eq!(status_of(&l, "ACME-1"), Status::Resolved);
}

#[tokio::test]
async fn a_resolution_resolves_an_untouched_task_and_only_notes_a_touched_one() {
    let l = Listener::start().await;
    let token = prometheus_token();
    l.prometheus(
        Some(&token),
        &am(&[("db1", "firing", "critical"), ("db2", "firing", "warning")]),
    )
    .await;
    // Somebody works on ACME-2.
    let mike = ponte::domain::Actor {
        person: ponte::domain::PersonId(9021),
        side: ponte::domain::Side::Msp,
        roles: ponte::domain::RoleSet::empty().with(ponte::domain::Role::MspEngineer),
        clients: ponte::domain::ClientScope::All,
    };
    l.ledger
        .submit(ponte::app::engine::Request::by(
            mike,
            ponte::app::engine::Op::Change {
                task: "ACME-2".parse().unwrap(),
                command: ponte::domain::Command::Claim,
            },
        ))
        .await
        .unwrap();
    let (status, text) = l
        .prometheus(
            Some(&token),
            &am(&[
                ("db1", "resolved", "critical"),
                ("db2", "resolved", "warning"),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let one = l.store.task(&"ACME-1".parse().unwrap()).unwrap().unwrap();
    assert_eq!(one.status, Status::Resolved);
    let two = l.store.task(&"ACME-2".parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        two.status,
        Status::Claimed,
        "somebody works on it: it stays"
    );
    assert!(l.events("ACME-2").iter().any(|e| matches!(
        e,
        EventKind::AlertResolved {
            resolves_task: false,
            ..
        }
    )));
    // A resolution nobody knows changes nothing.
    let (status, text) = l
        .prometheus(Some(&token), &am(&[("db9", "resolved", "critical")]))
        .await;
    assert_eq!(status, 200);
    assert!(text.contains("nothing_open"), "{text}");
    assert_eq!(l.tasks(), 2);
    // Firing again after its task resolved: a new task.
    let (_, text) = l
        .prometheus(Some(&token), &am(&[("db1", "firing", "critical")]))
        .await;
    assert!(text.contains("ACME-3"), "{text}");
}

#[tokio::test]
async fn an_alert_whose_task_was_cancelled_by_hand_leaves_nothing_behind_once_resolved() {
    let l = Listener::start().await;
    let token = prometheus_token();
    l.prometheus(Some(&token), &am(&[("db1", "firing", "critical")]))
        .await;
    cancel(&l, "ACME-1").await;
    let keys = ["alert/ACME/prometheus/db1", "alerttask/ACME-1"];
    for key in keys {
        assert!(l.store.lookup(key).unwrap().is_some(), "{key} while firing");
    }
    let (status, text) = l
        .prometheus(Some(&token), &am(&[("db1", "resolved", "critical")]))
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("nothing_open"), "{text}");
    for key in keys {
        assert_eq!(l.store.lookup(key).unwrap(), None, "{key} once resolved");
    }
    assert_eq!(
        l.store
            .task(&"ACME-1".parse().unwrap())
            .unwrap()
            .unwrap()
            .status,
        Status::Cancelled
    );
}

#[tokio::test]
async fn the_sweep_removes_the_lookups_of_closed_tasks_and_past_storms_only() {
    let l = Listener::start().await;
    let key = secret("PONTE_ACME_UPTIME_SECRET");
    let now = Timestamp::now().as_second();
    // Two alerts without a group (each its own group), ACME-1 and ACME-2;
    // the first is cancelled by hand and its alert never resolves.
    for fp in ["p1", "p2"] {
        let body = format!(r#"{{"title":"Ping {fp} lost","fingerprint":"{fp}"}}"#);
        assert_eq!(l.uptime(&key, now, body.as_bytes()).await.status(), 200);
    }
    cancel(&l, "ACME-1").await;
    let present = |key: &str| l.store.lookup(key).unwrap().is_some();
    let sweep = || async {
        match l.ledger.monitor(MonitorOp::Sweep).await.unwrap().result {
            AlertResult::Swept { removed, done } => (removed, done),
            other => panic!("{other:?}"),
        }
    };
    // Within the storm window: only the cancelled task's alert goes.
    assert_eq!(sweep().await, (2, true));
    assert!(!present("alert/ACME/uptime/p1") && !present("alerttask/ACME-1"));
    for key in [
        "alertgroup/ACME/uptime/p1",
        "alertgroup/ACME/uptime/p2",
        "alert/ACME/uptime/p2",
        "alerttask/ACME-2",
    ] {
        assert!(present(key), "{key}");
    }
    // After the window, the groups go; the open task's alert stays.
    l.clock.set(l.clock.now() + SignedDuration::from_mins(2));
    assert_eq!(sweep().await, (2, true));
    assert!(present("alert/ACME/uptime/p2") && present("alerttask/ACME-2"));
    let body = br#"{"title":"Ping p2 lost","fingerprint":"p2"}"#;
    let answer: Value = l.uptime(&key, now, body).await.json().await.unwrap();
    assert_eq!(answer["alerts"][0]["result"], "repeated");
    // Many stale keys go a batch per sweep, the sweep resuming where it
    // stopped.
    let stale: Vec<(String, Option<Vec<u8>>)> = (0..ponte::app::engine::SWEEP_BATCH + 100)
        .map(|i| {
            (
                format!("alert/ACME/uptime/old-{i:04}"),
                Some(br#"{"task":"ACME-99"}"#.to_vec()),
            )
        })
        .collect();
    l.store.put_lookups(&stale).unwrap();
    assert_eq!(sweep().await, (ponte::app::engine::SWEEP_BATCH, false));
    assert_eq!(sweep().await, (100, true));
    assert!(present("alert/ACME/uptime/p2"));
    // The timer sweeps hourly, not on each of the timers' firings.
    let timer = ponte::app::monitor::SweepTimer::new(l.ledger.clone());
    let stale = |n: usize| {
        let key = format!("alert/ACME/uptime/gone-{n}");
        l.store
            .put_lookups(&[(key.clone(), Some(br#"{"task":"ACME-99"}"#.to_vec()))])
            .unwrap();
        key
    };
    let start = l.clock.now();
    let first = stale(1);
    let next = timer.fire(start).await.unwrap();
    assert_eq!(next, Some(start + SignedDuration::from_hours(1)));
    assert!(!present(&first));
    let second = stale(2);
    timer
        .fire(start + SignedDuration::from_mins(5))
        .await
        .unwrap();
    assert!(present(&second), "swept again before its hour");
    timer
        .fire(start + SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert!(!present(&second));
}

/// An IT manager of ACME cancels task `id` by hand.
async fn cancel(l: &Listener, id: &str) {
    let manager = ponte::domain::Actor {
        person: ponte::domain::PersonId(5001),
        side: ponte::domain::Side::Internal,
        roles: ponte::domain::RoleSet::empty().with(ponte::domain::Role::ItManager),
        clients: ponte::domain::ClientScope::Only(ponte::domain::ClientKey::new("ACME").unwrap()),
    };
    l.ledger
        .submit(ponte::app::engine::Request::by(
            manager,
            ponte::app::engine::Op::Change {
                task: id.parse().unwrap(),
                command: ponte::domain::Command::Cancel {
                    reason: Some("known maintenance".into()),
                },
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn one_clients_secret_and_fingerprints_reach_nothing_of_another_client() {
    let l = Listener::start().await;
    let acme = prometheus_token();
    let bright = secret("PONTE_BRIGHT_PROMETHEUS_SECRET");
    let (status, text) = l
        .prometheus(Some(&acme), &am(&[("db1", "firing", "critical")]))
        .await;
    assert_eq!(status, 200, "{text}");
    // ACME's secret opens nothing of Brightline's, under the same name.
    let (status, _) = l
        .prometheus_of("BRIGHT", &acme, &am(&[("db1", "firing", "critical")]))
        .await;
    assert_eq!(status, 401);
    assert_eq!(l.tasks(), 1);
    // Brightline's own alert with ACME's fingerprint is Brightline's task,
    // not a repeat on ACME's; its resolution leaves ACME's open.
    let (status, text) = l
        .prometheus_of("BRIGHT", &bright, &am(&[("db1", "firing", "critical")]))
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("\"opened\"") && text.contains("BRIGHT-1"),
        "{text}"
    );
    let (_, text) = l
        .prometheus_of("BRIGHT", &bright, &am(&[("db1", "resolved", "critical")]))
        .await;
    assert!(text.contains("BRIGHT-1"), "{text}");
    assert_eq!(status_of(&l, "BRIGHT-1"), Status::Resolved);
    assert_eq!(status_of(&l, "ACME-1"), Status::New);
    // And Brightline's secret is no key to ACME's integration.
    let (status, _) = l
        .prometheus(Some(&bright), &am(&[("db1", "resolved", "critical")]))
        .await;
    assert_eq!(status, 401);
    assert_eq!(status_of(&l, "ACME-1"), Status::New);
}

fn status_of(l: &Listener, id: &str) -> Status {
    l.store.task(&id.parse().unwrap()).unwrap().unwrap().status
}

#[tokio::test]
async fn a_missed_heartbeat_opens_one_task_per_expiry_and_the_next_beat_resolves_it() {
    let l = Listener::start().await;
    let started = l.clock.now();
    let timer = HeartbeatTimer {
        ledger: l.ledger.clone(),
        config: l.config.clone(),
        messages: Arc::new(ponte::i18n::Messages::load().unwrap()),
        since: started,
    };
    let beat = |l: &Listener| {
        l.http
            .post(format!("{}/clients/ACME/heartbeat/erp-sync", l.url))
            .bearer_auth(secret("PONTE_ACME_ERP_SYNC_SECRET"))
            .send()
    };
    // Inactive until its first beat.
    assert_eq!(
        timer
            .fire(started + SignedDuration::from_hours(48))
            .await
            .unwrap(),
        None
    );
    assert_eq!(beat(&l).await.unwrap().status().as_u16(), 200);
    // A system beating in a loop is answered, and recorded once a second.
    l.clock.set(started + SignedDuration::from_millis(500));
    for _ in 0..20 {
        assert_eq!(beat(&l).await.unwrap().status().as_u16(), 200);
    }
    let due = timer.fire(started).await.unwrap().unwrap();
    assert_eq!(due, started + SignedDuration::from_hours(25));
    assert_eq!(l.tasks(), 0);
    // Past interval and grace: one task, however often the timer fires.
    for minutes in [1, 2, 90] {
        timer
            .fire(due + SignedDuration::from_mins(minutes))
            .await
            .unwrap();
    }
    assert_eq!(l.tasks(), 1);
    let task = l.store.task(&"ACME-1".parse().unwrap()).unwrap().unwrap();
    assert_eq!(task.priority, ponte::domain::Priority::P1);
    assert!(task.title.contains("erp-sync"), "{}", task.title);
    // The writer refuses a second task for the same expiry.
    let again = l
        .ledger
        .monitor(MonitorOp::Missed {
            client: ponte::domain::ClientKey::new("ACME").unwrap(),
            monitor: "erp-sync".into(),
            last: started,
            alert: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(again.result, AlertResult::NothingOpen);
    // The next beat resolves it.
    l.clock.set(due + SignedDuration::from_hours(2));
    let answer: Value = beat(&l).await.unwrap().json().await.unwrap();
    assert_eq!(answer["result"], "resolved");
    let task = l.store.task(&"ACME-1".parse().unwrap()).unwrap().unwrap();
    assert_eq!(task.status, Status::Resolved);
    // Missing again later is a new expiry: a new task.
    let next = timer.fire(l.clock.now()).await.unwrap().unwrap();
    timer
        .fire(next + SignedDuration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(l.tasks(), 2);
}
