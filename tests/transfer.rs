//! `ponte export` then `ponte import` into a fresh store gives the same
//! history, snapshots, counters and indexes; bad files are refused with the
//! line to fix.

mod common;

use std::sync::Arc;

use common::*;
use jiff::SignedDuration;
use ponte::app::engine::{Engine, Op, Request};
use ponte::app::transfer;
use ponte::domain::{Command, Status, TaskId, Visibility};
use ponte::store::{SledStore, Store, StoreError, StoreOptions, TaskFilter, TaskQuery};

fn store(dir: &std::path::Path) -> Arc<SledStore> {
    Arc::new(SledStore::open(&StoreOptions::new(dir)).unwrap())
}

/// A store with a bit of everything: two clients, claimed, commented,
/// resolved, handed off and cancelled tasks.
fn busy_store(dir: &std::path::Path) -> Arc<SledStore> {
    let store = store(dir);
    let engine = Engine::new(store.clone(), rules());
    let mut now = start();
    let alice = employee(1, ACME);
    let bob = employee(2, BRIGHT);
    let engineer = msp_engineer(10);
    let tech = it_tech(3, ACME);
    let change = |actor: &ponte::domain::Actor, task: &TaskId, command| {
        Request::by(
            actor.clone(),
            Op::Change {
                task: task.clone(),
                command,
            },
        )
    };
    for i in 0..30 {
        now = now.checked_add(SignedDuration::from_mins(7)).unwrap();
        let (who, client, title) = match i % 3 {
            0 => (&alice, ACME, format!("vpn down #{i}")),
            1 => (&alice, ACME, format!("printer {i} jammed")),
            _ => (&bob, BRIGHT, format!("wifi slow {i}")),
        };
        let task = engine
            .execute(&create(who, client, &title), now)
            .unwrap()
            .task;
        let worker = if task.handling_side == ponte::domain::Side::Msp {
            &engineer
        } else {
            &tech
        };
        match i % 5 {
            0 => {}
            1 => {
                engine
                    .execute(&change(worker, &task.id, Command::Claim), now)
                    .unwrap();
            }
            2 => {
                let note = Command::Comment {
                    body: format!("note {i}"),
                    visibility: Visibility::Side(worker.side),
                };
                engine
                    .execute(&change(worker, &task.id, note), now)
                    .unwrap();
                let resolve = Command::SetStatus {
                    to: Status::Resolved,
                    reason: None,
                };
                engine
                    .execute(&change(worker, &task.id, resolve), now)
                    .unwrap();
            }
            3 => {
                let handoff = Command::Handoff {
                    reason: Some("yours".into()),
                };
                engine
                    .execute(&change(worker, &task.id, handoff), now)
                    .unwrap();
            }
            _ => {
                engine
                    .execute(
                        &change(who, &task.id, Command::Cancel { reason: None }),
                        now,
                    )
                    .unwrap();
            }
        }
    }
    store.flush().unwrap();
    store
}

fn exported(store: &dyn Store) -> Vec<u8> {
    let mut out = Vec::new();
    transfer::export(store, &mut out).unwrap();
    out
}

fn snapshots(store: &dyn Store) -> Vec<ponte::domain::Task> {
    let mut tasks = Vec::new();
    store
        .for_each_task(&mut |t| {
            tasks.push(t);
            Ok(())
        })
        .unwrap();
    tasks
}

#[test]
fn export_then_import_gives_the_same_store() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let original = busy_store(a.path());
    let dump = exported(original.as_ref());
    assert_eq!(dump.iter().filter(|&&c| c == b'\n').count(), {
        let mut n = 0;
        original
            .for_each_event(&mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        n
    });

    let copy = store(b.path());
    let counts = transfer::import(copy.as_ref(), &mut dump.as_slice()).unwrap();
    assert_eq!(counts.tasks, 30);

    assert_eq!(exported(copy.as_ref()), dump, "same events, byte for byte");
    assert_eq!(snapshots(copy.as_ref()), snapshots(original.as_ref()));
    for client in [ACME, BRIGHT] {
        assert_eq!(
            copy.next_number(&key(client)).unwrap(),
            original.next_number(&key(client)).unwrap()
        );
        for filter in [
            TaskFilter::open(),
            TaskFilter::HandledBy(ponte::domain::Side::Msp),
            TaskFilter::AssignedTo(msp_engineer(10).person),
        ] {
            let query = TaskQuery {
                client: key(client),
                filter,
                after: None,
                limit: 1000,
            };
            assert_eq!(copy.list(&query).unwrap(), original.list(&query).unwrap());
        }
    }
    // Imported history creates no notifications: it already happened.
    assert_eq!(copy.outbox_len().unwrap(), 0);
}

#[test]
fn import_refuses_a_store_that_holds_tasks() {
    let a = tempfile::tempdir().unwrap();
    let original = busy_store(a.path());
    let dump = exported(original.as_ref());
    let err = transfer::import(original.as_ref(), &mut dump.as_slice()).unwrap_err();
    assert!(matches!(err, StoreError::NotEmpty { tasks: 30 }), "{err}");
    assert!(err.to_string().contains("empty data directory"), "{err}");
}

fn import_text(text: &str) -> StoreError {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    transfer::import(store.as_ref(), &mut text.as_bytes()).unwrap_err()
}

#[test]
fn bad_files_are_refused_naming_the_line() {
    let a = tempfile::tempdir().unwrap();
    let dump = String::from_utf8(exported(busy_store(a.path()).as_ref())).unwrap();
    let lines: Vec<&str> = dump.lines().collect();

    // Not JSON at line 3.
    let mut broken = lines.clone();
    broken[2] = "{ not json";
    let err = import_text(&broken.join("\n"));
    assert!(matches!(err, StoreError::Import { line: 3, .. }), "{err}");
    assert!(
        err.to_string().starts_with("import line 3: not an event"),
        "{err}"
    );

    // A history without its creation does not fold.
    let mut gap = lines.clone();
    gap.remove(0);
    let err = import_text(&gap.join("\n"));
    assert!(matches!(err, StoreError::Import { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("does not fold"), "{err}");

    // A task missing from the numbering.
    let first_task_lines = lines
        .iter()
        .take_while(|l| l.contains("\"ACME-1\""))
        .count();
    let err = import_text(&lines[first_task_lines..].join("\n"));
    assert!(
        err.to_string().contains("expected ACME-1, found ACME-2"),
        "{err}"
    );
}

#[test]
fn an_empty_file_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let counts = transfer::import(store.as_ref(), &mut "\n\n".as_bytes()).unwrap();
    assert_eq!(counts.tasks, 0);
}

/// `ponte export --client`: the per-client exports split the whole export
/// between the clients, and each imports alone into the same tasks.
#[test]
fn a_client_export_holds_exactly_that_clients_tasks() {
    let a = tempfile::tempdir().unwrap();
    let original = busy_store(a.path());
    let whole = String::from_utf8(exported(original.as_ref())).unwrap();
    let mut parts = Vec::new();
    for client in [ACME, BRIGHT] {
        let mut out = Vec::new();
        let counts =
            transfer::export_client(original.as_ref(), Some(&key(client)), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let prefix = format!("{{\"task\":\"{client}-");
        assert!(text.lines().all(|l| l.starts_with(&prefix)), "{text}");
        let b = tempfile::tempdir().unwrap();
        let alone = store(b.path());
        let imported = transfer::import(alone.as_ref(), &mut text.as_bytes()).unwrap();
        assert_eq!(imported, counts);
        let own: Vec<_> = snapshots(original.as_ref())
            .into_iter()
            .filter(|t| t.id.client() == &key(client))
            .collect();
        assert_eq!(snapshots(alone.as_ref()), own);
        assert!(!own.is_empty());
        parts.extend(text.lines().map(str::to_owned));
    }
    let mut all: Vec<String> = whole.lines().map(str::to_owned).collect();
    all.sort();
    parts.sort();
    assert_eq!(parts, all, "together they are the whole export");
}
