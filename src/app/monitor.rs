//! Monitoring as a use case (issue 20): alerts become tasks, heartbeat
//! monitors open a task when a beat is missed. The HTTP listener
//! (`crate::inbound`), the sandbox and the tests call [`Monitoring`]; it
//! knows no HTTP.
//!
//! An alert, whatever its format, is an [`Alert`]. [`Monitoring::receive`]
//! makes each one an [`IncomingAlert`] with the integration's settings (the
//! priority from its severity mapping, the category from a label, the card
//! in the company's IT channel) and records it through the ledger's writer
//! (`engine::MonitorOp`), which deduplicates by fingerprint, folds storms
//! and resolves. Pages follow from the escalation policies, like any task's:
//! the escalation timer pages a new urgent task once, keyed, across restarts.
//!
//! [`HeartbeatTimer`] watches each monitor's last beat; a missed beat opens
//! one task per expiry (P1 unless configured), and the next beat resolves it
//! ([`Monitoring::beat`]). A monitor is inactive until its first beat, and
//! counts from Ponte's start at the earliest (no beat can arrive while Ponte
//! is down).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::app::engine::{
    AlertResult, HEARTBEAT_SOURCE, IncomingAlert, Ledger, MonitorOp, PonteError, beat_key,
};
use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::monitoring::{HeartbeatMonitor, Integration};
use crate::config::{ClientConfig, Config};
use crate::domain::monitor::{Beats, KEY_MAX, expiry};
use crate::domain::text::{DETAILS_MAX, TITLE_MAX, clip};
use crate::domain::{ClientKey, SideChoice};
use crate::store::Store;

/// One alert as a monitoring system sent it, in any format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alert {
    /// Its identity in the monitoring system: the same problem, the same
    /// fingerprint.
    pub fingerprint: String,
    /// The key a storm folds by (Alertmanager's `groupKey`).
    pub group: String,
    /// Firing (true) or resolved.
    pub firing: bool,
    pub title: String,
    /// A longer description, if any.
    pub description: Option<String>,
    pub severity: Option<String>,
    pub link: Option<String>,
    /// Labels, in the order given.
    pub labels: Vec<(String, String)>,
    /// When it started firing, as the monitoring system says.
    pub started: Option<Timestamp>,
}

/// Why monitoring's input was refused, in words for the caller.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("no client `{0}`")]
    UnknownClient(String),
    #[error("client `{client}` has no {what} `{name}`")]
    Unknown {
        client: String,
        what: &'static str,
        name: String,
    },
    #[error(transparent)]
    Ponte(#[from] PonteError),
}

/// What one alert did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub fingerprint: String,
    pub result: AlertResult,
}

/// What an adapter (the alert listener, a PSA sync) asks of monitoring,
/// without knowing the store: [`Monitoring`] implements it.
pub trait Monitor: Send + Sync + 'static {
    /// The integration `name` of `client`.
    fn integration(&self, client: &str, name: &str) -> Result<Integration, MonitorError>;
    /// The heartbeat monitor `name` of `client`.
    fn heartbeat_monitor(&self, client: &str, name: &str)
    -> Result<HeartbeatMonitor, MonitorError>;
    /// Records `alerts` of integration `name` of `client`, in order.
    fn receive<'a>(
        &'a self,
        client: &'a str,
        name: &'a str,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<Vec<Receipt>, MonitorError>>;
    /// Monitor `name` of `client` beat now.
    fn beat<'a>(
        &'a self,
        client: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<AlertResult, MonitorError>>;
}

impl<S: Store> Monitor for Monitoring<S> {
    fn integration(&self, client: &str, name: &str) -> Result<Integration, MonitorError> {
        Monitoring::integration(self, client, name).cloned()
    }

    fn heartbeat_monitor(
        &self,
        client: &str,
        name: &str,
    ) -> Result<HeartbeatMonitor, MonitorError> {
        Monitoring::monitor(self, client, name).cloned()
    }

    fn receive<'a>(
        &'a self,
        client: &'a str,
        name: &'a str,
        alerts: Vec<Alert>,
    ) -> BoxFuture<'a, Result<Vec<Receipt>, MonitorError>> {
        Box::pin(Monitoring::receive(self, client, name, alerts))
    }

    fn beat<'a>(
        &'a self,
        client: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<AlertResult, MonitorError>> {
        Box::pin(Monitoring::beat(self, client, name))
    }
}

/// Monitoring's use cases.
pub struct Monitoring<S: Store> {
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
    /// The alert tasks' details, in the client's language.
    pub messages: Arc<crate::i18n::Messages>,
}

impl<S: Store> Clone for Monitoring<S> {
    fn clone(&self) -> Self {
        Self {
            ledger: self.ledger.clone(),
            config: self.config.clone(),
            messages: self.messages.clone(),
        }
    }
}

impl<S: Store> Monitoring<S> {
    pub fn new(
        ledger: Ledger<S>,
        config: Arc<Config>,
        messages: Arc<crate::i18n::Messages>,
    ) -> Self {
        Self {
            ledger,
            config,
            messages,
        }
    }

    fn client(&self, key: &str) -> Result<&ClientConfig, MonitorError> {
        self.config
            .clients()
            .iter()
            .find(|c| c.key.as_str() == key)
            .ok_or_else(|| MonitorError::UnknownClient(key.to_owned()))
    }

    /// The integration `name` of `client`.
    pub fn integration(&self, client: &str, name: &str) -> Result<&Integration, MonitorError> {
        let config = self.client(client)?;
        config
            .integrations
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| MonitorError::Unknown {
                client: client.to_owned(),
                what: "alert integration",
                name: name.to_owned(),
            })
    }

    /// The heartbeat monitor `name` of `client`.
    pub fn monitor(&self, client: &str, name: &str) -> Result<&HeartbeatMonitor, MonitorError> {
        let config = self.client(client)?;
        config
            .heartbeats
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| MonitorError::Unknown {
                client: client.to_owned(),
                what: "heartbeat monitor",
                name: name.to_owned(),
            })
    }

    /// Records `alerts` of integration `name` of `client`, in order.
    pub async fn receive(
        &self,
        client: &str,
        name: &str,
        alerts: Vec<Alert>,
    ) -> Result<Vec<Receipt>, MonitorError> {
        let config = self.client(client)?;
        let integration = self.integration(client, name)?;
        let ops = alerts
            .iter()
            .map(|alert| MonitorOp::Alert {
                client: config.key.clone(),
                alert: incoming(&self.messages, config, integration, alert),
            })
            .collect();
        // Queued in order, answered together: one request's alerts share
        // the writer's flushes.
        let outcomes = self.ledger.monitor_many(ops).await;
        let metrics = crate::ops::metrics::global();
        let mut receipts = Vec::with_capacity(alerts.len());
        for (alert, outcome) in alerts.into_iter().zip(outcomes) {
            let outcome = outcome?;
            metrics.alert(name, outcome.result.name());
            receipts.push(Receipt {
                fingerprint: alert.fingerprint,
                result: outcome.result,
            });
        }
        Ok(receipts)
    }

    /// Monitor `name` of `client` beat now: its missed-beat task, if open,
    /// resolves.
    pub async fn beat(&self, client: &str, name: &str) -> Result<AlertResult, MonitorError> {
        let config = self.client(client)?;
        let monitor = self.monitor(client, name)?;
        let outcome = self
            .ledger
            .monitor(MonitorOp::Beat {
                client: config.key.clone(),
                monitor: monitor.name.clone(),
            })
            .await?;
        crate::ops::metrics::global().alert(HEARTBEAT_SOURCE, "beat");
        Ok(outcome.result)
    }
}

/// The card of a monitoring task goes to the company's IT channel (staff,
/// not the requesters' channel), or the requests channel without one.
fn card_channel(client: &ClientConfig) -> u64 {
    client
        .channels
        .internal_it
        .unwrap_or(client.channels.requests)
        .get()
}

/// `alert` with `integration`'s settings, ready for the writer.
pub fn incoming(
    messages: &crate::i18n::Messages,
    client: &ClientConfig,
    integration: &Integration,
    alert: &Alert,
) -> IncomingAlert {
    let category = alert
        .labels
        .iter()
        .find(|(k, _)| *k == integration.category_label)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| {
            client
                .routing
                .categories
                .iter()
                .any(|c| c.category.as_str() == v)
        });
    IncomingAlert {
        source: integration.name.clone(),
        fingerprint: alert.fingerprint.clone(),
        group: if alert.group.is_empty() {
            alert.fingerprint.clone()
        } else {
            alert.group.clone()
        },
        firing: alert.firing,
        title: clip(&alert.title, TITLE_MAX),
        details: details(messages, client.language, &integration.name, alert),
        severity: alert.severity.clone(),
        link: alert.link.clone(),
        priority: alert
            .severity
            .as_deref()
            .and_then(|s| integration.priority_of(s)),
        category,
        to: integration.to,
        channel: Some(card_channel(client)),
        storm_threshold: integration.storm_threshold,
    }
}

/// The task's details, in the client's language: the description, where it
/// came from, then the labels as the monitoring system wrote them (which
/// routing's keywords read too), then when it started.
fn details(
    messages: &crate::i18n::Messages,
    lang: crate::i18n::Lang,
    source: &str,
    alert: &Alert,
) -> String {
    use crate::domain::error::Arg;
    let line = |id: &str, name: &str, value: String| {
        let mut text = messages.text(lang, id, &[(name, Arg::Text(value))]);
        text.push('\n');
        text
    };
    let mut out = String::new();
    if let Some(d) = &alert.description {
        out.push_str(d.trim());
        out.push_str("\n\n");
    }
    out.push_str(&line("alert-details-source", "source", source.to_owned()));
    if let Some(s) = &alert.severity {
        out.push_str(&line("alert-details-severity", "severity", s.clone()));
    }
    for (k, v) in &alert.labels {
        out.push_str(&format!("{k} = {v}\n"));
    }
    if let Some(at) = alert.started {
        out.push_str(&line(
            "alert-details-started",
            "at",
            crate::app::reply::markup::time(at),
        ));
    }
    clip(&out, DETAILS_MAX)
}

/// Why an alert's field is refused: too long, or empty where required.
pub fn check_key(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{what}` is empty"));
    }
    if value.chars().count() > KEY_MAX {
        return Err(format!("`{what}` is longer than {KEY_MAX} characters"));
    }
    Ok(())
}

/// The heartbeat monitors' timer: opens a task when a beat is missed.
pub struct HeartbeatTimer<S: Store> {
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
    /// The task's title and details, in the client's language.
    pub messages: Arc<crate::i18n::Messages>,
    /// When Ponte started watching: no beat could arrive before.
    pub since: Timestamp,
}

impl<S: Store> HeartbeatTimer<S> {
    async fn run(&self, now: Timestamp) -> Result<Option<Timestamp>, TimerError> {
        let mut next: Option<Timestamp> = None;
        for client in self.config.clients() {
            for monitor in &client.heartbeats {
                let key = beat_key(&client.key, &monitor.name);
                let store = self.ledger.store().clone();
                let beats: Beats = tokio::task::spawn_blocking(move || store.lookup(&key))
                    .await
                    .map_err(|e| TimerError(format!("reading heartbeats: {e}")))?
                    .map_err(|e| TimerError(format!("reading heartbeats: {e}")))?
                    .and_then(|raw| serde_json::from_slice(&raw).ok())
                    .unwrap_or_default();
                let Some(at) = expiry(&beats, self.since, monitor.interval, monitor.grace) else {
                    continue;
                };
                let Some(last) = beats.last else { continue };
                if at > now {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    continue;
                }
                let alert = missed(&self.messages, client, monitor, last);
                self.ledger
                    .monitor(MonitorOp::Missed {
                        client: client.key.clone(),
                        monitor: monitor.name.clone(),
                        last,
                        alert,
                    })
                    .await
                    .map_err(|e| TimerError(format!("recording a missed heartbeat: {e}")))?;
                crate::ops::metrics::global().alert(HEARTBEAT_SOURCE, "missed");
            }
        }
        Ok(next)
    }
}

/// The alert of a missed beat of `monitor`, last heard at `last`.
fn missed(
    messages: &crate::i18n::Messages,
    client: &ClientConfig,
    monitor: &HeartbeatMonitor,
    last: Timestamp,
) -> IncomingAlert {
    use crate::domain::error::Arg;
    let text = |id: &str| {
        messages.text(
            client.language,
            id,
            &[
                ("name", Arg::Text(monitor.name.clone())),
                ("every", Arg::Text(format!("{:#}", monitor.interval))),
                ("grace", Arg::Text(format!("{:#}", monitor.grace))),
                ("last", Arg::Text(crate::app::reply::markup::time(last))),
            ],
        )
    };
    IncomingAlert {
        source: HEARTBEAT_SOURCE.to_owned(),
        fingerprint: monitor.name.clone(),
        group: monitor.name.clone(),
        firing: true,
        title: clip(&text("heartbeat-missed-title"), TITLE_MAX),
        details: clip(&text("heartbeat-missed-details"), DETAILS_MAX),
        severity: Some(monitor.priority.as_str().to_owned()),
        link: None,
        priority: Some(monitor.priority),
        category: monitor.category.clone(),
        to: match monitor.to {
            SideChoice::Auto => SideChoice::Auto,
            side => side,
        },
        channel: Some(card_channel(client)),
        storm_threshold: 0,
    }
}

impl<S: Store> Timer for HeartbeatTimer<S> {
    fn name(&self) -> &'static str {
        "heartbeats"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(self.run(now))
    }
}

/// Removes the alert lookups nothing reads again ([`MonitorOp::Sweep`]):
/// a batch every hour, or every minute while there is more to go through.
/// It only submits to the writer.
pub struct SweepTimer<S: Store> {
    pub ledger: Ledger<S>,
    /// When the next batch is due: the timers are all fired on every
    /// change, and a sweep must not ride on each (none yet: at once).
    pub due: std::sync::Mutex<Option<Timestamp>>,
}

impl<S: Store> SweepTimer<S> {
    pub fn new(ledger: Ledger<S>) -> Self {
        Self {
            ledger,
            due: std::sync::Mutex::new(None),
        }
    }
}

impl<S: Store> SweepTimer<S> {
    /// Between sweeps that went through every lookup.
    pub const EVERY: SignedDuration = SignedDuration::from_hours(1);
    /// Between batches of one sweep.
    pub const NEXT_BATCH: SignedDuration = SignedDuration::from_mins(1);

    async fn run(&self, now: Timestamp) -> Result<Option<Timestamp>, TimerError> {
        let due = *self.due.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(due) = due.filter(|due| now < *due) {
            return Ok(Some(due));
        }
        let outcome = self
            .ledger
            .monitor(MonitorOp::Sweep)
            .await
            .map_err(|e| TimerError(format!("sweeping alert lookups: {e}")))?;
        let wait = match outcome.result {
            AlertResult::Swept { done: false, .. } => Self::NEXT_BATCH,
            _ => Self::EVERY,
        };
        let next = now.checked_add(wait).ok();
        *self.due.lock().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(next)
    }
}

impl<S: Store> Timer for SweepTimer<S> {
    fn name(&self) -> &'static str {
        "alert lookups sweep"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(self.run(now))
    }
}

/// Whether `client` has anything monitoring sends to.
pub fn has_monitoring(client: &ClientConfig) -> bool {
    !client.integrations.is_empty() || !client.heartbeats.is_empty()
}

/// The key of `client`, for callers holding only its text.
pub fn client_key(config: &Config, key: &str) -> Option<ClientKey> {
    config
        .clients()
        .iter()
        .find(|c| c.key.as_str() == key)
        .map(|c| c.key.clone())
}
