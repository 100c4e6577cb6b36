//! The baseline bot of `ponte load --baseline`: the same serenity client and
//! gateway path as Ponte, registering the same commands, but answering every
//! command and button at once with "ok" and every mention with a reply, with
//! no store and no logic. What it costs is what Discord (here the emulator),
//! serenity and the load driver cost; the rest of Ponte's latency is Ponte's.

use std::sync::{Arc, OnceLock};

use serenity::all::{
    Client, ClientBuilder, Context, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, EventHandler, GuildId, HttpBuilder,
    Interaction, Message, Ready, ShardManager,
};
use serenity::async_trait;
use tokio::task::JoinHandle;

use super::run::{MANIFEST, StartError, intents};

/// A running baseline bot.
pub struct Echo {
    shards: Arc<ShardManager>,
    client: JoinHandle<()>,
}

impl Echo {
    /// Connects to the gateway and registers the manifest in `guilds`.
    pub async fn start(http: HttpBuilder, guilds: Vec<u64>) -> Result<Echo, StartError> {
        let manifest: serde_json::Value = serde_json::from_str(MANIFEST)?;
        let handler = Handler {
            me: OnceLock::new(),
            guilds,
            manifest,
        };
        let mut client: Client = ClientBuilder::new_with_http(http.build(), intents())
            .event_handler(handler)
            .await?;
        let shards = client.shard_manager.clone();
        let client = tokio::spawn(async move {
            if let Err(e) = client.start().await {
                tracing::error!(error = %e, "the baseline client stopped");
            }
        });
        Ok(Echo { shards, client })
    }

    /// Disconnects and waits for the client to end.
    pub async fn stop(self) {
        self.shards.shutdown_all().await;
        let _ = self.client.await;
    }
}

struct Handler {
    me: OnceLock<u64>,
    guilds: Vec<u64>,
    manifest: serde_json::Value,
}

fn ok() -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content("ok")
            .ephemeral(true)
            .allowed_mentions(CreateAllowedMentions::new()),
    )
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let _ = self.me.set(ready.user.id.get());
        for guild in &self.guilds {
            if let Err(e) = ctx
                .http
                .create_guild_commands(GuildId::new(*guild), &self.manifest)
                .await
            {
                tracing::error!(guild, error = %e, "cannot register commands");
            }
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        let Some(&me) = self.me.get() else {
            return;
        };
        if msg.author.bot || !msg.mentions.iter().any(|u| u.id.get() == me) {
            return;
        }
        let reply = CreateMessage::new()
            .content("ok")
            .reference_message(&msg)
            .allowed_mentions(CreateAllowedMentions::new());
        if let Err(e) = msg.channel_id.send_message(&ctx.http, reply).await {
            tracing::error!(error = %e, "cannot answer a mention");
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let result = match &interaction {
            Interaction::Command(c) => c.create_response(&ctx.http, ok()).await,
            Interaction::Component(c) => c.create_response(&ctx.http, ok()).await,
            Interaction::Modal(m) => m.create_response(&ctx.http, ok()).await,
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot answer an interaction");
        }
    }
}
