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

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

use crate::app::clock::Clock;
use crate::domain::effect::Effect;
use crate::store::{OutboxEntry, Store, StoreError};

/// Why a delivery failed. Every failure is retried later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// Where effects go (the chat, a pager, ...).
pub trait Sink: Send + Sync + 'static {
    /// Delivers one effect. Called again with the same effect after a
    /// failure or a restart, so it must be idempotent by `effect.key()`.
    fn deliver(&self, effect: &Effect) -> impl Future<Output = Result<(), DeliveryError>> + Send;
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

/// What one pass over the outbox did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
}

/// Delivers due outbox entries to a sink.
pub struct Deliverer<S: Store, K: Sink> {
    store: Arc<S>,
    sink: K,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    /// How many entries from the head of the outbox one pass looks at.
    scan: usize,
}

impl<S: Store, K: Sink> Deliverer<S, K> {
    pub fn new(store: Arc<S>, sink: K, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            sink,
            clock,
            backoff: Backoff::default(),
            scan: 1024,
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Delivers what is due now, oldest first. Entries of one task stay in
    /// order: while an earlier entry of a task waits for its retry, the
    /// later ones of that task wait behind it.
    pub async fn pass(&self) -> Result<Pass, StoreError> {
        let now = self.clock.now();
        let scan = self.scan;
        // The head of the outbox, due or not: a waiting entry holds back
        // the entries of its task that come after it.
        let head = self
            .blocking(move |s| s.outbox_due(Timestamp::MAX, scan))
            .await?;
        let mut pass = Pass::default();
        let mut held = Vec::new();
        for entry in head {
            // Effects of one task go in order; any other effect is its
            // own lane.
            let lane = match entry.effect.task() {
                Some(task) => task.to_string(),
                None => entry.effect.key(),
            };
            if held.contains(&lane) {
                continue;
            }
            if entry.not_before > now {
                held.push(lane);
                continue;
            }
            match self.sink.deliver(&entry.effect).await {
                Ok(()) => {
                    let id = entry.id;
                    self.blocking(move |s| s.outbox_done(id)).await?;
                    pass.delivered += 1;
                    crate::ops::metrics::global().deliveries_sent.inc();
                }
                Err(error) => {
                    pass.failed += 1;
                    crate::ops::metrics::global().deliveries_failed.inc();
                    held.push(lane);
                    self.failed(&entry, &error, now).await?;
                }
            }
        }
        Ok(pass)
    }

    async fn failed(
        &self,
        entry: &OutboxEntry,
        error: &DeliveryError,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let attempts = entry.attempts + 1;
        let wait = self.backoff.after(attempts);
        let not_before = now.checked_add(wait).unwrap_or(now);
        tracing::warn!(
            key = %entry.effect.key(),
            attempts,
            retry_in = %format!("{wait:#}"),
            error = %error,
            "delivery failed, will retry"
        );
        let (id, message) = (entry.id, error.0.clone());
        self.blocking(move |s| s.outbox_retry(id, not_before, &message))
            .await
    }

    /// Runs passes until `stop` turns true: right away when `wake` is
    /// notified (a change was committed), else every `idle`.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>, idle: Duration) {
        loop {
            match self.pass().await {
                Ok(pass) if pass.delivered + pass.failed > 0 => {
                    tracing::debug!(
                        delivered = pass.delivered,
                        failed = pass.failed,
                        "outbox pass"
                    );
                    if pass.failed == 0 {
                        // More may have arrived while delivering.
                        continue;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "cannot read the outbox; will retry"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
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
