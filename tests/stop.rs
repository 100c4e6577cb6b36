//! Stopping (issue 18): the real bot (`ponte run`) runs as a child process
//! against the emulator in this process; while people keep sending
//! `/request`s, it gets SIGTERM. It must exit 0, in time, and every task a
//! person saw confirmed must be in the store. A second signal while it
//! stops makes it exit at once.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ponte::domain::{ClientKey, TaskId};
use ponte::emulator::Emulator;
use ponte::sandbox::cast;
use ponte::store::{SledStore, Store, StoreOptions};

/// Generous: the bot stops within 10 s, the test machine is slow and shared.
const EXIT_BOUND: Duration = Duration::from_secs(40);

fn spawn_bot(config: &Path, env: &[(String, String)], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("create the child's log");
    Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["run", "--config"])
        .arg(config)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PONTE_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("start ponte run")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Waits for the child to exit, at most `bound`.
async fn exit_within(child: &mut Child, bound: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

struct Bot {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    log: std::path::PathBuf,
    child: Child,
    emulator: Emulator,
}

async fn start() -> Bot {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("ponte.toml");
    let log = dir.path().join("bot.log");
    let from = "data_dir = \"./ponte-data\"";
    assert_eq!(cast::CONFIG.matches(from).count(), 1, "the example changed");
    // No health port: tests run beside each other.
    let text = cast::CONFIG
        .replace(
            from,
            &format!("data_dir = {:?}", data.display().to_string()),
        )
        .replace("health_addr = \"127.0.0.1:9464\"\n", "");
    std::fs::write(&config, text).expect("write the config");
    let emulator = Emulator::start(cast::world()).await.expect("emulator");
    let env = emulator
        .write_connection(&dir.path().join("ca.der"))
        .expect("write the CA");
    let mut child = spawn_bot(&config, &env, &log);
    common::wait_for_session(&emulator, &mut child, &log, 0, "start").await;
    Bot {
        _dir: dir,
        data,
        log,
        child,
        emulator,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_zero_in_time_and_loses_nothing_confirmed() {
    let mut bot = start().await;
    let giulia = &cast::PEOPLE[0];
    // title -> the task id its author saw confirmed.
    let confirmed: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut people = Vec::new();
    for _ in 0..4 {
        let (emulator, confirmed, stop, sent) = (
            bot.emulator.clone(),
            confirmed.clone(),
            stop.clone(),
            sent.clone(),
        );
        people.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let n = sent.fetch_add(1, Ordering::SeqCst);
                let title = format!("stop probe {n}");
                let Ok(handle) = emulator.slash_line(
                    giulia.id,
                    giulia.channel,
                    &format!("/request title:\"{title}\" priority:P3"),
                ) else {
                    // The gateway is closed: nobody can ask any more.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if let Ok(response) = handle.response(Duration::from_secs(20)).await {
                    let seen = response
                        .message
                        .as_ref()
                        .map(|m| format!("{} {:?}", m.content, m.embeds))
                        .unwrap_or_default();
                    if let Some(id) = common::acme_task_id_in(&seen) {
                        confirmed.lock().expect("lock").insert(title, id);
                    }
                }
            }
        }));
    }
    // Load first: SIGTERM arrives while requests are in flight.
    for _ in 0..1200 {
        if confirmed.lock().expect("lock").len() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        confirmed.lock().expect("lock").len() >= 12,
        "the bot confirmed too little; log:\n{}",
        std::fs::read_to_string(&bot.log).unwrap_or_default()
    );
    signal(&bot.child, "TERM");
    let started = Instant::now();
    let status = exit_within(&mut bot.child, EXIT_BOUND).await;
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    for person in people {
        person.await.expect("a person");
    }
    let log = std::fs::read_to_string(&bot.log).unwrap_or_default();
    let Some(status) = status else {
        let _ = bot.child.kill();
        panic!("ponte run did not exit {EXIT_BOUND:?} after SIGTERM; log:\n{log}");
    };
    assert_eq!(status.code(), Some(0), "exit after SIGTERM; log:\n{log}");
    assert!(log.contains("stopping"), "the stop is logged:\n{log}");
    eprintln!("stopped {took:?} after SIGTERM");

    // Every task a person saw confirmed is stored, with its title.
    let confirmed = confirmed.lock().expect("lock").clone();
    let data = bot.data.clone();
    let store = tokio::task::spawn_blocking(move || {
        SledStore::open(&StoreOptions::new(&data)).expect("reopen the store")
    })
    .await
    .expect("open");
    let acme = ClientKey::new("ACME").expect("key");
    for (title, id) in &confirmed {
        let n: u64 = id["ACME-".len()..].parse().expect("number");
        let task = store
            .task(&TaskId::new(acme.clone(), n))
            .expect("read a task")
            .unwrap_or_else(|| panic!("{id} ({title}) was confirmed but is not stored"));
        assert_eq!(&task.title, title);
    }
    drop(store);
    let check = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check-store", "--data-dir"])
        .arg(&bot.data)
        .output()
        .expect("run ponte check-store");
    assert!(
        check.status.success(),
        "check-store: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_too_and_a_second_signal_exits_at_once() {
    let mut bot = start().await;
    signal(&bot.child, "INT");
    let status = exit_within(&mut bot.child, EXIT_BOUND).await;
    let log = std::fs::read_to_string(&bot.log).unwrap_or_default();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit after SIGINT; log:\n{log}"
    );

    // Two signals in a row: the second one ends the process at once, with
    // the code that says so (and the data stays readable).
    let mut bot = start().await;
    signal(&bot.child, "TERM");
    tokio::time::sleep(Duration::from_millis(20)).await;
    signal(&bot.child, "TERM");
    let status = exit_within(&mut bot.child, EXIT_BOUND)
        .await
        .expect("exits after two signals");
    let log = std::fs::read_to_string(&bot.log).unwrap_or_default();
    // The first stop may have finished before the second signal arrived.
    assert!(
        matches!(status.code(), Some(0 | 130)),
        "exit after two signals: {status:?}; log:\n{log}"
    );
}
