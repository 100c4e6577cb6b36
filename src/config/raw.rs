//! The file as written: serde structures that refuse unknown keys and leave
//! every check beyond the shape (required, ranges, names, ids, references) to
//! the validation, so that all those problems can be reported together.
//!
//! Each top-level table, and each element of `[[categories]]` and
//! `[[clients]]`, is deserialized on its own: a typo in one client does not
//! hide a typo in the next.

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::error::{Found, Path, explain};
use super::ids::RawId;

/// The top-level tables, in the order the documentation presents them.
pub(crate) const SECTIONS: [&str; 10] = [
    "ponte",
    "msp",
    "categories",
    "clients",
    "oncall",
    "escalation",
    "pagers",
    "escalate",
    "inbound",
    "heartbeat_out",
];

#[derive(Debug, Default)]
pub(crate) struct RawConfig {
    pub ponte: RawPonte,
    pub msp: Option<RawMsp>,
    pub categories: Vec<RawCategory>,
    pub clients: Vec<RawClient>,
    // On-call and escalation (issue 5).
    pub oncall: Vec<RawSchedule>,
    pub escalation: Vec<RawPolicy>,
    pub pagers: Vec<RawPager>,
    pub escalate: Option<RawEscalate>,
    // Monitoring (issue 20).
    pub inbound: Option<RawInbound>,
    pub heartbeat_out: Option<RawHeartbeatOut>,
}

/// `[heartbeat_out]`: the URL Ponte calls while all its loops work.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [heartbeat_out] table")]
pub(crate) struct RawHeartbeatOut {
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub method: Option<String>,
    pub every_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub body: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [ponte] table")]
pub(crate) struct RawPonte {
    pub data_dir: Option<PathBuf>,
    pub cache_capacity_mb: Option<i64>,
    pub language: Option<String>,
    /// Where `/healthz` and `/metrics` are served (`host:port`), if at all.
    pub health_addr: Option<String>,
    /// The most one Discord REST call may take, in seconds.
    pub discord_timeout_seconds: Option<i64>,
    /// `/healthz` fails when the timers have not run for this long.
    pub timers_stale_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [msp] table")]
pub(crate) struct RawMsp {
    pub name: Option<String>,
    pub language: Option<String>,
    pub guild_id: Option<RawId>,
    pub channel_id: Option<RawId>,
    pub engineer_role_id: Option<RawId>,
    pub lead_role_id: Option<RawId>,
    pub digest: Option<RawLeadDigest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[categories]] table")]
pub(crate) struct RawCategory {
    pub name: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub owner: Option<String>,
    pub priority: Option<String>,
    pub needs_approval: Option<bool>,
    /// Action words that win over object words of earlier categories.
    #[serde(default)]
    pub actions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[clients]] table")]
pub(crate) struct RawClient {
    pub name: Option<String>,
    pub key: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub guild_id: Option<RawId>,
    pub default_side: Option<String>,
    pub default_priority: Option<String>,
    /// Business-critical systems: one out of order is a P1.
    #[serde(default)]
    pub critical_systems: Vec<String>,
    pub channels: Option<RawChannels>,
    pub roles: Option<RawRoles>,
    #[serde(default)]
    pub territory: RawTerritory,
    pub hours: Option<RawHours>,
    pub sla: Option<RawSla>,
    pub digest: Option<RawDigest>,
    /// Alert integrations (issue 20).
    #[serde(default)]
    pub integrations: Vec<RawIntegration>,
    /// Heartbeat monitors (issue 20).
    #[serde(default)]
    pub heartbeats: Vec<RawHeartbeat>,
}

/// `[inbound]`: the listener for alerts and heartbeats.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [inbound] table")]
pub(crate) struct RawInbound {
    pub addr: Option<String>,
    pub max_body_kb: Option<i64>,
}

/// `[[clients.integrations]]`: an alert integration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[clients.integrations]] table")]
pub(crate) struct RawIntegration {
    pub name: Option<String>,
    pub format: Option<String>,
    pub auth: Option<String>,
    pub secret_env: Option<String>,
    pub rate_per_minute: Option<i64>,
    pub storm_threshold: Option<i64>,
    pub severity: Option<std::collections::BTreeMap<String, String>>,
    pub category_label: Option<String>,
    pub to: Option<String>,
}

/// `[[clients.heartbeats]]`: a heartbeat monitor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[clients.heartbeats]] table")]
pub(crate) struct RawHeartbeat {
    pub name: Option<String>,
    pub interval: Option<String>,
    pub grace: Option<String>,
    pub priority: Option<String>,
    pub auth: Option<String>,
    pub secret_env: Option<String>,
    pub category: Option<String>,
    pub to: Option<String>,
}

/// `[clients.sla]`: targets per priority, in business time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.sla] table")]
pub(crate) struct RawSla {
    pub first_response: Option<RawPerPriority>,
    pub resolution: Option<RawPerPriority>,
    pub around_the_clock: Option<Vec<String>>,
    pub warn_at_percent: Option<i64>,
}

/// A duration per priority, like `P1 = "30m"`.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of durations per priority (P1 to P4)"
)]
pub(crate) struct RawPerPriority {
    #[serde(rename = "P1")]
    pub p1: Option<String>,
    #[serde(rename = "P2")]
    pub p2: Option<String>,
    #[serde(rename = "P3")]
    pub p3: Option<String>,
    #[serde(rename = "P4")]
    pub p4: Option<String>,
}

/// `[clients.digest]`: when and where each side's morning digest goes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.digest] table")]
pub(crate) struct RawDigest {
    pub time: Option<String>,
    pub days: Option<Vec<String>>,
    pub sides: Option<Vec<String>>,
    pub internal_channel: Option<RawId>,
    pub msp_channel: Option<RawId>,
}

/// `[msp.digest]`: the MSP lead's digest across all clients.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [msp.digest] table")]
pub(crate) struct RawLeadDigest {
    pub time: Option<String>,
    pub days: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub channel_id: Option<RawId>,
    pub user_id: Option<RawId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.hours] table")]
pub(crate) struct RawHours {
    pub monday: Option<String>,
    pub tuesday: Option<String>,
    pub wednesday: Option<String>,
    pub thursday: Option<String>,
    pub friday: Option<String>,
    pub saturday: Option<String>,
    pub sunday: Option<String>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.channels] table")]
pub(crate) struct RawChannels {
    pub requests: Option<RawId>,
    pub internal_it: Option<RawId>,
    pub msp: Option<RawId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.roles] table")]
pub(crate) struct RawRoles {
    pub it_manager: Option<RawId>,
    pub it_technician: Option<RawId>,
    pub msp_engineer: Option<RawId>,
    pub msp_lead: Option<RawId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [clients.territory] table")]
pub(crate) struct RawTerritory {
    #[serde(default)]
    pub it_owns: Vec<String>,
    #[serde(default)]
    pub msp_handles: Vec<String>,
    #[serde(default)]
    pub needs_approval: Vec<String>,
}

// On-call and escalation (issue 5).

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[oncall]] table")]
pub(crate) struct RawSchedule {
    pub name: Option<String>,
    pub side: Option<String>,
    pub time_zone: Option<String>,
    pub members: Option<Vec<RawId>>,
    pub start: Option<String>,
    pub handover: Option<String>,
    pub shift: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[escalation]] table")]
pub(crate) struct RawPolicy {
    pub client: Option<String>,
    pub priority: Option<String>,
    pub out_of_hours: Option<bool>,
    pub repeat: Option<i64>,
    /// Issue 6: an SLA warning of a task never paged pages the first step.
    pub on_sla_warning: Option<bool>,
    pub repeat_after_minutes: Option<i64>,
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[escalation.steps]] table")]
pub(crate) struct RawStep {
    pub after_minutes: Option<i64>,
    pub oncall: Option<String>,
    pub person: Option<RawId>,
    pub role: Option<RawId>,
    pub channel: Option<RawId>,
    pub pager: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[pagers]] table")]
pub(crate) struct RawPager {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub url: Option<String>,
    pub routing_key_env: Option<String>,
    pub secret_env: Option<String>,
    pub max_attempts: Option<i64>,
    pub timeout_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "the [escalate] table")]
pub(crate) struct RawEscalate {
    pub max_per_task: Option<i64>,
    pub min_interval_minutes: Option<i64>,
}

/// Reads the parsed document into the raw structures; shape problems go
/// into `found`.
pub(crate) fn read(doc: &Spanned<DeTable<'_>>, found: &mut Vec<Found>) -> RawConfig {
    let mut raw = RawConfig::default();
    for (key, value) in doc.get_ref().iter() {
        let name: &str = key.get_ref();
        let path = Path::root().key(name);
        match name {
            "ponte" => raw.ponte = one(value, &path, found).unwrap_or_default(),
            "msp" => raw.msp = one(value, &path, found),
            "categories" => raw.categories = many(value, &path, "[[categories]]", found),
            "clients" => raw.clients = many(value, &path, "[[clients]]", found),
            "oncall" => raw.oncall = many(value, &path, "[[oncall]]", found),
            "escalation" => raw.escalation = many(value, &path, "[[escalation]]", found),
            "pagers" => raw.pagers = many(value, &path, "[[pagers]]", found),
            "escalate" => raw.escalate = one(value, &path, found),
            "inbound" => raw.inbound = one(value, &path, found),
            "heartbeat_out" => raw.heartbeat_out = one(value, &path, found),
            other => {
                let expected = SECTIONS.map(|s| format!("`{s}`")).join(", ");
                found.push(Found {
                    path,
                    offset: Some(key.span().start),
                    message: explain(&format!(
                        "unknown field `{other}`, expected one of {expected}"
                    )),
                });
            }
        }
    }
    raw
}

fn one<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    path: &Path,
    found: &mut Vec<Found>,
) -> Option<T> {
    let de = ValueDeserializer::from(value.clone());
    match serde_path_to_error::deserialize(de) {
        Ok(v) => Some(v),
        Err(err) => {
            let path = path.join_serde(err.path());
            let err = err.into_inner();
            found.push(Found {
                path,
                offset: err.span().map(|s| s.start).or(Some(value.span().start)),
                message: explain(err.message()),
            });
            None
        }
    }
}

fn many<T: DeserializeOwned + Default>(
    value: &Spanned<DeValue<'_>>,
    path: &Path,
    how: &str,
    found: &mut Vec<Found>,
) -> Vec<T> {
    let DeValue::Array(items) = value.get_ref() else {
        found.push(Found {
            path: path.clone(),
            offset: Some(value.span().start),
            message: format!(
                "expected a list of tables: write each one under its own {how} header"
            ),
        });
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| one(item, &path.index(i), found).unwrap_or_default())
        .collect()
}
