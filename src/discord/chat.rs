//! Discord behind the app's [`Chat`] port: deliveries become REST calls
//! through serenity's HTTP client. Every post carries a nonce Discord
//! de-duplicates on (`enforce_nonce`), so a repeated delivery shows nothing
//! twice; every message sets `allowed_mentions` explicitly (only the users
//! and roles the reply names may be pinged, never @everyone or @here).
//!
//! Every call has a deadline ([`DiscordChat::deadline`]): a REST call that
//! hangs is a transient failure, tried again by the outbox. Discord's
//! answers are sorted by [`classify`] into transient ones (429, 5xx, a
//! timeout, a connection error) and refusals that no retry can fix (missing
//! permission, DMs closed, archived thread, wrong channel type, unknown
//! channel or message, invalid body), using the JSON error codes of
//! <https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateAttachment, CreateMessage, CreateThread, EditMessage,
    Http, MessageId, Nonce, RoleId, UserId,
};

use crate::app::deliver::{Chat, Edit, nonce};
use crate::app::outbox::{DeliveryError, Refusal};
use crate::app::reply::Reply;

use super::edge::{allowed_mentions, components, embed};

/// Discord, as the outbox sees it.
pub struct DiscordChat {
    pub http: Arc<Http>,
    /// The most one REST call may take, rate-limit waits included.
    pub deadline: Duration,
    /// The server of each channel asked about: a channel never moves, so
    /// it is read once.
    pub servers: std::sync::Mutex<std::collections::HashMap<u64, Option<u64>>>,
    /// Spaces deliveries' calls below Discord's global limit.
    pub pace: Pacer,
}

/// How many REST calls a second deliveries make at most: Discord allows a
/// bot 50 a second in all
/// (<https://discord.com/developers/docs/topics/rate-limits#global-rate-limit>);
/// the rest is left to answers (mention replies, member reads), so that a
/// burst of cards never makes a person's answer wait, and deliveries never
/// draw 429s, which count toward Discord's invalid-request ban
/// (<https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans>).
pub const DELIVERIES_PER_SECOND: u32 = 40;

/// Spaces calls evenly, `per_second` at most.
#[derive(Debug)]
pub struct Pacer {
    gap: Duration,
    next: std::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub fn new(per_second: u32) -> Self {
        Self {
            gap: Duration::from_secs(1) / per_second.max(1),
            next: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Waits for this call's turn.
    async fn turn(&self) {
        let at = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Whether Discord's answer `e` to a call about `channel` can change by
/// trying again. Codes from Discord's JSON error codes
/// (<https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>).
pub fn classify(e: &serenity::Error, channel: u64) -> DeliveryError {
    use serenity::http::HttpError;
    let message = e.to_string();
    let serenity::Error::Http(http) = e else {
        // serenity refused the request before sending it (a model limit):
        // the same request is refused again.
        return match e {
            serenity::Error::Model(_) => DeliveryError::refused(Refusal::Other, message),
            _ => DeliveryError::transient(message),
        };
    };
    let HttpError::UnsuccessfulRequest(response) = http else {
        // Not sent or no answer: a connection error, a timeout.
        return DeliveryError::transient(message);
    };
    let status = response.status_code.as_u16();
    let code = response.error.code;
    let message = format!(
        "Discord answered {status} (code {code}): {}",
        response.error.message
    );
    // 429 (serenity already waited `retry_after` and tried again), 5xx, and a
    // 401: a token that does not work stops everything, and the gateway says
    // so loudly; nothing is set aside for it.
    if status == 429 || status >= 500 || status == 401 {
        return DeliveryError::transient(message);
    }
    let refusal = match code {
        50001 | 50013 => Refusal::Permission { channel },
        50007 => Refusal::DirectMessages,
        50083 | 160005 => Refusal::ThreadClosed { channel },
        50024 => Refusal::ChannelType { channel },
        10003 | 10008 | 10013 => Refusal::Unknown { channel },
        _ if (400..500).contains(&status) => Refusal::Other,
        _ => return DeliveryError::transient(message),
    };
    DeliveryError::refused(refusal, message)
}

impl DiscordChat {
    /// Runs one REST call about `channel` within the deadline.
    async fn call<T>(
        &self,
        channel: u64,
        call: impl Future<Output = Result<T, serenity::Error>>,
    ) -> Result<T, DeliveryError> {
        self.pace.turn().await;
        match tokio::time::timeout(self.deadline, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(&e, channel)),
            Err(_) => Err(DeliveryError::transient(format!(
                "Discord did not answer within {}s",
                self.deadline.as_secs_f32()
            ))),
        }
    }
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
        self.call(
            channel,
            ChannelId::new(channel).send_message(&self.http, message),
        )
        .await
        .map(|m| m.id.get())
    }

    async fn edit(&self, channel: u64, message: u64, edit: &Edit) -> Result<(), DeliveryError> {
        let change = match edit {
            Edit::Card(card) => EditMessage::new()
                .embeds(card.cards.iter().map(embed).collect())
                .components(components(&card.buttons)),
            Edit::Text(text) => EditMessage::new().content(text),
        };
        self.call(
            channel,
            ChannelId::new(channel).edit_message(
                &self.http,
                MessageId::new(message),
                change.allowed_mentions(allowed_mentions(&[])),
            ),
        )
        .await
        .map(drop)
    }

    async fn start_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
    ) -> Result<u64, DeliveryError> {
        let call = ChannelId::new(channel).create_thread_from_message(
            &self.http,
            MessageId::new(message),
            CreateThread::new(name),
        );
        self.pace.turn().await;
        let answer = tokio::time::timeout(self.deadline, call)
            .await
            .map_err(|_| {
                DeliveryError::transient(format!(
                    "Discord did not answer within {}s",
                    self.deadline.as_secs_f32()
                ))
            })?;
        match answer {
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
            Err(e) => Err(classify(&e, channel)),
        }
    }

    async fn server_of(&self, channel: u64) -> Result<Option<u64>, DeliveryError> {
        let known =
            |servers: &std::collections::HashMap<u64, Option<u64>>| servers.get(&channel).copied();
        let lock = || {
            self.servers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(server) = known(&lock()) {
            return Ok(server);
        }
        let found = self
            .call(channel, ChannelId::new(channel).to_channel(&self.http))
            .await?;
        let server = found.guild().map(|g| g.guild_id.get());
        lock().insert(channel, server);
        Ok(server)
    }

    async fn direct(&self, person: u64) -> Result<u64, DeliveryError> {
        self.call(0, UserId::new(person).create_dm_channel(&self.http))
            .await
            .map(|dm| dm.id.get())
    }
}
