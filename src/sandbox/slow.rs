//! Slow answers (`fault slow-answers 2s`): a desk that takes its time
//! before answering commands, buttons and forms, past the 1.5 s after which
//! the Discord adapter defers. Scripts use it to play every deferral path
//! (deferred messages and updates, edits of the original, follow-ups)
//! through the emulator, which checks each against Discord's rules.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::app::desk::request::{Interaction, Origin, TargetMessage};
use crate::app::desk::{Desk, ThreadMessage};
use crate::app::reply::{Answer, Reply};
use crate::config::Config;
use crate::domain::TaskId;

/// `inner`, answering interactions `delay` milliseconds late (0: at once).
pub struct Slow<D: Desk> {
    pub inner: D,
    pub delay: Arc<AtomicU64>,
}

impl<D: Desk> Desk for Slow<D> {
    fn config(&self) -> &Config {
        self.inner.config()
    }

    fn me(&self) -> &OnceLock<u64> {
        self.inner.me()
    }

    async fn handle(&self, origin: &Origin, interaction: &Interaction) -> Answer {
        let ms = self.delay.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        self.inner.handle(origin, interaction).await
    }

    async fn mention(&self, origin: &Origin, source: &TargetMessage) -> Reply {
        self.inner.mention(origin, source).await
    }

    fn late_form(&self, origin: &Origin) -> Reply {
        self.inner.late_form(origin)
    }

    async fn thread_message(&self, origin: &Origin, task: TaskId, said: ThreadMessage) {
        self.inner.thread_message(origin, task, said).await;
    }
}
