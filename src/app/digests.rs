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
//! [`for_each_client_task`] reads what a digest is built from, a page at a
//! time: the snapshots of the open tasks of a client, and of the finished
//! ones that changed since the last digest. No history is read: what the digest needs of it (whose move
//! since when, responses, acknowledgements, latest comments) the fold keeps
//! in the snapshot (`Task::facts`). The chart reads the history of a task
//! only when it changed after the chart's `now` ([`for_chart`]).
//!
//! A deployment's very first digest is never posted late, and a digest older than the
//! last one recorded is never recorded (a timer asked with an older `now`). The digest
//! itself is built at delivery (`crate::app::deliver::digest`) from the store as of its
//! due time, in the reader side's language, with no internal note of the other side.
//! [`client_digest`], [`lead_digest`], [`client_chart`] and [`lead_chart`] read the open
//! tasks a page at a time into `digest::Builder` or `ChartData::add`; they block, so
//! callers run them on the blocking pool.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::{Config, DigestSchedule};
use crate::domain::chart::{CHART_DAYS, ChartData, ChartTask};
use crate::domain::digest::{self, Digest, DigestSpec, LeadDigest, Tracked};
use crate::domain::effect::{
    Effect, LEAD_DIGEST_PREFIX, digest_key, digest_prefix, lead_digest_key,
};
use crate::domain::{Audience, BusinessCalendar, ClientKey, Side, Task};
use crate::store::{self, Mark, Pages, Store, StoreError, TaskFilter, TaskQuery};

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
        Box::pin(crate::app::timers::off_runtime(
            "the digest timer",
            move || fire(&*store, &config, now),
        ))
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
                if let Some(late) = to_record(due, now, since)
                    && store.mark(&key)?.is_none()
                {
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
            if let Some(late) = to_record(due, now, since)
                && store.mark(&key)?.is_none()
            {
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

/// Whether a digest due at `due` is recorded at `now`, when the last one
/// recorded was due at `since`; `Some(late)` if so. A deployment's very
/// first digest is not caught up late, and a digest older than the last one
/// recorded never is (that one already covered its time: this happens when
/// a timer is asked with a `now` older than its latest firing).
pub(crate) fn to_record(due: Timestamp, now: Timestamp, since: Option<Timestamp>) -> Option<bool> {
    let late = now.duration_since(due) > LATE_AFTER;
    match since {
        None if late => None,
        Some(last) if last >= due => None,
        _ => Some(late),
    }
}

/// Today's digest (local date of `now`) if its time has come.
pub(crate) fn due_today(
    schedule: &DigestSchedule,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Option<(jiff::civil::Date, Timestamp)> {
    let today = calendar.tz().to_datetime(now).date();
    schedule
        .latest_due(now, calendar)
        .filter(|(date, _)| *date == today)
}

/// The tasks a digest of `client` since `since` is built from: the
/// snapshots of every open task, and of every finished one changed after
/// `since` (after the last 24 hours before `now` when `None`), given to `f`
/// one at a time: open ones status by status, then finished ones by last
/// change. The open ones come a page ([`store::PAGE`]) at a time, so
/// memory does not grow with their number; the finished ones come from the
/// index by last change, so a digest reads only what changed, not every
/// task the client ever had. No history is read. Blocking (sled).
pub fn for_each_client_task(
    store: &dyn Store,
    client: &ClientKey,
    since: Option<Timestamp>,
    now: Timestamp,
    mut f: impl FnMut(Task) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let since = since.unwrap_or_else(|| now - SignedDuration::from_hours(24));
    Pages::open(client, store::PAGE)
        .for_each(store, |tasks| tasks.into_iter().try_for_each(&mut f))?;
    // Finished tasks changed since `since`, by last change. One listing:
    // `after` pages by number, not by change, so it cannot page this one;
    // it holds a day's changes.
    let changed = store.list(&TaskQuery {
        client: client.clone(),
        filter: TaskFilter::ChangedAfter(since),
        after: None,
        limit: usize::MAX,
    })?;
    changed
        .into_iter()
        .filter(|task| !task.status.is_open())
        .try_for_each(f)
}

/// A task as the chart counts what happened as of `now`: its snapshot, or
/// its history when one of its events is later than `now` (a digest built
/// as of its due time after a later change). Blocking (sled).
pub fn for_chart(store: &dyn Store, task: Task, now: Timestamp) -> Result<ChartTask, StoreError> {
    if ChartTask::needs_history(&task, now) {
        let events = store.events(&task.id)?;
        Ok(ChartTask::History(Tracked { task, events }))
    } else {
        Ok(ChartTask::Snapshot(task))
    }
}

/// Builds the digest of one side of one client from the store (blocking),
/// as that side's staff read it.
pub fn client_digest(
    store: &dyn Store,
    config: &Config,
    client: &ClientKey,
    side: Side,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Digest>, StoreError> {
    client_digest_as(
        store,
        config,
        client,
        side,
        Audience::Staff(side),
        since,
        now,
    )
}

/// [`client_digest`] as `reader` may read it: a requester previewing their
/// company's digest gets no internal note of either side.
pub fn client_digest_as(
    store: &dyn Store,
    config: &Config,
    client: &ClientKey,
    side: Side,
    reader: Audience,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Digest>, StoreError> {
    let Some(conf) = config.client(client) else {
        return Ok(None);
    };
    let spec = DigestSpec {
        client,
        side,
        reader,
        since,
        now,
        targets: &conf.sla,
        calendar: &conf.calendar,
    };
    // Built as the tasks come, a page at a time.
    let mut builder = digest::Builder::new(spec);
    for_each_client_task(store, client, since, now, |task| {
        builder.add(&task);
        Ok(())
    })?;
    Ok(Some(builder.finish()))
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

/// The chart of one client's last [`CHART_DAYS`] days as of `now`, in the
/// client's time zone (blocking): its open tasks and those finished since
/// the window began.
pub fn client_chart(
    store: &dyn Store,
    config: &Config,
    client: &ClientKey,
    now: Timestamp,
) -> Result<ChartData, StoreError> {
    let tz = config
        .client(client)
        .map_or(jiff::tz::TimeZone::UTC, |c| c.calendar.tz().clone());
    let mut chart = ChartData::empty(&tz, now);
    add_to_chart(store, config, client, &tz, now, &mut chart)?;
    Ok(chart)
}

/// The chart across every client, in the lead's time zone `tz` (blocking).
pub fn lead_chart(
    store: &dyn Store,
    config: &Config,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> Result<ChartData, StoreError> {
    let mut chart = ChartData::empty(tz, now);
    for client in config.clients() {
        add_to_chart(store, config, &client.key, tz, now, &mut chart)?;
    }
    Ok(chart)
}

fn add_to_chart(
    store: &dyn Store,
    config: &Config,
    client: &ClientKey,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
    chart: &mut ChartData,
) -> Result<(), StoreError> {
    let Some(conf) = config.client(client) else {
        return Ok(());
    };
    // A day more than the window, for time zones east of the client's.
    let window = SignedDuration::from_hours(24 * (CHART_DAYS as i64 + 1));
    // Counted as the tasks come, a page at a time.
    for_each_client_task(store, client, Some(now - window), now, |task| {
        let counted = for_chart(store, task, now)?;
        chart.add(tz, now, &conf.sla, &conf.calendar, [&counted]);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OutboxEntry, SledStore};

    fn config() -> Config {
        Config::from_toml_str(crate::sandbox::cast::CONFIG, "example").unwrap()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn digests(store: &SledStore) -> Vec<(String, bool)> {
        let due: Vec<OutboxEntry> = store.outbox_due(t("2030-01-01T00:00:00Z"), 100).unwrap();
        due.into_iter()
            .filter_map(|e| match &e.effect {
                Effect::Digest { late, .. } | Effect::LeadDigest { late, .. } => {
                    Some((e.effect.key(), *late))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_digest_is_recorded_once_at_its_local_time_across_the_dst_change() {
        let store = SledStore::open_temporary().unwrap();
        let config = config();
        // Friday 27 March 2026, 07:29 UTC = 08:29 in Rome: nothing due yet
        // (the lead's 08:00 Berlin digest was due at 07:00, before the
        // deployment existed: not caught up late).
        let next = fire(&store, &config, t("2026-03-27T07:29:00Z")).unwrap();
        assert_eq!(next, Some(t("2026-03-27T07:30:00Z")));
        assert!(digests(&store).is_empty());
        fire(&store, &config, t("2026-03-27T07:30:00Z")).unwrap();
        fire(&store, &config, t("2026-03-27T07:30:00Z")).unwrap();
        let friday = digests(&store);
        assert!(
            friday.contains(&("digest:ACME:internal:2026-03-27".into(), false)),
            "{friday:?}"
        );
        assert!(
            friday.contains(&("digest:ACME:msp:2026-03-27".into(), false)),
            "{friday:?}"
        );
        assert_eq!(
            friday
                .iter()
                .filter(|(k, _)| k.starts_with("digest:ACME:"))
                .count(),
            2
        );
        // No digest on the weekend; after the DST change (29 March) 08:30
        // in Rome is 06:30 UTC on Monday.
        let next = fire(&store, &config, t("2026-03-28T12:00:00Z")).unwrap();
        assert!(next.is_some_and(|n| n <= t("2026-03-30T06:30:00Z")));
        fire(&store, &config, t("2026-03-30T06:29:00Z")).unwrap();
        assert!(
            !digests(&store)
                .iter()
                .any(|(k, _)| k == "digest:ACME:msp:2026-03-30")
        );
        // Down at 06:30, back at 07:10 UTC: recorded once, late.
        fire(&store, &config, t("2026-03-30T07:10:00Z")).unwrap();
        fire(&store, &config, t("2026-03-30T07:11:00Z")).unwrap();
        let monday: Vec<_> = digests(&store)
            .into_iter()
            .filter(|(k, _)| k == "digest:ACME:msp:2026-03-30")
            .collect();
        assert_eq!(monday, [("digest:ACME:msp:2026-03-30".to_owned(), true)]);
        let since = store.last_mark("digest:ACME:msp:").unwrap().map(|m| m.at);
        assert_eq!(since, Some(t("2026-03-30T06:30:00Z")));
    }

    #[test]
    fn a_timer_asked_with_an_older_time_records_no_older_digest() {
        // What the sandbox once did under load: the timer loop read the
        // clock on Friday, was delayed, and fired after Monday's digests
        // were recorded. Friday's (missed before the deployment) must not
        // appear then as a late digest.
        let store = SledStore::open_temporary().unwrap();
        let config = config();
        // Monday 30 November: the lead's at 08:00 in Berlin, ACME's at
        // 08:30 in Rome.
        fire(&store, &config, t("2026-11-30T07:00:00Z")).unwrap();
        fire(&store, &config, t("2026-11-30T07:30:00Z")).unwrap();
        let monday = digests(&store);
        assert_eq!(monday.len(), 3, "{monday:?}");
        assert!(
            monday.contains(&("digest-lead:2026-11-30".into(), false)),
            "{monday:?}"
        );
        fire(&store, &config, t("2026-11-27T09:00:00Z")).unwrap();
        assert_eq!(digests(&store), monday);
    }

    #[test]
    fn which_digests_are_recorded() {
        let due = t("2026-11-30T07:30:00Z");
        let now = |m: i64| due + SignedDuration::from_mins(m);
        let friday = Some(t("2026-11-27T07:30:00Z"));
        // On time, or up to two minutes after: not late.
        assert_eq!(to_record(due, now(0), None), Some(false));
        assert_eq!(to_record(due, now(2), friday), Some(false));
        // Later: late, but a deployment's first digest is not caught up.
        assert_eq!(to_record(due, now(3), friday), Some(true));
        assert_eq!(to_record(due, now(3), None), None);
        // Never one older than (or as old as) the last one recorded.
        assert_eq!(to_record(due, now(0), Some(due)), None);
        assert_eq!(to_record(due, now(0), Some(now(24 * 60))), None);
    }

    #[test]
    fn no_digest_on_a_holiday() {
        let store = SledStore::open_temporary().unwrap();
        let config = config();
        // 8 December 2026 is a holiday for ACME (a Tuesday).
        fire(&store, &config, t("2026-12-07T07:30:00Z")).unwrap();
        fire(&store, &config, t("2026-12-08T12:00:00Z")).unwrap();
        let keys: Vec<String> = digests(&store).into_iter().map(|(k, _)| k).collect();
        assert!(
            keys.contains(&"digest:ACME:msp:2026-12-07".to_owned()),
            "{keys:?}"
        );
        assert!(
            !keys
                .iter()
                .any(|k| k.starts_with("digest:ACME:") && k.ends_with("2026-12-08")),
            "{keys:?}"
        );
    }
}
