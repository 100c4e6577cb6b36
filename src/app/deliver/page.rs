//! Delivering a page (issue 5): a DM to the person paged with the task's
//! card and Acknowledge / Resolve / Snooze buttons; a post in the client's
//! MSP channel for a role (which it pings) or in the step's channel.
//! Outside pagers are called through `crate::notify::pager`; a page that fails
//! `max_attempts` times (or whose pager has no secret in the environment)
//! goes to the client's MSP channel with a visible warning. Every message
//! carries a nonce from the page's key, so a repeated delivery shows nothing
//! twice.

use crate::app::engine::PonteError;
use crate::app::outbox::{DeliveryError, Refusal};
use crate::app::reply::markup;
use crate::app::reply::render::{Renderer, Reply};
use crate::domain::effect::Effect;
use crate::domain::error::Arg;
use crate::domain::escalation::Target;
use crate::domain::{Command, PersonId, TaskId};
use crate::store::Store;

use super::Chat;
use super::sink::ChatSink;

impl<S: Store, C: Chat> ChatSink<S, C> {
    pub(super) async fn page(&self, effect: &Effect) -> Result<(), DeliveryError> {
        let Effect::Page {
            task,
            key,
            target,
            to,
            late,
        } = effect
        else {
            return Ok(());
        };
        let Some((task, _)) = self
            .ledger
            .history(task.clone())
            .await
            .map_err(|e| DeliveryError::transient(e.to_string()))?
        else {
            tracing::error!(%task, "paging for a task that does not exist");
            return Ok(());
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.config.msp().language,
        };
        match (target, to) {
            (Target::OnCall(_) | Target::Person(_), Some(PersonId(person))) => {
                let reply = renderer.page_message(&task, *late, None);
                let sent = match self.chat.direct(*person).await {
                    Ok(dm) => match self.chat.post(dm, &reply, key).await {
                        Ok(message) => self.link_page(&task.id, key, dm, message).await,
                        Err(e) => Err(e.context("sending a page")),
                    },
                    Err(e) => Err(e.context("opening a DM")),
                };
                match sent {
                    // DMs closed, or no way to reach them: the page must not
                    // wait for a fix nobody knows is needed.
                    Err(e) if e.refusal().is_some() => {
                        self.page_not_delivered(&task, key, *person, *late, &e)
                            .await
                    }
                    other => other,
                }
            }
            (Target::Role(role), _) => {
                let mut reply = renderer.page_message(&task, *late, None);
                reply.content = format!("{} {}", markup::role(*role), reply.content);
                // The one mention a page may ping: the on-call role.
                reply.ping_roles = vec![*role];
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key).await
            }
            (Target::Channel(channel), _) => {
                let reply = renderer.page_message(&task, *late, None);
                self.send(*channel, &reply, key).await
            }
            (Target::Pager(name), _) => {
                let page = crate::notify::pager::OutsidePage {
                    key: key.clone(),
                    task: task.id.to_string(),
                    priority: task.priority.as_str().to_owned(),
                    title: task.title.clone(),
                    late: *late,
                };
                // The request's timestamp is the real time (the receiver
                // compares it with its own clock).
                match self
                    .pagers
                    .deliver(name, &page, jiff::Timestamp::now())
                    .await
                {
                    Ok(crate::notify::pager::Delivered::Sent) => return Ok(()),
                    Ok(crate::notify::pager::Delivered::Fallback(_)) => {}
                    Err(e) => return Err(DeliveryError::transient(e.to_string())),
                }
                let mut reply = renderer.page_message(&task, *late, None);
                let warning = self.messages.text(
                    renderer.lang,
                    "page-pager-unreachable",
                    &[("pager", crate::domain::error::Arg::Text(name.clone()))],
                );
                reply.content = format!("{warning}\n{}", reply.content);
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key).await
            }
            // Nobody on call in the schedule (cannot happen with a valid
            // configuration): the MSP channel hears of it.
            (Target::OnCall(_) | Target::Person(_), None) => {
                let reply = renderer.page_message(&task, *late, None);
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key).await
            }
        }
    }

    /// A page to `person` was refused for good (their DMs are closed): the
    /// MSP channel gets the page, pinging the MSP engineers' role, with a
    /// warning that names the person; the failure is recorded on the task,
    /// which makes the escalation's next step due now.
    async fn page_not_delivered(
        &self,
        task: &crate::domain::Task,
        key: &str,
        person: u64,
        late: bool,
        error: &DeliveryError,
    ) -> Result<(), DeliveryError> {
        tracing::warn!(task = %task.id, page = key, person, error = %error, "page refused; paging the MSP channel and the next step");
        let lang = self.config.msp().language;
        let renderer = Renderer {
            messages: &self.messages,
            lang,
        };
        let mut reply = renderer.page_message(task, late, None);
        let warning = self.messages.text(
            lang,
            "page-dm-refused",
            &[("person", Arg::Text(markup::person(person)))],
        );
        let role = self.msp_engineer_role(&task.id);
        reply.content = match role {
            Some(role) => format!("{} {warning}\n{}", markup::role(role), reply.content),
            None => format!("{warning}\n{}", reply.content),
        };
        reply.ping_roles = role.into_iter().collect();
        let channel = self.msp_channel(&task.id)?;
        self.send(channel, &reply, &format!("{key}#refused"))
            .await?;
        let request = super::sink::bookkeeping(
            &task.id,
            Command::PageFailed {
                key: key.to_owned(),
                reason: error.message.clone(),
            },
            format!("page-failed:{key}"),
        );
        match self.ledger.submit(request).await {
            Ok(_) | Err(PonteError::User(_)) => Ok(()),
            Err(e) => Err(DeliveryError::transient(format!(
                "recording the failed page: {e}"
            ))),
        }
    }

    /// Records where a page DM is, so that it follows the task.
    async fn link_page(
        &self,
        task: &TaskId,
        key: &str,
        channel: u64,
        message: u64,
    ) -> Result<(), DeliveryError> {
        let request = super::sink::bookkeeping(
            task,
            Command::LinkPage {
                key: key.to_owned(),
                channel,
                message,
            },
            format!("page-link:{key}"),
        );
        match self.ledger.submit(request).await {
            Ok(_) | Err(PonteError::User(_)) => Ok(()),
            Err(e) => Err(DeliveryError::transient(format!(
                "recording where the page is: {e}"
            ))),
        }
    }

    /// Brings every page DM of a task up to date with it: its card, and
    /// only the buttons that still apply. A page that cannot be edited (DMs
    /// closed since, the message deleted) is logged and left: the task's
    /// own card and thread are what counts.
    pub(super) async fn refresh_pages(
        &self,
        task: &crate::domain::Task,
        events: &[crate::domain::Event],
    ) {
        use crate::domain::EventKind;
        let pages: Vec<(u64, u64)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::PageDelivered {
                    channel, message, ..
                } => Some((*channel, *message)),
                _ => None,
            })
            .collect();
        if pages.is_empty() {
            return;
        }
        let acknowledged = events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Acknowledged));
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.config.msp().language,
        };
        let now = super::Edit::Card(renderer.page_now(task, acknowledged));
        for (channel, message) in pages {
            if let Err(e) = self.chat.edit(channel, message, &now).await {
                tracing::warn!(task = %task.id, channel, message, error = %e, "cannot update a page");
            }
        }
    }

    /// The role of the MSP's engineers where the MSP channel of a task's
    /// client is: the client's `msp_engineer` role when the MSP works in the
    /// client's server (its channel there, and that role, are configured),
    /// else the engineer role of the MSP's own server.
    fn msp_engineer_role(&self, task: &TaskId) -> Option<u64> {
        let client = self.config.client(task.client())?;
        match (client.channels.msp, client.roles.msp_engineer) {
            (Some(_), Some(role)) => Some(role.get()),
            _ => self.config.msp().server.map(|s| s.engineer_role.get()),
        }
    }

    /// Posts a shift's handover in the MSP's queue channel, or else in each
    /// client's MSP channel.
    pub(super) async fn handover(&self, effect: &Effect) -> Result<(), DeliveryError> {
        let Effect::Handover {
            schedule,
            from,
            to,
            tasks,
            ..
        } = effect
        else {
            return Ok(());
        };
        let renderer = Renderer {
            messages: &self.messages,
            lang: self.config.msp().language,
        };
        let reply = renderer.handover(schedule, *from, *to, tasks);
        let key = effect.key();
        let channels: Vec<u64> = match self.config.msp().server {
            Some(server) => vec![server.queue_channel.get()],
            None => {
                let mut c: Vec<u64> = self
                    .config
                    .clients()
                    .iter()
                    .filter_map(|c| self.config.msp_channel(&c.key))
                    .map(|c| c.get())
                    .collect();
                c.dedup();
                c
            }
        };
        for channel in channels {
            self.post(channel, &reply, &format!("{key}#{channel}"))
                .await?;
        }
        Ok(())
    }

    fn msp_channel(&self, task: &TaskId) -> Result<u64, DeliveryError> {
        self.config
            .msp_channel(task.client())
            .map(|c| c.get())
            .ok_or_else(|| {
                DeliveryError::refused(
                    Refusal::Other,
                    format!("no MSP channel for {}", task.client()),
                )
            })
    }

    async fn send(&self, channel: u64, reply: &Reply, key: &str) -> Result<(), DeliveryError> {
        self.chat
            .post(channel, reply, key)
            .await
            .map(drop)
            .map_err(|e| e.context("sending a page"))
    }
}
