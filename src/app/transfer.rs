//! `ponte export` and `ponte import`: every event as one JSON object per
//! line, ordered by client, task number and sequence. This is the stable
//! interchange and recovery format: fields are only ever added.
//!
//! Import rebuilds snapshots, indexes, counters and monitoring's alert
//! lookups by folding the events, so what it loads is exactly what the
//! history says. It only loads into an
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

/// The longest line import reads: an event is a few KiB at most (titles,
/// details and comments are bounded by Discord's own limits), so a longer
/// line is no export of Ponte's, and is not read whole.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

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
    import_clients(store, input, &|_| true, false)
}

/// [`import`], refusing the events of every client `known` does not accept:
/// the whole input is read, and the error names each such client with its
/// number of tasks (what was loaded of the others stays in `store`; the
/// caller imports into a new directory it can remove). With `salvaged` (an
/// `export --salvage`, which skips unreadable tasks) a gap in a client's
/// task numbers is recorded as lost tasks ([`Store::record_lost`]) instead
/// of refused.
pub fn import_clients(
    store: &dyn Store,
    input: &mut dyn BufRead,
    known: &dyn Fn(&crate::domain::ClientKey) -> bool,
    salvaged: bool,
) -> Result<Counts, StoreError> {
    let mut unknown: std::collections::BTreeMap<crate::domain::ClientKey, BTreeSet<u64>> =
        Default::default();
    let mut first_unknown = 0;
    let tasks = store.task_count()?;
    if tasks > 0 {
        return Err(StoreError::NotEmpty { tasks });
    }
    let mut counts = Counts::default();
    let mut pending: Vec<Event> = Vec::new();
    let mut pending_line = 0;
    let mut done: BTreeSet<TaskId> = BTreeSet::new();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        if !read_line_bounded(input, &mut line, MAX_LINE_BYTES)? {
            return Err(StoreError::Import {
                line: number,
                reason: format!(
                    "longer than {} KiB; an event of a Ponte export is a few KiB at most",
                    MAX_LINE_BYTES / 1024
                ),
            });
        }
        if line.is_empty() {
            break;
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| StoreError::Import {
                line: number,
                reason: "not UTF-8 text".into(),
            })?
            .trim();
        if text.is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(text).map_err(|e| StoreError::Import {
            line: number,
            reason: format!("not an event: {e}"),
        })?;
        if !known(event.task.client()) {
            if unknown.is_empty() {
                first_unknown = number;
            }
            unknown
                .entry(event.task.client().clone())
                .or_default()
                .insert(event.task.number());
            continue;
        }
        if pending.first().is_some_and(|p| p.task != event.task) {
            load(
                store,
                std::mem::take(&mut pending),
                pending_line,
                &mut done,
                &mut counts,
                salvaged,
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
        load(
            store,
            pending,
            pending_line,
            &mut done,
            &mut counts,
            salvaged,
        )?;
    }
    if !unknown.is_empty() {
        let named: Vec<String> = unknown
            .iter()
            .map(|(client, tasks)| format!("{client} ({} tasks)", tasks.len()))
            .collect();
        return Err(StoreError::Import {
            line: first_unknown,
            reason: format!(
                "events of clients that are not in the configuration: {}; add them to the \
                 configuration's [[clients]], or leave their events out",
                named.join(", ")
            ),
        });
    }
    store.flush()?;
    Ok(counts)
}

/// Reads one line (without its end) into `line`, at most `max` bytes;
/// `false` when the line is longer (the rest is not read). An empty `line`
/// after `true` is the end of the input.
fn read_line_bounded(
    input: &mut dyn BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> Result<bool, StoreError> {
    line.clear();
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(true);
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(end) => (end + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + chunk > max + 1 {
            return Ok(false);
        }
        line.extend_from_slice(&buf[..chunk]);
        input.consume(chunk);
        if done {
            return Ok(true);
        }
    }
}

fn load(
    store: &dyn Store,
    events: Vec<Event>,
    line: usize,
    done: &mut BTreeSet<TaskId>,
    counts: &mut Counts,
    salvaged: bool,
) -> Result<(), StoreError> {
    let bad = |reason: String| StoreError::Import { line, reason };
    let task = Task::fold(&events).map_err(|e| bad(format!("the history does not fold: {e}")))?;
    for (what, text, max) in [
        ("title", &task.title, crate::domain::text::TITLE_MAX),
        ("details", &task.details, crate::domain::text::DETAILS_MAX),
    ] {
        let chars = text.chars().count();
        if chars > max {
            return Err(bad(format!(
                "the {what} of {} has {chars} characters; at most {max} are allowed",
                task.id
            )));
        }
    }
    let id = task.id.clone();
    let mut expected = store.next_number(id.client())?;
    if salvaged && id.number() > expected {
        tracing::warn!(
            client = %id.client(),
            from = expected,
            to = id.number() - 1,
            "tasks missing from the salvage are recorded as lost"
        );
        store.record_lost(id.client(), id.number() - 1, task.created_at)?;
        expected = id.number();
    }
    if id.number() != expected {
        return Err(bad(format!(
            "tasks of {} must come in order 1, 2, 3... without gaps: expected {}-{expected}, found {id}",
            id.client(),
            id.client()
        )));
    }
    counts.tasks += 1;
    counts.events += events.len() as u64;
    let lookups = crate::app::engine::lookups_from_history(&task, &events);
    let commit = Commit {
        before: None,
        after: task,
        events,
        effects: Vec::new(),
        request: None,
        lookups,
    };
    match store.commit(&commit)? {
        CommitOutcome::Written => {}
        CommitOutcome::Duplicate(_) => return Err(bad(format!("{id} was loaded twice"))),
    }
    done.insert(id);
    Ok(())
}
