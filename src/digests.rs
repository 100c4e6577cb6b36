//! Daily digests, exactly once: [`DigestTimer`] records a once-only mark
//! with its `Effect::Digest` (or `Effect::LeadDigest`) at each client's
//! configured local time; the outbox delivers it like any effect. The mark
//! is the digest's key (`digest:ACME:internal:2026-11-28`), so a timer
//! fired twice, or again after a restart, records nothing twice; a digest
//! whose time passed while Ponte was down is recorded when the timer next
//! fires that same local day, marked late. Older missed digests are not
//! caught up: the next day's digest covers their time (`since` is the last
//! digest that was recorded).
//!
//! [`read_client`] reads what a digest is built from: the open tasks of a
//! client, and the finished ones that changed since the last digest, each
//! with its history.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::config::{Config, DigestSchedule};
use crate::domain::digest::{self, Digest, DigestSpec, LeadDigest, Tracked};
use crate::domain::effect::{
    Effect, LEAD_DIGEST_PREFIX, digest_key, digest_prefix, lead_digest_key,
};
use crate::domain::{BusinessCalendar, ClientKey, Side, Status};
use crate::store::{Mark, Store, StoreError, TaskFilter, TaskQuery};
use crate::timers::{BoxFuture, Timer, TimerError};

/// A digest recorded this long after its time is late.
const LATE_AFTER: SignedDuration = SignedDuration::from_mins(2);

/// Records each digest once, at its time.
pub struct DigestTimer<S: Store> {
    pub store: Arc<S>,
    pub config: Arc<Config>,
}

impl<S: Store> Timer for DigestTimer<S> {
    fn name(&self) -> &'static str {
        "digests"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        let store = self.store.clone();
        let config = self.config.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || fire(&*store, &config, now))
                .await
                .map_err(|e| TimerError(format!("the digest timer stopped: {e}")))?
                .map_err(|e| TimerError(e.to_string()))
        })
    }
}

/// Records the digests due at `now` (sled: call it off the async runtime);
/// when the next one is due.
pub fn fire(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let mut next: Option<Timestamp> = None;
    let mut soonest = |at: Option<Timestamp>| {
        if let Some(at) = at {
            next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
        }
    };
    for client in config.clients() {
        let schedule = &client.digest.schedule;
        for &side in &client.digest.sides {
            if let Some((date, due)) = due_today(schedule, &client.calendar, now) {
                let key = digest_key(&client.key, side, date);
                let since = store
                    .last_mark(&digest_prefix(&client.key, side))?
                    .map(|m| m.at);
                let late = now.duration_since(due) > LATE_AFTER;
                // A deployment's very first digest is not caught up late.
                if store.mark(&key)?.is_none() && (since.is_some() || !late) {
                    let effect = Effect::Digest {
                        client: client.key.clone(),
                        side,
                        date,
                        due,
                        since,
                        late,
                    };
                    if store.commit_mark(&Mark { key, at: due }, &[effect])? {
                        tracing::info!(client = %client.key, %side, %date, "digest recorded");
                    }
                }
            }
            soonest(schedule.next_after(now, &client.calendar));
        }
    }
    if let Some(lead) = &config.msp().digest {
        if let Some((date, due)) = due_today(&lead.schedule, &lead.calendar, now) {
            let key = lead_digest_key(date);
            let since = store.last_mark(LEAD_DIGEST_PREFIX)?.map(|m| m.at);
            let late = now.duration_since(due) > LATE_AFTER;
            if store.mark(&key)?.is_none() && (since.is_some() || !late) {
                let effect = Effect::LeadDigest {
                    date,
                    due,
                    since,
                    late,
                };
                store.commit_mark(&Mark { key, at: due }, &[effect])?;
            }
        }
        soonest(lead.schedule.next_after(now, &lead.calendar));
    }
    Ok(next)
}

/// Today's digest (local date of `now`) if its time has come.
fn due_today(
    schedule: &DigestSchedule,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Option<(jiff::civil::Date, Timestamp)> {
    let today = calendar.tz().to_datetime(now).date();
    schedule
        .latest_due(now, calendar)
        .filter(|(date, _)| *date == today)
}

/// How many tasks a store listing returns at once.
const PAGE: usize = 500;

/// The tasks a digest of `client` since `since` is built from: every open
/// task, and every finished one changed after `since` (all finished ones
/// when `None`... bounded by the last 24 hours before `now`), with their
/// histories. Blocking (sled).
pub fn read_client(
    store: &dyn Store,
    client: &ClientKey,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<Vec<Tracked>, StoreError> {
    let since = since.unwrap_or_else(|| now - SignedDuration::from_hours(24));
    let mut out = Vec::new();
    let finished = vec![Status::Resolved, Status::Closed, Status::Cancelled];
    for (filter, changed_only) in [
        (TaskFilter::open(), false),
        (TaskFilter::Status(finished), true),
    ] {
        let mut after = None;
        loop {
            let page = store.list(&TaskQuery {
                client: client.clone(),
                filter: filter.clone(),
                after,
                limit: PAGE,
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.number());
            let full = page.len() == PAGE;
            for task in page {
                if changed_only && task.updated_at <= since {
                    continue;
                }
                let events = store.events(&task.id)?;
                out.push(Tracked { task, events });
            }
            if !full {
                break;
            }
        }
    }
    Ok(out)
}

/// Builds the digest of one side of one client from the store (blocking).
pub fn client_digest(
    store: &dyn Store,
    config: &Config,
    client: &ClientKey,
    side: Side,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Digest>, StoreError> {
    let Some(conf) = config.client(client) else {
        return Ok(None);
    };
    let tasks = read_client(store, client, since, now)?;
    let spec = DigestSpec {
        client,
        side,
        since,
        now,
        targets: &conf.sla,
        calendar: &conf.calendar,
    };
    Ok(Some(digest::build(&spec, &tasks)))
}

/// The MSP lead's digest: the MSP side of every client (blocking).
pub fn lead_digest(
    store: &dyn Store,
    config: &Config,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<LeadDigest, StoreError> {
    let mut clients = Vec::new();
    for client in config.clients() {
        if let Some(d) = client_digest(store, config, &client.key, Side::Msp, since, now)? {
            clients.push(d);
        }
    }
    Ok(LeadDigest { now, clients })
}
