//! Starting the bot: the engine, the serenity client and the outbox worker,
//! against the real Discord or the local emulator (the caller builds the
//! HTTP client).

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder, ShardManager};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Ledger;
use crate::i18n::Messages;
use crate::outbox::Deliverer;
use crate::store::Store;
use crate::timers::Timers;

use super::bot::Bot;
use super::edge::Handler;
use super::sink::ChatSink;

/// The slash-command manifest (English and Italian), registered per server.
pub const MANIFEST: &str = include_str!("../../commands/commands.json");

/// What Ponte asks the gateway for. Message content is not requested: the
/// commands and buttons do not need it.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES
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

/// A running bot.
pub struct Running<S: Store> {
    pub bot: Bot<S>,
    /// The timers (escalations, digests, ...), also driven by hand in the
    /// sandbox.
    pub timers: Timers,
    shards: Arc<ShardManager>,
    client: JoinHandle<()>,
    outbox: JoinHandle<()>,
    timer_loop: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl<S: Store> Running<S> {
    /// Stops the gateway and the outbox worker, and waits for them. Every
    /// handle on the store is released once `self` is gone.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.shards.shutdown_all().await;
        let _ = self.client.await;
        let _ = self.outbox.await;
        let _ = self.timer_loop.await;
    }

    /// Waits until the client stops by itself (a fatal gateway error).
    pub async fn wait(&mut self) {
        let _ = (&mut self.client).await;
    }
}

/// Where the bot connects.
pub enum Connect {
    /// The real Discord, with the bot's token.
    Discord { token: String },
    /// A prepared HTTP client (the local emulator).
    Http(HttpBuilder),
}

/// Starts the bot on `store`.
pub async fn start<S: Store>(
    config: Arc<Config>,
    store: Arc<S>,
    connect: Connect,
    clock: Arc<dyn Clock>,
) -> Result<Running<S>, StartError> {
    let http = match connect {
        Connect::Discord { token } => HttpBuilder::new(token),
        Connect::Http(http) => http,
    };
    let messages = Arc::new(Messages::load()?);
    let manifest = Arc::new(serde_json::from_str(MANIFEST)?);
    let ledger = Ledger::start(store.clone(), Arc::new(config.rules()), clock.clone())?;
    let bot = Bot {
        me: Arc::new(std::sync::OnceLock::new()),
        config: config.clone(),
        ledger: ledger.clone(),
        messages: messages.clone(),
        clock: clock.clone(),
    };
    let handler = Handler {
        bot: bot.clone(),
        manifest,
    };
    let mut client = ClientBuilder::new_with_http(http.build(), intents())
        .event_handler(handler)
        .await?;
    let shards = client.shard_manager.clone();
    let sink = ChatSink {
        http: client.http.clone(),
        ledger: ledger.clone(),
        config: config.clone(),
        messages,
    };
    let (stop, stopped) = watch::channel(false);
    // Timers register here; each submits its changes through the ledger.
    let mut timers = Timers::new();
    // Daily digests: a once-only mark with its outbox entry at each
    // configured local time.
    timers.add(Arc::new(crate::digests::DigestTimer {
        store: store.clone(),
        config: config.clone(),
    }));
    let timer_loop = tokio::spawn(timers.clone().run(
        clock.clone(),
        ledger.timers_wake(),
        stopped.clone(),
        Duration::from_secs(30),
    ));
    let deliverer = Deliverer::new(store, sink, clock);
    let outbox = tokio::spawn(deliverer.run(ledger.changed(), stopped, Duration::from_secs(2)));
    let client = tokio::spawn(async move {
        if let Err(e) = client.start().await {
            tracing::error!(error = %e, "the Discord client stopped");
        }
    });
    Ok(Running {
        bot,
        timers,
        shards,
        client,
        outbox,
        timer_loop,
        stop,
    })
}
