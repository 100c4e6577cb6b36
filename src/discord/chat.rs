//! Discord behind the app's [`Chat`] port: deliveries become REST calls
//! through serenity's HTTP client. Every post carries a nonce Discord
//! de-duplicates on (`enforce_nonce`), so a repeated delivery shows nothing
//! twice; every message sets `allowed_mentions` explicitly (only the users
//! and roles the reply names may be pinged, never @everyone or @here).

use std::sync::Arc;

use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateAttachment, CreateMessage, CreateThread, EditMessage,
    Http, MessageId, Nonce, RoleId, UserId,
};

use crate::app::deliver::{Chat, Edit, nonce};
use crate::app::outbox::DeliveryError;
use crate::app::reply::Reply;

use super::edge::{allowed_mentions, components, embed};

/// Discord, as the outbox sees it.
pub struct DiscordChat {
    pub http: Arc<Http>,
}

fn failed(e: serenity::Error) -> DeliveryError {
    DeliveryError(e.to_string())
}

/// The mentions a posted reply may ping: its users and its roles.
fn mentions(reply: &Reply) -> CreateAllowedMentions {
    allowed_mentions(&reply.ping).roles(reply.ping_roles.iter().map(|&r| RoleId::new(r)))
}

/// Discord's answer when a message already has a thread (code 160004).
fn thread_exists(error: &serenity::Error) -> bool {
    matches!(
        error,
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(response))
            if response.error.code == 160004
    )
}

impl Chat for DiscordChat {
    async fn post(&self, channel: u64, reply: &Reply, key: &str) -> Result<u64, DeliveryError> {
        let mut message = CreateMessage::new()
            .embeds(reply.cards.iter().map(embed).collect())
            .components(components(&reply.buttons))
            .allowed_mentions(mentions(reply))
            .nonce(Nonce::String(nonce(key)))
            .enforce_nonce(true);
        if !reply.content.is_empty() {
            message = message.content(&reply.content);
        }
        if let Some(file) = &reply.file {
            message = message.add_file(CreateAttachment::bytes(file.bytes.clone(), &file.name));
        }
        ChannelId::new(channel)
            .send_message(&self.http, message)
            .await
            .map(|m| m.id.get())
            .map_err(failed)
    }

    async fn edit(&self, channel: u64, message: u64, edit: &Edit) -> Result<(), DeliveryError> {
        let change = match edit {
            Edit::Card(card) => EditMessage::new()
                .embeds(card.cards.iter().map(embed).collect())
                .components(components(&card.buttons)),
            Edit::Text(text) => EditMessage::new().content(text),
        };
        ChannelId::new(channel)
            .edit_message(
                &self.http,
                MessageId::new(message),
                change.allowed_mentions(allowed_mentions(&[])),
            )
            .await
            .map(drop)
            .map_err(failed)
    }

    async fn start_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
    ) -> Result<u64, DeliveryError> {
        match ChannelId::new(channel)
            .create_thread_from_message(
                &self.http,
                MessageId::new(message),
                CreateThread::new(name),
            )
            .await
        {
            Ok(thread) => Ok(thread.id.get()),
            // A thread started from a message has that message's id; if it
            // exists already (a repeated delivery), use it.
            Err(e) if thread_exists(&e) => {
                tracing::info!(
                    channel,
                    message,
                    "thread exists already (repeated delivery)"
                );
                Ok(message)
            }
            Err(e) => Err(failed(e)),
        }
    }

    async fn server_of(&self, channel: u64) -> Result<Option<u64>, DeliveryError> {
        let channel = ChannelId::new(channel)
            .to_channel(&self.http)
            .await
            .map_err(failed)?;
        Ok(channel.guild().map(|g| g.guild_id.get()))
    }

    async fn direct(&self, person: u64) -> Result<u64, DeliveryError> {
        UserId::new(person)
            .create_dm_channel(&self.http)
            .await
            .map(|dm| dm.id.get())
            .map_err(failed)
    }
}
