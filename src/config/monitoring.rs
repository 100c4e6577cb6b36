//! Monitoring's settings (issue 20): the listener for alerts and beats
//! (`[inbound]`), each client's alert integrations
//! (`[[clients.integrations]]`) and heartbeat monitors
//! (`[[clients.heartbeats]]`). Secrets are named here by their environment
//! variable, never written.

use jiff::SignedDuration;

use crate::domain::{Priority, SideChoice};

/// `[inbound]`: where monitoring systems reach Ponte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The listener (`host:port`).
    pub addr: std::net::SocketAddr,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
}

impl Inbound {
    /// The default of `[inbound].max_body_kb`.
    pub const DEFAULT_MAX_BODY_KB: usize = 1024;
    /// The allowed values of `[inbound].max_body_kb`.
    pub const MAX_BODY_KB: std::ops::RangeInclusive<i64> = 1..=16 * 1024;
}

/// The payload an integration sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertFormat {
    /// Prometheus Alertmanager's webhook, version 4.
    Alertmanager,
    /// Ponte's generic JSON: one alert or a list of them.
    Generic,
}

impl AlertFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertFormat::Alertmanager => "alertmanager",
            AlertFormat::Generic => "generic",
        }
    }
}

/// How a caller proves it holds the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundAuth {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `X-Ponte-Timestamp` and `X-Ponte-Signature: sha256=<hex HMAC-SHA256
    /// of "{timestamp}.{body}">`, as Ponte's own webhook pager signs.
    Hmac,
}

impl InboundAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundAuth::Bearer => "bearer",
            InboundAuth::Hmac => "hmac",
        }
    }
}

/// One alert integration of a client: `POST /clients/{client}/alerts/{name}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integration {
    pub name: String,
    pub format: AlertFormat,
    pub auth: InboundAuth,
    /// The environment variable holding the secret.
    pub secret_env: String,
    /// Requests accepted per minute; more are answered 429.
    pub rate_per_minute: u32,
    /// New alerts of one group beyond this many in a minute fold into one
    /// task (0: never).
    pub storm_threshold: u32,
    /// Severity (lowercase) to priority; a severity not listed takes the
    /// routing's priority (the category's, or the client's default).
    pub severity: Vec<(String, Priority)>,
    /// The label naming the category (`category`).
    pub category_label: String,
    /// Which side handles the alerts (default: the routing rules decide).
    pub to: SideChoice,
}

impl Integration {
    pub const DEFAULT_RATE_PER_MINUTE: u32 = 600;
    pub const DEFAULT_STORM_THRESHOLD: u32 = 5;
    /// The severity names most monitoring systems use.
    pub const DEFAULT_SEVERITY: [(&'static str, Priority); 12] = [
        ("critical", Priority::P1),
        ("page", Priority::P1),
        ("emergency", Priority::P1),
        ("high", Priority::P2),
        ("error", Priority::P2),
        ("major", Priority::P2),
        ("warning", Priority::P3),
        ("warn", Priority::P3),
        ("minor", Priority::P3),
        ("info", Priority::P4),
        ("low", Priority::P4),
        ("none", Priority::P4),
    ];

    /// The priority of `severity`, if the mapping names it.
    pub fn priority_of(&self, severity: &str) -> Option<Priority> {
        let severity = severity.trim().to_lowercase();
        self.severity
            .iter()
            .find(|(name, _)| *name == severity)
            .map(|(_, p)| *p)
    }
}

/// One heartbeat monitor of a client: `POST /clients/{client}/heartbeat/{name}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatMonitor {
    pub name: String,
    /// How often the system beats.
    pub interval: SignedDuration,
    /// How late a beat may be before it counts as missed.
    pub grace: SignedDuration,
    /// The priority of the task a missed beat opens (default P1).
    pub priority: Priority,
    pub auth: InboundAuth,
    pub secret_env: String,
    /// The category of the task, when it should not be found from its text.
    pub category: Option<String>,
    pub to: SideChoice,
}

/// How the heartbeat out calls its URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingMethod {
    Get,
    Post,
}

/// Where the heartbeat out's URL comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PingUrl {
    /// Written in the file (no secret in it).
    Url(String),
    /// In this environment variable (a healthchecks.io-style URL is itself
    /// the secret); read when Ponte starts.
    Env(String),
}

/// `[heartbeat_out]`: Ponte calls `url` every `every` while its writer, its
/// timers and its gateway all work (see `ops::heartbeat_out`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatOut {
    pub url: PingUrl,
    pub method: PingMethod,
    pub every: std::time::Duration,
    pub timeout: std::time::Duration,
    /// Sent with POST as `application/json` (a PagerDuty-style event).
    pub body: Option<String>,
}

impl HeartbeatOut {
    pub const DEFAULT_EVERY_SECONDS: i64 = 60;
    pub const EVERY_SECONDS: std::ops::RangeInclusive<i64> = 10..=3600;
    pub const DEFAULT_TIMEOUT_SECONDS: i64 = 10;
}

/// `[ponte].timers_stale_seconds`: its default and range.
pub const DEFAULT_TIMERS_STALE_SECONDS: i64 = 300;
pub const TIMERS_STALE_SECONDS: std::ops::RangeInclusive<i64> = 60..=3600;
