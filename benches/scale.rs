//! How Ponte's store work scales with the number of tasks: creation,
//! transition, listing the open tasks, a digest and an SLA report on
//! stores of 1,000, 100,000 and 1,000,000 ACME tasks; and, in a fresh
//! process per store, the time to reopen it and the memory (RSS) it takes
//! to open it and do that typical work. How to run it and the figures:
//! BENCHMARKS.md.
//!
//! The stores are built once and kept under `target/ponte-scale/` (one
//! directory per size, named with [`LAYOUT`], which changes whenever what
//! is built changes), so later runs reuse them. They are written straight
//! through `Store::commit` (one commit per task holding its whole history,
//! a flush every [`BATCH`] tasks), with the same task mix as
//! `benches/store.rs`: about 3 % open, 10 % cancelled, 17 % resolved, 70 %
//! closed, a third of the finished ones with a comment, 5.6 events per
//! task. No outbox entries or request keys are written (the deliverer
//! drains the outbox; request keys are measured by `benches/store.rs`).
//!
//! Every benchmark reads ACME. The writing benchmarks (create, transition)
//! write BRIGHT tasks into the same store, so a cached store's ACME tasks
//! never change and its BRIGHT tasks grow by some hundreds per run.
//!
//! Each write is also measured against its raw baseline in the same run:
//! a plain sled transaction over the same thirteen trees writing the same
//! keys and values, then a flush, on a plain sled database holding as many
//! keys as the store (a copy of the store, made for the sizes up to
//! [`RAW_COPY_MAX`] tasks; above it the baseline runs on the 100,000-task
//! copy and says so).
//!
//! `PONTE_SCALE_TASKS=1000,100000` picks the sizes (default
//! `1000,100000,1000000` with `--bench`, `1000` when run as a test).
//! `PONTE_SCALE_REFOLD=1` also measures, on a copy of each store, the
//! one-time open of a store written before snapshots carried `Task::facts`.

#[path = "../tests/common/mod.rs"]
mod common;
mod raw;

use std::cell::Cell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use ponte::app::engine::{Engine, Op, Request};
use ponte::domain::{
    Actor, Command, Event, NewTask, Side, SideChoice, Status, Task, TaskId, Visibility, decide,
    decide_create,
};
use ponte::store::{Commit, SledStore, Store, StoreOptions, TaskFilter, TaskQuery};

use common::{ACME, BRIGHT, employee, it_tech, key, msp_engineer, routing, rules, stamp};
use raw::{Raw, TREES, Write};

/// Names the cached stores: change it when what is built changes.
const LAYOUT: &str = "v5";
/// Tasks per flush while building.
const BATCH: u64 = 20_000;
/// Up to this size a raw copy of the store is made for the baselines.
const RAW_COPY_MAX: u64 = 100_000;

const PEOPLE: u64 = 412_345_678_901_234_000;

/// The first task's creation; each next task comes 7 minutes later.
fn first_time() -> Timestamp {
    "2010-01-04T08:00:00Z".parse().unwrap()
}

/// A small deterministic hash (splitmix64).
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const TITLES: [(&str, &str); 4] = [
    (
        "The VPN drops every few minutes in the Milan office",
        "Since this morning the VPN disconnects every five minutes or so; colleagues on \
         the second floor see the same.",
    ),
    (
        "Printer on floor 3 jams on every job",
        "The big printer near the kitchen jams on every print job, even one page.",
    ),
    (
        "New laptop for the new hire starting Monday",
        "Marco Rossi starts in accounting on Monday and needs a laptop with the usual \
         finance software.",
    ),
    (
        "rete lenta in magazzino",
        "Da ieri la rete del magazzino è lentissima.",
    ),
];

/// Task `number` of ACME with its whole life, decided by the real domain
/// functions; whether it is still open.
fn task_history(number: u64) -> (Task, Vec<Event>, bool) {
    let client = key(ACME);
    let h = mix(number);
    let mut at = first_time() + SignedDuration::from_mins(7 * number as i64);
    let requester = employee(PEOPLE + 1_000 + h % 400, ACME);
    let (title, details) = TITLES[((h >> 8) % TITLES.len() as u64) as usize];
    let new = NewTask {
        title: title.into(),
        details: details.into(),
        to: SideChoice::Auto,
        due: (h % 10 == 0).then(|| at + SignedDuration::from_hours(72)),
        ..Default::default()
    };
    let id = TaskId::new(client.clone(), number);
    let kinds = decide_create(&requester, &client, &new, &routing(), at).unwrap();
    let mut events = stamp(&id, 0, kinds, at, &requester);
    let mut task = Task::fold(&events).unwrap();
    let staff = match task.handling_side {
        Side::Msp => msp_engineer(PEOPLE + 100 + (h >> 16) % 12),
        Side::Internal => it_tech(PEOPLE + 200 + (h >> 16) % 6, ACME),
    };
    let set = |to: Status, reason: Option<&str>| Command::SetStatus {
        to,
        reason: reason.map(Into::into),
    };
    let kind = (h >> 24) % 1000;
    let open = kind < 30;
    let steps: Vec<(&Actor, Command)> = match kind {
        0..30 => [
            (&staff, Command::Claim),
            (&staff, set(Status::InProgress, None)),
            (
                &staff,
                set(Status::WaitingOnRequester, Some("which asset tag?")),
            ),
        ]
        .into_iter()
        .take((kind % 4) as usize)
        .collect(),
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
                        body: "Rebooted the access point and updated its firmware; please \
                               check again."
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
        at += SignedDuration::from_mins(20);
        let kinds = decide(&task, actor, &command, &routing(), at).unwrap();
        let new = stamp(&id, task.version, kinds, at, actor);
        for e in &new {
            task.apply(e).unwrap();
        }
        events.extend(new);
    }
    (task, events, open)
}

/// What a built store holds, written beside it when it is complete.
#[derive(Clone, Copy, Debug)]
struct Built {
    tasks: u64,
    events: u64,
    open: u64,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("ponte-scale")
}

/// The store of `n` ACME tasks, built unless a complete one is cached.
fn cached_store(n: u64) -> (PathBuf, Built) {
    let dir = target_dir().join(format!("{LAYOUT}-{n}"));
    let done = dir.join("complete");
    if let Ok(text) = std::fs::read_to_string(&done) {
        let v: Vec<u64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [tasks, events, open] = v[..] {
            eprintln!("scale {n}: reusing {}", dir.display());
            return (
                dir,
                Built {
                    tasks,
                    events,
                    open,
                },
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let store = SledStore::open(&StoreOptions::new(dir.join("store"))).unwrap();
    let mut built = Built {
        tasks: 0,
        events: 0,
        open: 0,
    };
    for number in 1..=n {
        let (task, events, open) = task_history(number);
        built.tasks += 1;
        built.events += events.len() as u64;
        built.open += u64::from(open);
        store
            .commit(&Commit {
                before: None,
                after: task,
                events,
                effects: Vec::new(),
                request: None,
                lookups: Vec::new(),
            })
            .unwrap();
        if number % BATCH == 0 {
            store.flush().unwrap();
            eprintln!(
                "scale {n}: {number} tasks written, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    store.flush().unwrap();
    drop(store);
    eprintln!(
        "scale {n}: built {} tasks, {} events ({} open) in {:.1} s ({:.0} µs/task), {:.0} MiB on disk",
        built.tasks,
        built.events,
        built.open,
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1e6 / n as f64,
        dir_size(&dir.join("store")) as f64 / 1048576.0
    );
    std::fs::write(
        &done,
        format!("{} {} {}\n", built.tasks, built.events, built.open),
    )
    .unwrap();
    (dir, built)
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let meta = entry.metadata().unwrap();
            total += if meta.is_dir() {
                dir_size(&entry.path())
            } else {
                meta.len()
            };
        }
    }
    total
}

/// Opens a store whose previous handle is being dropped.
fn reopen(path: &Path) -> SledStore {
    for _ in 0..400 {
        if let Ok(store) = SledStore::open(&StoreOptions::new(path)) {
            return store;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{} stayed locked", path.display());
}

fn config() -> ponte::config::Config {
    ponte::config::Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/ponte.example.toml"
    )))
    .expect("the example configuration loads")
}

/// "Now" for a store of `n` tasks: an hour after the last one was created.
fn now_for(n: u64) -> Timestamp {
    first_time() + SignedDuration::from_mins(7 * n as i64) + SignedDuration::from_hours(1)
}

fn list_open(store: &dyn Store) -> usize {
    store
        .list(&TaskQuery {
            client: key(ACME),
            filter: TaskFilter::open(),
            after: None,
            limit: usize::MAX,
        })
        .unwrap()
        .len()
}

fn digest(store: &dyn Store, config: &ponte::config::Config, now: Timestamp) -> usize {
    let since = now - SignedDuration::from_hours(24);
    ponte::app::digests::client_digest(store, config, &key(ACME), Side::Msp, Some(since), now)
        .unwrap()
        .expect("ACME is configured")
        .open_count()
}

/// The SLA report of ACME's last 7 days.
fn sla_report(store: &dyn Store, config: &ponte::config::Config, now: Timestamp) -> usize {
    let client = config.client(&key(ACME)).expect("ACME is configured");
    let to: Date = client.calendar.tz().to_datetime(now).date();
    let from = to.checked_sub(jiff::Span::new().days(6)).unwrap();
    let report = ponte::app::report::client_report(store, client, from, to, now).unwrap();
    ponte::app::report::rows(&report).len()
}

// ---------------------------------------------------------------------------
// Reopen and memory: a fresh process per store.

const CHILD: &str = "PONTE_SCALE_CHILD";

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: open the store, then the digest, the report and a listing
/// of every open task at once; print one line of figures: each step's
/// time, the RSS after it and the peak (VmHWM) by its end. The listing
/// comes last because it holds every open task at once, which the bot never
/// does (it lists a page at a time), so it does not hide the others' peaks.
fn child(dir: &str, n: u64) {
    // As `ponte`'s `main` does.
    let _ = ponte::ops::heap::return_freed_memory();
    let config = config();
    let now = now_for(n);
    let rss_start = proc_status_kib("VmRSS:");
    let step = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        (ms, proc_status_kib("VmRSS:"), proc_status_kib("VmHWM:"))
    };
    let mut store = None;
    let (open, rss_open, peak_open) = step(&mut || {
        store = Some(SledStore::open(&StoreOptions::new(Path::new(dir).join("store"))).unwrap());
    });
    let store = store.unwrap();
    let (dig, rss_digest, peak_digest) = step(&mut || {
        digest(&store, &config, now);
    });
    let (report, rss_report, peak_report) = step(&mut || {
        sla_report(&store, &config, now);
    });
    let mut listed = 0;
    let (list, rss_list, peak_list) = step(&mut || listed = list_open(&store));
    println!(
        "CHILD open_ms={open:.1} digest_ms={dig:.1} report_ms={report:.1} list_ms={list:.1} \
         listed={listed} rss_start_kib={rss_start} rss_open_kib={rss_open} \
         rss_after_digest_kib={rss_digest} rss_after_report_kib={rss_report} \
         rss_after_list_kib={rss_list} peak_open_kib={peak_open} \
         peak_digest_kib={peak_digest} peak_report_kib={peak_report} peak_list_kib={peak_list}",
    );
}

fn measure_in_child(dir: &Path, n: u64, built: Built) {
    for run in 0..3 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD, dir)
            .env("PONTE_SCALE_N", n.to_string())
            .output()
            .expect("the bench runs itself as a child");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("CHILD "))
            .unwrap_or("CHILD failed");
        eprintln!(
            "scale {n} (fresh process, run {}): {} tasks, {} events: {line}",
            run + 1,
            built.tasks,
            built.events
        );
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

// ---------------------------------------------------------------------------
// Writes and their raw baseline.

/// The raw baseline on the copy at `path`: one transaction with the same
/// bytes as the store's, then a flush.
fn raw_durable(raw: &Raw, writes: &[Write]) {
    raw.commit(writes);
    raw.db.flush().unwrap();
}

fn open_raw(path: &Path) -> Raw {
    Raw::new(
        sled::Config::new()
            .path(path)
            .cache_capacity(StoreOptions::DEFAULT_CACHE_CAPACITY_BYTES)
            .open()
            .unwrap(),
    )
}

/// What a change wrote, read back from the store by the difference of
/// every tree before and after: the baseline writes the same bytes.
fn snapshot_trees(path: &Path) -> Vec<std::collections::BTreeMap<Vec<u8>, Vec<u8>>> {
    let db = sled::open(path).unwrap();
    TREES
        .iter()
        .map(|name| common::tree_contents(&db, name))
        .collect()
}

/// The inserts of one creation and of one transition, measured on a small
/// store through the real engine: (tree, key, value) of every key that is
/// new or changed.
fn write_sets(dir: &Path) -> (Vec<Write>, Vec<Write>) {
    let path = dir.join("write-sets");
    let _ = std::fs::remove_dir_all(&path);
    let now = first_time();
    let diff = |before: &[std::collections::BTreeMap<Vec<u8>, Vec<u8>>],
                after: &[std::collections::BTreeMap<Vec<u8>, Vec<u8>>]| {
        let mut out = Vec::new();
        for (i, (b, a)) in before.iter().zip(after).enumerate() {
            for (k, v) in a {
                if b.get(k) != Some(v) {
                    out.push((i, k.clone(), v.clone()));
                }
            }
        }
        out
    };
    let empty = {
        drop(reopen(&path));
        std::thread::sleep(Duration::from_millis(100));
        snapshot_trees(&path)
    };
    let created = {
        let store = Arc::new(reopen(&path));
        let engine = Engine::new(store.clone(), rules());
        let outcome = engine.execute(&creation(1), now).unwrap();
        store.flush().unwrap();
        outcome
    };
    std::thread::sleep(Duration::from_millis(100));
    let after_create = snapshot_trees(&path);
    {
        let store = Arc::new(reopen(&path));
        let engine = Engine::new(store.clone(), rules());
        engine
            .execute(&transition(&created.task.id, 0, 2), now)
            .unwrap();
        store.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let after_change = snapshot_trees(&path);
    let _ = std::fs::remove_dir_all(&path);
    (
        diff(&empty, &after_create),
        diff(&after_create, &after_change),
    )
}

fn creation(interaction: u64) -> Request {
    let alice = employee(PEOPLE + 1_001, BRIGHT);
    Request::by(
        alice,
        Op::Create {
            client: key(BRIGHT),
            new: NewTask {
                title: "The VPN drops every few minutes in the Milan office".into(),
                details: "Since this morning the VPN disconnects every five minutes.".into(),
                to: SideChoice::Auto,
                ..Default::default()
            },
        },
    )
    .with_key(format!("{}", 1_400_000_000_000_000_000u64 + interaction))
}

/// The `i`-th transition of a task: a comment (any state, any number of
/// times: a change that is a new event, a new snapshot, a moved change
/// index entry).
fn transition(task: &TaskId, i: u64, interaction: u64) -> Request {
    Request::by(
        msp_engineer(PEOPLE + 100),
        Op::Change {
            task: task.clone(),
            command: Command::Comment {
                body: format!("Checked the tunnel logs again ({i})."),
                visibility: Visibility::Shared,
            },
        },
    )
    .with_key(format!("{}", 1_500_000_000_000_000_000u64 + interaction))
}

// ---------------------------------------------------------------------------

fn sizes() -> Vec<u64> {
    let bench = std::env::args().any(|a| a == "--bench");
    std::env::var("PONTE_SCALE_TASKS")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().parse().expect("PONTE_SCALE_TASKS: numbers"))
                .collect()
        })
        .unwrap_or(if bench {
            vec![1_000, 100_000, 1_000_000]
        } else {
            vec![1_000]
        })
}

fn scale_benches(c: &mut Criterion) {
    let config = config();
    let mut raw_copy: Option<(u64, PathBuf)> = None;
    let mut group = c.benchmark_group("scale");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let interaction = Cell::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            * 1000,
    );
    let next = || {
        interaction.set(interaction.get() + 1);
        interaction.get()
    };
    let (create_writes, change_writes) = write_sets(&target_dir());
    for (what, writes) in [("creation", &create_writes), ("transition", &change_writes)] {
        let each: Vec<String> = writes
            .iter()
            .map(|(t, k, v)| format!("{} {}+{}", TREES[*t], k.len(), v.len()))
            .collect();
        eprintln!(
            "raw baseline of a {what}: {} inserts, {} bytes: {}",
            writes.len(),
            writes
                .iter()
                .map(|(_, k, v)| k.len() + v.len())
                .sum::<usize>(),
            each.join(", ")
        );
    }
    for n in sizes() {
        let (dir, built) = cached_store(n);
        std::thread::sleep(Duration::from_millis(300));
        measure_in_child(&dir, n, built);
        if std::env::var_os("PONTE_SCALE_REFOLD").is_some() {
            measure_refold(&dir.join("store"), n);
        }
        let store = Arc::new(reopen(&dir.join("store")));
        let engine = Engine::new(store.clone(), rules());
        let now = now_for(n);
        eprintln!(
            "scale {n}: ACME open {}, digest lists {} open",
            list_open(&*store),
            digest(&*store, &config, now)
        );
        group.bench_function(BenchmarkId::new("list_open", n), |b| {
            b.iter(|| black_box(list_open(&*store)))
        });
        group.bench_function(BenchmarkId::new("digest_msp", n), |b| {
            b.iter(|| black_box(digest(&*store, &config, now)))
        });
        group.bench_function(BenchmarkId::new("sla_report_7_days", n), |b| {
            b.iter(|| black_box(sla_report(&*store, &config, now)))
        });
        group.bench_function(BenchmarkId::new("create_durable", n), |b| {
            b.iter(|| {
                let outcome = engine.execute(&creation(next()), now).unwrap();
                store.flush().unwrap();
                black_box(outcome)
            })
        });
        let task = engine.execute(&creation(next()), now).unwrap().task.id;
        let count = Cell::new(0u64);
        group.bench_function(BenchmarkId::new("transition_durable", n), |b| {
            b.iter(|| {
                count.set(count.get() + 1);
                let outcome = engine
                    .execute(&transition(&task, count.get(), next()), now)
                    .unwrap();
                store.flush().unwrap();
                black_box(outcome)
            })
        });
        drop(engine);
        drop(store);
        // The raw baseline, on a copy of this store (or the largest copy).
        if n <= RAW_COPY_MAX {
            let copy = target_dir().join(format!("raw-{n}"));
            let _ = std::fs::remove_dir_all(&copy);
            std::thread::sleep(Duration::from_millis(300));
            copy_dir(&dir.join("store"), &copy);
            raw_copy = Some((n, copy));
        }
        if let Some((copied, path)) = &raw_copy {
            let raw = open_raw(path);
            let label = |what: &str| {
                if *copied == n {
                    BenchmarkId::new(what, n)
                } else {
                    BenchmarkId::new(format!("{what}_on_{copied}_copy"), n)
                }
            };
            let numbered = Cell::new(1_000_000_000u64);
            group.bench_function(label("raw_sled_create_durable"), |b| {
                b.iter(|| {
                    numbered.set(numbered.get() + 1);
                    raw_durable(&raw, &renumber(&create_writes, numbered.get()));
                })
            });
            group.bench_function(label("raw_sled_transition_durable"), |b| {
                b.iter(|| {
                    numbered.set(numbered.get() + 1);
                    raw_durable(&raw, &renumber(&change_writes, numbered.get()));
                })
            });
        }
    }
    group.finish();
    if let Some((_, path)) = raw_copy {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// The same inserts with every key made unique (its last 8 bytes replaced
/// for the keys that end with a task number or id), so each baseline
/// transaction inserts new keys as a creation does.
fn renumber(writes: &[Write], n: u64) -> Vec<Write> {
    writes
        .iter()
        .map(|(t, k, v)| {
            let mut k = k.clone();
            // History chunks end with number and chunk; the other task keys
            // with the number; outbox ids are numbers; request keys are
            // replaced at their end too (still unique).
            let end = if TREES[*t] == "history" { 4 } else { 0 };
            if TREES[*t] != "meta" && TREES[*t] != "counters" && k.len() >= 8 + end {
                let at = k.len() - 8 - end;
                k[at..at + 8].copy_from_slice(&n.to_be_bytes());
            }
            (*t, k, v.clone())
        })
        .collect()
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

fn main() {
    if let Ok(dir) = std::env::var(CHILD) {
        let n = std::env::var("PONTE_SCALE_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        child(&dir, n);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    scale_benches(&mut c);
    c.final_summary();
}

/// `PONTE_SCALE_REFOLD=1`: the one-time cost of opening a store written
/// before snapshots carried `Task::facts` (and before `store::codec`). A
/// copy of the store has every snapshot rewritten as JSON without `facts`,
/// and its `snapshot_facts_v1` and `snapshot_codec_v1` markers removed, as
/// an older version left it; opening it re-encodes every snapshot and folds
/// it again from its events (printed: how long the open took, and a second
/// open, which does nothing more).
fn measure_refold(store_dir: &Path, n: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("store");
    copy_dir(store_dir, &copy);
    {
        let db = sled::open(&copy).unwrap();
        for name in ["tasks", "open_tasks"] {
            let tree = db.open_tree(name).unwrap();
            let mut batch = sled::Batch::default();
            for item in tree.iter() {
                let (key, raw) = item.unwrap();
                let task = ponte::store::codec::decode_snapshot(&raw).unwrap();
                let mut json = serde_json::to_value(&task).unwrap();
                json.as_object_mut().unwrap().remove("facts");
                batch.insert(key, serde_json::to_vec(&json).unwrap());
            }
            tree.apply_batch(batch).unwrap();
        }
        let meta = db.open_tree("meta").unwrap();
        meta.remove("snapshot_facts_v1").unwrap();
        meta.remove("snapshot_codec_v1").unwrap();
        db.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let store = reopen(&copy);
    let first = started.elapsed();
    drop(store);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let store = reopen(&copy);
    let second = started.elapsed();
    eprintln!(
        "scale {n}: opening a store written before the snapshot facts (every snapshot folded again): {first:.2?}; the next open: {second:.2?}"
    );
    drop(store);
}
