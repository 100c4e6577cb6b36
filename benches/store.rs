//! Task creation and listing on a store of 100,000 tasks, each beside a raw
//! sled baseline measured in the same run. How to run it and the figures:
//! BENCHMARKS.md.
//!
//! Setup (once, only when a benchmark is selected):
//!
//! 1. A fresh `SledStore` in a temporary directory is loaded through the real
//!    `Engine::execute` (no flush per request, one flush at the end) with
//!    100,000 tasks for ACME and 10,000 for BRIGHT, each with its lifecycle:
//!    about 70 % closed, 17 % resolved, 10 % cancelled and 3 % open (new,
//!    claimed, in progress, waiting). Every request carries an interaction
//!    key, as the chat adapter's do. The outbox is then drained (as the
//!    deliverer keeps it in production), the store flushed, and its size
//!    printed.
//! 2. The store is closed and its directory copied byte for byte; the copy is
//!    opened with plain sled (same cache size) for the baselines, so both
//!    sides write into trees of the same size and shape without sharing a
//!    page cache.
//! 3. A creation is executed through the real engine on a small fresh store,
//!    which is then reopened with plain sled: every key and value it holds
//!    must equal what [`write_set`] computes for that creation, or the bench
//!    stops. The raw baseline writes exactly those bytes (renumbered for each
//!    new task), so it measures sled, not a guess of what Ponte writes.
//!
//! The listings run first, on exactly the preloaded store (the creations
//! add tasks). After the criterion benchmarks, creation is also measured
//! *paired*: Ponte and raw batches alternately, back to back, and the
//! median of the per-pair ratios printed; on a shared machine that ratio is
//! steadier than two criterion figures taken seconds apart.
//!
//! `PONTE_BENCH_TASKS` sets the number of ACME tasks (BRIGHT gets a tenth);
//! `PONTE_BENCH_CACHE_MIB` sets sled's cache for both databases (default:
//! the store's, 16 MiB).
//! Run without `--bench` (e.g. `cargo test --benches`), the default is 2,000
//! so that test mode stays quick.

#[path = "../tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
mod raw;

use std::cell::{Cell, OnceCell};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use common::{ACME, BRIGHT, employee, it_tech, key, msp_engineer, rules};
use ponte::app::engine::{Engine, Op, Outcome, Request};
use ponte::domain::effect::{Effect, effects_of};
use ponte::domain::{
    Actor, Command, NewTask, PersonId, Side, SideChoice, Status, Task, TaskId, Visibility,
};
use ponte::store::codec::{decode_snapshot, encode_snapshot};
use ponte::store::{RequestRecord, SledStore, Store, StoreOptions, TaskFilter, TaskQuery};
use raw::{Raw, TREES, Write};

// ---------------------------------------------------------------------------
// The store's layout, mirrored (the store keeps its key encoding private).
// `verify_write_set` checks every byte of it against a real store.

const META: usize = 0;
const HISTORY: usize = 1;
const TASKS: usize = 2;
const COUNTERS: usize = 3;
const IDX_STATUS: usize = 4;
const IDX_SIDE: usize = 5;
const IDX_ASSIGNEE: usize = 6;
const IDX_DUE: usize = 7;
const IDX_CHANGED: usize = 8;
const OPEN_TASKS: usize = 9;
const OUTBOX: usize = 10;
const REQUESTS: usize = 11;

const META_OUTBOX_LAST: &[u8] = b"outbox_last_id";
const META_SCHEMA_VERSION: &[u8] = b"schema_version";
/// Written once when a store is created (not by a commit).
const META_CHANGED_BUILT: &[u8] = b"derived_trees_v3";
/// Set once when the store is created (snapshots carry their facts).
const META_FACTS_BUILT: &[u8] = b"snapshot_facts_v1";
/// Set once when the store is created (events in history chunks).
const META_HISTORY_BUILT: &[u8] = b"history_chunks_v1";
/// Set once when the store is created (`idx_status` holds open tasks only).
const META_STATUS_OPEN_ONLY: &[u8] = b"status_index_open_v1";
/// Events per history chunk.
const EVENTS_PER_CHUNK: u32 = 16;
/// `meta` marker of a store whose snapshots are in `store::codec`'s encoding.
const META_SNAPSHOT_CODEC: &[u8] = b"snapshot_codec_v1";
/// Set once when the store is created (`idx_created` holds only the tasks
/// created out of number order).
const META_CREATED_LATE_ONLY: &[u8] = b"created_index_late_only_v1";

/// What the store writes as an outbox value (its `OutboxValue`).
#[derive(Serialize)]
struct OutboxValue<'a> {
    effect: &'a Effect,
    not_before: Timestamp,
    attempts: u32,
    last_error: Option<String>,
}

fn client_prefix(client: &str) -> Vec<u8> {
    let mut key = client.as_bytes().to_vec();
    key.push(0);
    key
}

fn with_number(mut prefix: Vec<u8>, number: u64) -> Vec<u8> {
    prefix.extend_from_slice(&number.to_be_bytes());
    prefix
}

fn task_key(id: &TaskId) -> Vec<u8> {
    with_number(client_prefix(id.client().as_str()), id.number())
}

fn side_code(side: Side) -> u8 {
    match side {
        Side::Internal => 0,
        Side::Msp => 1,
    }
}

/// A timestamp as the store's keys hold it (sign bit flipped, big-endian).
fn sortable(at: Timestamp) -> [u8; 16] {
    ((at.as_nanosecond() as u128) ^ (1u128 << 127)).to_be_bytes()
}

/// Every insert the store's commit makes for a creation: snapshot, events,
/// index entries, counter, outbox entries and the outbox counter, request key.
fn write_set(outcome: &Outcome, request_key: &str, first_outbox_id: u64) -> Vec<Write> {
    let task = &outcome.task;
    let id = &task.id;
    let client = id.client().as_str();
    let snapshot = encode_snapshot(task);
    let mut writes = vec![(TASKS, task_key(id), snapshot.clone())];
    if task.status.is_open() {
        writes.push((OPEN_TASKS, task_key(id), snapshot));
    }
    // A creation starts its history: its events are the first lines of
    // the first chunk(s), one JSON line each.
    let mut chunks: Vec<(u32, Vec<u8>)> = Vec::new();
    for event in &outcome.events {
        let chunk = (event.seq - 1) / EVENTS_PER_CHUNK;
        if chunks.last().is_none_or(|(c, _)| *c != chunk) {
            chunks.push((chunk, Vec::new()));
        }
        let lines = &mut chunks.last_mut().expect("pushed").1;
        lines.extend_from_slice(&json(event));
        lines.push(b'\n');
    }
    for (chunk, lines) in chunks {
        let mut key = task_key(id);
        key.extend_from_slice(&chunk.to_be_bytes());
        writes.push((HISTORY, key, lines));
    }
    let open = task.status.is_open();
    if open {
        let mut status = client_prefix(client);
        status.push(task.status.code());
        writes.push((IDX_STATUS, with_number(status, id.number()), Vec::new()));
        let mut side = client_prefix(client);
        side.push(side_code(task.handling_side));
        writes.push((IDX_SIDE, with_number(side, id.number()), Vec::new()));
        if let Some(person) = task.assignee {
            let mut key = person.0.to_be_bytes().to_vec();
            key.extend_from_slice(&client_prefix(client));
            writes.push((IDX_ASSIGNEE, with_number(key, id.number()), Vec::new()));
        }
        if let Some(due) = task.due {
            let mut key = client_prefix(client);
            key.extend_from_slice(&sortable(due));
            writes.push((IDX_DUE, with_number(key, id.number()), Vec::new()));
        }
    }
    let mut changed = client_prefix(client);
    changed.extend_from_slice(&sortable(task.updated_at));
    writes.push((IDX_CHANGED, with_number(changed, id.number()), Vec::new()));
    // The counter: the last number and the newest creation. The bench
    // creates in time order, so this task is the newest and goes in no
    // `idx_created` (which holds only tasks created out of number order).
    let mut counter = id.number().to_be_bytes().to_vec();
    counter.extend_from_slice(&sortable(task.created_at));
    writes.push((COUNTERS, client_prefix(client), counter));
    let effects = effects_of(task, &outcome.events);
    let mut outbox_id = first_outbox_id - 1;
    for effect in &effects {
        outbox_id += 1;
        let value = OutboxValue {
            effect,
            not_before: task.updated_at,
            attempts: 0,
            last_error: None,
        };
        writes.push((OUTBOX, outbox_id.to_be_bytes().to_vec(), json(&value)));
    }
    if !effects.is_empty() {
        writes.push((
            META,
            META_OUTBOX_LAST.to_vec(),
            outbox_id.to_be_bytes().to_vec(),
        ));
    }
    let record = RequestRecord {
        task: id.clone(),
        version: task.version,
    };
    writes.push((REQUESTS, request_key.as_bytes().to_vec(), json(&record)));
    writes
}

/// A value as the store serialises it.
fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("domain values serialise")
}

/// The same creation as task `number` of its client.
fn renumbered(outcome: &Outcome, number: u64) -> Outcome {
    let id = TaskId::new(outcome.task.id.client().clone(), number);
    let mut outcome = outcome.clone();
    outcome.task.id = id.clone();
    for event in &mut outcome.events {
        event.task = id.clone();
    }
    outcome
}

// ---------------------------------------------------------------------------
// Requests.

/// A small, fast, deterministic hash (splitmix64) for the task mix.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Chat user ids are Discord snowflakes: 18 digits.
const PEOPLE: u64 = 412_345_678_901_234_000;

const TITLES: [(&str, &str); 6] = [
    (
        "The VPN drops every few minutes in the Milan office",
        "Since this morning the VPN disconnects every five minutes or so; colleagues on \
         the second floor see the same. Teams calls drop with it.",
    ),
    (
        "Wifi is very slow in meeting room B",
        "Guests cannot join the wifi at all and we get 1 Mbit/s on the staff network.",
    ),
    (
        "Printer on floor 3 jams on every job",
        "The big printer near the kitchen jams on every print job, even one page.",
    ),
    (
        "New laptop for the new hire starting Monday",
        "Marco Rossi starts in accounting on Monday and needs a laptop with the usual \
         finance software and access to the shared drive.",
    ),
    (
        "Cannot open the shared drive since the password change",
        "After changing my password yesterday the S: drive asks for credentials and \
         refuses them.",
    ),
    (
        "rete lenta in magazzino",
        "Da ieri la rete del magazzino è lentissima, i terminali ci mettono minuti a \
         sincronizzare.",
    ),
];

/// A creation as a person would send it from the chat, with its interaction id.
fn create_request(
    actor: &Actor,
    client: &str,
    variant: u64,
    due: Option<Timestamp>,
    interaction: u64,
) -> Request {
    let (title, details) = TITLES[(variant % TITLES.len() as u64) as usize];
    Request::by(
        actor.clone(),
        Op::Create {
            client: key(client),
            new: NewTask {
                title: title.into(),
                details: details.into(),
                to: SideChoice::Auto,
                due,
                ..Default::default()
            },
        },
    )
    .with_key(interaction_key(interaction))
}

/// An interaction id: a 19-digit snowflake.
fn interaction_key(n: u64) -> String {
    format!("{}", 1_300_000_000_000_000_000u64 + n)
}

fn change(actor: &Actor, task: &TaskId, command: Command, interaction: u64) -> Request {
    Request::by(
        actor.clone(),
        Op::Change {
            task: task.clone(),
            command,
        },
    )
    .with_key(interaction_key(interaction))
}

// ---------------------------------------------------------------------------
// Preload.

/// Runs requests through the engine for the preload, each with the next
/// interaction id, without flushing.
struct Loader<'a> {
    engine: &'a Engine<SledStore>,
    /// The last interaction id used.
    interaction: u64,
    tasks: u64,
    commits: u64,
    open: u64,
}

impl Loader<'_> {
    fn run(&mut self, request: impl FnOnce(u64) -> Request, at: Timestamp) -> Outcome {
        self.interaction += 1;
        self.commits += 1;
        self.engine
            .execute(&request(self.interaction), at)
            .unwrap_or_else(|e| panic!("preload request refused: {e:?}"))
    }

    /// Creates `count` tasks for `client`, each with its lifecycle: 3 % open
    /// (new, claimed, in progress, waiting on the requester), 10 % cancelled,
    /// 17 % resolved, 70 % closed; a third of the finished ones with a comment.
    fn client(&mut self, client: &str, count: u64, clock: &mut Timestamp) {
        for i in 0..count {
            let h = mix(i ^ ((client.len() as u64) << 40));
            *clock = clock.checked_add(SignedDuration::from_mins(7)).unwrap();
            let mut at = *clock;
            let requester = employee(PEOPLE + 1_000 + h % 400, client);
            let due =
                (h % 10 == 0).then(|| at.checked_add(SignedDuration::from_hours(72)).unwrap());
            let created = self.run(|n| create_request(&requester, client, h >> 8, due, n), at);
            let id = created.task.id;
            let staff = match created.task.handling_side {
                Side::Msp => msp_engineer(PEOPLE + 100 + (h >> 16) % 12),
                Side::Internal => it_tech(PEOPLE + 200 + (h >> 16) % 6, client),
            };
            let set = |to: Status, reason: Option<&str>| Command::SetStatus {
                to,
                reason: reason.map(Into::into),
            };
            let kind = (h >> 24) % 1000;
            let steps: Vec<(&Actor, Command)> = match kind {
                0..30 => {
                    self.open += 1;
                    let work = vec![
                        (&staff, Command::Claim),
                        (&staff, set(Status::InProgress, None)),
                        (
                            &staff,
                            set(Status::WaitingOnRequester, Some("which asset tag?")),
                        ),
                    ];
                    work.into_iter().take((kind % 4) as usize).collect()
                }
                30..130 => vec![(
                    &requester,
                    Command::Cancel {
                        reason: Some("sorted it out myself".into()),
                    },
                )],
                _ => {
                    let mut steps = vec![
                        (&staff, Command::Claim),
                        (&staff, set(Status::InProgress, None)),
                    ];
                    if h % 3 == 0 {
                        steps.push((
                            &staff,
                            Command::Comment {
                                body: "Rebooted the access point and updated its firmware; \
                                       please check again."
                                    .into(),
                                visibility: Visibility::Shared,
                            },
                        ));
                    }
                    steps.push((&staff, set(Status::Resolved, Some("fixed"))));
                    if kind >= 300 {
                        steps.push((&requester, Command::Close));
                    }
                    steps
                }
            };
            for (actor, command) in steps {
                at = at.checked_add(SignedDuration::from_mins(20)).unwrap();
                self.run(|n| change(actor, &id, command, n), at);
            }
            self.tasks += 1;
        }
    }
}

/// Removes every outbox entry, as the deliverer does once it delivered them.
fn drain_outbox(store: &SledStore) -> u64 {
    let mut drained = 0;
    loop {
        let due = store.outbox_due(Timestamp::MAX, 4096).unwrap();
        if due.is_empty() {
            return drained;
        }
        for entry in due {
            store.outbox_done(entry.id).unwrap();
            drained += 1;
        }
    }
}

/// Apparent and allocated bytes of a directory tree.
fn dir_size(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            let (a, b) = dir_size(&entry.path());
            total = (total.0 + a, total.1 + b);
        } else {
            total = (total.0 + meta.len(), total.1 + meta.blocks() * 512);
        }
    }
    total
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The store's options: its default cache, or `PONTE_BENCH_CACHE_MIB`.
fn options(path: &Path) -> StoreOptions {
    let mut options = StoreOptions::new(path);
    if let Ok(mib) = std::env::var("PONTE_BENCH_CACHE_MIB") {
        let mib: u64 = mib.parse().expect("PONTE_BENCH_CACHE_MIB is a number");
        options.cache_capacity_bytes = mib * 1024 * 1024;
    }
    options
}

/// Opens a store whose previous handles are being dropped (sled's
/// background flusher lets go of the directory lock a little later).
fn reopen(path: &Path) -> SledStore {
    for _ in 0..200 {
        if let Ok(store) = SledStore::open(&options(path)) {
            return store;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{} stayed locked", path.display());
}

fn open_raw(path: &Path) -> sled::Db {
    for _ in 0..200 {
        if let Ok(db) = sled::Config::new()
            .path(path)
            .cache_capacity(options(path).cache_capacity_bytes)
            .open()
        {
            return db;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{} stayed locked", path.display());
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------------------
// The write set check and the raw baseline.

fn bench_creation(interaction: u64) -> Request {
    let alice = employee(PEOPLE + 1_001, ACME);
    create_request(&alice, ACME, 0, None, interaction)
}

/// Runs a creation through the real engine on a fresh store, reopens the
/// store with plain sled and checks that it holds exactly [`write_set`] of
/// that creation (plus the schema version). Returns the creation.
fn verify_write_set(dir: &Path, now: Timestamp) -> (Outcome, String) {
    let request = bench_creation(0);
    let request_key = request.key.clone().unwrap();
    let outcome = {
        let store = Arc::new(SledStore::open(&StoreOptions::new(dir)).unwrap());
        let engine = Engine::new(store.clone(), rules());
        let outcome = engine.execute(&request, now).unwrap();
        store.flush().unwrap();
        outcome
    };
    let db = open_raw(dir);
    let mut stored = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).unwrap();
        let Some(index) = TREES.iter().position(|t| t.as_bytes() == &name[..]) else {
            assert!(tree.is_empty(), "unexpected tree {name:?} holds data");
            continue;
        };
        for item in tree.iter() {
            let (k, v) = item.unwrap();
            if index == META
                && (&k[..] == META_SCHEMA_VERSION
                    || &k[..] == META_CHANGED_BUILT
                    || &k[..] == META_FACTS_BUILT
                    || &k[..] == META_HISTORY_BUILT
                    || &k[..] == META_STATUS_OPEN_ONLY
                    || &k[..] == META_SNAPSHOT_CODEC
                    || &k[..] == META_CREATED_LATE_ONLY)
            {
                continue;
            }
            stored.push((index, k.to_vec(), v.to_vec()));
        }
    }
    let mut expected = write_set(&outcome, &request_key, 1);
    stored.sort();
    expected.sort();
    assert_eq!(
        stored, expected,
        "the store no longer writes what benches/store.rs mirrors; update write_set"
    );
    (outcome, request_key)
}

/// The raw baseline's counter `key` in `tree`.
fn raw_counter(raw: &Raw, tree: usize, key: &[u8]) -> u64 {
    raw.trees[tree]
        .get(key)
        .unwrap()
        // A client's counter starts with its last number; the outbox
        // counter is only that.
        .map_or(0, |v| u64::from_be_bytes(v[..8].try_into().unwrap()))
}

// ---------------------------------------------------------------------------
// The fixture.

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Arc<SledStore>,
    engine: Engine<SledStore>,
    raw: Raw,
    /// A creation the real engine made, and its request key.
    template: (Outcome, String),
    now: Timestamp,
    next_interaction: Cell<u64>,
    next_raw_number: Cell<u64>,
    next_raw_outbox: Cell<u64>,
    next_raw_interaction: Cell<u64>,
    /// The person with the most open tasks assigned, and how many.
    busiest: (PersonId, usize),
}

impl Fixture {
    fn new() -> Self {
        let bench_mode = bench_mode();
        let acme_tasks: u64 = std::env::var("PONTE_BENCH_TASKS")
            .ok()
            .map(|v| v.parse().expect("PONTE_BENCH_TASKS is a number"))
            .unwrap_or(if bench_mode { 100_000 } else { 2_000 });
        let bright_tasks = acme_tasks / 10;
        let tmp = tempfile::Builder::new()
            .prefix("ponte-bench-")
            .tempdir()
            .unwrap();
        let ponte_dir = tmp.path().join("ponte");
        let raw_dir = tmp.path().join("raw");

        let mut clock: Timestamp = "2024-01-08T08:00:00Z".parse().unwrap();
        let started = Instant::now();
        let (tasks, interaction) = {
            let store = Arc::new(SledStore::open(&options(&ponte_dir)).unwrap());
            let engine = Engine::new(store.clone(), rules());
            let mut stats = Loader {
                engine: &engine,
                interaction: 0,
                tasks: 0,
                commits: 0,
                open: 0,
            };
            for (client, count) in [(ACME, acme_tasks), (BRIGHT, bright_tasks)] {
                stats.client(client, count, &mut clock);
            }
            store.flush().unwrap();
            let preload = started.elapsed();
            eprintln!(
                "preload: {} tasks ({} ACME, {} BRIGHT; {} ACME+BRIGHT open) in {} commits \
                 through Engine::execute, one flush at the end: {:.1} s ({:.1} µs/commit)",
                stats.tasks,
                acme_tasks,
                bright_tasks,
                stats.open,
                stats.commits,
                preload.as_secs_f64(),
                preload.as_secs_f64() * 1e6 / stats.commits as f64,
            );
            let drain_started = Instant::now();
            let drained = drain_outbox(&store);
            store.flush().unwrap();
            eprintln!(
                "outbox drained (as the deliverer keeps it): {drained} entries removed in {:.1} s",
                drain_started.elapsed().as_secs_f64()
            );
            let (mut json_tasks, mut json_events, mut events) = (0u64, 0u64, 0u64);
            let mut snapshot_bytes = 0u64;
            store
                .for_each_task(&mut |t| {
                    json_tasks += serde_json::to_vec(&t).unwrap().len() as u64;
                    snapshot_bytes += encode_snapshot(&t).len() as u64;
                    Ok(())
                })
                .unwrap();
            store
                .for_each_event(&mut |e| {
                    events += 1;
                    json_events += serde_json::to_vec(&e).unwrap().len() as u64;
                    Ok(())
                })
                .unwrap();
            eprintln!(
                "logical JSON: snapshots {:.1} MiB ({} B/task), events {:.1} MiB ({events} events, \
                 {} B/event, {:.1} events/task)",
                mib(json_tasks),
                json_tasks / stats.tasks,
                mib(json_events),
                json_events / events,
                events as f64 / stats.tasks as f64,
            );
            eprintln!(
                "snapshots as stored (binary, `store::codec`): {:.1} MiB ({} B/task)",
                mib(snapshot_bytes),
                snapshot_bytes / stats.tasks,
            );
            (stats.tasks, stats.interaction)
        };
        // Every handle is dropped: measure, copy for the baseline, reopen.
        let store = reopen(&ponte_dir);
        drop(store);
        std::thread::sleep(Duration::from_millis(200));
        let (apparent, allocated) = dir_size(&ponte_dir);
        eprintln!(
            "store on disk after preload: {:.1} MiB apparent, {:.1} MiB allocated (du), \
             {} B/task allocated over {} tasks",
            mib(apparent),
            mib(allocated),
            allocated / tasks,
            tasks
        );
        let copy_started = Instant::now();
        copy_dir(&ponte_dir, &raw_dir);
        eprintln!(
            "copied for the raw baseline in {:.1} s",
            copy_started.elapsed().as_secs_f64()
        );
        let store = Arc::new(reopen(&ponte_dir));
        let engine = Engine::new(store.clone(), rules());
        let raw = Raw::new(open_raw(&raw_dir));

        let now = clock.checked_add(SignedDuration::from_hours(1)).unwrap();
        let template = verify_write_set(&tmp.path().join("verify"), now);
        let writes = write_set(&renumbered(&template.0, acme_tasks + 1), &template.1, 1);
        let size: usize = writes.iter().map(|(_, k, v)| k.len() + v.len()).sum();
        let each: Vec<_> = writes
            .iter()
            .map(|(t, k, v)| format!("{} {}+{}", TREES[*t], k.len(), v.len()))
            .collect();
        eprintln!(
            "one creation writes {} keys, {size} bytes of keys and values (checked against a \
             real store): {}",
            writes.len(),
            each.join(", ")
        );

        let acme = key(ACME);
        let busiest = (0..12)
            .map(|n| PersonId(PEOPLE + 100 + n))
            .chain((0..6).map(|n| PersonId(PEOPLE + 200 + n)))
            .map(|p| {
                let q = TaskQuery {
                    client: acme.clone(),
                    filter: TaskFilter::AssignedTo(p),
                    after: None,
                    limit: usize::MAX,
                };
                (p, store.list(&q).unwrap().len())
            })
            .max_by_key(|(_, n)| *n)
            .unwrap();
        eprintln!("setup done in {:.1} s", started.elapsed().as_secs_f64());
        let next_raw_number = raw_counter(&raw, COUNTERS, &client_prefix(ACME)) + 1;
        let next_raw_outbox = raw_counter(&raw, META, META_OUTBOX_LAST) + 1;
        Self {
            _tmp: tmp,
            store,
            engine,
            raw,
            template,
            now,
            next_interaction: Cell::new(interaction + 1_000_000),
            next_raw_number: Cell::new(next_raw_number),
            next_raw_outbox: Cell::new(next_raw_outbox),
            next_raw_interaction: Cell::new(interaction + 500_000_000),
            busiest,
        }
    }

    fn next_create(&self) -> Request {
        let n = self.next_interaction.get();
        self.next_interaction.set(n + 1);
        bench_creation(n)
    }

    /// The bytes the store would write for the next ACME creation, under
    /// fresh keys of the raw database.
    fn next_raw_writes(&self) -> Vec<Write> {
        let number = self.next_raw_number.get();
        let outbox = self.next_raw_outbox.get();
        let n = self.next_raw_interaction.get();
        self.next_raw_number.set(number + 1);
        self.next_raw_outbox.set(outbox + 1);
        self.next_raw_interaction.set(n + 1);
        write_set(
            &renumbered(&self.template.0, number),
            &interaction_key(n),
            outbox,
        )
    }

    fn query(&self, filter: TaskFilter, limit: usize) -> TaskQuery {
        TaskQuery {
            client: key(ACME),
            filter,
            after: None,
            limit,
        }
    }

    /// The baseline of an open-task listing: the same prefix scans of
    /// `idx_status` (one per open status), and a `get` of each snapshot's
    /// bytes, with no merging or filtering, and no decoding unless `decode`
    /// (then each value is decoded into a `Task`, as `Store::list` does).
    fn raw_open_scan(&self, limit: usize, decode: bool) -> (usize, usize) {
        let (index, tasks) = (&self.raw.trees[IDX_STATUS], &self.raw.trees[TASKS]);
        let (mut found, mut bytes) = (0, 0);
        'statuses: for status in Status::OPEN {
            let mut prefix = client_prefix(ACME);
            prefix.push(status.code());
            for item in index.scan_prefix(&prefix) {
                if found == limit {
                    break 'statuses;
                }
                let (k, _) = item.unwrap();
                let number = u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap());
                let value = tasks
                    .get(with_number(client_prefix(ACME), number))
                    .unwrap()
                    .expect("indexed snapshot");
                bytes += value.len();
                if decode {
                    let task: Task = decode_snapshot(&value).unwrap();
                    black_box(task);
                }
                found += 1;
            }
        }
        (found, bytes)
    }
}

/// Run by `cargo bench` (not `cargo test --benches`).
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Ponte and the raw baseline measured alternately, batch against batch,
/// so that both see the same load on a shared machine (the criterion
/// figures are taken seconds apart and move with it). Prints the medians
/// of each and the median and quartiles of the per-pair ratio.
fn paired(f: &Fixture, what: &str, pairs: usize, batch: usize) {
    let mut ponte = Vec::with_capacity(pairs);
    let mut raw = Vec::with_capacity(pairs);
    let mut ratios = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let requests: Vec<_> = (0..batch).map(|_| f.next_create()).collect();
        let writes: Vec<_> = (0..batch).map(|_| f.next_raw_writes()).collect();
        let run_ponte = || {
            let started = Instant::now();
            for request in &requests {
                black_box(f.engine.execute(request, f.now).unwrap());
            }
            f.store.flush().unwrap();
            started.elapsed()
        };
        let run_raw = || {
            let started = Instant::now();
            for w in &writes {
                f.raw.commit(w);
            }
            f.raw.db.flush().unwrap();
            started.elapsed()
        };
        // Alternate which goes first.
        let (p, r) = if i % 2 == 0 {
            let p = run_ponte();
            (p, run_raw())
        } else {
            let r = run_raw();
            (run_ponte(), r)
        };
        ratios.push(p.as_secs_f64() / r.as_secs_f64());
        ponte.push(p);
        raw.push(r);
    }
    ponte.sort();
    raw.sort();
    ratios.sort_by(f64::total_cmp);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / batch as f64;
    eprintln!(
        "paired {what}, {pairs} pairs: ponte median {:.1} µs/creation, raw median {:.1} \
         µs/creation; ratio ponte/raw median {:.2} (quartiles {:.2}..{:.2})",
        per(ponte[pairs / 2]),
        per(raw[pairs / 2]),
        ratios[pairs / 2],
        ratios[pairs / 4],
        ratios[pairs * 3 / 4],
    );
}

// ---------------------------------------------------------------------------
// The benchmarks.

const ALL: usize = 100_000;

fn store_benches(c: &mut Criterion) {
    let cell = OnceCell::new();
    let fixture = || cell.get_or_init(Fixture::new);

    // Listings first: the creations below add open (new) tasks to ACME.
    // Every creation benchmark grows its store (by some thousands of tasks
    // at these times); the count is printed at the end.
    let mut list = c.benchmark_group("list");
    list.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    let mut reported = false;
    let mut report = |f: &Fixture| {
        if !std::mem::replace(&mut reported, true) {
            let count = |filter, limit| f.store.list(&f.query(filter, limit)).unwrap().len();
            eprintln!(
                "ACME listings: open {}, first page {}, handled by the MSP {}, assigned to {:?} {}; \
                 raw scan finds {} open",
                count(TaskFilter::open(), ALL),
                count(TaskFilter::open(), 25),
                count(TaskFilter::HandledBy(Side::Msp), ALL),
                f.busiest.0,
                f.busiest.1,
                f.raw_open_scan(ALL, false).0,
            );
        }
    };
    list.bench_function("open_first_page", |b| {
        let f = fixture();
        report(f);
        let q = f.query(TaskFilter::open(), 25);
        b.iter(|| black_box(f.store.list(&q).unwrap()));
    });
    list.bench_function("open_all", |b| {
        let f = fixture();
        report(f);
        let q = f.query(TaskFilter::open(), ALL);
        b.iter(|| black_box(f.store.list(&q).unwrap()));
    });
    list.bench_function("handled_by_msp", |b| {
        let f = fixture();
        report(f);
        let q = f.query(TaskFilter::HandledBy(Side::Msp), ALL);
        b.iter(|| black_box(f.store.list(&q).unwrap()));
    });
    list.bench_function("assigned_to", |b| {
        let f = fixture();
        report(f);
        let q = f.query(TaskFilter::AssignedTo(f.busiest.0), ALL);
        b.iter(|| black_box(f.store.list(&q).unwrap()));
    });
    list.bench_function("raw_sled_prefix_scan_first_page", |b| {
        let f = fixture();
        b.iter(|| black_box(f.raw_open_scan(25, false)));
    });
    list.bench_function("raw_sled_prefix_scan", |b| {
        let f = fixture();
        b.iter(|| black_box(f.raw_open_scan(ALL, false)));
    });
    // Not a baseline: the raw scan plus decoding each snapshot (JSON until
    // `store::codec`), to show where the difference between `open_all` and
    // the raw scan goes.
    list.bench_function("raw_sled_prefix_scan_decode", |b| {
        let f = fixture();
        b.iter(|| black_box(f.raw_open_scan(ALL, true)));
    });
    list.finish();

    // Digests (issue 6): one side's morning digest of ACME, built from the
    // store as the chat sink does (open tasks and those finished in the
    // last day, with their histories, then `domain::digest::build`).
    let mut digest = c.benchmark_group("digest");
    digest
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    let config = ponte::config::Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/ponte.example.toml"
    )))
    .expect("the example configuration loads");
    for side in [Side::Msp, Side::Internal] {
        digest.bench_function(format!("acme_{side}"), |b| {
            let f = fixture();
            let since = f.now.checked_sub(SignedDuration::from_hours(24)).unwrap();
            let acme = key(ACME);
            let built = ponte::app::digests::client_digest(
                &*f.store,
                &config,
                &acme,
                side,
                Some(since),
                f.now,
            )
            .unwrap()
            .expect("ACME is configured");
            eprintln!(
                "digest of ACME for {side}: {} open, {} new, {} closed, {} breached",
                built.open_count(),
                built.new.len(),
                built.closed.len(),
                built.breached.len()
            );
            b.iter(|| {
                black_box(
                    ponte::app::digests::client_digest(
                        &*f.store,
                        &config,
                        &acme,
                        side,
                        Some(since),
                        f.now,
                    )
                    .unwrap(),
                )
            });
        });
    }
    digest.finish();

    let mut create = c.benchmark_group("create");
    create
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    create.throughput(Throughput::Elements(1));
    create.bench_function("ponte_durable", |b| {
        let f = fixture();
        b.iter_batched(
            || f.next_create(),
            |request| {
                let outcome = f.engine.execute(&request, f.now).unwrap();
                f.store.flush().unwrap();
                outcome
            },
            BatchSize::SmallInput,
        );
    });
    create.bench_function("raw_sled_durable", |b| {
        let f = fixture();
        b.iter_batched(
            || f.next_raw_writes(),
            |writes| {
                f.raw.commit(&writes);
                f.raw.db.flush().unwrap();
                writes
            },
            BatchSize::SmallInput,
        );
    });
    create.throughput(Throughput::Elements(64));
    create.bench_function("ponte_group_commit_64", |b| {
        let f = fixture();
        b.iter_batched(
            || (0..64).map(|_| f.next_create()).collect::<Vec<_>>(),
            |requests| {
                for request in &requests {
                    black_box(f.engine.execute(request, f.now).unwrap());
                }
                f.store.flush().unwrap();
                requests
            },
            BatchSize::SmallInput,
        );
    });
    create.bench_function("raw_sled_group_commit_64", |b| {
        let f = fixture();
        b.iter_batched(
            || (0..64).map(|_| f.next_raw_writes()).collect::<Vec<_>>(),
            |batch| {
                for writes in &batch {
                    f.raw.commit(writes);
                }
                f.raw.db.flush().unwrap();
                batch
            },
            BatchSize::SmallInput,
        );
    });
    create.finish();

    if let Some(f) = cell.get() {
        let pairs = |n| if bench_mode() { n } else { 3 };
        paired(f, "durable (1 creation + flush)", pairs(1000), 1);
        paired(f, "group commit (64 creations + flush)", pairs(60), 64);
        eprintln!(
            "after the run: {} ACME tasks in the Ponte store, {} in the raw copy",
            f.store.next_number(&key(ACME)).unwrap() - 1,
            f.next_raw_number.get() - 1
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = store_benches
}
criterion_main!(benches);
