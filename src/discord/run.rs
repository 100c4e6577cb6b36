//! The serenity client: connecting to the real Discord or the local
//! emulator (the caller builds the HTTP client), with the app's desk
//! answering. `crate::run` puts it together with the rest of Ponte.
//!
//! [`MANIFEST`] is `commands/commands.json`, the slash commands with their English and
//! Italian names, descriptions, choices and default member permissions, registered
//! in every configured server (the clients' and the MSP's) by bulk overwrite
//! (`edge::Handler`). A test in `discord/mod.rs` holds the manifest and the desk's
//! parsers together.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder, ShardManager};
use tokio::task::JoinHandle;

use crate::app::desk::Desk;

use super::chat::DiscordChat;
use super::edge::Handler;

/// The slash-command manifest (English and Italian), registered per server.
pub const MANIFEST: &str = include_str!("../../commands/commands.json");

/// What Ponte asks the gateway for. Message content (privileged: enable it
/// in the developer portal) is needed to relay what people write in task
/// threads across the bridge, and to read mentions and DMs.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// Why the bot could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the message files are broken: {0}")]
    Messages(#[from] crate::i18n::BrokenMessages),
    #[error("the command manifest is not valid JSON: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("cannot start the writer thread: {0}")]
    Writer(#[from] std::io::Error),
    #[error("cannot build the Discord client: {0}")]
    Client(#[from] serenity::Error),
}

/// Where the bot connects.
pub enum Connect {
    /// The real Discord, with the bot's token.
    Discord { token: String },
    /// A prepared HTTP client (the local emulator).
    Http(HttpBuilder),
}

/// A serenity client built and not yet started.
pub struct Gateway {
    client: serenity::Client,
    /// Whether the gateway is connected now (for `/healthz`).
    connected: Arc<AtomicBool>,
    /// The most one REST call of a delivery may take.
    deadline: std::time::Duration,
}

/// A started serenity client.
pub struct Connected {
    shards: Arc<ShardManager>,
    client: JoinHandle<()>,
    connected: Arc<AtomicBool>,
}

/// Builds the serenity client, with `desk` answering what people do.
pub async fn connect<D: Desk>(
    desk: D,
    connect: Connect,
    manifest: serde_json::Value,
) -> Result<Gateway, serenity::Error> {
    let http = match connect {
        Connect::Discord { token } => HttpBuilder::new(token),
        Connect::Http(http) => http,
    };
    let connected = Arc::new(AtomicBool::new(false));
    let deadline = desk.config().discord_timeout();
    let handler = Handler {
        bot: desk,
        manifest: Arc::new(manifest),
        connected: connected.clone(),
        channels: Arc::default(),
    };
    let client = ClientBuilder::new_with_http(http.build(), intents())
        .event_handler(handler)
        .await?;
    Ok(Gateway {
        client,
        connected,
        deadline,
    })
}

impl Gateway {
    /// Discord's REST API as the outbox's chat.
    pub fn chat(&self) -> DiscordChat {
        DiscordChat {
            http: self.client.http.clone(),
            deadline: self.deadline,
            servers: std::sync::Mutex::default(),
            pace: super::chat::Pacer::new(super::chat::DELIVERIES_PER_SECOND),
        }
    }

    /// Connects to the gateway, in the background.
    pub fn start(self) -> Connected {
        let Gateway {
            mut client,
            connected,
            ..
        } = self;
        let shards = client.shard_manager.clone();
        let client = tokio::spawn(async move {
            if let Err(e) = client.start().await {
                tracing::error!(error = %e, "the Discord client stopped");
            }
        });
        Connected {
            shards,
            client,
            connected,
        }
    }
}

impl Connected {
    /// Closes the gateway and waits for the client to end.
    pub async fn stop(self) {
        self.shards.shutdown_all().await;
        let _ = self.client.await;
    }

    /// Waits until the client stops by itself (a fatal gateway error).
    pub async fn wait(&mut self) {
        let _ = (&mut self.client).await;
    }

    /// Whether the gateway is connected, as a check that outlives `self`
    /// (for `/healthz`): the shard manager's view when it can be read now (a
    /// runner that is restarting is gone from it), and the event handler's.
    pub fn probe(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let (shards, connected) = (self.shards.clone(), self.connected.clone());
        move || Self::check(&shards, &connected)
    }

    fn check(shards: &ShardManager, connected: &AtomicBool) -> bool {
        use serenity::gateway::ConnectionStage;
        let runners_connected = match shards.runners.try_lock() {
            Ok(runners) => {
                !runners.is_empty()
                    && runners
                        .values()
                        .all(|r| matches!(r.stage, ConnectionStage::Connected))
            }
            Err(_) => true,
        };
        runners_connected && connected.load(std::sync::atomic::Ordering::SeqCst)
    }
}
