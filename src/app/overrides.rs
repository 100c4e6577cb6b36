//! On-call overrides (issue 5, `/oncall override`): a person on call in a
//! schedule for a period, stored as a [`Mark`]
//! (`override:<schedule>:<from>:<to>:<person>`, recorded at the time it was
//! made), and applied over the configured rotation wherever the on-call is
//! asked (pages, handovers, `/oncall`). A later override wins where two
//! overlap. The calls block (sled): run them on a blocking thread.
//!
//! [`schedules`] gives the configured rotations with their recorded overrides applied:
//! what pages, handovers and `/oncall` ask.

use jiff::Timestamp;

use crate::config::oncall::{OnCallConfig, OnCallSchedule};
use crate::domain::PersonId;
use crate::domain::oncall::Override;
use crate::store::{Mark, Store, StoreError};

/// How many of a schedule's latest overrides count.
pub const RECENT: usize = 64;

fn prefix(schedule: &str) -> String {
    format!("override:{schedule}:")
}

/// Records an override (and flushes it).
pub fn add<S: Store + ?Sized>(
    store: &S,
    schedule: &str,
    o: &Override,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let key = format!(
        "{}{:012}:{:012}:{}",
        prefix(schedule),
        o.from.as_second(),
        o.to.as_second(),
        o.person.0
    );
    let new = store.commit_mark(&Mark { key, at: now }, &[])?;
    store.flush()?;
    Ok(new)
}

/// A schedule's recorded overrides, oldest made first.
pub fn of<S: Store + ?Sized>(store: &S, schedule: &str) -> Result<Vec<Override>, StoreError> {
    let mut marks = store.last_marks(&prefix(schedule), RECENT)?;
    marks.sort_by_key(|m| m.at);
    let mut out = Vec::new();
    for mark in marks {
        let rest = &mark.key[prefix(schedule).len()..];
        let parts: Vec<&str> = rest.split(':').collect();
        let parsed = match parts.as_slice() {
            [from, to, person] => (|| {
                let from = Timestamp::from_second(from.parse().ok()?).ok()?;
                let to = Timestamp::from_second(to.parse().ok()?).ok()?;
                Override::new(PersonId(person.parse().ok()?), from, to).ok()
            })(),
            _ => None,
        };
        match parsed {
            Some(o) => out.push(o),
            None => return Err(StoreError::Corrupt(format!("override mark {}", mark.key))),
        }
    }
    Ok(out)
}

/// The configured schedules with their recorded overrides applied.
pub fn schedules<S: Store + ?Sized>(
    store: &S,
    oncall: &OnCallConfig,
) -> Result<Vec<OnCallSchedule>, StoreError> {
    let mut out = Vec::with_capacity(oncall.schedules.len());
    for s in &oncall.schedules {
        let mut s = s.clone();
        for o in of(store, s.schedule.name())? {
            // Recorded overrides were valid when made.
            let _ = s.schedule.add_override(o);
        }
        out.push(s);
    }
    Ok(out)
}
