//! The deployment's configuration: one MSP, its client companies, and the
//! routing rules, read from a TOML file and checked as a whole.
//!
//! Secrets never live in the file: the Discord token comes from the
//! `DISCORD_TOKEN` environment variable (see [`Secrets`]), and a `token` key
//! in the file is refused with that hint.
//!
//! `config/ponte.example.toml` is the documented example. The shape:
//!
//! ```toml
//! [ponte]                       # optional, all keys have defaults
//! data_dir = "./ponte-data"     # relative to this file's folder
//! cache_capacity_mb = 16        # 1..=4096
//! language = "en"               # "en" or "it": the default for MSP and clients
//!
//! [msp]
//! name = "Nordhaven IT Services"
//! language = "en"                       # optional, defaults to [ponte].language
//! guild_id = 1187426301958832128        # optional: the MSP's own Discord server;
//! channel_id = 1187426302420201472      #   with it, these three are required:
//! engineer_role_id = 1187426302881574912 # the MSP's queue channel and roles
//! lead_role_id = 1187426303342948352    #   in that server
//!
//! [[categories]]                # in order: the first whose keyword matches wins
//! name = "network"
//! keywords = ["network", "rete", "vpn"]
//! owner = "msp"                 # "internal" or "msp"
//! priority = "P2"               # "P1" .. "P4"
//! needs_approval = false        # optional, default false
//!
//! [[clients]]
//! name = "Acme Manufacturing"   # unique, ignoring case
//! key = "ACME"                  # task ids are ACME-1, ACME-2, ...
//! language = "it"               # optional, defaults to [ponte].language
//! time_zone = "Europe/Rome"     # IANA name
//! guild_id = 1190012345678901248
//! default_side = "internal"     # optional, default "internal"
//! default_priority = "P3"       # optional, default "P3"
//! [clients.channels]
//! requests = 1190012346140274688
//! internal_it = 1190012346601648128  # optional
//! msp = 1190012347063021568          # optional with an MSP server, else required
//! [clients.roles]
//! it_manager = 1190012347524395008
//! it_technician = 1190012347985768448
//! msp_engineer = 1190012348447141888 # optional with an MSP server, else required
//! msp_lead = 1190012348908515328     # optional
//! [clients.territory]           # optional overrides of the categories
//! it_owns = ["network"]         # names of [[categories]]
//! msp_handles = []
//! needs_approval = ["network"]
//! ```
//!
//! Discord ids may be written as integers or as strings of digits.
//!
//! Loading reports every problem it finds, each with its path and line
//! (see [`ConfigErrors`]). Problems of shape (TOML syntax, unknown keys, a
//! string where a number belongs) are found first; the checks of meaning
//! (required values, duplicates, ids, time zones, category references) run
//! once the shape is right.
//!
//! The files: `raw.rs` (the file's serde shapes, `deny_unknown_fields`), `validate.rs` and
//! `validate/` (every problem of meaning, collected), `error.rs` (each problem as
//! `file:line: path: message`, lines from toml's spans), `ids.rs` (non-zero Discord
//! ids), `digest.rs` (SLA targets, digest schedules), `oncall.rs` (schedules,
//! escalation, pagers), `secrets.rs` (`DISCORD_TOKEN`, `Secret`), `summary.rs` (what
//! `ponte check-config` prints).

mod digest;
mod error;
mod ids;
pub mod monitoring;
pub mod oncall;
mod raw;
mod secrets;
mod summary;
mod validate;

use std::path::{Path, PathBuf};

use std::fs;

use jiff::tz::TimeZone;

use crate::domain::calendar::BusinessCalendar;
use crate::domain::{Category, CategoryRule, ClientKey, ClientRouting, Side};

pub use digest::{
    DEFAULT_DIGEST_TIME, DEFAULT_WARN_AT_PERCENT, DigestConfig, DigestSchedule, LeadDigest,
    LeadTarget, default_targets,
};
pub use error::{ConfigErrors, ConfigProblem};
pub use ids::{ChannelId, GuildId, RoleId};
pub use secrets::{DISCORD_TOKEN_VAR, MissingSecret, Secret, Secrets};

pub use crate::i18n::{Lang, UnknownLanguage};

/// The loaded, checked configuration. Everything in it has been validated:
/// ids are non-zero and used once, names and keys are unique, every client
/// has its routing rules.
#[derive(Clone, Debug)]
pub struct Config {
    data_dir: PathBuf,
    cache_capacity_mb: u32,
    language: Lang,
    msp: MspConfig,
    categories: Vec<CategoryRule>,
    clients: Vec<ClientConfig>,
    oncall: oncall::OnCallConfig,
    health_addr: Option<std::net::SocketAddr>,
    discord_timeout: std::time::Duration,
    inbound: Option<monitoring::Inbound>,
    heartbeat_out: Option<monitoring::HeartbeatOut>,
    timers_stale: std::time::Duration,
}

/// The MSP that this deployment serves.
#[derive(Clone, Debug)]
pub struct MspConfig {
    pub name: String,
    pub language: Lang,
    /// The MSP's own Discord server, when it has one; otherwise the MSP works
    /// inside each client's server, with the channel and role set per client.
    pub server: Option<MspServer>,
    /// The MSP lead's digest across all clients (`[msp.digest]`), if any.
    pub digest: Option<LeadDigest>,
}

/// The MSP's own Discord server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MspServer {
    pub guild_id: GuildId,
    /// Where the MSP's queue of all clients' tasks is posted.
    pub queue_channel: ChannelId,
    pub engineer_role: RoleId,
    pub lead_role: RoleId,
}

/// One client company.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub key: ClientKey,
    /// The display name.
    pub name: String,
    pub language: Lang,
    pub time_zone: TimeZone,
    /// The client's Discord server.
    pub guild_id: GuildId,
    pub channels: ClientChannels,
    pub roles: ClientRoles,
    /// The overrides as written; [`ClientConfig::routing`] has them applied.
    pub territory: Territory,
    /// The rules this client's requests are routed by.
    pub routing: ClientRouting,
    /// The client's business hours and holidays, in its time zone: SLA
    /// clocks run and non-urgent pages go out inside them.
    pub calendar: BusinessCalendar,
    /// The SLA targets of the client's contract (`[clients.sla]`).
    pub sla: crate::domain::sla::SlaTargets,
    /// When and where the client's digests go (`[clients.digest]`).
    pub digest: DigestConfig,
    /// Alert integrations (`[[clients.integrations]]`).
    pub integrations: Vec<monitoring::Integration>,
    /// Heartbeat monitors (`[[clients.heartbeats]]`).
    pub heartbeats: Vec<monitoring::HeartbeatMonitor>,
}

/// A client's channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientChannels {
    /// Where employees ask for help.
    pub requests: ChannelId,
    /// The internal IT team's private channel.
    pub internal_it: Option<ChannelId>,
    /// The MSP's channel for this client, in the client's server or in the
    /// MSP's; when absent the MSP's queue channel is used.
    pub msp: Option<ChannelId>,
}

/// A client's roles, all in the client's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRoles {
    pub it_manager: RoleId,
    pub it_technician: RoleId,
    /// The MSP's role in the client's server; required when the MSP has no
    /// server of its own.
    pub msp_engineer: Option<RoleId>,
    /// The MSP lead's role in the client's server, if any.
    pub msp_lead: Option<RoleId>,
}

/// A client's overrides of the global categories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Territory {
    /// Categories the client's internal IT owns here, whatever the default.
    pub it_owns: Vec<Category>,
    /// Categories the MSP handles here, whatever the default.
    pub msp_handles: Vec<Category>,
    /// Categories where the MSP needs the IT manager's approval here.
    pub needs_approval: Vec<Category>,
}

impl Territory {
    /// The global rules, in order, with these overrides applied.
    pub fn apply(&self, global: &[CategoryRule]) -> Vec<CategoryRule> {
        global
            .iter()
            .map(|rule| {
                let mut rule = rule.clone();
                if self.it_owns.contains(&rule.category) {
                    rule.owner = Side::Internal;
                }
                if self.msp_handles.contains(&rule.category) {
                    rule.owner = Side::Msp;
                }
                if self.needs_approval.contains(&rule.category) {
                    rule.needs_approval = true;
                }
                rule
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.it_owns.is_empty() && self.msp_handles.is_empty() && self.needs_approval.is_empty()
    }
}

impl Config {
    /// The default of `[ponte].data_dir`.
    pub const DEFAULT_DATA_DIR: &str = "./ponte-data";
    /// The default of `[ponte].cache_capacity_mb`.
    pub const DEFAULT_CACHE_CAPACITY_MB: u32 = 16;
    /// The allowed values of `[ponte].cache_capacity_mb`.
    pub const CACHE_CAPACITY_MB: std::ops::RangeInclusive<u32> = 1..=4096;

    /// Reads and checks the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let name = path.display().to_string();
        let text = read_bounded(path)
            .map_err(|e| ConfigErrors::single(&name, format!("cannot read the file: {e}")))?;
        let mut config = Self::from_toml_str(&text, &name)?;
        // A relative data_dir is the config file's neighbour, wherever
        // Ponte is started from.
        if config.data_dir.is_relative() {
            let folder = path.parent().unwrap_or(Path::new(""));
            let relative: PathBuf = config
                .data_dir
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect();
            config.data_dir = folder.join(relative);
        }
        Ok(config)
    }

    /// Checks a configuration given as text; `source_name` names it in the
    /// problems (usually the file name).
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Config, ConfigErrors> {
        validate::load(text, source_name)
    }

    /// Where Ponte keeps its data; [`Config::load`] makes a relative path
    /// relative to the configuration file's folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store's cache size, in megabytes.
    pub fn cache_capacity_mb(&self) -> u32 {
        self.cache_capacity_mb
    }

    /// The store's cache size, in bytes.
    pub fn cache_capacity_bytes(&self) -> u64 {
        u64::from(self.cache_capacity_mb) * 1024 * 1024
    }

    /// How to open the store this configuration names.
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            path: self.data_dir.clone(),
            cache_capacity_bytes: self.cache_capacity_bytes(),
        }
    }

    /// The most one Discord REST call may take
    /// (`[ponte].discord_timeout_seconds`, default 10 s).
    pub fn discord_timeout(&self) -> std::time::Duration {
        self.discord_timeout
    }

    /// The URL Ponte calls while its loops work (`[heartbeat_out]`).
    pub fn heartbeat_out(&self) -> Option<&monitoring::HeartbeatOut> {
        self.heartbeat_out.as_ref()
    }

    /// How long the timers may not run before `/healthz` fails
    /// (`[ponte].timers_stale_seconds`, default 300 s).
    pub fn timers_stale(&self) -> std::time::Duration {
        self.timers_stale
    }

    /// Where alerts and heartbeats are received (`[inbound]`), if at all.
    pub fn inbound(&self) -> Option<&monitoring::Inbound> {
        self.inbound.as_ref()
    }

    /// Where `/healthz` and `/metrics` are served (`[ponte].health_addr`).
    pub fn health_addr(&self) -> Option<std::net::SocketAddr> {
        self.health_addr
    }

    /// Every client's routing rules, for the engine.
    pub fn rules(&self) -> crate::domain::routing::Rules {
        self.clients
            .iter()
            .map(|c| (c.key.clone(), c.routing.clone()))
            .collect()
    }

    /// The default language of the deployment.
    pub fn language(&self) -> Lang {
        self.language
    }

    pub fn msp(&self) -> &MspConfig {
        &self.msp
    }

    /// The global category rules, in the order they are tried.
    pub fn categories(&self) -> &[CategoryRule] {
        &self.categories
    }

    /// The clients, in the order of the file.
    pub fn clients(&self) -> &[ClientConfig] {
        &self.clients
    }

    pub fn client(&self, key: &ClientKey) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| &c.key == key)
    }

    /// The client whose Discord server this is.
    pub fn client_by_guild(&self, guild_id: u64) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.guild_id.get() == guild_id)
    }

    /// The routing rules of a client: the global categories with its
    /// territory overrides applied.
    pub fn routing(&self, key: &ClientKey) -> Option<&ClientRouting> {
        self.client(key).map(|c| &c.routing)
    }

    /// Where the MSP works this client's tasks: the client's MSP channel,
    /// or else the MSP's queue channel.
    pub fn msp_channel(&self, key: &ClientKey) -> Option<ChannelId> {
        let client = self.client(key)?;
        client
            .channels
            .msp
            .or(self.msp.server.map(|s| s.queue_channel))
    }

    /// On-call schedules, escalation policies, pagers and escalation limits.
    pub fn oncall(&self) -> &oncall::OnCallConfig {
        &self.oncall
    }

    /// Where a side's digest of a client goes: the digest's own channel, or
    /// the side's channel (internal IT's; the MSP's for the client, or its
    /// queue). `None` when the side gets no digest.
    pub fn digest_channel(&self, key: &ClientKey, side: Side) -> Option<ChannelId> {
        let client = self.client(key)?;
        if !client.digest.sides.contains(&side) {
            return None;
        }
        match side {
            Side::Internal => client
                .digest
                .internal_channel
                .or(client.channels.internal_it),
            Side::Msp => client.digest.msp_channel.or(self.msp_channel(key)),
        }
    }

    /// A human-readable account of the configuration, for `ponte check-config`.
    pub fn summary(&self) -> String {
        summary::render(self)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oncall_tests;

/// The largest configuration file read: a real one is a few kilobytes, and
/// `-c /dev/zero` must not fill the memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The file's text, refused past [`MAX_CONFIG_BYTES`] (also a device or a
/// pipe that never ends).
fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::other(format!(
            "it is larger than {} KiB; give Ponte's TOML configuration file",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::other("it is not UTF-8 text; give Ponte's TOML configuration file")
    })
}
