//! Outside pagers (issue 5): PagerDuty's Events API v2 and a generic JSON
//! webhook signed with HMAC-SHA256, through reqwest (rustls).
//!
//! **PagerDuty.** `POST {url}` (normally
//! `https://events.pagerduty.com/v2/enqueue`) with
//! `{"routing_key", "event_action": "trigger"|"acknowledge"|"resolve",
//! "dedup_key": "<task id>", "payload": {"summary", "source", "severity",
//! "custom_details"}}` (the payload only on `trigger`). The task id is the
//! dedup key, so PagerDuty folds repeated triggers of one task into one
//! incident.
//!
//! **Signed webhook.** `POST {url}` with a JSON body
//! `{"event": "page", "key", "task", "priority", "title", "late", "target"}`
//! and the headers
//! - `X-Ponte-Timestamp`: the Unix time of the request, in seconds;
//! - `X-Ponte-Signature`: `sha256=` and the lowercase hex HMAC-SHA256, keyed
//!   with the secret, of `"{timestamp}.{body}"` (the exact bytes sent);
//! - `Idempotency-Key`: the page's key (`page:ACME-42@1:r0:s2`): the same
//!   page may arrive twice after a failure, never with another key.
//!
//! When the task is acknowledged (or claimed) and when it is resolved
//! (or closed, cancelled), the webhook gets `{"event": "acknowledge"|
//! "resolve", "key", "task", "target"}`, signed the same way, with the
//! update's key (`pager-acknowledge:ACME-42:hook:4`) as `Idempotency-Key`.
//!
//! A receiver recomputes the signature over the timestamp and the raw body,
//! compares in constant time, and refuses timestamps older than a few
//! minutes (replays).
//!
//! Secrets (the routing key, the webhook secret) are read from the
//! environment variables the configuration names, and never logged: their
//! `Debug` is redacted and errors never include them.
//!
//! [`PagerClient`] reads the secrets from the environment, as [`Secret`]s (registered
//! with `crate::ops::redact` when created). [`Pagers::deliver`] sends a page and, after
//! the pager's `max_attempts` failures (or at once when it cannot work: unknown, no
//! secret), answers [`Delivered::Fallback`]: the caller pages the client's MSP channel
//! with a warning. [`Pagers::update`] sends the acknowledge and resolve updates
//! (`Effect::PagerUpdate`, from `domain::pager_sync`). The failure counts live in
//! memory: after a restart a failing pager gets up to `max_attempts` more tries.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use ring::hmac;
use serde_json::{Value, json};

use crate::config::oncall::{OnCallConfig, PagerConfig, PagerKind};

/// A secret read from the environment; never shown.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A secret, registered with [`crate::ops::redact`] so that it is cut out
    /// of anything written to standard error.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::ops::redact::register(&value);
        Self(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A PagerDuty event action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl PdAction {
    fn as_str(self) -> &'static str {
        match self {
            PdAction::Trigger => "trigger",
            PdAction::Acknowledge => "acknowledge",
            PdAction::Resolve => "resolve",
        }
    }
}

/// What a pager is told about a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsidePage {
    /// The page's idempotency key.
    pub key: String,
    /// The task id (PagerDuty's dedup key).
    pub task: String,
    pub priority: String,
    pub title: String,
    pub late: bool,
}

/// The body of a PagerDuty Events API v2 request.
pub fn pagerduty_body(routing_key: &Secret, action: PdAction, page: &OutsidePage) -> Value {
    let mut body = json!({
        "routing_key": routing_key.expose(),
        "event_action": action.as_str(),
        "dedup_key": page.task,
    });
    if action == PdAction::Trigger {
        let severity = match page.priority.as_str() {
            "P1" => "critical",
            "P2" => "error",
            "P3" => "warning",
            _ => "info",
        };
        body["payload"] = json!({
            "summary": format!("{} ({}): {}", page.task, page.priority, page.title),
            "source": "ponte",
            "severity": severity,
            "custom_details": {
                "task": page.task,
                "page_key": page.key,
                "late": page.late,
            },
        });
    }
    body
}

/// The body of a signed-webhook request.
pub fn webhook_body(page: &OutsidePage, pager: &str) -> Value {
    json!({
        "event": "page",
        "key": page.key,
        "task": page.task,
        "priority": page.priority,
        "title": page.title,
        "late": page.late,
        "target": pager,
    })
}

/// `sha256=<hex>`: the HMAC-SHA256 of `"{timestamp}.{body}"` keyed with
/// `secret`.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Whether `signature` is right for this timestamp and body (constant time).
pub fn verify(secret: &Secret, timestamp: i64, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    hmac::verify(&key, &message, &tag).is_ok()
}

/// Why a page did not reach a pager. Never includes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagerError {
    #[error("pager `{0}` is not configured")]
    Unknown(String),
    #[error("pager `{pager}`: the environment variable {var} is not set")]
    MissingSecret { pager: String, var: String },
    #[error("pager `{pager}`: {reason}")]
    Failed { pager: String, reason: String },
    /// The pager answered a 4xx (or a redirect, which is not followed):
    /// the same request would be refused again.
    #[error("pager `{pager}`: {reason}")]
    Refused { pager: String, reason: String },
}

/// Sends pages to the configured pagers.
#[derive(Clone)]
pub struct PagerClient {
    http: reqwest::Client,
    pagers: Vec<PagerConfig>,
    secrets: HashMap<String, Secret>,
}

impl fmt::Debug for PagerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagerClient")
            .field("pagers", &self.pagers)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PagerClient {
    /// A client for the configured pagers, with their secrets from the
    /// environment (`lookup` reads a variable: `std::env::var` in
    /// production).
    pub fn new(oncall: &OnCallConfig, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut secrets = HashMap::new();
        for p in &oncall.pagers {
            let var = match &p.kind {
                PagerKind::PagerDuty { routing_key_env } => routing_key_env,
                PagerKind::Webhook { secret_env } => secret_env,
            };
            if let Some(value) = lookup(var).filter(|v| !v.is_empty()) {
                secrets.insert(p.name.clone(), Secret::new(value));
            }
        }
        // Never follow a redirect: it would carry the routing key, the body,
        // its signature and the idempotency key to another address. Each
        // request has its pager's timeout (`post`).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            http,
            pagers: oncall.pagers.clone(),
            secrets,
        }
    }

    pub fn pager(&self, name: &str) -> Option<&PagerConfig> {
        self.pagers.iter().find(|p| p.name == name)
    }

    /// Sends one page to the pager `name` at `now`.
    pub async fn send(
        &self,
        name: &str,
        page: &OutsidePage,
        now: Timestamp,
    ) -> Result<(), PagerError> {
        let (pager, secret) = self.pager_and_secret(name)?;
        let request = match &pager.kind {
            PagerKind::PagerDuty { .. } => {
                let body = pagerduty_body(secret, PdAction::Trigger, page);
                self.http.post(&pager.url).json(&body)
            }
            PagerKind::Webhook { .. } => self.signed(
                pager,
                secret,
                &page.key,
                &webhook_body(page, &pager.name),
                now,
            )?,
        };
        post(pager, request).await
    }

    /// Tells pager `name` that task `task` was acknowledged or resolved:
    /// PagerDuty gets `acknowledge`/`resolve` with the task id as dedup key;
    /// a signed webhook gets `{"event": "acknowledge"|"resolve", "key",
    /// "task", "target"}` with the update's `key` as `Idempotency-Key`,
    /// signed like a page with the Unix time `now`.
    pub async fn update(
        &self,
        name: &str,
        key: &str,
        task: &str,
        action: crate::domain::pager_sync::PagerAction,
        now: Timestamp,
    ) -> Result<(), PagerError> {
        let (pager, secret) = self.pager_and_secret(name)?;
        let request = match &pager.kind {
            PagerKind::PagerDuty { .. } => {
                let action = match action {
                    crate::domain::pager_sync::PagerAction::Acknowledge => PdAction::Acknowledge,
                    crate::domain::pager_sync::PagerAction::Resolve => PdAction::Resolve,
                };
                let page = OutsidePage {
                    key: String::new(),
                    task: task.to_owned(),
                    priority: String::new(),
                    title: String::new(),
                    late: false,
                };
                let body = pagerduty_body(secret, action, &page);
                self.http.post(&pager.url).json(&body)
            }
            PagerKind::Webhook { .. } => {
                let body = webhook_update_body(key, task, action, &pager.name);
                self.signed(pager, secret, key, &body, now)?
            }
        };
        post(pager, request).await
    }

    /// The pager `name` and its secret from the environment.
    fn pager_and_secret(&self, name: &str) -> Result<(&PagerConfig, &Secret), PagerError> {
        let pager = self
            .pager(name)
            .ok_or_else(|| PagerError::Unknown(name.to_owned()))?;
        let var = match &pager.kind {
            PagerKind::PagerDuty { routing_key_env } => routing_key_env,
            PagerKind::Webhook { secret_env } => secret_env,
        };
        let secret = self
            .secrets
            .get(&pager.name)
            .ok_or_else(|| PagerError::MissingSecret {
                pager: pager.name.clone(),
                var: var.clone(),
            })?;
        Ok((pager, secret))
    }

    /// A signed webhook request carrying `body`, with `key` as
    /// `Idempotency-Key` (see the module's documentation).
    fn signed(
        &self,
        pager: &PagerConfig,
        secret: &Secret,
        key: &str,
        body: &Value,
        now: Timestamp,
    ) -> Result<reqwest::RequestBuilder, PagerError> {
        let body = serde_json::to_vec(body).map_err(|e| failed(pager, e.to_string()))?;
        let ts = now.as_second();
        Ok(self
            .http
            .post(&pager.url)
            .header("content-type", "application/json")
            .header("x-ponte-timestamp", ts.to_string())
            .header("x-ponte-signature", signature(secret, ts, &body))
            .header("idempotency-key", key)
            .body(body))
    }
}

fn failed(pager: &PagerConfig, reason: String) -> PagerError {
    PagerError::Failed {
        pager: pager.name.clone(),
        reason,
    }
}

/// Sends `request` within the pager's timeout. A 2xx is delivered; a 4xx
/// or a redirect is refused for good; anything else (a timeout, a refused
/// connection, a TLS failure, a 5xx) is a failure to retry. The error says
/// which.
async fn post(pager: &PagerConfig, request: reqwest::RequestBuilder) -> Result<(), PagerError> {
    let response = request
        .timeout(pager.timeout)
        .send()
        .await
        .map_err(|e| failed(pager, format!("not reached: {}", describe(e))))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(PagerError::Refused {
            pager: pager.name.clone(),
            reason: format!(
                "answered {status}: redirects are not followed (the secret would go elsewhere); \
                 put the final https:// address in the configuration"
            ),
        })
    } else if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 408 {
        Err(PagerError::Refused {
            pager: pager.name.clone(),
            reason: format!("refused the request: answered {status}"),
        })
    } else {
        Err(failed(pager, format!("answered {status}")))
    }
}

/// What went wrong with a request that got no answer: a timeout, a refused
/// connection, a TLS failure, or else reqwest's words. Never the URL, a
/// header or the body.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_lowercase());
        chain.push(' ');
        source = s.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
    {
        "TLS failed (the pager's certificate was not accepted)".into()
    } else if chain.contains("refused") {
        "connection refused".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.to_string()
    }
}

/// The body of a signed-webhook acknowledge/resolve request.
pub fn webhook_update_body(
    key: &str,
    task: &str,
    action: crate::domain::pager_sync::PagerAction,
    pager: &str,
) -> Value {
    json!({
        "event": action.as_str(),
        "key": key,
        "task": task,
        "target": pager,
    })
}

/// What became of a page for an outside pager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// Not delivered; the MSP channel must get it, with this reason.
    Fallback(PagerError),
}

/// The pager client and the failures counted per page, for the fallback:
/// a page that failed `max_attempts` times goes to the MSP channel instead.
/// The counts live in memory: after a restart a failing pager gets up to
/// `max_attempts` more tries (the outbox's backoff spaces them out).
#[derive(Debug)]
pub struct Pagers {
    pub client: PagerClient,
    failures: std::sync::Mutex<HashMap<String, u32>>,
}

impl Pagers {
    pub fn new(client: PagerClient) -> Self {
        Self {
            client,
            failures: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Counts a failure of page `key`; the failures so far.
    pub fn failed(&self, key: &str) -> u32 {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = failures.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Sends a page to pager `name`: `Sent`, or an error to retry later
    /// (the outbox's backoff), or — after the pager's `max_attempts`
    /// failures, or at once when it cannot work (unknown, no secret) —
    /// `Fallback`: the caller pages the MSP channel instead, with a warning.
    pub async fn deliver(
        &self,
        name: &str,
        page: &OutsidePage,
        now: Timestamp,
    ) -> Result<Delivered, PagerError> {
        let sent = self.client.send(name, page, now).await;
        let given_up = self.settle(
            name,
            &page.key,
            sent,
            "page not delivered; will retry",
            "pager failed; paging the MSP channel instead",
        )?;
        Ok(given_up.map_or(Delivered::Sent, Delivered::Fallback))
    }

    /// Sends an acknowledge/resolve update (key `key`, the effect's) to
    /// pager `name`: `Ok` once sent or given up (after the pager's
    /// `max_attempts` failures, or at once when it cannot work: the page
    /// itself already fell back to the channel), an error to retry later.
    pub async fn update(
        &self,
        name: &str,
        key: &str,
        task: &str,
        action: crate::domain::pager_sync::PagerAction,
    ) -> Result<(), PagerError> {
        // The signature's time is the wall clock's: a receiver checks it
        // against its own to refuse replays.
        let sent = self
            .client
            .update(name, key, task, action, Timestamp::now())
            .await;
        self.settle(
            name,
            key,
            sent,
            "pager update not delivered; will retry",
            "pager update given up",
        )?;
        Ok(())
    }

    /// What a delivery of `key` to pager `name` comes to: `Ok(None)` sent;
    /// `Err` to retry later (the outbox's backoff); `Ok(Some(error))` given
    /// up, after the pager's `max_attempts` failures or at once when it
    /// cannot work (unknown pager, no secret).
    fn settle(
        &self,
        name: &str,
        key: &str,
        sent: Result<(), PagerError>,
        retrying: &str,
        giving_up: &str,
    ) -> Result<Option<PagerError>, PagerError> {
        let Err(error) = sent else {
            self.done(key);
            return Ok(None);
        };
        let max = self.client.pager(name).map_or(1, |p| p.max_attempts);
        let failures = self.failed(key);
        let hopeless = matches!(
            error,
            PagerError::Unknown(_) | PagerError::MissingSecret { .. } | PagerError::Refused { .. }
        );
        if failures < max && !hopeless {
            tracing::warn!(pager = %name, %key, failures, %error, "{retrying}");
            return Err(error);
        }
        tracing::error!(pager = %name, %key, failures, %error, "{giving_up}");
        self.done(key);
        Ok(Some(error))
    }

    /// Forgets page `key` (delivered, or given up).
    pub fn done(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}
