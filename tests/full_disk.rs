//! A full disk (issue 18), on a small tmpfs: the store's health check fails
//! at once when the disk fills, nothing acknowledged is lost, the check
//! passes again by itself when space returns, and `check-store` and
//! `export` still read a store whose disk is full.
//!
//! Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the test
//! says so and checks nothing else.

#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ponte::app::engine::Engine;
use ponte::store::{SledStore, Store, StoreOptions};

struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(Tmpfs(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// Fills the file system of `dir` with `fill` until a write fails.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

#[test]
fn a_full_disk_is_unhealthy_at_once_and_recovers_when_space_returns() {
    let Some(disk) = Tmpfs::mount(16) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = disk.path().join("data");
    let filler = disk.path().join("filler");
    let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
    let engine = Engine::new(Arc::new(store.clone()), rules());
    let at = start();
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let outcome = engine
            .execute(
                &create(&employee(1, ACME), ACME, &format!("printer {i}")),
                at,
            )
            .unwrap();
        store.flush().unwrap();
        acknowledged.push(outcome.task.id);
    }
    store.probe_write().expect("healthy with room");

    fill(&filler);
    // At once: the probe fails before any change did.
    let err = store.probe_write().expect_err("unhealthy on a full disk");
    assert!(err.to_string().contains("is full"), "{err}");
    // And healthy again when the room comes back before anything failed.
    std::fs::remove_file(&filler).unwrap();
    store.probe_write().expect("healthy again");
    fill(&filler);
    let err = store.probe_write().expect_err("unhealthy on a full disk");
    assert!(err.to_string().contains("is full"), "{err}");
    // Changes may fail now; none is acknowledged unless flushed.
    let mut failed = false;
    for i in 0..2000 {
        let done = engine
            .execute(&create(&employee(1, ACME), ACME, &format!("full {i}")), at)
            .map_err(|e| e.to_string())
            .and_then(|o| store.flush().map(|()| o).map_err(|e| e.to_string()));
        match done {
            Ok(outcome) => acknowledged.push(outcome.task.id),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(store.probe_write().is_err());

    // Reading still works on the full disk, from the command line too.
    let check = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["export", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        check.status.code() == Some(1) || check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_ne!(check.status.code(), Some(101));

    // Space returns: healthy again by itself when no change failed; after
    // a failed change sled refuses everything (reads too) until the store is
    // reopened, and the check keeps saying so.
    std::fs::remove_file(&filler).unwrap();
    let recovered = store.probe_write();
    assert_eq!(recovered.is_ok(), !failed, "{recovered:?}");
    drop(engine);
    drop(store);
    let reopened = SledStore::open(&StoreOptions::new(&data)).unwrap();
    for id in &acknowledged {
        assert!(
            reopened.task(id).unwrap().is_some(),
            "{id} lost after reopening"
        );
    }
    reopened.probe_write().expect("healthy after reopening");
}

#[test]
fn check_store_and_export_read_a_store_whose_disk_is_full() {
    let Some(disk) = Tmpfs::mount(16) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = disk.path().join("data");
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let engine = Engine::new(Arc::new(store.clone()), rules());
        for i in 0..100 {
            engine
                .execute(
                    &create(&employee(1, ACME), ACME, &format!("vpn {i}")),
                    start(),
                )
                .unwrap();
        }
        store.flush().unwrap();
    }
    // No finished snapshot (sled writes one as it opens, which a full disk
    // refuses), and no room.
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("snap.")
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    fill(&disk.path().join("filler"));
    let ponte = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ponte"))
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    let out = ponte(&["check-store"]);
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{shown}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    let out = ponte(&["export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        100 * 2
    );
    // Once there is room again the store opens in place as before.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let out = ponte(&["check-store"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The running bot on a disk that fills up: what it confirmed is kept, and
/// when space returns it reopens its store by itself and confirms again,
/// in the same process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_bot_recovers_by_itself_when_space_returns() {
    use ponte::emulator::Emulator;
    use ponte::sandbox::cast;
    use std::time::Duration;

    let Some(disk) = Tmpfs::mount(24) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = disk.path().join("data");
    let config = dir.path().join("ponte.toml");
    let log = dir.path().join("bot.log");
    let text = cast::CONFIG
        .replace(
            "data_dir = \"./ponte-data\"",
            &format!("data_dir = {:?}", data.display().to_string()),
        )
        .replace("health_addr = \"127.0.0.1:9464\"\n", "");
    std::fs::write(&config, text).unwrap();
    let emulator = Emulator::start(cast::world()).await.unwrap();
    let env = emulator
        .write_connection(&dir.path().join("ca.der"))
        .unwrap();
    let log_file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["run", "--config"])
        .arg(&config)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PONTE_LOG", "info")
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap();
    wait_for_session(&emulator, &mut child, &log, 0, "start").await;
    let giulia = &cast::PEOPLE[0];
    let mut n = 0;
    let mut ask = async || -> Option<String> {
        n += 1;
        let handle = emulator
            .slash_line(
                giulia.id,
                giulia.channel,
                &format!("/request title:\"disk probe {n}\" priority:P3"),
            )
            .ok()?;
        let response = handle.response(Duration::from_secs(20)).await.ok()?;
        let seen = response
            .message
            .map(|m| format!("{} {:?}", m.content, m.embeds))
            .unwrap_or_default();
        acme_task_id_in(&seen)
    };
    let mut confirmed = vec![ask().await.expect("confirmed with room")];

    fill(&disk.path().join("filler"));
    let mut refused = false;
    for _ in 0..300 {
        match ask().await {
            Some(id) => confirmed.push(id),
            None => {
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "a full disk refused nothing");

    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let mut again = None;
    for _ in 0..120 {
        if let Some(id) = ask().await {
            again = Some(id);
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "ponte run exited");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    confirmed.push(again.unwrap_or_else(|| panic!("never recovered; log:\n{}", log_text())));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the same process recovered"
    );
    // sled refused everything after the failed write: the bot reopened it.
    let shown = log_text();
    if shown.contains("to reopen the store") {
        assert!(shown.contains("the store is open again"), "{shown}");
        eprintln!("the bot reopened its store");
    }

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{}", log_text());
    let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
    for id in &confirmed {
        let id: ponte::domain::TaskId = id.parse().unwrap();
        assert!(
            store.task(&id).unwrap().is_some(),
            "{id} confirmed but lost"
        );
    }
}
