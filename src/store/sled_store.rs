//! The sled 0.34 implementation of [`Store`]: the only code in Ponte that
//! knows sled.
//!
//! # Layout
//!
//! One tree per kind of record (see [`super::keys`] for the key encodings):
//! `meta`, `history` (each task's events, in chunks of 16), `tasks`, `counters`, the index trees `idx_status`,
//! `idx_side`, `idx_assignee`, `idx_due`, `idx_changed`, `open_tasks` (the
//! open tasks' snapshots again, a covering index of the working set), then
//! `outbox`, `requests` and `idx_created` (the few tasks created out of
//! number order; see [`super::keys`]), and `marks`, outside commits. A commit is one transaction over a tuple of fourteen
//! trees; sled 0.34.7 implements `Transactional` for tuples of up to
//! fourteen `&Tree`s: with `lookups`, a commit uses all fourteen.
//!
//! # sled 0.34 facts this code relies on
//!
//! - Transactions take a process-wide write lock (`concurrency_control`), and
//!   every plain tree operation takes the read side of it. So commits are
//!   serialised, which makes the read-check-write of counters inside a
//!   transaction safe; and a transaction closure must never call a plain
//!   `Tree` method (that would deadlock on the same lock).
//! - A transaction closure may run more than once: the closure only reads
//!   and writes through the transactional trees, and everything it writes
//!   is serialised before the transaction starts.
//! - `TransactionalTree::generate_id` is neither gapless nor idempotent on
//!   retry, so outbox ids come from a counter in `meta` read and written in
//!   the same transaction.
//! - Only one process (one `Db`) may hold a directory: drop every clone of a
//!   [`SledStore`] before opening the same directory again.
//! - `flush` is the synchronous `Db::flush` (never `flush_async`, which can
//!   deadlock). Everything here blocks.
//! - `Config::mode` does nothing in 0.34, so it is not set; real memory use
//!   goes above `cache_capacity`.
//!
//! # Conversions at open
//!
//! A store written by an earlier version is brought up to date once, when it is
//! opened, before anything else can write; each conversion sets a flag in `meta`:
//! JSON snapshots to the binary codec (`snapshot_codec_v1`, value by value, crash-safe),
//! `idx_changed` and `open_tasks` built (`derived_trees_v3`), `idx_created` thinned to
//! the out-of-order tasks (`created_index_late_only_v1`), one key per event converted to
//! history chunks (`history_chunks_v1`), finished tasks dropped from `idx_status`
//! (`status_index_open_v1`), snapshots folded again for `Task::facts`
//! (`snapshot_facts_v1`). sled keeps the page-table entries of an old tree's freed
//! nodes, so the memory comes back only in a fresh copy (`ponte backup`, README "Data").
//! No tree holds a key per finished task that nothing reads.
//!
//! # Backups
//!
//! [`SledStore::backup_to`] copies every tree while the writers (commit, commit_mark,
//! outbox updates) wait on a gate (`WriteGate`), then opens the copy and runs
//! [`SledStore::check_integrity`] on it. A backup pauses writes for as long as the copy
//! takes.
//!
//! # Power loss
//!
//! What sled 0.34 guarantees: a write is durable once a `flush` that started after it
//! has returned. sled writes a log of checksummed, sequentially numbered segments; on
//! open it replays the log up to the first torn or checksum-failing entry and drops the
//! rest. So after a crash or a power loss everything flushed is there, and anything
//! written but not flushed may be lost. sled documents transactions as atomic, so a
//! change is there whole or not at all; Ponte relies on it, and `check-store` finds it
//! out if it ever fails. sled 0.34 is beta software (its on-disk format has had recovery
//! bugs), and a disk that lies about `fsync` defeats any of this.
//!
//! What Ponte does:
//! - Nobody is told about a change before the flush that makes it durable (group commit
//!   on the writer thread); a crash loses only changes no one was told about, and the
//!   asker retries (the interaction id makes a retry create nothing twice).
//! - Effects are outbox entries in the same transaction as the change, so a change that
//!   survived has its messages pending; deliveries are idempotent by `Effect::key`, so an
//!   entry delivered but not yet removed before the crash shows nothing twice.
//! - At open, sled recovers its log and Ponte checks the schema version; a store sled
//!   cannot open, or one that fails to decode, is reported with the path and what is
//!   wrong, and the bot does not start.
//! - `ponte check-store` (bot stopped) runs `check_integrity`: snapshots equal the fold of
//!   their events, gapless numbers, counters, indexes, request records and outbox ids.
//!   When it finds damage it says so, exits 1, and prints the way back: `ponte export`
//!   (which reads the events, the source of truth) into a file and `ponte import` into a
//!   new directory (which rebuilds snapshots, indexes and counters from the events), or
//!   restore the latest `ponte backup`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use sled::{IVec, Tree};

use super::codec;
use super::keys::{self, IndexKeys};
use super::{
    Commit, CommitOutcome, DeadLetter, Mark, OutboxEntry, RequestRecord, SCHEMA_VERSION, Store,
    StoreError, TaskFilter, TaskQuery,
};
use crate::domain::effect::Effect;
use crate::domain::{ClientKey, Event, Status, Task, TaskId};

/// Where and how to open the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// The data directory.
    pub path: PathBuf,
    /// sled's page cache size. The process uses more memory than this.
    pub cache_capacity_bytes: u64,
}

impl StoreOptions {
    /// 16 MiB: Ponte's data is small and mostly cold.
    pub const DEFAULT_CACHE_CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

    /// Options for the data directory `path`, with the default cache.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            cache_capacity_bytes: Self::DEFAULT_CACHE_CAPACITY_BYTES,
        }
    }
}

/// How long [`SledStore::open`] waits for another handle to let go of the
/// directory lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether sled failed because another handle holds the directory lock.
fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(e) if e.to_string().contains("could not acquire lock"))
}

const META: &str = "meta";
/// Each task's events, in chunks of [`keys::EVENTS_PER_CHUNK`]: one key
/// per chunk, not per event, because sled's memory grows with the number of
/// keys (see [`super::keys`]).
const HISTORY: &str = "history";
/// The tree of one event per key that `history` replaced; a store that still
/// has it is converted when opened, then the tree is dropped.
const EVENTS: &str = "events";
const TASKS: &str = "tasks";
const COUNTERS: &str = "counters";
const IDX_STATUS: &str = "idx_status";
const IDX_SIDE: &str = "idx_side";
const IDX_ASSIGNEE: &str = "idx_assignee";
const IDX_DUE: &str = "idx_due";
/// Every task by its last change (client, `updated_at`, number): what
/// changed since a time (a digest) without reading every snapshot.
const IDX_CHANGED: &str = "idx_changed";
/// The snapshots of the open tasks only, under their `tasks` keys, byte
/// for byte as in `tasks`: a covering index of the working set. Listings
/// (nearly always of open tasks) read it: a few percent of the tasks, so it
/// stays in sled's cache, where the snapshots in `tasks` are spread over
/// the whole history.
const OPEN_TASKS: &str = "open_tasks";
/// The tasks created out of number order (client, `created_at`, number;
/// the newest creation before them as value): with the task numbers, which
/// follow creation otherwise, the tasks created in a period (an SLA report)
/// without reading every snapshot (see [`super::keys`]).
const IDX_CREATED: &str = "idx_created";
/// `meta` key set once `idx_changed` and `open_tasks` hold every task
/// (stores written before they existed get them built when first opened).
const META_CHANGED_BUILT: &[u8] = b"derived_trees_v3";
/// `meta` key set once `idx_created` holds only the tasks created out of
/// number order and the counters hold each client's newest creation (a
/// store written before, with every task in `idx_created`, is converted
/// when first opened).
const META_CREATED_LATE_ONLY: &[u8] = b"created_index_late_only_v1";
/// `meta` key set once every snapshot carries `Task::facts` (the history
/// facts the digests read): snapshots written before they existed are
/// folded again from their events when the store is first opened.
const META_FACTS_BUILT: &[u8] = b"snapshot_facts_v1";
/// `meta` key set once every event is in `history` (a store written before
/// history chunks has its `events` tree converted when first opened).
const META_HISTORY_BUILT: &[u8] = b"history_chunks_v1";
/// `meta` key set once `idx_status` holds open tasks only (a store written
/// before has its finished tasks' entries removed when first opened).
const META_STATUS_OPEN_ONLY: &[u8] = b"status_index_open_v1";
const OUTBOX: &str = "outbox";
/// Outbox entries set aside for good (issue 17), by outbox id.
const DEAD: &str = "dead_letters";
const REQUESTS: &str = "requests";
/// Marks of things done once (a digest of a day, a shift's handover), with
/// the time they were done.
const MARKS: &str = "marks";
/// Values the application keeps by key beside tasks, written with a
/// commit or alone (monitoring: an alert's task by fingerprint, a group's
/// storm window, a heartbeat monitor's last beat).
const LOOKUPS: &str = "lookups";

/// The index trees in the order of [`IndexKeys::slots`].
const INDEX_NAMES: [&str; 5] = [IDX_STATUS, IDX_SIDE, IDX_ASSIGNEE, IDX_DUE, IDX_CHANGED];

/// What an outbox entry stores: an [`OutboxEntry`] without its id, which is
/// the key. The id is only known inside the commit transaction, and values
/// are serialised before it; keeping the id out of the value also means the
/// two can never disagree.
#[derive(Debug, Serialize, Deserialize)]
struct OutboxValue {
    effect: Effect,
    not_before: Timestamp,
    attempts: u32,
    last_error: Option<String>,
}

/// What a dead letter stores: the outbox value, when it was set aside and
/// why; the key is its outbox id.
#[derive(Debug, Serialize, Deserialize)]
struct DeadValue {
    entry: OutboxValue,
    at: Timestamp,
    error: String,
}

/// The store on a sled database. Cheap to clone: clones share the database.
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    /// For messages: the data directory, or `<temporary>`.
    path: String,
    meta: Tree,
    history: Tree,
    tasks: Tree,
    counters: Tree,
    idx_status: Tree,
    idx_side: Tree,
    idx_assignee: Tree,
    idx_due: Tree,
    idx_changed: Tree,
    idx_created: Tree,
    open_tasks: Tree,
    outbox: Tree,
    dead: Tree,
    requests: Tree,
    marks: Tree,
    lookups: Tree,
    /// Writers hold it shared; a backup holds it alone while it copies, so
    /// the copy sees no change halfway.
    writes: Arc<WriteGate>,
    /// The last write's failure, until a write succeeds.
    write_error: Arc<std::sync::Mutex<Option<String>>>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a commit transaction stopped without writing.
enum Refusal {
    Duplicate(RequestRecord),
    Conflict(String),
    Corrupt(String),
}

type TxResult<T> = Result<T, ConflictableTransactionError<Refusal>>;

fn refuse<T>(refusal: Refusal) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(refusal))
}

fn corrupt(tree: &str, key: &[u8], what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!(
        "tree `{tree}`, key `{}`: {what}",
        keys::describe(key)
    ))
}

fn decode<T: StoredJson>(tree: &str, key: &[u8], raw: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|e| corrupt(tree, key, e))
}

fn encode<T: StoredJson>(value: &T) -> Result<Vec<u8>, StoreError> {
    // Serialising the domain types cannot fail (no maps with non-string
    // keys, no failing `Serialize` impls); should it ever, say so.
    serde_json::to_vec(value)
        .map_err(|e| StoreError::InvalidCommit(format!("cannot serialise a value: {e}")))
}

/// What the store keeps as JSON: events (the record, in `ponte export`'s
/// format), outbox entries, request records and marks. Not `Task`:
/// snapshots go through [`codec`], so a snapshot read or written with
/// `decode`/`encode` does not compile.
trait StoredJson: Serialize + DeserializeOwned {}
impl StoredJson for Event {}
impl StoredJson for OutboxValue {}
impl StoredJson for DeadValue {}
impl StoredJson for RequestRecord {}
impl StoredJson for Timestamp {}

/// The outbox counter in `meta`: the last id handed out, 0 before the first.
fn decode_counter(key: &[u8], raw: Option<&IVec>) -> Result<u64, StoreError> {
    match raw {
        None => Ok(0),
        Some(raw) => keys::decode_u64(raw)
            .ok_or_else(|| corrupt(META, key, format!("{} bytes, not a u64", raw.len()))),
    }
}

/// A client's counter; `None` before its first task.
fn decode_client_counter(
    key: &[u8],
    raw: Option<&IVec>,
) -> Result<Option<keys::Counter>, StoreError> {
    match raw {
        None => Ok(None),
        Some(raw) => keys::Counter::decode(raw).map(Some).ok_or_else(|| {
            corrupt(
                COUNTERS,
                key,
                format!(
                    "{} bytes, not a task number and a creation time ({} bytes)",
                    raw.len(),
                    keys::COUNTER_LEN
                ),
            )
        }),
    }
}

/// New events for one history chunk: the chunk must hold exactly `held`
/// events before (none when they start it), and `lines` is appended.
struct ChunkAppend {
    key: Vec<u8>,
    held: usize,
    lines: Vec<u8>,
}

/// Groups a commit's events by the history chunk they belong in, each
/// encoded as one line of JSON. serde_json writes no raw newline (it
/// escapes control characters in strings), so a newline ends each event.
fn chunk_appends(id: &TaskId, events: &[Event]) -> Result<Vec<ChunkAppend>, StoreError> {
    let mut appends: Vec<ChunkAppend> = Vec::new();
    for event in events {
        let mut line = encode(event)?;
        if line.contains(&b'\n') {
            return Err(StoreError::InvalidCommit(format!(
                "event {} of {id} serialises with a newline",
                event.seq
            )));
        }
        line.push(b'\n');
        let key = keys::history_key(id, keys::chunk_of(event.seq));
        match appends.last_mut() {
            Some(last) if last.key == key => last.lines.extend_from_slice(&line),
            _ => appends.push(ChunkAppend {
                key,
                held: keys::position_in_chunk(event.seq) as usize,
                lines: line,
            }),
        }
    }
    Ok(appends)
}

/// How many events a history chunk holds.
fn chunk_len(chunk: &[u8]) -> usize {
    chunk.iter().filter(|b| **b == b'\n').count()
}

/// Decodes one history chunk into `out`, checking that its events are the
/// ones its key calls for: consecutive, from the chunk's first sequence
/// number.
fn decode_chunk(key: &[u8], chunk: &[u8], out: &mut Vec<Event>) -> Result<(), StoreError> {
    let (_, index) =
        keys::split_history_key(key).ok_or_else(|| corrupt(HISTORY, key, "not a history key"))?;
    let Some(body) = chunk.strip_suffix(b"\n") else {
        return Err(corrupt(HISTORY, key, "a chunk must end with a newline"));
    };
    let first = u64::from(index) * u64::from(keys::EVENTS_PER_CHUNK) + 1;
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let event: Event = decode(HISTORY, key, line)?;
        if u64::from(event.seq) != first + i as u64 {
            return Err(corrupt(
                HISTORY,
                key,
                format!(
                    "line {} is event {}, not {}",
                    i + 1,
                    event.seq,
                    first + i as u64
                ),
            ));
        }
        out.push(event);
    }
    Ok(())
}

/// Follows one client's tasks in number order and tells which were created
/// out of that order: before the newest creation of the tasks numbered
/// before them. The same rule as a creation's commit, for the conversion of
/// older stores and the integrity check.
#[derive(Default)]
struct CreationOrder {
    newest: Option<Timestamp>,
}

impl CreationOrder {
    /// The newest creation before the next task, if that task (created at
    /// `created_at`) was created before it; `None` if it is in order.
    fn next(&mut self, created_at: Timestamp) -> Option<Timestamp> {
        match self.newest {
            Some(newest) if newest > created_at => Some(newest),
            _ => {
                self.newest = Some(created_at);
                None
            }
        }
    }
}

/// The client of a `counters` key.
fn decode_counter_key(key: &[u8]) -> Result<ClientKey, StoreError> {
    key.strip_suffix(&[keys::SEP])
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| ClientKey::new(c).ok())
        .ok_or_else(|| corrupt(COUNTERS, key, "not a client key"))
}

/// What the store must hold for a commit to apply.
enum Expect<'a> {
    /// No snapshot, and the client's counter one below `number`. The task
    /// was created at `created_at`; it goes into `idx_created` under
    /// `created_key` if a task numbered before it was created later.
    Creation {
        counter_key: Vec<u8>,
        number: u64,
        created_at: Timestamp,
        created_key: Vec<u8>,
    },
    /// Exactly this snapshot.
    Snapshot(&'a Task),
}

/// How one index tree changes: the entry of `before` that goes, the entry of
/// `after` that comes (both `None` when they are the same).
struct IndexChange {
    remove: Option<Vec<u8>>,
    insert: Option<Vec<u8>>,
}

/// Everything one commit writes, encoded before the transaction starts.
struct Prepared<'a> {
    id: TaskId,
    task_key: Vec<u8>,
    snapshot: Vec<u8>,
    /// The events, as lines appended to the history chunks they belong in.
    history: Vec<ChunkAppend>,
    /// Whether `after` is open (its snapshot goes into `open_tasks`), and
    /// whether `before` was (if `after` is not, it leaves `open_tasks`).
    open_after: bool,
    open_before: bool,
    /// Per index tree (in [`INDEX_NAMES`] order): keys to remove, key to insert.
    index_changes: [IndexChange; 5],
    expect: Expect<'a>,
    outbox: Vec<Vec<u8>>,
    request: Option<(Vec<u8>, Vec<u8>)>,
    lookups: &'a [(String, Option<Vec<u8>>)],
}

impl<'a> Prepared<'a> {
    fn new(commit: &'a Commit) -> Result<Self, StoreError> {
        check_commit(commit)?;
        let after = &commit.after;
        let id = after.id.clone();
        let new_keys = IndexKeys::of(after);
        let old_keys = commit
            .before
            .as_ref()
            .map(IndexKeys::of)
            .unwrap_or_default();
        let index_changes = std::array::from_fn(|i| {
            let (old, new) = (old_keys.slots()[i], new_keys.slots()[i]);
            if old == new {
                IndexChange {
                    remove: None,
                    insert: None,
                }
            } else {
                IndexChange {
                    remove: old.clone(),
                    insert: new.clone(),
                }
            }
        });
        let expect = match &commit.before {
            None => Expect::Creation {
                counter_key: keys::counter_key(id.client()),
                number: id.number(),
                created_at: after.created_at,
                created_key: keys::created_key(id.client(), after.created_at, id.number()),
            },
            Some(before) => Expect::Snapshot(before),
        };
        let not_before = after.updated_at;
        let outbox = commit
            .effects
            .iter()
            .map(|effect| {
                encode(&OutboxValue {
                    effect: effect.clone(),
                    not_before,
                    attempts: 0,
                    last_error: None,
                })
            })
            .collect::<Result<_, _>>()?;
        let request = match &commit.request {
            None => None,
            Some(key) => Some((
                key.as_bytes().to_vec(),
                encode(&RequestRecord {
                    task: id.clone(),
                    version: after.version,
                })?,
            )),
        };
        Ok(Self {
            open_after: after.status.is_open(),
            open_before: commit.before.as_ref().is_some_and(|b| b.status.is_open()),
            task_key: keys::task_key(&id),
            snapshot: codec::encode_snapshot(after),
            history: chunk_appends(&id, &commit.events)?,
            index_changes,
            expect,
            outbox,
            request,
            lookups: &commit.lookups,
            id,
        })
    }
}

/// Refuses a commit that is not what [`Commit`] promises: `after` must be
/// the fold of `before` and `events`. This is what keeps every stored
/// snapshot equal to the fold of its stored events.
fn check_commit(commit: &Commit) -> Result<(), StoreError> {
    let after = &commit.after;
    let invalid = |why: String| Err(StoreError::InvalidCommit(format!("{}: {why}", after.id)));
    if after.id.number() == 0 {
        return invalid("task numbers start at 1".into());
    }
    let folded = match &commit.before {
        None => Task::fold(&commit.events),
        Some(before) => {
            if before.id != after.id {
                return invalid(format!("`before` is {}", before.id));
            }
            let mut task = before.clone();
            commit
                .events
                .iter()
                .try_for_each(|e| task.apply(e))
                .map(|()| task)
        }
    };
    match folded {
        Err(e) => invalid(e.to_string()),
        Ok(folded) if folded != *after => {
            invalid("`after` is not the fold of `before` and `events`".into())
        }
        Ok(_) => Ok(()),
    }
}

impl SledStore {
    /// Opens (or creates) the store in `options.path`.
    ///
    /// sled releases its directory lock only when its background thread
    /// has let go of the last handle, a moment after the store is dropped;
    /// so while the lock is held, this waits up to [`LOCK_WAIT`] (a restart
    /// in the same process) before it reports the directory as in use.
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let path = options.path.display().to_string();
        let config = sled::Config::new()
            .path(&options.path)
            .cache_capacity(options.cache_capacity_bytes);
        damage::refuse_missing_log(&options.path)?;
        damage::clear_unfinished_snapshots(&options.path);
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match damage::open_catching(&config, &path)? {
                Err(e) if is_lock_held(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => {
                    break other.map_err(|source| StoreError::Open {
                        path: path.clone(),
                        source,
                    })?;
                }
            }
        };
        Self::init(db, path)
    }

    /// A store in a temporary directory, removed when the last clone is
    /// dropped. For tests.
    pub fn open_temporary() -> Result<Self, StoreError> {
        let path = "<temporary>".to_string();
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(StoreOptions::DEFAULT_CACHE_CAPACITY_BYTES)
            .open()
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        Self::init(db, path)
    }

    fn init(db: sled::Db, path: String) -> Result<Self, StoreError> {
        // Check the schema before creating any tree, so that opening a store
        // of another version leaves it exactly as it was.
        let existing = db.tree_names();
        let meta = db.open_tree(META)?;
        match meta.get(keys::META_SCHEMA_VERSION)? {
            Some(raw) => {
                let found = keys::decode_u32(&raw).ok_or_else(|| {
                    corrupt(
                        META,
                        keys::META_SCHEMA_VERSION,
                        format!("{} bytes, not a u32 schema version", raw.len()),
                    )
                })?;
                if found != SCHEMA_VERSION {
                    return Err(StoreError::SchemaMismatch {
                        path,
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                // A fresh database: every tree it has (sled always has its
                // default tree) must be empty.
                for name in existing {
                    if !db.open_tree(&name)?.is_empty() {
                        return Err(StoreError::Corrupt(format!(
                            "{path} holds data (tree `{}`) but no schema version; \
                             it was not written by Ponte, or its `meta` tree was lost",
                            keys::describe(&name)
                        )));
                    }
                }
                meta.insert(keys::META_SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes()[..])?;
                meta.insert(META_CHANGED_BUILT, &[1u8][..])?;
                meta.insert(META_FACTS_BUILT, &[1u8][..])?;
                meta.insert(META_HISTORY_BUILT, &[1u8][..])?;
                meta.insert(META_STATUS_OPEN_ONLY, &[1u8][..])?;
                meta.insert(META_CREATED_LATE_ONLY, &[1u8][..])?;
                db.flush()?;
            }
        }
        let store = Self {
            history: db.open_tree(HISTORY)?,
            tasks: db.open_tree(TASKS)?,
            counters: db.open_tree(COUNTERS)?,
            idx_status: db.open_tree(IDX_STATUS)?,
            idx_side: db.open_tree(IDX_SIDE)?,
            idx_assignee: db.open_tree(IDX_ASSIGNEE)?,
            idx_due: db.open_tree(IDX_DUE)?,
            idx_changed: db.open_tree(IDX_CHANGED)?,
            idx_created: db.open_tree(IDX_CREATED)?,
            open_tasks: db.open_tree(OPEN_TASKS)?,
            outbox: db.open_tree(OUTBOX)?,
            dead: db.open_tree(DEAD)?,
            requests: db.open_tree(REQUESTS)?,
            marks: db.open_tree(MARKS)?,
            lookups: db.open_tree(LOOKUPS)?,
            meta,
            db,
            path,
            writes: Arc::default(),
            write_error: Arc::default(),
        };
        codec::reencode_json_snapshots(
            &store.db,
            &store.meta,
            [(TASKS, &store.tasks), (OPEN_TASKS, &store.open_tasks)],
            &store.path,
        )?;
        store.build_changed_index()?;
        store.thin_created_index()?;
        store.build_history()?;
        store.trim_status_index()?;
        store.refold_snapshots()?;
        Ok(store)
    }

    fn index_trees(&self) -> [&Tree; 5] {
        [
            &self.idx_status,
            &self.idx_side,
            &self.idx_assignee,
            &self.idx_due,
            &self.idx_changed,
        ]
    }

    /// Builds `idx_changed` and `open_tasks` from the snapshots once, for a
    /// store written before they existed (same schema otherwise). Runs at
    /// open, before anything else can write.
    fn build_changed_index(&self) -> Result<(), StoreError> {
        if self.meta.get(META_CHANGED_BUILT)?.is_some() {
            return Ok(());
        }
        if !self.tasks.is_empty() {
            tracing::info!(path = %self.path, "building the index of tasks by last change, and the open tasks' snapshots");
            self.idx_changed.clear()?;
            self.open_tasks.clear()?;
            let mut changed = sled::Batch::default();
            let mut open = sled::Batch::default();
            let mut n = 0;
            for item in self.tasks.iter() {
                let (key, raw) = item?;
                let task = codec::decode_stored(TASKS, &key, &raw)?;
                let index = IndexKeys::of(&task);
                if let Some(k) = index.changed {
                    changed.insert(k, &[] as &[u8]);
                }
                if task.status.is_open() {
                    open.insert(key, raw);
                }
                n += 1;
                if n % 10_000 == 0 {
                    self.idx_changed.apply_batch(std::mem::take(&mut changed))?;
                    self.open_tasks.apply_batch(std::mem::take(&mut open))?;
                }
            }
            self.idx_changed.apply_batch(changed)?;
            self.open_tasks.apply_batch(open)?;
        }
        self.meta.insert(META_CHANGED_BUILT, &[1u8][..])?;
        self.db.flush()?;
        Ok(())
    }

    /// Keeps in `idx_created` only the tasks created out of number order
    /// (with the newest creation before them as value) and writes each
    /// client's newest creation into its counter, once, for a store written
    /// when `idx_created` held every task and a counter only the last
    /// number. Runs at open, before anything else can write. One pass over
    /// the snapshots in number order, writing 10,000 tasks' entries at a
    /// time; crash-safe: what it writes depends only on the snapshots, so
    /// an interrupted conversion is done again whole, and the `meta` flag
    /// is set last.
    fn thin_created_index(&self) -> Result<(), StoreError> {
        if self.meta.get(META_CREATED_LATE_ONLY)?.is_some() {
            return Ok(());
        }
        let mut orders: BTreeMap<ClientKey, CreationOrder> = BTreeMap::new();
        let mut batch = sled::Batch::default();
        let (mut seen, mut late) = (0u64, 0u64);
        for item in self.tasks.iter() {
            let (key, raw) = item?;
            let task = codec::decode_stored(TASKS, &key, &raw)?;
            let client = task.id.client();
            let order = orders.entry(client.clone()).or_default();
            let entry = keys::created_key(client, task.created_at, task.id.number());
            match order.next(task.created_at) {
                Some(newest) => {
                    batch.insert(entry, &keys::sortable_timestamp(newest)[..]);
                    late += 1;
                }
                None => batch.remove(entry),
            }
            seen += 1;
            if seen % 10_000 == 0 {
                self.idx_created.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        self.idx_created.apply_batch(batch)?;
        let mut counters = sled::Batch::default();
        for item in self.counters.iter() {
            let (key, raw) = item?;
            // The last number, as written before (8 bytes) or by an
            // interrupted conversion (a whole counter).
            let last = match raw.len() {
                8 | keys::COUNTER_LEN => keys::decode_u64(&raw[..8]),
                _ => None,
            }
            .ok_or_else(|| {
                corrupt(
                    COUNTERS,
                    &key,
                    format!("{} bytes, not a counter", raw.len()),
                )
            })?;
            let client = decode_counter_key(&key)?;
            let newest = orders
                .get(&client)
                .and_then(|o| o.newest)
                .unwrap_or(Timestamp::MIN);
            counters.insert(key, &keys::Counter { last, newest }.encode()[..]);
        }
        self.counters.apply_batch(counters)?;
        tracing::info!(path = %self.path, tasks = seen, late, "the index by creation now holds only the tasks created out of number order");
        self.meta.insert(META_CREATED_LATE_ONLY, &[1u8][..])?;
        self.db.flush()?;
        Ok(())
    }

    /// Moves the events of a store written before history chunks (one key
    /// per event in `events`) into `history`, once, then drops `events`.
    /// Runs at open, before anything else can write. Crash-safe: `history`
    /// is not read before the `meta` flag is set, an interrupted conversion
    /// starts again from a cleared `history`, and `events` is dropped only
    /// after the flag is flushed.
    fn build_history(&self) -> Result<(), StoreError> {
        let has_events = self.db.tree_names().iter().any(|n| n == EVENTS.as_bytes());
        if self.meta.get(META_HISTORY_BUILT)?.is_none() {
            if has_events {
                self.convert_events()?;
            }
            self.meta.insert(META_HISTORY_BUILT, &[1u8][..])?;
            self.db.flush()?;
        }
        if has_events {
            self.empty_events()?;
        }
        Ok(())
    }

    /// Removes the old `events` tree once its events are in `history`.
    /// `Db::drop_tree` would read every node of the tree under one epoch
    /// guard and keep them all in memory until it returns (4.4 GB for the
    /// 5.7M events of 1M tasks), so the keys go in batches first, and the
    /// empty tree is dropped after.
    fn empty_events(&self) -> Result<(), StoreError> {
        let events = self.db.open_tree(EVENTS)?;
        loop {
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for key in events.iter().keys().take(10_000) {
                batch.remove(key?);
                n += 1;
            }
            if n == 0 {
                break;
            }
            events.apply_batch(batch)?;
        }
        drop(events);
        self.db.drop_tree(EVENTS)?;
        self.db.flush()?;
        Ok(())
    }

    /// One pass over `events` in key order (each task's events together, by
    /// sequence number), appending each event's bytes as a line of its
    /// chunk. The events are not decoded: `check_integrity` folds them.
    fn convert_events(&self) -> Result<(), StoreError> {
        let events = self.db.open_tree(EVENTS)?;
        if events.is_empty() {
            return Ok(());
        }
        tracing::info!(path = %self.path, "moving the events into history chunks (one key per 16 events, which sled keeps in much less memory)");
        let started = std::time::Instant::now();
        self.history.clear()?;
        let mut batch = sled::Batch::default();
        let (mut pending, mut converted) = (0usize, 0u64);
        let mut current: Option<(Vec<u8>, Vec<u8>)> = None;
        for item in events.iter() {
            let (key, raw) = item?;
            let (task, seq) = keys::split_history_key(&key)
                .ok_or_else(|| corrupt(EVENTS, &key, "not an event key"))?;
            let chunk_key = keys::chunk_key(task, keys::chunk_of(seq));
            let line = if raw.contains(&b'\n') {
                // Not written by serde_json's compact writer: write it again.
                encode(&decode::<Event>(EVENTS, &key, &raw)?)?
            } else {
                raw.to_vec()
            };
            match &mut current {
                Some((k, chunk)) if *k == chunk_key => chunk.extend_from_slice(&line),
                _ => {
                    if let Some((k, chunk)) = current.replace((chunk_key, line)) {
                        batch.insert(k, chunk);
                        pending += 1;
                    }
                }
            }
            if let Some((_, chunk)) = &mut current {
                chunk.push(b'\n');
            }
            converted += 1;
            if pending >= 10_000 {
                self.history.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        if let Some((k, chunk)) = current {
            batch.insert(k, chunk);
        }
        self.history.apply_batch(batch)?;
        tracing::info!(path = %self.path, events = converted, elapsed_ms = started.elapsed().as_millis() as u64, "events moved into history chunks");
        Ok(())
    }

    /// Removes the finished tasks' entries from `idx_status` once, for a
    /// store written when it held every task. Runs at open.
    fn trim_status_index(&self) -> Result<(), StoreError> {
        if self.meta.get(META_STATUS_OPEN_ONLY)?.is_some() {
            return Ok(());
        }
        let open: BTreeSet<u8> = Status::OPEN.iter().map(|s| s.code()).collect();
        let mut batch = sled::Batch::default();
        let mut removed = 0u64;
        for key in self.idx_status.iter().keys() {
            let key = key?;
            let code = key
                .len()
                .checked_sub(9)
                .map(|at| key[at])
                .ok_or_else(|| corrupt(IDX_STATUS, &key, "not an index key"))?;
            if !open.contains(&code) {
                batch.remove(key);
                removed += 1;
                if removed % 10_000 == 0 {
                    self.idx_status.apply_batch(std::mem::take(&mut batch))?;
                }
            }
        }
        self.idx_status.apply_batch(batch)?;
        if removed > 0 {
            tracing::info!(path = %self.path, removed, "finished tasks removed from the status index");
        }
        self.meta.insert(META_STATUS_OPEN_ONLY, &[1u8][..])?;
        self.db.flush()?;
        Ok(())
    }

    /// Folds every snapshot again from its events once, for a store written
    /// before snapshots carried `Task::facts` (a snapshot without them
    /// reads with empty facts, which are not the fold). One pass over the
    /// snapshots, each folded from its history; a snapshot that differs
    /// from its fold is written again, in
    /// `tasks` and, if open, in `open_tasks` (the indexes do not depend on
    /// the facts). A history that does not fold is left as it is, for
    /// `check_integrity` to report. Runs at open, before anything else can
    /// write.
    fn refold_snapshots(&self) -> Result<(), StoreError> {
        if self.meta.get(META_FACTS_BUILT)?.is_some() {
            return Ok(());
        }
        if !self.tasks.is_empty() {
            tracing::info!(path = %self.path, "folding the snapshots again from their events (they now keep the facts digests read)");
            let started = std::time::Instant::now();
            let (mut tasks, mut open) = (sled::Batch::default(), sled::Batch::default());
            let mut pending = 0usize;
            let mut rewritten = 0u64;
            for item in self.tasks.iter() {
                let (key, raw) = item?;
                if let Some((bytes, is_open)) = self.refold(&key, &raw)? {
                    if is_open {
                        open.insert(key.clone(), bytes.clone());
                    }
                    tasks.insert(key, bytes);
                    rewritten += 1;
                    pending += 1;
                }
                if pending >= 10_000 {
                    self.tasks.apply_batch(std::mem::take(&mut tasks))?;
                    self.open_tasks.apply_batch(std::mem::take(&mut open))?;
                    pending = 0;
                }
            }
            self.tasks.apply_batch(tasks)?;
            self.open_tasks.apply_batch(open)?;
            tracing::info!(path = %self.path, rewritten, elapsed_ms = started.elapsed().as_millis() as u64, "snapshots folded again");
        }
        self.meta.insert(META_FACTS_BUILT, &[1u8][..])?;
        self.db.flush()?;
        Ok(())
    }

    /// The snapshot `raw` under `key` folded again from its history,
    /// encoded, and whether the task is open; `None` when the stored one is
    /// the fold already (or the events do not fold).
    fn refold(&self, key: &[u8], raw: &[u8]) -> Result<Option<(Vec<u8>, bool)>, StoreError> {
        let stored = codec::decode_stored(TASKS, key, raw)?;
        match Task::fold(&self.history_of(key)?) {
            Ok(folded) if folded != stored => Ok(Some((
                codec::encode_snapshot(&folded),
                folded.status.is_open(),
            ))),
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::warn!(task = %stored.id, error = %e, "the events do not fold; snapshot left as it is");
                Ok(None)
            }
        }
    }

    /// How many events the history holds, in all.
    fn event_count(&self) -> Result<u64, StoreError> {
        self.history
            .iter()
            .values()
            .try_fold(0u64, |n, chunk| chunk.map(|c| n + chunk_len(&c) as u64))
            .map_err(Into::into)
    }

    /// The events of the task whose `tasks` key is `key`, in order.
    fn history_of(&self, key: &[u8]) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        for item in self.history.scan_prefix(key) {
            let (ckey, chunk) = item?;
            decode_chunk(&ckey, &chunk, &mut events)?;
        }
        Ok(events)
    }

    /// A snapshot: from `open_tasks` when the task is open (a small tree
    /// that stays cached), else from `tasks`. Both are written in the same
    /// transaction, so either holds the task's current snapshot.
    fn load_task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let key = keys::task_key(id);
        if let Some(raw) = self.open_tasks.get(&key)? {
            return codec::decode_stored(OPEN_TASKS, &key, &raw).map(Some);
        }
        match self.tasks.get(&key)? {
            None => Ok(None),
            Some(raw) => codec::decode_stored(TASKS, &key, &raw).map(Some),
        }
    }

    /// The task numbers in `range` of an index ordered by time (`idx_due`,
    /// `idx_changed`: keys `prefix time number`), in key
    /// order: those greater than `after` (numbers, not times), at most
    /// `limit`.
    fn scan_timed(
        tree: &Tree,
        name: &str,
        prefix: &[u8],
        range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let mut numbers = Vec::new();
        for item in tree.range(range) {
            if numbers.len() >= limit {
                break;
            }
            let (key, _) = item?;
            let (_, number) = key
                .get(prefix.len()..)
                .and_then(keys::decode_due_suffix)
                .ok_or_else(|| corrupt(name, &key, "not a time index key"))?;
            if after.is_none_or(|after| number > after) {
                numbers.push(number);
            }
        }
        Ok(numbers)
    }

    /// The task numbers of a range of an index: keys `prefix number` with
    /// `number > after`, at most `limit`.
    fn scan_numbers(
        tree: &Tree,
        name: &str,
        prefix: &[u8],
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let start = match after {
            None => keys::with_number(prefix, 0),
            Some(after) => match after.checked_add(1) {
                Some(first) => keys::with_number(prefix, first),
                None => return Ok(Vec::new()),
            },
        };
        let mut numbers = Vec::new();
        for item in tree.range(start..) {
            if numbers.len() >= limit {
                break;
            }
            let (key, _) = item?;
            if !key.starts_with(prefix) {
                break;
            }
            if key.len() != prefix.len() + 8 {
                return Err(corrupt(name, &key, "not an index key"));
            }
            numbers
                .push(keys::trailing_number(&key).ok_or_else(|| corrupt(name, &key, "no number"))?);
        }
        Ok(numbers)
    }

    /// The numbers of a client's tasks in one of the `finished` (not open)
    /// statuses, greater than `after`, at most `limit`. `idx_status` holds
    /// open tasks only (finished ones are nearly all tasks, and would cost
    /// sled memory for a listing nothing asks for), so this reads the
    /// client's snapshots in number order: slow on a big store, and used by
    /// no command (they list open tasks; reports list by creation).
    fn scan_finished(
        &self,
        client: &ClientKey,
        finished: &[Status],
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let prefix = keys::client_prefix(client);
        let first = match after {
            None => 1,
            Some(after) => match after.checked_add(1) {
                Some(first) => first,
                None => return Ok(Vec::new()),
            },
        };
        let mut numbers = Vec::new();
        for item in self.tasks.range(keys::with_number(&prefix, first)..) {
            if numbers.len() >= limit {
                break;
            }
            let (key, raw) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let task = codec::decode_stored(TASKS, &key, &raw)?;
            if finished.contains(&task.status) {
                numbers.push(task.id.number());
            }
        }
        Ok(numbers)
    }

    /// A client's tasks created at or after `from` and before `to`,
    /// numbered above `after`, in no particular order.
    ///
    /// With `newest(n)` the newest creation among tasks `1..=n`, which never
    /// decreases with `n`: the tasks with `newest(n)` in the period are a
    /// range of numbers, found by binary search; each of them was created
    /// in the period unless it is in `idx_created` (created out of order),
    /// and any task created in the period outside that range is in
    /// `idx_created`. So this reads about 40 snapshots for the search, then
    /// the period's tasks and the period's few exceptions.
    fn created_in(
        &self,
        client: &ClientKey,
        from: Timestamp,
        to: Timestamp,
        after: Option<u64>,
    ) -> Result<Vec<Task>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let prefix = keys::client_prefix(client);
        // The client's last task that exists (a creation committing now is
        // either wholly seen or not at all, whatever its counter says).
        let Some(item) = self
            .tasks
            .range(prefix.clone()..keys::with_number(&prefix, u64::MAX))
            .next_back()
        else {
            return Ok(Vec::new());
        };
        let (last_key, _) = item?;
        let last = keys::trailing_number(&last_key)
            .ok_or_else(|| corrupt(TASKS, &last_key, "not a task key"))?;
        let lo = self.first_newest_from(client, from, 1, last + 1)?;
        let hi = self.first_newest_from(client, to, lo, last + 1)?;
        let first = after.map_or(lo, |after| lo.max(after.saturating_add(1)));
        let in_period = |t: &Task| t.created_at >= from && t.created_at < to;
        let mut tasks = Vec::new();
        if first < hi {
            let range = keys::with_number(&prefix, first)..keys::with_number(&prefix, hi);
            for item in self.tasks.range(range) {
                let (key, raw) = item?;
                let task = codec::decode_stored(TASKS, &key, &raw)?;
                if in_period(&task) {
                    tasks.push(task);
                }
            }
        }
        let range = keys::created_key(client, from, 0)..keys::created_key(client, to, 0);
        for item in self.idx_created.range(range) {
            let (key, _) = item?;
            let number = keys::trailing_number(&key)
                .filter(|_| key.len() == prefix.len() + keys::TIMESTAMP_LEN + 8)
                .ok_or_else(|| corrupt(IDX_CREATED, &key, "not a time index key"))?;
            if (lo..hi).contains(&number) || after.is_some_and(|after| number <= after) {
                continue;
            }
            let id = TaskId::new(client.clone(), number);
            let task = self.load_task(&id)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "index `{IDX_CREATED}` lists {id}, which does not exist"
                ))
            })?;
            if in_period(&task) {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }

    /// The first number `n` in `lo..hi` with `newest(n) >= at` (see
    /// [`Self::created_in`]), or `hi` if there is none; every number in
    /// `lo..hi` must be a task.
    fn first_newest_from(
        &self,
        client: &ClientKey,
        at: Timestamp,
        mut lo: u64,
        mut hi: u64,
    ) -> Result<u64, StoreError> {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.newest_creation(client, mid)? >= at {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// The newest creation among a client's tasks `1..=number`.
    fn newest_creation(&self, client: &ClientKey, number: u64) -> Result<Timestamp, StoreError> {
        let id = TaskId::new(client.clone(), number);
        let key = keys::task_key(&id);
        let raw = self.tasks.get(&key)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{id} does not exist, but {client} has tasks numbered after it"
            ))
        })?;
        let created_at = codec::decode_stored(TASKS, &key, &raw)?.created_at;
        let entry = keys::created_key(client, created_at, number);
        match self.idx_created.get(&entry)? {
            None => Ok(created_at),
            Some(raw) => <[u8; keys::TIMESTAMP_LEN]>::try_from(&raw[..])
                .ok()
                .and_then(keys::decode_sortable_timestamp)
                .ok_or_else(|| corrupt(IDX_CREATED, &entry, "the value is not a time")),
        }
    }

    /// Loads the tasks an index named, leaving out any that no longer match
    /// the filter (a change committed between the index scan and the load).
    fn load_listed(
        &self,
        index: &str,
        query: &TaskQuery,
        numbers: impl IntoIterator<Item = u64>,
    ) -> Result<Vec<Task>, StoreError> {
        let mut tasks = Vec::new();
        for number in numbers {
            let id = TaskId::new(query.client.clone(), number);
            let task = self.load_task(&id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("index `{index}` lists {id}, which does not exist"))
            })?;
            if matches_filter(&query.filter, &task) {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }

    fn outbox_entry(&self, key: &[u8], raw: &[u8]) -> Result<OutboxEntry, StoreError> {
        let id = keys::decode_u64(key).ok_or_else(|| corrupt(OUTBOX, key, "not a u64 id"))?;
        let value: OutboxValue = decode(OUTBOX, key, raw)?;
        Ok(OutboxEntry {
            id,
            effect: value.effect,
            not_before: value.not_before,
            attempts: value.attempts,
            last_error: value.last_error,
        })
    }

    /// Checks the whole store against its invariants and returns every
    /// problem found (empty when all is well): each snapshot is the fold of
    /// its events and sits under its own key, no event lacks its task, task
    /// numbers are gapless per client and match the counters, every index
    /// holds exactly the entries the snapshots call for, request records
    /// point at existing versions, and outbox ids are below the outbox
    /// counter. Reads everything; meant for tests and `ponte check`.
    pub fn check_integrity(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut expected_index: [BTreeSet<Vec<u8>>; 5] = Default::default();
        let mut numbers: BTreeMap<ClientKey, Vec<u64>> = BTreeMap::new();
        let mut versions: BTreeMap<TaskId, u32> = BTreeMap::new();
        let mut open_snapshots: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut orders: BTreeMap<ClientKey, CreationOrder> = BTreeMap::new();
        let mut expected_created: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut event_total: u64 = 0;
        for item in self.tasks.iter() {
            let (key, raw) = item?;
            let task = codec::decode_stored(TASKS, &key, &raw)?;
            if task.status.is_open() {
                open_snapshots.insert(key.to_vec(), raw.to_vec());
            }
            if keys::decode_task_key(&key).as_ref() != Some(&task.id) {
                problems.push(format!(
                    "snapshot {} is stored under `{}`",
                    task.id,
                    keys::describe(&key)
                ));
            }
            let events = self.history_of(&key)?;
            event_total += events.len() as u64;
            match Task::fold(&events) {
                Ok(folded) if folded == task => {}
                Ok(_) => problems.push(format!(
                    "snapshot {} differs from the fold of its events",
                    task.id
                )),
                Err(e) => problems.push(format!("the events of {} do not fold: {e}", task.id)),
            }
            let index = IndexKeys::of(&task);
            for (slot, expected) in index.slots().into_iter().zip(expected_index.iter_mut()) {
                if let Some(k) = slot {
                    expected.insert(k.clone());
                }
            }
            // In key order: each client's tasks by number.
            let client = task.id.client();
            let order = orders.entry(client.clone()).or_default();
            if let Some(newest) = order.next(task.created_at) {
                expected_created.insert(
                    keys::created_key(client, task.created_at, task.id.number()),
                    keys::sortable_timestamp(newest).to_vec(),
                );
            }
            numbers
                .entry(client.clone())
                .or_default()
                .push(task.id.number());
            versions.insert(task.id.clone(), task.version);
        }
        let stored_events = self.event_count()?;
        if stored_events != event_total {
            problems.push(format!(
                "{stored_events} events are stored but the tasks account for {event_total}"
            ));
        }
        // Numbers recorded as lost (an import of a salvage) fill their gaps.
        for item in self
            .marks
            .scan_prefix(damage::LOST_PREFIX.as_bytes())
            .keys()
        {
            let key = item?;
            if let Some(id) = damage::lost_task(&key) {
                numbers
                    .entry(id.client().clone())
                    .or_default()
                    .push(id.number());
            }
        }
        for numbers in numbers.values_mut() {
            numbers.sort_unstable();
        }
        for (client, numbers) in &numbers {
            let n = numbers.len() as u64;
            if numbers.iter().copied().ne(1..=n) {
                problems.push(format!("the task numbers of {client} are not 1..={n}"));
            }
        }
        for item in self.counters.iter() {
            let (key, raw) = item?;
            let client = decode_counter_key(&key)?;
            let Some(counter) = decode_client_counter(&key, Some(&raw))? else {
                continue;
            };
            let count = numbers.get(&client).map_or(0, |n| n.len() as u64);
            if counter.last != count {
                problems.push(format!(
                    "the counter of {client} is {} but it has {count} tasks",
                    counter.last
                ));
            }
            let newest = orders.get(&client).and_then(|o| o.newest);
            if newest.is_some_and(|newest| newest != counter.newest) {
                problems.push(format!(
                    "the counter of {client} has {} as the newest creation, its tasks {}",
                    counter.newest,
                    newest.map_or_else(|| "none".to_string(), |n| n.to_string())
                ));
            }
        }
        for client in numbers.keys() {
            if self.counters.get(keys::counter_key(client))?.is_none() {
                problems.push(format!("{client} has tasks but no counter"));
            }
        }
        for ((tree, name), expected) in self
            .index_trees()
            .into_iter()
            .zip(INDEX_NAMES)
            .zip(&expected_index)
        {
            let mut actual = BTreeSet::new();
            for item in tree.iter() {
                let (key, _) = item?;
                actual.insert(key.to_vec());
            }
            for missing in expected.difference(&actual) {
                problems.push(format!(
                    "index `{name}` lacks `{}`",
                    keys::describe(missing)
                ));
            }
            for extra in actual.difference(expected) {
                problems.push(format!(
                    "index `{name}` has a stale `{}`",
                    keys::describe(extra)
                ));
            }
        }
        compare_contents(
            &self.idx_created,
            &expected_created,
            &mut problems,
            Messages {
                lacks: &|key| {
                    format!("index `{IDX_CREATED}` lacks `{key}`, created out of number order")
                },
                differs: &|key| {
                    format!("index `{IDX_CREATED}` has another newest creation for `{key}`")
                },
                extra: &|key| {
                    format!(
                        "index `{IDX_CREATED}` has `{key}`, which is not a task created out of number order"
                    )
                },
            },
        )?;
        compare_contents(
            &self.open_tasks,
            &open_snapshots,
            &mut problems,
            Messages {
                lacks: &|key| format!("`{OPEN_TASKS}` lacks the open task `{key}`"),
                differs: &|key| {
                    format!("`{OPEN_TASKS}` holds another snapshot of `{key}` than `{TASKS}`")
                },
                extra: &|key| format!("`{OPEN_TASKS}` holds `{key}`, which is not an open task"),
            },
        )?;
        for item in self.requests.iter() {
            let (key, raw) = item?;
            let record: RequestRecord = decode(REQUESTS, &key, &raw)?;
            match versions.get(&record.task) {
                Some(v) if *v >= record.version => {}
                _ => problems.push(format!(
                    "request `{}` points at {} version {}, which does not exist",
                    keys::describe(&key),
                    record.task,
                    record.version
                )),
            }
        }
        let last_id = decode_counter(
            keys::META_OUTBOX_LAST,
            self.meta.get(keys::META_OUTBOX_LAST)?.as_ref(),
        )?;
        for item in self.outbox.iter() {
            let (key, raw) = item?;
            let entry = self.outbox_entry(&key, &raw)?;
            if entry.id == 0 || entry.id > last_id {
                problems.push(format!(
                    "outbox entry {} is beyond the last id {last_id}",
                    entry.id
                ));
            }
        }
        for item in self.dead.iter() {
            let (key, raw) = item?;
            let id = keys::decode_u64(&key).ok_or_else(|| corrupt(DEAD, &key, "not a u64 id"))?;
            decode::<DeadValue>(DEAD, &key, &raw)?;
            if id == 0 || id > last_id {
                problems.push(format!(
                    "dead letter {id} is beyond the last outbox id {last_id}"
                ));
            }
            if self.outbox.contains_key(&key)? {
                problems.push(format!(
                    "entry {id} is both in the outbox and a dead letter"
                ));
            }
        }
        Ok(problems)
    }
}

/// What [`compare_contents`] reports, given the key (as text).
struct Messages<'a> {
    lacks: &'a dyn Fn(&str) -> String,
    differs: &'a dyn Fn(&str) -> String,
    extra: &'a dyn Fn(&str) -> String,
}

/// Compares a derived tree with what the snapshots call for, key by key and
/// value by value, adding one problem per difference.
fn compare_contents(
    tree: &Tree,
    expected: &BTreeMap<Vec<u8>, Vec<u8>>,
    problems: &mut Vec<String>,
    say: Messages<'_>,
) -> Result<(), StoreError> {
    let mut stored = BTreeMap::new();
    for item in tree.iter() {
        let (key, value) = item?;
        stored.insert(key.to_vec(), value.to_vec());
    }
    for (key, value) in expected {
        match stored.get(key) {
            None => problems.push((say.lacks)(&keys::describe(key))),
            Some(found) if found != value => problems.push((say.differs)(&keys::describe(key))),
            Some(_) => {}
        }
    }
    for key in stored.keys() {
        if !expected.contains_key(key) {
            problems.push((say.extra)(&keys::describe(key)));
        }
    }
    Ok(())
}

/// Whether a task belongs in a listing: the same rules as the indexes.
fn matches_filter(filter: &TaskFilter, task: &Task) -> bool {
    let open = task.status.is_open();
    match filter {
        TaskFilter::Status(statuses) => statuses.contains(&task.status),
        TaskFilter::HandledBy(side) => open && task.handling_side == *side,
        TaskFilter::AssignedTo(person) => open && task.assignee == Some(*person),
        TaskFilter::DueBy(by) => open && task.due.is_some_and(|due| due <= *by),
        TaskFilter::ChangedAfter(at) => task.updated_at > *at,
        TaskFilter::CreatedIn { from, to } => task.created_at >= *from && task.created_at < *to,
    }
}

impl SledStore {
    /// [`Store::put_lookups`]'s work, as one batch.
    fn put_lookups_inner(&self, changes: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        let _writing = self.writes.read();
        let mut batch = sled::Batch::default();
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key.as_bytes(), value.as_slice()),
                None => batch.remove(key.as_bytes()),
            }
        }
        self.lookups.apply_batch(batch).map_err(StoreError::from)
    }

    /// [`Store::commit`]'s work; the trait method records its outcome.
    fn commit_inner(&self, commit: &Commit) -> Result<CommitOutcome, StoreError> {
        let _writing = self.writes.read();
        let p = Prepared::new(commit)?;
        let trees = (
            &self.meta,
            &self.history,
            &self.tasks,
            &self.counters,
            &self.idx_status,
            &self.idx_side,
            &self.idx_assignee,
            &self.idx_due,
            &self.idx_changed,
            &self.open_tasks,
            &self.outbox,
            &self.requests,
            &self.idx_created,
            &self.lookups,
        );
        let result = trees.transaction(
            |(
                meta,
                history,
                tasks,
                counters,
                idx_status,
                idx_side,
                idx_assignee,
                idx_due,
                idx_changed,
                open_tasks,
                outbox,
                requests,
                idx_created,
                lookups,
            )| {
                // A replayed request changes nothing, whatever else it says.
                if let Some((key, _)) = &p.request {
                    if let Some(raw) = requests.get(key)? {
                        return match decode::<RequestRecord>(REQUESTS, key, &raw) {
                            Ok(record) => refuse(Refusal::Duplicate(record)),
                            Err(e) => refuse(Refusal::Corrupt(e.to_string())),
                        };
                    }
                }
                let stored = tasks.get(&p.task_key)?;
                match &p.expect {
                    Expect::Creation {
                        counter_key,
                        number,
                        created_at,
                        created_key,
                    } => {
                        if stored.is_some() {
                            return refuse(Refusal::Conflict(format!("{} already exists", p.id)));
                        }
                        let counter = match decode_client_counter(
                            counter_key,
                            counters.get(counter_key)?.as_ref(),
                        ) {
                            Ok(counter) => counter,
                            Err(e) => return refuse(Refusal::Corrupt(e.to_string())),
                        };
                        let last = counter.map_or(0, |c| c.last);
                        if last.checked_add(1) != Some(*number) {
                            return refuse(Refusal::Conflict(format!(
                                "the next task of {} is number {}, not {number}",
                                p.id.client(),
                                last.saturating_add(1)
                            )));
                        }
                        let newest = match counter {
                            Some(c) if c.newest > *created_at => {
                                // Created before a task numbered before it
                                // (the clock went back): an exception to
                                // the creation order of the numbers.
                                idx_created.insert(
                                    created_key.as_slice(),
                                    &keys::sortable_timestamp(c.newest)[..],
                                )?;
                                c.newest
                            }
                            _ => *created_at,
                        };
                        let counter = keys::Counter {
                            last: *number,
                            newest,
                        };
                        counters.insert(counter_key.as_slice(), &counter.encode()[..])?;
                    }
                    Expect::Snapshot(before) => {
                        let Some(raw) = stored else {
                            return refuse(Refusal::Conflict(format!("{} does not exist", p.id)));
                        };
                        let current = match codec::decode_stored(TASKS, &p.task_key, &raw) {
                            Ok(task) => task,
                            Err(e) => return refuse(Refusal::Corrupt(e.to_string())),
                        };
                        if current.version != before.version {
                            return refuse(Refusal::Conflict(format!(
                                "{} is at version {}, the change was decided on version {}",
                                p.id, current.version, before.version
                            )));
                        }
                        if current != **before {
                            // Same version, other content: the caller's copy
                            // is not the stored task; its index entries
                            // would be wrong.
                            return refuse(Refusal::Conflict(format!(
                                "{} version {} differs from the stored snapshot",
                                p.id, before.version
                            )));
                        }
                    }
                }
                tasks.insert(p.task_key.as_slice(), p.snapshot.as_slice())?;
                if p.open_after {
                    open_tasks.insert(p.task_key.as_slice(), p.snapshot.as_slice())?;
                } else if p.open_before {
                    open_tasks.remove(p.task_key.as_slice())?;
                }
                for append in &p.history {
                    let old = history.get(&append.key)?;
                    let held = old.as_deref().map_or(0, chunk_len);
                    if held != append.held {
                        return refuse(Refusal::Corrupt(format!(
                            "history chunk `{}` holds {held} events, {} expected",
                            keys::describe(&append.key),
                            append.held
                        )));
                    }
                    let mut chunk = old.map(|old| old.to_vec()).unwrap_or_default();
                    chunk.extend_from_slice(&append.lines);
                    history.insert(append.key.as_slice(), chunk)?;
                }
                let index_trees = [idx_status, idx_side, idx_assignee, idx_due, idx_changed];
                for (tree, change) in index_trees.into_iter().zip(&p.index_changes) {
                    if let Some(key) = &change.remove {
                        tree.remove(key.as_slice())?;
                    }
                    if let Some(key) = &change.insert {
                        tree.insert(key.as_slice(), &[] as &[u8])?;
                    }
                }
                if !p.outbox.is_empty() {
                    let last = match decode_counter(
                        keys::META_OUTBOX_LAST,
                        meta.get(keys::META_OUTBOX_LAST)?.as_ref(),
                    ) {
                        Ok(last) => last,
                        Err(e) => return refuse(Refusal::Corrupt(e.to_string())),
                    };
                    let mut id = last;
                    for value in &p.outbox {
                        let Some(next) = id.checked_add(1) else {
                            return refuse(Refusal::Corrupt(format!(
                                "the last outbox id in `{META}` is {last}, no id follows"
                            )));
                        };
                        id = next;
                        outbox.insert(&keys::outbox_key(id)[..], value.as_slice())?;
                    }
                    meta.insert(keys::META_OUTBOX_LAST, &id.to_be_bytes()[..])?;
                }
                if let Some((key, record)) = &p.request {
                    requests.insert(key.as_slice(), record.as_slice())?;
                }
                for (key, value) in p.lookups {
                    match value {
                        Some(value) => lookups.insert(key.as_bytes(), value.as_slice())?,
                        None => lookups.remove(key.as_bytes())?,
                    };
                }
                Ok(())
            },
        );
        match result {
            Ok(()) => Ok(CommitOutcome::Written),
            Err(TransactionError::Abort(Refusal::Duplicate(record))) => {
                Ok(CommitOutcome::Duplicate(record))
            }
            Err(TransactionError::Abort(Refusal::Conflict(why))) => Err(StoreError::Conflict(why)),
            Err(TransactionError::Abort(Refusal::Corrupt(why))) => Err(StoreError::Corrupt(why)),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }

    /// Records the outcome of a write: a failure marks the store not
    /// writable (for `/healthz`, at once) until a later write succeeds.
    fn note_write<T>(&self, done: &Result<T, StoreError>) {
        let mut failed = self.write_error.lock().unwrap_or_else(|e| e.into_inner());
        match done {
            Err(e @ (StoreError::Sled(_) | StoreError::Io(_))) => *failed = Some(e.to_string()),
            Err(_) => {}
            Ok(_) => *failed = None,
        }
    }
}

impl Store for SledStore {
    fn commit(&self, commit: &Commit) -> Result<CommitOutcome, StoreError> {
        let done = self.commit_inner(commit);
        self.note_write(&done);
        done
    }

    fn flush(&self) -> Result<(), StoreError> {
        let done = self.db.flush().map(drop).map_err(StoreError::from);
        self.note_write(&done);
        done
    }

    fn commit_mark(&self, mark: &Mark, effects: &[Effect]) -> Result<bool, StoreError> {
        let _writing = self.writes.read();
        let key = mark.key.as_bytes().to_vec();
        let at = encode(&mark.at)?;
        let outbox: Vec<Vec<u8>> = effects
            .iter()
            .map(|effect| {
                encode(&OutboxValue {
                    effect: effect.clone(),
                    not_before: mark.at,
                    attempts: 0,
                    last_error: None,
                })
            })
            .collect::<Result<_, _>>()?;
        let result = (&self.meta, &self.marks, &self.outbox).transaction(|(meta, marks, out)| {
            if marks.get(&key)?.is_some() {
                return refuse(Refusal::Conflict(String::new()));
            }
            marks.insert(key.as_slice(), at.as_slice())?;
            if !outbox.is_empty() {
                let last = match decode_counter(
                    keys::META_OUTBOX_LAST,
                    meta.get(keys::META_OUTBOX_LAST)?.as_ref(),
                ) {
                    Ok(last) => last,
                    Err(e) => return refuse(Refusal::Corrupt(e.to_string())),
                };
                let mut id = last;
                for value in &outbox {
                    let Some(next) = id.checked_add(1) else {
                        return refuse(Refusal::Corrupt(format!(
                            "the last outbox id in `{META}` is {last}, no id follows"
                        )));
                    };
                    id = next;
                    out.insert(&keys::outbox_key(id)[..], value.as_slice())?;
                }
                meta.insert(keys::META_OUTBOX_LAST, &id.to_be_bytes()[..])?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(true),
            Err(TransactionError::Abort(Refusal::Conflict(_) | Refusal::Duplicate(_))) => Ok(false),
            Err(TransactionError::Abort(Refusal::Corrupt(why))) => Err(StoreError::Corrupt(why)),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }

    fn lookup(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lookups.get(key.as_bytes())?.map(|v| v.to_vec()))
    }

    fn put_lookups(&self, changes: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        let done = self.put_lookups_inner(changes);
        self.note_write(&done);
        done
    }

    fn lookups_after(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // The first key of `prefix` greater than `after`.
        let start: Vec<u8> = match after {
            Some(after) => [after.as_bytes(), &[0]]
                .concat()
                .max(prefix.as_bytes().to_vec()),
            None => prefix.as_bytes().to_vec(),
        };
        let mut out = Vec::new();
        for item in self.lookups.range(start..) {
            let (key, value) = item?;
            if !key.starts_with(prefix.as_bytes()) || out.len() >= limit {
                break;
            }
            let key = String::from_utf8(key.to_vec())
                .map_err(|e| corrupt(LOOKUPS, &key, format!("key is not UTF-8: {e}")))?;
            out.push((key, value.to_vec()));
        }
        Ok(out)
    }

    fn mark(&self, key: &str) -> Result<Option<Timestamp>, StoreError> {
        match self.marks.get(key.as_bytes())? {
            None => Ok(None),
            Some(raw) => decode(MARKS, key.as_bytes(), &raw).map(Some),
        }
    }

    fn last_mark(&self, prefix: &str) -> Result<Option<Mark>, StoreError> {
        match self.marks.scan_prefix(prefix.as_bytes()).next_back() {
            None => Ok(None),
            Some(item) => {
                let (key, raw) = item?;
                let at = decode(MARKS, &key, &raw)?;
                let key = String::from_utf8(key.to_vec())
                    .map_err(|e| corrupt(MARKS, &key, format!("key is not UTF-8: {e}")))?;
                Ok(Some(Mark { key, at }))
            }
        }
    }

    fn last_marks(&self, prefix: &str, limit: usize) -> Result<Vec<Mark>, StoreError> {
        let mut out = Vec::new();
        for item in self.marks.scan_prefix(prefix.as_bytes()).rev().take(limit) {
            let (key, raw) = item?;
            let at = decode(MARKS, &key, &raw)?;
            let key = String::from_utf8(key.to_vec())
                .map_err(|e| corrupt(MARKS, &key, format!("key is not UTF-8: {e}")))?;
            out.push(Mark { key, at });
        }
        Ok(out)
    }

    fn next_number(&self, client: &ClientKey) -> Result<u64, StoreError> {
        let key = keys::counter_key(client);
        let counter = decode_client_counter(&key, self.counters.get(&key)?.as_ref())?;
        counter
            .map_or(0, |c| c.last)
            .checked_add(1)
            .ok_or_else(|| corrupt(COUNTERS, &key, "the counter is at its maximum"))
    }

    fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        self.load_task(id)
    }

    fn events(&self, id: &TaskId) -> Result<Vec<Event>, StoreError> {
        self.history_of(&keys::task_key(id))
    }

    fn list(&self, query: &TaskQuery) -> Result<Vec<Task>, StoreError> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let client = &query.client;
        let (after, limit) = (query.after, query.limit);
        match &query.filter {
            TaskFilter::Status(statuses) => {
                let codes: BTreeSet<_> = statuses.iter().map(|s| (s.code(), *s)).collect();
                let mut numbers = Vec::new();
                let finished: Vec<Status> =
                    statuses.iter().copied().filter(|s| !s.is_open()).collect();
                if !finished.is_empty() {
                    numbers.extend(self.scan_finished(client, &finished, after, limit)?);
                }
                for (_, status) in codes.into_iter().filter(|(_, s)| s.is_open()) {
                    let prefix = keys::status_prefix(client, status);
                    numbers.extend(Self::scan_numbers(
                        &self.idx_status,
                        IDX_STATUS,
                        &prefix,
                        after,
                        limit,
                    )?);
                }
                // Each status range is sorted and holds at most `limit`, so
                // the first `limit` of the merge are the overall first.
                numbers.sort_unstable();
                numbers.dedup();
                numbers.truncate(limit);
                self.load_listed(IDX_STATUS, query, numbers)
            }
            TaskFilter::HandledBy(side) => {
                let prefix = keys::side_prefix(client, *side);
                let numbers = Self::scan_numbers(&self.idx_side, IDX_SIDE, &prefix, after, limit)?;
                self.load_listed(IDX_SIDE, query, numbers)
            }
            TaskFilter::AssignedTo(person) => {
                let prefix = keys::assignee_prefix(*person, client);
                let numbers =
                    Self::scan_numbers(&self.idx_assignee, IDX_ASSIGNEE, &prefix, after, limit)?;
                self.load_listed(IDX_ASSIGNEE, query, numbers)
            }
            TaskFilter::DueBy(by) => {
                // Ordered by due time, then number; `after` still means
                // "numbers greater than", as everywhere.
                let prefix = keys::due_prefix(client);
                let upper = keys::due_upper_bound(client, *by);
                let range = (Bound::Included(prefix.clone()), Bound::Included(upper));
                let numbers =
                    Self::scan_timed(&self.idx_due, IDX_DUE, &prefix, range, after, limit)?;
                self.load_listed(IDX_DUE, query, numbers)
            }
            TaskFilter::ChangedAfter(at) => {
                // Ordered by last change, then number.
                let prefix = keys::client_prefix(client);
                let range = (
                    Bound::Excluded(keys::changed_lower_bound(client, *at)),
                    Bound::Included(keys::changed_key(client, Timestamp::MAX, u64::MAX)),
                );
                let numbers =
                    Self::scan_timed(&self.idx_changed, IDX_CHANGED, &prefix, range, after, limit)?;
                self.load_listed(IDX_CHANGED, query, numbers)
            }
            TaskFilter::CreatedIn { from, to } => {
                let mut tasks = self.created_in(client, *from, *to, after)?;
                // Ordered by creation, then number.
                tasks.sort_unstable_by_key(|t| (t.created_at, t.id.number()));
                tasks.truncate(limit);
                Ok(tasks)
            }
        }
    }

    fn request(&self, key: &str) -> Result<Option<RequestRecord>, StoreError> {
        match self.requests.get(key.as_bytes())? {
            None => Ok(None),
            Some(raw) => decode(REQUESTS, key.as_bytes(), &raw).map(Some),
        }
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut due = Vec::new();
        for item in self.outbox.iter() {
            if due.len() >= limit {
                break;
            }
            let (key, raw) = item?;
            let entry = self.outbox_entry(&key, &raw)?;
            if entry.not_before <= now {
                due.push(entry);
            }
        }
        Ok(due)
    }

    fn outbox_len(&self) -> Result<usize, StoreError> {
        self.outbox
            .iter()
            .keys()
            .try_fold(0, |n, key| key.map(|_| n + 1))
            .map_err(Into::into)
    }

    fn outbox_done(&self, id: u64) -> Result<(), StoreError> {
        let _writing = self.writes.read();
        self.outbox.remove(keys::outbox_key(id))?;
        Ok(())
    }

    fn outbox_retry(&self, id: u64, not_before: Timestamp, error: &str) -> Result<(), StoreError> {
        let _writing = self.writes.read();
        let key = keys::outbox_key(id);
        // Compare-and-swap, so that an entry delivered meanwhile (removed)
        // is not brought back and two retries both count.
        loop {
            let Some(old) = self.outbox.get(key)? else {
                return Ok(());
            };
            let mut value: OutboxValue = decode(OUTBOX, &key, &old)?;
            value.attempts = value.attempts.saturating_add(1);
            value.not_before = not_before;
            value.last_error = Some(error.to_owned());
            let new = serde_json::to_vec(&value).map_err(|e| corrupt(OUTBOX, &key, e))?;
            if self
                .outbox
                .compare_and_swap(key, Some(&old), Some(new))?
                .is_ok()
            {
                return Ok(());
            }
        }
    }

    fn outbox_dead(&self, id: u64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        let _writing = self.writes.read();
        let key = keys::outbox_key(id);
        let Some(raw) = self.outbox.get(key)? else {
            return Ok(());
        };
        let entry: OutboxValue = decode(OUTBOX, &key, &raw)?;
        let dead = encode(&DeadValue {
            entry,
            at,
            error: error.to_owned(),
        })?;
        // One transaction: the entry is in exactly one of the two trees.
        (&self.outbox, &self.dead)
            .transaction(|(outbox, dead_tree)| {
                if outbox.remove(&key[..])?.is_some() {
                    dead_tree.insert(&key[..], dead.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => StoreError::from(e),
                TransactionError::Abort(()) => corrupt(DEAD, &key, "aborted"),
            })?;
        Ok(())
    }

    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let mut out = Vec::new();
        for item in self.dead.iter().take(limit) {
            let (key, raw) = item?;
            let id = keys::decode_u64(&key).ok_or_else(|| corrupt(DEAD, &key, "not a u64 id"))?;
            let value: DeadValue = decode(DEAD, &key, &raw)?;
            out.push(DeadLetter {
                entry: OutboxEntry {
                    id,
                    effect: value.entry.effect,
                    not_before: value.entry.not_before,
                    attempts: value.entry.attempts,
                    last_error: value.entry.last_error,
                },
                at: value.at,
                error: value.error,
            });
        }
        Ok(out)
    }

    fn dead_count(&self) -> Result<usize, StoreError> {
        Ok(self.dead.len())
    }

    fn dead_retry(&self, id: u64) -> Result<bool, StoreError> {
        let _writing = self.writes.read();
        let key = keys::outbox_key(id);
        let Some(raw) = self.dead.get(key)? else {
            return Ok(false);
        };
        let value: DeadValue = decode(DEAD, &key, &raw)?;
        let entry = encode(&OutboxValue {
            effect: value.entry.effect,
            not_before: Timestamp::MIN,
            attempts: 0,
            last_error: Some(value.error),
        })?;
        let moved = (&self.outbox, &self.dead)
            .transaction(|(outbox, dead)| {
                if dead.remove(&key[..])?.is_none() {
                    return Ok(false);
                }
                outbox.insert(&key[..], entry.as_slice())?;
                Ok::<_, ConflictableTransactionError<()>>(true)
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => StoreError::from(e),
                TransactionError::Abort(()) => corrupt(DEAD, &key, "aborted"),
            })?;
        Ok(moved)
    }

    fn dead_drop(&self, id: u64) -> Result<bool, StoreError> {
        let _writing = self.writes.read();
        Ok(self.dead.remove(keys::outbox_key(id))?.is_some())
    }

    fn for_each_event(
        &self,
        f: &mut dyn FnMut(Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut events = Vec::new();
        for item in self.history.iter() {
            let (key, chunk) = item?;
            events.clear();
            decode_chunk(&key, &chunk, &mut events)?;
            for event in events.drain(..) {
                f(event)?;
            }
        }
        Ok(())
    }

    fn for_each_task(
        &self,
        f: &mut dyn FnMut(Task) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.tasks.iter() {
            let (key, raw) = item?;
            f(codec::decode_stored(TASKS, &key, &raw)?)?;
        }
        Ok(())
    }

    fn task_count(&self) -> Result<u64, StoreError> {
        self.tasks
            .iter()
            .keys()
            .try_fold(0, |n, key| key.map(|_| n + 1))
            .map_err(Into::into)
    }

    fn probe_write(&self) -> Result<(), StoreError> {
        // A full disk is unhealthy before a change fails on it; with room
        // again and a write that works, a failure before is over.
        match backup::room_to_write(std::path::Path::new(&self.path)) {
            Err(e) => self.note_write::<()>(&Err(e)),
            Ok(()) => {
                let now = jiff::Timestamp::now().as_millisecond().to_be_bytes();
                let done = self
                    .meta
                    .insert(keys::META_HEALTH_PROBE, &now[..])
                    .map_err(StoreError::from)
                    .and_then(|_| self.flush());
                self.note_write(&done);
            }
        }
        match self
            .write_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            Some(e) => Err(StoreError::Io(std::io::Error::other(format!(
                "the last write failed: {e}"
            )))),
            None => Ok(()),
        }
    }

    fn backup(&self, dir: &std::path::Path) -> Result<BackupReport, StoreError> {
        self.backup_to(dir)
    }

    fn record_lost(
        &self,
        client: &ClientKey,
        through: u64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let _writing = self.writes.read();
        let counter_key = keys::counter_key(client);
        let at_value = encode(&at)?;
        let result = (&self.counters, &self.marks).transaction(|(counters, marks)| {
            let counter =
                match decode_client_counter(&counter_key, counters.get(&counter_key)?.as_ref()) {
                    Ok(counter) => counter,
                    Err(e) => return refuse(Refusal::Corrupt(e.to_string())),
                };
            let last = counter.map_or(0, |c| c.last);
            for n in last + 1..=through {
                let mark = damage::lost_mark(&TaskId::new(client.clone(), n));
                marks.insert(mark.as_bytes(), at_value.as_slice())?;
            }
            if through > last {
                let newest = counter.map_or(Timestamp::UNIX_EPOCH, |c| c.newest);
                let counter = keys::Counter {
                    last: through,
                    newest,
                };
                counters.insert(counter_key.as_slice(), &counter.encode()[..])?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(Refusal::Corrupt(e))) => Err(StoreError::Corrupt(e)),
            Err(TransactionError::Abort(Refusal::Conflict(e))) => Err(StoreError::Conflict(e)),
            Err(TransactionError::Abort(Refusal::Duplicate(_))) => {
                Err(StoreError::Conflict("a request record".into()))
            }
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
}

// ---- Backups (issue 8) ----

/// Shared by writers, taken alone by a backup. A poisoned lock (a writer
/// panicked) still guards: the data it protects lives in sled.
#[derive(Debug, Default)]
struct WriteGate(std::sync::RwLock<()>);

impl WriteGate {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StoreError {
    /// Whether opening failed because another process (a running bot)
    /// holds the data directory.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Open { source, .. } if is_lock_held(source))
    }
}

/// How many times [`SledStore::backup_to`] copies before it gives up on a
/// copy that passes the integrity check.
const BACKUP_ATTEMPTS: u32 = 5;

/// What a backup copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    pub tasks: u64,
    pub events: u64,
    pub outbox: u64,
    /// Copies thrown away because they caught a change halfway.
    pub retries: u32,
}

impl SledStore {
    /// Copies every tree of the store into a new store in `dir` (an absolute
    /// path with no `..` that does not exist yet, outside the data
    /// directory; its files are made 0600 and its folders 0700), while the
    /// store stays in use.
    ///
    /// sled 0.34 has no snapshot across trees, so the copy is made while
    /// every writer of this store (commits, marks, outbox updates) waits on
    /// a gate: a change is in the copy whole or not at all. Reads go on.
    /// The copy is then opened and checked with
    /// [`SledStore::check_integrity`] (and made again if it has a problem,
    /// a few times), flushed, and passes `ponte check-store`.
    pub fn backup_to(&self, dir: &std::path::Path) -> Result<BackupReport, StoreError> {
        backup::check_target(dir, &self.path)?;
        let mut last_problems = Vec::new();
        for attempt in 0..BACKUP_ATTEMPTS {
            if attempt > 0 {
                std::fs::remove_dir_all(dir)?;
            }
            backup::create_private_dir(dir)?;
            {
                let _alone = self.writes.write();
                self.copy_into(dir)?;
            }
            let copy = SledStore::open(&StoreOptions::new(dir))?;
            let problems = copy.check_integrity()?;
            if problems.is_empty() {
                let report = BackupReport {
                    tasks: copy.tasks.len() as u64,
                    events: copy.event_count()?,
                    outbox: copy.outbox.len() as u64,
                    retries: attempt,
                };
                copy.flush()?;
                drop(copy);
                backup::make_private(dir)?;
                return Ok(report);
            }
            tracing::info!(
                attempt,
                problems = problems.len(),
                "a backup caught a change halfway; copying again"
            );
            last_problems = problems;
        }
        Err(StoreError::Corrupt(format!(
            "no consistent copy after {BACKUP_ATTEMPTS} attempts: {}",
            last_problems.join("; ")
        )))
    }

    /// Copies every tree, key by key, into a fresh sled database in `dir`.
    fn copy_into(&self, dir: &std::path::Path) -> Result<(), StoreError> {
        let copy = sled::Config::new().path(dir).open()?;
        for name in self.db.tree_names() {
            let from = self.db.open_tree(&name)?;
            let to = copy.open_tree(&name)?;
            let mut batch = sled::Batch::default();
            let mut pending = 0usize;
            for item in from.iter() {
                let (key, value) = item?;
                batch.insert(key, value);
                pending += 1;
                if pending == 1024 {
                    to.apply_batch(std::mem::take(&mut batch))?;
                    pending = 0;
                }
            }
            to.apply_batch(batch)?;
        }
        copy.flush()?;
        Ok(())
    }
}

mod backup;
pub mod damage;

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &tempfile::TempDir) -> StoreOptions {
        StoreOptions::new(dir.path())
    }

    /// Opens the directory with plain sled, to tamper with it (waiting, as
    /// `SledStore::open` does, for the dropped store to release its lock).
    fn raw(dir: &tempfile::TempDir, f: impl FnOnce(&sled::Db)) {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match sled::open(dir.path()) {
                Err(e) if is_lock_held(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.unwrap(),
            }
        };
        f(&db);
        db.flush().unwrap();
    }

    #[test]
    fn a_fresh_store_records_its_schema_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(&options(&dir)).unwrap());
        raw(&dir, |db| {
            let meta = db.open_tree(META).unwrap();
            let version = meta.get(keys::META_SCHEMA_VERSION).unwrap().unwrap();
            assert_eq!(keys::decode_u32(&version), Some(SCHEMA_VERSION));
        });
        let store = SledStore::open(&options(&dir)).unwrap();
        assert_eq!(store.task_count().unwrap(), 0);
    }

    #[test]
    fn another_schema_version_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(&options(&dir)).unwrap());
        raw(&dir, |db| {
            let meta = db.open_tree(META).unwrap();
            meta.insert(keys::META_SCHEMA_VERSION, &99u32.to_be_bytes()[..])
                .unwrap();
        });
        let err = SledStore::open(&options(&dir)).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::SchemaMismatch {
                    found: 99,
                    expected: SCHEMA_VERSION,
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("schema version 99"), "{message}");
        assert!(
            message.contains(&format!("reads version {SCHEMA_VERSION}")),
            "{message}"
        );
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_garbled_schema_version_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(&options(&dir)).unwrap());
        raw(&dir, |db| {
            let meta = db.open_tree(META).unwrap();
            meta.insert(keys::META_SCHEMA_VERSION, b"one".as_slice())
                .unwrap();
        });
        let err = SledStore::open(&options(&dir)).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn data_without_a_schema_version_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(&options(&dir)).unwrap());
        raw(&dir, |db| {
            db.open_tree(META)
                .unwrap()
                .remove(keys::META_SCHEMA_VERSION)
                .unwrap();
            db.open_tree(TASKS)
                .unwrap()
                .insert(b"ACME\0", b"{}".as_slice())
                .unwrap();
        });
        let err = SledStore::open(&options(&dir)).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("no schema version")),
            "{err:?}"
        );

        // Someone else's sled database.
        let other = tempfile::tempdir().unwrap();
        raw(&other, |db| {
            db.insert(b"key", b"value".as_slice()).unwrap();
        });
        let err = SledStore::open(&options(&other)).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn an_empty_sled_database_becomes_a_store() {
        let dir = tempfile::tempdir().unwrap();
        raw(&dir, |db| {
            db.open_tree(TASKS).unwrap();
        });
        assert!(SledStore::open(&options(&dir)).is_ok());
    }

    #[test]
    fn a_second_open_of_a_directory_in_use_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(&options(&dir)).unwrap();
        let err = SledStore::open(&options(&dir)).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    }

    #[test]
    fn unreadable_records_are_reported_not_panicked_on() {
        let store = SledStore::open_temporary().unwrap();
        let acme = ClientKey::new("ACME").unwrap();
        let id = TaskId::new(acme.clone(), 1);
        store
            .tasks
            .insert(keys::task_key(&id), b"{not json".as_slice())
            .unwrap();
        store
            .history
            .insert(keys::history_key(&id, 0), b"[]\n".as_slice())
            .unwrap();
        // A chunk cut short (no final newline), and one whose line is not
        // the event its place calls for.
        let (id2, id3) = (TaskId::new(acme.clone(), 2), TaskId::new(acme.clone(), 3));
        store
            .history
            .insert(keys::history_key(&id2, 0), b"{}".as_slice())
            .unwrap();
        let event = Event {
            task: id3.clone(),
            seq: 2,
            at: Timestamp::UNIX_EPOCH,
            by: crate::domain::Who::Ponte,
            kind: crate::domain::EventKind::Unclaimed,
        };
        let mut line = serde_json::to_vec(&event).unwrap();
        line.push(b'\n');
        store
            .history
            .insert(keys::history_key(&id3, 0), line)
            .unwrap();
        store
            .counters
            .insert(keys::counter_key(&acme), b"\x01".as_slice())
            .unwrap();
        store
            .outbox
            .insert(keys::outbox_key(1), b"null".as_slice())
            .unwrap();
        store
            .requests
            .insert(b"r".as_slice(), b"7".as_slice())
            .unwrap();
        let status_key =
            keys::with_number(&keys::status_prefix(&acme, crate::domain::Status::New), 1);
        store.idx_status.insert(status_key, b"".as_slice()).unwrap();
        // An index entry for a task that does not exist.
        let side_key = keys::with_number(&keys::side_prefix(&acme, crate::domain::Side::Msp), 2);
        store.idx_side.insert(side_key, b"".as_slice()).unwrap();

        let is_corrupt = |r: Result<_, StoreError>, what: &str| match r {
            Err(StoreError::Corrupt(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("{other:?}"),
        };
        is_corrupt(store.task(&id).map(drop), "tree `tasks`, key `ACME\\x00");
        is_corrupt(store.events(&id).map(drop), "tree `history`");
        is_corrupt(store.events(&id2).map(drop), "must end with a newline");
        is_corrupt(store.events(&id3).map(drop), "line 1 is event 2, not 1");
        is_corrupt(store.next_number(&acme).map(drop), "tree `counters`");
        is_corrupt(
            store.outbox_due(Timestamp::MAX, 10).map(drop),
            "tree `outbox`",
        );
        is_corrupt(store.outbox_retry(1, Timestamp::MAX, "x"), "tree `outbox`");
        is_corrupt(store.request("r").map(drop), "tree `requests`");
        is_corrupt(store.for_each_task(&mut |_| Ok(())), "tree `tasks`");
        is_corrupt(store.for_each_event(&mut |_| Ok(())), "tree `history`");
        let query = |filter| TaskQuery {
            client: acme.clone(),
            filter,
            after: None,
            limit: 10,
        };
        is_corrupt(
            store.list(&query(TaskFilter::open())).map(drop),
            "tree `tasks`",
        );
        is_corrupt(
            store
                .list(&query(TaskFilter::HandledBy(crate::domain::Side::Msp)))
                .map(drop),
            "ACME-2, which does not exist",
        );
        assert!(store.check_integrity().is_err());
    }
}
