//! The sled store through the `Store` trait, with tasks made by the real
//! domain functions (`decide_create`, `decide`, `Task::fold`).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use ponte::domain::effect::{Effect, effects_of};
use ponte::domain::{
    Actor, Category, CategoryRule, ChatRef, ClientKey, ClientRouting, ClientScope, Command, Event,
    NewTask, PersonId, Priority, Role, RoleSet, Side, SideChoice, Status, Task, TaskId, UserError,
    Visibility, decide, decide_create,
};
use ponte::store::{
    Commit, CommitOutcome, Mark, OutboxEntry, Pages, RequestRecord, SledStore, Store, StoreError,
    StoreOptions, TaskFilter, TaskQuery, codec,
};
use proptest::prelude::*;

mod common;
use common::{stamp, tree_contents};

// ---------------------------------------------------------------------------
// Helpers: people, rules, commits.

fn t0() -> Timestamp {
    "2025-03-03T09:00:00Z".parse().unwrap()
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn client(raw: &str) -> ClientKey {
    ClientKey::new(raw).unwrap()
}

/// Network goes to the MSP, servers too but need approval, printers stay
/// with the company's IT; anything else goes to the company's IT.
fn routing() -> ClientRouting {
    let rule = |name: &str, kws: &[&str], owner, priority, needs_approval| CategoryRule {
        category: Category::new(name).unwrap(),
        keywords: kws.iter().map(|k| k.to_string()).collect(),
        owner,
        priority,
        needs_approval,
        actions: Vec::new(),
    };
    ClientRouting {
        categories: vec![
            rule("network", &["vpn", "wifi"], Side::Msp, Priority::P2, false),
            rule("servers", &["server"], Side::Msp, Priority::P3, true),
            rule(
                "printers",
                &["printer"],
                Side::Internal,
                Priority::P4,
                false,
            ),
        ],
        default_side: Side::Internal,
        default_priority: Priority::P3,
        critical: Vec::new(),
    }
}

fn actor(person: u64, side: Side, roles: &[Role], clients: ClientScope) -> Actor {
    Actor {
        person: PersonId(person),
        side,
        roles: roles.iter().copied().collect::<RoleSet>(),
        clients,
    }
}

/// The people of a client: IT manager, IT technician, employee, and the
/// MSP's engineer and lead (who serve every client).
fn people(client: &ClientKey, base: u64) -> Vec<Actor> {
    let only = || ClientScope::Only(client.clone());
    vec![
        actor(
            base + 1,
            Side::Internal,
            &[Role::ItManager, Role::Requester],
            only(),
        ),
        actor(
            base + 2,
            Side::Internal,
            &[Role::ItTechnician, Role::Requester],
            only(),
        ),
        actor(base + 3, Side::Internal, &[Role::Requester], only()),
        actor(
            900,
            Side::Msp,
            &[Role::MspEngineer, Role::Requester],
            ClientScope::All,
        ),
        actor(
            901,
            Side::Msp,
            &[Role::MspLead, Role::Requester],
            ClientScope::All,
        ),
    ]
}

/// The commit creating a task with the store's next number.
fn create(
    store: &impl Store,
    client: &ClientKey,
    by: &Actor,
    new: &NewTask,
    now: Timestamp,
    request: Option<&str>,
) -> Result<Commit, UserError> {
    let kinds = decide_create(by, client, new, &routing(), now)?;
    let id = TaskId::new(client.clone(), store.next_number(client).unwrap());
    let events = stamp(&id, 0, kinds, now, by);
    let after = Task::fold(&events).unwrap();
    Ok(Commit {
        before: None,
        effects: effects_of(&after, &events),
        after,
        events,
        request: request.map(str::to_owned),
        lookups: Vec::new(),
    })
}

/// The commit of a command on `task`.
fn change(
    task: &Task,
    by: &Actor,
    command: &Command,
    now: Timestamp,
    request: Option<&str>,
) -> Result<Commit, UserError> {
    let kinds = decide(task, by, command, &routing(), now)?;
    let events = stamp(&task.id, task.version, kinds, now, by);
    let mut after = task.clone();
    for event in &events {
        after.apply(event).unwrap();
    }
    Ok(Commit {
        before: Some(task.clone()),
        effects: effects_of(&after, &events),
        after,
        events,
        request: request.map(str::to_owned),
        lookups: Vec::new(),
    })
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn written(store: &impl Store, commit: &Commit) -> Task {
    assert_eq!(store.commit(commit).unwrap(), CommitOutcome::Written);
    commit.after.clone()
}

/// Everything the trait can read back, to show that a refused commit wrote
/// nothing.
#[derive(Debug, PartialEq)]
struct Dump {
    events: Vec<Event>,
    tasks: Vec<Task>,
    outbox: Vec<OutboxEntry>,
    next: Vec<(ClientKey, u64)>,
    lists: Vec<Vec<Task>>,
}

fn dump(store: &impl Store, clients: &[ClientKey]) -> Dump {
    let mut events = Vec::new();
    store
        .for_each_event(&mut |e| {
            events.push(e);
            Ok(())
        })
        .unwrap();
    let mut tasks = Vec::new();
    store
        .for_each_task(&mut |t| {
            tasks.push(t);
            Ok(())
        })
        .unwrap();
    let mut lists = Vec::new();
    for c in clients {
        for filter in [
            TaskFilter::Status(Status::ALL.to_vec()),
            TaskFilter::HandledBy(Side::Internal),
            TaskFilter::HandledBy(Side::Msp),
            TaskFilter::DueBy(Timestamp::MAX),
        ] {
            lists.push(list(store, c, filter));
        }
    }
    Dump {
        events,
        tasks,
        outbox: store.outbox_due(Timestamp::MAX, usize::MAX).unwrap(),
        next: clients
            .iter()
            .map(|c| (c.clone(), store.next_number(c).unwrap()))
            .collect(),
        lists,
    }
}

fn list(store: &impl Store, client: &ClientKey, filter: TaskFilter) -> Vec<Task> {
    store
        .list(&TaskQuery {
            client: client.clone(),
            filter,
            after: None,
            limit: 10_000,
        })
        .unwrap()
}

fn numbers(tasks: &[Task]) -> Vec<u64> {
    tasks.iter().map(|t| t.id.number()).collect()
}

fn assert_integrity(store: &SledStore) {
    let problems = store.check_integrity().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

// ---------------------------------------------------------------------------
// Example tests.

#[test]
fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let acme = client("ACME");
    let beta = client("BETA");
    let (pa, pb) = (people(&acme, 0), people(&beta, 10));
    let now = t0();

    let before = {
        let store = SledStore::open(&options).unwrap();
        let vpn = NewTask {
            due: Some(now + minutes(120)),
            ..new_task("VPN down in Milan")
        };
        let t1 = written(
            &store,
            &create(&store, &acme, &pa[2], &vpn, now, Some("i-1")).unwrap(),
        );
        let t2 = written(
            &store,
            &create(
                &store,
                &acme,
                &pa[0],
                &new_task("printer jammed"),
                now,
                None,
            )
            .unwrap(),
        );
        let b1 = written(
            &store,
            &create(
                &store,
                &beta,
                &pb[2],
                &new_task("file server slow"),
                now,
                None,
            )
            .unwrap(),
        );
        let t1 = written(
            &store,
            &change(&t1, &pa[3], &Command::Claim, now + minutes(1), Some("i-2")).unwrap(),
        );
        let t2 = written(
            &store,
            &change(
                &t2,
                &pa[1],
                &Command::SetStatus {
                    to: Status::Resolved,
                    reason: None,
                },
                now,
                None,
            )
            .unwrap(),
        );
        assert_eq!(
            (t1.status, t2.status, b1.approval.blocks_msp()),
            (Status::Claimed, Status::Resolved, true)
        );
        let first = store.outbox_due(now, 1).unwrap().remove(0);
        store
            .outbox_retry(first.id, now + minutes(5), "discord is down")
            .unwrap();
        store.flush().unwrap();
        let d = dump(&store, &[acme.clone(), beta.clone()]);
        assert_integrity(&store);
        d
        // every handle is dropped here: sled holds the directory lock
    };

    let store = SledStore::open(&options).unwrap();
    assert_eq!(dump(&store, &[acme.clone(), beta.clone()]), before);
    assert_integrity(&store);
    assert_eq!(store.task_count().unwrap(), 3);
    assert_eq!(store.next_number(&acme).unwrap(), 3);
    assert_eq!(store.next_number(&beta).unwrap(), 2);
    let t1 = store.task(&TaskId::new(acme.clone(), 1)).unwrap().unwrap();
    assert_eq!(t1.assignee, Some(PersonId(900)));
    assert_eq!(store.events(&t1.id).unwrap().len() as u32, t1.version);
    assert_eq!(numbers(&list(&store, &acme, TaskFilter::open())), [1]);
    assert_eq!(
        numbers(&list(
            &store,
            &acme,
            TaskFilter::Status(vec![Status::Resolved])
        )),
        [2]
    );
    assert_eq!(
        numbers(&list(&store, &acme, TaskFilter::AssignedTo(PersonId(900)))),
        [1]
    );
    assert_eq!(
        numbers(&list(&store, &acme, TaskFilter::DueBy(now + minutes(120)))),
        [1]
    );
    assert_eq!(
        numbers(&list(&store, &beta, TaskFilter::HandledBy(Side::Msp))),
        [1]
    );
    assert_eq!(
        store.request("i-2").unwrap(),
        Some(RequestRecord {
            task: t1.id.clone(),
            version: t1.version
        })
    );
    let outbox = store.outbox_due(Timestamp::MAX, 100).unwrap();
    // Five announcements, and the IT manager's approval card of a task
    // that needs approval.
    assert_eq!(
        outbox.iter().map(|e| e.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        outbox
            .iter()
            .filter(|e| matches!(e.effect, ponte::domain::effect::Effect::AskApproval { .. }))
            .count(),
        1
    );
    assert_eq!(
        (outbox[0].attempts, outbox[0].last_error.as_deref()),
        (1, Some("discord is down"))
    );
    // New ids continue after the old ones.
    let t1 = written(
        &store,
        &change(
            &t1,
            &pa[3],
            &Command::Comment {
                body: "on it".into(),
                visibility: Visibility::Shared,
            },
            now,
            None,
        )
        .unwrap(),
    );
    assert_eq!(
        store
            .outbox_due(Timestamp::MAX, 100)
            .unwrap()
            .last()
            .unwrap()
            .id,
        7
    );
    // A replayed request is still recognised.
    let replay = change(&t1, &pa[3], &Command::Unclaim, now, Some("i-2")).unwrap();
    assert!(matches!(
        store.commit(&replay).unwrap(),
        CommitOutcome::Duplicate(_)
    ));
}

#[test]
fn a_stale_change_is_refused_and_writes_nothing() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let now = t0();
    let task = written(
        &store,
        &create(&store, &acme, &p[2], &new_task("printer jammed"), now, None).unwrap(),
    );
    let claim = change(&task, &p[1], &Command::Claim, now, None).unwrap();
    let comment = change(
        &task,
        &p[2],
        &Command::Comment {
            body: "any news?".into(),
            visibility: Visibility::Shared,
        },
        now,
        Some("i-9"),
    )
    .unwrap();
    written(&store, &claim);
    let before = dump(&store, std::slice::from_ref(&acme));
    let err = store.commit(&comment).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(dump(&store, std::slice::from_ref(&acme)), before);
    assert_eq!(store.request("i-9").unwrap(), None);
    // Committing the same change twice is also stale the second time.
    assert!(matches!(store.commit(&claim), Err(StoreError::Conflict(_))));
    assert_eq!(dump(&store, std::slice::from_ref(&acme)), before);
    assert_integrity(&store);
}

#[test]
fn a_creation_with_the_wrong_number_is_refused() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let now = t0();
    let first = create(&store, &acme, &p[2], &new_task("printer jammed"), now, None).unwrap();
    // Decided concurrently, so it got the same number.
    let second = create(&store, &acme, &p[2], &new_task("new monitor"), now, None).unwrap();
    written(&store, &first);
    let before = dump(&store, std::slice::from_ref(&acme));
    let err = store.commit(&second).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    // A number that skips one.
    let skipping = {
        let mut events = second.events.clone();
        let id = TaskId::new(acme.clone(), 3);
        for e in &mut events {
            e.task = id.clone();
        }
        let after = Task::fold(&events).unwrap();
        Commit {
            before: None,
            effects: effects_of(&after, &events),
            after,
            events,
            request: Some("i-3".into()),
            lookups: Vec::new(),
        }
    };
    let err = store.commit(&skipping).unwrap_err();
    assert!(err.to_string().contains("number 2, not 3"), "{err}");
    assert_eq!(dump(&store, std::slice::from_ref(&acme)), before);
    assert_eq!(store.request("i-3").unwrap(), None);
    assert_integrity(&store);
}

#[test]
fn an_inconsistent_commit_is_refused_before_anything_is_written() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let mut commit = create(
        &store,
        &acme,
        &p[2],
        &new_task("printer jammed"),
        t0(),
        None,
    )
    .unwrap();
    commit.after.title = "something else".into();
    assert!(matches!(
        store.commit(&commit),
        Err(StoreError::InvalidCommit(_))
    ));
    let task = {
        commit.after = Task::fold(&commit.events).unwrap();
        written(&store, &commit)
    };
    let mut claim = change(&task, &p[1], &Command::Claim, t0(), None).unwrap();
    claim.events[0].seq += 1;
    assert!(matches!(
        store.commit(&claim),
        Err(StoreError::InvalidCommit(_))
    ));
    // `before` at the stored version but not the stored task.
    let mut claim = change(&task, &p[1], &Command::Claim, t0(), None).unwrap();
    if let Some(before) = &mut claim.before {
        before.title = "forged".into();
    }
    claim.after.title = "forged".into();
    assert!(matches!(store.commit(&claim), Err(StoreError::Conflict(_))));
    assert_eq!(store.events(&task.id).unwrap().len(), task.version as usize);
    assert_integrity(&store);
}

#[test]
fn a_replayed_request_returns_what_it_did_and_writes_nothing() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let now = t0();
    let created = create(
        &store,
        &acme,
        &p[2],
        &new_task("VPN down"),
        now,
        Some("interaction-1"),
    )
    .unwrap();
    let task = written(&store, &created);
    let before = dump(&store, std::slice::from_ref(&acme));
    let record = RequestRecord {
        task: task.id.clone(),
        version: task.version,
    };
    // The same interaction delivered again: decided again with a new number.
    let again = create(
        &store,
        &acme,
        &p[2],
        &new_task("VPN down"),
        now,
        Some("interaction-1"),
    )
    .unwrap();
    assert_eq!(
        store.commit(&again).unwrap(),
        CommitOutcome::Duplicate(record.clone())
    );
    // Or the very same commit, whose `before` is now stale: still a duplicate.
    assert_eq!(
        store.commit(&created).unwrap(),
        CommitOutcome::Duplicate(record.clone())
    );
    // Another change with the same key.
    let claim = change(&task, &p[3], &Command::Claim, now, Some("interaction-1")).unwrap();
    assert_eq!(
        store.commit(&claim).unwrap(),
        CommitOutcome::Duplicate(record.clone())
    );
    assert_eq!(dump(&store, std::slice::from_ref(&acme)), before);
    assert_eq!(store.request("interaction-1").unwrap(), Some(record));
    assert_eq!(store.request("interaction-2").unwrap(), None);
}

#[test]
fn the_outbox_delivers_in_order_and_backs_off() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let now = t0();
    let mut expected = Vec::new();
    for title in ["VPN down", "printer jammed", "new monitor"] {
        let c = create(&store, &acme, &p[2], &new_task(title), now, None).unwrap();
        expected.extend(c.effects.clone());
        written(&store, &c);
    }
    // Linking the chat has no effect: nothing is added.
    let t1 = store.task(&TaskId::new(acme.clone(), 1)).unwrap().unwrap();
    let link = change(
        &t1,
        &p[2],
        &Command::LinkChat(ChatRef {
            channel: Some(5),
            ..ChatRef::default()
        }),
        now,
        None,
    )
    .unwrap();
    assert!(link.effects.is_empty());
    written(&store, &link);

    let due = store.outbox_due(now, 10).unwrap();
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        due.iter().map(|e| e.effect.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        due.iter()
            .all(|e| e.attempts == 0 && e.last_error.is_none())
    );
    assert!(
        store.outbox_due(now - minutes(1), 10).unwrap().is_empty(),
        "not due before the change"
    );
    assert_eq!(store.outbox_due(now, 2).unwrap().len(), 2);
    assert_eq!(store.outbox_len().unwrap(), 3);

    store.outbox_retry(1, now + minutes(1), "timeout").unwrap();
    store
        .outbox_retry(1, now + minutes(4), "rate limited")
        .unwrap();
    assert_eq!(numbers_of(&store.outbox_due(now, 10).unwrap()), [2, 3]);
    assert_eq!(
        numbers_of(&store.outbox_due(now + minutes(3), 10).unwrap()),
        [2, 3]
    );
    let later = store.outbox_due(now + minutes(4), 10).unwrap();
    assert_eq!(numbers_of(&later), [1, 2, 3]);
    assert_eq!(
        (later[0].attempts, later[0].last_error.as_deref()),
        (2, Some("rate limited"))
    );
    assert_eq!(later[0].not_before, now + minutes(4));

    store.outbox_done(2).unwrap();
    store.outbox_done(2).unwrap();
    store.outbox_retry(2, now, "gone already").unwrap();
    assert_eq!(
        numbers_of(&store.outbox_due(Timestamp::MAX, 10).unwrap()),
        [1, 3]
    );
    assert_eq!(store.outbox_len().unwrap(), 2);
    store.outbox_done(1).unwrap();
    store.outbox_done(3).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 0);
    // Ids never go back, even when the outbox was empty.
    let t1 = store.task(&t1.id).unwrap().unwrap();
    written(
        &store,
        &change(&t1, &p[2], &Command::SetPriority(Priority::P1), now, None).unwrap(),
    );
    assert_eq!(
        numbers_of(&store.outbox_due(Timestamp::MAX, 10).unwrap()),
        [4]
    );
    assert_integrity(&store);
}

fn numbers_of(entries: &[OutboxEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.id).collect()
}

#[test]
fn listings_page_by_number_and_due_lists_go_by_time() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    let now = t0();
    // Due in 50, 10, none, 10, 30 minutes.
    for due in [Some(50), Some(10), None, Some(10), Some(30)] {
        let new = NewTask {
            due: due.map(|m| now + minutes(m)),
            ..new_task("new monitor")
        };
        written(
            &store,
            &create(&store, &acme, &p[2], &new, now, None).unwrap(),
        );
    }
    let t3 = store.task(&TaskId::new(acme.clone(), 3)).unwrap().unwrap();
    // The IT manager cancels task 3.
    written(
        &store,
        &change(&t3, &p[0], &Command::Cancel { reason: None }, now, None).unwrap(),
    );
    let query = |filter: TaskFilter, after: Option<u64>, limit: usize| {
        numbers(
            &store
                .list(&TaskQuery {
                    client: acme.clone(),
                    filter,
                    after,
                    limit,
                })
                .unwrap(),
        )
    };
    assert_eq!(query(TaskFilter::open(), None, 10), [1, 2, 4, 5]);
    assert_eq!(query(TaskFilter::open(), None, 2), [1, 2]);
    assert_eq!(query(TaskFilter::open(), Some(2), 2), [4, 5]);
    assert_eq!(query(TaskFilter::open(), Some(5), 2), Vec::<u64>::new());
    assert_eq!(
        query(TaskFilter::open(), Some(u64::MAX), 2),
        Vec::<u64>::new()
    );
    assert_eq!(query(TaskFilter::open(), None, 0), Vec::<u64>::new());
    assert_eq!(
        query(
            TaskFilter::Status(vec![Status::Cancelled, Status::New]),
            None,
            10
        ),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        query(
            TaskFilter::Status(vec![Status::Cancelled, Status::New]),
            Some(1),
            3
        ),
        [2, 3, 4]
    );
    assert_eq!(
        query(TaskFilter::Status(vec![]), None, 10),
        Vec::<u64>::new()
    );
    assert_eq!(
        query(TaskFilter::HandledBy(Side::Internal), None, 10),
        [1, 2, 4, 5]
    );
    assert_eq!(
        query(TaskFilter::HandledBy(Side::Msp), None, 10),
        Vec::<u64>::new()
    );
    assert_eq!(
        query(TaskFilter::DueBy(now + minutes(60)), None, 10),
        [2, 4, 5, 1]
    );
    assert_eq!(
        query(TaskFilter::DueBy(now + minutes(30)), None, 10),
        [2, 4, 5]
    );
    assert_eq!(query(TaskFilter::DueBy(now + minutes(30)), None, 2), [2, 4]);
    assert_eq!(
        query(TaskFilter::DueBy(now + minutes(30)), Some(2), 10),
        [4, 5]
    );
    assert_eq!(
        query(TaskFilter::DueBy(now + minutes(9)), None, 10),
        Vec::<u64>::new()
    );
    // Another client's tasks never show.
    let other = TaskQuery {
        client: client("ACM"),
        filter: TaskFilter::open(),
        after: None,
        limit: 10,
    };
    assert!(store.list(&other).unwrap().is_empty());
}

#[test]
fn concurrent_creators_get_gapless_numbers_by_retrying() {
    let store = SledStore::open_temporary().unwrap();
    let acme = client("ACME");
    let p = people(&acme, 0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..20 {
                    loop {
                        let c =
                            create(&store, &acme, &p[2], &new_task("printer"), t0(), None).unwrap();
                        match store.commit(&c) {
                            Ok(CommitOutcome::Written) => break,
                            Err(StoreError::Conflict(_)) => continue,
                            other => panic!("{other:?}"),
                        }
                    }
                }
            });
        }
    });
    assert_eq!(store.task_count().unwrap(), 40);
    assert_eq!(store.next_number(&acme).unwrap(), 41);
    assert_eq!(
        numbers_of(&store.outbox_due(Timestamp::MAX, 100).unwrap()),
        (1..=40).collect::<Vec<_>>()
    );
    assert_integrity(&store);
}

// ---------------------------------------------------------------------------
// Property: whatever people do, the store stays consistent.

const CLIENTS: [&str; 2] = ["ACME", "BETA"];
const TITLES: [&str; 5] = [
    "VPN down in Milan",
    "printer jammed",
    "file server slow",
    "new monitor",
    "wifi and printer",
];

#[derive(Clone, Debug)]
enum Cmd {
    Claim,
    Unclaim,
    Assign(usize),
    Comment(bool),
    Status(usize),
    Priority(usize),
    Due(Option<u8>),
    Retitle(usize),
    Handoff,
    Approve,
    Refuse,
    Reopen,
    Close,
    Cancel,
    Link(u8),
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        client: usize,
        who: usize,
        title: usize,
        to: u8,
        due: Option<u8>,
        chat: bool,
        keyed: bool,
    },
    Act {
        client: usize,
        task: usize,
        who: usize,
        cmd: Cmd,
        keyed: bool,
    },
    /// Commit an earlier commit again: a duplicate if it had a request key,
    /// stale otherwise.
    Again(usize),
    /// The clock is set back this many hours: tasks created next come
    /// before earlier-numbered ones in time.
    ClockBack(u8),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        3 => Just(Cmd::Claim),
        1 => Just(Cmd::Unclaim),
        2 => (0..5usize).prop_map(Cmd::Assign),
        2 => any::<bool>().prop_map(Cmd::Comment),
        6 => (0..Status::ALL.len()).prop_map(Cmd::Status),
        1 => (0..4usize).prop_map(Cmd::Priority),
        2 => proptest::option::of(0..48u8).prop_map(Cmd::Due),
        1 => (0..TITLES.len()).prop_map(Cmd::Retitle),
        2 => Just(Cmd::Handoff),
        2 => Just(Cmd::Approve),
        1 => Just(Cmd::Refuse),
        1 => Just(Cmd::Reopen),
        1 => Just(Cmd::Close),
        1 => Just(Cmd::Cancel),
        1 => (0..3u8).prop_map(Cmd::Link),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..2usize, 0..5usize, 0..TITLES.len(), 0..3u8, proptest::option::of(0..48u8), any::<bool>(), any::<bool>())
            .prop_map(|(client, who, title, to, due, chat, keyed)| Op::Create { client, who, title, to, due, chat, keyed }),
        8 => (0..2usize, 0..4usize, 0..5usize, cmd(), any::<bool>())
            .prop_map(|(client, task, who, cmd, keyed)| Op::Act { client, task, who, cmd, keyed }),
        1 => (0..64usize).prop_map(Op::Again),
        1 => (1..30u8).prop_map(Op::ClockBack),
    ]
}

fn command(cmd: &Cmd, people: &[Actor], now: Timestamp) -> Command {
    match cmd {
        Cmd::Claim => Command::Claim,
        Cmd::Unclaim => Command::Unclaim,
        Cmd::Assign(who) => Command::Assign {
            to: people[*who].clone(),
        },
        Cmd::Comment(shared) => Command::Comment {
            body: "a comment".into(),
            visibility: if *shared {
                Visibility::Shared
            } else {
                Visibility::Side(Side::Internal)
            },
        },
        Cmd::Status(i) => Command::SetStatus {
            to: Status::ALL[*i],
            reason: None,
        },
        Cmd::Priority(i) => Command::SetPriority(Priority::ALL[*i]),
        Cmd::Due(hours) => {
            Command::SetDue(hours.map(|h| now + SignedDuration::from_hours(h.into())))
        }
        Cmd::Retitle(i) => Command::Retitle(TITLES[*i].into()),
        Cmd::Handoff => Command::Handoff { reason: None },
        Cmd::Approve => Command::Approve,
        Cmd::Refuse => Command::Refuse {
            reason: "not now".into(),
        },
        Cmd::Reopen => Command::Reopen { reason: None },
        Cmd::Close => Command::Close,
        Cmd::Cancel => Command::Cancel { reason: None },
        Cmd::Link(n) => Command::LinkChat(ChatRef {
            channel: Some(10),
            thread: Some(u64::from(*n)),
            message: None,
        }),
    }
}

/// What the test expects, kept beside the store.
#[derive(Default)]
struct Model {
    commits: Vec<Commit>,
    outbox: Vec<Effect>,
    created: BTreeMap<ClientKey, u64>,
    requests: BTreeMap<String, RequestRecord>,
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let store = SledStore::open_temporary().unwrap();
    let clients: Vec<ClientKey> = CLIENTS.iter().map(|c| client(c)).collect();
    let people: Vec<Vec<Actor>> = clients
        .iter()
        .zip([0, 10])
        .map(|(c, base)| people(c, base))
        .collect();
    let mut model = Model::default();
    let mut now = t0();
    for (i, op) in ops.iter().enumerate() {
        now += minutes(7);
        let key = format!("req-{i}");
        let decided = match op {
            Op::Create {
                client,
                who,
                title,
                to,
                due,
                chat,
                keyed,
            } => {
                let new = NewTask {
                    title: TITLES[*title].into(),
                    to: match to {
                        0 => SideChoice::Auto,
                        1 => SideChoice::To(Side::Internal),
                        _ => SideChoice::To(Side::Msp),
                    },
                    due: due.map(|h| now + SignedDuration::from_hours(h.into())),
                    chat: chat.then(|| ChatRef {
                        channel: Some(1),
                        ..ChatRef::default()
                    }),
                    ..NewTask::default()
                };
                let request = keyed.then_some(key.as_str());
                create(
                    &store,
                    &clients[*client],
                    &people[*client][*who],
                    &new,
                    now,
                    request,
                )
                .ok()
            }
            Op::Act {
                client,
                task,
                who,
                cmd,
                keyed,
            } => {
                let created = model.created.get(&clients[*client]).copied().unwrap_or(0);
                if created == 0 {
                    continue;
                }
                let id = TaskId::new(clients[*client].clone(), *task as u64 % created + 1);
                let task = store.task(&id).unwrap().unwrap();
                let command = command(cmd, &people[*client], now);
                let request = keyed.then_some(key.as_str());
                change(&task, &people[*client][*who], &command, now, request).ok()
            }
            Op::ClockBack(hours) => {
                now -= SignedDuration::from_hours((*hours).into());
                continue;
            }
            Op::Again(n) => {
                if model.commits.is_empty() {
                    continue;
                }
                let old = &model.commits[n % model.commits.len()];
                let before = dump(&store, &clients);
                let outcome = store.commit(old);
                match &old.request {
                    Some(key) => prop_assert_eq!(
                        outcome.unwrap(),
                        CommitOutcome::Duplicate(model.requests[key].clone())
                    ),
                    None => prop_assert!(
                        matches!(outcome, Err(StoreError::Conflict(_))),
                        "{:?}",
                        outcome
                    ),
                }
                prop_assert_eq!(dump(&store, &clients), before);
                continue;
            }
        };
        let Some(commit) = decided else { continue };
        prop_assert_eq!(store.commit(&commit).unwrap(), CommitOutcome::Written);
        if commit.before.is_none() {
            *model
                .created
                .entry(commit.after.id.client().clone())
                .or_default() += 1;
        }
        if let Some(key) = &commit.request {
            let record = RequestRecord {
                task: commit.after.id.clone(),
                version: commit.after.version,
            };
            model.requests.insert(key.clone(), record);
        }
        model.outbox.extend(commit.effects.clone());
        model.commits.push(commit);
    }
    check(&store, &clients, &people, &model, now)
}

fn check(
    store: &SledStore,
    clients: &[ClientKey],
    people: &[Vec<Actor>],
    model: &Model,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    // Snapshots are the folds of their events.
    let mut tasks = Vec::new();
    store
        .for_each_task(&mut |t| {
            tasks.push(t);
            Ok(())
        })
        .unwrap();
    for task in &tasks {
        let events = store.events(&task.id).unwrap();
        prop_assert_eq!(&Task::fold(&events).unwrap(), task);
        prop_assert_eq!(store.task(&task.id).unwrap(), Some(task.clone()));
    }
    prop_assert_eq!(store.task_count().unwrap(), tasks.len() as u64);
    // Export order: client, number, seq.
    let mut events = Vec::new();
    store
        .for_each_event(&mut |e| {
            events.push((e.task.clone(), e.seq));
            Ok(())
        })
        .unwrap();
    prop_assert!(events.windows(2).all(|w| w[0] < w[1]));
    prop_assert_eq!(
        events.len() as u64,
        tasks.iter().map(|t| u64::from(t.version)).sum::<u64>()
    );

    for (c, client) in clients.iter().enumerate() {
        let mine: Vec<Task> = tasks
            .iter()
            .filter(|t| t.id.client() == client)
            .cloned()
            .collect();
        // Ids are unique and gapless.
        let n = model.created.get(client).copied().unwrap_or(0);
        prop_assert_eq!(numbers(&mine), (1..=n).collect::<Vec<_>>());
        prop_assert_eq!(store.next_number(client).unwrap(), n + 1);
        // Every index agrees with a full scan.
        let mut filters = vec![
            TaskFilter::open(),
            TaskFilter::Status(Status::ALL.to_vec()),
            TaskFilter::Status(vec![Status::Resolved, Status::New, Status::Resolved]),
            TaskFilter::Status(vec![]),
            TaskFilter::HandledBy(Side::Internal),
            TaskFilter::HandledBy(Side::Msp),
        ];
        filters.extend(Status::ALL.map(|s| TaskFilter::Status(vec![s])));
        filters.extend(people[c].iter().map(|p| TaskFilter::AssignedTo(p.person)));
        filters.push(TaskFilter::AssignedTo(PersonId(12345)));
        for hours in [0, 5, 24, 1000] {
            filters.push(TaskFilter::DueBy(t0() + SignedDuration::from_hours(hours)));
        }
        filters.push(TaskFilter::DueBy(now));
        for hours in [0, 1, 5, 24, 1000] {
            filters.push(TaskFilter::ChangedAfter(
                t0() + SignedDuration::from_hours(hours),
            ));
        }
        filters.push(TaskFilter::ChangedAfter(now));
        filters.push(TaskFilter::ChangedAfter(Timestamp::MIN));
        // Exactly at a task's last change: that task is not after it.
        if let Some(t) = mine.first() {
            filters.push(TaskFilter::ChangedAfter(t.updated_at));
        }
        // Periods of creation: from is included, to is not.
        let at = |hours| t0() + SignedDuration::from_hours(hours);
        for (from, to) in [
            (0, 1),
            (0, 5),
            (1, 24),
            (5, 1000),
            (24, 0),
            (-30, 2),
            (-3, 1),
        ] {
            filters.push(TaskFilter::CreatedIn {
                from: at(from),
                to: at(to),
            });
        }
        filters.push(TaskFilter::CreatedIn {
            from: Timestamp::MIN,
            to: Timestamp::MAX,
        });
        if let (Some(first), Some(last)) = (mine.first(), mine.last()) {
            filters.push(TaskFilter::CreatedIn {
                from: first.created_at,
                to: last.created_at,
            });
        }
        // Periods that start or end exactly at a creation (with the clock
        // set back, before or after tasks numbered before it).
        for t in mine.iter().step_by(3) {
            filters.push(TaskFilter::CreatedIn {
                from: t.created_at,
                to: t.created_at + minutes(30),
            });
            filters.push(TaskFilter::CreatedIn {
                from: t.created_at - minutes(60),
                to: t.created_at,
            });
        }
        for filter in filters {
            let expected = scan(&mine, &filter);
            for (after, limit) in [
                (None, 10_000),
                (None, 1),
                (None, 3),
                (Some(1), 2),
                (Some(3), 10_000),
                (Some(n), 5),
            ] {
                let query = TaskQuery {
                    client: client.clone(),
                    filter: filter.clone(),
                    after,
                    limit,
                };
                let want: Vec<Task> = expected
                    .iter()
                    .filter(|t| after.is_none_or(|a| t.id.number() > a))
                    .take(limit)
                    .cloned()
                    .collect();
                prop_assert_eq!(store.list(&query).unwrap(), want, "{:?}", query);
            }
        }
    }
    // Walking the open tasks a page at a time sees each exactly once.
    for client in clients.iter() {
        for page in [1, 2, 1000] {
            let walked = |pages: Pages| {
                let (mut seen, mut largest) = (Vec::new(), 0);
                pages
                    .for_each(store, |tasks| {
                        largest = largest.max(tasks.len());
                        seen.extend(tasks);
                        Ok(())
                    })
                    .unwrap();
                seen.sort_by_key(|t| t.id.number());
                (seen, largest <= page)
            };
            prop_assert_eq!(
                walked(Pages::open(client, page)),
                (list(store, client, TaskFilter::open()), true)
            );
            for side in [Side::Internal, Side::Msp] {
                prop_assert_eq!(
                    walked(Pages::handled_by(client, side, page)),
                    (list(store, client, TaskFilter::HandledBy(side)), true)
                );
            }
        }
    }
    // The outbox holds exactly the effects committed, in commit order, with
    // gapless ids.
    let outbox = store.outbox_due(Timestamp::MAX, usize::MAX).unwrap();
    prop_assert_eq!(
        outbox.iter().map(|e| e.effect.clone()).collect::<Vec<_>>(),
        model.outbox.clone()
    );
    prop_assert_eq!(
        numbers_of(&outbox),
        (1..=model.outbox.len() as u64).collect::<Vec<_>>()
    );
    prop_assert_eq!(store.outbox_len().unwrap(), model.outbox.len());
    for (key, record) in &model.requests {
        prop_assert_eq!(store.request(key).unwrap(), Some(record.clone()));
    }
    // And the raw trees hold nothing more than that.
    let problems = store.check_integrity().unwrap();
    prop_assert!(problems.is_empty(), "{:#?}", problems);
    Ok(())
}

/// The listing, by a full scan of the snapshots.
fn scan(tasks: &[Task], filter: &TaskFilter) -> Vec<Task> {
    let mut found: Vec<Task> = tasks
        .iter()
        .filter(|t| match filter {
            TaskFilter::Status(statuses) => statuses.contains(&t.status),
            TaskFilter::HandledBy(side) => t.status.is_open() && t.handling_side == *side,
            TaskFilter::AssignedTo(person) => t.status.is_open() && t.assignee == Some(*person),
            TaskFilter::DueBy(by) => t.status.is_open() && t.due.is_some_and(|d| d <= *by),
            TaskFilter::ChangedAfter(at) => t.updated_at > *at,
            TaskFilter::CreatedIn { from, to } => t.created_at >= *from && t.created_at < *to,
        })
        .cloned()
        .collect();
    match filter {
        TaskFilter::DueBy(_) => found.sort_by_key(|t| (t.due, t.id.number())),
        TaskFilter::ChangedAfter(_) => found.sort_by_key(|t| (t.updated_at, t.id.number())),
        TaskFilter::CreatedIn { .. } => found.sort_by_key(|t| (t.created_at, t.id.number())),
        _ => found.sort_by_key(|t| t.id.number()),
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_store_stays_consistent(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }
}

#[test]
fn a_mark_is_recorded_once_with_its_effects_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let acme = client("ACME");
    let effect = Effect::Announce {
        task: TaskId::new(acme.clone(), 1),
        first: 1,
        last: 1,
    };
    let day = |d: &str| Mark {
        key: format!("digest:ACME:internal:{d}"),
        at: t0(),
    };
    {
        let store = SledStore::open(&StoreOptions::new(dir.path())).unwrap();
        assert!(
            store
                .commit_mark(&day("2026-11-27"), std::slice::from_ref(&effect))
                .unwrap()
        );
        assert!(store.commit_mark(&day("2026-11-28"), &[]).unwrap());
        // The same mark again writes nothing, not even its effects.
        assert!(
            !store
                .commit_mark(&day("2026-11-27"), std::slice::from_ref(&effect))
                .unwrap()
        );
        assert_eq!(store.outbox_len().unwrap(), 1);
        store.flush().unwrap();
    }
    let store = SledStore::open(&StoreOptions::new(dir.path())).unwrap();
    assert!(!store.commit_mark(&day("2026-11-28"), &[]).unwrap());
    assert_eq!(
        store.mark("digest:ACME:internal:2026-11-27").unwrap(),
        Some(t0())
    );
    assert_eq!(store.mark("digest:ACME:msp:2026-11-27").unwrap(), None);
    assert_eq!(
        store.last_mark("digest:ACME:internal:").unwrap(),
        Some(day("2026-11-28"))
    );
    assert_eq!(store.last_mark("digest:BRIGHT:").unwrap(), None);
    let due = store.outbox_due(t0(), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].effect, effect);
    assert_integrity(&store);
}

#[test]
fn tasks_are_listed_by_last_change_and_derived_trees_are_built_for_older_stores() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let acme = client("ACME");
    let beta = client("BETA");
    let (pa, pb) = (people(&acme, 0), people(&beta, 10));
    let now = t0();
    {
        let store = SledStore::open(&options).unwrap();
        let t1 = written(
            &store,
            &create(&store, &acme, &pa[2], &new_task("VPN down"), now, None).unwrap(),
        );
        written(
            &store,
            &create(
                &store,
                &acme,
                &pa[0],
                &new_task("printer"),
                now + minutes(10),
                None,
            )
            .unwrap(),
        );
        written(
            &store,
            &create(
                &store,
                &beta,
                &pb[2],
                &new_task("file server"),
                now + minutes(20),
                None,
            )
            .unwrap(),
        );
        // Task 1 changes last: it moves to the end of the change order.
        written(
            &store,
            &change(&t1, &pa[3], &Command::Claim, now + minutes(30), None).unwrap(),
        );
        let changed = |at| numbers(&list(&store, &acme, TaskFilter::ChangedAfter(at)));
        assert_eq!(changed(now - minutes(1)), [2, 1]);
        assert_eq!(changed(now), [2, 1]);
        // A change exactly at the time given is not after it.
        assert_eq!(changed(now + minutes(10)), [1]);
        assert_eq!(changed(now + minutes(30)), Vec::<u64>::new());
        assert_eq!(
            numbers(&list(&store, &beta, TaskFilter::ChangedAfter(now))),
            [1]
        );
        assert!(store.check_integrity().unwrap().is_empty());
        store.flush().unwrap();
    }
    // A store written before the indexes existed: no index, no marker.
    {
        let db = reopen_raw(dir.path());
        db.drop_tree("idx_changed").unwrap();
        db.drop_tree("idx_created").unwrap();
        db.drop_tree("open_tasks").unwrap();
        forget_conversions(&db, &["derived_trees_v3"]);
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    assert_eq!(
        numbers(&list(&store, &acme, TaskFilter::ChangedAfter(now))),
        [2, 1]
    );
    let created = |from, to| {
        numbers(&list(
            &store,
            &acme,
            TaskFilter::CreatedIn {
                from: now + minutes(from),
                to: now + minutes(to),
            },
        ))
    };
    assert_eq!(created(0, 11), [1, 2]);
    assert_eq!(created(0, 10), [1]);
    assert_eq!(created(1, 10), Vec::<u64>::new());
    assert_eq!(numbers(&list(&store, &acme, TaskFilter::open())), [1, 2]);
    assert!(store.check_integrity().unwrap().is_empty());
    drop(store);
    // The integrity check sees a missing open snapshot and a stale entry
    // by last change.
    {
        let db = reopen_raw(dir.path());
        let mut task_1 = b"ACME\0".to_vec();
        task_1.extend_from_slice(&1u64.to_be_bytes());
        db.open_tree("open_tasks").unwrap().remove(&task_1).unwrap();
        let mut stale = b"ACME\0".to_vec();
        stale.extend_from_slice(&[0x80; 16]);
        stale.extend_from_slice(&7u64.to_be_bytes());
        db.open_tree("idx_changed")
            .unwrap()
            .insert(stale, &[] as &[u8])
            .unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    let problems = store.check_integrity().unwrap().join("\n");
    assert!(
        problems.contains("`open_tasks` lacks the open task"),
        "{problems}"
    );
    assert!(
        problems.contains("index `idx_changed` has a stale"),
        "{problems}"
    );
}

/// Opens a directory with plain sled once the store dropped before has
/// released it.
/// Removes the `meta` flags of these conversions, as in a store written
/// before them, so that the next open runs them.
fn forget_conversions(db: &sled::Db, flags: &[&str]) {
    let meta = db.open_tree("meta").unwrap();
    for flag in flags {
        meta.remove(flag).unwrap();
    }
}

fn reopen_raw(path: &std::path::Path) -> sled::Db {
    for _ in 0..250 {
        if let Ok(db) = sled::open(path) {
            return db;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} stayed locked", path.display());
}

fn reopen_store(options: &StoreOptions) -> SledStore {
    for _ in 0..250 {
        if let Ok(store) = SledStore::open(options) {
            return store;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} stayed locked", options.path.display());
}

/// Rewrites every snapshot (in `tasks` and `open_tasks`) without its
/// `Task::facts`: as JSON without the `facts` field when `json` (what a
/// version before the facts and before `store::codec` wrote), else in the
/// store's own encoding with empty facts.
fn strip_facts(db: &sled::Db, json: bool) {
    for name in ["tasks", "open_tasks"] {
        let tree = db.open_tree(name).unwrap();
        for item in tree.iter() {
            let (key, raw) = item.unwrap();
            let mut task = codec::decode_snapshot(&raw).unwrap();
            assert!(!task.facts.moves.is_empty());
            task.facts = Default::default();
            let value = if json {
                let mut json = serde_json::to_value(&task).unwrap();
                json.as_object_mut().unwrap().remove("facts");
                serde_json::to_vec(&json).unwrap()
            } else {
                codec::encode_snapshot(&task)
            };
            tree.insert(key, value).unwrap();
        }
    }
}

/// ACME's "printer" task, created at `now` by `people[2]` and resolved 50
/// minutes later by `people[1]`.
fn resolved_printer(
    store: &SledStore,
    client: &ClientKey,
    people: &[Actor],
    now: Timestamp,
) -> Task {
    let task = written(
        store,
        &create(store, client, &people[2], &new_task("printer"), now, None).unwrap(),
    );
    let resolve = Command::SetStatus {
        to: Status::Resolved,
        reason: None,
    };
    written(
        store,
        &change(&task, &people[1], &resolve, now + minutes(50), None).unwrap(),
    )
}

#[test]
fn snapshots_written_before_the_facts_are_folded_again_once_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let acme = client("ACME");
    let pa = people(&acme, 0);
    let now = t0();
    let (open, finished) = {
        let store = SledStore::open(&options).unwrap();
        let open = written(
            &store,
            &create(&store, &acme, &pa[2], &new_task("VPN down"), now, None).unwrap(),
        );
        let open = written(
            &store,
            &change(&open, &pa[3], &Command::Claim, now + minutes(30), None).unwrap(),
        );
        let comment = Command::Comment {
            body: "rebooted the router".into(),
            visibility: Visibility::Shared,
        };
        let open = written(
            &store,
            &change(&open, &pa[3], &comment, now + minutes(40), None).unwrap(),
        );
        let finished = resolved_printer(&store, &acme, &pa, now);
        assert_eq!(
            open.facts
                .last_comment(ponte::domain::Audience::Staff(Side::Internal)),
            Some("rebooted the router")
        );
        assert_eq!(open.facts.moves.len(), 1, "the MSP's move since creation");
        assert_eq!(finished.facts.finished_at, Some(now + minutes(50)));
        assert_integrity(&store);
        store.flush().unwrap();
        (open, finished)
    };
    // What an older version left: JSON snapshots without facts, no marker
    // for either. The facts read as empty, which is not the fold.
    {
        let db = reopen_raw(dir.path());
        strip_facts(&db, true);
        forget_conversions(&db, &["snapshot_facts_v1", "snapshot_codec_v1"]);
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    assert_eq!(store.task(&open.id).unwrap(), Some(open.clone()));
    assert_eq!(store.task(&finished.id).unwrap(), Some(finished.clone()));
    assert_eq!(
        list(&store, &acme, TaskFilter::open()),
        std::slice::from_ref(&open)
    );
    assert_integrity(&store);
    // Once only: facts stripped again with the marker set are not rebuilt,
    // and the integrity check reports the snapshots that are not the fold.
    drop(store);
    {
        let db = reopen_raw(dir.path());
        strip_facts(&db, false);
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    assert!(
        store
            .task(&open.id)
            .unwrap()
            .unwrap()
            .facts
            .moves
            .is_empty()
    );
    let problems = store.check_integrity().unwrap().join("\n");
    assert!(
        problems.contains(&format!(
            "snapshot {} differs from the fold of its events",
            open.id
        )),
        "{problems}"
    );
    assert!(
        problems.contains(&format!(
            "snapshot {} differs from the fold of its events",
            finished.id
        )),
        "{problems}"
    );
}

/// Rewrites a store as a version before history chunks left it: one key
/// per event in `events` (`task key` + `seq`), no `history`, finished tasks
/// in `idx_status` too, and neither marker. Returns how many events.
fn unchunk(db: &sled::Db, tasks: &[Task]) -> usize {
    let history = db.open_tree("history").unwrap();
    let events = db.open_tree("events").unwrap();
    let mut n = 0;
    for item in history.iter() {
        let (key, chunk) = item.unwrap();
        let task_key = &key[..key.len() - 4];
        for line in chunk.strip_suffix(b"\n").unwrap().split(|b| *b == b'\n') {
            let event: Event = serde_json::from_slice(line).unwrap();
            let mut event_key = task_key.to_vec();
            event_key.extend_from_slice(&event.seq.to_be_bytes());
            events.insert(event_key, line).unwrap();
            n += 1;
        }
    }
    drop(history);
    db.drop_tree("history").unwrap();
    let status = db.open_tree("idx_status").unwrap();
    for task in tasks.iter().filter(|t| !t.status.is_open()) {
        let mut key = task.id.client().as_str().as_bytes().to_vec();
        key.push(0);
        key.push(task.status.code());
        key.extend_from_slice(&task.id.number().to_be_bytes());
        status.insert(key, &[] as &[u8]).unwrap();
    }
    forget_conversions(db, &["history_chunks_v1", "status_index_open_v1"]);
    n
}

#[test]
fn events_stored_one_per_key_move_into_history_chunks_once_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let (acme, beta) = (client("ACME"), client("BETA"));
    let (pa, pb) = (people(&acme, 0), people(&beta, 10));
    let now = t0();
    let tasks = {
        let store = SledStore::open(&options).unwrap();
        // 2 + 35 events: three chunks, the last one partly filled.
        let mut long = written(
            &store,
            &create(&store, &acme, &pa[2], &new_task("VPN down"), now, None).unwrap(),
        );
        for i in 0..35 {
            let comment = Command::Comment {
                body: format!("try {i}:\nline two"),
                visibility: Visibility::Shared,
            };
            long = written(
                &store,
                &change(&long, &pa[3], &comment, now + minutes(i + 1), None).unwrap(),
            );
        }
        assert_eq!(long.version, 37);
        let finished = resolved_printer(&store, &acme, &pa, now);
        let other = written(
            &store,
            &create(&store, &beta, &pb[2], &new_task("file server"), now, None).unwrap(),
        );
        assert_integrity(&store);
        store.flush().unwrap();
        vec![long, finished, other]
    };
    let history = |store: &SledStore| -> Vec<Vec<Event>> {
        tasks.iter().map(|t| store.events(&t.id).unwrap()).collect()
    };
    let before = {
        let store = reopen_store(&options);
        let h = history(&store);
        assert_eq!(h.iter().map(Vec::len).collect::<Vec<_>>(), [37, 4, 3]);
        h
    };
    let convert_and_check = |partial: bool| {
        {
            let db = reopen_raw(dir.path());
            assert_eq!(unchunk(&db, &tasks), 44);
            if partial {
                // A conversion interrupted halfway left a chunk behind.
                db.open_tree("history")
                    .unwrap()
                    .insert(b"ACME\0\0\0\0\0\0\0\0\x01\0\0\0\0", b"{}\n".as_slice())
                    .unwrap();
            }
            db.flush().unwrap();
        }
        let store = reopen_store(&options);
        assert_eq!(history(&store), before);
        for task in &tasks {
            assert_eq!(store.task(&task.id).unwrap().as_ref(), Some(task));
        }
        assert_eq!(
            numbers(&list(
                &store,
                &acme,
                TaskFilter::Status(vec![Status::Resolved, Status::New])
            )),
            [1, 2]
        );
        assert_integrity(&store);
        drop(store);
        let db = reopen_raw(dir.path());
        assert!(
            !db.tree_names().iter().any(|n| n == b"events"),
            "the old tree is dropped"
        );
        // Only the two open tasks are left in the status index.
        assert_eq!(db.open_tree("idx_status").unwrap().len(), 2);
        // 37 events in 3 chunks, 4 and 3 in one each.
        assert_eq!(db.open_tree("history").unwrap().len(), 5);
    };
    convert_and_check(false);
    convert_and_check(true);
}

/// Rewrites the snapshots of `tree` as JSON, as Ponte wrote them before
/// `store::codec` (all of them, or only the first `limit`).
fn to_json(db: &sled::Db, tree: &str, limit: usize) {
    let tree = db.open_tree(tree).unwrap();
    for item in tree.iter().take(limit) {
        let (key, raw) = item.unwrap();
        let task = codec::decode_snapshot(&raw).unwrap();
        tree.insert(key, serde_json::to_vec(&task).unwrap())
            .unwrap();
    }
}

#[test]
fn json_snapshots_of_an_older_store_are_reencoded_once_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let acme = client("ACME");
    let pa = people(&acme, 0);
    let now = t0();
    let tasks: Vec<Task> = {
        let store = SledStore::open(&options).unwrap();
        let mut tasks = Vec::new();
        for (i, title) in ["VPN down", "printer", "wifi", "printer toner"]
            .iter()
            .enumerate()
        {
            let at = now + minutes(i as i64);
            let task = written(
                &store,
                &create(&store, &acme, &pa[2], &new_task(title), at, None).unwrap(),
            );
            let task = if i % 2 == 1 {
                let resolve = Command::SetStatus {
                    to: Status::Resolved,
                    reason: None,
                };
                written(
                    &store,
                    &change(&task, &pa[1], &resolve, at + minutes(5), None).unwrap(),
                )
            } else {
                task
            };
            tasks.push(task);
        }
        assert_integrity(&store);
        store.flush().unwrap();
        tasks
    };
    let encoded = {
        let db = reopen_raw(dir.path());
        let tasks_tree = tree_contents(&db, "tasks");
        let open_tree = tree_contents(&db, "open_tasks");
        assert_eq!(tasks_tree.len(), 4);
        assert_eq!(open_tree.len(), 2);
        for (key, value) in &open_tree {
            assert_eq!(tasks_tree.get(key), Some(value), "open_tasks = tasks");
        }
        assert!(tasks_tree.values().all(|v| v[0] == codec::VERSION));
        // The store an older Ponte left: every snapshot JSON, no marker.
        to_json(&db, "tasks", usize::MAX);
        to_json(&db, "open_tasks", usize::MAX);
        forget_conversions(&db, &["snapshot_codec_v1"]);
        db.flush().unwrap();
        tasks_tree
    };
    let store = reopen_store(&options);
    for task in &tasks {
        assert_eq!(store.task(&task.id).unwrap().as_ref(), Some(task));
    }
    assert_eq!(numbers(&list(&store, &acme, TaskFilter::open())), [1, 3]);
    assert_integrity(&store);
    drop(store);
    {
        let db = reopen_raw(dir.path());
        assert_eq!(
            tree_contents(&db, "tasks"),
            encoded,
            "the same bytes as written"
        );
        // A re-encoding cut short by a crash: part of `tasks` and all of
        // `open_tasks` still JSON, and no marker.
        to_json(&db, "tasks", 2);
        to_json(&db, "open_tasks", usize::MAX);
        forget_conversions(&db, &["snapshot_codec_v1"]);
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    assert_integrity(&store);
    drop(store);
    {
        let db = reopen_raw(dir.path());
        assert_eq!(tree_contents(&db, "tasks"), encoded);
        let open_tree = tree_contents(&db, "open_tasks");
        assert_eq!(open_tree.len(), 2);
        for (key, value) in &open_tree {
            assert_eq!(encoded.get(key), Some(value), "open_tasks = tasks");
        }
        // Once the marker is set, JSON is not read any more: it is reported
        // as unreadable, naming the tree and key (ACME-2 is finished: it is
        // read from `tasks`).
        to_json(&db, "tasks", 2);
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    match store.task(&tasks[1].id) {
        Err(StoreError::Corrupt(m)) => {
            assert!(m.contains("tree `tasks`, key `ACME\\x00"), "{m}");
            assert!(m.contains("JSON"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(store.check_integrity().is_err());
}

/// `client \0 created_at number`, as `idx_created` keys are written.
fn created_key(task: &Task) -> Vec<u8> {
    let mut key = task.id.client().as_str().as_bytes().to_vec();
    key.push(0);
    let nanos = (task.created_at.as_nanosecond() as u128) ^ (1u128 << 127);
    key.extend_from_slice(&nanos.to_be_bytes());
    key.extend_from_slice(&task.id.number().to_be_bytes());
    key
}

/// Tasks of ACME created at these minutes after `t0()`, in this order
/// (numbers 1, 2, ...), and one of BETA.
fn created_at_minutes(store: &SledStore, minutes_after: &[i64]) -> Vec<Task> {
    let (acme, beta) = (client("ACME"), client("BETA"));
    let (pa, pb) = (people(&acme, 0), people(&beta, 10));
    let mut tasks: Vec<Task> = minutes_after
        .iter()
        .map(|m| {
            let at = t0() + minutes(*m);
            written(
                store,
                &create(store, &acme, &pa[2], &new_task("VPN down"), at, None).unwrap(),
            )
        })
        .collect();
    tasks.push(written(
        store,
        &create(store, &beta, &pb[2], &new_task("file server"), t0(), None).unwrap(),
    ));
    tasks
}

#[test]
fn tasks_created_while_the_clock_was_set_back_are_listed_in_their_period() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let acme = client("ACME");
    let created = |store: &SledStore, from: i64, to: i64| {
        numbers(&list(
            store,
            &acme,
            TaskFilter::CreatedIn {
                from: t0() + minutes(from),
                to: t0() + minutes(to),
            },
        ))
    };
    {
        let store = SledStore::open(&options).unwrap();
        // Task 3 came after the clock went back 25 minutes; task 4 is still
        // before task 2 in time; task 5 is in order again.
        let tasks = created_at_minutes(&store, &[0, 20, -5, 10, 30]);
        assert_eq!(created(&store, -60, 60), [3, 1, 4, 2, 5]);
        assert_eq!(created(&store, -5, 0), [3]);
        assert_eq!(created(&store, 0, 10), [1]);
        assert_eq!(created(&store, 5, 25), [4, 2]);
        assert_eq!(created(&store, 10, 11), [4]);
        assert_eq!(created(&store, 21, 30), Vec::<u64>::new());
        assert_eq!(created(&store, 30, 30), Vec::<u64>::new());
        assert_eq!(
            store
                .list(&TaskQuery {
                    client: acme.clone(),
                    filter: TaskFilter::CreatedIn {
                        from: t0() - minutes(60),
                        to: t0() + minutes(60),
                    },
                    after: Some(1),
                    limit: 2,
                })
                .map(|t| numbers(&t))
                .unwrap(),
            [3, 4]
        );
        // Only the two out of order are in the index, with the newest
        // creation before them.
        let mut out_of_order = vec![created_key(&tasks[2]), created_key(&tasks[3])];
        out_of_order.sort();
        assert_integrity(&store);
        store.flush().unwrap();
        drop(store);
        let db = reopen_raw(dir.path());
        let index = tree_contents(&db, "idx_created");
        assert_eq!(index.keys().cloned().collect::<Vec<_>>(), out_of_order);
    }
    let store = reopen_store(&options);
    assert_eq!(created(&store, -60, 60), [3, 1, 4, 2, 5]);
    assert_eq!(created(&store, 5, 25), [4, 2]);
    assert_integrity(&store);
    drop(store);
    // The integrity check sees an out-of-order task missing from the index.
    {
        let db = reopen_raw(dir.path());
        let index = db.open_tree("idx_created").unwrap();
        let first = index.iter().keys().next().unwrap().unwrap();
        index.remove(first).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(&options);
    let problems = store.check_integrity().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("lacks") && problems[0].contains("out of number order"),
        "{problems:?}"
    );
}

#[test]
fn a_creation_index_of_every_task_is_thinned_to_the_out_of_order_ones_once_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(dir.path());
    let (acme, beta) = (client("ACME"), client("BETA"));
    let (index, counters, tasks) = {
        let store = SledStore::open(&options).unwrap();
        let tasks = created_at_minutes(&store, &[0, 20, -5, 10, 30]);
        store.flush().unwrap();
        drop(store);
        let db = reopen_raw(dir.path());
        (
            tree_contents(&db, "idx_created"),
            tree_contents(&db, "counters"),
            tasks,
        )
    };
    assert_eq!(index.len(), 2);
    let everything = TaskFilter::CreatedIn {
        from: Timestamp::MIN,
        to: Timestamp::MAX,
    };
    let convert_and_check = |partial: bool| {
        {
            // As Ponte wrote it before: every task in `idx_created`, with
            // no value, and counters of the last number only.
            let db = reopen_raw(dir.path());
            let idx = db.open_tree("idx_created").unwrap();
            for task in &tasks {
                idx.insert(created_key(task), &[] as &[u8]).unwrap();
            }
            let counter_tree = db.open_tree("counters").unwrap();
            for (key, value) in &counters {
                counter_tree.insert(key.as_slice(), &value[..8]).unwrap();
            }
            if partial {
                // A conversion interrupted halfway: one counter and one
                // index entry already written.
                let (key, value) = counters.iter().next().unwrap();
                counter_tree
                    .insert(key.as_slice(), value.as_slice())
                    .unwrap();
                idx.remove(created_key(&tasks[0])).unwrap();
            }
            forget_conversions(&db, &["created_index_late_only_v1"]);
            db.flush().unwrap();
        }
        let store = reopen_store(&options);
        assert_eq!(
            numbers(&list(&store, &acme, everything.clone())),
            [3, 1, 4, 2, 5]
        );
        assert_eq!(numbers(&list(&store, &beta, everything.clone())), [1]);
        assert_integrity(&store);
        drop(store);
        let db = reopen_raw(dir.path());
        assert_eq!(tree_contents(&db, "idx_created"), index);
        assert_eq!(tree_contents(&db, "counters"), counters);
    };
    convert_and_check(false);
    convert_and_check(true);
}
