//! The MSP's queue channel hears of every task that becomes the MSP's: a
//! new task sent to the MSP (P1s included) or one handed to it, of any
//! client, one line each, in the MSP's language. A client whose MSP work
//! happens in the queue itself (no MSP channel of its own) already has its
//! card there, and gets no line. The line names the client and the task;
//! it links nothing of another server. Also here: the history lines of a
//! thread name another server's roles and channels, never mention them.

use crate::app::outbox::DeliveryError;
use crate::app::reply::render::{Renderer, limits};
use crate::app::reply::{Reply, places};
use crate::config::ClientConfig;
use crate::domain::error::Arg;
use crate::domain::{Event, EventKind, Side, Task};
use crate::store::Store;

use super::Chat;
use super::sink::ChatSink;

/// Whether `events` make `task` the MSP's: created for it, or handed to it.
pub fn becomes_msps(task: &Task, events: &[Event]) -> bool {
    events.iter().any(|e| match &e.kind {
        EventKind::Routed { side, .. } => *side == Side::Msp && task.handling_side == Side::Msp,
        EventKind::HandedOff { to, .. } => *to == Side::Msp,
        _ => false,
    })
}

impl<S: Store, C: Chat> ChatSink<S, C> {
    /// `lines` for the server of `channel`: roles and channels of another
    /// server by name, never a mention (`crate::app::reply::places`).
    pub(super) async fn for_server_of(
        &self,
        channel: Option<u64>,
        lines: Vec<String>,
        lang: crate::i18n::Lang,
    ) -> Result<Vec<String>, DeliveryError> {
        let here = match channel {
            Some(channel) => match places::server_of(&self.config, channel) {
                Some(server) => Some(server),
                None => self
                    .chat
                    .server_of(channel)
                    .await
                    .map_err(|e| e.context("reading a channel"))?,
            },
            None => None,
        };
        Ok(lines
            .iter()
            .map(|l| places::for_server(l, here, &self.config, &self.messages, lang))
            .collect())
    }

    /// Posts the queue's line for `task` when `events` (those of an
    /// announcement) make it the MSP's; `key` is the announcement's.
    pub(super) async fn tell_queue(
        &self,
        key: &str,
        task: &Task,
        client: &ClientConfig,
        events: &[Event],
    ) -> Result<(), DeliveryError> {
        let Some(server) = self.config.msp().server else {
            return Ok(());
        };
        let queue = server.queue_channel;
        if client.channels.msp.is_none_or(|c| c == queue) || !becomes_msps(task, events) {
            return Ok(());
        }
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.config.msp().language,
        };
        let text = self.messages.text(
            renderer.lang,
            "queue-new-task",
            &[
                ("id", Arg::Text(task.id.to_string())),
                ("priority", Arg::Text(task.priority.to_string())),
                ("client", Arg::Text(client.name.clone())),
                ("title", Arg::Text(task.title.clone())),
            ],
        );
        let line = Reply {
            content: renderer.fit(&text, limits::CONTENT),
            ..Reply::default()
        };
        self.post(queue.get(), &line, &format!("{key}#queue"))
            .await?;
        Ok(())
    }
}
