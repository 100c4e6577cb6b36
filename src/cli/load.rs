//! `ponte load`: the emulator and the real bot (serenity, engine, sled store,
//! outbox) in one process, driven by simulated people sending `/request`
//! commands, clicking Claim on the cards and mentioning the bot, at a set
//! rate or as fast as a set concurrency allows. It reports throughput,
//! latency from dispatch to the bot's answer, messages, store bytes per task,
//! memory and CPU time ([`Report`]).
//!
//! With `baseline`, the same run against [`crate::discord::echo::Echo`]: the
//! same emulator and serenity client answering at once, with no Ponte.
//!
//! Latencies are measured by the emulator itself ([`Observed`]): from the
//! dispatch of INTERACTION_CREATE to the interaction callback, and from a
//! mention's MESSAGE_CREATE to the bot's reply. Memory and CPU time are the
//! whole process's: the emulator and the driver are in them (compare with the
//! baseline).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;

use crate::app::clock::SystemClock;
use crate::config::Config;
use crate::discord::echo::Echo;
use crate::emulator::{Emulator, MemberSpec, Observed, UserSpec, opt};
use crate::run::{Connect, Running, start};
use crate::sandbox::cast;
use crate::store::{SledStore, Store, StoreOptions};

/// How long starting up (connecting, registering commands) may take.
const STARTUP: Duration = Duration::from_secs(60);
/// An operation behind its schedule by more than this counts as late.
const LATE: Duration = Duration::from_millis(10);
/// Generated people's user ids start here.
const FIRST_GENERATED_ID: u64 = 7_000_000;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many people send requests and mentions (the demo's two requesters
    /// plus generated employees, half at each client).
    pub people: usize,
    /// Operations started per second; `None`: as fast as `concurrency` allows.
    pub rate: Option<f64>,
    /// Operations in flight at most.
    pub concurrency: usize,
    /// Stop after this many operations...
    pub requests: Option<u64>,
    /// ...or after this long (whichever comes first; at least one is needed).
    pub duration: Option<Duration>,
    pub mix: Mix,
    /// Against the echo bot instead of Ponte.
    pub baseline: bool,
    /// Ponte's data directory (default: a fresh temporary one).
    pub data_dir: Option<PathBuf>,
    /// How long one operation waits for its answer before it counts as lost.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            people: 50,
            rate: None,
            concurrency: 16,
            requests: Some(1000),
            duration: None,
            mix: Mix::default(),
            baseline: false,
            data_dir: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The share of each operation, as weights: `requests:claims:mentions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub requests: u32,
    pub claims: u32,
    pub mentions: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            requests: 7,
            claims: 2,
            mentions: 1,
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let [r, c, m] = parts.as_slice() else {
            return Err(format!(
                "{s:?}: expected three weights requests:claims:mentions, like 7:2:1"
            ));
        };
        let weight = |w: &str| {
            w.trim()
                .parse::<u32>()
                .map_err(|_| format!("{w:?} is not a whole number"))
        };
        let mix = Mix {
            requests: weight(r)?,
            claims: weight(c)?,
            mentions: weight(m)?,
        };
        if mix.requests + mix.claims + mix.mentions == 0 {
            return Err("at least one weight must be above 0".into());
        }
        Ok(mix)
    }
}

impl Mix {
    /// The kind of the `i`-th operation: the weights spread evenly.
    fn pick(&self, i: u64) -> Op {
        let total = u64::from(self.requests + self.claims + self.mentions);
        let slot = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16) % total;
        if slot < u64::from(self.requests) {
            Op::Request
        } else if slot < u64::from(self.requests + self.claims) {
            Op::Claim
        } else {
            Op::Mention
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Request,
    Claim,
    Mention,
}

impl Op {
    fn index(self) -> usize {
        self as usize
    }

    const ALL: [Op; 3] = [Op::Request, Op::Claim, Op::Mention];

    fn name(self) -> &'static str {
        match self {
            Op::Request => "request",
            Op::Claim => "claim",
            Op::Mention => "mention",
        }
    }
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("give --requests or --duration (or both)")]
    NoEnd,
    #[error("--concurrency and --people must be at least 1")]
    Empty,
    #[error("--rate must be a positive number")]
    BadRate,
    #[error("the demo configuration is broken: {0}")]
    Config(String),
    #[error("cannot start the emulator: {0}")]
    Emulator(std::io::Error),
    #[error("cannot start the bot: {0}")]
    Start(#[from] crate::run::StartError),
    #[error("{0}")]
    Setup(String),
}

/// Latency figures, in milliseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Exact percentiles (nearest rank) of `samples`.
    pub fn of(samples: &mut [Duration]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let rank = |p: f64| {
            let n = samples.len();
            let r = ((p * n as f64).ceil() as usize).clamp(1, n);
            ms(samples[r - 1])
        };
        let sum: Duration = samples.iter().sum();
        Latency {
            count: samples.len(),
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: ms(samples[samples.len() - 1]),
            mean_ms: ms(sum) / samples.len() as f64,
        }
    }
}

/// The figures of one kind of operation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KindReport {
    pub kind: &'static str,
    /// Answered.
    pub answered: u64,
    /// Not answered within the timeout.
    pub lost: u64,
    /// Refused by the emulator before reaching the bot (e.g. a Claim
    /// button that was gone by the time it was clicked).
    pub refused: u64,
    pub latency: Latency,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// `ponte` or `baseline`.
    pub mode: &'static str,
    pub people: usize,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub mix: Mix,
    pub elapsed_s: f64,
    /// Operations answered.
    pub answered: u64,
    /// Answered per second of the run.
    pub per_second: f64,
    /// Claims planned while no card was waiting, done as requests instead.
    pub claims_done_as_requests: u64,
    /// Operations started more than 10 ms after their time (with `rate`).
    pub late_starts: u64,
    /// Interactions first answered with "thinking..." (deferred).
    pub deferred: u64,
    pub kinds: Vec<KindReport>,
    pub all: Latency,
    /// Messages the bot created (answers, cards, replies, follow-ups).
    pub bot_messages: u64,
    /// Tasks in the store at the end (0 for the baseline).
    pub tasks: u64,
    /// REST requests the bot made during the load and the outbox drain
    /// (answers included).
    pub rest_calls: u64,
    /// Of those, answered 429 (rate limited) and tried again.
    pub rest_limited: u64,
    /// The data directory's size at the end, after the bot stopped.
    pub store_bytes: u64,
    pub store_bytes_per_task: Option<f64>,
    /// Requests Discord would have refused.
    pub violations: usize,
    /// Resident memory once connected, before the load (VmRSS).
    pub rss_idle_kib: Option<u64>,
    /// Peak resident memory of the process (VmHWM).
    pub rss_peak_kib: Option<u64>,
    /// CPU time of the whole process during the load.
    pub cpu_user_s: Option<f64>,
    pub cpu_system_s: Option<f64>,
}

/// Who clicks Claim on a card posted in this channel, if anybody. A task's
/// card (with its Claim button) is in the client's requests channel: Sara
/// (Acme's IT technician) claims there, Mike (the MSP engineer in
/// Brightline's server) at Brightline. Whoever is not the task's side is
/// refused, with an answer: both are answered interactions.
fn claimer_for(channel: u64) -> Option<u64> {
    match channel {
        cast::ACME_REQUESTS => Some(9003),
        cast::BRIGHT_REQUESTS => Some(9021),
        cast::ACME_IT => Some(9003),
        cast::BRIGHT_IT => Some(9013),
        cast::BRIGHT_MSP => Some(9021),
        cast::MSP_ACME => Some(9022),
        cast::MSP_QUEUE => Some(9023),
        _ => None,
    }
}

/// Someone who asks.
#[derive(Clone, Copy, Debug)]
struct Asker {
    id: u64,
    channel: u64,
    italian: bool,
}

/// The demo world plus `people - 2` generated employees, half at each client.
fn world_and_people(people: usize) -> (crate::emulator::World, Vec<Asker>) {
    let mut world = cast::world();
    let mut askers = vec![
        Asker {
            id: 9001,
            channel: cast::ACME_REQUESTS,
            italian: true,
        },
        Asker {
            id: 9011,
            channel: cast::BRIGHT_REQUESTS,
            italian: false,
        },
    ];
    for n in 0..people.saturating_sub(askers.len()) {
        let id = FIRST_GENERATED_ID + n as u64;
        let acme = n % 2 == 0;
        let (guild, channel, locale) = if acme {
            (cast::ACME_GUILD, cast::ACME_REQUESTS, "it")
        } else {
            (cast::BRIGHT_GUILD, cast::BRIGHT_REQUESTS, "en-GB")
        };
        world.users.push(UserSpec {
            id,
            name: format!("person{n}"),
            locale: locale.to_string(),
            bot: false,
        });
        if let Some(g) = world.guilds.iter_mut().find(|g| g.id == guild) {
            g.members.push(MemberSpec {
                user_id: id,
                nick: None,
                roles: Vec::new(),
            });
        }
        askers.push(Asker {
            id,
            channel,
            italian: acme,
        });
    }
    askers.truncate(people.max(1));
    (world, askers)
}

const TITLES_EN: &[&str] = &[
    "The VPN is down at the Leeds depot",
    "Printer on floor 2 is jammed",
    "New laptop for the warehouse manager",
    "Cannot log in to the payroll portal",
    "The Wi-Fi in meeting room B drops every hour",
    "Restore the shared folder deleted yesterday",
];
const TITLES_IT: &[&str] = &[
    "La VPN non funziona in filiale",
    "La stampante del secondo piano è inceppata",
    "Nuovo portatile per il magazzino",
    "Non riesco ad accedere al portale paghe",
    "Il Wi-Fi della sala riunioni cade ogni ora",
    "Ripristinare la cartella condivisa cancellata ieri",
];
const MENTIONS_EN: &[&str] = &[
    "the printer in accounts prints blank pages, urgent",
    "can someone reset my password for the CRM?",
];
const MENTIONS_IT: &[&str] = &[
    "la stampante della contabilità stampa pagine bianche, urgente",
    "qualcuno può reimpostare la mia password del CRM?",
];

/// What the driver and the emulator's observer share.
#[derive(Default)]
struct Tracker {
    waiting: HashMap<Key, oneshot::Sender<Duration>>,
    /// Answers that came before their operation started waiting.
    early: HashMap<Key, Duration>,
    /// When each person's message was created, until the bot replies.
    posted: HashMap<u64, Instant>,
    /// Cards with a Claim button, not clicked yet: (message, channel).
    claimable: VecDeque<(u64, u64)>,
    bot_messages: u64,
    deferred: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Callback(u64),
    Reply(u64),
}

impl Tracker {
    fn answered(&mut self, key: Key, after: Duration) {
        match self.waiting.remove(&key) {
            Some(tx) => {
                let _ = tx.send(after);
            }
            None => {
                self.early.insert(key, after);
            }
        }
    }

    fn wait(&mut self, key: Key) -> oneshot::Receiver<Duration> {
        let (tx, rx) = oneshot::channel();
        match self.early.remove(&key) {
            Some(after) => {
                let _ = tx.send(after);
            }
            None => {
                self.waiting.insert(key, tx);
            }
        }
        rx
    }

    fn forget(&mut self, key: Key) {
        self.waiting.remove(&key);
    }

    fn observed(&mut self, event: &Observed, bot: u64) {
        match event {
            Observed::Callback {
                interaction,
                kind,
                after,
            } => {
                if *kind == 5 {
                    self.deferred += 1;
                }
                self.answered(Key::Callback(*interaction), *after);
            }
            Observed::Message {
                id,
                channel,
                author,
                reply_to,
                buttons,
                at,
            } => {
                if *author != bot {
                    self.posted.insert(*id, *at);
                    return;
                }
                self.bot_messages += 1;
                if let Some(posted) = reply_to.and_then(|r| self.posted.remove(&r)) {
                    let after = at.saturating_duration_since(posted);
                    self.answered(Key::Reply(reply_to.unwrap_or_default()), after);
                }
                if buttons.iter().any(|b| b == "Claim") && claimer_for(*channel).is_some() {
                    self.claimable.push_back((*id, *channel));
                }
            }
        }
    }
}

fn lock(tracker: &Mutex<Tracker>) -> MutexGuard<'_, Tracker> {
    tracker.lock().unwrap_or_else(|p| p.into_inner())
}

/// What one operation came to.
enum Outcome {
    Answered(Duration),
    Lost,
    Refused,
}

struct Driver {
    emulator: Emulator,
    tracker: Arc<Mutex<Tracker>>,
    askers: Vec<Asker>,
    options: Options,
    next: AtomicU64,
    late: AtomicU64,
    claims_as_requests: AtomicU64,
    results: Mutex<[(Vec<Duration>, u64, u64); 3]>,
}

impl Driver {
    async fn worker(self: Arc<Self>, start: Instant, end: Option<Instant>) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if self.options.requests.is_some_and(|n| i >= n) {
                return;
            }
            if let Some(rate) = self.options.rate {
                let at = start + Duration::from_secs_f64(i as f64 / rate);
                let now = Instant::now();
                if at > now {
                    tokio::time::sleep_until(at.into()).await;
                } else if now - at > LATE {
                    self.late.fetch_add(1, Ordering::Relaxed);
                }
            }
            if end.is_some_and(|end| Instant::now() >= end) {
                return;
            }
            let (op, outcome) = self.one(i).await;
            let mut results = self.results.lock().unwrap_or_else(|p| p.into_inner());
            let entry = &mut results[op.index()];
            match outcome {
                Outcome::Answered(d) => entry.0.push(d),
                Outcome::Lost => entry.1 += 1,
                Outcome::Refused => entry.2 += 1,
            }
        }
    }

    async fn one(&self, i: u64) -> (Op, Outcome) {
        let asker = self.askers[(i as usize) % self.askers.len()];
        let mut op = self.options.mix.pick(i);
        let mut card = None;
        if op == Op::Claim {
            card = lock(&self.tracker).claimable.pop_front();
            if card.is_none() {
                self.claims_as_requests.fetch_add(1, Ordering::Relaxed);
                op = Op::Request;
            }
        }
        let key = match (op, card) {
            (Op::Claim, Some((message, channel))) => {
                let user = claimer_for(channel).unwrap_or(9023);
                match self.emulator.click(user, message, "Claim") {
                    Ok(handle) => Key::Callback(handle.id()),
                    Err(_) => return (op, Outcome::Refused),
                }
            }
            (Op::Mention, _) => {
                let texts = if asker.italian {
                    MENTIONS_IT
                } else {
                    MENTIONS_EN
                };
                let text = format!(
                    "<@{}> {}",
                    self.emulator.bot_id(),
                    texts[(i as usize) % texts.len()]
                );
                match self.emulator.post(asker.id, asker.channel, &text) {
                    Ok(message) => Key::Reply(message.id),
                    Err(_) => return (op, Outcome::Refused),
                }
            }
            _ => {
                let titles = if asker.italian { TITLES_IT } else { TITLES_EN };
                let title = format!("{} ({i})", titles[(i as usize) % titles.len()]);
                match self.emulator.slash(
                    asker.id,
                    asker.channel,
                    "request",
                    vec![opt("title", title.as_str())],
                ) {
                    Ok(handle) => Key::Callback(handle.id()),
                    Err(_) => return (op, Outcome::Refused),
                }
            }
        };
        let rx = lock(&self.tracker).wait(key);
        match tokio::time::timeout(self.options.timeout, rx).await {
            Ok(Ok(after)) => (op, Outcome::Answered(after)),
            _ => {
                lock(&self.tracker).forget(key);
                (op, Outcome::Lost)
            }
        }
    }
}

/// The bot under load: Ponte or the echo baseline.
enum Bot {
    Ponte(Box<Running<SledStore>>),
    Echo(Echo),
}

/// Runs the load and reports.
pub async fn run(options: Options) -> Result<Report, LoadError> {
    if options.requests.is_none() && options.duration.is_none() {
        return Err(LoadError::NoEnd);
    }
    if options.concurrency == 0 || options.people == 0 {
        return Err(LoadError::Empty);
    }
    if options.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(LoadError::BadRate);
    }
    let (world, askers) = world_and_people(options.people);
    let emulator = Emulator::start(world).await.map_err(LoadError::Emulator)?;
    let tracker = Arc::new(Mutex::new(Tracker::default()));
    {
        let tracker = tracker.clone();
        let bot = emulator.bot_id();
        emulator.observe(move |event| lock(&tracker).observed(event, bot));
    }
    let (data_dir, _temp) = match &options.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("ponte-load-")
                .tempdir()
                .map_err(|e| LoadError::Setup(format!("cannot make a data directory: {e}")))?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let guilds = vec![cast::ACME_GUILD, cast::BRIGHT_GUILD, cast::MSP_GUILD];
    let bot = if options.baseline {
        Bot::Echo(Echo::start(emulator.http_builder(), guilds.clone()).await?)
    } else {
        let config = Config::from_toml_str(cast::CONFIG, "ponte.example.toml")
            .map_err(|e| LoadError::Config(e.to_string()))?;
        let store = open_store(&data_dir).await?;
        let running = start(
            Arc::new(config),
            Arc::new(store),
            Connect::Http(emulator.http_builder()),
            Arc::new(SystemClock),
        )
        .await?;
        Bot::Ponte(Box::new(running))
    };
    let setup = |e: crate::emulator::EmuError| LoadError::Setup(e.to_string());
    emulator
        .wait_until_connected(STARTUP)
        .await
        .map_err(setup)?;
    for guild in &guilds {
        emulator
            .wait_for_commands(Some(*guild), STARTUP)
            .await
            .map_err(setup)?;
    }
    let rss_idle_kib = proc_status_kib("VmRSS");
    let cpu_before = cpu_times();
    let rest_before = emulator.rest_requests();
    let limited_before = emulator.rest_limited();

    let driver = Arc::new(Driver {
        emulator: emulator.clone(),
        tracker: tracker.clone(),
        askers,
        options: options.clone(),
        next: AtomicU64::new(0),
        late: AtomicU64::new(0),
        claims_as_requests: AtomicU64::new(0),
        results: Mutex::new(Default::default()),
    });
    let start_at = Instant::now();
    let end = options.duration.map(|d| start_at + d);
    let workers: Vec<_> = (0..options.concurrency)
        .map(|_| tokio::spawn(driver.clone().worker(start_at, end)))
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = start_at.elapsed();
    let cpu_after = cpu_times();

    // Let the outbox deliver what the load left (cards, threads), then stop
    // the bot so that the store is closed before it is measured.
    let tasks = match bot {
        Bot::Ponte(running) => {
            let store = running.bot.ledger.store().clone();
            settle_outbox(&store).await;
            let tasks = tokio::task::spawn_blocking(move || store.task_count().unwrap_or(0))
                .await
                .unwrap_or(0);
            running.stop().await;
            tasks
        }
        Bot::Echo(echo) => {
            echo.stop().await;
            0
        }
    };
    let store_bytes = if options.baseline {
        0
    } else {
        dir_size(&data_dir)
    };
    let violations = emulator.violations().len();
    emulator.shutdown();

    let rest_calls = emulator.rest_requests().saturating_sub(rest_before);
    let rest_limited = emulator.rest_limited().saturating_sub(limited_before);
    let (bot_messages, deferred) = {
        let t = lock(&tracker);
        (t.bot_messages, t.deferred)
    };
    let results = driver
        .results
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut everything = Vec::new();
    let mut kinds = Vec::new();
    for op in Op::ALL {
        let (mut samples, lost, refused) = results[op.index()].clone();
        everything.extend_from_slice(&samples);
        kinds.push(KindReport {
            kind: op.name(),
            answered: samples.len() as u64,
            lost,
            refused,
            latency: Latency::of(&mut samples),
        });
    }
    let answered = everything.len() as u64;
    let secs = elapsed.as_secs_f64();
    Ok(Report {
        mode: if options.baseline {
            "baseline"
        } else {
            "ponte"
        },
        people: driver.askers.len(),
        concurrency: options.concurrency,
        rate: options.rate,
        mix: options.mix,
        elapsed_s: secs,
        answered,
        per_second: if secs > 0.0 {
            answered as f64 / secs
        } else {
            0.0
        },
        claims_done_as_requests: driver.claims_as_requests.load(Ordering::Relaxed),
        late_starts: driver.late.load(Ordering::Relaxed),
        deferred,
        kinds,
        all: Latency::of(&mut everything),
        bot_messages,
        tasks,
        rest_calls,
        rest_limited,
        store_bytes,
        store_bytes_per_task: (tasks > 0).then(|| store_bytes as f64 / tasks as f64),
        violations,
        rss_idle_kib,
        rss_peak_kib: proc_status_kib("VmHWM"),
        cpu_user_s: cpu_before.zip(cpu_after).map(|(b, a)| a.0 - b.0),
        cpu_system_s: cpu_before.zip(cpu_after).map(|(b, a)| a.1 - b.1),
    })
}

async fn open_store(dir: &Path) -> Result<SledStore, LoadError> {
    let options = StoreOptions::new(dir);
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || SledStore::open(&options))
        .await
        .map_err(|e| LoadError::Setup(e.to_string()))?
        .map_err(|e| LoadError::Setup(format!("cannot open the store at {shown}: {e}")))
}

/// Waits (up to five minutes) until the outbox is empty: deliveries are
/// paced below Discord's global limit (`discord::chat::DELIVERIES_PER_SECOND`),
/// so a burst of thousands of tasks takes a minute or more to post.
pub(crate) async fn settle_outbox(store: &Arc<SledStore>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let s = store.clone();
        let left = tokio::task::spawn_blocking(move || s.outbox_len().unwrap_or(0))
            .await
            .unwrap_or(0);
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// A `kB` line of `/proc/self/status` (Linux only; `None` elsewhere).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The process's user and system CPU time in seconds, from `/proc/self/stat`
/// (counted in clock ticks of 1/100 s, Linux's `USER_HZ` on every common
/// architecture).
pub fn cpu_times() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count from after its ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file are the 12th and 13th after the name.
    let ticks = |n: usize| fields.get(n)?.parse::<f64>().ok();
    Some((ticks(11)? / 100.0, ticks(12)? / 100.0))
}

impl Report {
    /// The report as a table, for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let rate = self
            .rate
            .map_or("as fast as possible".to_string(), |r| format!("{r}/s"));
        let _ = writeln!(
            out,
            "{} · {} people · concurrency {} · rate {} · mix {}:{}:{}",
            self.mode,
            self.people,
            self.concurrency,
            rate,
            self.mix.requests,
            self.mix.claims,
            self.mix.mentions
        );
        let _ = writeln!(
            out,
            "{} answered in {:.2} s: {:.1} per second",
            self.answered, self.elapsed_s, self.per_second
        );
        let _ = writeln!(
            out,
            "\n{:<9} {:>8} {:>6} {:>8} {:>9} {:>9} {:>9} {:>9}",
            "kind", "answered", "lost", "refused", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        let row =
            |out: &mut String, name: &str, answered: u64, lost: u64, refused: u64, l: &Latency| {
                let _ = writeln!(
                    out,
                    "{:<9} {:>8} {:>6} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                    name, answered, lost, refused, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
                );
            };
        for k in &self.kinds {
            row(&mut out, k.kind, k.answered, k.lost, k.refused, &k.latency);
        }
        let lost: u64 = self.kinds.iter().map(|k| k.lost).sum();
        let refused: u64 = self.kinds.iter().map(|k| k.refused).sum();
        row(&mut out, "all", self.answered, lost, refused, &self.all);
        let _ = writeln!(out);
        let mut line = |k: &str, v: String| {
            let _ = writeln!(out, "{k:<28} {v}");
        };
        line(
            "claims done as requests",
            self.claims_done_as_requests.to_string(),
        );
        line("late starts (>10 ms)", self.late_starts.to_string());
        line("deferred answers", self.deferred.to_string());
        line("messages by the bot", self.bot_messages.to_string());
        line("tasks in the store", self.tasks.to_string());
        line(
            "REST calls",
            format!(
                "{}{}",
                self.rest_calls,
                if self.tasks > 0 {
                    format!(
                        ", {:.1} per task (answers included); {} answered 429",
                        self.rest_calls as f64 / self.tasks as f64,
                        self.rest_limited
                    )
                } else {
                    format!("; {} answered 429", self.rest_limited)
                }
            ),
        );
        line(
            "store on disk",
            format!(
                "{:.1} MiB{}",
                self.store_bytes as f64 / 1_048_576.0,
                self.store_bytes_per_task
                    .map_or(String::new(), |b| format!(", {:.0} B per task", b))
            ),
        );
        line("violations", self.violations.to_string());
        let mib =
            |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        line("memory idle (VmRSS)", mib(self.rss_idle_kib));
        line("memory peak (VmHWM)", mib(self.rss_peak_kib));
        let secs = |s: Option<f64>| s.map_or("?".into(), |s| format!("{s:.2} s"));
        line(
            "CPU during the load",
            format!(
                "user {}, system {}",
                secs(self.cpu_user_s),
                secs(self.cpu_system_s)
            ),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        samples.reverse();
        let l = Latency::of(&mut samples);
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p90_ms, 90.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(l.mean_ms, 50.5);
        assert_eq!(Latency::of(&mut []), Latency::default());
    }

    #[test]
    fn mix_parses_and_spreads_by_weight() {
        assert_eq!(
            "7:2:1".parse::<Mix>(),
            Ok(Mix {
                requests: 7,
                claims: 2,
                mentions: 1
            })
        );
        assert!("7:2".parse::<Mix>().is_err());
        assert!("0:0:0".parse::<Mix>().is_err());
        assert!("a:1:1".parse::<Mix>().is_err());
        let mix = Mix::default();
        let mut counts = [0u32; 3];
        for i in 0..10_000 {
            counts[mix.pick(i).index()] += 1;
        }
        // Roughly 70 %, 20 %, 10 %.
        assert!((6_500..7_500).contains(&counts[0]), "{counts:?}");
        assert!((1_500..2_500).contains(&counts[1]), "{counts:?}");
        assert!((500..1_500).contains(&counts[2]), "{counts:?}");
        let only = Mix {
            requests: 0,
            claims: 0,
            mentions: 1,
        };
        assert!((0..100).all(|i| only.pick(i) == Op::Mention));
    }

    #[test]
    fn generated_people_join_both_clients() {
        let (world, askers) = world_and_people(10);
        assert_eq!(askers.len(), 10);
        let acme = world
            .guilds
            .iter()
            .find(|g| g.id == cast::ACME_GUILD)
            .map(|g| g.members.len());
        let bright = world
            .guilds
            .iter()
            .find(|g| g.id == cast::BRIGHT_GUILD)
            .map(|g| g.members.len());
        // The demo's 3 and 4 members, plus 4 generated people each.
        assert_eq!(acme, Some(7));
        assert_eq!(bright, Some(8));
        assert_eq!(world_and_people(1).1.len(), 1);
    }

    #[test]
    fn an_early_answer_waits_for_its_waiter() {
        let mut t = Tracker::default();
        t.answered(Key::Callback(1), Duration::from_millis(3));
        let mut rx = t.wait(Key::Callback(1));
        assert_eq!(rx.try_recv(), Ok(Duration::from_millis(3)));
        let mut rx = t.wait(Key::Callback(2));
        t.answered(Key::Callback(2), Duration::from_millis(5));
        assert_eq!(rx.try_recv(), Ok(Duration::from_millis(5)));
    }

    #[test]
    fn proc_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(proc_status_kib("VmRSS").is_some_and(|k| k > 0));
            assert!(cpu_times().is_some());
        }
    }
}
