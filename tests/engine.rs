//! The engine through its async face, on a real sled store: durability,
//! replays, races between clicks, isolation, the outbox, and restarts.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use jiff::SignedDuration;
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::engine::{Ledger, Op, PonteError, Request};
use ponte::app::outbox::{Backoff, Deliverer, DeliveryError, Refusal, Sink};
use ponte::domain::effect::Effect;
use ponte::domain::{Command, EventKind, Side, Status, TaskId, UserError, Visibility};
use ponte::store::{SledStore, Store, StoreOptions, TaskFilter, TaskQuery};

fn open(dir: &std::path::Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(&StoreOptions::new(dir)).unwrap())
}

fn ledger(store: Arc<SledStore>, clock: &ManualClock) -> Ledger<SledStore> {
    Ledger::start(store, rules(), Arc::new(clock.clone())).unwrap()
}

fn change(actor: &ponte::domain::Actor, task: &TaskId, command: Command) -> Request {
    Request::by(
        actor.clone(),
        Op::Change {
            task: task.clone(),
            command,
        },
    )
}

fn user_error(result: Result<ponte::app::engine::Outcome, PonteError>) -> UserError {
    match result {
        Err(PonteError::User(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_becomes_a_routed_task_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let alice = employee(1, ACME);

    let created = ledger
        .submit(create(&alice, ACME, "The VPN is down in Milan"))
        .await
        .unwrap();
    assert_eq!(created.task.id.to_string(), "ACME-1");
    assert_eq!(created.task.handling_side, Side::Msp);
    assert_eq!(created.task.requester, alice.person);
    let kinds: Vec<_> = created.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["created", "routed"]);

    let second = ledger
        .submit(create(&alice, ACME, "printer jammed"))
        .await
        .unwrap();
    assert_eq!(second.task.id.to_string(), "ACME-2");
    assert_eq!(second.task.handling_side, Side::Internal);
    // Each client numbers its own tasks.
    let other = ledger
        .submit(create(&employee(9, BRIGHT), BRIGHT, "wifi"))
        .await
        .unwrap();
    assert_eq!(other.task.id.to_string(), "BRIGHT-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_creates_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let alice = employee(1, ACME);

    let first = ledger
        .submit(create(&alice, ACME, "vpn down").with_key("interaction-1"))
        .await
        .unwrap();
    let again = ledger
        .submit(create(&alice, ACME, "vpn down").with_key("interaction-1"))
        .await
        .unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(again.task, first.task);
    assert_eq!(ledger.store().task_count().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claims_at_once_give_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let task = ledger
        .submit(create(&employee(1, ACME), ACME, "vpn down"))
        .await
        .unwrap()
        .task
        .id;

    let engineers: Vec<_> = (10..20).map(msp_engineer).collect();
    let claims = engineers.iter().map(|e| {
        let ledger = ledger.clone();
        let request = change(e, &task, Command::Claim);
        async move { ledger.submit(request).await }
    });
    let results = futures_join_all(claims).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    for result in results {
        if let Err(e) = result {
            assert!(
                matches!(e, PonteError::User(UserError::AlreadyClaimed { .. })),
                "{e:?}"
            );
        }
    }
    let (stored, history) = ledger.show(msp_engineer(10), task).await.unwrap();
    assert_eq!(stored.status, Status::Claimed);
    let claims = history
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Claimed { .. }))
        .count();
    assert_eq!(claims, 1);
}

/// Joins futures concurrently without pulling in the futures crate.
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_client_cannot_see_or_touch_a_task() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let task = ledger
        .submit(create(&employee(1, ACME), ACME, "vpn down"))
        .await
        .unwrap()
        .task
        .id;
    let outsider = it_manager(50, BRIGHT);

    let refused = user_error(
        ledger
            .submit(change(&outsider, &task, Command::Close))
            .await,
    );
    assert_eq!(
        refused,
        UserError::UnknownTask {
            id: "ACME-1".into()
        }
    );
    assert!(matches!(
        ledger.show(outsider.clone(), task.clone()).await,
        Err(PonteError::User(UserError::UnknownTask { .. }))
    ));
    let query = TaskQuery {
        client: key(ACME),
        filter: TaskFilter::open(),
        after: None,
        limit: 10,
    };
    assert!(matches!(
        ledger.list(outsider.clone(), query).await,
        Err(PonteError::User(UserError::NotForClient))
    ));
    assert_eq!(
        user_error(ledger.submit(create(&outsider, ACME, "let me in")).await),
        UserError::NotForClient
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_stay_on_their_side() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let tech = it_tech(2, ACME);
    let task = ledger
        .submit(create(&employee(1, ACME), ACME, "vpn"))
        .await
        .unwrap()
        .task
        .id;
    let note = Command::Comment {
        body: "budget is tight".into(),
        visibility: Visibility::Side(Side::Internal),
    };
    ledger.submit(change(&tech, &task, note)).await.unwrap();
    let shared = Command::Comment {
        body: "any news?".into(),
        visibility: Visibility::Shared,
    };
    ledger.submit(change(&tech, &task, shared)).await.unwrap();

    let (_, seen_by_msp) = ledger.show(msp_engineer(10), task.clone()).await.unwrap();
    let (_, seen_by_it) = ledger.show(tech, task).await.unwrap();
    let comments = |events: &[ponte::domain::Event]| {
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Commented { .. }))
            .count()
    };
    assert_eq!(comments(&seen_by_it), 2);
    assert_eq!(comments(&seen_by_msp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_confirmed_is_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let alice = employee(1, ACME);
    let engineer = msp_engineer(10);
    let (task, before) = {
        let ledger = ledger(open(dir.path()), &clock);
        let task = ledger
            .submit(create(&alice, ACME, "vpn down"))
            .await
            .unwrap()
            .task
            .id;
        ledger
            .submit(change(&engineer, &task, Command::Claim))
            .await
            .unwrap();
        clock.advance(SignedDuration::from_mins(5));
        let resolve = Command::SetStatus {
            to: Status::Resolved,
            reason: Some("router rebooted".into()),
        };
        ledger
            .submit(change(&engineer, &task, resolve))
            .await
            .unwrap();
        let before = ledger.show(engineer.clone(), task.clone()).await.unwrap();
        (task, before)
        // every handle (ledger, writer thread, store) dropped here
    };
    // The writer thread holds the store until its queue closes; wait for it.
    let store = reopen(dir.path()).await;
    let ledger = ledger(store, &clock);
    let after = ledger.show(engineer.clone(), task.clone()).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.0.status, Status::Resolved);
    // Numbering carries on where it stopped.
    let next = ledger
        .submit(create(&alice, ACME, "printer"))
        .await
        .unwrap();
    assert_eq!(next.task.id.to_string(), "ACME-2");
}

/// Reopens a store whose previous handles are being dropped (sled holds a
/// directory lock until the last one goes).
async fn reopen(dir: &std::path::Path) -> Arc<SledStore> {
    for _ in 0..100 {
        match SledStore::open(&StoreOptions::new(dir)) {
            Ok(store) => return Arc::new(store),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    panic!("the store stayed locked after every handle was dropped");
}

/// A sink that fails a set number of times, then records what it delivered.
#[derive(Clone, Default)]
struct FlakySink {
    failures_left: Arc<AtomicUsize>,
    delivered: Arc<Mutex<Vec<String>>>,
}

impl Sink for FlakySink {
    async fn deliver(&self, effect: &Effect) -> Result<(), DeliveryError> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(DeliveryError::transient("chat is down"));
        }
        self.delivered.lock().unwrap().push(effect.key());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effects_are_delivered_once_after_failures_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let store = open(dir.path());
    let ledger = ledger(store.clone(), &clock);
    let engineer = msp_engineer(10);
    let task = ledger
        .submit(create(&employee(1, ACME), ACME, "vpn"))
        .await
        .unwrap()
        .task
        .id;
    ledger
        .submit(change(&engineer, &task, Command::Claim))
        .await
        .unwrap();
    assert_eq!(store.outbox_len().unwrap(), 2);

    let sink = FlakySink {
        failures_left: Arc::new(AtomicUsize::new(2)),
        ..Default::default()
    };
    let backoff = Backoff {
        first: SignedDuration::from_secs(10),
        max: SignedDuration::from_mins(1),
    };
    let deliverer = Deliverer::new(
        store.clone(),
        sink.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    )
    .with_backoff(backoff);

    // First try fails; the task's later entry waits behind it.
    let pass = deliverer.pass().await.unwrap();
    assert_eq!((pass.delivered, pass.failed), (0, 1));
    // Not due yet: nothing is tried.
    assert_eq!(
        deliverer.pass().await.unwrap().delivered + deliverer.pass().await.unwrap().failed,
        0
    );
    clock.advance(SignedDuration::from_secs(10));
    assert_eq!(deliverer.pass().await.unwrap().failed, 1);
    clock.advance(SignedDuration::from_secs(20));
    let pass = deliverer.pass().await.unwrap();
    assert_eq!((pass.delivered, pass.failed), (2, 0));
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(
        *sink.delivered.lock().unwrap(),
        ["announce:ACME-1:1-2", "announce:ACME-1:3-3"]
    );
}

/// A sink that refuses one task's effects for good (a missing permission)
/// and records the rest, and what it was told was set aside.
#[derive(Clone, Default)]
struct RefusingSink {
    delivered: Arc<Mutex<Vec<String>>>,
    told: Arc<Mutex<Vec<String>>>,
}

impl Sink for RefusingSink {
    async fn deliver(&self, effect: &Effect) -> Result<(), DeliveryError> {
        if effect.task().is_some_and(|t| t.to_string() == "ACME-1") {
            return Err(DeliveryError::refused(
                Refusal::Permission { channel: 42 },
                "Discord answered 403 (code 50013): Missing Permissions",
            ));
        }
        self.delivered.lock().unwrap().push(effect.key());
        Ok(())
    }

    async fn refused(&self, effect: &Effect, error: &DeliveryError) {
        self.told
            .lock()
            .unwrap()
            .push(format!("{}: {}", effect.key(), error));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delivery_becomes_a_dead_letter_and_its_lane_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let store = open(dir.path());
    let ledger = ledger(store.clone(), &clock);
    let engineer = msp_engineer(10);
    let refused = ledger
        .submit(create(&employee(1, ACME), ACME, "vpn"))
        .await
        .unwrap()
        .task
        .id;
    ledger
        .submit(change(&engineer, &refused, Command::Claim))
        .await
        .unwrap();
    ledger
        .submit(create(&employee(2, ACME), ACME, "printer"))
        .await
        .unwrap();
    let sink = RefusingSink::default();
    let deliverer = Deliverer::new(
        store.clone(),
        sink.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    // One pass: the first entry of ACME-1 is set aside and the lane moves
    // on (its next entry is refused too, in the next pass); ACME-2 is
    // delivered at once, in its own lane.
    let pass = deliverer.pass().await.unwrap();
    assert_eq!((pass.delivered, pass.dead, pass.failed), (1, 1, 0));
    let pass = deliverer.pass().await.unwrap();
    assert_eq!((pass.delivered, pass.dead, pass.failed), (0, 1, 0));
    assert_eq!(deliverer.pass().await.unwrap(), Default::default());
    assert_eq!(store.outbox_len().unwrap(), 0, "nothing retried forever");
    assert_eq!(*sink.delivered.lock().unwrap(), ["announce:ACME-2:1-2"]);
    // Kept, with why, and people were told.
    let dead = store.dead_letters(10).unwrap();
    assert_eq!(
        dead.iter()
            .map(|d| d.entry.effect.key())
            .collect::<Vec<_>>(),
        ["announce:ACME-1:1-2", "announce:ACME-1:3-3"]
    );
    assert!(dead[0].error.contains("50013"), "{}", dead[0].error);
    assert_eq!(sink.told.lock().unwrap().len(), 2);
    assert!(store.check_integrity().unwrap().is_empty());
    // After the fix, an operator retries one and drops the other.
    assert!(store.dead_retry(dead[0].entry.id).unwrap());
    assert!(store.dead_drop(dead[1].entry.id).unwrap());
    assert!(!store.dead_drop(dead[1].entry.id).unwrap());
    assert_eq!(store.dead_count().unwrap(), 0);
    assert_eq!(store.outbox_len().unwrap(), 1);
    assert!(store.check_integrity().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    {
        let ledger = ledger(open(dir.path()), &clock);
        ledger
            .submit(create(&employee(1, ACME), ACME, "vpn"))
            .await
            .unwrap();
    }
    let store = reopen(dir.path()).await;
    assert_eq!(store.outbox_len().unwrap(), 1);
    let sink = FlakySink::default();
    let deliverer = Deliverer::new(
        store.clone(),
        sink.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    assert_eq!(deliverer.pass().await.unwrap().delivered, 1);
    assert_eq!(store.outbox_len().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let store = open(dir.path());
    let ledger = ledger(store.clone(), &clock);
    let alice = employee(1, ACME);
    let task = ledger
        .submit(create(&alice, ACME, "vpn"))
        .await
        .unwrap()
        .task;
    let refused = user_error(
        ledger
            .submit(change(&alice, &task.id, Command::Claim))
            .await,
    );
    assert_eq!(refused, UserError::NotStaffOf { side: Side::Msp });
    assert_eq!(store.task(&task.id).unwrap().unwrap(), task);
    assert_eq!(store.events(&task.id).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_open_tasks_are_found_behind_any_backlog_of_open_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start());
    let ledger = ledger(open(dir.path()), &clock);
    let alice = employee(1, ACME);
    // A backlog of open tasks, then, five hours later, three new ones.
    for n in 0..120 {
        ledger
            .submit(create(&alice, ACME, &format!("old problem {n}")))
            .await
            .unwrap();
    }
    clock.advance(SignedDuration::from_hours(5));
    for n in 0..3 {
        ledger
            .submit(create(&alice, ACME, &format!("new problem {n}")))
            .await
            .unwrap();
    }
    let since = clock.now() - SignedDuration::from_hours(4);
    let recent = |limit| {
        let (ledger, alice) = (ledger.clone(), alice.clone());
        async move {
            let tasks = ledger
                .recent_open(alice, key(ACME), since, limit)
                .await
                .unwrap();
            tasks.iter().map(|t| t.id.number()).collect::<Vec<_>>()
        }
    };
    assert_eq!(recent(1_000).await, [121, 122, 123]);
    // Only among the latest `limit` numbers.
    assert_eq!(recent(2).await, [122, 123]);
    // Another client's person sees none of them.
    assert!(matches!(
        ledger
            .recent_open(employee(9, BRIGHT), key(ACME), since, 1_000)
            .await,
        Err(PonteError::User(UserError::NotForClient))
    ));
}
