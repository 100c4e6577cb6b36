//! The two payloads an integration may send, read into `app::monitor::Alert`s.
//!
//! - **Alertmanager** (`format = "alertmanager"`): Prometheus Alertmanager's
//!   webhook, version 4 (<https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>).
//!   Each alert keeps its `fingerprint`; the group key is the webhook's
//!   `groupKey`; the title is the `summary` annotation, or the `alertname`
//!   label (with its `instance`); the severity is the `severity` label;
//!   the link is `generatorURL`.
//! - **Generic** (`format = "generic"`): one alert object, a list of them,
//!   or `{"alerts": [...]}`, each with `title`, `fingerprint`, and optionally
//!   `status` (`firing` or `resolved`, default firing), `severity`, `link`,
//!   `labels`, `group`, `description`.
//!
//! A payload that does not read says what to fix, with the JSON path of the
//! first problem. Every text is bounded (`domain::monitor::KEY_MAX` for keys
//! and labels; titles and descriptions are clipped by the application).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use crate::app::monitor::{Alert, check_key};
use crate::config::monitoring::AlertFormat;

/// The most alerts one request may carry.
pub const MAX_ALERTS: usize = 1000;
/// The most labels one alert may carry.
pub const MAX_LABELS: usize = 64;

/// Reads `body` as `format`.
pub fn parse(format: AlertFormat, body: &[u8]) -> Result<Vec<Alert>, String> {
    let alerts = match format {
        AlertFormat::Alertmanager => alertmanager(body)?,
        AlertFormat::Generic => generic(body)?,
    };
    if alerts.is_empty() {
        return Err("the payload holds no alert".into());
    }
    if alerts.len() > MAX_ALERTS {
        return Err(format!(
            "{} alerts in one request: send at most {MAX_ALERTS} (Alertmanager: set `max_alerts` in webhook_config)",
            alerts.len()
        ));
    }
    Ok(alerts)
}

fn read<'a, T: Deserialize<'a>>(body: &'a [u8], what: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            format!("not {what}: {inner}")
        } else {
            format!("not {what}: at `{path}`: {inner}")
        }
    })
}

/// A link worth showing: http(s), no spaces or angle brackets, bounded.
fn link(raw: Option<String>) -> Option<String> {
    let raw = raw?.trim().to_owned();
    let ok = (raw.starts_with("https://") || raw.starts_with("http://"))
        && raw.len() <= 2000
        && !raw
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>');
    ok.then_some(raw)
}

fn labels(raw: BTreeMap<String, String>, at: &str) -> Result<Vec<(String, String)>, String> {
    if raw.len() > MAX_LABELS {
        return Err(format!("{at}: {} labels; at most {MAX_LABELS}", raw.len()));
    }
    for (k, v) in &raw {
        check_key(&format!("{at}: label name"), k)?;
        if v.chars().count() > crate::domain::monitor::KEY_MAX {
            return Err(format!(
                "{at}: label `{k}` is longer than {} characters",
                crate::domain::monitor::KEY_MAX
            ));
        }
    }
    Ok(raw.into_iter().collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmWebhook {
    version: String,
    #[serde(default)]
    group_key: String,
    alerts: Vec<AmAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

fn alertmanager(body: &[u8]) -> Result<Vec<Alert>, String> {
    let hook: AmWebhook = read(body, "an Alertmanager webhook (version 4)")?;
    if hook.version != "4" {
        let shown: String = hook.version.chars().take(10).collect();
        return Err(format!(
            "Alertmanager webhook version `{shown}`: Ponte reads version 4"
        ));
    }
    let group = crate::domain::text::clip(&hook.group_key, crate::domain::monitor::KEY_MAX);
    hook.alerts
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let at = format!("alerts[{i}]");
            let firing = match a.status.as_str() {
                "firing" => true,
                "resolved" => false,
                other => {
                    let shown: String = other.chars().take(20).collect();
                    return Err(format!(
                        "{at}.status is `{shown}`: Alertmanager sends \"firing\" or \"resolved\""
                    ));
                }
            };
            let fingerprint = match a.fingerprint {
                Some(f) => f,
                // Alertmanager always sends one; a relay that drops it
                // still identifies the alert by its labels.
                None => a
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            };
            check_key(&format!("{at}.fingerprint"), &fingerprint)?;
            let name = a.labels.get("alertname").cloned().unwrap_or_default();
            let title = match (a.annotations.get("summary"), a.labels.get("instance")) {
                (Some(summary), _) if !summary.trim().is_empty() => summary.clone(),
                (_, Some(instance)) if !name.is_empty() => format!("{name} on {instance}"),
                _ if !name.is_empty() => name.clone(),
                _ => format!("Alert {fingerprint}"),
            };
            let severity = a.labels.get("severity").cloned();
            let description = a
                .annotations
                .get("description")
                .or_else(|| a.annotations.get("message"))
                .cloned();
            let started = a
                .starts_at
                .as_deref()
                .and_then(|s| s.parse::<Timestamp>().ok());
            Ok(Alert {
                fingerprint,
                group: group.clone(),
                firing,
                title,
                description,
                severity,
                link: link(a.generator_url),
                labels: labels(a.labels, &at)?,
                started,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericAlert {
    #[serde(default)]
    title: Option<String>,
    fingerprint: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GenericBody {
    Many { alerts: Vec<serde_json::Value> },
    List(Vec<serde_json::Value>),
    One(serde_json::Value),
}

fn generic(body: &[u8]) -> Result<Vec<Alert>, String> {
    let what = "Ponte's generic alert JSON (an object with `title` and `fingerprint`, a list of them, or {\"alerts\": [...]})";
    let values = match read::<GenericBody>(body, what)? {
        GenericBody::Many { alerts } | GenericBody::List(alerts) => alerts,
        GenericBody::One(one) => vec![one],
    };
    if values.len() > MAX_ALERTS {
        return Err(format!(
            "{} alerts in one request: send at most {MAX_ALERTS}",
            values.len()
        ));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let at = format!("alerts[{i}]");
            let a: GenericAlert = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                format!("{at}: at `{path}`: {}", e.into_inner())
            })?;
            let firing = match a.status.as_deref().map(str::trim) {
                None | Some("firing") => true,
                Some("resolved") => false,
                Some(other) => {
                    let shown: String = other.chars().take(20).collect();
                    return Err(format!(
                        "{at}.status is `{shown}`: write \"firing\" or \"resolved\""
                    ));
                }
            };
            check_key(&format!("{at}.fingerprint"), &a.fingerprint)?;
            let title = match a.title {
                Some(t) if !t.trim().is_empty() => t,
                _ if !firing => format!("Alert {}", a.fingerprint),
                _ => {
                    return Err(format!(
                        "{at}.title is missing: a firing alert needs a title"
                    ));
                }
            };
            let group = a.group.unwrap_or_default();
            if !group.is_empty() {
                check_key(&format!("{at}.group"), &group)?;
            }
            if let Some(s) = &a.severity {
                check_key(&format!("{at}.severity"), s)?;
            }
            Ok(Alert {
                fingerprint: a.fingerprint,
                group,
                firing,
                title,
                description: a.description,
                severity: a.severity,
                link: link(a.link),
                labels: labels(a.labels, &at)?,
                started: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AM: &str = r#"{
      "version": "4",
      "groupKey": "{}:{alertname=\"DiskFull\"}",
      "truncatedAlerts": 0,
      "status": "firing",
      "receiver": "ponte",
      "groupLabels": {"alertname": "DiskFull"},
      "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
      "commonAnnotations": {},
      "externalURL": "http://alertmanager:9093",
      "alerts": [
        {
          "status": "firing",
          "labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"},
          "annotations": {"description": "/var is 97% full"},
          "startsAt": "2026-12-06T07:58:00Z",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "https://prometheus.example/graph?g0.expr=x",
          "fingerprint": "a1b2c3"
        },
        {
          "status": "resolved",
          "labels": {"alertname": "DiskFull", "instance": "db2:9100"},
          "annotations": {"summary": "Disk full on db2"},
          "startsAt": "2026-12-06T07:00:00Z",
          "endsAt": "2026-12-06T07:30:00Z",
          "generatorURL": "javascript:alert(1)",
          "fingerprint": "d4e5f6"
        }
      ]
    }"#;

    #[test]
    fn an_alertmanager_webhook_reads_into_alerts() {
        let alerts = parse(AlertFormat::Alertmanager, AM.as_bytes()).unwrap();
        assert_eq!(alerts.len(), 2);
        let a = &alerts[0];
        assert_eq!(a.fingerprint, "a1b2c3");
        assert_eq!(a.group, "{}:{alertname=\"DiskFull\"}");
        assert!(a.firing);
        assert_eq!(a.title, "DiskFull on db1:9100");
        assert_eq!(a.severity.as_deref(), Some("critical"));
        assert_eq!(a.description.as_deref(), Some("/var is 97% full"));
        assert_eq!(
            a.link.as_deref(),
            Some("https://prometheus.example/graph?g0.expr=x")
        );
        let b = &alerts[1];
        assert!(!b.firing);
        assert_eq!(b.title, "Disk full on db2");
        assert_eq!(b.link, None, "only http(s) links are kept");
    }

    #[test]
    fn malformed_payloads_say_what_to_fix() {
        let e = parse(AlertFormat::Alertmanager, br#"{"version":"3","alerts":[]}"#).unwrap_err();
        assert!(e.contains("version 4"), "{e}");
        let e = parse(AlertFormat::Alertmanager, b"not json").unwrap_err();
        assert!(e.starts_with("not an Alertmanager webhook"), "{e}");
        let e = parse(
            AlertFormat::Alertmanager,
            br#"{"version":"4","alerts":[{"status":"burning","fingerprint":"x"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("alerts[0].status"), "{e}");
        let e = parse(AlertFormat::Generic, br#"{"fingerprint":"x"}"#).unwrap_err();
        assert!(e.contains("needs a title"), "{e}");
        let e = parse(AlertFormat::Generic, br#"{"title":"t"}"#).unwrap_err();
        assert!(e.contains("fingerprint"), "{e}");
        let e = parse(
            AlertFormat::Generic,
            br#"{"title":"t","fingerprint":"x","colour":1}"#,
        )
        .unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let long = "x".repeat(300);
        let e = parse(
            AlertFormat::Generic,
            format!(r#"{{"title":"t","fingerprint":"{long}"}}"#).as_bytes(),
        )
        .unwrap_err();
        assert!(e.contains("longer than 200"), "{e}");
        let many: Vec<String> = (0..1001)
            .map(|i| format!(r#"{{"title":"t","fingerprint":"f{i}"}}"#))
            .collect();
        let e = parse(
            AlertFormat::Generic,
            format!("[{}]", many.join(",")).as_bytes(),
        )
        .unwrap_err();
        assert!(e.contains("at most 1000"), "{e}");
    }

    #[test]
    fn generic_json_takes_one_alert_a_list_or_an_alerts_object() {
        let one = br#"{"title":"VPN down","fingerprint":"vpn","severity":"critical","labels":{"category":"network"}}"#;
        let alerts = parse(AlertFormat::Generic, one).unwrap();
        assert_eq!(alerts.len(), 1);
        assert!(alerts[0].firing);
        assert_eq!(
            alerts[0].labels,
            vec![("category".into(), "network".into())]
        );
        let list = br#"[{"title":"a","fingerprint":"1"},{"fingerprint":"2","status":"resolved"}]"#;
        let alerts = parse(AlertFormat::Generic, list).unwrap();
        assert_eq!(alerts.len(), 2);
        assert!(!alerts[1].firing);
        let wrapped = br#"{"alerts":[{"title":"a","fingerprint":"1","group":"g"}]}"#;
        let alerts = parse(AlertFormat::Generic, wrapped).unwrap();
        assert_eq!(alerts[0].group, "g");
    }
}
