//! Checks of `[inbound]`, `[[clients.integrations]]` and
//! `[[clients.heartbeats]]` (issue 20).

use jiff::SignedDuration;

use super::super::error::Path;
use super::super::monitoring::{
    self as m, AlertFormat, HeartbeatMonitor, HeartbeatOut, Inbound, InboundAuth, Integration,
    PingMethod, PingUrl,
};
use super::super::raw::{RawHeartbeat, RawHeartbeatOut, RawInbound, RawIntegration};
use super::Checker;
use crate::domain::{Priority, Side, SideChoice};

/// The longest heartbeat interval or grace: a week.
const BEAT_MAX_HOURS: i64 = 24 * 7;

/// Whether `name` can be a path segment of the inbound URLs.
fn url_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Checker<'_, '_, '_> {
    /// `[ponte].timers_stale_seconds` (default 300).
    pub(super) fn timers_stale(&mut self, raw: Option<i64>) -> Option<std::time::Duration> {
        let n = raw.unwrap_or(m::DEFAULT_TIMERS_STALE_SECONDS);
        if m::TIMERS_STALE_SECONDS.contains(&n) {
            return Some(std::time::Duration::from_secs(n as u64));
        }
        self.problem(
            &Path::root().key("ponte").key("timers_stale_seconds"),
            format!(
                "{n} is out of range: use {} to {} (the timers run at least every 30 s)",
                m::TIMERS_STALE_SECONDS.start(),
                m::TIMERS_STALE_SECONDS.end()
            ),
        );
        None
    }

    /// `[heartbeat_out]`, if present.
    pub(super) fn heartbeat_out(
        &mut self,
        raw: Option<RawHeartbeatOut>,
    ) -> Option<Option<HeartbeatOut>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let path = Path::root().key("heartbeat_out");
        let url = match (raw.url, raw.url_env) {
            (Some(_), Some(_)) => {
                self.problem(&path.key("url_env"), "give `url` or `url_env`, not both");
                None
            }
            (None, None) => {
                self.problem(
                    &path.key("url"),
                    "missing: the URL to call, e.g. \"https://hc-ping.com/<uuid>\", or `url_env` naming the \
                     environment variable that holds it",
                );
                None
            }
            (Some(url), None) => {
                let url = url.trim().to_owned();
                let at = path.key("url");
                let loopback = url.starts_with("http://") && super::oncall::is_loopback_url(&url);
                if url.starts_with("https://") || loopback {
                    Some(PingUrl::Url(url))
                } else if url.starts_with("http://") {
                    self.problem(
                        &at,
                        "use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)",
                    );
                    None
                } else {
                    self.problem(&at, "write the full URL, starting with https://");
                    None
                }
            }
            (None, Some(var)) => self
                .env_var(
                    Some(var),
                    &path.key("url_env"),
                    "the environment variable holding the URL",
                    "PONTE_HEARTBEAT_URL",
                )
                .map(PingUrl::Env),
        };
        let method = match raw.method.as_deref().map(str::trim) {
            None | Some("GET") | Some("get") => Some(PingMethod::Get),
            Some("POST") | Some("post") => Some(PingMethod::Post),
            Some(other) => {
                let shown: String = other.chars().take(10).collect();
                self.problem(
                    &path.key("method"),
                    format!("unknown method `{shown}`: use \"GET\" or \"POST\""),
                );
                None
            }
        };
        let every = raw
            .every_seconds
            .unwrap_or(HeartbeatOut::DEFAULT_EVERY_SECONDS);
        let every = if HeartbeatOut::EVERY_SECONDS.contains(&every) {
            Some(every)
        } else {
            self.problem(
                &path.key("every_seconds"),
                format!(
                    "{every} is out of range: use {} to {}",
                    HeartbeatOut::EVERY_SECONDS.start(),
                    HeartbeatOut::EVERY_SECONDS.end()
                ),
            );
            None
        };
        let timeout = raw
            .timeout_seconds
            .unwrap_or(HeartbeatOut::DEFAULT_TIMEOUT_SECONDS.min(every.unwrap_or(60) - 1));
        let timeout = match every {
            Some(every) if (1..=60).contains(&timeout) && timeout < every => Some(timeout),
            Some(every) => {
                self.problem(
                    &path.key("timeout_seconds"),
                    format!("{timeout} is out of range: use 1 to 60, and less than every_seconds ({every})"),
                );
                None
            }
            None => None,
        };
        let body = match (raw.body, method) {
            (Some(_), Some(PingMethod::Get)) => {
                self.problem(
                    &path.key("body"),
                    "a GET sends no body: set method = \"POST\"",
                );
                None
            }
            (Some(body), _) if serde_json::from_str::<serde_json::Value>(&body).is_err() => {
                self.problem(
                    &path.key("body"),
                    "the body must be JSON (it is sent as application/json)",
                );
                None
            }
            (body, _) => Some(body),
        };
        Some(Some(HeartbeatOut {
            url: url?,
            method: method?,
            every: std::time::Duration::from_secs(every? as u64),
            timeout: std::time::Duration::from_secs(timeout? as u64),
            body: body?,
        }))
    }

    /// `[inbound]`, if present.
    pub(super) fn inbound(&mut self, raw: Option<RawInbound>) -> Option<Option<Inbound>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let path = Path::root().key("inbound");
        let addr_path = path.key("addr");
        let addr = self
            .required(
                raw.addr,
                &addr_path,
                "the address and port monitoring systems send alerts and beats to, e.g. \"0.0.0.0:9465\"",
            )
            .and_then(|raw| match raw.trim().parse::<std::net::SocketAddr>() {
                Ok(addr) if addr.port() != 0 => Some(addr),
                Ok(_) => {
                    self.problem(&addr_path, "the port is 0: give a fixed port, e.g. \"0.0.0.0:9465\"");
                    None
                }
                Err(_) => {
                    let shown: String = raw.chars().take(40).collect();
                    self.problem(
                        &addr_path,
                        format!("`{shown}` is not an address and port: write e.g. \"0.0.0.0:9465\""),
                    );
                    None
                }
            });
        let max_body_kb = match raw.max_body_kb {
            None => Some(Inbound::DEFAULT_MAX_BODY_KB),
            Some(n) if Inbound::MAX_BODY_KB.contains(&n) => Some(n as usize),
            Some(n) => {
                self.problem(
                    &path.key("max_body_kb"),
                    format!(
                        "{n} is out of range: use {} to {} (KiB)",
                        Inbound::MAX_BODY_KB.start(),
                        Inbound::MAX_BODY_KB.end()
                    ),
                );
                None
            }
        };
        Some(Some(Inbound {
            addr: addr?,
            max_body_bytes: max_body_kb? * 1024,
        }))
    }

    fn url_name(
        &mut self,
        raw: Option<String>,
        path: &Path,
        what: &str,
        taken: &mut Vec<String>,
    ) -> Option<String> {
        let name = self.required(raw, path, what)?;
        let name = name.trim().to_owned();
        if !url_name(&name) {
            let shown: String = name.chars().take(40).collect();
            self.problem(
                path,
                format!("`{shown}` cannot be part of a URL: use 1 to 40 lowercase letters, digits, - or _"),
            );
            return None;
        }
        if taken.contains(&name) {
            self.problem(
                path,
                format!("`{name}` is already used by this client: names must differ"),
            );
            return None;
        }
        taken.push(name.clone());
        Some(name)
    }

    fn auth(&mut self, raw: Option<String>, path: &Path) -> Option<InboundAuth> {
        match raw.as_deref().map(str::trim) {
            None | Some("bearer") => Some(InboundAuth::Bearer),
            Some("hmac") => Some(InboundAuth::Hmac),
            Some(other) => {
                let shown: String = other.chars().take(20).collect();
                self.problem(
                    path,
                    format!(
                        "unknown authentication `{shown}`: use \"bearer\" (Authorization: Bearer <secret>) \
                         or \"hmac\" (X-Ponte-Signature over the body)"
                    ),
                );
                None
            }
        }
    }

    fn secret_env(&mut self, raw: Option<String>, path: &Path) -> Option<String> {
        self.env_var(
            raw,
            path,
            "the environment variable holding the secret callers must show, e.g. \"PONTE_ACME_ALERTS_SECRET\"",
            "PONTE_ACME_ALERTS_SECRET",
        )
    }

    fn side_choice(&mut self, raw: Option<String>, path: &Path) -> Option<SideChoice> {
        match raw.as_deref().map(str::trim) {
            None | Some("auto") => Some(SideChoice::Auto),
            Some("internal") => Some(SideChoice::To(Side::Internal)),
            Some("msp") => Some(SideChoice::To(Side::Msp)),
            Some(other) => {
                let shown: String = other.chars().take(20).collect();
                self.problem(
                    path,
                    format!(
                        "unknown side `{shown}`: use \"auto\" (the routing rules decide), \"internal\" or \"msp\""
                    ),
                );
                None
            }
        }
    }

    fn count(
        &mut self,
        raw: Option<i64>,
        path: &Path,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<u32> {
        match raw {
            None => Some(default),
            Some(n) => match u32::try_from(n) {
                Ok(n) if range.contains(&n) => Some(n),
                _ => {
                    self.problem(
                        path,
                        format!(
                            "{n} is out of range: use {} to {}",
                            range.start(),
                            range.end()
                        ),
                    );
                    None
                }
            },
        }
    }

    /// A client's alert integrations.
    pub(super) fn integrations(
        &mut self,
        raws: Vec<RawIntegration>,
        path: &Path,
        categories: &[String],
    ) -> Option<Vec<Integration>> {
        let mut taken = Vec::new();
        let mut out = Some(Vec::new());
        for (i, raw) in raws.into_iter().enumerate() {
            let path = path.index(i);
            let one = self.integration(raw, &path, &mut taken, categories);
            match (one, out.as_mut()) {
                (Some(one), Some(out)) => out.push(one),
                _ => out = None,
            }
        }
        out
    }

    fn integration(
        &mut self,
        raw: RawIntegration,
        path: &Path,
        taken: &mut Vec<String>,
        _categories: &[String],
    ) -> Option<Integration> {
        let name = self.url_name(
            raw.name,
            &path.key("name"),
            "the integration's name, part of its URL, e.g. \"prometheus\"",
            taken,
        );
        let name = match name {
            Some(n) if n == crate::domain::monitor::HEARTBEAT_SOURCE => {
                self.problem(
                    &path.key("name"),
                    format!(
                        "`{n}` is the name Ponte gives the heartbeat monitors' alerts: name the \
                         integration after its system, e.g. \"uptime-kuma\""
                    ),
                );
                None
            }
            other => other,
        };
        let format_path = path.key("format");
        let format = match self
            .required(raw.format, &format_path, "\"alertmanager\" (Prometheus Alertmanager's webhook) or \"generic\" (Ponte's JSON)")
            .as_deref()
            .map(str::trim)
        {
            Some("alertmanager") => Some(AlertFormat::Alertmanager),
            Some("generic") => Some(AlertFormat::Generic),
            Some(other) => {
                let shown: String = other.chars().take(20).collect();
                self.problem(
                    &format_path,
                    format!("unknown format `{shown}`: use \"alertmanager\" or \"generic\""),
                );
                None
            }
            None => None,
        };
        let auth = self.auth(raw.auth, &path.key("auth"));
        let secret_env = self.secret_env(raw.secret_env, &path.key("secret_env"));
        let rate = self.count(
            raw.rate_per_minute,
            &path.key("rate_per_minute"),
            Integration::DEFAULT_RATE_PER_MINUTE,
            1..=60_000,
        );
        let storm = self.count(
            raw.storm_threshold,
            &path.key("storm_threshold"),
            Integration::DEFAULT_STORM_THRESHOLD,
            0..=10_000,
        );
        let mut severity: Vec<(String, Priority)> = Integration::DEFAULT_SEVERITY
            .iter()
            .map(|(s, p)| ((*s).to_owned(), *p))
            .collect();
        let mut severity_ok = true;
        for (name, priority) in raw.severity.unwrap_or_default() {
            let at = path.key("severity").key(&name);
            match priority.trim().parse::<Priority>() {
                Ok(p) => {
                    let name = name.trim().to_lowercase();
                    severity.retain(|(s, _)| *s != name);
                    severity.push((name, p));
                }
                Err(e) => {
                    self.problem(&at, e.to_string());
                    severity_ok = false;
                }
            }
        }
        let category_label = match raw.category_label {
            None => Some("category".to_owned()),
            Some(l) if !l.trim().is_empty() && l.len() <= 100 => Some(l.trim().to_owned()),
            Some(_) => {
                self.problem(
                    &path.key("category_label"),
                    "give a label name of 1 to 100 characters, e.g. \"category\"",
                );
                None
            }
        };
        let to = self.side_choice(raw.to, &path.key("to"));
        Some(Integration {
            name: name?,
            format: format?,
            auth: auth?,
            secret_env: secret_env?,
            rate_per_minute: rate?,
            storm_threshold: storm?,
            severity: severity_ok.then_some(severity)?,
            category_label: category_label?,
            to: to?,
        })
    }

    /// A client's heartbeat monitors.
    pub(super) fn heartbeats(
        &mut self,
        raws: Vec<RawHeartbeat>,
        path: &Path,
        categories: &[String],
    ) -> Option<Vec<HeartbeatMonitor>> {
        let mut taken = Vec::new();
        let mut out = Some(Vec::new());
        for (i, raw) in raws.into_iter().enumerate() {
            let path = path.index(i);
            let one = self.heartbeat(raw, &path, &mut taken, categories);
            match (one, out.as_mut()) {
                (Some(one), Some(out)) => out.push(one),
                _ => out = None,
            }
        }
        out
    }

    fn beat_duration(
        &mut self,
        raw: Option<String>,
        path: &Path,
        what: &str,
    ) -> Option<SignedDuration> {
        let text = self.required(raw, path, what)?;
        let shown: String = text.chars().take(20).collect();
        match text.trim().parse::<SignedDuration>() {
            Ok(d)
                if d >= SignedDuration::from_secs(10)
                    && d <= SignedDuration::from_hours(BEAT_MAX_HOURS) =>
            {
                Some(d)
            }
            Ok(_) => {
                self.problem(
                    path,
                    format!("`{shown}` is out of range: use 10s to {BEAT_MAX_HOURS}h"),
                );
                None
            }
            Err(_) => {
                self.problem(
                    path,
                    format!("`{shown}` is not a duration: write e.g. \"5m\", \"1h\" or \"90s\""),
                );
                None
            }
        }
    }

    fn heartbeat(
        &mut self,
        raw: RawHeartbeat,
        path: &Path,
        taken: &mut Vec<String>,
        categories: &[String],
    ) -> Option<HeartbeatMonitor> {
        let name = self.url_name(
            raw.name,
            &path.key("name"),
            "the monitor's name, part of its URL, e.g. \"nightly-backup\"",
            taken,
        );
        let interval = self.beat_duration(
            raw.interval,
            &path.key("interval"),
            "how often the system beats, e.g. \"5m\"",
        );
        let grace = match raw.grace {
            None => Some(SignedDuration::from_mins(1)),
            some => self.beat_duration(
                some,
                &path.key("grace"),
                "how late a beat may be, e.g. \"2m\"",
            ),
        };
        let priority = self.priority(raw.priority, &path.key("priority"), Some(Priority::P1));
        let auth = self.auth(raw.auth, &path.key("auth"));
        let secret_env = self.secret_env(raw.secret_env, &path.key("secret_env"));
        let category = match raw.category.map(|c| c.trim().to_owned()) {
            None => Some(None),
            Some(c) if categories.contains(&c) => Some(Some(c)),
            Some(c) => {
                let shown: String = c.chars().take(40).collect();
                let known = categories
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.problem(
                    &path.key("category"),
                    format!(
                        "`{shown}` is not a category: use one of the [[categories]] names ({known})"
                    ),
                );
                None
            }
        };
        let to = self.side_choice(raw.to, &path.key("to"));
        Some(HeartbeatMonitor {
            name: name?,
            interval: interval?,
            grace: grace?,
            priority: priority?,
            auth: auth?,
            secret_env: secret_env?,
            category: category?,
            to: to?,
        })
    }
}
