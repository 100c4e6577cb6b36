//! The store watchdog: ends the process when the store stops answering.
//!
//! sled 0.34.7 deadlocks under sustained writes: its segment accountant
//! waits, holding its lock, for a file truncation queued on sled's thread
//! pool behind I/O tasks that wait for that same lock (spacejam/sled#1412;
//! fixed upstream in #1269, which no 0.34 release has). Ponte builds sled
//! with that fixed (`vendor/sled/PONTE-PATCH.md`), and this watchdog stays
//! for whatever else could hang a write. Nothing can free such a process;
//! but every change a user was told about is flushed, and the rest is
//! asked again (Discord re-delivers unanswered interactions, the outbox
//! retries), so a restart loses nothing. So the writer thread marks when
//! it starts and ends each batch, and a watchdog thread ends the process
//! (exit code [`EXIT_STORE_STUCK`]) when one batch has run for longer than
//! its limit, for the supervisor (Docker's restart policy, systemd) to
//! start it again.
//!
//! The limit is [`STUCK_AFTER`] (60 s); the exit code [`EXIT_STORE_STUCK`] is 75.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The exit code of a process ended by the watchdog (`EX_TEMPFAIL`: try
/// again).
pub const EXIT_STORE_STUCK: i32 = 75;

/// How long one batch of changes may take before the store counts as
/// stuck: far above a slow disk's flush (seconds), far below forever.
pub const STUCK_AFTER: Duration = Duration::from_secs(60);

/// Shared by the writer (which marks its batches) and the watchdog thread.
#[derive(Debug)]
pub struct Heartbeat {
    epoch: Instant,
    /// Milliseconds since `epoch` + 1 when the running batch started; 0
    /// when the writer is idle.
    busy_since: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            busy_since: AtomicU64::new(0),
        }
    }
}

impl Heartbeat {
    /// The writer starts a batch.
    pub fn busy(&self) {
        let at = self.epoch.elapsed().as_millis() as u64 + 1;
        self.busy_since.store(at, Ordering::SeqCst);
    }

    /// The writer finished its batch.
    pub fn idle(&self) {
        self.busy_since.store(0, Ordering::SeqCst);
    }

    /// For how long the running batch has run, if one is running.
    pub fn running_for(&self) -> Option<Duration> {
        match self.busy_since.load(Ordering::SeqCst) {
            0 => None,
            since => {
                let now = self.epoch.elapsed().as_millis() as u64 + 1;
                Some(Duration::from_millis(now.saturating_sub(since)))
            }
        }
    }
}

/// Starts the watchdog thread: every `check_every`, if a batch has run for
/// longer than `limit`, it calls `on_stuck` with how long (once) and stops.
/// It stops by itself when the writer is gone (the last other holder of
/// `heartbeat` dropped it).
pub fn spawn(
    heartbeat: Arc<Heartbeat>,
    limit: Duration,
    check_every: Duration,
    on_stuck: impl FnOnce(Duration) + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ponte-watchdog".into())
        .spawn(move || {
            loop {
                std::thread::sleep(check_every);
                if Arc::strong_count(&heartbeat) == 1 {
                    return;
                }
                if let Some(running) = heartbeat.running_for().filter(|r| *r > limit) {
                    on_stuck(running);
                    return;
                }
            }
        })?;
    Ok(())
}

/// What the running bot does when the store is stuck: says so and exits.
pub fn exit_stuck(running: Duration) {
    tracing::error!(
        running_s = running.as_secs(),
        exit_code = EXIT_STORE_STUCK,
        "the store has not finished a write for {} s: exiting so that the \
         supervisor restarts Ponte (every change users were told about is on disk)",
        running.as_secs()
    );
    std::process::exit(EXIT_STORE_STUCK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_batch_that_runs_too_long_is_reported_once_and_a_quick_one_never() {
        let heartbeat = Arc::new(Heartbeat::default());
        assert_eq!(heartbeat.running_for(), None);
        let (tx, rx) = mpsc::channel();
        spawn(
            heartbeat.clone(),
            Duration::from_millis(300),
            Duration::from_millis(20),
            move |running| tx.send(running).unwrap(),
        )
        .unwrap();
        // Quick batches: never stuck.
        for _ in 0..5 {
            heartbeat.busy();
            std::thread::sleep(Duration::from_millis(10));
            heartbeat.idle();
            std::thread::sleep(Duration::from_millis(30));
        }
        assert!(rx.try_recv().is_err());
        // A batch that hangs.
        heartbeat.busy();
        let running = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(running > Duration::from_millis(300), "{running:?}");
        assert!(heartbeat.running_for().unwrap() >= running);
    }

    #[test]
    fn the_watchdog_stops_with_the_writer() {
        let heartbeat = Arc::new(Heartbeat::default());
        let (tx, rx) = mpsc::channel::<Duration>();
        spawn(
            heartbeat.clone(),
            Duration::from_millis(1),
            Duration::from_millis(10),
            move |running| tx.send(running).unwrap(),
        )
        .unwrap();
        drop(heartbeat);
        // The thread ends without reporting: the sender is dropped with it.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
    }
}
