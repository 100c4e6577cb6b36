//! `ponte export` and `ponte import`: every event as one JSON object per
//! line, ordered by client, task number and sequence. This is the stable
//! interchange and recovery format: fields are only ever added.
//!
//! Import rebuilds snapshots, indexes and counters by folding the events,
//! so what it loads is exactly what the history says. It only loads into an
//! empty store, and refuses a file whose histories do not fold, naming the
//! line.
//!
//! [`export_client`] (`ponte export --client KEY`) writes one client's tasks only (to
//! hand a client its own record); it imports like a whole export. `tests/isolation.rs`
//! checks that it holds nothing of another client. [`export_for`] writes it as one
//! audience may read it: the text of an internal note it may not see is withheld
//! (the event stays, with an empty body and no attachments, so the history still
//! folds and imports). A client's export handed to the company withholds the MSP's
//! notes; one for requesters withholds every note.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};

use crate::domain::{Audience, Event, EventKind, Task, TaskId};
use crate::store::{Commit, CommitOutcome, Store, StoreError};

/// What an export or import moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tasks: u64,
    pub events: u64,
}

/// Writes every event of `store` to `out`, one JSON object per line.
pub fn export(store: &dyn Store, out: &mut dyn Write) -> Result<Counts, StoreError> {
    export_client(store, None, out)
}

/// [`export`] of one client's tasks only (`ponte export --client ACME`),
/// e.g. to hand a client its own record; `None` exports everything. The
/// result imports like a whole export.
pub fn export_client(
    store: &dyn Store,
    client: Option<&crate::domain::ClientKey>,
    out: &mut dyn Write,
) -> Result<Counts, StoreError> {
    export_for(store, client, None, out)
}

/// [`export_client`] as `reader` may read it (`None`: everything, for a
/// backup or a move): every note `reader` may not see keeps its event but
/// loses its text.
pub fn export_for(
    store: &dyn Store,
    client: Option<&crate::domain::ClientKey>,
    reader: Option<Audience>,
    out: &mut dyn Write,
) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    let mut last: Option<TaskId> = None;
    store.for_each_event(&mut |event| {
        if client.is_some_and(|c| event.task.client() != c) {
            return Ok(());
        }
        if last.as_ref() != Some(&event.task) {
            counts.tasks += 1;
            last = Some(event.task.clone());
        }
        counts.events += 1;
        let event = match reader {
            Some(reader) if !event.kind.visibility().visible_to(reader) => withhold(event),
            _ => event,
        };
        serde_json::to_writer(&mut *out, &event)
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        out.write_all(b"\n")?;
        Ok(())
    })?;
    out.flush()?;
    Ok(counts)
}

/// `event` without the text of its note (see [`export_for`]).
fn withhold(mut event: Event) -> Event {
    match &mut event.kind {
        EventKind::Commented { body, .. } | EventKind::SaidEdited { body, .. } => body.clear(),
        EventKind::Said {
            body, attachments, ..
        } => {
            body.clear();
            attachments.clear();
        }
        _ => {}
    }
    event
}

/// Loads an export into an empty store and flushes it.
pub fn import(store: &dyn Store, input: &mut dyn BufRead) -> Result<Counts, StoreError> {
    let tasks = store.task_count()?;
    if tasks > 0 {
        return Err(StoreError::NotEmpty { tasks });
    }
    let mut counts = Counts::default();
    let mut pending: Vec<Event> = Vec::new();
    let mut pending_line = 0;
    let mut done: BTreeSet<TaskId> = BTreeSet::new();
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = input.read_line(&mut line)?;
        number += 1;
        if read == 0 {
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(text).map_err(|e| StoreError::Import {
            line: number,
            reason: format!("not an event: {e}"),
        })?;
        if pending.first().is_some_and(|p| p.task != event.task) {
            load(
                store,
                std::mem::take(&mut pending),
                pending_line,
                &mut done,
                &mut counts,
            )?;
        }
        if pending.is_empty() {
            pending_line = number;
            if done.contains(&event.task) {
                return Err(StoreError::Import {
                    line: number,
                    reason: format!(
                        "the events of {} must be on consecutive lines; they appear again here",
                        event.task
                    ),
                });
            }
        }
        pending.push(event);
    }
    if !pending.is_empty() {
        load(store, pending, pending_line, &mut done, &mut counts)?;
    }
    store.flush()?;
    Ok(counts)
}

fn load(
    store: &dyn Store,
    events: Vec<Event>,
    line: usize,
    done: &mut BTreeSet<TaskId>,
    counts: &mut Counts,
) -> Result<(), StoreError> {
    let bad = |reason: String| StoreError::Import { line, reason };
    let task = Task::fold(&events).map_err(|e| bad(format!("the history does not fold: {e}")))?;
    let id = task.id.clone();
    let expected = store.next_number(id.client())?;
    if id.number() != expected {
        return Err(bad(format!(
            "tasks of {} must come in order 1, 2, 3... without gaps: expected {}-{expected}, found {id}",
            id.client(),
            id.client()
        )));
    }
    counts.tasks += 1;
    counts.events += events.len() as u64;
    let commit = Commit {
        before: None,
        after: task,
        events,
        effects: Vec::new(),
        request: None,
    };
    match store.commit(&commit)? {
        CommitOutcome::Written => {}
        CommitOutcome::Duplicate(_) => return Err(bad(format!("{id} was loaded twice"))),
    }
    done.insert(id);
    Ok(())
}
