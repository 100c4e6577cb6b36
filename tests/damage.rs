//! Damaged stores (issue 18): each damage an operator meets (a truncated
//! log, a deleted log, flipped bytes in the snapshot, a zeroed stretch in
//! the middle of the log) gives a clear error and never a panic, from every
//! command; `ponte check-store` names the damage and recovery steps that
//! work; a salvage export writes every readable task; `ponte run` refuses a
//! store that fails its quick check.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ponte::sandbox::cast;

fn ponte(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .current_dir(dir)
        .env("DISCORD_TOKEN", "not-a-real-token-but-long-enough")
        .env_remove("PONTE_CONFIG")
        .env_remove("PONTE_DATA_DIR")
        .output()
        .expect("run ponte")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A store with a couple of hundred tasks (made by `ponte load`, so through
/// the real bot), checked once so that sled wrote its snapshot, and its
/// export.
struct Fixture {
    dir: tempfile::TempDir,
    export: String,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = ponte(
            &["load", "--requests", "200", "--data-dir", "base"],
            dir.path(),
        );
        assert!(out.status.success(), "load: {}", text(&out));
        let out = ponte(&["check-store", "--data-dir", "base"], dir.path());
        assert!(out.status.success(), "check-store: {}", text(&out));
        let out = ponte(&["export", "--data-dir", "base"], dir.path());
        assert!(out.status.success(), "export: {}", text(&out));
        let export = String::from_utf8(out.stdout).expect("utf-8");
        assert!(export.lines().count() > 200, "a store with some history");
        Fixture { dir, export }
    }

    /// A copy of the store, named `name`, damaged by `damage`.
    fn damaged(&self, name: &str, damage: impl FnOnce(&Path)) -> PathBuf {
        let copy = self.dir.path().join(name);
        std::fs::create_dir(&copy).expect("mkdir");
        for entry in std::fs::read_dir(self.dir.path().join("base")).expect("read base") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copy");
            }
        }
        damage(&copy);
        copy
    }

    /// A configuration whose `data_dir` is `data`.
    fn config(&self, data: &Path) -> PathBuf {
        let path = data.with_extension("toml");
        let from = "data_dir = \"./ponte-data\"";
        let text = cast::CONFIG.replace(
            from,
            &format!("data_dir = {:?}", data.display().to_string()),
        );
        std::fs::write(&path, text).expect("write the config");
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        ponte(args, self.dir.path())
    }
}

fn snapshot_of(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap."))
        })
        .expect("sled wrote a snapshot")
}

/// Every command that reads the store fails with a clear error and no panic.
fn every_command_refuses(f: &Fixture, data: &Path, expect: &str) {
    let dir = data.to_str().expect("utf-8 path");
    let config = f.config(data);
    let config = config.to_str().expect("utf-8 path");
    for args in [
        vec!["check-store", "--data-dir", dir],
        vec!["export", "--data-dir", dir],
        vec!["run", "--config", config],
        vec![
            "report",
            "--config",
            config,
            "--client",
            "ACME",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
        ],
    ] {
        let out = f.run(&args);
        let shown = text(&out);
        assert!(!out.status.success(), "{args:?} succeeded:\n{shown}");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked:\n{shown}");
        assert!(
            !shown.contains("panicked"),
            "{args:?} shows a panic:\n{shown}"
        );
        assert!(
            shown.contains(expect),
            "{args:?} does not say {expect:?}:\n{shown}"
        );
    }
}

#[test]
fn each_damage_is_named_with_steps_that_work_and_nothing_panics() {
    let f = Fixture::new();

    // A truncated log: the data is not there any more; restore a backup.
    let truncated = f.damaged("truncated", |d| {
        let db = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("db"))
            .expect("db");
        let len = db.metadata().expect("len").len();
        db.set_len(len / 2).expect("truncate");
    });
    every_command_refuses(&f, &truncated, "damaged");
    let out = f.run(&["check-store", "--data-dir", "truncated"]);
    let shown = text(&out);
    assert!(
        shown.contains("restore the latest `ponte backup`"),
        "{shown}"
    );
    assert!(!shown.contains("the store is intact"), "{shown}");

    // A deleted log: said so, and no empty store is created in its place.
    let deleted = f.damaged("deleted", |d| {
        std::fs::remove_file(d.join("db")).expect("rm")
    });
    every_command_refuses(&f, &deleted, "`db` is missing");
    assert!(!deleted.join("db").exists(), "an empty log was created");

    // Flipped bytes in the snapshot: moving the snapshot aside recovers
    // every event byte for byte, and check-store says exactly that.
    let flipped = f.damaged("flipped", |d| {
        let snap = snapshot_of(d);
        let mut bytes = std::fs::read(&snap).expect("read snap");
        let n = bytes.len();
        for i in 0..32 {
            bytes[(n / 3 + i * 7) % n] ^= 0xff;
        }
        std::fs::write(&snap, bytes).expect("write snap");
    });
    every_command_refuses(&f, &flipped, "damaged");
    let out = f.run(&["check-store", "--data-dir", "flipped"]);
    let shown = text(&out);
    let snap = std::path::absolute(snapshot_of(&flipped)).expect("absolute");
    assert!(shown.contains("Only the snapshot is damaged"), "{shown}");
    assert!(shown.contains(&format!("mv {}", snap.display())), "{shown}");
    std::fs::rename(&snap, f.dir.path().join("bad-snapshot")).expect("move the snapshot aside");
    let out = f.run(&["check-store", "--data-dir", "flipped"]);
    assert!(out.status.success(), "after the advice: {}", text(&out));
    let out = f.run(&["export", "--data-dir", "flipped"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout == f.export.as_bytes(), "the export changed");

    // 64 KB zeroed in the middle of the log: the store opens, but its
    // check fails, `run` refuses, and a salvage writes every readable task.
    let zeroed = f.damaged("zeroed", |d| {
        let mut bytes = std::fs::read(d.join("db")).expect("read db");
        let mid = bytes.len() / 2;
        bytes[mid..mid + 65536].fill(0);
        std::fs::write(d.join("db"), bytes).expect("write db");
    });
    let config = f.config(&zeroed);
    let out = f.run(&["run", "--config", config.to_str().expect("utf-8")]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("fails its check, so Ponte does not start"),
        "{shown}"
    );
    let out = f.run(&["check-store", "--data-dir", "zeroed"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("pages cannot be read"), "{shown}");
    assert!(shown.contains("ponte export --salvage"), "{shown}");
    let out = f.run(&["export", "--salvage", "--data-dir", "zeroed"]);
    let shown = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "skipped tasks exit 1: {shown}");
    assert!(shown.contains("skipped"), "{shown}");
    let salvaged = String::from_utf8(out.stdout).expect("utf-8");
    // Every salvaged line is the original's: whole tasks, nothing invented.
    let original: std::collections::BTreeSet<&str> = f.export.lines().collect();
    assert!(
        salvaged.lines().count() > f.export.lines().count() / 2,
        "{shown}"
    );
    for line in salvaged.lines() {
        assert!(original.contains(line), "not in the original: {line}");
    }
    // What salvage names as skipped is exactly what it did not write.
    let written: std::collections::BTreeSet<String> = salvaged
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["task"].to_string())
        .collect();
    let all: std::collections::BTreeSet<String> = f
        .export
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["task"].to_string())
        .collect();
    for missing in all.difference(&written) {
        let id = missing.trim_matches('"');
        assert!(
            shown.contains(&format!("skipped {id}:")),
            "{id} not named:\n{shown}"
        );
    }
    // The steps check-store gave: import the salvage into a new directory
    // (the skipped tasks recorded as lost), and it checks intact, holding
    // exactly what was salvaged.
    let salvage = f.dir.path().join("salvage.jsonl");
    std::fs::write(&salvage, &salvaged).expect("write the salvage");
    let out = f.run(&[
        "import",
        "--salvaged",
        "--data-dir",
        "recovered",
        "--input",
        salvage.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = f.run(&["check-store", "--data-dir", "recovered"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = f.run(&["export", "--data-dir", "recovered"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        out.stdout == salvaged.as_bytes(),
        "the recovered store differs from the salvage"
    );
}
