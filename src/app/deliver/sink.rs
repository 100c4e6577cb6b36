//! [`ChatSink`]: delivers outbox effects through a [`Chat`]: a new task's
//! card and thread, card updates and history lines, and the bridge (the
//! mirrored card on the other side's server, relayed messages and their
//! edits). See [`crate::app::deliver`] for why every step is idempotent.
//!
//! Internal notes never cross: history lines in a thread are shared events only, and
//! only shared messages are relayed across the bridge (the visibility is checked again
//! here, after `domain::effect` chose the effects). `tests/scenarios/bridge_relay.scenario`
//! checks that no note of either side shows in the other side's channels, threads or DMs.

use std::sync::Arc;

use crate::app::engine::{Ledger, Op, PonteError, Request};
use crate::app::outbox::{DeliveryError, Refusal, Sink};
use crate::app::reply::render::{Renderer, Reply, limits, pack};
use crate::config::{ClientConfig, Config};
use crate::domain::effect::Effect;
use crate::domain::{
    Actor, Audience, ChatRef, ClientScope, Command, PersonId, RoleSet, Side, Task, TaskId,
    UserError, Visibility, Who,
};
use crate::i18n::Messages;
use crate::store::Store;

use super::{Chat, Edit};

pub struct ChatSink<S: Store, C: Chat> {
    /// Where messages go.
    pub chat: C,
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
    pub messages: Arc<Messages>,
    /// Outside pagers and their failure counts (issue 5).
    pub pagers: Arc<crate::notify::pager::Pagers>,
}

fn failed(what: &str) -> impl Fn(DeliveryError) -> DeliveryError + '_ {
    move |e| e.context(what)
}

/// Ponte's own bookkeeping on a task (a chat link, where a page went, a
/// page that failed), keyed so that a repeated delivery records it once.
pub(super) fn bookkeeping(task: &TaskId, command: Command, key: String) -> Request {
    Request {
        actor: ponte(),
        by: Who::Ponte,
        op: Op::Change {
            task: task.clone(),
            command,
        },
        key: Some(key),
    }
}

/// Ponte itself, acting on its own bookkeeping.
fn ponte() -> Actor {
    Actor {
        person: PersonId(0),
        side: Side::Msp,
        roles: RoleSet::empty(),
        clients: ClientScope::All,
    }
}

impl<S: Store, C: Chat> ChatSink<S, C> {
    /// The task an effect is about, its history and its client, or `None`
    /// when the task or its client is gone (cannot happen for a task: the
    /// effect was written with it): logged, nothing to deliver, and no retry
    /// forever. `what` says what the delivery was doing.
    async fn subject(
        &self,
        id: &TaskId,
        what: &str,
    ) -> Result<Option<(Task, Vec<crate::domain::Event>, &ClientConfig)>, DeliveryError> {
        let Some((task, events)) = self
            .ledger
            .history(id.clone())
            .await
            .map_err(|e| DeliveryError::transient(e.to_string()))?
        else {
            tracing::error!(task = %id, "{what} a task that does not exist");
            return Ok(None);
        };
        let Some(client) = self.config.client(task.id.client()) else {
            tracing::error!(task = %id, "{what} a task of a client no longer configured");
            return Ok(None);
        };
        Ok(Some((task, events, client)))
    }

    async fn announce(
        &self,
        effect: &Effect,
        id: &TaskId,
        first: u32,
        last: u32,
    ) -> Result<(), DeliveryError> {
        let Some((mut task, events, client)) = self.subject(id, "announcing").await? else {
            return Ok(());
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: client.language,
        };
        let key = effect.key();
        let thread = match (task.chat.message, task.chat.channel) {
            (Some(message), Some(channel)) => {
                let card = renderer.card_message(&task);
                self.chat
                    .edit(channel, message, &Edit::Card(card))
                    .await
                    .map_err(failed("editing the card"))?;
                task.chat.thread.unwrap_or(channel)
            }
            _ => {
                let requests = client.channels.requests.get();
                let channel = task.chat.channel.unwrap_or(requests);
                let (channel, (message, thread)) =
                    match self.post_card(&renderer, &task, channel, "card").await {
                        // Where the request was made refuses the card or its
                        // thread for good (a thread, which cannot hold a
                        // thread of its own; a channel without threads; a
                        // missing permission): the task goes to the
                        // client's requests channel, so it still has a
                        // place to talk.
                        Err(e) if e.refusal().is_some() && channel != requests => {
                            tracing::warn!(
                                task = %task.id,
                                channel,
                                error = %e,
                                "the card's place refused it; using the requests channel"
                            );
                            if matches!(e.refusal(), Some(Refusal::Permission { .. })) {
                                self.notify_refused(effect, &e).await;
                            }
                            let placed = self
                                .post_card(&renderer, &task, requests, "card-requests")
                                .await?;
                            (requests, placed)
                        }
                        other => (channel, other?),
                    };
                self.link(&mut task, channel, message, thread).await?;
                thread
            }
        };
        // History lines go in the thread both sides read: shared events only.
        let shown: Vec<_> = events
            .iter()
            .filter(|e| (first..=last).contains(&e.seq))
            .filter(|e| e.kind.visibility() == Visibility::Shared)
            .cloned()
            .collect();
        let lines = renderer.history(&shown, Audience::Requesters);
        self.post_lines(
            thread,
            task.chat.channel,
            lines,
            client.language,
            &format!("{key}#"),
        )
        .await?;
        // The bridge: the same card and lines on the other side's server.
        self.mirror(&key, &mut task, client, &shown).await?;
        // The MSP's queue hears of every task that becomes the MSP's.
        self.tell_queue(&key, &task, client, &shown).await?;
        // Pages follow the task: status, assignee, the buttons that apply.
        self.refresh_pages(&task, &events).await;
        Ok(())
    }

    pub(super) async fn post(
        &self,
        channel: u64,
        reply: &Reply,
        key: &str,
    ) -> Result<u64, DeliveryError> {
        self.chat
            .post(channel, reply, key)
            .await
            .map_err(failed("posting a message"))
    }

    /// Posts a task's card and opens its thread; returns both ids. `what`
    /// (`card`, `mirror`) keeps the nonces of the two cards of a task apart.
    async fn post_card(
        &self,
        renderer: &Renderer<'_>,
        task: &Task,
        channel: u64,
        what: &str,
    ) -> Result<(u64, u64), DeliveryError> {
        let card = renderer.card_message(task);
        let message = self
            .post(channel, &card, &format!("{what}:{}", task.id))
            .await?;
        // A thread that exists already (a repeated delivery, e.g. after a
        // crash between creating it and recording the delivery) is used; any
        // other failure is retried by the outbox.
        let thread = self
            .chat
            .start_thread(channel, message, &renderer.thread_name(task))
            .await
            .map_err(failed("starting a thread"))?;
        Ok((message, thread))
    }

    async fn link(
        &self,
        task: &mut Task,
        channel: u64,
        message: u64,
        thread: u64,
    ) -> Result<(), DeliveryError> {
        let chat = ChatRef {
            channel: Some(channel),
            thread: Some(thread),
            message: Some(message),
        };
        let request = bookkeeping(
            &task.id,
            Command::LinkChat(chat),
            format!("link:{}:{message}", task.id),
        );
        match self.ledger.submit(request).await {
            Ok(outcome) => {
                *task = outcome.task;
                Ok(())
            }
            Err(PonteError::User(UserError::Unchanged)) => Ok(()),
            Err(e) => Err(DeliveryError::transient(format!("linking the card: {e}"))),
        }
    }
}

// The company's territory: asking the IT manager.
impl<S: Store, C: Chat> ChatSink<S, C> {
    /// Posts the card on which the client's IT manager approves or refuses,
    /// in the internal IT channel (else the requests channel), in the
    /// client's language.
    async fn ask_approval(
        &self,
        effect: &Effect,
        id: &TaskId,
        seq: u32,
    ) -> Result<(), DeliveryError> {
        let Some((task, events, client)) = self.subject(id, "asking approval for").await? else {
            return Ok(());
        };
        let why = events.iter().find_map(|e| match &e.kind {
            crate::domain::EventKind::ApprovalRequested { why } if e.seq == seq => Some(why),
            _ => None,
        });
        let renderer = Renderer {
            messages: &self.messages,
            lang: client.language,
        };
        let card = renderer.approval_card(&task, why, task.chat.thread);
        let channel = client
            .channels
            .internal_it
            .unwrap_or(client.channels.requests)
            .get();
        self.post(channel, &card, &effect.key()).await?;
        Ok(())
    }
}

// The bridge: a mirrored card and thread on the other side's server, and
// what people write relayed between the two threads.
impl<S: Store, C: Chat> ChatSink<S, C> {
    async fn guild_of(&self, channel: u64) -> Result<Option<u64>, DeliveryError> {
        self.chat
            .server_of(channel)
            .await
            .map_err(failed("reading a channel"))
    }

    /// The language of the side a mirror channel belongs to.
    fn mirror_lang(&self, client: &ClientConfig, channel: u64) -> crate::i18n::Lang {
        if self.config.msp_channel(&client.key).map(|c| c.get()) == Some(channel) {
            self.config.msp().language
        } else {
            client.language
        }
    }

    /// Where a task's mirror goes: the other side's channel for the client,
    /// when it is in another Discord server than the task's card.
    async fn mirror_place(
        &self,
        client: &ClientConfig,
        task: &Task,
    ) -> Result<Option<u64>, DeliveryError> {
        let Some(primary) = task.chat.channel else {
            return Ok(None);
        };
        let Some(primary_guild) = self.guild_of(primary).await? else {
            return Ok(None);
        };
        let other = if primary_guild == client.guild_id.get() {
            match self.config.msp_channel(&client.key) {
                Some(c) => c.get(),
                None => return Ok(None),
            }
        } else {
            client
                .channels
                .internal_it
                .unwrap_or(client.channels.requests)
                .get()
        };
        let other_guild = self.guild_of(other).await?;
        Ok((other_guild.is_some() && other_guild != Some(primary_guild)).then_some(other))
    }

    async fn mirror(
        &self,
        key: &str,
        task: &mut Task,
        client: &ClientConfig,
        shown: &[crate::domain::Event],
    ) -> Result<(), DeliveryError> {
        let thread = match (task.mirror.message, task.mirror.channel) {
            (Some(message), Some(channel)) => {
                let renderer = Renderer {
                    messages: &self.messages,
                    lang: self.mirror_lang(client, channel),
                };
                let card = renderer.card_message(task);
                self.chat
                    .edit(channel, message, &Edit::Card(card))
                    .await
                    .map_err(failed("editing the mirrored card"))?;
                task.mirror.thread.unwrap_or(channel)
            }
            _ => {
                let Some(channel) = self.mirror_place(client, task).await? else {
                    return Ok(());
                };
                let renderer = Renderer {
                    messages: &self.messages,
                    lang: self.mirror_lang(client, channel),
                };
                let (message, thread) = self.post_card(&renderer, task, channel, "mirror").await?;
                let chat = ChatRef {
                    channel: Some(channel),
                    thread: Some(thread),
                    message: Some(message),
                };
                let request = bookkeeping(
                    &task.id,
                    Command::LinkMirror(chat),
                    format!("mirror-link:{}:{}", task.id, message),
                );
                match self.ledger.submit(request).await {
                    Ok(outcome) => *task = outcome.task,
                    Err(PonteError::User(UserError::Unchanged)) => {}
                    Err(e) => {
                        return Err(DeliveryError::transient(format!("linking the mirror: {e}")));
                    }
                }
                thread
            }
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.mirror_lang(client, task.mirror.channel.unwrap_or(thread)),
        };
        let lines = renderer.history(shown, Audience::Requesters);
        self.post_lines(
            thread,
            task.mirror.channel,
            lines,
            renderer.lang,
            &format!("{key}#m"),
        )
        .await
    }

    /// Posts history `lines` in `thread`, named for the server of `place`
    /// (the card's channel), packed into messages keyed `{prefix}{i}`.
    async fn post_lines(
        &self,
        thread: u64,
        place: Option<u64>,
        lines: Vec<String>,
        lang: crate::i18n::Lang,
        prefix: &str,
    ) -> Result<(), DeliveryError> {
        let lines = self.for_server_of(place, lines, lang).await?;
        for (i, chunk) in pack(lines, limits::CONTENT).into_iter().enumerate() {
            let line = Reply {
                content: chunk,
                ..Reply::default()
            };
            self.post(thread, &line, &format!("{prefix}{i}")).await?;
        }
        Ok(())
    }

    /// The language of the thread `thread` of `task`.
    fn thread_lang(&self, client: &ClientConfig, task: &Task, thread: u64) -> crate::i18n::Lang {
        match task.mirror.channel {
            Some(channel) if task.mirror.thread == Some(thread) => {
                self.mirror_lang(client, channel)
            }
            _ => client.language,
        }
    }

    async fn relay(&self, effect: &Effect, id: &TaskId, seq: u32) -> Result<(), DeliveryError> {
        let Some((task, events, client)) = self.subject(id, "relaying a message of").await? else {
            return Ok(());
        };
        let Some(said) = events.iter().find(|e| e.seq == seq) else {
            return Ok(());
        };
        let crate::domain::EventKind::Said {
            author,
            side,
            thread,
            message,
            body,
            visibility: Visibility::Shared,
            attachments,
        } = &said.kind
        else {
            // Only shared messages cross the bridge.
            return Ok(());
        };
        let Some(target) = task.other_thread(*thread) else {
            return Ok(());
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.thread_lang(client, &task, target),
        };
        let copy = Reply {
            content: renderer.relayed(author, *side, body, attachments, false),
            ..Reply::default()
        };
        let posted = self.post(target, &copy, &effect.key()).await?;
        let request = bookkeeping(
            &task.id,
            Command::LinkRelay {
                source: *message,
                copy: posted,
            },
            format!("relay-link:{}:{seq}", task.id),
        );
        self.ledger
            .submit(request)
            .await
            .map(drop)
            .map_err(|e| DeliveryError::transient(format!("remembering a relayed message: {e}")))
    }

    async fn relay_edit(&self, id: &TaskId, seq: u32) -> Result<(), DeliveryError> {
        use crate::domain::EventKind;
        let Some((task, events, client)) = self.subject(id, "relaying an edit in").await? else {
            return Ok(());
        };
        let Some(EventKind::SaidEdited {
            message,
            body,
            visibility: Visibility::Shared,
        }) = events.iter().find(|e| e.seq == seq).map(|e| &e.kind)
        else {
            return Ok(());
        };
        // The original, and its copy across the bridge (none for a note).
        let original = events.iter().find_map(|e| match &e.kind {
            EventKind::Said {
                author,
                side,
                thread,
                message: m,
                visibility: Visibility::Shared,
                attachments,
                ..
            } if m == message => Some((author, *side, *thread, attachments)),
            _ => None,
        });
        let copy = events.iter().find_map(|e| match &e.kind {
            EventKind::Relayed { source, copy } if source == message => Some(*copy),
            _ => None,
        });
        let (Some((author, side, thread, attachments)), Some(copy)) = (original, copy) else {
            tracing::warn!(task = %id, message, "an edit of a message that was not relayed");
            return Ok(());
        };
        let Some(target) = task.other_thread(thread) else {
            return Ok(());
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.thread_lang(client, &task, target),
        };
        let text = renderer.relayed(author, side, body, attachments, true);
        self.chat
            .edit(target, copy, &Edit::Text(text))
            .await
            .map_err(failed("editing a relayed message"))?;
        Ok(())
    }
}

impl<S: Store, C: Chat> Sink for ChatSink<S, C> {
    async fn deliver(&self, effect: &Effect) -> Result<(), DeliveryError> {
        match effect {
            Effect::Announce { task, first, last } => {
                self.announce(effect, task, *first, *last).await
            }
            Effect::AskApproval { task, seq } => self.ask_approval(effect, task, *seq).await,
            Effect::Relay { task, seq } => self.relay(effect, task, *seq).await,
            Effect::RelayEdit { task, seq } => self.relay_edit(task, *seq).await,
            Effect::Page { .. } => self.page(effect).await,
            Effect::Handover { .. } => self.handover(effect).await,
            Effect::PagerUpdate {
                task,
                pager,
                action,
                ..
            } => self
                .pagers
                .update(pager, &effect.key(), &task.to_string(), *action)
                .await
                .map_err(|e| DeliveryError::transient(e.to_string())),
            Effect::Digest {
                client,
                side,
                due,
                since,
                late,
                ..
            } => {
                self.deliver_digest(effect, client, *side, *due, *since, *late)
                    .await
            }
            Effect::LeadDigest {
                date,
                due,
                since,
                late,
            } => {
                self.deliver_lead_digest(effect, *date, *due, *since, *late)
                    .await
            }
            Effect::PersonalDigest { .. } => self.deliver_personal_digest(effect).await,
        }
    }

    async fn refused(&self, effect: &Effect, error: &DeliveryError) {
        self.notify_refused(effect, error).await;
    }
}
