//! Delivering a page (issue 5): a DM to the person paged with the task's
//! card and Acknowledge / Resolve / Snooze buttons; a post in the client's
//! MSP channel for a role (which it pings) or in the step's channel.
//! Outside pagers are called through `crate::pager`; a page that fails
//! `max_attempts` times (or whose pager has no secret in the environment)
//! goes to the client's MSP channel with a visible warning. Every message
//! carries a nonce from the page's key, so a repeated delivery shows nothing
//! twice.

use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateMessage, Nonce, RoleId as SerenityRole, UserId,
};

use crate::domain::effect::Effect;
use crate::domain::escalation::Target;
use crate::domain::{PersonId, TaskId};
use crate::outbox::DeliveryError;
use crate::store::Store;

use super::edge::{allowed_mentions, components, embed};
use super::render::{Renderer, Reply};
use super::sink::{ChatSink, nonce};

impl<S: Store> ChatSink<S> {
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
            .map_err(|e| DeliveryError(e.to_string()))?
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
                let dm = UserId::new(*person)
                    .create_dm_channel(&self.http)
                    .await
                    .map_err(|e| DeliveryError(format!("opening a DM: {e}")))?;
                self.send(dm.id, &reply, key, allowed_mentions(&[])).await
            }
            (Target::Role(role), _) => {
                let mut reply = renderer.page_message(&task, *late, None);
                reply.content = format!("<@&{role}> {}", reply.content);
                let mentions = CreateAllowedMentions::new()
                    .empty_users()
                    .everyone(false)
                    .roles([SerenityRole::new(*role)]);
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key, mentions).await
            }
            (Target::Channel(channel), _) => {
                let reply = renderer.page_message(&task, *late, None);
                self.send(ChannelId::new(*channel), &reply, key, allowed_mentions(&[]))
                    .await
            }
            (Target::Pager(name), _) => {
                let page = crate::pager::OutsidePage {
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
                    Ok(crate::pager::Delivered::Sent) => return Ok(()),
                    Ok(crate::pager::Delivered::Fallback(_)) => {}
                    Err(e) => return Err(DeliveryError(e.to_string())),
                }
                let mut reply = renderer.page_message(&task, *late, None);
                let warning = self.messages.text(
                    renderer.lang,
                    "page-pager-unreachable",
                    &[("pager", crate::domain::error::Arg::Text(name.clone()))],
                );
                reply.content = format!("{warning}\n{}", reply.content);
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key, allowed_mentions(&[])).await
            }
            // Nobody on call in the schedule (cannot happen with a valid
            // configuration): the MSP channel hears of it.
            (Target::OnCall(_) | Target::Person(_), None) => {
                let reply = renderer.page_message(&task, *late, None);
                let channel = self.msp_channel(&task.id)?;
                self.send(channel, &reply, key, allowed_mentions(&[])).await
            }
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
            self.send(
                ChannelId::new(channel),
                &reply,
                &format!("{key}#{channel}"),
                allowed_mentions(&reply.ping),
            )
            .await?;
        }
        Ok(())
    }

    fn msp_channel(&self, task: &TaskId) -> Result<ChannelId, DeliveryError> {
        self.config
            .msp_channel(task.client())
            .map(|c| ChannelId::new(c.get()))
            .ok_or_else(|| DeliveryError(format!("no MSP channel for {}", task.client())))
    }

    async fn send(
        &self,
        channel: ChannelId,
        reply: &Reply,
        key: &str,
        mentions: CreateAllowedMentions,
    ) -> Result<(), DeliveryError> {
        let message = CreateMessage::new()
            .content(&reply.content)
            .embeds(reply.embeds.iter().map(embed).collect())
            .components(components(&reply.buttons))
            .allowed_mentions(mentions)
            .nonce(Nonce::String(nonce(key)))
            .enforce_nonce(true);
        channel
            .send_message(&self.http, message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(format!("sending a page: {e}")))
    }
}
