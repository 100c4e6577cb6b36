//! Crash test (issue 8): the real bot (`ponte run`, serenity included) runs
//! as a child process against the emulator in this process, people send
//! `/request`s, and the child is killed with SIGKILL at random moments,
//! again and again, restarting on the same data directory. Afterwards every
//! creation a person saw confirmed is in the store, nothing is there twice
//! (unanswered interactions are delivered again after each restart, as a
//! retry would), every task's card is posted exactly once, and
//! `ponte check-store` passes.
//!
//! The seed is printed; `PONTE_CRASH_SEED=N` replays one run and
//! `PONTE_CRASH_KILLS=N` changes the number of kills (default 20).

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ponte::domain::{ClientKey, TaskId};
use ponte::emulator::{Emulator, Message};
use ponte::sandbox::cast;
use ponte::store::{SledStore, Store, StoreOptions};

const WAIT: Duration = Duration::from_secs(60);

/// A small, seeded generator (SplitMix64): the kill moments are replayable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn spawn_bot(config: &Path, env: &[(String, String)], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the child's log");
    Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["run", "--config"])
        .arg(config)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PONTE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("start ponte run")
}

/// The task id (`ACME-12`) a confirmation names, if any.
fn task_id_in(text: &str) -> Option<String> {
    let start = text.find("ACME-")?;
    let digits: String = text[start + 5..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("ACME-{digits}"))
}

/// How many messages name each probe title ("crash probe 12"), each message
/// counted once per title.
fn cards_by_title(messages: &[Message]) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for message in messages {
        let text = text_of(message);
        let mut titles = BTreeSet::new();
        for (i, _) in text.match_indices("crash probe ") {
            let digits: String = text[i + 12..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                titles.insert(format!("crash probe {digits}"));
            }
        }
        for title in titles {
            *count.entry(title).or_insert(0) += 1;
        }
    }
    count
}

fn text_of(message: &Message) -> String {
    format!("{} {:?}", message.content, message.embeds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_doubles_nothing() {
    let seed = std::env::var("PONTE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    let kills: usize = std::env::var("PONTE_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    eprintln!("crash test: seed {seed} (replay with PONTE_CRASH_SEED={seed}), {kills} kills");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("ponte.toml");
    let log = dir.path().join("bot.log");
    let text = cast::CONFIG.replace(
        "data_dir = \"./ponte-data\"",
        &format!("data_dir = {:?}", data.display().to_string()),
    );
    assert_ne!(
        text,
        cast::CONFIG,
        "the example config's data_dir line moved"
    );
    std::fs::write(&config, text).expect("write the config");

    let emulator = Emulator::start(cast::world()).await.expect("emulator");
    let env = emulator
        .write_connection(&dir.path().join("ca.der"))
        .expect("write the CA");
    let giulia = &cast::PEOPLE[0];

    // title -> the task id its author saw confirmed.
    let mut confirmed: BTreeMap<String, String> = BTreeMap::new();
    // Interactions with no confirmation: delivered again after a restart.
    let mut unanswered: Vec<u64> = Vec::new();
    let mut sent = 0usize;
    // Interactions delivered again: Discord would refuse their late answers.
    let mut redelivered: BTreeSet<u64> = BTreeSet::new();

    for round in 0..=kills {
        let identifies = emulator.gateway_stats().identifies + emulator.gateway_stats().resumes;
        let mut child = spawn_bot(&config, &env, &log);
        // Wait for the new process's session before people type.
        let mut up = false;
        for _ in 0..600 {
            let stats = emulator.gateway_stats();
            if stats.identifies + stats.resumes > identifies {
                up = true;
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "round {round}: ponte run exited with {status}; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "round {round}: the bot never connected (seed {seed})");
        // Give serenity a moment to handle READY and GUILD_CREATE.
        tokio::time::sleep(Duration::from_millis(300)).await;

        // A retry of everything nobody saw answered.
        for id in std::mem::take(&mut unanswered) {
            redelivered.insert(id);
            let _ = emulator.redeliver(id);
        }

        let last = round == kills;
        let killed = Arc::new(AtomicBool::new(false));
        let killer = if last {
            None
        } else {
            let pid = child.id() as i32;
            let after = Duration::from_millis(100 + rng.below(1500));
            let killed = killed.clone();
            Some(tokio::spawn(async move {
                tokio::time::sleep(after).await;
                killed.store(true, Ordering::SeqCst);
                // SIGKILL through the `kill` command (no libc dependency).
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }))
        };

        // People send requests until the bot dies (or, in the last round,
        // a fixed number more).
        let mut in_round = 0;
        while (!last && !killed.load(Ordering::SeqCst)) || (last && in_round < 5) {
            sent += 1;
            in_round += 1;
            let title = format!("crash probe {sent}");
            let handle = match emulator.slash_line(
                giulia.id,
                giulia.channel,
                &format!("/request title:\"{title}\" priority:P3"),
            ) {
                Ok(h) => h,
                Err(e) => panic!("round {round}: the emulator refused a request: {e}"),
            };
            let wait = if last { WAIT } else { Duration::from_secs(2) };
            match handle.response(wait).await {
                Ok(response) => {
                    let seen = response.message.as_ref().map(text_of).unwrap_or_default();
                    match task_id_in(&seen) {
                        Some(id) => {
                            confirmed.insert(title, id);
                        }
                        None => unanswered.push(handle.id()),
                    }
                }
                Err(_) => unanswered.push(handle.id()),
            }
        }
        if let Some(killer) = killer {
            killer.await.expect("killer");
            let status = child.wait().expect("wait for the killed child");
            assert!(!status.success(), "round {round}: the child was not killed");
        } else {
            // The last process: let the outbox drain (every card posted).
            let mut all_posted = false;
            for _ in 0..600 {
                let cards = cards_by_title(&emulator.messages(giulia.channel));
                if confirmed.keys().all(|title| cards.contains_key(title)) {
                    all_posted = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                all_posted,
                "the cards of confirmed tasks were not all posted (seed {seed})"
            );
            // A moment more for anything that would post twice.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    eprintln!(
        "crash test: {sent} requests sent, {} confirmed, {kills} kills",
        confirmed.len()
    );
    assert!(
        !confirmed.is_empty(),
        "no creation was ever confirmed (seed {seed})"
    );

    // Every card exactly once, per title.
    let cards = cards_by_title(&emulator.messages(giulia.channel));
    for title in confirmed.keys() {
        let n = cards.get(title).copied().unwrap_or(0);
        assert_eq!(n, 1, "{title}: {n} cards (seed {seed})");
    }
    // An unconfirmed request may still have made a task (committed, its
    // answer lost in the kill): never two cards either.
    for (title, n) in &cards {
        assert!(*n <= 1, "{title}: {n} cards (seed {seed})");
    }

    // The store: every confirmed task, with the title its author gave;
    // no title twice.
    let check = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check-store", "--data-dir"])
        .arg(&data)
        .output()
        .expect("run ponte check-store");
    assert!(
        check.status.success(),
        "check-store: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let store = tokio::task::spawn_blocking(move || {
        SledStore::open(&StoreOptions::new(&data)).expect("reopen the store")
    })
    .await
    .expect("open");
    let acme = ClientKey::new("ACME").expect("key");
    let next = store.next_number(&acme).expect("next number");
    let mut tasks = Vec::new();
    for n in 1..next {
        let id = TaskId::new(acme.clone(), n);
        match store.task(&id).expect("read a task") {
            Some(task) => tasks.push(task),
            None => panic!("{id} is missing: task numbers must be gapless (seed {seed})"),
        }
    }
    let mut titles = BTreeSet::new();
    for task in &tasks {
        assert!(
            titles.insert(task.title.clone()),
            "{} is in the store twice (seed {seed})",
            task.title
        );
    }
    for (title, id) in &confirmed {
        let task = tasks
            .iter()
            .find(|t| &t.id.to_string() == id)
            .unwrap_or_else(|| {
                panic!("{id} ({title}) was confirmed but is not stored (seed {seed})")
            });
        assert_eq!(&task.title, title, "{id} (seed {seed})");
    }
    // The only violations allowed: late answers to the interactions this
    // test delivered again (their 3-second window started at the first
    // delivery). Everything else the bot sent was within Discord's rules.
    for violation in emulator.take_violations() {
        let text = format!("{violation:?}");
        // A card posted again after a kill is answered by its nonce, and its
        // thread by Discord's "already created" (160004), which the bot takes
        // as the thread being there.
        let repeated_thread = text.contains("second thread on message");
        assert!(
            repeated_thread
                || redelivered
                    .iter()
                    .any(|id| text.contains(&format!("interaction {id} answered"))),
            "the bot did what Discord would refuse: {text} (seed {seed})"
        );
    }
    emulator.shutdown();
}
