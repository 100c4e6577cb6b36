//! Delivery of the outbox: side effects recorded with their change are
//! delivered here, in order, with retries and backoff. A fault delays an
//! effect, it never drops one: an entry leaves the outbox only once its sink
//! said it was delivered. Sinks must be idempotent by [`Effect::key`]: an
//! entry delivered just before a crash is delivered again after it.
//!
//! Entries go in outbox order, in lanes: the effects of one task in order (an entry
//! waiting for its retry holds back the later ones of its task), any other effect in
//! a lane of its own. Retries wait by [`Backoff`]. How the chat deliveries stay
//! idempotent (nonces, a card's thread found by the card, keyed linking) is in
//! `crate::app::deliver`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::app::clock::Clock;
use crate::domain::effect::Effect;
use crate::store::{OutboxEntry, Store, StoreError};

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    pub failure: Failure,
}

/// Whether a failed delivery is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Trying again later may work: a rate limit, a server error, a
    /// timeout, a connection that failed. `after` is how long the other
    /// side asked us to wait (`retry_after`), if it said.
    Transient { after: Option<Duration> },
    /// Trying again changes nothing until someone acts: the entry becomes
    /// a dead letter and people are told.
    Refused(Refusal),
}

/// What was refused for good, so that the right people can be told what to
/// fix, and what can be done instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bot lacks a permission in this channel (Discord 50013, 50001).
    Permission { channel: u64 },
    /// The person does not accept direct messages from the bot (50007).
    DirectMessages,
    /// The thread is archived or locked (50083, 160005).
    ThreadClosed { channel: u64 },
    /// The action is not possible in this kind of channel, e.g. a thread
    /// from a message in a thread (50024).
    ChannelType { channel: u64 },
    /// The channel, message or user does not exist (10003, 10008, 10013);
    /// `channel` is the channel the call was about (0: none).
    Unknown { channel: u64 },
    /// Anything else the other side refused (400 with 50035, a pager's 4xx).
    Other,
}

impl DeliveryError {
    /// A failure to try again later.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            failure: Failure::Transient { after: None },
        }
    }

    /// A failure to try again no sooner than `after`.
    pub fn retry_after(message: impl Into<String>, after: Duration) -> Self {
        Self {
            message: message.into(),
            failure: Failure::Transient { after: Some(after) },
        }
    }

    /// A refusal for good.
    pub fn refused(refusal: Refusal, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            failure: Failure::Refused(refusal),
        }
    }

    /// The refusal, if trying again cannot help.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.failure {
            Failure::Refused(r) => Some(r),
            Failure::Transient { .. } => None,
        }
    }
}

/// Where effects go (the chat, a pager, ...).
pub trait Sink: Send + Sync + 'static {
    /// Delivers one effect. Called again with the same effect after a
    /// failure or a restart, so it must be idempotent by `effect.key()`.
    /// Fallbacks (another place to post, the next escalation step) are the
    /// sink's own: it answers a refusal only when it found none.
    fn deliver(&self, effect: &Effect) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// Tells the people responsible that `effect` was set aside as a dead
    /// letter because of `error` (a refusal), where they read. Best effort:
    /// the dead letter, its metric and `/healthz` say it anyway.
    fn refused(&self, effect: &Effect, error: &DeliveryError) -> impl Future<Output = ()> + Send {
        let _ = (effect, error);
        async {}
    }
}

/// How long to wait before trying an entry again.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: SignedDuration,
    pub max: SignedDuration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: SignedDuration::from_secs(2),
            max: SignedDuration::from_mins(5),
        }
    }
}

impl Backoff {
    /// The wait after `attempts` failed attempts (1, 2, ...): doubling from
    /// `first`, capped at `max`.
    pub fn after(&self, attempts: u32) -> SignedDuration {
        let factor = 1i32 << attempts.saturating_sub(1).min(20);
        self.first
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// How deliveries share the way out.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    /// How many lanes of chat effects deliver at once.
    pub chat: usize,
    /// How many lanes of pages deliver at once, apart from the chat lanes:
    /// a page never waits for a slot behind a card.
    pub pages: usize,
    /// The most one delivery may take (all its calls together); past it,
    /// it counts as a transient failure and is tried again.
    pub deadline: Duration,
}

impl Default for Lanes {
    fn default() -> Self {
        Self {
            chat: 8,
            pages: 16,
            deadline: Duration::from_secs(60),
        }
    }
}

/// The lane an effect goes in. The effects of one task go in order in the
/// task's lane; a page goes in a lane of its own, so that it never waits
/// behind a card or another page; a page to an outside pager shares its
/// lane with that pager's later acknowledge and resolve updates of the task,
/// which must come after it. Anything else is a lane of its own.
pub fn lane_of(effect: &Effect) -> Lane {
    use crate::domain::escalation::Target;
    match effect {
        Effect::Page {
            task,
            target: Target::Pager(pager),
            ..
        }
        | Effect::PagerUpdate { task, pager, .. } => Lane {
            key: format!("pager:{task}:{pager}"),
            urgent: true,
        },
        Effect::Page { key, .. } => Lane {
            key: key.clone(),
            urgent: true,
        },
        _ => Lane {
            key: match effect.task() {
                Some(task) => format!("task:{task}"),
                None => effect.key(),
            },
            urgent: false,
        },
    }
}

/// A lane: effects in one lane are delivered in outbox order, one at a time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lane {
    pub key: String,
    /// Pages: delivered with the page slots.
    pub urgent: bool,
}

/// What one pass over the outbox did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
    /// Entries set aside as dead letters.
    pub dead: usize,
}

impl std::ops::AddAssign for Pass {
    fn add_assign(&mut self, other: Pass) {
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.dead += other.dead;
    }
}

/// Delivers due outbox entries to a sink, lane by lane, lanes at once.
pub struct Deliverer<S: Store, K: Sink> {
    inner: Arc<Inner<S, K>>,
    chat_slots: Arc<Semaphore>,
    page_slots: Arc<Semaphore>,
}

struct Inner<S: Store, K: Sink> {
    store: Arc<S>,
    sink: K,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    deadline: Duration,
    /// How many entries from the head of the outbox one scan looks at.
    scan: usize,
}

impl<S: Store, K: Sink> Deliverer<S, K> {
    pub fn new(store: Arc<S>, sink: K, clock: Arc<dyn Clock>) -> Self {
        Self::build(store, sink, clock, Backoff::default(), Lanes::default())
    }

    fn build(
        store: Arc<S>,
        sink: K,
        clock: Arc<dyn Clock>,
        backoff: Backoff,
        lanes: Lanes,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                sink,
                clock,
                backoff,
                deadline: lanes.deadline,
                scan: 1024,
            }),
            chat_slots: Arc::new(Semaphore::new(lanes.chat.max(1))),
            page_slots: Arc::new(Semaphore::new(lanes.pages.max(1))),
        }
    }

    /// Retries wait by `backoff` (call before the deliverer runs).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.backoff = backoff;
        }
        self
    }

    /// Lanes share the way out by `lanes` (call before the deliverer runs).
    pub fn with_lanes(mut self, lanes: Lanes) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.deadline = lanes.deadline;
        }
        self.chat_slots = Arc::new(Semaphore::new(lanes.chat.max(1)));
        self.page_slots = Arc::new(Semaphore::new(lanes.pages.max(1)));
        self
    }

    /// The sink deliveries go to.
    pub fn sink(&self) -> &K {
        &self.inner.sink
    }

    /// Delivers everything due now and waits for it: each lane's due
    /// entries in order (a failure holds back the rest of its lane), the
    /// lanes at once.
    pub async fn pass(&self) -> Result<Pass, StoreError> {
        let mut running = JoinSet::new();
        self.start(&mut running, &HashSet::new()).await?;
        let mut pass = Pass::default();
        while let Some(done) = running.join_next().await {
            match done {
                Ok((_, Ok(p))) => pass += p,
                Ok((_, Err(e))) => return Err(e),
                Err(e) => return Err(StoreError::Io(std::io::Error::other(e))),
            }
        }
        Ok(pass)
    }

    /// Starts a worker for each lane that has due entries and is not
    /// `busy`; returns the lanes started and when the next entry not yet
    /// due is due.
    async fn start(
        &self,
        running: &mut JoinSet<(Lane, Result<Pass, StoreError>)>,
        busy: &HashSet<Lane>,
    ) -> Result<(Vec<(tokio::task::Id, Lane)>, Option<Timestamp>), StoreError> {
        let now = self.inner.clock.now();
        let scan = self.inner.scan;
        // The head of the outbox, due or not: a waiting entry holds back
        // the entries of its lane that come after it.
        let head = self
            .inner
            .blocking(move |s| s.outbox_due(Timestamp::MAX, scan))
            .await?;
        let mut lanes: Vec<(Lane, Vec<OutboxEntry>)> = Vec::new();
        let mut held: HashSet<Lane> = HashSet::new();
        let mut next: Option<Timestamp> = None;
        for entry in head {
            let lane = lane_of(&entry.effect);
            if busy.contains(&lane) || held.contains(&lane) {
                continue;
            }
            if entry.not_before > now {
                next = Some(next.map_or(entry.not_before, |n| n.min(entry.not_before)));
                held.insert(lane);
                continue;
            }
            match lanes.iter_mut().find(|(l, _)| *l == lane) {
                Some((_, entries)) => entries.push(entry),
                None => lanes.push((lane, vec![entry])),
            }
        }
        let mut started = Vec::with_capacity(lanes.len());
        for (lane, entries) in lanes {
            let inner = self.inner.clone();
            let slots = if lane.urgent {
                self.page_slots.clone()
            } else {
                self.chat_slots.clone()
            };
            let key = lane.clone();
            let handle = running.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let pass = inner.deliver_lane(entries).await;
                (key, pass)
            });
            started.push((handle.id(), lane));
        }
        Ok((started, next))
    }

    /// Delivers until `stop` turns true: a lane starts as soon as it has a
    /// due entry and is not already delivering, so a slow or failing lane
    /// holds back only itself. Looks again when a delivery ends, when `wake`
    /// is notified (a change was committed), when the next retry is due, and
    /// at least every `idle`. At a stop, deliveries in flight are cut off:
    /// they are idempotent and go again at the next start.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>, idle: Duration) {
        let mut running = JoinSet::new();
        let mut busy: HashSet<Lane> = HashSet::new();
        let mut ids: HashMap<tokio::task::Id, Lane> = HashMap::new();
        loop {
            let mut wait = idle;
            match self.start(&mut running, &busy).await {
                Ok((started, next)) => {
                    for (id, lane) in started {
                        busy.insert(lane.clone());
                        ids.insert(id, lane);
                    }
                    if let Some(next) = next {
                        let until = self.inner.clock.now().duration_until(next);
                        if let Ok(until) = Duration::try_from(until) {
                            wait = wait.min(until.max(Duration::from_millis(50)));
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read the outbox; will retry"),
            }
            tokio::select! {
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    match done {
                        Ok((id, (lane, result))) => {
                            ids.remove(&id);
                            busy.remove(&lane);
                            match result {
                                Ok(pass) => tracing::debug!(
                                    lane = %lane.key,
                                    delivered = pass.delivered,
                                    failed = pass.failed,
                                    dead = pass.dead,
                                    "lane delivered"
                                ),
                                Err(e) => tracing::error!(
                                    lane = %lane.key,
                                    error = %e,
                                    "cannot update the outbox; will retry"
                                ),
                            }
                        }
                        // A worker that panicked: its lane is free again,
                        // its entry still in the outbox.
                        Err(e) => {
                            tracing::error!(error = %e, "a delivery worker failed");
                            if let Some(lane) = ids.remove(&e.id()) {
                                busy.remove(&lane);
                            }
                        }
                    }
                }
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
        running.shutdown().await;
    }
}

impl<S: Store, K: Sink> Inner<S, K> {
    /// Delivers `entries` (one lane's, due, in order) until one fails.
    async fn deliver_lane(&self, entries: Vec<OutboxEntry>) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        for entry in entries {
            let outcome =
                match tokio::time::timeout(self.deadline, self.sink.deliver(&entry.effect)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(DeliveryError::transient(format!(
                        "no answer within {}s",
                        self.deadline.as_secs()
                    ))),
                };
            match outcome {
                Ok(()) => {
                    let id = entry.id;
                    self.blocking(move |s| s.outbox_done(id)).await?;
                    pass.delivered += 1;
                    crate::ops::metrics::global().deliveries_sent.inc();
                }
                Err(error) => {
                    crate::ops::metrics::global().deliveries_failed.inc();
                    if error.refusal().is_some() {
                        pass.dead += 1;
                        self.dead(&entry, &error).await?;
                    } else {
                        pass.failed += 1;
                        self.failed(&entry, &error).await?;
                    }
                    break;
                }
            }
        }
        Ok(pass)
    }

    async fn failed(&self, entry: &OutboxEntry, error: &DeliveryError) -> Result<(), StoreError> {
        let now = self.clock.now();
        let attempts = entry.attempts + 1;
        let mut wait = self.backoff.after(attempts);
        if let Failure::Transient { after: Some(after) } = error.failure {
            if let Ok(after) = SignedDuration::try_from(after) {
                wait = wait.max(after);
            }
        }
        let not_before = now.checked_add(wait).unwrap_or(now);
        tracing::warn!(
            key = %entry.effect.key(),
            attempts,
            retry_in = %format!("{wait:#}"),
            error = %error,
            "delivery failed, will retry"
        );
        let (id, message) = (entry.id, error.message.clone());
        self.blocking(move |s| s.outbox_retry(id, not_before, &message))
            .await
    }

    /// Sets a refused entry aside and has the sink tell the people
    /// responsible: the lane moves on.
    async fn dead(&self, entry: &OutboxEntry, error: &DeliveryError) -> Result<(), StoreError> {
        let now = self.clock.now();
        tracing::error!(
            key = %entry.effect.key(),
            error = %error,
            "delivery refused for good: set aside as a dead letter (`ponte outbox list`)"
        );
        // People are told while the entry is still in the outbox, so that
        // whoever waits for the outbox to drain sees the notice too; a crash
        // in between tells them again at most (the notice is once-only).
        if tokio::time::timeout(self.deadline, self.sink.refused(&entry.effect, error))
            .await
            .is_err()
        {
            tracing::warn!(key = %entry.effect.key(), "telling people of a dead letter took too long");
        }
        let (id, message) = (entry.id, error.message.clone());
        self.blocking(move |s| s.outbox_dead(id, now, &message))
            .await?;
        crate::ops::metrics::global().dead_letters.inc();
        Ok(())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.after(1), SignedDuration::from_secs(2));
        assert_eq!(b.after(2), SignedDuration::from_secs(4));
        assert_eq!(b.after(5), SignedDuration::from_secs(32));
        assert_eq!(b.after(9), SignedDuration::from_mins(5));
        assert_eq!(b.after(u32::MAX), SignedDuration::from_mins(5));
    }
}
