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
    /// Whether the gateway is connected now (for `/healthz`).
    pub connected: Arc<std::sync::atomic::AtomicBool>,
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
    let connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler = Handler {
        bot: bot.clone(),
        manifest,
        connected: connected.clone(),
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
        pagers: Arc::new(crate::pager::Pagers::new(crate::pager::PagerClient::new(
            config.oncall(),
            |var| std::env::var(var).ok(),
        ))),
    };
    let (stop, stopped) = watch::channel(false);
    // Timers register here; each submits its changes through the ledger.
    let mut timers = Timers::new();
    timers.add(Arc::new(crate::escalator::Escalator::new(
        ledger.clone(),
        config.clone(),
    )));
    timers.add(Arc::new(crate::handover::Handovers {
        ledger: ledger.clone(),
        config: config.clone(),
    }));
    // Daily digests: a once-only mark with its outbox entry at each
    // configured local time.
    timers.add(Arc::new(crate::digests::DigestTimer {
        store: store.clone(),
        config: config.clone(),
    }));
    // Personal digests by DM (`/digest subscribe`): once per subscriber
    // and day, at their digest time.
    timers.add(Arc::new(crate::personal_digests::PersonalDigestTimer {
        store: store.clone(),
        config: config.clone(),
    }));
    // SLA warnings and breaches (issue 6): keyed requests to the ledger.
    timers.add(Arc::new(crate::sla_timer::SlaTimer::new(
        ledger.clone(),
        config.clone(),
    )));
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
        connected,
    })
}

// ---- Health (issue 8) ----

/// `/healthz` and `/metrics` of a running bot: the gateway flag its event
/// handler keeps, and its store.
pub struct BotProbe<S: Store> {
    pub store: Arc<S>,
    pub connected: Arc<std::sync::atomic::AtomicBool>,
    shards: Arc<ShardManager>,
}

impl<S: Store> crate::health::Probe for BotProbe<S> {
    fn gateway_connected(&self) -> bool {
        use serenity::gateway::ConnectionStage;
        // The shard manager's view when it can be read now (a runner that
        // is restarting is gone from it), and the event handler's.
        let runners_connected = match self.shards.runners.try_lock() {
            Ok(runners) => {
                !runners.is_empty()
                    && runners
                        .values()
                        .all(|r| matches!(r.stage, ConnectionStage::Connected))
            }
            Err(_) => true,
        };
        runners_connected && self.connected.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn store_writable(&self) -> Result<(), String> {
        self.store.probe_write().map_err(|e| e.to_string())
    }

    fn outbox_depth(&self) -> Result<u64, String> {
        self.store
            .outbox_len()
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn backup(&self, dir: &std::path::Path) -> Result<String, String> {
        let r = self.store.backup(dir).map_err(|e| e.to_string())?;
        Ok(format!(
            "backed up {} tasks, {} events and {} outbox entries into {}\n",
            r.tasks,
            r.events,
            r.outbox,
            dir.display()
        ))
    }
}

impl<S: Store> Running<S> {
    /// What the health server checks on this bot.
    pub fn probe(&self) -> BotProbe<S> {
        BotProbe {
            store: self.bot.ledger.store().clone(),
            connected: self.connected.clone(),
            shards: self.shards.clone(),
        }
    }
}
