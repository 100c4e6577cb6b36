//! Maintenance windows of a client (issue 5): while one lasts, its tasks
//! page nobody. A window is a store [`Mark`] (`maintenance:ACME:<start>`,
//! recorded at its end time), so it survives restarts and expires by
//! itself; ending it early records `maintenance-end:ACME:<start>`. The
//! escalation reads a client's recent windows ([`RECENT`]).
//!
//! The calls block (sled): run them on a blocking thread.

use jiff::Timestamp;

use crate::domain::ClientKey;
use crate::domain::escalation::Maintenance;
use crate::store::{Mark, Store, StoreError};

fn prefix(client: &ClientKey) -> String {
    format!("maintenance:{client}:")
}

fn start_key(client: &ClientKey, from: Timestamp) -> String {
    // Zero-padded seconds: keys sort in time order.
    format!("{}{:012}", prefix(client), from.as_second())
}

fn end_key(client: &ClientKey, from: Timestamp) -> String {
    format!("maintenance-end:{client}:{:012}", from.as_second())
}

/// How many of a client's latest windows count.
pub const RECENT: usize = 32;

/// The client's latest windows, latest first, as they stand (ended early
/// or not).
pub fn recent<S: Store + ?Sized>(
    store: &S,
    client: &ClientKey,
) -> Result<Vec<Maintenance>, StoreError> {
    store
        .last_marks(&prefix(client), RECENT)?
        .into_iter()
        .map(|mark| window(store, client, mark))
        .collect()
}

/// The client's latest window, as it stands (ended early or not).
pub fn latest<S: Store + ?Sized>(
    store: &S,
    client: &ClientKey,
) -> Result<Option<Maintenance>, StoreError> {
    match store.last_mark(&prefix(client))? {
        Some(mark) => window(store, client, mark).map(Some),
        None => Ok(None),
    }
}

fn window<S: Store + ?Sized>(
    store: &S,
    client: &ClientKey,
    mark: Mark,
) -> Result<Maintenance, StoreError> {
    let Some(from) = mark
        .key
        .rsplit(':')
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| Timestamp::from_second(s).ok())
    else {
        return Err(StoreError::Corrupt(format!(
            "maintenance mark {}",
            mark.key
        )));
    };
    let ended = store.mark(&end_key(client, from))?;
    Ok(Maintenance {
        client: client.clone(),
        from,
        to: ended.map_or(mark.at, |e| e.min(mark.at)),
    })
}

/// Starts a window from `from` to `to` (and flushes it). `false` when a
/// window with that start exists already.
pub fn start<S: Store + ?Sized>(
    store: &S,
    client: &ClientKey,
    from: Timestamp,
    to: Timestamp,
) -> Result<bool, StoreError> {
    let mark = Mark {
        key: start_key(client, from),
        at: to,
    };
    let new = store.commit_mark(&mark, &[])?;
    store.flush()?;
    Ok(new)
}

/// Ends the client's window now, if one is active; the window as ended.
pub fn end<S: Store + ?Sized>(
    store: &S,
    client: &ClientKey,
    now: Timestamp,
) -> Result<Option<Maintenance>, StoreError> {
    match latest(store, client)? {
        Some(w) if w.active(now) => {
            let mark = Mark {
                key: end_key(client, w.from),
                at: now,
            };
            store.commit_mark(&mark, &[])?;
            store.flush()?;
            Ok(Some(Maintenance { to: now, ..w }))
        }
        _ => Ok(None),
    }
}
