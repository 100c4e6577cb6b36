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

mod common;
use common::Rng;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jiff::Timestamp;
use ponte::domain::escalation::Target;
use ponte::domain::event::EventKind;
use ponte::domain::{ClientKey, TaskId};
use ponte::emulator::{Emulator, Message};
use ponte::notify::pager::{Secret, verify};
use ponte::sandbox::cast;
use ponte::store::{SledStore, Store, StoreOptions};

const HOOK_SECRET: &str = "crash-test-webhook-secret";
/// Acme speaks Italian: the card's Claim button.
const CLAIM: &str = "Prendi in carico";

const WAIT: Duration = Duration::from_secs(60);

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

/// The probe part of a title (`crash probe 12` of `crash probe 12 email`),
/// as [`cards_by_title`] counts it.
fn probe(title: &str) -> String {
    title.trim_end_matches(" email").to_owned()
}

/// How many of `messages` name the task `id` (`ACME-7`, not `ACME-70`).
fn naming(messages: &[Message], id: &str) -> usize {
    messages
        .iter()
        .filter(|m| {
            let text = text_of(m);
            text.match_indices(id).any(|(i, _)| {
                !text[i + id.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
        })
        .count()
}

fn text_of(message: &Message) -> String {
    format!("{} {:?}", message.content, message.embeds)
}

/// The signed-webhook pager's receiver: every request it accepted, as
/// (event, idempotency key), in order of arrival.
#[derive(Default)]
struct Hook {
    received: Mutex<Vec<(String, String)>>,
}

async fn hook(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let Ok(ts) = header("x-ponte-timestamp").parse::<i64>() else {
        return StatusCode::BAD_REQUEST;
    };
    if !verify(
        &Secret::new(HOOK_SECRET),
        ts,
        &body,
        &header("x-ponte-signature"),
    ) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let event = json["event"].as_str().unwrap_or_default().to_owned();
    let key = header("idempotency-key");
    if key.is_empty() || json["key"].as_str() != Some(key.as_str()) {
        return StatusCode::BAD_REQUEST;
    }
    hook.received.lock().expect("hook").push((event, key));
    StatusCode::ACCEPTED
}

async fn start_hook() -> (Arc<Hook>, String) {
    let state = Arc::new(Hook::default());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the pager receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (state, format!("http://{addr}/hook"))
}

/// `HH:MM` in `tz` of the first whole minute at least `lead` after `now`,
/// and that moment.
fn minute_after(now: Timestamp, lead: Duration, tz: &str) -> (String, Timestamp) {
    let at = now + jiff::SignedDuration::try_from(lead).expect("lead");
    // Whole minutes in UTC are whole minutes in Rome and Berlin.
    let rounded = Timestamp::from_second((at.as_second() / 60 + 1) * 60).expect("a minute");
    let local = rounded.in_tz(tz).expect("time zone");
    (
        format!("{:02}:{:02}", local.hour(), local.minute()),
        rounded,
    )
}

/// Messages of `channel` that open a digest (its title, in either language).
fn digest_titles(emulator: &Emulator, channel: u64) -> usize {
    emulator
        .messages(channel)
        .iter()
        .filter(|m| {
            let text = text_of(m);
            text.contains("**Digest for ")
                || text.contains("**Riepilogo di ")
                || text.contains("**MSP digest, ")
                || text.contains("**Riepilogo MSP, ")
        })
        .count()
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
    // The configuration: the example's, with a signed-webhook pager paged
    // at once for every P1 beside the on-call, and Acme's and the MSP lead's
    // digests due a minute or two from now (every day, no holidays), so
    // pages and digests are pending when the child is killed.
    let (hook, hook_url) = start_hook().await;
    let started = Timestamp::now();
    let (acme_time, acme_due) = minute_after(started, Duration::from_secs(20), "Europe/Rome");
    let (lead_time, lead_due) = minute_after(started, Duration::from_secs(20), "Europe/Berlin");
    let digest_due = acme_due.max(lead_due);
    let all_days = r#"days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]"#;
    let edits = [
        (
            "data_dir = \"./ponte-data\"".to_owned(),
            format!("data_dir = {:?}", data.display().to_string()),
        ),
        // No health port: tests run beside each other.
        ("health_addr = \"127.0.0.1:9464\"\n".to_owned(), String::new()),
        (
            "priority = \"P1\"\n[[escalation.steps]]\nafter_minutes = 0\noncall = \"msp-primary\"\n"
                .to_owned(),
            "priority = \"P1\"\n[[escalation.steps]]\nafter_minutes = 0\noncall = \"msp-primary\"\n\
             [[escalation.steps]]\nafter_minutes = 0\npager = \"hook\"\n"
                .to_owned(),
        ),
        (
            "[clients.digest]\ntime = \"08:30\"\n".to_owned(),
            format!("[clients.digest]\ntime = \"{acme_time}\"\n{all_days}\n"),
        ),
        (
            "time = \"08:00\"                # local time, default \"08:30\"\n".to_owned(),
            format!("time = \"{lead_time}\"\n"),
        ),
        (
            "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]   # default Monday to Friday\n"
                .to_owned(),
            format!("{all_days}\n"),
        ),
        (
            "holidays = [\"2026-12-08\", \"2026-12-25\", \"2026-12-26\", \"2027-01-01\", \"2027-01-06\"]\n"
                .to_owned(),
            String::new(),
        ),
    ];
    let mut text = cast::CONFIG.to_owned();
    for (from, to) in &edits {
        assert_eq!(
            text.matches(from.as_str()).count(),
            1,
            "the example config changed: {from:?}"
        );
        text = text.replace(from.as_str(), to);
    }
    text.push_str(&format!(
        "\n[[pagers]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook_url}\"\n\
         secret_env = \"PONTE_CRASH_HOOK_SECRET\"\nmax_attempts = 100\n"
    ));
    std::fs::write(&config, text).expect("write the config");

    let emulator = Emulator::start(cast::world()).await.expect("emulator");
    let mut env = emulator
        .write_connection(&dir.path().join("ca.der"))
        .expect("write the CA");
    env.push(("PONTE_CRASH_HOOK_SECRET".into(), HOOK_SECRET.into()));
    let giulia = &cast::PEOPLE[0];
    let sara = &cast::PEOPLE[2];
    assert_eq!((giulia.name, sara.name), ("giulia", "sara"));

    // title -> the task id its author saw confirmed.
    let mut confirmed: BTreeMap<String, String> = BTreeMap::new();
    // The confirmed P1 tasks (paged at once).
    let mut urgent: BTreeSet<String> = BTreeSet::new();
    // Tasks of internal IT not yet claimed (as far as anyone saw), and
    // their card in #richieste once found.
    let mut claimable: Vec<String> = Vec::new();
    let mut card: BTreeMap<String, u64> = BTreeMap::new();
    // Claims sara saw confirmed; comments giulia saw confirmed (note -> task).
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    let mut commented: BTreeMap<String, String> = BTreeMap::new();
    let mut clicks = 0usize;
    let mut notes = 0usize;
    // Interactions with no confirmation: delivered again after a restart.
    let mut unanswered: Vec<u64> = Vec::new();
    let mut sent = 0usize;
    // Interactions delivered again: Discord would refuse their late answers.
    let mut redelivered: BTreeSet<u64> = BTreeSet::new();

    let mut round = 0usize;
    loop {
        // Keep killing until the digests fell due during the loop.
        let last =
            round >= kills && Timestamp::now() > digest_due + jiff::SignedDuration::from_secs(5);
        let identifies = emulator.gateway_stats().identifies + emulator.gateway_stats().resumes;
        let mut child = spawn_bot(&config, &env, &log);
        // Wait for the new process's session before people type.
        common::wait_for_session(
            &emulator,
            &mut child,
            &log,
            identifies,
            &format!("round {round} (seed {seed})"),
        )
        .await;

        // A retry of everything nobody saw answered (requests and clicks).
        for id in std::mem::take(&mut unanswered) {
            redelivered.insert(id);
            let _ = emulator.redeliver(id);
        }

        let killed = Arc::new(AtomicBool::new(false));
        let killer = if last {
            None
        } else {
            let pid = child.id() as i32;
            let after = Duration::from_millis(100 + rng.below(1500) as u64);
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

        // People work until the bot dies (or, in the last round, a fixed
        // number more): giulia asks (P3 for internal IT, P1 for the MSP)
        // and comments, sara clicks Claim on internal IT's cards.
        let mut in_round = 0;
        while (!last && !killed.load(Ordering::SeqCst)) || (last && in_round < 8) {
            in_round += 1;
            let wait = if last { WAIT } else { Duration::from_secs(2) };
            let roll = rng.below(100);
            if roll < 25 && !claimable.is_empty() {
                // A click on a card's Claim button.
                let i = rng.below(claimable.len());
                let id = claimable[i].clone();
                let message = match card.get(&id) {
                    Some(m) => Some(*m),
                    None => emulator
                        .messages(giulia.channel)
                        .iter()
                        .rev()
                        .find(|m| {
                            m.button(CLAIM).is_some() && text_of(m).contains(&format!("{id} · "))
                        })
                        .map(|m| m.id),
                };
                let Some(message) = message else { continue };
                card.insert(id.clone(), message);
                let Ok(handle) = emulator.click(sara.id, message, CLAIM) else {
                    // The button is gone: claimed, its answer lost in a kill.
                    claimable.swap_remove(i);
                    continue;
                };
                clicks += 1;
                match handle.response(wait).await {
                    Ok(response) => {
                        let seen = response.message.as_ref().map(text_of).unwrap_or_default();
                        if response.kind == 7 && seen.contains(&format!("<@{}>", sara.id)) {
                            claimed.insert(id);
                            claimable.swap_remove(i);
                        } else {
                            unanswered.push(handle.id());
                        }
                    }
                    Err(_) => unanswered.push(handle.id()),
                }
            } else if roll < 45 && !confirmed.is_empty() {
                // A comment on a task giulia asked for.
                let ids: Vec<&String> = confirmed.values().collect();
                let id = ids[rng.below(ids.len())].clone();
                notes += 1;
                let note = format!("crash note {notes}");
                let handle = emulator
                    .slash_line(
                        giulia.id,
                        giulia.channel,
                        &format!("/task comment id:{id} text:\"{note}\""),
                    )
                    .unwrap_or_else(|e| panic!("round {round}: a comment refused: {e}"));
                match handle.response(wait).await {
                    Ok(response) => {
                        let seen = response.message.as_ref().map(text_of).unwrap_or_default();
                        if seen.contains(&note) {
                            commented.insert(note, id);
                        } else {
                            unanswered.push(handle.id());
                        }
                    }
                    Err(_) => unanswered.push(handle.id()),
                }
            } else {
                sent += 1;
                // "email" routes to the MSP (cloud-email), which P1 pages.
                let p1 = roll >= 90;
                let title = if p1 {
                    format!("crash probe {sent} email")
                } else {
                    format!("crash probe {sent}")
                };
                let priority = if p1 { "P1" } else { "P3" };
                let handle = match emulator.slash_line(
                    giulia.id,
                    giulia.channel,
                    &format!("/request title:\"{title}\" priority:{priority}"),
                ) {
                    Ok(h) => h,
                    Err(e) => panic!("round {round}: the emulator refused a request: {e}"),
                };
                match handle.response(wait).await {
                    Ok(response) => {
                        let seen = response.message.as_ref().map(text_of).unwrap_or_default();
                        match common::acme_task_id_in(&seen) {
                            Some(id) => {
                                if p1 {
                                    urgent.insert(id.clone());
                                } else {
                                    claimable.push(id.clone());
                                }
                                confirmed.insert(title, id);
                            }
                            None => unanswered.push(handle.id()),
                        }
                    }
                    Err(_) => unanswered.push(handle.id()),
                }
            }
        }
        if let Some(killer) = killer {
            killer.await.expect("killer");
            let status = child.wait().expect("wait for the killed child");
            assert!(!status.success(), "round {round}: the child was not killed");
            round += 1;
            continue;
        }
        // The last process: let the outbox drain (every card posted, every
        // P1 paged through the webhook, the digests posted).
        let digest_channels = [cast::ACME_IT, cast::MSP_ACME, cast::MSP_QUEUE];
        let mut drained = false;
        for _ in 0..1200 {
            let cards = cards_by_title(&emulator.messages(giulia.channel));
            let paged: BTreeSet<String> = hook
                .received
                .lock()
                .expect("hook")
                .iter()
                .filter(|(event, _)| event == "page")
                .filter_map(|(_, key)| {
                    key.strip_prefix("page:")?
                        .split('@')
                        .next()
                        .map(str::to_owned)
                })
                .collect();
            if confirmed
                .keys()
                .all(|title| cards.contains_key(&probe(title)))
                && urgent.is_subset(&paged)
                && digest_channels
                    .iter()
                    .all(|c| digest_titles(&emulator, *c) > 0)
            {
                drained = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !drained {
            let cards = cards_by_title(&emulator.messages(giulia.channel));
            let missing: Vec<&String> = confirmed
                .keys()
                .filter(|t| !cards.contains_key(&probe(t)))
                .collect();
            let received = hook.received.lock().expect("hook").clone();
            let unpaged: Vec<&String> = urgent
                .iter()
                .filter(|id| {
                    !received
                        .iter()
                        .any(|(e, k)| e == "page" && k.starts_with(&format!("page:{id}@")))
                })
                .collect();
            let digests: Vec<usize> = digest_channels
                .iter()
                .map(|c| digest_titles(&emulator, *c))
                .collect();
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "not everything was delivered (seed {seed}): cards missing {missing:?}; \
                 P1 not paged {unpaged:?}; digests {digests:?}; log tail:\n{tail}"
            );
        }
        // A moment more for anything that would be delivered twice.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = child.kill();
        let _ = child.wait();
        break;
    }
    eprintln!(
        "crash test: {round} kills; {sent} requests sent, {} confirmed ({} P1); \
         {clicks} Claim clicks, {} confirmed; {notes} comments, {} confirmed; \
         {} redelivered; pager received {}",
        confirmed.len(),
        urgent.len(),
        claimed.len(),
        commented.len(),
        redelivered.len(),
        hook.received.lock().expect("hook").len(),
    );
    assert!(
        !confirmed.is_empty() && !claimed.is_empty() && !commented.is_empty() && !urgent.is_empty(),
        "the load confirmed no creation, claim, comment or P1 (seed {seed})"
    );

    // Every card exactly once, per title.
    let cards = cards_by_title(&emulator.messages(giulia.channel));
    for title in confirmed.keys() {
        let n = cards.get(&probe(title)).copied().unwrap_or(0);
        assert_eq!(n, 1, "{title}: {n} cards (seed {seed})");
    }
    // An unconfirmed request may still have made a task (committed, its
    // answer lost in the kill): never two cards either.
    for (title, n) in &cards {
        assert!(*n <= 1, "{title}: {n} cards (seed {seed})");
    }
    // Each digest (Acme's two sides, the MSP lead's) posted exactly once:
    // a digest is recorded once by its mark, and re-posted after a kill
    // only with the same nonce.
    for channel in [cast::ACME_IT, cast::MSP_ACME, cast::MSP_QUEUE] {
        let n = digest_titles(&emulator, channel);
        assert_eq!(n, 1, "channel {channel}: {n} digests (seed {seed})");
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
    let mut histories = BTreeMap::new();
    for n in 1..next {
        let id = TaskId::new(acme.clone(), n);
        match store.task(&id).expect("read a task") {
            Some(task) => tasks.push(task),
            None => panic!("{id} is missing: task numbers must be gapless (seed {seed})"),
        }
        histories.insert(id.to_string(), store.events(&id).expect("read events"));
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
    // Events: no claim recorded twice (nobody unclaims here), no comment
    // recorded twice; every confirmed claim and comment is there.
    let mut notes_stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut hook_pages: BTreeMap<String, String> = BTreeMap::new();
    for (id, events) in &histories {
        let claims = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Claimed { .. }))
            .count();
        assert!(claims <= 1, "{id} was claimed {claims} times (seed {seed})");
        if claimed.contains(id) {
            assert_eq!(
                claims, 1,
                "{id}: sara's confirmed claim is missing (seed {seed})"
            );
        }
        for event in events {
            match &event.kind {
                EventKind::Commented { body, .. } => {
                    notes_stored
                        .entry(body.clone())
                        .or_default()
                        .push(id.clone());
                }
                EventKind::Paged {
                    key,
                    target: Target::Pager(name),
                    ..
                } if name == "hook" => {
                    assert!(
                        hook_pages.insert(key.clone(), id.clone()).is_none(),
                        "page {key} recorded twice (seed {seed})"
                    );
                }
                _ => {}
            }
        }
    }
    for (note, where_) in &notes_stored {
        assert_eq!(
            where_.len(),
            1,
            "{note:?} recorded {} times: {where_:?} (seed {seed})",
            where_.len()
        );
    }
    for (note, id) in &commented {
        assert_eq!(
            notes_stored.get(note),
            Some(&vec![id.clone()]),
            "{note:?} on {id} was confirmed but is not stored once (seed {seed})"
        );
    }
    // Pages: every P1 task confirmed was paged through the webhook, every
    // page recorded reached the receiver, and the receiver heard no page
    // that was not recorded. The product's contract (`src/notify/pager.rs`): a
    // page may arrive again after a failure (or a kill between sending and
    // removing it from the outbox), always with the same Idempotency-Key,
    // by which a receiver deduplicates. So "delivered once" is: exactly one
    // distinct key per recorded page, never a second key for it.
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for (event, key) in hook.received.lock().expect("hook").iter() {
        if event == "page" {
            *received.entry(key.clone()).or_insert(0) += 1;
        }
    }
    for id in &urgent {
        assert!(
            hook_pages.values().any(|t| t == id),
            "{id} (P1, confirmed) has no recorded webhook page (seed {seed})"
        );
    }
    for key in hook_pages.keys() {
        assert!(
            received.contains_key(key),
            "page {key} was recorded but never delivered (seed {seed})"
        );
    }
    for key in received.keys() {
        assert!(
            hook_pages.contains_key(key),
            "the receiver heard page {key}, which is not recorded (seed {seed})"
        );
    }
    // And the on-call was paged by Discord once per P1: one page DM (the
    // message with the Acknowledge button) naming it, across the MSP's
    // people; Discord has no idempotency key for a DM, the bot's nonce makes
    // a re-sent one the same message.
    let mut dms = Vec::new();
    for person in [9021u64, 9022, 9023] {
        if let Some(channel) = emulator.dm_channel(person) {
            dms.extend(
                emulator
                    .messages(channel)
                    .into_iter()
                    .filter(|m| !m.components.is_empty()),
            );
        }
    }
    for id in &urgent {
        let n = naming(&dms, id);
        assert_eq!(n, 1, "{id}: {n} page DMs to the on-call (seed {seed})");
    }
    let repeated = received.values().filter(|n| **n > 1).count();
    eprintln!(
        "crash test: {} webhook pages recorded and delivered, {repeated} of them \
         delivered again with the same key",
        hook_pages.len()
    );
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
