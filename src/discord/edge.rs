//! The serenity edge: converts Discord interactions into the app's own
//! [`Interaction`]s, and the app's answers into Discord builders. It talks
//! to the app through the [`Desk`] trait only. Every message sets
//! `allowed_mentions` explicitly: user text never pings @everyone, @here or
//! roles.
//!
//! Discord wants an answer within 3 seconds: an interaction whose answer is not ready
//! after [`DEFER_AFTER`] (1.5 s) is deferred, and its answer is edited in when ready.
//! serenity types go no further than this module and `chat`: the app sees only its own
//! requests and replies.

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ActionRowComponent, ButtonStyle as DiscordButtonStyle, ChannelId, CommandInteraction,
    CommandType, ComponentInteraction, Context, CreateActionRow, CreateAllowedMentions,
    CreateButton, CreateEmbed, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, CreateModal, EditInteractionResponse,
    EventHandler, GuildId, InputTextStyle, Interaction as DiscordInteraction, InteractionId,
    Member, Message as DiscordMessage, MessageId, ModalInteraction, Ready, ResolvedTarget,
    ResolvedValue, User, UserId,
};
use serenity::all::{ConnectionStage, ResumedEvent, ShardStageUpdateEvent};
use serenity::async_trait;
use std::sync::atomic::Ordering;

use crate::app::desk::Desk;
use crate::app::desk::parse::DraftRef;
use crate::app::desk::request::{Interaction, OptionValue, Origin, TargetMessage};
use crate::app::reply::{Answer, Button, ButtonStyle, Card, Form, Reply};
use crate::ops::metrics::{self, InteractionKind, InteractionOutcome};

/// How long Ponte works on an answer before it tells Discord it needs more
/// time (Discord allows 3 seconds for the first answer).
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// Mentions that may ping: only the users named, never roles or everyone.
pub fn allowed_mentions(ping: &[u64]) -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .empty_roles()
        .empty_users()
        .everyone(false)
        .users(ping.iter().map(|&u| UserId::new(u)))
}

/// A card, as Discord shows it: an embed.
pub fn embed(e: &Card) -> CreateEmbed {
    let mut out = CreateEmbed::new().title(&e.title).color(e.color);
    if !e.description.is_empty() {
        out = out.description(&e.description);
    }
    for field in &e.fields {
        out = out.field(&field.name, &field.value, field.inline);
    }
    out
}

pub fn components(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(5)
        .take(5)
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|b| {
                        CreateButton::new(&b.custom_id)
                            .label(&b.label)
                            .style(match b.style {
                                ButtonStyle::Primary => DiscordButtonStyle::Primary,
                                ButtonStyle::Secondary => DiscordButtonStyle::Secondary,
                                ButtonStyle::Success => DiscordButtonStyle::Success,
                            })
                    })
                    .collect(),
            )
        })
        .collect()
}

fn message(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut m = CreateInteractionResponseMessage::new()
        .embeds(reply.cards.iter().map(embed).collect())
        .components(components(&reply.buttons))
        .ephemeral(reply.ephemeral)
        .allowed_mentions(allowed_mentions(&reply.ping));
    if !reply.content.is_empty() {
        m = m.content(&reply.content);
    }
    m
}

fn edit(reply: &Reply) -> EditInteractionResponse {
    EditInteractionResponse::new()
        .content(&reply.content)
        .embeds(reply.cards.iter().map(embed).collect())
        .components(components(&reply.buttons))
        .allowed_mentions(allowed_mentions(&reply.ping))
}

fn modal(form: &Form) -> CreateModal {
    CreateModal::new(&form.custom_id, &form.title).components(
        form.inputs
            .iter()
            .map(|i| {
                let style = if i.long {
                    InputTextStyle::Paragraph
                } else {
                    InputTextStyle::Short
                };
                CreateActionRow::InputText(
                    CreateInputText::new(
                        style,
                        crate::app::reply::fit(&i.label, 45, "…"),
                        &i.custom_id,
                    )
                    .required(i.required)
                    .max_length(i.max_length),
                )
            })
            .collect(),
    )
}

/// Who acted where, from the fields every kind of interaction has.
struct Where<'a> {
    id: InteractionId,
    user: &'a User,
    member: Option<&'a Member>,
    guild: Option<GuildId>,
    channel: ChannelId,
    locale: &'a str,
}

impl Where<'_> {
    fn origin(&self) -> Origin {
        Origin {
            interaction_id: self.id.get(),
            user: self.user.id.get(),
            guild: self.guild.map(GuildId::get),
            channel: self.channel.get(),
            roles: self
                .member
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
            locale: self.locale.to_owned(),
            resolved: Vec::new(),
            memberships: Vec::new(),
        }
    }
}

/// A slash or context-menu command in Ponte's terms.
pub fn from_command(c: &CommandInteraction) -> (Origin, Interaction) {
    let mut origin = Where {
        id: c.id,
        user: &c.user,
        member: c.member.as_deref(),
        guild: c.guild_id,
        channel: c.channel_id,
        locale: &c.locale,
    }
    .origin();
    origin.resolved = c
        .data
        .resolved
        .members
        .iter()
        .map(|(user, m)| (user.get(), m.roles.iter().map(|r| r.get()).collect()))
        .collect();
    let interaction = if c.data.kind == CommandType::Message {
        match c.data.target() {
            Some(ResolvedTarget::Message(m)) => Interaction::MessageMenu {
                name: c.data.name.clone(),
                target: TargetMessage {
                    id: m.id.get(),
                    channel: m.channel_id.get(),
                    author: m.author.id.get(),
                    content: m.content.clone(),
                    sent_at: m.timestamp.unix_timestamp(),
                },
            },
            _ => Interaction::MessageMenu {
                name: c.data.name.clone(),
                target: TargetMessage {
                    id: 0,
                    channel: c.channel_id.get(),
                    author: c.user.id.get(),
                    content: String::new(),
                    sent_at: 0,
                },
            },
        }
    } else {
        let mut subcommand = None;
        let mut options = Vec::new();
        for option in c.data.options() {
            match option.value {
                ResolvedValue::SubCommand(inner) => {
                    subcommand = Some(option.name.to_owned());
                    options.extend(inner.iter().filter_map(|o| value(o.name, &o.value)));
                }
                other => options.extend(value(option.name, &other)),
            }
        }
        Interaction::Slash {
            name: c.data.name.clone(),
            subcommand,
            options,
        }
    };
    (origin, interaction)
}

fn value(name: &str, v: &ResolvedValue<'_>) -> Option<(String, OptionValue)> {
    let value = match v {
        ResolvedValue::String(s) => OptionValue::Text((*s).to_owned()),
        ResolvedValue::Integer(i) => OptionValue::Integer(*i),
        ResolvedValue::Boolean(b) => OptionValue::Bool(*b),
        ResolvedValue::User(u, _) => OptionValue::User(u.id.get()),
        _ => return None,
    };
    Some((name.to_owned(), value))
}

/// A message in Ponte's terms.
pub fn target(m: &DiscordMessage) -> TargetMessage {
    TargetMessage {
        id: m.id.get(),
        channel: m.channel_id.get(),
        author: m.author.id.get(),
        content: m.content.clone(),
        sent_at: m.timestamp.unix_timestamp(),
    }
}

/// A button press; `source` is the message a draft button refers to.
pub fn from_component(
    c: &ComponentInteraction,
    source: Option<TargetMessage>,
) -> (Origin, Interaction) {
    let origin = Where {
        id: c.id,
        user: &c.user,
        member: c.member.as_ref(),
        guild: c.guild_id,
        channel: c.channel_id,
        locale: &c.locale,
    }
    .origin();
    (
        origin,
        Interaction::Button {
            custom_id: c.data.custom_id.clone(),
            source,
        },
    )
}

pub fn from_modal(m: &ModalInteraction) -> (Origin, Interaction) {
    let origin = Where {
        id: m.id,
        user: &m.user,
        member: m.member.as_ref(),
        guild: m.guild_id,
        channel: m.channel_id,
        locale: &m.locale,
    }
    .origin();
    let fields = m
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(t) => {
                Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    (
        origin,
        Interaction::Modal {
            custom_id: m.data.custom_id.clone(),
            fields,
        },
    )
}

/// The serenity event handler.
pub struct Handler<D: Desk> {
    /// The app's desk, which answers.
    pub bot: D,
    /// The slash-command manifest, registered in every configured server.
    pub manifest: Arc<serde_json::Value>,
    /// Whether the gateway is connected now (for `/healthz`).
    pub connected: Arc<std::sync::atomic::AtomicBool>,
    /// What the gateway told of channels: a thread's name, or `None` for a
    /// channel that is not a thread. A message is matched to a task's
    /// thread from this, with no REST read per message.
    pub channels: Arc<std::sync::Mutex<std::collections::HashMap<u64, Option<String>>>>,
}

impl<D: Desk> Handler<D> {
    fn known(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Option<String>>> {
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The name of thread `channel`, `None` when it is not a thread: from
    /// what the gateway told, else read once and remembered.
    async fn thread_name(&self, ctx: &Context, channel: ChannelId) -> Option<String> {
        let seen = self.known().get(&channel.get()).cloned();
        if let Some(seen) = seen {
            return seen;
        }
        let read = within(channel.to_channel(&ctx.http)).await.ok()?;
        let name = read
            .guild()
            .filter(|c| c.thread_metadata.is_some())
            .map(|c| c.name);
        self.known().insert(channel.get(), name.clone());
        name
    }

    async fn register(&self, ctx: &Context) {
        let mut guilds: Vec<u64> = self
            .bot
            .config()
            .clients()
            .iter()
            .map(|c| c.guild_id.get())
            .collect();
        if let Some(server) = self.bot.config().msp().server {
            guilds.push(server.guild_id.get());
        }
        for guild in guilds {
            match ctx
                .http
                .create_guild_commands(GuildId::new(guild), self.manifest.as_ref())
                .await
            {
                Ok(commands) => {
                    tracing::info!(guild, commands = commands.len(), "commands registered")
                }
                Err(e) => tracing::error!(guild, error = %e, "cannot register commands"),
            }
        }
    }

    /// Answers an interaction received at `received`. `prepare` reads what
    /// the answer needs (a draft's message, a DM author's servers) and is
    /// part of the work timed against Discord's 3 s: if the answer is not
    /// ready [`DEFER_AFTER`] after receipt, the interaction is deferred and
    /// the answer comes after, in the right place:
    /// - a button (or a form opened from one) is deferred as an update of
    ///   its message (type 6): an update edits that message, a reply (a
    ///   refusal, a confirmation) is a follow-up, so it never replaces the
    ///   public card;
    /// - a command or a form is deferred as an ephemeral message (type 5),
    ///   edited with the answer.
    ///
    /// A form cannot be opened after deferring: the person is told to try
    /// again. Every REST call has [`REST_DEADLINE`].
    async fn answer(
        &self,
        ctx: &Context,
        kind: Kind<'_>,
        received: std::time::Instant,
        prepare: impl std::future::Future<Output = (Origin, Interaction)>,
    ) {
        let metric_kind = match kind {
            Kind::Command(_) => InteractionKind::Command,
            Kind::Component(_) => InteractionKind::Button,
            Kind::Modal(_) => InteractionKind::Modal,
        };
        let work = async {
            let (origin, interaction) = prepare.await;
            let answer = self.bot.handle(&origin, &interaction).await;
            (origin, answer)
        };
        tokio::pin!(work);
        let defer_at = tokio::time::Instant::from_std(received) + DEFER_AFTER;
        let ready = tokio::select! {
            done = &mut work => Some(done),
            () = tokio::time::sleep_until(defer_at) => None,
        };
        let mut outcome = match &ready {
            Some((_, Answer::Ignore)) => InteractionOutcome::Ignored,
            Some(_) => InteractionOutcome::Answered,
            None => InteractionOutcome::Deferred,
        };
        let id = kind.id();
        let result = match ready {
            Some((_, answer)) => within(kind.respond(ctx, answer)).await,
            None => {
                tracing::warn!(interaction = id, "answer is slow, deferring");
                let update = kind.updates_a_message();
                let public = kind.answers_publicly();
                let defer = if update {
                    CreateInteractionResponse::Acknowledge
                } else {
                    CreateInteractionResponse::Defer(
                        CreateInteractionResponseMessage::new().ephemeral(!public),
                    )
                };
                match within(kind.create(ctx, defer)).await {
                    Ok(()) => {
                        let (origin, answer) = work.await;
                        match answer {
                            Answer::Update(r) if update => kind.edit(ctx, edit(&r)).await,
                            Answer::Reply(r) | Answer::Update(r) if update => {
                                kind.followup(ctx, &r).await
                            }
                            // Deferred privately, answered publicly (a
                            // maintenance announcement): the person sees it,
                            // then the channel does.
                            Answer::Reply(r) | Answer::Update(r) if !public && !r.ephemeral => {
                                match kind.edit(ctx, edit(&r)).await {
                                    Ok(()) => kind.followup(ctx, &r).await,
                                    Err(e) => Err(e),
                                }
                            }
                            Answer::Reply(r) | Answer::Update(r) => kind.edit(ctx, edit(&r)).await,
                            Answer::Form(_) => {
                                let r = self.bot.late_form(&origin);
                                if update {
                                    kind.followup(ctx, &r).await
                                } else {
                                    kind.edit(ctx, edit(&r)).await
                                }
                            }
                            Answer::Ignore => Ok(()),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = result {
            outcome = InteractionOutcome::Failed;
            tracing::error!(interaction = id, error = %e, "cannot answer an interaction");
        }
        metrics::global().interaction(metric_kind, outcome, received.elapsed());
    }
}

/// The most one REST call answering an interaction may take.
pub const REST_DEADLINE: Duration = Duration::from_secs(10);

/// `call` within [`REST_DEADLINE`]; past it, an error.
async fn within<T>(
    call: impl std::future::Future<Output = serenity::Result<T>>,
) -> serenity::Result<T> {
    match tokio::time::timeout(REST_DEADLINE, call).await {
        Ok(result) => result,
        Err(_) => Err(serenity::Error::Other("Discord did not answer in time")),
    }
}

// Requests by DM: who the person is, from the servers they are in.
impl<D: Desk> Handler<D> {
    /// The configured servers `user` is a member of, with their roles.
    async fn memberships(&self, ctx: &Context, user: u64) -> Vec<(u64, Vec<u64>)> {
        let config = self.bot.config();
        let guilds = config
            .clients()
            .iter()
            .map(|c| c.guild_id.get())
            .chain(config.msp().server.map(|s| s.guild_id.get()));
        let mut found = Vec::new();
        for guild in guilds {
            if let Ok(member) = GuildId::new(guild)
                .member(&ctx.http, serenity::all::UserId::new(user))
                .await
            {
                found.push((guild, member.roles.iter().map(|r| r.get()).collect()));
            }
        }
        found
    }
}

// The bridge: messages people write in a task's thread.
impl<D: Desk> Handler<D> {
    /// Records a message (or its edit) written in a task's thread; the
    /// thread's name starts with the task's id, and the bot checks the
    /// thread really is that task's.
    async fn thread_said(&self, ctx: &Context, msg: &DiscordMessage, roles: Vec<u64>, edit: bool) {
        let Some(name) = self.thread_name(ctx, msg.channel_id).await else {
            return;
        };
        let Some(task) = name
            .split_whitespace()
            .next()
            .and_then(|id| id.parse::<crate::domain::TaskId>().ok())
        else {
            return;
        };
        let origin = Origin {
            interaction_id: msg.id.get(),
            user: msg.author.id.get(),
            guild: msg.guild_id.map(GuildId::get),
            channel: msg.channel_id.get(),
            roles,
            locale: String::new(),
            resolved: Vec::new(),
            memberships: Vec::new(),
        };
        let said = crate::app::desk::ThreadMessage {
            thread: msg.channel_id.get(),
            message: msg.id.get(),
            author: msg
                .author
                .global_name
                .clone()
                .unwrap_or_else(|| msg.author.name.clone()),
            content: msg.content.clone(),
            attachments: msg
                .attachments
                .iter()
                .map(|a| crate::domain::Attachment {
                    name: a.filename.clone(),
                    size: u64::from(a.size),
                    url: a.url.clone(),
                })
                .collect(),
            edit,
        };
        self.bot.thread_message(&origin, task, said).await;
    }
}

/// The interaction being answered.
enum Kind<'a> {
    Command(&'a CommandInteraction),
    Component(&'a ComponentInteraction),
    Modal(&'a ModalInteraction),
}

impl Kind<'_> {
    fn id(&self) -> u64 {
        match self {
            Kind::Command(c) => c.id.get(),
            Kind::Component(c) => c.id.get(),
            Kind::Modal(m) => m.id.get(),
        }
    }

    /// Whether its answer normally updates a message (a button, or a form
    /// opened from a button's message): deferred as type 6.
    fn updates_a_message(&self) -> bool {
        match self {
            Kind::Command(_) => false,
            Kind::Component(_) => true,
            Kind::Modal(m) => m.message.is_some(),
        }
    }

    /// Whether its answer is normally for everyone in the channel: "Track
    /// as task" shows its draft to all (the author sees what was tracked);
    /// commands and forms answer privately.
    fn answers_publicly(&self) -> bool {
        matches!(self, Kind::Command(c) if c.data.kind == serenity::all::CommandType::Message)
    }

    /// A follow-up message (after a type 6 deferral), ephemeral when the
    /// reply is.
    async fn followup(&self, ctx: &Context, reply: &Reply) -> serenity::Result<()> {
        let mut message = serenity::all::CreateInteractionResponseFollowup::new()
            .embeds(reply.cards.iter().map(embed).collect())
            .components(components(&reply.buttons))
            .allowed_mentions(allowed_mentions(&reply.ping))
            .ephemeral(reply.ephemeral);
        if !reply.content.is_empty() {
            message = message.content(&reply.content);
        }
        let call = async {
            match self {
                Kind::Command(c) => c.create_followup(&ctx.http, message).await,
                Kind::Component(c) => c.create_followup(&ctx.http, message).await,
                Kind::Modal(m) => m.create_followup(&ctx.http, message).await,
            }
        };
        within(call).await.map(drop)
    }

    async fn create(&self, ctx: &Context, r: CreateInteractionResponse) -> serenity::Result<()> {
        match self {
            Kind::Command(c) => c.create_response(&ctx.http, r).await,
            Kind::Component(c) => c.create_response(&ctx.http, r).await,
            Kind::Modal(m) => m.create_response(&ctx.http, r).await,
        }
    }

    async fn edit(&self, ctx: &Context, e: EditInteractionResponse) -> serenity::Result<()> {
        let call = async {
            match self {
                Kind::Command(c) => c.edit_response(&ctx.http, e).await.map(drop),
                Kind::Component(c) => c.edit_response(&ctx.http, e).await.map(drop),
                Kind::Modal(m) => m.edit_response(&ctx.http, e).await.map(drop),
            }
        };
        within(call).await
    }

    async fn respond(&self, ctx: &Context, answer: Answer) -> serenity::Result<()> {
        let response = match answer {
            Answer::Ignore => return Ok(()),
            Answer::Reply(r) => CreateInteractionResponse::Message(message(&r)),
            Answer::Update(r) if matches!(self, Kind::Component(_)) => {
                CreateInteractionResponse::UpdateMessage(message(&r))
            }
            // A form opened from a button may update that button's message.
            Answer::Update(r) if matches!(self, Kind::Modal(m) if m.message.is_some()) => {
                CreateInteractionResponse::UpdateMessage(message(&r))
            }
            Answer::Update(r) => CreateInteractionResponse::Message(message(&r)),
            Answer::Form(f) => CreateInteractionResponse::Modal(modal(&f)),
        };
        self.create(ctx, response).await
    }
}

#[async_trait]
impl<D: Desk> EventHandler for Handler<D> {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.connected.store(true, Ordering::SeqCst);
        let _ = self.bot.me().set(ready.user.id.get());
        self.register(&ctx).await;
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        let connected = matches!(event.new, ConnectionStage::Connected);
        self.connected.store(connected, Ordering::SeqCst);
    }

    async fn guild_create(&self, _ctx: Context, guild: serenity::all::Guild, _new: Option<bool>) {
        let mut known = self.known();
        for id in guild.channels.keys() {
            known.insert(id.get(), None);
        }
        for t in &guild.threads {
            known.insert(t.id.get(), Some(t.name.clone()));
        }
    }

    async fn channel_create(&self, _ctx: Context, channel: serenity::all::GuildChannel) {
        self.known().insert(channel.id.get(), None);
    }

    async fn thread_create(&self, _ctx: Context, thread: serenity::all::GuildChannel) {
        self.known().insert(thread.id.get(), Some(thread.name));
    }

    async fn thread_update(
        &self,
        _ctx: Context,
        _old: Option<serenity::all::GuildChannel>,
        new: serenity::all::GuildChannel,
    ) {
        self.known().insert(new.id.get(), Some(new.name));
    }

    async fn thread_delete(
        &self,
        _ctx: Context,
        thread: serenity::all::PartialGuildChannel,
        _full: Option<serenity::all::GuildChannel>,
    ) {
        self.known().remove(&thread.id.get());
    }

    async fn thread_list_sync(&self, _ctx: Context, sync: serenity::all::ThreadListSyncEvent) {
        let mut known = self.known();
        for t in sync.threads {
            known.insert(t.id.get(), Some(t.name));
        }
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.connected.store(true, Ordering::SeqCst);
    }

    async fn message(&self, ctx: Context, msg: DiscordMessage) {
        let Some(&bot_id) = self.bot.me().get() else {
            return;
        };
        if msg.author.bot || msg.author.id.get() == bot_id {
            return;
        }
        let started = std::time::Instant::now();
        let mentioned = msg.mentions.iter().any(|u| u.id.get() == bot_id);
        if !mentioned && msg.guild_id.is_some() {
            // The bridge: a message in a task's thread.
            let roles = msg
                .member
                .as_ref()
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default();
            self.thread_said(&ctx, &msg, roles, false).await;
            return;
        }
        let origin = Origin {
            interaction_id: msg.id.get(),
            user: msg.author.id.get(),
            guild: msg.guild_id.map(GuildId::get),
            channel: msg.channel_id.get(),
            roles: msg
                .member
                .as_ref()
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
            // Messages carry no locale: the place's language is used.
            locale: String::new(),
            resolved: Vec::new(),
            memberships: Vec::new(),
        };
        let mut origin = origin;
        if msg.guild_id.is_none() {
            origin.memberships = self.memberships(&ctx, msg.author.id.get()).await;
        }
        let reply = self.bot.mention(&origin, &target(&msg)).await;
        let mut message = CreateMessage::new()
            .embeds(reply.cards.iter().map(embed).collect())
            .components(components(&reply.buttons))
            .allowed_mentions(allowed_mentions(&reply.ping))
            .reference_message(&msg);
        if !reply.content.is_empty() {
            message = message.content(&reply.content);
        }
        let outcome = match msg.channel_id.send_message(&ctx.http, message).await {
            Ok(_) => InteractionOutcome::Answered,
            Err(e) => {
                tracing::error!(message = msg.id.get(), error = %e, "cannot answer a mention");
                InteractionOutcome::Failed
            }
        };
        metrics::global().interaction(InteractionKind::Mention, outcome, started.elapsed());
    }

    async fn message_update(
        &self,
        ctx: Context,
        _old: Option<DiscordMessage>,
        _new: Option<DiscordMessage>,
        event: serenity::all::MessageUpdateEvent,
    ) {
        // Only edits of what people wrote (not embeds Discord unfurls), in a
        // task's thread: Ponte's own edits (cards, relayed copies) and edits
        // elsewhere cost no REST read.
        if event.content.is_none() || event.guild_id.is_none() {
            return;
        }
        if event.author.as_ref().is_some_and(|a| a.bot) {
            return;
        }
        if self.thread_name(&ctx, event.channel_id).await.is_none() {
            return;
        }
        let Ok(msg) = within(event.channel_id.message(&ctx.http, event.id)).await else {
            return;
        };
        if msg.author.bot || Some(msg.author.id.get()) == self.bot.me().get().copied() {
            return;
        }
        let roles = match event.guild_id {
            Some(g) => g
                .member(&ctx.http, msg.author.id)
                .await
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut msg = msg;
        msg.guild_id = event.guild_id;
        self.thread_said(&ctx, &msg, roles, true).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: DiscordInteraction) {
        let received = std::time::Instant::now();
        match &interaction {
            DiscordInteraction::Command(c) => {
                let prepare = async { from_command(c) };
                self.answer(&ctx, Kind::Command(c), received, prepare).await;
            }
            DiscordInteraction::Component(c) => {
                let prepare = async {
                    // A draft's buttons refer to the message it was written
                    // in: read it now (a draft is never stored before it is
                    // confirmed).
                    let source = match DraftRef::parse(&c.data.custom_id) {
                        // Only from the channel the button is in (a forged
                        // id could name another client's message).
                        Some(draft) if draft.channel == c.channel_id.get() => within(
                            ChannelId::new(draft.channel)
                                .message(&ctx.http, MessageId::new(draft.message)),
                        )
                        .await
                        .map(|m| target(&m))
                        .map_err(|e| tracing::warn!(error = %e, "the draft's message is gone"))
                        .ok(),
                        _ => None,
                    };
                    let (mut origin, i) = from_component(c, source);
                    if origin.guild.is_none() {
                        origin.memberships = self.memberships(&ctx, origin.user).await;
                    }
                    (origin, i)
                };
                self.answer(&ctx, Kind::Component(c), received, prepare)
                    .await;
            }
            DiscordInteraction::Modal(m) => {
                let prepare = async { from_modal(m) };
                self.answer(&ctx, Kind::Modal(m), received, prepare).await;
            }
            _ => {}
        }
    }
}
