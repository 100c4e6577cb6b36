//! The SLA timer against a real store and the example configuration:
//! warnings and breaches recorded once (also by a new timer after a
//! restart), and `on_sla_warning` feeding the escalation policy.

use std::sync::Arc;

use jiff::Timestamp;
use ponte::app::clock::ManualClock;
use ponte::app::engine::{Ledger, Op, Request};
use ponte::app::escalator::Escalator;
use ponte::app::sla_timer::SlaTimer;
use ponte::app::timers::Timer;
use ponte::config::Config;
use ponte::domain::escalation::Target;
use ponte::domain::sla::SlaClock;
use ponte::domain::{
    Actor, ClientKey, EventKind, NewTask, PersonId, Priority, Side, SideChoice, TaskId,
};
use ponte::store::SledStore;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The example configuration, with `extra` appended.
fn config(dir: &std::path::Path, extra: &str) -> Arc<Config> {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/ponte.example.toml"),
    )
    .unwrap();
    let path = dir.join("ponte.toml");
    std::fs::write(&path, format!("{example}\n{extra}")).unwrap();
    Arc::new(Config::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

struct World {
    ledger: Ledger<SledStore>,
    config: Arc<Config>,
    task: TaskId,
}

/// Friday 27 November 2026, 10:00 in Rome: Giulia asks the MSP for a P3
/// (first response 4h in Acme's hours, warned at 3h: 14:30 Rome).
async fn world(extra: &str) -> (tempfile::TempDir, World) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), extra);
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let clock = ManualClock::new(at("2026-11-27T09:00:00Z"));
    let ledger = Ledger::start(store, Arc::new(config.rules()), Arc::new(clock)).unwrap();
    let giulia = Actor::employee(PersonId(9001), ClientKey::new("ACME").unwrap());
    let outcome = ledger
        .submit(Request::by(
            giulia,
            Op::Create {
                client: ClientKey::new("ACME").unwrap(),
                new: NewTask {
                    title: "Il calendario condiviso non si aggiorna".into(),
                    priority: Some(Priority::P3),
                    to: SideChoice::To(Side::Msp),
                    ..NewTask::default()
                },
            },
        ))
        .await
        .unwrap();
    let task = outcome.task.id;
    (
        dir,
        World {
            ledger,
            config,
            task,
        },
    )
}

impl World {
    async fn events(&self) -> Vec<EventKind> {
        self.events_of(&self.task).await
    }

    async fn events_of(&self, task: &TaskId) -> Vec<EventKind> {
        let (_, events) = self.ledger.history(task.clone()).await.unwrap().unwrap();
        events.into_iter().map(|e| e.kind).collect()
    }
}

fn alerts(events: &[EventKind]) -> Vec<&'static str> {
    events
        .iter()
        .filter(|k| {
            matches!(
                k,
                EventKind::SlaWarned { .. } | EventKind::SlaBreached { .. }
            )
        })
        .map(EventKind::name)
        .collect()
}

fn pages(events: &[EventKind]) -> Vec<String> {
    events
        .iter()
        .filter_map(|k| match k {
            EventKind::Paged { key, target, .. } => Some(format!("{key} {target:?}")),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warned_and_breached_once_even_by_a_new_timer() {
    let (_dir, w) = world("").await;
    let timer = SlaTimer::new(w.ledger.clone(), w.config.clone());
    let warn = at("2026-11-27T13:30:00Z"); // 14:30 in Rome
    assert_eq!(timer.fire(at("2026-11-27T09:00:00Z")).await, Ok(Some(warn)));
    // Nothing changed: the timer answers from memory, and nothing is due.
    assert_eq!(timer.fire(at("2026-11-27T12:00:00Z")).await, Ok(Some(warn)));
    assert!(alerts(&w.events().await).is_empty());

    let breach = at("2026-11-27T14:30:01Z"); // 4h of business time, and a second
    assert_eq!(timer.fire(warn).await, Ok(Some(breach)));
    let events = w.events().await;
    assert_eq!(alerts(&events), ["sla_warned"]);
    assert!(events.iter().any(|k| matches!(
        k,
        EventKind::SlaWarned {
            side: Side::Msp,
            clock: SlaClock::FirstResponse,
            percent: 75,
            target_minutes: 240,
            ..
        }
    )));
    // No policy for P3 in the example: nobody is paged.
    assert!(pages(&events).is_empty());

    // Fired again, and by a new timer (a restart): nothing twice.
    timer.fire(warn).await.unwrap();
    let restarted = SlaTimer::new(w.ledger.clone(), w.config.clone());
    assert_eq!(restarted.fire(warn).await, Ok(Some(breach)));
    assert_eq!(alerts(&w.events().await), ["sla_warned"]);

    restarted.fire(breach).await.unwrap();
    restarted.fire(breach).await.unwrap();
    timer.fire(at("2026-11-27T15:00:00Z")).await.unwrap();
    assert_eq!(alerts(&w.events().await), ["sla_warned", "sla_breached"]);
}

/// Four more P3 requests like the world's, at the same time; their ids.
async fn more_requests(w: &World) -> Vec<TaskId> {
    let mut ids = vec![w.task.clone()];
    for n in 0..4 {
        let giulia = Actor::employee(PersonId(9001), ClientKey::new("ACME").unwrap());
        let outcome = w
            .ledger
            .submit(Request::by(
                giulia,
                Op::Create {
                    client: ClientKey::new("ACME").unwrap(),
                    new: NewTask {
                        title: format!("La stampante {n} non stampa"),
                        priority: Some(Priority::P3),
                        to: SideChoice::To(Side::Msp),
                        ..NewTask::default()
                    },
                },
            ))
            .await
            .unwrap();
        ids.push(outcome.task.id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_task_is_checked_however_many_pages_they_take() {
    let (_dir, w) = world("").await;
    let ids = more_requests(&w).await;
    // Two tasks per listing: five tasks take three pages.
    let timer = SlaTimer::new(w.ledger.clone(), w.config.clone()).with_page(2);
    timer.fire(at("2026-11-27T13:30:00Z")).await.unwrap();
    for id in &ids {
        let kinds = w.events_of(id).await;
        assert_eq!(alerts(&kinds), ["sla_warned"], "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_on_sla_warning_a_warning_pages_the_top_of_the_policy_once() {
    let policy = r#"
[[escalation]]
priority = "P3"
on_sla_warning = true
[[escalation.steps]]
after_minutes = 600
oncall = "msp-primary"
[[escalation.steps]]
after_minutes = 660
oncall = "msp-secondary"
"#;
    let (_dir, w) = world(policy).await;
    let timer = SlaTimer::new(w.ledger.clone(), w.config.clone());
    let escalator = Escalator::new(w.ledger.clone(), w.config.clone());
    let warn = at("2026-11-27T13:30:00Z");
    escalator.fire(warn).await.unwrap();
    assert!(
        pages(&w.events().await).is_empty(),
        "the policy's first step is at 600 minutes"
    );
    timer.fire(warn).await.unwrap();
    let events = w.events().await;
    assert_eq!(alerts(&events), ["sla_warned"]);
    let paged = pages(&events);
    assert_eq!(paged.len(), 1, "{paged:?}");
    assert!(paged[0].starts_with("page:ACME-1@"), "{paged:?}");
    assert!(paged[0].ends_with(&format!(
        ":r0:s0 {:?}",
        Target::OnCall("msp-primary".into())
    )));
    // The escalation timer counts that step as sent: at the step's own
    // time nothing is paged again; the next step follows at its time.
    escalator.fire(at("2026-11-30T12:00:00Z")).await.unwrap();
    let paged = pages(&w.events().await);
    assert_eq!(
        paged.iter().filter(|p| p.contains(":r0:s0")).count(),
        1,
        "{paged:?}"
    );
    assert!(paged.iter().any(|p| p.contains(":r0:s1")), "{paged:?}");
    // A later firing of the SLA timer pages nothing more.
    timer.fire(at("2026-11-30T12:00:00Z")).await.unwrap();
    let after = pages(&w.events().await);
    assert_eq!(after, paged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_escalator_pages_every_waiting_task_however_many_pages_they_take() {
    let policy = r#"
[[escalation]]
priority = "P3"
[[escalation.steps]]
after_minutes = 600
oncall = "msp-primary"
"#;
    let (_dir, w) = world(policy).await;
    let ids = more_requests(&w).await;
    let escalator = Escalator::new(w.ledger.clone(), w.config.clone()).with_page(2);
    escalator.fire(at("2026-11-30T12:00:00Z")).await.unwrap();
    for id in &ids {
        let kinds = w.events_of(id).await;
        let paged = pages(&kinds);
        assert_eq!(paged.len(), 1, "{id}: {paged:?}");
        let first_step = format!(":r0:s0 {:?}", Target::OnCall("msp-primary".into()));
        assert!(paged[0].ends_with(&first_step), "{id}: {paged:?}");
    }
}
