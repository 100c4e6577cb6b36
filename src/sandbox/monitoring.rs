//! The sandbox's monitoring systems (issue 20): `alert` and `beat` steps
//! post to the bot's real alert listener (`crate::inbound`) on a local
//! port, in each integration's format and with its authentication, as
//! Alertmanager or an uptime checker would. Secrets are the sandbox's own
//! (`sandbox-secret-<VARIABLE>`); `secret:wrong` sends a wrong one.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::script::{AlertAction, Options};
use crate::config::Config;
use crate::config::monitoring::{AlertFormat, InboundAuth};

/// The sandbox's secret for environment variable `var`.
pub fn secret(var: &str) -> String {
    format!("sandbox-secret-{var}")
}

/// The secrets lookup the sandbox's listener uses.
pub fn secrets() -> crate::inbound::Secrets {
    Arc::new(|var: &str| Some(secret(var)))
}

fn option<'a>(options: &'a Options, name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn labels(options: &Options, severity: Option<&str>) -> serde_json::Map<String, Value> {
    let mut labels = serde_json::Map::new();
    for (k, v) in options {
        if let Some(name) = k.strip_prefix("label.") {
            labels.insert(name.to_owned(), json!(v));
        }
    }
    if let Some(s) = severity {
        labels.insert("severity".into(), json!(s));
    }
    labels
}

/// The body an `alert` step sends, in `format`, at `now` on the sandbox's
/// clock (Alertmanager says when the alert started: a minute before).
pub fn body(
    format: AlertFormat,
    action: &AlertAction,
    options: &Options,
    now: jiff::Timestamp,
) -> Value {
    let started = now
        .checked_sub(jiff::SignedDuration::from_mins(1))
        .unwrap_or(now)
        .to_string();
    let severity = option(options, "severity");
    let group = option(options, "group");
    let link = option(options, "link");
    let description = option(options, "description");
    // (fingerprint, title, firing)
    let alerts: Vec<(String, String, bool)> = match action {
        AlertAction::Fire { fingerprint, title } => {
            vec![(fingerprint.clone(), title.clone(), true)]
        }
        AlertAction::Resolve { fingerprint } => {
            vec![(fingerprint.clone(), format!("Alert {fingerprint}"), false)]
        }
        AlertAction::Storm { count, title } => {
            let prefix = group.unwrap_or("storm");
            (1..=*count)
                .map(|i| (format!("{prefix}-{i}"), format!("{title} #{i}"), true))
                .collect()
        }
    };
    match format {
        AlertFormat::Alertmanager => {
            let items: Vec<Value> = alerts
                .iter()
                .map(|(fingerprint, title, firing)| {
                    let mut labels = labels(options, severity);
                    labels.insert("alertname".into(), json!(title));
                    json!({
                        "status": if *firing { "firing" } else { "resolved" },
                        "labels": labels,
                        "annotations": {
                            "summary": title,
                            "description": description.unwrap_or(""),
                        },
                        "startsAt": started,
                        "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": link.unwrap_or("https://prometheus.example/graph"),
                        "fingerprint": fingerprint,
                    })
                })
                .collect();
            json!({
                "version": "4",
                "groupKey": group.unwrap_or("{}:{}"),
                "truncatedAlerts": 0,
                "status": if alerts.iter().any(|a| a.2) { "firing" } else { "resolved" },
                "receiver": "ponte",
                "groupLabels": {},
                "commonLabels": {},
                "commonAnnotations": {},
                "externalURL": "https://alertmanager.example",
                "alerts": items,
            })
        }
        AlertFormat::Generic => {
            let items: Vec<Value> = alerts
                .iter()
                .map(|(fingerprint, title, firing)| {
                    let mut item = json!({
                        "title": title,
                        "fingerprint": fingerprint,
                        "status": if *firing { "firing" } else { "resolved" },
                        "labels": labels(options, None),
                    });
                    for (key, value) in [
                        ("severity", severity),
                        ("group", group),
                        ("link", link),
                        ("description", description),
                    ] {
                        if let Some(v) = value {
                            item[key] = json!(v);
                        }
                    }
                    item
                })
                .collect();
            json!({ "alerts": items })
        }
    }
}

/// Posts `body` to `url` with `auth` and the secret of `var` (or a wrong
/// one); returns the status and the answer's text.
pub async fn post(
    url: &str,
    auth: InboundAuth,
    var: &str,
    wrong: bool,
    body: &[u8],
) -> Result<String, String> {
    let secret = if wrong {
        "wrong-secret".to_owned()
    } else {
        secret(var)
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    match auth {
        InboundAuth::Bearer => {
            request = request.header("authorization", format!("Bearer {secret}"));
        }
        InboundAuth::Hmac => {
            let ts = jiff::Timestamp::now().as_second();
            let signature = crate::notify::pager::signature(
                &crate::notify::pager::Secret::new(secret),
                ts,
                body,
            );
            request = request
                .header("x-ponte-timestamp", ts.to_string())
                .header("x-ponte-signature", signature);
        }
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok(format!("{status} {}", text.trim()))
}

/// What an `alert` step needs from the configuration: the integration's
/// format, authentication and secret variable.
pub fn integration(
    config: &Config,
    client: &str,
    name: &str,
) -> Result<(AlertFormat, InboundAuth, String), String> {
    let client_config = config
        .clients()
        .iter()
        .find(|c| c.key.as_str() == client)
        .ok_or_else(|| format!("no client {client}"))?;
    let i = client_config
        .integrations
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = client_config
                .integrations
                .iter()
                .map(|i| i.name.as_str())
                .collect();
            format!(
                "{client} has no integration `{name}`; it has: {}",
                names.join(", ")
            )
        })?;
    Ok((i.format, i.auth, i.secret_env.clone()))
}

/// The same for a heartbeat monitor.
pub fn monitor(config: &Config, client: &str, name: &str) -> Result<(InboundAuth, String), String> {
    let client_config = config
        .clients()
        .iter()
        .find(|c| c.key.as_str() == client)
        .ok_or_else(|| format!("no client {client}"))?;
    let m = client_config
        .heartbeats
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = client_config
                .heartbeats
                .iter()
                .map(|m| m.name.as_str())
                .collect();
            format!(
                "{client} has no heartbeat monitor `{name}`; it has: {}",
                names.join(", ")
            )
        })?;
    Ok((m.auth, m.secret_env.clone()))
}
