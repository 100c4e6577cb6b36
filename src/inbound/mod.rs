//! The alert listener (issue 20): where monitoring systems send alerts and
//! heartbeats, on `[inbound].addr`. An adapter like `crate::discord`: it
//! checks and converts, and calls the app through `app::monitor::Monitor`;
//! it never reads the store.
//!
//! - `POST /clients/{client}/alerts/{integration}`: an alert payload in the
//!   integration's format ([`format`]).
//! - `POST /clients/{client}/heartbeat/{monitor}`: a beat.
//!
//! Each request is checked in this order, and refused with a status and a
//! line that says what to fix (counted in `ponte_inbound_refused`):
//! 1. the integration or monitor exists (404);
//! 2. its secret is set in Ponte's environment (503: the operator must set
//!    it; the log names the variable);
//! 3. the body is at most `[inbound].max_body_kb` (413) and arrives within
//!    [`BODY_TIMEOUT`] (408);
//! 4. the caller shows the secret (401): `Authorization: Bearer <secret>`,
//!    or for `auth = "hmac"` `X-Ponte-Timestamp` (Unix seconds, within
//!    [`HMAC_WINDOW_SECONDS`] of Ponte's clock) and `X-Ponte-Signature:
//!    sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`;
//! 5. the integration's rate, `rate_per_minute` requests (429 with
//!    `Retry-After`);
//! 6. the payload reads (400, naming the field).
//!
//! Then the alerts are recorded, each durably before the answer (200, a
//! JSON line per alert: what it did and its task). A request not recorded
//! within [`RECORD_TIMEOUT`] is answered 503 so the sender retries;
//! retrying is safe, since alerts deduplicate by fingerprint.
//!
//! The server is bounded like the health port (`ops::health::serve_bounded`):
//! 64 connections, 5 s for the headers, no keep-alive.

pub mod format;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::sync::watch;

use crate::app::engine::{AlertResult, PonteError};
use crate::app::monitor::{Monitor, MonitorError};
use crate::config::monitoring::InboundAuth;
use crate::notify::pager::Secret;

/// How long a caller has to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long recording a request's alerts may take before the caller is
/// asked to retry.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(30);
/// How far an HMAC request's timestamp may be from Ponte's clock.
pub const HMAC_WINDOW_SECONDS: i64 = 300;

/// Looks up a secret by environment variable (the environment, or a map in
/// tests and the sandbox).
pub type Secrets = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A token bucket per integration: `rate` requests a minute, in bursts of
/// up to `rate`.
#[derive(Default)]
struct Buckets {
    buckets: HashMap<String, (f64, Instant)>,
}

impl Buckets {
    /// Takes a token for `key`, or says how many seconds until one is due.
    fn take(&mut self, key: &str, rate_per_minute: u32, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(rate_per_minute);
        let per_second = capacity / 60.0;
        let (tokens, at) = self
            .buckets
            .entry(key.to_owned())
            .or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

struct Shared {
    monitoring: Arc<dyn Monitor>,
    secrets: Secrets,
    max_body: usize,
    buckets: Mutex<Buckets>,
}

/// The listener's routes.
pub fn router(monitoring: Arc<dyn Monitor>, secrets: Secrets, max_body: usize) -> Router {
    let shared = Arc::new(Shared {
        monitoring,
        secrets,
        max_body,
        buckets: Mutex::default(),
    });
    Router::new()
        .route("/clients/{client}/alerts/{integration}", post(alerts))
        .route("/clients/{client}/heartbeat/{monitor}", post(heartbeat))
        .fallback(not_found)
        .with_state(shared)
}

/// Checks every integration's and monitor's secret is set, and logs each
/// one that is not (those answer 503 until it is). Returns how many are
/// missing.
pub fn check_secrets(config: &crate::config::Config, secrets: &Secrets) -> usize {
    let mut missing = 0;
    for client in config.clients() {
        let vars = client
            .integrations
            .iter()
            .map(|i| ("alert integration", &i.name, &i.secret_env))
            .chain(
                client
                    .heartbeats
                    .iter()
                    .map(|m| ("heartbeat monitor", &m.name, &m.secret_env)),
            );
        for (what, name, var) in vars {
            match secrets(var) {
                Some(v) if !v.trim().is_empty() => {
                    crate::ops::redact::register(v.trim());
                }
                _ => {
                    missing += 1;
                    tracing::error!(
                        client = %client.key,
                        what,
                        name = %name,
                        variable = %var,
                        "the secret of this {what} is not set: it refuses every request (503) until {var} is set"
                    );
                }
            }
        }
    }
    missing
}

fn refuse(status: StatusCode, reason: &'static str, text: &str) -> Response {
    crate::ops::metrics::global().inbound_refused(reason);
    (status, format!("{text}\n")).into_response()
}

async fn not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        "unknown",
        "not found: POST to /clients/{client}/alerts/{integration} or /clients/{client}/heartbeat/{monitor}",
    )
}

/// What every request goes through before its payload is read: the
/// secret, the body, the authentication, the rate.
async fn admit(
    shared: &Shared,
    auth: InboundAuth,
    secret_env: &str,
    rate: Option<(String, u32)>,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<axum::body::Bytes, Response> {
    let Some(secret) = (shared.secrets)(secret_env)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    else {
        tracing::error!(
            variable = secret_env,
            "a request came for an integration whose secret is not set"
        );
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_secret",
            "this integration is not set up on Ponte's side yet (its secret is not set); ask Ponte's operator",
        ));
    };
    let secret = Secret::new(secret);
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if length > shared.max_body {
            return Err(too_large(shared.max_body));
        }
    }
    let body = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, shared.max_body))
        .await
    {
        Err(_) => {
            return Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                "slow_body",
                "the body came too slowly",
            ));
        }
        Ok(Err(_)) => return Err(too_large(shared.max_body)),
        Ok(Ok(body)) => body,
    };
    let authentic = match auth {
        InboundAuth::Bearer => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                crate::ops::health::same_secret(given.trim().as_bytes(), secret.expose().as_bytes())
            }),
        InboundAuth::Hmac => {
            let timestamp = headers
                .get("x-ponte-timestamp")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
            let signature = headers
                .get("x-ponte-signature")
                .and_then(|v| v.to_str().ok());
            match (timestamp, signature) {
                (Some(ts), Some(sig)) => {
                    let now = jiff::Timestamp::now().as_second();
                    if (now - ts).abs() > HMAC_WINDOW_SECONDS {
                        return Err(refuse(
                            StatusCode::UNAUTHORIZED,
                            "auth",
                            "X-Ponte-Timestamp is more than 5 minutes from Ponte's clock: sign with the current Unix time (and check the sender's clock)",
                        ));
                    }
                    crate::notify::pager::verify(&secret, ts, &body, sig)
                }
                _ => false,
            }
        }
    };
    if !authentic {
        let how = match auth {
            InboundAuth::Bearer => {
                "wrong or missing secret: send `Authorization: Bearer <secret>` with the integration's secret"
            }
            InboundAuth::Hmac => {
                "wrong or missing signature: send X-Ponte-Timestamp (Unix seconds) and X-Ponte-Signature: sha256=<hex HMAC-SHA256 of \"{timestamp}.{body}\" keyed with the secret>"
            }
        };
        return Err(refuse(StatusCode::UNAUTHORIZED, "auth", how));
    }
    if let Some((key, rate)) = rate {
        let taken = shared
            .buckets
            .lock()
            .map_err(|_| {
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            })?
            .take(&key, rate, Instant::now());
        if let Err(wait) = taken {
            crate::ops::metrics::global().inbound_refused("rate");
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, wait.to_string())],
                format!(
                    "more than {rate} requests a minute for this integration: retry in {wait} s (or raise rate_per_minute)\n"
                ),
            )
                .into_response());
        }
    }
    Ok(body)
}

fn too_large(max: usize) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "size",
        &format!(
            "the body is larger than {} KiB: send fewer alerts per request (Alertmanager: max_alerts), or raise [inbound].max_body_kb",
            max / 1024
        ),
    )
}

fn failed(e: MonitorError) -> Response {
    match e {
        MonitorError::UnknownClient(_) | MonitorError::Unknown { .. } => {
            refuse(StatusCode::NOT_FOUND, "unknown", &e.to_string())
        }
        MonitorError::Ponte(PonteError::User(e)) => {
            refuse(StatusCode::BAD_REQUEST, "format", &format!("refused: {e}"))
        }
        MonitorError::Ponte(PonteError::Internal(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "Ponte could not record this ({}); retry later\n",
                e.reference
            ),
        )
            .into_response(),
    }
}

fn result_json(r: &AlertResult) -> serde_json::Value {
    json!({
        "result": r.name(),
        "task": r.task().map(ToString::to_string),
    })
}

async fn alerts(
    State(shared): State<Arc<Shared>>,
    Path((client, name)): Path<(String, String)>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let integration = match shared.monitoring.integration(&client, &name) {
        Ok(i) => i,
        Err(e) => return failed(e),
    };
    let body = match admit(
        &shared,
        integration.auth,
        &integration.secret_env,
        Some((format!("{client}/{name}"), integration.rate_per_minute)),
        &headers,
        request.into_body(),
    )
    .await
    {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let alerts = match format::parse(integration.format, &body) {
        Ok(alerts) => alerts,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, "format", &why),
    };
    let received = alerts.len();
    let recorded = tokio::time::timeout(
        RECORD_TIMEOUT,
        shared.monitoring.receive(&client, &name, alerts),
    )
    .await;
    match recorded {
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "10")],
            "Ponte is slow to record these alerts; retry (repeats are deduplicated)\n",
        )
            .into_response(),
        Ok(Err(e)) => failed(e),
        Ok(Ok(receipts)) => {
            let results: Vec<_> = receipts
                .iter()
                .map(|r| {
                    let mut v = result_json(&r.result);
                    v["fingerprint"] = json!(r.fingerprint);
                    v
                })
                .collect();
            axum::Json(json!({ "received": received, "alerts": results })).into_response()
        }
    }
}

async fn heartbeat(
    State(shared): State<Arc<Shared>>,
    Path((client, name)): Path<(String, String)>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let monitor = match shared.monitoring.heartbeat_monitor(&client, &name) {
        Ok(m) => m,
        Err(e) => return failed(e),
    };
    // Beats are not rate limited: one must never be refused (a refused
    // beat opens a task). The writer records at most one a second per
    // monitor (`monitor::coalesces`), and the connection limit bounds the
    // rest.
    if let Err(refused) = admit(
        &shared,
        monitor.auth,
        &monitor.secret_env,
        None,
        &headers,
        request.into_body(),
    )
    .await
    {
        return refused;
    }
    match tokio::time::timeout(RECORD_TIMEOUT, shared.monitoring.beat(&client, &name)).await {
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "10")],
            "Ponte is slow to record this beat; retry\n",
        )
            .into_response(),
        Ok(Err(e)) => failed(e),
        Ok(Ok(result)) => axum::Json(result_json(&result)).into_response(),
    }
}

/// Binds `addr` (before returning, so a port in use is reported at start).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves the listener until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    monitoring: Arc<dyn Monitor>,
    secrets: Secrets,
    max_body: usize,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = router(monitoring, secrets, max_body);
    crate::ops::health::serve_bounded(listener, app, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_minute_of_requests_then_paces_them() {
        let mut b = Buckets::default();
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(b.take("k", 60, t0).is_ok());
        }
        assert_eq!(b.take("k", 60, t0), Err(1));
        assert!(b.take("k", 60, t0 + Duration::from_secs(1)).is_ok());
        // Another integration has its own bucket.
        assert!(b.take("other", 60, t0).is_ok());
    }
}
