//! Operations (issue 8): backups while the bot writes, `ponte check-store`,
//! `/healthz` and `/metrics` of a bot connected to the emulator.

mod common;

use std::path::Path;
use std::process::{Command as Process, Output};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ponte::app::clock::ManualClock;
use ponte::app::engine::{Ledger, Op, Request};
use ponte::domain::Command;
use ponte::ops::health::{self, Probe};
use ponte::store::{SledStore, Store, StoreOptions};
use tokio::sync::watch;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/ponte.example.toml");

/// The backup secret of the tests' health servers.
const BACKUP_SECRET: &str = "backup-secret-of-the-test";

fn ponte(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .env_remove("PONTE_CONFIG")
        .env_remove("PONTE_DATA_DIR")
        .env_remove("DISCORD_TOKEN")
        .output()
        .expect("the ponte binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn open(dir: &Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(&StoreOptions::new(dir)).unwrap())
}

/// Opens a store whose last handle is being dropped.
fn reopen(dir: &Path) -> SledStore {
    for _ in 0..200 {
        match SledStore::open(&StoreOptions::new(dir)) {
            Ok(store) => return store,
            Err(e) if e.is_locked() => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the store stays locked")
}

/// Creates and changes tasks of two clients; returns how many it created.
async fn write_load(ledger: Ledger<SledStore>, rounds: usize) -> usize {
    let engineer = msp_engineer(10);
    let mut created = 0;
    for i in 0..rounds {
        let client = if i % 2 == 0 { ACME } else { BRIGHT };
        let asker = employee(1 + (i % 2) as u64, client);
        let task = ledger
            .submit(create(&asker, client, &format!("vpn down {i}")).with_key(format!("i{i}")))
            .await
            .unwrap()
            .task
            .id;
        created += 1;
        if i % 3 == 0 {
            ledger
                .submit(Request::by(
                    engineer.clone(),
                    Op::Change {
                        task,
                        command: Command::Claim,
                    },
                ))
                .await
                .unwrap();
        }
    }
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_while_changes_are_written_is_consistent_and_passes_check_store() {
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let store = open(&dir.path().join("data"));
    let ledger = Ledger::start(store.clone(), rules(), Arc::new(clock.clone())).unwrap();
    let load = tokio::spawn(write_load(ledger.clone(), 300));
    let mut copies = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let target = backups.path().join(format!("copy{n}"));
        let from = store.clone();
        let into = target.clone();
        let report = tokio::task::spawn_blocking(move || from.backup_to(&into))
            .await
            .unwrap()
            .unwrap();
        copies.push((target, report));
    }
    let created = load.await.unwrap();
    assert_eq!(created, 300);
    // A last copy once the writes are done holds everything.
    let last = backups.path().join("last");
    let report = store.backup_to(&last).unwrap();
    assert_eq!(report.tasks, 300);
    copies.push((last, report));

    for (path, report) in &copies {
        let copy = reopen(path);
        assert_eq!(copy.check_integrity().unwrap(), Vec::<String>::new());
        assert_eq!(copy.task_count().unwrap(), report.tasks);
        // Whatever the copy holds of a task is a prefix of its history.
        copy.for_each_task(&mut |task| {
            let original = store.events(&task.id).unwrap();
            let copied = copy.events(&task.id).unwrap();
            assert!(copied.len() <= original.len());
            assert_eq!(copied[..], original[..copied.len()], "{}", task.id);
            Ok(())
        })
        .unwrap();
        drop(copy);
        // The copy is a data directory the binary accepts as intact.
        let path = path.to_string_lossy();
        let out = ponte(&["check-store", "--data-dir", &path]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("the store is intact"));
    }
}

#[test]
fn backup_refuses_a_directory_that_holds_something() {
    let store = SledStore::open_temporary().unwrap();
    let target = tempfile::tempdir().unwrap();
    std::fs::write(target.path().join("precious"), "x").unwrap();
    let err = store.backup_to(target.path()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(target.path().join("precious").exists());
}

#[test]
fn check_store_exits_non_zero_on_a_damaged_store_and_says_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let engine = ponte::app::engine::Engine::new(Arc::new(store.clone()), rules());
        for i in 0..3 {
            engine
                .execute(&create(&employee(1, ACME), ACME, &format!("t{i}")), start())
                .unwrap();
        }
        store.flush().unwrap();
    }
    // Lose a snapshot, as a torn write might.
    {
        let db = reopen_raw(&data);
        let tasks = db.open_tree("tasks").unwrap();
        let (key, _) = tasks.iter().next().unwrap().unwrap();
        tasks.remove(key).unwrap();
        db.flush().unwrap();
    }
    let path = data.to_string_lossy();
    let out = ponte(&["check-store", "--data-dir", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the store is damaged"), "{stderr}");
    assert!(stderr.contains("ponte export --data-dir"), "{stderr}");
    // What can still be read is exported.
    let out = ponte(&["export", "--data-dir", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ACME-2"));
}

fn reopen_raw(dir: &Path) -> sled::Db {
    for _ in 0..200 {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("the store stays locked")
}

#[test]
fn check_store_of_a_missing_directory_fails_clearly() {
    let out = ponte(&["check-store", "--data-dir", "/nonexistent/ponte-data"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no store at /nonexistent/ponte-data; check --data-dir"));
}

#[test]
fn backup_of_a_stopped_store_is_restorable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let engine = ponte::app::engine::Engine::new(Arc::new(store.clone()), rules());
        engine
            .execute(&create(&employee(1, ACME), ACME, "printer"), start())
            .unwrap();
        store.flush().unwrap();
    }
    let copy = dir.path().join("copy");
    let out = ponte(&[
        "backup",
        "--data-dir",
        &data.to_string_lossy(),
        &copy.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("backed up 1 tasks"));
    let out = ponte(&["check-store", "--data-dir", &copy.to_string_lossy()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The probe of a store held open by "the bot" (this process).
struct StoreProbe(Arc<SledStore>);

impl Probe for StoreProbe {
    fn gateway_connected(&self) -> bool {
        true
    }
    fn store_writable(&self) -> Result<(), String> {
        self.0.probe_write().map_err(|e| e.to_string())
    }
    fn outbox_depth(&self) -> Result<u64, String> {
        self.0
            .outbox_len()
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }
    fn backup(&self, dir: &Path) -> Result<String, String> {
        let r = self.0.backup_to(dir).map_err(|e| e.to_string())?;
        Ok(format!("backed up {} tasks\n", r.tasks))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_the_store_is_held_goes_through_the_running_bot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = open(&data);
    let clock = ManualClock::new(start());
    let ledger = Ledger::start(store.clone(), rules(), Arc::new(clock)).unwrap();
    assert_eq!(write_load(ledger, 4).await, 4);
    let listener = health::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(health::serve(
        listener,
        Arc::new(StoreProbe(store.clone())),
        ponte::ops::metrics::global(),
        health::Options {
            backup_secret: Some(BACKUP_SECRET.into()),
        },
        stopped,
    ));
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let config = example
        .replacen(
            "data_dir = \"./ponte-data\"",
            &format!("data_dir = {:?}", data.to_string_lossy()),
            1,
        )
        .replacen(
            "health_addr = \"127.0.0.1:9464\"",
            &format!("health_addr = \"{addr}\""),
            1,
        );
    let config_path = dir.path().join("ponte.toml");
    std::fs::write(&config_path, config).unwrap();
    let copy = dir.path().join("copy");
    let args = [
        "backup".to_owned(),
        "--config".to_owned(),
        config_path.to_string_lossy().into_owned(),
        copy.to_string_lossy().into_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Process::new(env!("CARGO_BIN_EXE_ponte"))
            .args(&args)
            .env_remove("PONTE_CONFIG")
            .env_remove("PONTE_DATA_DIR")
            .env("PONTE_BACKUP_SECRET", BACKUP_SECRET)
            .output()
            .expect("the ponte binary runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "backed up 4 tasks\n");
    // The container health check asks the same server.
    let config_arg = config_path.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || ponte(&["healthcheck", "--config", &config_arg]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"status\":\"ok\""));
    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
    let copy = reopen(&copy);
    assert_eq!(copy.check_integrity().unwrap(), Vec::<String>::new());
    assert_eq!(copy.task_count().unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics_of_a_bot_connected_to_the_emulator() {
    use ponte::emulator::Emulator;
    use ponte::run::{Connect, start as start_bot};
    use ponte::sandbox::cast;

    let dir = tempfile::tempdir().unwrap();
    let config = ponte::config::Config::from_toml_str(cast::CONFIG, "example").unwrap();
    let emulator = Emulator::start(cast::world()).await.unwrap();
    let store = tokio::task::spawn_blocking({
        let path = dir.path().join("data");
        move || open(&path)
    })
    .await
    .unwrap();
    let clock = ManualClock::new(start());
    let bot = start_bot(
        Arc::new(config),
        store,
        Connect::Http(emulator.http_builder()),
        Arc::new(clock),
    )
    .await
    .unwrap();
    let wait = Duration::from_secs(60);
    emulator.wait_until_connected(wait).await.unwrap();
    emulator
        .wait_for_commands(Some(cast::ACME_GUILD), wait)
        .await
        .unwrap();
    let listener = health::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(health::serve(
        listener,
        Arc::new(bot.probe()),
        ponte::ops::metrics::global(),
        health::Options::default(),
        stopped,
    ));
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("http://{addr}{path}"));
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The READY may be processed a moment after the emulator saw IDENTIFY.
    let mut healthy = (0, String::new());
    for _ in 0..100 {
        healthy = get("/healthz").await;
        if healthy.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(healthy.0, 200, "{}", healthy.1);

    let giulia = &cast::PEOPLE[0];
    let handle = emulator
        .slash_line(giulia.id, giulia.channel, "/request title:\"VPN down\"")
        .unwrap();
    let response = handle.response(wait).await.unwrap();
    assert!(format!("{response:?}").contains("ACME-1"), "{response:?}");
    // The count is recorded once serenity's call returns, a moment after
    // the emulator has seen the answer: poll, generously.
    let (mut status, mut metrics, mut answered) = (0, String::new(), 0);
    for _ in 0..300 {
        (status, metrics) = get("/metrics").await;
        answered = metrics
            .lines()
            .find(|l| {
                l.starts_with("ponte_interactions_total{kind=\"command\",outcome=\"answered\"}")
            })
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, n)| n.parse::<u64>().ok())
            .unwrap();
        if answered >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    assert!(answered >= 1, "{metrics}");
    assert!(metrics.contains("ponte_outbox_depth "), "{metrics}");
    assert!(metrics.contains("ponte_gateway_connected 1"), "{metrics}");
    // The open task, by client and the side handling it; every client and
    // side has its line.
    let open: u64 = ["internal", "msp"]
        .iter()
        .map(|side| {
            let prefix = format!("ponte_open_tasks{{client=\"ACME\",side=\"{side}\"}} ");
            let line = metrics.lines().find(|l| l.starts_with(&prefix));
            line.and_then(|l| l[prefix.len()..].parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
        })
        .sum();
    assert_eq!(open, 1, "{metrics}");
    assert!(metrics.contains("ponte_open_tasks{client=\"BRIGHT\",side=\"msp\"} 0"));
    assert!(metrics.contains("ponte_build_info{version="), "{metrics}");
    assert!(
        metrics.contains("process_resident_memory_bytes "),
        "{metrics}"
    );

    // Discord goes away: the gateway check fails, by name.
    emulator.shutdown();
    let mut unhealthy = (0, String::new());
    for _ in 0..300 {
        unhealthy = get("/healthz").await;
        if unhealthy.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(unhealthy.0, 503, "{}", unhealthy.1);
    let body: serde_json::Value = serde_json::from_str(&unhealthy.1).unwrap();
    assert_eq!(body["failed"], serde_json::json!(["gateway"]));
    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
    bot.stop().await;
}

#[test]
fn commands_refuse_a_data_dir_from_the_config_that_holds_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ponte.toml");
    // The example's data_dir, ./ponte-data, is next to the file: no store there.
    std::fs::write(&config, ponte::sandbox::cast::CONFIG).unwrap();
    let config = config.to_str().unwrap();
    let expected = format!(
        "no store at {}; check data_dir in {config}",
        dir.path().join("ponte-data").display()
    );
    for args in [
        vec!["check-store", "--config", config],
        vec!["export", "--config", config],
        vec![
            "report",
            "--config",
            config,
            "--client",
            "ACME",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
        ],
    ] {
        let out = ponte(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(&expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        !dir.path().join("ponte-data").exists(),
        "no empty store was created"
    );
}

/// Discord refuses a wrong token (401 on REST, close code 4004 on the
/// gateway, as the emulator does): the bot does not hang on as if it were
/// connected; its connection ends, which `ponte run` reports and exits on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_ends_the_connection_instead_of_hanging() {
    use ponte::emulator::Emulator;
    use ponte::run::{Connect, start as start_bot};
    use ponte::sandbox::cast;

    let dir = tempfile::tempdir().unwrap();
    let config = ponte::config::Config::from_toml_str(cast::CONFIG, "example").unwrap();
    let emulator = Emulator::start(cast::world()).await.unwrap();
    let store = tokio::task::spawn_blocking({
        let path = dir.path().join("data");
        move || open(&path)
    })
    .await
    .unwrap();
    let http = serenity::all::HttpBuilder::new("not.the.token")
        .client(emulator.reqwest_client())
        .application_id(serenity::all::ApplicationId::new(emulator.application_id()));
    let started = start_bot(
        Arc::new(config),
        store,
        Connect::Http(http),
        Arc::new(ManualClock::new(start())),
    )
    .await;
    let Ok(mut bot) = started else {
        return; // refused at once: as good
    };
    let ended = tokio::time::timeout(Duration::from_secs(120), bot.wait()).await;
    assert!(
        ended.is_ok(),
        "the bot kept running with a token Discord refuses"
    );
    use ponte::ops::health::Probe;
    assert!(!bot.probe().gateway_connected());
}
