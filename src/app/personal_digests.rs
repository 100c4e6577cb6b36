//! Personal digests by DM (issue 6, `/digest subscribe`).
//!
//! A subscription is a series of [`Mark`]s, one per change, where the last
//! wins: `digest-sub:<person>:<n>:<side>:<client or ->:<lang>`, `n` counting
//! the person's changes from 1 (zero-padded, so the last sorts last). An
//! odd `n` subscribes, an even one unsubscribes, so a subscription is
//! durable and reversible although marks are never deleted; two people
//! changing it at once cannot both write the same `n` (a mark is once-only),
//! and the loser reads again. Changes are flushed before the person is told.
//!
//! [`PersonalDigestTimer`] records, for each subscriber, a once-only mark
//! `digest:person:<id>:<date>` with its `Effect::PersonalDigest` at the
//! person's client's digest time on its digest days (the MSP's people: the
//! MSP lead's digest time, or 08:30 UTC Monday to Friday without one), late
//! after downtime, like the side digests (`crate::app::digests`).
//!
//! [`set`], [`current`] and [`subscribers`] change and read subscriptions; [`check`] is
//! what `ponte check-store` runs on them (a change that does not read, or a gap in a
//! person's numbers, is damage). Only people whose latest change subscribes them get a
//! digest. [`build`] reads a person's digest from the store (snapshots only), keeping
//! the tasks that concern them.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;

use crate::app::digests::{due_today, for_each_client_task};
use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::{Config, DEFAULT_DIGEST_TIME, DigestSchedule};
use crate::domain::Task;
use crate::domain::digest::personal::{self, PersonalDigest, PersonalSpec};
use crate::domain::effect::{Effect, personal_digest_key, personal_digest_prefix};
use crate::domain::{BusinessCalendar, ClientKey, PersonId, Side};
use crate::i18n::Lang;
use crate::store::{Mark, Store, StoreError};

const PREFIX: &str = "digest-sub:";

/// Who gets a personal digest, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub person: PersonId,
    pub side: Side,
    /// The client of a client's person; `None` for the MSP's people.
    pub client: Option<ClientKey>,
    pub lang: Lang,
    /// When they subscribed.
    pub at: Timestamp,
}

/// What a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Done,
    /// It already was so (subscribed twice, or not subscribed).
    Already,
}

fn person_prefix(person: PersonId) -> String {
    format!("{PREFIX}{}:", person.0)
}

/// A mark's change number and, for a subscription, what it says.
fn parse(mark: &Mark) -> Result<(PersonId, u64, Option<Subscription>), StoreError> {
    let corrupt = || StoreError::Corrupt(format!("subscription mark {}", mark.key));
    let rest = mark.key.strip_prefix(PREFIX).ok_or_else(corrupt)?;
    let parts: Vec<&str> = rest.split(':').collect();
    let [person, n, side, client, lang] = parts.as_slice() else {
        return Err(corrupt());
    };
    let person = PersonId(person.parse().map_err(|_| corrupt())?);
    let n: u64 = n.parse().map_err(|_| corrupt())?;
    if n % 2 == 0 {
        return Ok((person, n, None));
    }
    let side = match *side {
        "internal" => Side::Internal,
        "msp" => Side::Msp,
        _ => return Err(corrupt()),
    };
    let client = match *client {
        "-" => None,
        k => Some(ClientKey::new(k).map_err(|_| corrupt())?),
    };
    let lang = Lang::from_locale(lang).ok_or_else(corrupt)?;
    let sub = Subscription {
        person,
        side,
        client,
        lang,
        at: mark.at,
    };
    Ok((person, n, Some(sub)))
}

/// The person's subscription, if they are subscribed. Blocking (sled).
pub fn current(store: &dyn Store, person: PersonId) -> Result<Option<Subscription>, StoreError> {
    match store.last_mark(&person_prefix(person))? {
        Some(mark) => Ok(parse(&mark)?.2),
        None => Ok(None),
    }
}

/// Subscribes (`Some`) or unsubscribes (`None`) `person`, and flushes.
/// Blocking (sled).
pub fn set(
    store: &dyn Store,
    person: PersonId,
    want: Option<(Side, Option<ClientKey>, Lang)>,
    now: Timestamp,
) -> Result<Change, StoreError> {
    for _ in 0..8 {
        let last = match store.last_mark(&person_prefix(person))? {
            Some(mark) => Some(parse(&mark)?),
            None => None,
        };
        let (n, subscribed) = last.map_or((0, false), |(_, n, s)| (n, s.is_some()));
        if subscribed == want.is_some() {
            return Ok(Change::Already);
        }
        let next = n + 1;
        let tail = match &want {
            Some((side, client, lang)) => format!(
                "{side}:{}:{}",
                client.as_ref().map_or("-".to_owned(), ToString::to_string),
                lang.code()
            ),
            None => "-:-:-".to_owned(),
        };
        let key = format!("{}{next:08}:{tail}", person_prefix(person));
        if store.commit_mark(&Mark { key, at: now }, &[])? {
            store.flush()?;
            return Ok(Change::Done);
        }
    }
    Err(StoreError::Conflict(
        "a digest subscription changed repeatedly".into(),
    ))
}

/// Everyone subscribed now. Blocking (sled).
pub fn subscribers(store: &dyn Store) -> Result<Vec<Subscription>, StoreError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    // Greatest keys first: each person's latest change comes first.
    for mark in store.last_marks(PREFIX, usize::MAX)? {
        let (person, _, sub) = parse(&mark)?;
        if seen.insert(person.0) {
            out.extend(sub);
        }
    }
    out.sort_by_key(|s| s.person.0);
    Ok(out)
}

/// What is wrong with the recorded subscriptions (`ponte check-store`):
/// a mark that does not read as a subscription change, or a person whose
/// changes are not numbered 1, 2, 3... without a gap. Blocking (sled).
pub fn check(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let mut changes: std::collections::BTreeMap<u64, BTreeSet<u64>> = Default::default();
    for mark in store.last_marks(PREFIX, usize::MAX)? {
        match parse(&mark) {
            Ok((person, n, _)) => {
                changes.entry(person.0).or_default().insert(n);
            }
            Err(_) => problems.push(format!(
                "the digest subscription mark `{}` cannot be read",
                mark.key
            )),
        }
    }
    for (person, numbers) in changes {
        let expected: BTreeSet<u64> = (1..=numbers.len() as u64).collect();
        if numbers != expected {
            problems.push(format!(
                "the digest subscription changes of person {person} are numbered {numbers:?}, not 1 to {}",
                numbers.len()
            ));
        }
    }
    Ok(problems)
}

/// When a personal digest goes out: the client's digest schedule (a
/// client's person), or for the MSP's people (`None`)
/// the MSP lead's, or 08:30 UTC on weekdays.
pub fn schedule_of(
    config: &Config,
    client: Option<&ClientKey>,
) -> Option<(DigestSchedule, BusinessCalendar)> {
    match client {
        Some(key) => {
            let client = config.client(key)?;
            Some((client.digest.schedule.clone(), client.calendar.clone()))
        }
        None => match &config.msp().digest {
            Some(lead) => Some((lead.schedule.clone(), lead.calendar.clone())),
            None => {
                let day = (Time::constant(0, 0, 0, 0), Time::constant(23, 59, 0, 0));
                let calendar =
                    BusinessCalendar::weekdays(TimeZone::UTC, &[day], BTreeSet::new()).ok()?;
                let schedule = DigestSchedule {
                    time: DEFAULT_DIGEST_TIME,
                    days: None,
                };
                Some((schedule, calendar))
            }
        },
    }
}

/// Records the personal digests due at `now` (blocking); when the next one
/// is due.
pub fn fire(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let mut next: Option<Timestamp> = None;
    for sub in subscribers(store)? {
        let Some((schedule, calendar)) = schedule_of(config, sub.client.as_ref()) else {
            continue;
        };
        if let Some((date, due)) = due_today(&schedule, &calendar, now) {
            let key = personal_digest_key(sub.person, date);
            let since = store
                .last_mark(&personal_digest_prefix(sub.person))?
                .map(|m| m.at);
            // Not for a day whose time had passed when they subscribed.
            if let Some(late) = crate::app::digests::to_record(due, now, since)
                && sub.at <= due
                && store.mark(&key)?.is_none()
            {
                let effect = Effect::PersonalDigest {
                    person: sub.person,
                    side: sub.side,
                    client: sub.client.clone(),
                    lang: sub.lang.code().to_owned(),
                    date,
                    due,
                    since,
                    late,
                };
                if store.commit_mark(&Mark { key, at: due }, &[effect])? {
                    tracing::info!(person = sub.person.0, %date, "personal digest recorded");
                }
            }
        }
    }
    // Someone may subscribe at any time: wake at every digest time a
    // subscriber could have (each client's, and the MSP people's).
    let mut times: Vec<(DigestSchedule, BusinessCalendar)> = config
        .clients()
        .iter()
        .map(|c| (c.digest.schedule.clone(), c.calendar.clone()))
        .collect();
    times.extend(schedule_of(config, None));
    for (schedule, calendar) in &times {
        if let Some(at) = schedule.next_after(now, calendar) {
            next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
        }
    }
    Ok(next)
}

/// Records each subscriber's digest once, at its time.
pub struct PersonalDigestTimer<S: Store> {
    pub store: Arc<S>,
    pub config: Arc<Config>,
}

impl<S: Store> Timer for PersonalDigestTimer<S> {
    fn name(&self) -> &'static str {
        "personal digests"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        let store = self.store.clone();
        let config = self.config.clone();
        Box::pin(crate::app::timers::off_runtime(
            "the personal digest timer",
            move || fire(&*store, &config, now),
        ))
    }
}

/// Builds a person's digest from the store as of `now` (blocking): their
/// client's open tasks, or every client's for the MSP's people.
pub fn build(
    store: &dyn Store,
    config: &Config,
    person: PersonId,
    side: Side,
    client: Option<&ClientKey>,
    now: Timestamp,
) -> Result<PersonalDigest, StoreError> {
    let keys: Vec<ClientKey> = match client {
        Some(k) => vec![k.clone()],
        None => config.clients().iter().map(|c| c.key.clone()).collect(),
    };
    let mut tasks: Vec<Task> = Vec::new();
    for key in &keys {
        // Open tasks only: finished ones changed after `now` are none.
        // Only the person's (assigned to them or asked by them) are kept:
        // the digest lists no other, and the client's open tasks come a
        // page at a time.
        for_each_client_task(store, key, Some(now), now, |task| {
            if task.assignee == Some(person) || task.requester == person {
                tasks.push(task);
            }
            Ok(())
        })?;
    }
    let spec = PersonalSpec {
        person,
        side,
        client,
        now,
    };
    Ok(personal::build(&spec, &tasks, |k| {
        config.client(k).map(|c| (&c.sla, &c.calendar))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn config() -> Config {
        Config::from_toml_str(crate::sandbox::cast::CONFIG, "example").unwrap()
    }

    #[test]
    fn subscribe_is_durable_reversible_and_the_last_change_wins() {
        let store = SledStore::open_temporary().unwrap();
        let acme = ClientKey::new("ACME").unwrap();
        let p = PersonId(7);
        let q = PersonId(77);
        let want = Some((Side::Internal, Some(acme.clone()), Lang::It));
        assert_eq!(current(&store, p).unwrap(), None);
        assert_eq!(
            set(&store, p, None, t("2026-11-30T07:00:00Z")).unwrap(),
            Change::Already
        );
        assert_eq!(
            set(&store, p, want.clone(), t("2026-11-30T07:00:00Z")).unwrap(),
            Change::Done
        );
        assert_eq!(
            set(&store, p, want.clone(), t("2026-11-30T07:01:00Z")).unwrap(),
            Change::Already
        );
        let msp = Some((Side::Msp, None, Lang::En));
        assert_eq!(
            set(&store, q, msp, t("2026-11-30T07:02:00Z")).unwrap(),
            Change::Done
        );
        let sub = current(&store, p).unwrap().unwrap();
        assert_eq!(
            (sub.side, sub.client.clone(), sub.lang),
            (Side::Internal, Some(acme.clone()), Lang::It)
        );
        assert_eq!(subscribers(&store).unwrap().len(), 2);
        assert_eq!(
            set(&store, p, None, t("2026-11-30T08:00:00Z")).unwrap(),
            Change::Done
        );
        assert_eq!(current(&store, p).unwrap(), None);
        let all = subscribers(&store).unwrap();
        assert_eq!(all.iter().map(|s| s.person).collect::<Vec<_>>(), [q]);
        // Again, after ten changes: the zero-padded count keeps the order.
        for i in 0..10 {
            let w = if i % 2 == 0 { want.clone() } else { None };
            assert_eq!(
                set(&store, p, w, t("2026-11-30T09:00:00Z")).unwrap(),
                Change::Done
            );
        }
        assert_eq!(current(&store, p).unwrap(), None);
    }

    #[test]
    fn the_integrity_check_finds_unreadable_and_missing_changes() {
        let store = SledStore::open_temporary().unwrap();
        let at = t("2026-11-30T07:00:00Z");
        set(&store, PersonId(7), Some((Side::Msp, None, Lang::En)), at).unwrap();
        set(&store, PersonId(7), None, at).unwrap();
        assert_eq!(check(&store).unwrap(), Vec::<String>::new());
        let bad = |key: &str| {
            store
                .commit_mark(
                    &Mark {
                        key: key.into(),
                        at,
                    },
                    &[],
                )
                .unwrap()
        };
        bad("digest-sub:8:00000002:msp:-:en");
        bad("digest-sub:9:x");
        let problems = check(&store).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("person 8")));
        assert!(problems.iter().any(|p| p.contains("digest-sub:9:x")));
    }

    #[test]
    fn a_personal_digest_is_recorded_once_per_day_at_the_clients_time() {
        let store = SledStore::open_temporary().unwrap();
        let config = config();
        let acme = ClientKey::new("ACME").unwrap();
        let p = PersonId(7);
        set(
            &store,
            p,
            Some((Side::Internal, Some(acme), Lang::It)),
            t("2026-11-27T09:00:00Z"),
        )
        .unwrap();
        let personal = |store: &SledStore| -> Vec<(String, bool)> {
            store
                .outbox_due(t("2030-01-01T00:00:00Z"), 100)
                .unwrap()
                .into_iter()
                .filter_map(|e| match &e.effect {
                    Effect::PersonalDigest { late, .. } => Some((e.effect.key(), *late)),
                    _ => None,
                })
                .collect()
        };
        // Friday 10:00 in Rome: today's time had passed when they subscribed.
        fire(&store, &config, t("2026-11-27T09:05:00Z")).unwrap();
        assert!(personal(&store).is_empty());
        // Monday 08:30 in Rome (07:30 UTC), fired twice.
        let next = fire(&store, &config, t("2026-11-30T07:29:00Z")).unwrap();
        assert_eq!(next, Some(t("2026-11-30T07:30:00Z")));
        fire(&store, &config, t("2026-11-30T07:30:00Z")).unwrap();
        fire(&store, &config, t("2026-11-30T07:31:00Z")).unwrap();
        assert_eq!(
            personal(&store),
            [("digest:person:7:2026-11-30".to_owned(), false)]
        );
        // Tuesday: down at 08:30, back at 09:10: once, late.
        fire(&store, &config, t("2026-12-01T08:10:00Z")).unwrap();
        fire(&store, &config, t("2026-12-01T08:11:00Z")).unwrap();
        assert_eq!(
            personal(&store)[1],
            ("digest:person:7:2026-12-01".to_owned(), true)
        );
        // Unsubscribed: nothing on Wednesday.
        set(&store, p, None, t("2026-12-01T12:00:00Z")).unwrap();
        fire(&store, &config, t("2026-12-02T07:30:00Z")).unwrap();
        assert_eq!(personal(&store).len(), 2);
    }
}
