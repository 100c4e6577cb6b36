//! The composition root: a running Ponte is the app (the ledger's writer,
//! the desk, the timers and the outbox worker), the Discord adapter and the
//! pagers, put together here, against the real Discord or the local
//! emulator (the caller builds the HTTP client). This is the one place that
//! knows every layer.
//!
//! [`BotProbe`] answers the health server (`crate::ops::health::Probe`): the gateway
//! flag, a store write and flush, the outbox depth, and backups for `POST /backup`.
//! The timers registered here are the escalator, the SLA timer, the side and personal
//! digests and the handovers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::clock::Clock;
use crate::app::deliver::ChatSink;
use crate::app::desk::Bot;
use crate::app::engine::Ledger;
use crate::app::outbox::Deliverer;
use crate::app::timers::Timers;
use crate::config::Config;
use crate::discord::run::{Connected, MANIFEST};
use crate::i18n::Messages;
use crate::store::Store;

pub use crate::discord::run::{Connect, StartError};

/// A running bot.
pub struct Running<S: Store> {
    /// The app's desk (and through it the ledger).
    pub bot: Bot<S>,
    /// The timers (escalations, digests, ...), also driven by hand in the
    /// sandbox.
    pub timers: Timers,
    gateway: Connected,
    /// Discord's REST API, for `ponte doctor`'s check at start.
    http: Arc<serenity::all::Http>,
    outbox: JoinHandle<()>,
    timer_loop: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl<S: Store> Running<S> {
    /// Checks in the background what Discord would refuse (the checks of
    /// `ponte doctor`) and logs each problem with its fix.
    pub fn check_discord(&self) {
        let http = self.http.clone();
        let config = self.bot.config.clone();
        tokio::spawn(async move {
            let manifest = serde_json::from_str(MANIFEST).unwrap_or_default();
            let report = crate::discord::doctor::check(&http, &config, &manifest).await;
            for p in &report.problems {
                tracing::error!(problem = %p.what, fix = %p.fix, "Discord would refuse this (ponte doctor)");
            }
            if report.problems.is_empty() {
                tracing::info!("ponte doctor: Discord should accept everything Ponte does");
            }
        });
    }

    /// Stops the gateway and the outbox worker, and waits for them. Every
    /// handle on the store is released once `self` is gone.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.gateway.stop().await;
        let _ = self.outbox.await;
        let _ = self.timer_loop.await;
    }

    /// Waits until the client stops by itself (a fatal gateway error).
    pub async fn wait(&mut self) {
        self.gateway.wait().await;
    }
}

/// The timers of a running Ponte, each submitting its changes through the
/// ledger (or recording once-only marks in the store).
fn timers<S: Store>(
    ledger: &Ledger<S>,
    store: &Arc<S>,
    config: &Arc<Config>,
    messages: &Arc<Messages>,
    started: jiff::Timestamp,
) -> Timers {
    let mut timers = Timers::new();
    timers.add(Arc::new(crate::app::escalator::Escalator::new(
        ledger.clone(),
        config.clone(),
    )));
    timers.add(Arc::new(crate::app::handover::Handovers {
        ledger: ledger.clone(),
        config: config.clone(),
    }));
    // Daily digests: a once-only mark with its outbox entry at each
    // configured local time.
    timers.add(Arc::new(crate::app::digests::DigestTimer {
        store: store.clone(),
        config: config.clone(),
    }));
    // Personal digests by DM (`/digest subscribe`): once per subscriber
    // and day, at their digest time.
    timers.add(Arc::new(
        crate::app::personal_digests::PersonalDigestTimer {
            store: store.clone(),
            config: config.clone(),
        },
    ));
    // SLA warnings and breaches: keyed requests to the ledger.
    timers.add(Arc::new(crate::app::sla_timer::SlaTimer::new(
        ledger.clone(),
        config.clone(),
    )));
    // Heartbeat monitors (issue 20): a missed beat opens its task once.
    if config
        .clients()
        .iter()
        .any(crate::app::monitor::has_monitoring)
    {
        timers.add(Arc::new(crate::app::monitor::HeartbeatTimer {
            ledger: ledger.clone(),
            config: config.clone(),
            messages: messages.clone(),
            since: started,
        }));
        timers.add(Arc::new(crate::app::monitor::SweepTimer::new(
            ledger.clone(),
        )));
    }
    timers
}

/// Starts the bot on `store`.
pub async fn start<S: Store>(
    config: Arc<Config>,
    store: Arc<S>,
    connect: Connect,
    clock: Arc<dyn Clock>,
) -> Result<Running<S>, StartError> {
    start_wrapped(config, store, connect, clock, |bot| bot).await
}

/// [`start`], with the desk the chat talks to wrapped by `wrap` (the
/// sandbox's slow answers, which force every deferral path).
pub async fn start_wrapped<S: Store, D: crate::app::desk::Desk>(
    config: Arc<Config>,
    store: Arc<S>,
    connect: Connect,
    clock: Arc<dyn Clock>,
    wrap: impl FnOnce(Bot<S>) -> D,
) -> Result<Running<S>, StartError> {
    let messages = Arc::new(Messages::load()?);
    let manifest = serde_json::from_str(MANIFEST)?;
    let ledger = Ledger::start(store.clone(), Arc::new(config.rules()), clock.clone())?;
    let bot = Bot {
        me: Arc::new(std::sync::OnceLock::new()),
        config: config.clone(),
        ledger: ledger.clone(),
        messages: messages.clone(),
        clock: clock.clone(),
    };
    let gateway = crate::discord::run::connect(wrap(bot.clone()), connect, manifest).await?;
    let chat_http = gateway.chat().http;
    let sink = ChatSink {
        chat: gateway.chat(),
        ledger: ledger.clone(),
        config: config.clone(),
        messages: messages.clone(),
        pagers: Arc::new(crate::notify::pager::Pagers::new(
            crate::notify::pager::PagerClient::new(config.oncall(), |var| std::env::var(var).ok()),
        )),
    };
    let (stop, stopped) = watch::channel(false);
    let timers =
        timers(&ledger, &store, &config, &messages, clock.now()).with_liveness(ledger.liveness());
    let timer_loop = tokio::spawn(timers.clone().run(
        clock.clone(),
        ledger.timers_wake(),
        stopped.clone(),
        Duration::from_secs(30),
    ));
    let deliverer = Deliverer::new(store, sink, clock);
    let outbox = tokio::spawn(deliverer.run(ledger.changed(), stopped, Duration::from_secs(2)));
    let http = chat_http;
    let gateway = gateway.start();
    Ok(Running {
        bot,
        timers,
        gateway,
        http,
        outbox,
        timer_loop,
        stop,
    })
}

/// A ping through `ledger`'s writer, for `/healthz` and the heartbeat out.
fn ping_writer<S: Store>(ledger: Ledger<S>) -> crate::ops::heartbeat_out::PingWriter {
    Arc::new(move || {
        let ledger = ledger.clone();
        Box::pin(async move { ledger.ping().await })
    })
}

/// `/healthz` and `/metrics` of a running bot: its gateway and its store.
pub struct BotProbe<S: Store> {
    pub store: Arc<S>,
    /// The writer, for a ping, and when each loop last worked.
    ledger: Ledger<S>,
    timers_stale: Duration,
    /// The configured clients, for open tasks by client.
    clients: Vec<crate::domain::ClientKey>,
    connected: Box<dyn Fn() -> bool + Send + Sync>,
}

impl<S: Store> crate::ops::health::Probe for BotProbe<S> {
    fn gateway_connected(&self) -> bool {
        (self.connected)()
    }

    fn liveness(&self) -> Option<crate::ops::health::LivenessCheck> {
        let ledger = self.ledger.clone();
        Some(crate::ops::health::LivenessCheck {
            liveness: self.ledger.liveness(),
            ping_writer: ping_writer(ledger),
            timers_stale: self.timers_stale,
        })
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

    fn dead_letters(&self) -> Result<u64, String> {
        self.store
            .dead_count()
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn figures(&self) -> Result<crate::ops::health::Figures, String> {
        let store: &dyn Store = self.store.as_ref();
        let mut open_tasks = Vec::new();
        for client in &self.clients {
            let mut by_side = std::collections::BTreeMap::<&'static str, u64>::new();
            crate::store::Pages::open(client, crate::store::PAGE)
                .for_each(store, |page| {
                    for task in page {
                        *by_side.entry(task.handling_side.as_str()).or_default() += 1;
                    }
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
            for side in [crate::domain::Side::Internal, crate::domain::Side::Msp] {
                let n = by_side.get(side.as_str()).copied().unwrap_or(0);
                open_tasks.push((client.to_string(), side.as_str().to_owned(), n));
            }
        }
        let now = jiff::Timestamp::now();
        let first = store
            .outbox_due(jiff::Timestamp::MAX, 1)
            .map_err(|e| e.to_string())?;
        let outbox_first_due_seconds = first
            .first()
            .map(|entry| now.duration_since(entry.not_before).as_secs_f64().max(0.0));
        Ok(crate::ops::health::Figures {
            open_tasks,
            outbox_first_due_seconds,
        })
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
    /// The heartbeat out of this bot (`[heartbeat_out]`), with its URL
    /// resolved; `None` when not configured. An unset `url_env` is an error.
    pub fn heartbeat_out(
        &self,
    ) -> Result<Option<crate::ops::heartbeat_out::HeartbeatOutLoop>, String> {
        use crate::config::monitoring::PingUrl;
        let Some(settings) = self.bot.config.heartbeat_out() else {
            return Ok(None);
        };
        let url = match &settings.url {
            PingUrl::Url(url) => url.clone(),
            PingUrl::Env(var) => {
                let url = std::env::var(var)
                    .ok()
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        format!(
                            "[heartbeat_out] url_env names {var}, which is not set: no heartbeat goes out \
                             (the monitoring service will say Ponte is down)"
                        )
                    })?;
                // The URL is the secret of a healthchecks-style check.
                crate::ops::redact::register(&url);
                url
            }
        };
        let ledger = self.bot.ledger.clone();
        let probe = self.gateway.probe();
        Ok(Some(crate::ops::heartbeat_out::HeartbeatOutLoop {
            http: crate::ops::heartbeat_out::HeartbeatOutLoop::client(settings),
            settings: settings.clone(),
            url,
            liveness: self.bot.ledger.liveness(),
            ping_writer: ping_writer(ledger),
            gateway: Arc::new(probe),
            timers_window: crate::ops::heartbeat_out::TIMERS_WINDOW,
        }))
    }

    /// Monitoring's use cases on this bot's ledger (for the alert listener).
    pub fn monitoring(&self) -> crate::app::monitor::Monitoring<S> {
        crate::app::monitor::Monitoring::new(
            self.bot.ledger.clone(),
            self.bot.config.clone(),
            self.bot.messages.clone(),
        )
    }

    /// What the health server checks on this bot.
    pub fn probe(&self) -> BotProbe<S> {
        BotProbe {
            store: self.bot.ledger.store().clone(),
            ledger: self.bot.ledger.clone(),
            timers_stale: self.bot.config.timers_stale(),
            clients: self
                .bot
                .config
                .clients()
                .iter()
                .map(|c| c.key.clone())
                .collect(),
            connected: Box::new(self.gateway.probe()),
        }
    }
}
