//! Timers: work that falls due with time (an escalation step, a digest, a
//! shift handover, a maintenance window's end). A timer never changes
//! anything itself: when it fires it submits requests to the ledger (the one
//! serialized consumer) or records marks with their outbox entries, so a
//! timer racing a click is decided like two clicks.
//!
//! Each timer says when it next has work ([`Timer::fire`] returns it). In
//! production [`Timers::run`] sleeps until the earliest of those times, or
//! until a change is committed (a new task may need a timer sooner), or at
//! most `idle`. The sandbox and the tests drive the same timers with a manual
//! clock: [`Timers::fire`] at each due time in turn.
//!
//! Firing must be idempotent: a timer asked twice for the same `now` (or
//! after a restart) does nothing twice, because what it submits carries a
//! key (a request key, a mark) that the store recognises.
//!
//! [`Timers`] keeps the latest time it fired at: firings never overlap, and time never
//! goes back for a timer (a firing that read the clock, then waited for another, sees
//! the other's later time). [`off_runtime`] runs a timer's sled work on tokio's blocking
//! pool: sled never blocks the async runtime. Marks are never deleted, so a reversible
//! setting is a numbered series of marks where the last one wins (see
//! `crate::app::personal_digests`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Notify, watch};

use crate::app::clock::Clock;

/// A boxed future, so timers of different types share one list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a timer could not do its work now. It is asked again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimerError(pub String);

/// Something that has work at certain times.
pub trait Timer: Send + Sync + 'static {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// Does everything due at or before `now`, and says when it next has
    /// work (`None`: nothing known; it is asked again after the next change
    /// or after the idle interval).
    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>>;
}

/// Runs a timer's store work (`work`, blocking: sled) on tokio's blocking
/// pool, never on the async runtime; `what` names the timer in errors.
pub async fn off_runtime<E: std::fmt::Display + Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<Option<Timestamp>, E> + Send + 'static,
) -> Result<Option<Timestamp>, TimerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TimerError(format!("{what} stopped: {e}")))?
        .map_err(|e| TimerError(e.to_string()))
}

/// All of Ponte's timers.
#[derive(Clone, Default)]
pub struct Timers {
    list: Vec<Arc<dyn Timer>>,
    /// The latest time they were fired at. Held while firing: firings never
    /// overlap, and time never goes back for a timer (a firing that read
    /// the clock, then waited for another, sees the other's later time).
    latest: Arc<tokio::sync::Mutex<Option<Timestamp>>>,
    /// Marked after each complete firing of the loop ([`Timers::run`]).
    liveness: Option<Arc<crate::ops::liveness::Liveness>>,
}

impl Timers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `liveness` after each complete firing of [`Timers::run`]: a
    /// timer that hangs stops the marks (the heartbeat out stops).
    pub fn with_liveness(mut self, liveness: Arc<crate::ops::liveness::Liveness>) -> Self {
        self.liveness = Some(liveness);
        self
    }

    pub fn add(&mut self, timer: Arc<dyn Timer>) {
        self.list.push(timer);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Fires every timer at `now` (or at the latest time they were fired
    /// at, if that is later: the sandbox and the timer loop may both fire
    /// them); the earliest time one of them has work next. A timer that
    /// failed is asked again soon (`now` + 5 s).
    pub async fn fire(&self, now: Timestamp) -> Option<Timestamp> {
        let mut latest = self.latest.lock().await;
        let now = latest.map_or(now, |l| l.max(now));
        *latest = Some(now);
        let mut next: Option<Timestamp> = None;
        for timer in &self.list {
            let when = match timer.fire(now).await {
                Ok(when) => when,
                Err(error) => {
                    tracing::warn!(timer = timer.name(), %error, "timer failed; will retry");
                    now.checked_add(jiff::SignedDuration::from_secs(5)).ok()
                }
            };
            if let Some(when) = when {
                next = Some(next.map_or(when, |n| n.min(when)));
            }
        }
        next
    }

    /// Fires the timers whenever they have work, until `stop` turns true.
    /// `wake` is notified after every committed change.
    ///
    /// A firing reads every open task (the escalator and the SLA timer list
    /// them: tens of milliseconds at 100k tasks, hundreds at 1M), and under
    /// a stream of changes a wake is always pending. So the first change
    /// after a quiet spell fires the timers at once (a new P1 is paged at
    /// once), and further changes fire them at most once per
    /// [`wake_gap`] after the previous firing began, coalesced; a timer's
    /// own due time is never delayed.
    pub async fn run(
        self,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        mut stop: watch::Receiver<bool>,
        idle: Duration,
    ) {
        if self.list.is_empty() {
            return;
        }
        loop {
            let began = tokio::time::Instant::now();
            let now = clock.now();
            let next = self.fire(now).await;
            if let Some(liveness) = &self.liveness {
                liveness.mark(crate::ops::liveness::Part::Timers);
            }
            let gap = wake_gap(began.elapsed());
            let wait = next
                .map(|at| {
                    let until = at.duration_since(clock.now());
                    Duration::try_from(until).unwrap_or(Duration::ZERO)
                })
                .map_or(idle, |d| d.min(idle));
            let due = tokio::time::sleep(wait);
            tokio::pin!(due);
            tokio::select! {
                _ = wake.notified() => {
                    // Woken by a change: wait out the gap, unless a timer
                    // falls due first.
                    tokio::select! {
                        _ = tokio::time::sleep_until(began + gap) => {}
                        _ = &mut due => {}
                        _ = stop.changed() => {}
                    }
                }
                _ = &mut due => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}

/// The least time between the starts of two firings caused by changes:
/// half a second, or four times what the last firing took, so that timers
/// woken by a stream of changes use at most a fifth of a core.
pub fn wake_gap(last_firing: Duration) -> Duration {
    Duration::from_millis(500).max(last_firing.saturating_mul(4))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use jiff::SignedDuration;

    use super::*;

    /// Fires at fixed times and records when it was asked.
    struct Alarm {
        at: Vec<Timestamp>,
        fired: Mutex<Vec<Timestamp>>,
    }

    impl Timer for Alarm {
        fn name(&self) -> &'static str {
            "alarm"
        }
        fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
            Box::pin(async move {
                let mut fired = self.fired.lock().unwrap();
                for at in &self.at {
                    if *at <= now && !fired.contains(at) {
                        fired.push(*at);
                    }
                }
                Ok(self.at.iter().copied().filter(|at| *at > now).min())
            })
        }
    }

    /// Remembers the times it was asked at.
    #[derive(Default)]
    struct Witness(Mutex<Vec<Timestamp>>);

    impl Timer for Witness {
        fn name(&self) -> &'static str {
            "witness"
        }
        fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
            Box::pin(async move {
                self.0.lock().unwrap().push(now);
                Ok(None)
            })
        }
    }

    #[tokio::test]
    async fn time_never_goes_back_for_a_timer() {
        // The timer loop read the clock on Friday and fired late, after
        // the sandbox had fired on Monday: the timer sees Monday.
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let witness = Arc::new(Witness::default());
        let mut timers = Timers::new();
        timers.add(witness.clone());
        timers.fire(t("2026-11-30T07:00:00Z")).await;
        timers.fire(t("2026-11-27T09:00:00Z")).await;
        timers.fire(t("2026-11-30T07:30:00Z")).await;
        assert_eq!(
            *witness.0.lock().unwrap(),
            [
                t("2026-11-30T07:00:00Z"),
                t("2026-11-30T07:00:00Z"),
                t("2026-11-30T07:30:00Z")
            ]
        );
    }

    /// Counts its firings; has work at `due` once, if set.
    #[derive(Default)]
    struct Counter {
        fired: std::sync::atomic::AtomicUsize,
        due: Mutex<Option<Timestamp>>,
    }

    impl Timer for Counter {
        fn name(&self) -> &'static str {
            "counter"
        }
        fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
            Box::pin(async move {
                self.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Due once: asked after that, nothing more.
                Ok(self.due.lock().unwrap().take().filter(|d| *d > now))
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_of_changes_fires_the_timers_at_most_once_per_gap() {
        use crate::app::clock::ManualClock;
        let start: Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let counter = Arc::new(Counter::default());
        let mut timers = Timers::new();
        timers.add(counter.clone());
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let fired = || counter.fired.load(std::sync::atomic::Ordering::SeqCst);
        let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));
        let running = tokio::spawn(timers.run(
            clock.clone(),
            wake.clone(),
            stopped,
            Duration::from_secs(30),
        ));
        pause(10).await;
        assert_eq!(fired(), 1, "fired once at start");
        // A change after a quiet spell: fired at once.
        pause(10_000).await;
        wake.notify_one();
        pause(1).await;
        assert_eq!(fired(), 2);
        // A change every 10 ms for two seconds: once per half second.
        for _ in 0..200 {
            wake.notify_one();
            pause(10).await;
        }
        pause(1_000).await;
        let during = fired() - 2;
        assert!((4..=5).contains(&during), "{during} firings in 2 s");
        // A timer's own due time is not held back by the gap: work due
        // 200 ms after a firing caused by a change is done at its time.
        pause(10_000).await;
        *counter.due.lock().unwrap() = Some(start + SignedDuration::from_millis(200));
        let before = fired();
        wake.notify_one();
        pause(1).await;
        wake.notify_one();
        pause(250).await;
        assert_eq!(fired(), before + 2, "at once, then at the due time");
        stop.send(true).unwrap();
        running.await.unwrap();
        // Slow firings space themselves out further.
        assert_eq!(wake_gap(Duration::ZERO), Duration::from_millis(500));
        assert_eq!(
            wake_gap(Duration::from_millis(300)),
            Duration::from_millis(1200)
        );
    }

    #[tokio::test]
    async fn firing_at_each_due_time_in_turn_fires_each_alarm_once() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let alarm = Arc::new(Alarm {
            at: vec![t("2026-11-28T03:10:00Z"), t("2026-11-28T03:00:00Z")],
            fired: Mutex::new(Vec::new()),
        });
        let mut timers = Timers::new();
        timers.add(alarm.clone());
        let mut now = t("2026-11-28T02:00:00Z");
        let mut steps = 0;
        while let Some(next) = timers.fire(now).await {
            now = next;
            steps += 1;
        }
        assert_eq!(steps, 2);
        assert_eq!(
            *alarm.fired.lock().unwrap(),
            vec![t("2026-11-28T03:00:00Z"), t("2026-11-28T03:10:00Z")]
        );
        // Asked again at the same time: nothing more.
        assert_eq!(timers.fire(now).await, None);
        assert_eq!(alarm.fired.lock().unwrap().len(), 2);
    }
}
