//! The heartbeat out (issue 20): Ponte calls a configured URL every
//! `every_seconds` (a healthchecks.io check, a PagerDuty-style event, any
//! GET or POST), but only when its writer, its timers and its gateway have
//! all worked in that period. A monitoring service that expects the call
//! raises its own alarm when it stops: when the process or its machine
//! dies, and also when a loop inside it is stuck while the process lives.
//!
//! Each period the loop sends a ping through the writer's queue (a stuck
//! writer never answers it), reads whether the gateway is connected, and
//! asks [`crate::ops::liveness`] whether the timers finished a firing within
//! their window (the timer loop fires at least every 30 s; the window is
//! the larger of the period and [`TIMERS_WINDOW`]). Any part stale: no call,
//! and a warning naming the part. Each call has its deadline
//! (`timeout_seconds`), follows no redirect, and a failure is logged with
//! its cause and counted (`ponte_heartbeat_out_failed_total`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::monitoring::{HeartbeatOut, PingMethod};
use crate::ops::liveness::{Liveness, Part, stale_parts};

/// The timers' window: the timer loop fires at least every 30 s, and a
/// firing under load may take seconds.
pub const TIMERS_WINDOW: Duration = Duration::from_secs(90);

/// A ping through the writer's queue: true once the writer answered.
pub type PingWriter = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Whether the gateway is connected now.
pub type GatewayUp = Arc<dyn Fn() -> bool + Send + Sync>;

/// What one period decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Beat {
    /// Called the URL; it answered 2xx.
    Sent,
    /// Called the URL; it failed (why).
    Failed(String),
    /// Did not call: these parts have not worked in their window.
    Skipped(Vec<Part>),
}

/// The heartbeat out's loop.
pub struct HeartbeatOutLoop {
    pub settings: HeartbeatOut,
    /// The URL, resolved (from the file or the environment).
    pub url: String,
    pub liveness: Arc<Liveness>,
    pub ping_writer: PingWriter,
    pub gateway: GatewayUp,
    /// The timers' window ([`TIMERS_WINDOW`]; shorter in tests).
    pub timers_window: Duration,
    pub http: reqwest::Client,
}

impl HeartbeatOutLoop {
    /// The HTTP client the heartbeat out uses: its deadline, no redirects.
    pub fn client(settings: &HeartbeatOut) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }

    /// One period: checks the parts, calls the URL if they all worked.
    pub async fn once(&self) -> Beat {
        let every = self.settings.every;
        let deadline = self.settings.timeout.min(every);
        // The writer marks its liveness when it answers.
        let _ = tokio::time::timeout(deadline, (self.ping_writer)()).await;
        // After the writer's answer (which may take the whole deadline), so
        // that a slow writer does not make the gateway look stale.
        if (self.gateway)() {
            self.liveness.mark(Part::Gateway);
        }
        let timers_window = every.max(self.timers_window);
        let stale = stale_parts(
            &self.liveness.parts(),
            |part| match part {
                Part::Timers => timers_window,
                Part::Writer | Part::Gateway => every,
            },
            jiff::Timestamp::now(),
        );
        let metrics = crate::ops::metrics::global();
        if !stale.is_empty() {
            metrics.heartbeat_out("skipped");
            return Beat::Skipped(stale);
        }
        let request = match self.settings.method {
            PingMethod::Get => self.http.get(&self.url),
            PingMethod::Post => {
                let request = self.http.post(&self.url);
                match &self.settings.body {
                    Some(body) => request
                        .header("content-type", "application/json")
                        .body(body.clone()),
                    None => request,
                }
            }
        };
        let beat = match request.send().await {
            Ok(r) if r.status().is_success() => Beat::Sent,
            Ok(r) if r.status().is_redirection() => Beat::Failed(format!(
                "answered {} (a redirect, not followed): give the final URL",
                r.status()
            )),
            Ok(r) => Beat::Failed(format!("answered {}", r.status())),
            Err(e) if e.is_timeout() => Beat::Failed(format!(
                "no answer within {} s",
                self.settings.timeout.as_secs()
            )),
            Err(e) if e.is_connect() => Beat::Failed("cannot connect".into()),
            Err(e) => Beat::Failed(format!("request failed: {}", e.without_url())),
        };
        metrics.heartbeat_out(if beat == Beat::Sent { "sent" } else { "failed" });
        beat
    }

    /// Runs a period every `every_seconds` until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.settings.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: give the loops a period to start.
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            match self.once().await {
                Beat::Sent => tracing::debug!("heartbeat out sent"),
                Beat::Failed(why) => {
                    tracing::warn!(%why, "the heartbeat out could not reach its URL; the monitoring service will raise an alarm if this goes on");
                }
                Beat::Skipped(stale) => {
                    let names: Vec<&str> = stale.iter().map(|p| p.name()).collect();
                    tracing::error!(
                        stale = ?names,
                        "heartbeat out not sent: {} did not work in the last period (see /healthz)",
                        names.join(", ")
                    );
                }
            }
        }
    }
}
