//! Damaged stores: opening one never panics, `ponte check-store` can say
//! which part is damaged, `ponte run` can refuse a store that fails a quick
//! read of every page, and a salvage export reads what can still be read.
//!
//! sled keeps a store in three kinds of file: `conf`, the log `db` (every
//! page, written in segments), and `snap.*` (a snapshot of where each page
//! lives, derived from the log). A damaged snapshot makes sled refuse to
//! open although the log is whole: without the snapshot sled rebuilds it
//! from the log. A damaged log loses pages; sled may then panic inside
//! `open` (index out of bounds in its segment code), which is caught here.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::{SledStore, Store, StoreError, StoreOptions, TaskId, keys};
use crate::domain::{ClientKey, Event};

thread_local! {
    static OPENING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is opening a store now: a panic there is caught and
/// reported as damage, so a panic hook may stay quiet about it.
pub fn is_opening() -> bool {
    OPENING.with(Cell::get)
}

/// Refuses a directory that holds sled's other files but not its log: sled
/// would start an empty log there and the store would look empty, not lost.
pub(super) fn refuse_missing_log(dir: &Path) -> Result<(), StoreError> {
    if dir.join("db").exists() || !dir.is_dir() {
        return Ok(());
    }
    if dir.join("conf").exists() || !snapshots(dir).is_empty() {
        return Err(StoreError::Damaged {
            path: dir.display().to_string(),
            what: "its log file `db` is missing".into(),
        });
    }
    Ok(())
}

/// Removes the unfinished snapshots (`snap.*.generating`) in `dir` when no
/// process holds the store: sled writes a snapshot under that name and
/// renames it when done, so one left behind (a full disk, a kill) is empty
/// or partial, and sled would otherwise refuse the store as corrupt.
pub(super) fn clear_unfinished_snapshots(dir: &Path) {
    let unfinished: Vec<PathBuf> = snapshots(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "generating"))
        .collect();
    if unfinished.is_empty() || !unlocked(&dir.join("db")) {
        return;
    }
    for path in unfinished {
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::warn!(file = %path.display(), "removed an unfinished snapshot"),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove an unfinished snapshot")
            }
        }
    }
}

/// Whether no process holds sled's lock on `db` (an exclusive `flock`, as
/// sled takes it), checked by taking and releasing it.
fn unlocked(db: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(db) else {
        return false;
    };
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    // Closing the file releases the lock.
    drop(file);
    taken
}

/// The snapshot files (`snap.*`) in `dir`.
pub fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap."))
        })
        .collect();
    found.sort();
    found
}

/// Opens a copy of the store in `dir` (its `conf`, `db` and finished
/// snapshots) in a temporary directory (`TMPDIR`): for reading a store
/// whose disk is full or read-only, where sled cannot open it in place. The
/// copy is removed when the returned guard is dropped, after the store.
pub fn open_copy(dir: &Path) -> Result<(SledStore, tempfile::TempDir), StoreError> {
    let copy = tempfile::tempdir()?;
    for path in snapshots(dir)
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "generating"))
        .chain([dir.join("conf"), dir.join("db")])
    {
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, copy.path().join(name))?;
        }
    }
    let store = SledStore::open(&StoreOptions::new(copy.path()))?;
    Ok((store, copy))
}

/// `config.open()`, with sled's panics and corruption errors as
/// [`StoreError::Damaged`]; other errors (a held lock) come back as they are.
pub(super) fn open_catching(
    config: &sled::Config,
    path: &str,
) -> Result<sled::Result<sled::Db>, StoreError> {
    OPENING.with(|o| o.set(true));
    let opened = catch_unwind(AssertUnwindSafe(|| config.open()));
    OPENING.with(|o| o.set(false));
    let damaged = |what: String| StoreError::Damaged {
        path: path.to_owned(),
        what,
    };
    match opened {
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(damaged(format!(
                "sled stopped while reading its files ({message})"
            )))
        }
        Ok(Err(sled::Error::Corruption { .. })) => {
            Err(damaged("sled found corrupted data in its files".into()))
        }
        Ok(other) => Ok(other),
    }
}

/// What is damaged in a store that does not open.
#[derive(Debug)]
pub enum Diagnosis {
    /// The log `db` is gone: the data is not in this directory any more.
    MissingLog,
    /// Only the snapshot is damaged: a copy of the store without its
    /// `snap.*` files opened and checked clean, with this many tasks.
    Snapshot { files: Vec<PathBuf>, tasks: u64 },
    /// The log itself is damaged (or the store opens with no snapshot but
    /// not whole): what it said.
    Log(String),
}

/// Finds out which part of the store in `dir`, which failed to open, is
/// damaged: tries a copy without the snapshot (the original is not
/// touched). Reads and copies the whole log.
pub fn diagnose(dir: &Path) -> Diagnosis {
    if !dir.join("db").exists() {
        return Diagnosis::MissingLog;
    }
    let files = snapshots(dir);
    let trial = || -> Result<u64, StoreError> {
        let copy = tempfile::tempdir()?;
        for name in ["conf", "db"] {
            if dir.join(name).exists() {
                std::fs::copy(dir.join(name), copy.path().join(name))?;
            }
        }
        let store = SledStore::open(&StoreOptions::new(copy.path()))?;
        let problems = store.check_integrity()?;
        if let Some(first) = problems.first() {
            return Err(StoreError::Corrupt(first.clone()));
        }
        store.task_count()
    };
    if files.is_empty() {
        return Diagnosis::Log("there is no snapshot to blame".into());
    }
    match trial() {
        // An empty result is not a recovery: sled may read nothing of a
        // damaged log when it has no snapshot to start from.
        Ok(tasks) if tasks > 0 => Diagnosis::Snapshot { files, tasks },
        Ok(_) => Diagnosis::Log("without the snapshot the log reads as empty".into()),
        Err(e) => Diagnosis::Log(e.to_string()),
    }
}

/// The prefix of the marks of lost task numbers (`lost:ACME-486`).
pub(super) const LOST_PREFIX: &str = "lost:";

/// The mark recording that task `id` was lost.
pub(super) fn lost_mark(id: &TaskId) -> String {
    format!("{LOST_PREFIX}{id}")
}

/// The task of a lost-number mark's key.
pub(super) fn lost_task(key: &[u8]) -> Option<TaskId> {
    std::str::from_utf8(key)
        .ok()?
        .strip_prefix(LOST_PREFIX)?
        .parse()
        .ok()
}

/// What a salvage export read and what it skipped.
#[derive(Debug, Default)]
pub struct Salvage {
    pub tasks: u64,
    pub events: u64,
    /// The tasks (or trees) that could not be read, each with why.
    pub skipped: Vec<String>,
}

/// How many numbers past the highest one known a salvage still tries.
const PROBE_BEYOND: u64 = 64;

impl SledStore {
    /// Reads every tree's keys and values once, decoding nothing: every page
    /// of the store comes off the disk. `ponte run` refuses a store that
    /// fails it.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            for item in tree.iter() {
                item?;
            }
        }
        Ok(())
    }

    /// Calls `f` with the events of every task whose history can be read,
    /// task by task (in client and number order), skipping what cannot be
    /// read. The task numbers come from the counters, the snapshots and the
    /// history, each as far as it reads, and a few numbers beyond.
    pub fn salvage(
        &self,
        client: Option<&ClientKey>,
        f: &mut dyn FnMut(&[Event]) -> Result<(), StoreError>,
    ) -> Result<Salvage, StoreError> {
        let mut report = Salvage::default();
        let mut highest: std::collections::BTreeMap<ClientKey, u64> = Default::default();
        for (name, tree) in [
            ("tasks", &self.tasks),
            ("history", &self.history),
            ("counters", &self.counters),
        ] {
            for item in tree.iter().keys() {
                match item {
                    Ok(key) => {
                        if let Some(id) =
                            keys::decode_task_key(&key[..key.len().min(keys_len(&key))])
                        {
                            let n = highest.entry(id.client().clone()).or_default();
                            *n = (*n).max(id.number());
                        } else if let Ok(c) = super::decode_counter_key(&key) {
                            let last = self
                                .counters
                                .get(&key)
                                .ok()
                                .flatten()
                                .and_then(|raw| super::decode_client_counter(&key, Some(&raw)).ok())
                                .flatten()
                                .map_or(0, |c| c.last);
                            let n = highest.entry(c).or_default();
                            *n = (*n).max(last);
                        }
                    }
                    Err(e) => {
                        report
                            .skipped
                            .push(format!("the rest of the `{name}` tree: {e}"));
                        break;
                    }
                }
            }
        }
        for (key, last) in highest {
            if client.is_some_and(|c| *c != key) {
                continue;
            }
            let mut n = 0;
            let mut misses = 0;
            while n < last || misses < PROBE_BEYOND {
                n += 1;
                let id = TaskId::new(key.clone(), n);
                match self.history_of(&keys::task_key(&id)) {
                    Ok(events) if events.is_empty() => {
                        if n <= last {
                            report.skipped.push(format!("{id}: no events"));
                        } else {
                            misses += 1;
                        }
                    }
                    Ok(events) => {
                        misses = 0;
                        report.tasks += 1;
                        report.events += events.len() as u64;
                        f(&events)?;
                    }
                    Err(e) => report.skipped.push(format!("{id}: {e}")),
                }
            }
        }
        Ok(report)
    }
}

/// The length of the task key at the start of a `history` key (which adds
/// a chunk number) or of a `tasks` key.
fn keys_len(key: &[u8]) -> usize {
    key.iter()
        .position(|b| *b == keys::SEP)
        .map_or(key.len(), |sep| sep + 1 + 8)
}
