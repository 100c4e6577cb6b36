//! The emulator against the real serenity client: a minimal bot connects through
//! the production code path (TLS REST with serenity's rate limiter, v10 gateway).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ponte::emulator::{
    DEFAULT_BOT_ID, Emulator, GatewayStats, GuildSpec, RouteMatch, World, opt, sub,
};
use serde_json::{Value, json};
use serenity::all::{
    ActionRowComponent, ButtonStyle, ChannelId, Command, CommandInteraction, CommandOptionType,
    CommandType, ComponentInteraction, ComponentInteractionDataKind, Context, CreateActionRow,
    CreateAllowedMentions, CreateButton, CreateCommand, CreateCommandOption, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, CreateModal, CreateSelectMenu, CreateSelectMenuKind, CreateSelectMenuOption,
    CreateThread, EditInteractionResponse, EventHandler, GatewayIntents, Guild, GuildChannel,
    GuildId, InputTextStyle, Interaction, Message, ModalInteraction, Ready, ResolvedTarget,
    ResolvedValue, ShardManager, UserId,
};
use serenity::model::event::{Event, GatewayEvent, MessageDeleteEvent};
use tokio::sync::Notify;

const GUILD: u64 = 700_000_000_000_000_001;
const REQUESTS: u64 = 700_000_000_000_000_010;
const GENERAL: u64 = 700_000_000_000_000_011;
const MSP: u64 = 700_000_000_000_000_020;
const ALICE: u64 = 710_000_000_000_000_001;
const BOB: u64 = 710_000_000_000_000_002;
const BOT: u64 = DEFAULT_BOT_ID;
const T: Duration = Duration::from_secs(10);

fn world() -> World {
    World::new()
        .user(ALICE, "alice", "it")
        .user(BOB, "bob", "en-US")
        .guild(
            GuildSpec::new(GUILD, "Acme")
                .locale("it")
                .text_channel(REQUESTS, "requests")
                .text_channel(GENERAL, "general")
                .role(MSP, "msp")
                .member(ALICE, &[])
                .member(BOB, &[MSP]),
        )
}

fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// What the bot saw, for the test to check.
#[derive(Clone, Debug)]
enum Seen {
    Ready(Box<Ready>),
    GuildCreate(Box<Guild>),
    Message(Box<Message>),
    /// A multi-step answer finished.
    Done(&'static str),
    Error(String),
}

#[derive(Default)]
struct Log {
    seen: Mutex<Vec<Seen>>,
    notify: Notify,
}

impl Log {
    fn push(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
        self.notify.notify_waiters();
    }

    async fn wait<T>(&self, what: &str, mut f: impl FnMut(&Seen) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = self.seen.lock().unwrap().iter().find_map(&mut f) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("the bot never saw {what}");
            }
        }
    }
}

/// A minimal bot exercising every kind of answer.
struct Bot {
    log: Arc<Log>,
}

fn commands() -> Vec<CreateCommand> {
    let string = |name: &str, required: bool| {
        CreateCommandOption::new(CommandOptionType::String, name, "text").required(required)
    };
    vec![
        CreateCommand::new("ping").description("Answer at once"),
        CreateCommand::new("slow").description("Defer, then edit"),
        CreateCommand::new("buttons").description("Show buttons"),
        CreateCommand::new("form").description("Open a modal"),
        CreateCommand::new("late").description("Answer too late"),
        CreateCommand::new("twice").description("Answer twice"),
        CreateCommand::new("quiet").description("Never answer"),
        CreateCommand::new("followups").description("Defer, then follow up"),
        CreateCommand::new("cleanup").description("Answer, then delete the answer"),
        CreateCommand::new("pick").description("Show a select menu"),
        CreateCommand::new("task")
            .description("Tasks")
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "claim", "Claim a task")
                    .add_sub_option(string("id", true))
                    .add_sub_option(string("note", false)),
            )
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "assign", "Assign a task")
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::User, "to", "assignee")
                            .required(true),
                    )
                    .add_sub_option(CreateCommandOption::new(
                        CommandOptionType::Integer,
                        "priority",
                        "1-4",
                    )),
            ),
        CreateCommand::new("Track as task").kind(CommandType::Message),
    ]
}

fn reply(content: impl Into<String>) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(content)
            .allowed_mentions(no_pings()),
    )
}

fn buttons(disabled: bool) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new("approve")
            .label("Approve")
            .style(ButtonStyle::Success)
            .disabled(disabled),
        CreateButton::new("reject")
            .label("Reject")
            .style(ButtonStyle::Danger)
            .disabled(disabled),
        CreateButton::new("details")
            .label("Details")
            .style(ButtonStyle::Secondary)
            .disabled(disabled),
    ])]
}

impl Bot {
    async fn command(&self, ctx: &Context, cmd: &CommandInteraction) -> serenity::Result<()> {
        match cmd.data.name.as_str() {
            "ping" => {
                cmd.create_response(ctx, reply(format!("pong {}", cmd.locale)))
                    .await
            }
            "slow" => {
                cmd.defer(ctx).await?;
                let edit = EditInteractionResponse::new()
                    .content("done slowly")
                    .allowed_mentions(no_pings());
                cmd.edit_response(ctx, edit).await.map(|_| ())
            }
            "buttons" => {
                let message = CreateInteractionResponseMessage::new()
                    .content("Choose")
                    .components(buttons(false))
                    .allowed_mentions(no_pings());
                cmd.create_response(ctx, CreateInteractionResponse::Message(message))
                    .await
            }
            "form" => {
                let modal = CreateModal::new("task_form", "New task").components(vec![
                    CreateActionRow::InputText(CreateInputText::new(
                        InputTextStyle::Short,
                        "Title",
                        "title",
                    )),
                    CreateActionRow::InputText(
                        CreateInputText::new(InputTextStyle::Paragraph, "Details", "details")
                            .required(false),
                    ),
                ]);
                cmd.create_response(ctx, CreateInteractionResponse::Modal(modal))
                    .await
            }
            "late" => {
                tokio::time::sleep(Duration::from_millis(400)).await;
                cmd.create_response(ctx, reply("too late")).await
            }
            "twice" => {
                cmd.create_response(ctx, reply("once")).await?;
                cmd.create_response(ctx, reply("twice")).await
            }
            "quiet" => Ok(()),
            "followups" => {
                cmd.defer(ctx).await?;
                let followup = |text: &str| {
                    CreateInteractionResponseFollowup::new()
                        .content(text)
                        .allowed_mentions(no_pings())
                };
                cmd.create_followup(ctx, followup("first")).await?;
                let second = cmd.create_followup(ctx, followup("second")).await?;
                cmd.edit_followup(ctx, second.id, followup("second, edited"))
                    .await?;
                let original = cmd.get_response(ctx).await?;
                if original.content != "first" {
                    self.log
                        .push(Seen::Error(format!("@original is {:?}", original.content)));
                }
                self.log.push(Seen::Done("followups"));
                Ok(())
            }
            "cleanup" => {
                cmd.create_response(ctx, reply("temporary")).await?;
                cmd.delete_response(ctx).await?;
                self.log.push(Seen::Done("cleanup"));
                Ok(())
            }
            "pick" => {
                let menu = CreateSelectMenu::new(
                    "priority",
                    CreateSelectMenuKind::String {
                        options: vec![
                            CreateSelectMenuOption::new("Low", "low"),
                            CreateSelectMenuOption::new("High", "high"),
                        ],
                    },
                );
                let message = CreateInteractionResponseMessage::new()
                    .content("Priority?")
                    .components(vec![CreateActionRow::SelectMenu(menu)])
                    .allowed_mentions(no_pings());
                cmd.create_response(ctx, CreateInteractionResponse::Message(message))
                    .await
            }
            "task" => {
                let options = cmd.data.options();
                let text = match options.first().map(|o| (o.name, &o.value)) {
                    Some(("claim", ResolvedValue::SubCommand(inner))) => {
                        let get = |name: &str| {
                            inner
                                .iter()
                                .find(|o| o.name == name)
                                .and_then(|o| match o.value {
                                    ResolvedValue::String(s) => Some(s),
                                    _ => None,
                                })
                        };
                        format!(
                            "claim {} note={}",
                            get("id").unwrap_or("?"),
                            get("note").unwrap_or("-")
                        )
                    }
                    Some(("assign", ResolvedValue::SubCommand(inner))) => {
                        let mut to = "?".to_string();
                        let mut priority = 0;
                        for o in inner {
                            match o.value {
                                ResolvedValue::User(user, _) => to = user.name.clone(),
                                ResolvedValue::Integer(p) => priority = p,
                                _ => {}
                            }
                        }
                        format!("assign {to} p={priority}")
                    }
                    other => format!("unexpected {other:?}"),
                };
                cmd.create_response(ctx, reply(text)).await
            }
            "Track as task" => {
                let content = match cmd.data.target() {
                    Some(ResolvedTarget::Message(m)) => m.content.clone(),
                    _ => "no target".to_string(),
                };
                let message = CreateInteractionResponseMessage::new()
                    .content(format!("tracking: {content}"))
                    .ephemeral(true)
                    .allowed_mentions(no_pings());
                cmd.create_response(ctx, CreateInteractionResponse::Message(message))
                    .await
            }
            other => {
                cmd.create_response(ctx, reply(format!("unknown {other}")))
                    .await
            }
        }
    }

    async fn component(&self, ctx: &Context, c: &ComponentInteraction) -> serenity::Result<()> {
        match c.data.custom_id.as_str() {
            "approve" => {
                let update = CreateInteractionResponseMessage::new()
                    .content(format!("Approved by {}", c.user.name))
                    .components(buttons(true));
                c.create_response(ctx, CreateInteractionResponse::UpdateMessage(update))
                    .await
            }
            "priority" => {
                let picked = match &c.data.kind {
                    ComponentInteractionDataKind::StringSelect { values } => values.join(","),
                    other => format!("{other:?}"),
                };
                let update = CreateInteractionResponseMessage::new()
                    .content(format!("picked {picked}"))
                    .components(Vec::new());
                c.create_response(ctx, CreateInteractionResponse::UpdateMessage(update))
                    .await
            }
            "details" => {
                let modal = CreateModal::new("details_form", "Details").components(vec![
                    CreateActionRow::InputText(CreateInputText::new(
                        InputTextStyle::Paragraph,
                        "Note",
                        "note",
                    )),
                ]);
                c.create_response(ctx, CreateInteractionResponse::Modal(modal))
                    .await
            }
            _ => {
                c.create_response(ctx, CreateInteractionResponse::Acknowledge)
                    .await?;
                let edit = EditInteractionResponse::new()
                    .content("Rejected")
                    .components(Vec::new());
                c.edit_response(ctx, edit).await.map(|_| ())
            }
        }
    }

    async fn modal(&self, ctx: &Context, m: &ModalInteraction) -> serenity::Result<()> {
        let mut values = Vec::new();
        for row in &m.data.components {
            for c in &row.components {
                if let ActionRowComponent::InputText(input) = c {
                    values.push(format!(
                        "{}={}",
                        input.custom_id,
                        input.value.clone().unwrap_or_default()
                    ));
                }
            }
        }
        if m.data.custom_id == "details_form" {
            // Opened from a button: update the button's message.
            let update = CreateInteractionResponseMessage::new()
                .content(format!("details: {}", values.join(" ")))
                .components(Vec::new());
            return m
                .create_response(ctx, CreateInteractionResponse::UpdateMessage(update))
                .await;
        }
        m.create_response(ctx, reply(values.join(" "))).await
    }

    async fn on_message(&self, ctx: &Context, msg: &Message) -> serenity::Result<()> {
        let mention = format!("<@{BOT}>");
        if msg.guild_id.is_none() {
            let answer = CreateMessage::new()
                .content(format!("dm echo: {}", msg.content))
                .allowed_mentions(no_pings());
            msg.channel_id.send_message(ctx, answer).await?;
        } else if msg.content.contains(&mention) && msg.content.contains("thread") {
            let thread = msg
                .channel_id
                .create_thread_from_message(ctx, msg.id, CreateThread::new("Task thread"))
                .await?;
            let answer = CreateMessage::new()
                .content("in the thread")
                .allowed_mentions(no_pings());
            thread.id.send_message(ctx, answer).await?;
        } else if msg.content.contains(&mention) {
            let text = msg.content.replace(&mention, "");
            let answer = CreateMessage::new()
                .content(format!("echo: {}", text.trim()))
                .allowed_mentions(no_pings());
            msg.channel_id.send_message(ctx, answer).await?;
        }
        Ok(())
    }
}

#[serenity::async_trait]
impl EventHandler for Bot {
    async fn ready(&self, ctx: Context, ready: Ready) {
        if let Err(err) = GuildId::new(GUILD).set_commands(&ctx, commands()).await {
            self.log.push(Seen::Error(format!("set_commands: {err}")));
        }
        self.log.push(Seen::Ready(Box::new(ready)));
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        self.log.push(Seen::GuildCreate(Box::new(guild)));
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        self.log.push(Seen::Message(Box::new(msg.clone())));
        if let Err(err) = self.on_message(&ctx, &msg).await {
            self.log.push(Seen::Error(format!("message: {err}")));
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let result = match &interaction {
            Interaction::Command(cmd) => self.command(&ctx, cmd).await,
            Interaction::Component(c) => self.component(&ctx, c).await,
            Interaction::Modal(m) => self.modal(&ctx, m).await,
            _ => Ok(()),
        };
        if let Err(err) = result {
            self.log.push(Seen::Error(format!("interaction: {err}")));
        }
    }
}

struct Running {
    emu: Emulator,
    log: Arc<Log>,
    shards: Arc<ShardManager>,
    /// From `client.start()` to the bot's `ready` handler.
    ready_after: Duration,
}

impl Running {
    /// Panics if any of the bot's calls failed.
    fn assert_no_bot_errors(&self) {
        let errors: Vec<String> = self
            .log
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|s| match s {
                Seen::Error(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        assert!(errors.is_empty(), "the bot's calls failed: {errors:#?}");
    }

    async fn stop(self) {
        self.shards.shutdown_all().await;
    }
}

fn bot_intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// Logs go to the test output (shown for failing tests); `RUST_LOG` picks the level.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

async fn start_bot(world: World, intents: GatewayIntents) -> Running {
    init_logs();
    let emu = Emulator::start(world).await.expect("emulator starts");
    let log = Arc::new(Log::default());
    let mut client = emu
        .client_builder(intents)
        .event_handler(Bot { log: log.clone() })
        .await
        .expect("client builds");
    let shards = client.shard_manager.clone();
    let started = Instant::now();
    tokio::spawn(async move {
        if let Err(err) = client.start().await {
            eprintln!("client stopped: {err}");
        }
    });
    log.wait("READY", |s| matches!(s, Seen::Ready(_)).then_some(()))
        .await;
    let ready_after = started.elapsed();
    emu.wait_for_commands(Some(GUILD), T)
        .await
        .expect("the bot registers its commands");
    Running {
        emu,
        log,
        shards,
        ready_after,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serenity_bot_connects_and_answers_every_kind_of_interaction() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;
    eprintln!(
        "READY reached the bot {:?} after client.start()",
        bot.ready_after
    );

    let ready = bot
        .log
        .wait("READY", |s| match s {
            Seen::Ready(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(ready.user.id, UserId::new(BOT));
    assert_eq!(ready.guilds.len(), 1);
    let guild = bot
        .log
        .wait("GUILD_CREATE", |s| match s {
            Seen::GuildCreate(g) => Some(g.clone()),
            _ => None,
        })
        .await;
    assert_eq!(guild.name, "Acme");
    assert_eq!(guild.channels.len(), 2);
    assert_eq!(guild.roles.len(), 3, "@everyone, msp and the bot's role");
    assert_eq!(guild.preferred_locale, "it");

    let registered = emu.commands(GUILD);
    assert_eq!(registered.len(), commands().len());
    for c in &registered {
        serde_json::from_value::<Command>(c.clone())
            .expect("a stored command is a serenity Command");
    }

    // Type 4, with the user's locale; and a round trip.
    let started = Instant::now();
    let ping = emu.slash(ALICE, REQUESTS, "ping", vec![]).unwrap();
    let answer = ping.response(T).await.unwrap();
    eprintln!("slash command answered in {:?}", started.elapsed());
    assert_eq!(answer.kind, 4);
    assert_eq!(answer.content(), "pong it");
    assert!(!answer.ephemeral());
    let shown = emu.messages(REQUESTS);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].interaction_id, Some(ping.id()));
    assert_eq!(
        shown[0].allowed_mentions,
        Some(json!({"parse": [], "users": [], "roles": []}))
    );
    let rounds = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        let ping = emu.slash(BOB, REQUESTS, "ping", vec![]).unwrap();
        ping.response(T).await.unwrap();
    }
    eprintln!(
        "{rounds} slash commands one after the other: {:?} each",
        started.elapsed() / rounds
    );

    // Type 5, then the edit of @original.
    let slow = emu.slash(BOB, REQUESTS, "slow", vec![]).unwrap();
    let answer = slow.response(T).await.unwrap();
    assert_eq!(answer.kind, 5);
    assert_eq!(answer.content(), "done slowly");
    assert!(!answer.message.as_ref().unwrap().loading);

    // Subcommands, typed as a line and built.
    let claim = emu
        .slash_line(
            ALICE,
            REQUESTS,
            "/task claim id:ACME-1 note:printer on fire",
        )
        .unwrap();
    assert_eq!(
        claim.response(T).await.unwrap().content(),
        "claim ACME-1 note=printer on fire"
    );
    let assign = emu
        .slash(
            ALICE,
            REQUESTS,
            "task",
            vec![sub(
                "assign",
                vec![opt("to", format!("<@{BOB}>")), opt("priority", 2i64)],
            )],
        )
        .unwrap();
    assert_eq!(
        assign.response(T).await.unwrap().content(),
        "assign bob p=2"
    );
    assert!(
        emu.slash(ALICE, REQUESTS, "task", vec![opt("id", "x")])
            .is_err()
    );
    assert!(emu.slash(ALICE, REQUESTS, "nope", vec![]).is_err());

    // A button click answered with UPDATE_MESSAGE (7).
    let shown = emu.slash(ALICE, REQUESTS, "buttons", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    assert_eq!(message.buttons().len(), 3);
    let click = emu.click(BOB, message.id, "Approve").unwrap();
    let answer = click.response(T).await.unwrap();
    assert_eq!(answer.kind, 7);
    assert_eq!(answer.content(), "Approved by bob");
    let updated = emu.message(message.id).unwrap();
    assert!(updated.buttons().iter().all(|b| b.disabled));
    assert_eq!(updated.edits.len(), 1);
    assert_eq!(updated.edits[0].content, "Choose");
    assert!(
        emu.click(BOB, message.id, "Approve").is_err(),
        "disabled now"
    );
    assert!(
        emu.click(BOB, message.id, "Maybe").is_err(),
        "no such button"
    );

    // A click answered with DEFERRED_UPDATE (6) and an edit of @original.
    let shown = emu.slash(ALICE, REQUESTS, "buttons", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    let click = emu.click(ALICE, message.id, "Reject").unwrap();
    assert_eq!(click.response(T).await.unwrap().kind, 6);
    let rejected = emu
        .wait_for_message(REQUESTS, T, |m| {
            m.id == message.id && m.content == "Rejected"
        })
        .await
        .unwrap();
    assert!(rejected.components.is_empty());

    // A modal opened from a button; its submission updates the button's message (7).
    let shown = emu.slash(ALICE, REQUESTS, "buttons", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    let details = emu.click(ALICE, message.id, "Details").unwrap();
    assert_eq!(details.response(T).await.unwrap().kind, 9);
    let submitted = emu
        .submit_modal(ALICE, &details, &[("note", "see the ticket")])
        .unwrap();
    let answer = submitted.response(T).await.unwrap();
    assert_eq!(answer.kind, 7);
    let updated = answer.message.unwrap();
    assert_eq!(
        (updated.id, updated.content.as_str()),
        (message.id, "details: note=see the ticket")
    );

    // A string select menu.
    let shown = emu.slash(ALICE, REQUESTS, "pick", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    assert!(
        emu.select(BOB, message.id, "priority", &["urgent"])
            .is_err()
    );
    let picked = emu.select(BOB, message.id, "priority", &["high"]).unwrap();
    assert_eq!(picked.response(T).await.unwrap().content(), "picked high");

    // Follow-ups after a deferred answer: the first one fills in the "thinking" message.
    let followed = emu.slash(ALICE, REQUESTS, "followups", vec![]).unwrap();
    bot.log
        .wait("the follow-ups", |s| {
            matches!(s, Seen::Done("followups")).then_some(())
        })
        .await;
    let answer = followed.response(T).await.unwrap();
    assert_eq!(answer.content(), "first");
    assert_eq!(answer.followups.len(), 1);
    assert_eq!(answer.followups[0].content, "second, edited");
    assert_eq!(answer.followups[0].edits[0].content, "second");

    // An answer the bot deletes.
    let cleanup = emu.slash(ALICE, REQUESTS, "cleanup", vec![]).unwrap();
    bot.log
        .wait("the deletion", |s| {
            matches!(s, Seen::Done("cleanup")).then_some(())
        })
        .await;
    let gone = cleanup.current_response().unwrap().message.unwrap();
    assert!(gone.deleted);
    assert!(emu.messages(REQUESTS).iter().all(|m| m.id != gone.id));

    // A modal (9) and its submission (interaction type 5).
    let form = emu.slash(ALICE, REQUESTS, "form", vec![]).unwrap();
    let answer = form.response(T).await.unwrap();
    assert_eq!(answer.kind, 9);
    let modal = answer.modal.unwrap();
    assert_eq!(modal.title, "New task");
    assert_eq!(modal.fields.len(), 2);
    assert!(
        emu.submit_modal(ALICE, &form, &[]).is_err(),
        "title is required"
    );
    assert!(
        emu.submit_modal(BOB, &form, &[("title", "x")]).is_err(),
        "not bob's modal"
    );
    let submitted = emu
        .submit_modal(ALICE, &form, &[("title", "Printer on fire")])
        .unwrap();
    assert_eq!(
        submitted.response(T).await.unwrap().content(),
        "title=Printer on fire details="
    );

    // A message context-menu command on someone's message: ephemeral answer.
    let post = emu.post(ALICE, GENERAL, "the VPN is down").unwrap();
    let track = emu.message_command(BOB, post.id, "Track as task").unwrap();
    let answer = track.response(T).await.unwrap();
    assert!(answer.ephemeral());
    assert_eq!(answer.content(), "tracking: the VPN is down");
    assert!(
        emu.messages(GENERAL).iter().all(|m| !m.ephemeral),
        "ephemeral answers are not in the channel"
    );

    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

/// serenity drops what it cannot parse, silently: check every payload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payload_deserializes_into_serenity_models() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;

    // Messages, a thread, a DM; every interaction kind.
    let post = emu
        .post(ALICE, REQUESTS, &format!("<@{BOT}> open a thread please"))
        .unwrap();
    let thread_msg = emu
        .wait_for_message(post.id, T, |m| m.content == "in the thread")
        .await
        .unwrap();
    assert_eq!(emu.thread_of(post.id), Some(post.id));
    assert_eq!(thread_msg.channel_id, post.id);
    assert!(emu.message(post.id).unwrap().thread_id.is_some());
    emu.dm(BOB, "hello bot").unwrap();
    let dm = emu.dm_channel(BOB).unwrap();
    emu.wait_for_message(dm, T, |m| m.content == "dm echo: hello bot")
        .await
        .unwrap();
    let shown = emu.slash(ALICE, REQUESTS, "buttons", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    emu.click(BOB, message.id, "Approve")
        .unwrap()
        .response(T)
        .await
        .unwrap();
    let form = emu.slash(ALICE, REQUESTS, "form", vec![]).unwrap();
    form.response(T).await.unwrap();
    emu.submit_modal(ALICE, &form, &[("title", "t"), ("details", "d")])
        .unwrap()
        .response(T)
        .await
        .unwrap();
    emu.message_command(BOB, post.id, "Track as task")
        .unwrap()
        .response(T)
        .await
        .unwrap();
    emu.slash(
        BOB,
        REQUESTS,
        "task",
        vec![sub("assign", vec![opt("to", ALICE.to_string())])],
    )
    .unwrap()
    .response(T)
    .await
    .unwrap();
    // A modal opened from a button (its submission carries the message), a select
    // menu, follow-ups, a deleted answer, and a RESUME.
    let shown = emu.slash(ALICE, REQUESTS, "buttons", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    let details = emu.click(ALICE, message.id, "Details").unwrap();
    details.response(T).await.unwrap();
    emu.submit_modal(ALICE, &details, &[("note", "n")])
        .unwrap()
        .response(T)
        .await
        .unwrap();
    let shown = emu.slash(ALICE, REQUESTS, "pick", vec![]).unwrap();
    let message = shown.response(T).await.unwrap().message.unwrap();
    emu.select(BOB, message.id, "priority", &["low"])
        .unwrap()
        .response(T)
        .await
        .unwrap();
    emu.slash(ALICE, REQUESTS, "followups", vec![]).unwrap();
    bot.log
        .wait("the follow-ups", |s| {
            matches!(s, Seen::Done("followups")).then_some(())
        })
        .await;
    emu.slash(ALICE, REQUESTS, "cleanup", vec![]).unwrap();
    bot.log
        .wait("the deletion", |s| {
            matches!(s, Seen::Done("cleanup")).then_some(())
        })
        .await;
    emu.drop_gateway();
    emu.wait_for_stats(T, |s| s.resumes >= 1).await.unwrap();

    let frames = emu.dispatches();
    let mut kinds = std::collections::BTreeSet::new();
    for frame in &frames {
        let t = frame["t"].as_str().unwrap().to_string();
        let d = frame["d"].clone();
        let event = serde_json::from_value::<GatewayEvent>(frame.clone())
            .unwrap_or_else(|e| panic!("{t} is not a GatewayEvent: {e}\n{frame:#}"));
        match event {
            GatewayEvent::Dispatch(_, Event::Unknown(u)) => {
                panic!("{t} became Event::Unknown: {u:?}")
            }
            GatewayEvent::Dispatch(..) => {}
            other => panic!("{t} is not a dispatch: {other:?}"),
        }
        fn parse<T: serde::de::DeserializeOwned>(t: &str, d: &Value) -> T {
            serde_json::from_value(d.clone()).unwrap_or_else(|e| panic!("{t}: {e}\n{d:#}"))
        }
        let kind = match t.as_str() {
            "READY" => {
                parse::<Ready>(&t, &d);
                t.clone()
            }
            "GUILD_CREATE" => {
                let guild = parse::<Guild>(&t, &d);
                assert_eq!(guild.channels.len(), 2);
                t.clone()
            }
            "MESSAGE_CREATE" | "MESSAGE_UPDATE" => {
                let m = parse::<Message>(&t, &d);
                assert!(d.get("guild_id").is_none() || m.guild_id.is_some());
                t.clone()
            }
            "THREAD_CREATE" => {
                parse::<GuildChannel>(&t, &d);
                t.clone()
            }
            "MESSAGE_DELETE" => {
                parse::<MessageDeleteEvent>(&t, &d);
                t.clone()
            }
            "INTERACTION_CREATE" => match parse::<Interaction>(&t, &d) {
                Interaction::Command(_) => {
                    let c = parse::<CommandInteraction>(&t, &d);
                    assert_eq!(c.guild_id, Some(GuildId::new(GUILD)));
                    assert!(c.member.is_some());
                    format!("{t} command type {}", u8::from(c.data.kind))
                }
                Interaction::Component(_) => {
                    parse::<ComponentInteraction>(&t, &d);
                    format!("{t} component")
                }
                Interaction::Modal(_) => {
                    let m = parse::<ModalInteraction>(&t, &d);
                    if m.data.custom_id == "details_form" {
                        assert!(m.message.is_some(), "opened from a button");
                        format!("{t} modal from a component")
                    } else {
                        assert!(m.message.is_none(), "opened from a slash command");
                        format!("{t} modal")
                    }
                }
                other => panic!("unexpected interaction {other:?}"),
            },
            other => other.to_string(),
        };
        kinds.insert(kind);
    }
    for expected in [
        "READY",
        "GUILD_CREATE",
        "MESSAGE_CREATE",
        "MESSAGE_UPDATE",
        "THREAD_CREATE",
        "INTERACTION_CREATE command type 1",
        "INTERACTION_CREATE command type 3",
        "INTERACTION_CREATE component",
        "INTERACTION_CREATE modal",
        "INTERACTION_CREATE modal from a component",
        "MESSAGE_DELETE",
        "RESUMED",
    ] {
        assert!(kinds.contains(expected), "no {expected} among {kinds:?}");
    }

    // REST answers: serenity's own calls deserialize them.
    let http = emu.http();
    let me = http.get_current_user().await.unwrap();
    assert_eq!(me.id, UserId::new(BOT));
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(app.id.get(), emu.application_id());
    assert_eq!(http.get_gateway().await.unwrap().url, emu.gateway_url());
    http.get_bot_gateway().await.unwrap();
    let guild = http.get_guild(GuildId::new(GUILD)).await.unwrap();
    assert_eq!(guild.name, "Acme");
    assert_eq!(
        http.get_guild_roles(GuildId::new(GUILD))
            .await
            .unwrap()
            .len(),
        3
    );
    let member = http
        .get_member(GuildId::new(GUILD), UserId::new(BOB))
        .await
        .unwrap();
    assert_eq!(member.roles.len(), 1);
    http.get_channel(ChannelId::new(REQUESTS)).await.unwrap();
    http.get_channel(ChannelId::new(post.id)).await.unwrap();
    http.get_channel(ChannelId::new(dm)).await.unwrap();
    assert_eq!(
        http.get_channels(GuildId::new(GUILD)).await.unwrap().len(),
        2
    );
    assert_eq!(
        http.get_user(UserId::new(ALICE)).await.unwrap().name,
        "alice"
    );
    let private = UserId::new(ALICE).create_dm_channel(&http).await.unwrap();
    assert_eq!(private.recipient.id, UserId::new(ALICE));
    let list = ChannelId::new(REQUESTS)
        .messages(&http, serenity::all::GetMessages::new().limit(5))
        .await
        .unwrap();
    assert!(!list.is_empty());
    let one = http
        .get_message(ChannelId::new(REQUESTS), list[0].id)
        .await
        .unwrap();
    assert_eq!(one.id, list[0].id);
    let global = http.get_global_commands().await.unwrap();
    assert!(global.is_empty());
    let guild_commands = http.get_guild_commands(GuildId::new(GUILD)).await.unwrap();
    assert_eq!(guild_commands.len(), commands().len());
    let thread = ChannelId::new(GENERAL)
        .create_thread(&http, CreateThread::new("no message"))
        .await
        .unwrap();
    assert_eq!(thread.parent_id, Some(ChannelId::new(GENERAL)));

    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

fn http_status(err: &serenity::Error) -> (u16, isize) {
    match err {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            (r.status_code.as_u16(), r.error.code)
        }
        other => panic!("not an HTTP error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_discord_would_refuse_are_refused_and_recorded() {
    let emu = Emulator::start(world()).await.unwrap();
    let http = emu.http();
    let channel = ChannelId::new(REQUESTS);
    let send = |body: Value| {
        let http = http.clone();
        async move { http.send_message(channel, Vec::new(), &body).await }
    };

    send(json!({"content": "fine", "allowed_mentions": {"parse": []}}))
        .await
        .expect("a valid message is accepted");
    assert!(emu.violations().is_empty());

    let err = send(json!({"content": "x".repeat(2001), "allowed_mentions": {"parse": []}}))
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (400, 50035));
    if let serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) = &err {
        assert_eq!(r.error.errors[0].path, "content");
        assert_eq!(r.error.errors[0].code, "BASE_TYPE_MAX_LENGTH");
    }
    let v = emu.take_violations();
    assert_eq!(v.len(), 1);
    assert!(v[0].reason.contains("content"), "{}", v[0]);
    assert_eq!(
        v[0].route.as_deref(),
        Some("/channels/{channel_id}/messages")
    );

    let err = send(json!({"content": "no allowed_mentions"}))
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (400, 50035));
    assert!(emu.take_violations()[0].reason.contains("allowed_mentions"));

    let row =
        json!({"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "b"}]});
    let err = send(json!({"content": "rows", "allowed_mentions": {}, "components": vec![row; 6]}))
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (400, 50035));
    assert!(emu.take_violations()[0].reason.contains("components"));

    let embed = json!({"title": "t"});
    let err = send(json!({"allowed_mentions": {}, "embeds": vec![embed; 11]}))
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (400, 50035));
    emu.take_violations();

    let with_spec = ponte::emulator::spec_path().exists();
    if with_spec {
        // Only the OpenAPI schema knows that `tts` is a boolean.
        let err = send(json!({"content": "x", "allowed_mentions": {}, "tts": "yes"}))
            .await
            .unwrap_err();
        assert_eq!(http_status(&err), (400, 50035));
        let v = emu.take_violations();
        assert!(v[0].reason.contains("OpenAPI"), "{}", v[0]);
        assert!(v[0].reason.contains("tts"), "{}", v[0]);
    }

    let err = send(json!({"allowed_mentions": {}})).await.unwrap_err();
    assert_eq!(http_status(&err), (400, 50006), "empty message");
    emu.take_violations();

    // A thread name over 100 characters.
    let first = emu.messages(REQUESTS)[0].id;
    let err = http
        .create_thread_from_message(
            channel,
            serenity::all::MessageId::new(first),
            &json!({"name": "n".repeat(101)}),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (400, 50035));
    emu.take_violations();

    // A route the emulator does not serve.
    let err = http
        .get_guild_webhooks(GuildId::new(GUILD))
        .await
        .unwrap_err();
    assert_eq!(http_status(&err).0, 404);
    let v = emu.take_violations();
    assert!(v[0].reason.contains("unknown route"), "{}", v[0]);

    // Unknown channel.
    let err = ChannelId::new(42)
        .send_message(
            &http,
            CreateMessage::new()
                .content("x")
                .allowed_mentions(no_pings()),
        )
        .await
        .unwrap_err();
    assert_eq!(http_status(&err), (404, 10003));
    assert_eq!(emu.take_violations().len(), 1);

    // Every exchange is recorded.
    let posts = emu
        .exchanges()
        .into_iter()
        .filter(|e| e.route.as_deref() == Some("/channels/{channel_id}/messages"))
        .count();
    assert_eq!(posts, if with_spec { 8 } else { 7 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_interaction_callback_fails_like_discord() {
    // The bot answers "late" after 400 ms: past this deadline whatever the load.
    let world = world().interaction_deadline(Duration::from_millis(200));
    let bot = start_bot(world, bot_intents()).await;
    let emu = &bot.emu;

    let late = emu.slash(ALICE, REQUESTS, "late", vec![]).unwrap();
    let error = bot
        .log
        .wait("the late answer's error", |s| match s {
            Seen::Error(e) if e.contains("Unknown interaction") => Some(e.clone()),
            _ => None,
        })
        .await;
    assert!(error.contains("Unknown interaction"), "{error}");
    assert!(late.current_response().is_none());
    let v = emu.take_violations();
    assert_eq!(v.len(), 1);
    assert!(v[0].reason.contains("after it was dispatched"), "{}", v[0]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_interaction_callback_fails_like_discord() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;
    let twice = emu.slash(ALICE, REQUESTS, "twice", vec![]).unwrap();
    bot.log
        .wait("the second answer's error", |s| match s {
            Seen::Error(e) if e.contains("already been acknowledged") => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(twice.response(T).await.unwrap().content(), "once");
    let v = emu.take_violations();
    assert_eq!(v.len(), 1);
    assert!(v[0].reason.contains("answered twice"), "{}", v[0]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gateway_is_resumed_and_missed_dispatches_replayed() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;

    emu.drop_gateway();
    // Dispatched while the bot is disconnected: only a RESUME can deliver it.
    emu.post(ALICE, REQUESTS, &format!("<@{BOT}> are you there?"))
        .unwrap();
    let started = Instant::now();
    let answer = emu
        .wait_for_message(REQUESTS, T, |m| m.content == "echo: are you there?")
        .await
        .unwrap();
    eprintln!("answered after the drop in {:?}", started.elapsed());
    assert_eq!(answer.author_id, BOT);
    let stats = emu.gateway_stats();
    assert_eq!(stats.identifies, 1);
    assert!(stats.resumes >= 1, "{stats:?}");
    assert_eq!(stats.failed_resumes, 0);

    // And interactions keep working.
    let ping = emu.slash(BOB, REQUESTS, "ping", vec![]).unwrap();
    assert_eq!(ping.response(T).await.unwrap().content(), "pong en-US");
    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_and_resumable_invalid_session_resume() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;

    let started = Instant::now();
    emu.send_reconnect();
    emu.post(ALICE, REQUESTS, &format!("<@{BOT}> one")).unwrap();
    emu.wait_for_stats(T, |s| s.resumes >= 1).await.unwrap();
    eprintln!("resumed after RECONNECT in {:?}", started.elapsed());
    emu.wait_for_message(REQUESTS, T, |m| m.content == "echo: one")
        .await
        .unwrap();

    emu.send_invalid_session(true);
    emu.post(ALICE, REQUESTS, &format!("<@{BOT}> two")).unwrap();
    emu.wait_for_stats(T, |s| s.resumes >= 2).await.unwrap();
    emu.wait_for_message(REQUESTS, T, |m| m.content == "echo: two")
        .await
        .unwrap();

    let ping = emu.slash(ALICE, REQUESTS, "ping", vec![]).unwrap();
    assert_eq!(ping.response(T).await.unwrap().content(), "pong it");
    let stats: GatewayStats = emu.gateway_stats();
    assert_eq!(stats.identifies, 1, "{stats:?}");
    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

/// The one test that pays serenity's 5 s pause before identifying again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_resumable_invalid_session_makes_the_bot_identify_again() {
    let bot = start_bot(world(), bot_intents()).await;
    let emu = &bot.emu;
    emu.send_invalid_session(false);
    emu.wait_for_stats(Duration::from_secs(20), |s| s.identifies >= 2)
        .await
        .unwrap();
    emu.wait_until_connected(T).await.unwrap();
    let ping = emu.slash(ALICE, REQUESTS, "ping", vec![]).unwrap();
    assert_eq!(ping.response(T).await.unwrap().content(), "pong it");
    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_by_serenitys_rate_limiter_and_the_message_arrives_once() {
    let emu = Emulator::start(world().retry_after(Duration::from_millis(300)))
        .await
        .unwrap();
    let http = emu.http();
    let route = "/channels/{channel_id}/messages";
    emu.fail_next(RouteMatch::new("POST", route), 429, 1);
    let started = Instant::now();
    let sent = ChannelId::new(REQUESTS)
        .send_message(
            &http,
            CreateMessage::new()
                .content("hi")
                .allowed_mentions(no_pings()),
        )
        .await
        .expect("serenity retries after retry_after");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let shown = emu.messages(REQUESTS);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].id, sent.id.get());
    let statuses: Vec<u16> = emu
        .exchanges()
        .iter()
        .filter(|e| e.route.as_deref() == Some(route))
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, vec![429, 200]);
    emu.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_returned_to_the_bot() {
    let emu = Emulator::start(world()).await.unwrap();
    let http = emu.http();
    emu.fail_next(
        RouteMatch::new("POST", &format!("/channels/{REQUESTS}")),
        500,
        1,
    );
    let message = || {
        CreateMessage::new()
            .content("hi")
            .allowed_mentions(no_pings())
    };
    let err = ChannelId::new(REQUESTS)
        .send_message(&http, message())
        .await
        .unwrap_err();
    assert_eq!(http_status(&err).0, 500);
    assert!(emu.messages(REQUESTS).is_empty());
    ChannelId::new(REQUESTS)
        .send_message(&http, message())
        .await
        .expect("the fault is spent");
    assert_eq!(emu.messages(REQUESTS).len(), 1);
    emu.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_mode_reaches_the_emulator_over_plain_http() {
    let emu = Emulator::start(world()).await.unwrap();
    let http = emu.proxy_http_builder().build();
    assert_eq!(http.get_current_user().await.unwrap().id, UserId::new(BOT));
    emu.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_message_content_guild_messages_arrive_blank_unless_they_mention_the_bot() {
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let bot = start_bot(world(), intents).await;
    let emu = &bot.emu;
    let plain = emu.post(ALICE, GENERAL, "nothing for the bot").unwrap();
    emu.post(ALICE, GENERAL, &format!("<@{BOT}> for the bot"))
        .unwrap();
    emu.dm(ALICE, "a private word").unwrap();
    let seen = |content: String| {
        let log = bot.log.clone();
        async move {
            log.wait(&content.clone(), move |s| match s {
                Seen::Message(m) if m.content == content => Some(m.clone()),
                _ => None,
            })
            .await
        }
    };
    seen(format!("<@{BOT}> for the bot")).await;
    seen("a private word".to_string()).await;
    let blank = seen(String::new()).await;
    assert_eq!(blank.id.get(), plain.id);
    // A context-menu target always carries its content.
    let track = emu.message_command(BOB, plain.id, "Track as task").unwrap();
    assert_eq!(
        track.response(T).await.unwrap().content(),
        "tracking: nothing for the bot"
    );
    emu.assert_no_violations();
    bot.assert_no_bot_errors();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_must_be_granted_to_be_requested() {
    let emu = Emulator::start(world().message_content_granted(false))
        .await
        .unwrap();
    let mut client = emu
        .client_builder(bot_intents())
        .event_handler(Bot {
            log: Arc::new(Log::default()),
        })
        .await
        .unwrap();
    let result = tokio::time::timeout(T, client.start())
        .await
        .expect("serenity gives up");
    let err = result.unwrap_err();
    assert!(
        format!("{err:?}").contains("DisallowedGatewayIntents"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged_so_serenity_stays_connected() {
    let world = world().heartbeat_interval(Duration::from_millis(100));
    let bot = start_bot(world, bot_intents()).await;
    let stats = bot
        .emu
        .wait_for_stats(T, |s| s.heartbeats >= 2)
        .await
        .unwrap();
    assert_eq!(
        stats.connections, 1,
        "an unacknowledged heartbeat would reconnect"
    );
    bot.assert_no_bot_errors();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_on_rest_and_on_the_gateway() {
    init_logs();
    let emu = Emulator::start(world()).await.unwrap();
    let http = serenity::http::HttpBuilder::new("not-the-token")
        .client(emu.reqwest_client())
        .build();
    let err = http.get_current_user().await.unwrap_err();
    assert_eq!(http_status(&err), (401, 0));
    assert_eq!(emu.take_violations().len(), 1);
    // GET /gateway needs no token, so serenity gets as far as IDENTIFY (closed 4004).
    let mut client = serenity::client::ClientBuilder::new_with_http(http, bot_intents())
        .event_handler(Bot {
            log: Arc::new(Log::default()),
        })
        .await
        .unwrap();
    let result = tokio::time::timeout(T, client.start())
        .await
        .expect("serenity gives up");
    assert!(format!("{:?}", result.unwrap_err()).contains("InvalidAuthentication"));
}
