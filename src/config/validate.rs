//! The checks of meaning: from the raw file to a [`Config`], collecting every
//! problem rather than stopping at the first.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroU64;
use std::path::PathBuf;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use toml::de::DeTable;

use super::error::{ConfigErrors, Found, Locator, Path};
use super::ids::RawId;
use super::raw::{
    self, RawCategory, RawClient, RawConfig, RawHours, RawMsp, RawPonte, RawTerritory,
};
use super::{
    ChannelId, ClientChannels, ClientConfig, ClientRoles, Config, GuildId, Lang, MspConfig,
    MspServer, RoleId, Territory,
};
use crate::domain::calendar::BusinessCalendar;
use crate::domain::{Category, CategoryRule, ClientKey, ClientRouting, Priority, Side, text};

mod digest;
mod monitoring;
mod oncall;

/// The longest MSP or client name, in characters.
const NAME_MAX: usize = 100;

pub(super) fn load(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let (doc, syntax) = DeTable::parse_recoverable(text);
    let loc = Locator::new(text, &doc);
    if !syntax.is_empty() {
        let found = syntax
            .iter()
            .map(|e| Found {
                path: Path::root(),
                offset: e.span().map(|s| s.start),
                message: syntax_message(text, e),
            })
            .collect();
        return Err(loc.finish(file, found));
    }
    let mut found = Vec::new();
    let raw = raw::read(&doc, &mut found);
    if !found.is_empty() {
        return Err(loc.finish(file, found));
    }
    let mut checker = Checker::new(&loc);
    match checker.config(raw) {
        Some(config) if checker.found.is_empty() => Ok(config),
        _ => {
            if checker.found.is_empty() {
                checker.problem(&Path::root(), "the configuration could not be built");
            }
            Err(loc.finish(file, checker.found))
        }
    }
}

/// The parser's message, naming the key when it is a duplicate.
fn syntax_message(text: &str, error: &toml::de::Error) -> String {
    let message = error.message();
    let key = error
        .span()
        .and_then(|span| text.get(span))
        .filter(|key| !key.is_empty() && key.len() <= 40 && !key.contains('\n'));
    match key {
        Some(key) if message == "duplicate key" => {
            format!("duplicate key `{key}`: each key and table may be defined once")
        }
        _ => message.to_owned(),
    }
}

/// Who a role belongs to: the MSP's own server, or a client's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    MspServer,
    Client(usize),
}

struct Checker<'l, 'a, 'i> {
    loc: &'l Locator<'a, 'i>,
    found: Vec<Found>,
    /// Every channel id seen, with where.
    channels: HashMap<u64, Path>,
    /// Every role id seen, with where, whose server, and for which side.
    roles: HashMap<u64, (Path, Owner, Side)>,
}

/// What checking a client needs to know about the rest of the file.
struct Context<'c> {
    language: Lang,
    msp_guild: Option<u64>,
    /// Category names as written, valid or not (invalid ones are reported
    /// once, at the category).
    category_names: Vec<String>,
    /// The global rules, when they are all valid.
    rules: Option<&'c [CategoryRule]>,
}

/// Names, keys and servers already taken by earlier clients.
#[derive(Default)]
struct Taken {
    names: HashMap<String, Path>,
    keys: HashMap<ClientKey, Path>,
    guilds: HashMap<u64, Path>,
}

impl<'l, 'a, 'i> Checker<'l, 'a, 'i> {
    fn new(loc: &'l Locator<'a, 'i>) -> Self {
        Self {
            loc,
            found: Vec::new(),
            channels: HashMap::new(),
            roles: HashMap::new(),
        }
    }

    fn problem(&mut self, path: &Path, message: impl Into<String>) {
        self.found.push(Found {
            path: path.clone(),
            offset: None,
            message: message.into(),
        });
    }

    /// `path`, with its line when known, to point at another place.
    fn there(&self, path: &Path) -> String {
        match self.loc.line(path) {
            Some(line) => format!("{path} (line {line})"),
            None => path.to_string(),
        }
    }

    fn config(&mut self, raw: RawConfig) -> Option<Config> {
        let mut raw = raw;
        let health_addr = raw.ponte.health_addr.take();
        let health_addr = self.health_addr(health_addr);
        let discord_timeout = self.discord_timeout(raw.ponte.discord_timeout_seconds.take());
        let inbound = self.inbound(raw.inbound.take());
        let heartbeat_out = self.heartbeat_out(raw.heartbeat_out.take());
        let timers_stale = self.timers_stale(raw.ponte.timers_stale_seconds.take());
        let ponte = self.ponte(raw.ponte);
        let language = ponte.as_ref().map_or(Lang::En, |p| p.2);
        let msp_path = Path::root().key("msp");
        let msp_guild = raw
            .msp
            .as_ref()
            .and_then(|m| m.guild_id)
            .map(|g| g.0)
            .filter(|g| *g != 0);
        let msp_has_server = raw.msp.as_ref().is_some_and(|m| m.guild_id.is_some());
        let msp = match raw.msp {
            Some(m) => self.msp(m, &msp_path, language),
            None => {
                self.problem(
                    &msp_path,
                    "missing [msp] table: give at least the `name` of the MSP this deployment serves",
                );
                None
            }
        };
        let mut category_names: Vec<String> = Vec::new();
        for name in raw.categories.iter().filter_map(|c| c.name.as_deref()) {
            let name = name.trim().to_owned();
            if !category_names.contains(&name) {
                category_names.push(name);
            }
        }
        let rules = self.categories(raw.categories);
        let context = Context {
            language,
            msp_guild,
            category_names,
            rules: rules.as_deref(),
        };
        let clients = self.clients(raw.clients, &context, msp_has_server);
        let client_keys: Vec<ClientKey> = clients.iter().flatten().map(|c| c.key.clone()).collect();
        let oncall = self.oncall(
            oncall::Raw {
                schedules: raw.oncall,
                policies: raw.escalation,
                pagers: raw.pagers,
                escalate: raw.escalate,
            },
            &client_keys,
        );
        let (data_dir, cache_capacity_mb, language) = ponte?;
        let health_addr = health_addr?;
        let discord_timeout = discord_timeout?;
        let inbound = inbound?;
        Some(Config {
            inbound,
            heartbeat_out: heartbeat_out?,
            timers_stale: timers_stale?,
            discord_timeout,
            data_dir,
            cache_capacity_mb,
            language,
            msp: msp?,
            categories: rules?,
            clients: clients?,
            oncall: oncall?,
            health_addr,
        })
    }

    /// `[ponte].discord_timeout_seconds`: 1 to 60 (default 10).
    fn discord_timeout(&mut self, raw: Option<i64>) -> Option<std::time::Duration> {
        let Some(n) = raw else {
            return Some(std::time::Duration::from_secs(10));
        };
        match u64::try_from(n) {
            Ok(n) if (1..=60).contains(&n) => Some(std::time::Duration::from_secs(n)),
            _ => {
                self.problem(
                    &Path::root().key("ponte").key("discord_timeout_seconds"),
                    format!(
                        "{n} is out of range: use 1 to 60 (seconds one call to Discord may take; \
                         Discord wants an interaction answered within 3)"
                    ),
                );
                None
            }
        }
    }

    /// `[ponte].health_addr`: an address and a non-zero port.
    fn health_addr(&mut self, raw: Option<String>) -> Option<Option<std::net::SocketAddr>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let path = Path::root().key("ponte").key("health_addr");
        match raw.trim().parse::<std::net::SocketAddr>() {
            Ok(addr) if addr.port() != 0 => Some(Some(addr)),
            Ok(_) => {
                self.problem(
                    &path,
                    "the port is 0: give a fixed port, e.g. \"127.0.0.1:9464\"",
                );
                None
            }
            Err(_) => {
                self.problem(
                    &path,
                    format!(
                        "`{raw}` is not an address and port: write e.g. \"127.0.0.1:9464\" (a local address)"
                    ),
                );
                None
            }
        }
    }

    fn ponte(&mut self, raw: RawPonte) -> Option<(PathBuf, u32, Lang)> {
        let path = Path::root().key("ponte");
        let data_dir = match raw.data_dir {
            None => Some(PathBuf::from(Config::DEFAULT_DATA_DIR)),
            Some(dir) if dir.as_os_str().is_empty() => {
                self.problem(
                    &path.key("data_dir"),
                    format!(
                        "empty: give the directory for Ponte's data, e.g. \"{}\"",
                        Config::DEFAULT_DATA_DIR
                    ),
                );
                None
            }
            Some(dir) => Some(dir),
        };
        let range = Config::CACHE_CAPACITY_MB;
        let cache = match raw.cache_capacity_mb {
            None => Some(Config::DEFAULT_CACHE_CAPACITY_MB),
            Some(mb) => match u32::try_from(mb) {
                Ok(mb) if range.contains(&mb) => Some(mb),
                _ => {
                    self.problem(
                        &path.key("cache_capacity_mb"),
                        format!(
                            "{mb} is out of range: use {} to {} (megabytes)",
                            range.start(),
                            range.end()
                        ),
                    );
                    None
                }
            },
        };
        let language = self.language(raw.language, &path.key("language"), Lang::En);
        Some((data_dir?, cache?, language?))
    }

    fn language(&mut self, raw: Option<String>, path: &Path, default: Lang) -> Option<Lang> {
        match raw {
            None => Some(default),
            Some(code) => code
                .parse()
                .map_err(|e: super::UnknownLanguage| self.problem(path, e.to_string()))
                .ok(),
        }
    }

    /// The name of an environment variable holding a secret (`what` says
    /// which, when it is missing; `example` shows a good name).
    fn env_var(
        &mut self,
        value: Option<String>,
        path: &Path,
        what: &str,
        example: &str,
    ) -> Option<String> {
        let v = self.required(value, path, what)?;
        let ok = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Some(v)
        } else {
            self.problem(
                path,
                format!(
                    "give the name of an environment variable (capitals, digits and _), \
                     e.g. \"{example}\"; the secret itself never goes in this file"
                ),
            );
            None
        }
    }

    fn required<T>(&mut self, value: Option<T>, path: &Path, what: &str) -> Option<T> {
        if value.is_none() {
            self.problem(path, format!("missing: {what}"));
        }
        value
    }

    /// A display name: present, not blank, not too long; trimmed.
    fn name(&mut self, raw: Option<String>, path: &Path, what: &str) -> Option<String> {
        let name = self.required(raw, path, what)?;
        match text::bounded(&name, NAME_MAX) {
            Ok(name) => Some(name),
            Err(text::Bounds::Empty) => {
                self.problem(path, format!("empty: {what}"));
                None
            }
            Err(text::Bounds::TooLong { len }) => {
                self.problem(
                    path,
                    format!("{len} characters is too long: the most is {NAME_MAX}"),
                );
                None
            }
        }
    }

    fn side(&mut self, raw: Option<String>, path: &Path, default: Option<Side>) -> Option<Side> {
        let raw = match (raw, default) {
            (None, Some(side)) => return Some(side),
            (raw, _) => self.required(
                raw,
                path,
                "the side that owns it: \"internal\" (the company's IT) or \"msp\"",
            )?,
        };
        match raw.as_str() {
            "internal" => Some(Side::Internal),
            "msp" => Some(Side::Msp),
            other => {
                let shown: String = other.chars().take(20).collect();
                self.problem(
                    path,
                    format!(
                        "unknown side `{shown}`: use \"internal\" (the company's IT) or \"msp\""
                    ),
                );
                None
            }
        }
    }

    fn priority(
        &mut self,
        raw: Option<String>,
        path: &Path,
        default: Option<Priority>,
    ) -> Option<Priority> {
        let raw = match (raw, default) {
            (None, Some(priority)) => return Some(priority),
            (raw, _) => self.required(raw, path, "a priority, \"P1\" (most urgent) to \"P4\"")?,
        };
        raw.parse::<Priority>()
            .map_err(|e| self.problem(path, e.to_string()))
            .ok()
    }

    fn nonzero(&mut self, raw: RawId, path: &Path) -> Option<NonZeroU64> {
        let id = NonZeroU64::new(raw.0);
        if id.is_none() {
            self.problem(
                path,
                "0 is not a Discord id: copy the id in Discord with Developer Mode on (right click, Copy ID)",
            );
        }
        id
    }

    fn guild(&mut self, raw: Option<RawId>, path: &Path, what: &str) -> Option<GuildId> {
        let raw = self.required(raw, path, what)?;
        self.nonzero(raw, path).map(GuildId::from)
    }

    fn channel(&mut self, raw: RawId, path: &Path) -> Option<ChannelId> {
        let id = self.nonzero(raw, path)?;
        if let Some(first) = self.channels.get(&id.get()).cloned() {
            let first = self.there(&first);
            self.problem(
                path,
                format!("channel {id} is already {first}: each channel serves one purpose"),
            );
            return None;
        }
        self.channels.insert(id.get(), path.clone());
        Some(ChannelId::from(id))
    }

    /// A role of `side` in the server of `owner`, whose id is `guild`.
    fn role(
        &mut self,
        raw: RawId,
        path: &Path,
        owner: Owner,
        side: Side,
        guild: Option<u64>,
    ) -> Option<RoleId> {
        let id = self.nonzero(raw, path)?;
        if Some(id.get()) == guild {
            self.problem(
                path,
                "this is the server's @everyone role (its id is the server's): use a role given only to the right people",
            );
            return None;
        }
        match self.roles.get(&id.get()).cloned() {
            Some((first, first_owner, _)) if first_owner != owner => {
                let first = self.there(&first);
                self.problem(
                    path,
                    format!("role {id} is already {first}, in another server: each server has its own roles"),
                );
                None
            }
            Some((first, _, first_side)) if first_side != side => {
                let first = self.there(&first);
                self.problem(
                    path,
                    format!(
                        "role {id} is also {first}: internal IT and the MSP need different roles"
                    ),
                );
                None
            }
            Some(_) => Some(RoleId::from(id)),
            None => {
                self.roles.insert(id.get(), (path.clone(), owner, side));
                Some(RoleId::from(id))
            }
        }
    }

    fn msp(&mut self, raw: RawMsp, path: &Path, default: Lang) -> Option<MspConfig> {
        let server = match raw.guild_id {
            Some(_) => self.msp_server(&raw, path).map(Some),
            None => {
                for (key, value) in [
                    ("channel_id", raw.channel_id),
                    ("engineer_role_id", raw.engineer_role_id),
                    ("lead_role_id", raw.lead_role_id),
                ] {
                    if value.is_some() {
                        self.problem(
                            &path.key(key),
                            "only used with the MSP's own server: set msp.guild_id too, or remove this \
                             and give each client `channels.msp` and `roles.msp_engineer`",
                        );
                    }
                }
                Some(None)
            }
        };
        let name = self.name(raw.name, &path.key("name"), "the MSP's name");
        let language = self.language(raw.language, &path.key("language"), default);
        let digest = self.lead_digest(raw.digest, &path.key("digest"));
        Some(MspConfig {
            name: name?,
            language: language?,
            server: server?,
            digest: digest?,
        })
    }

    fn msp_server(&mut self, raw: &RawMsp, path: &Path) -> Option<MspServer> {
        let guild_id = self.guild(raw.guild_id, &path.key("guild_id"), "the MSP's server")?;
        let guild = Some(guild_id.get());
        let because = "the MSP has its own server (msp.guild_id is set)";
        let channel_path = path.key("channel_id");
        let queue_channel = self
            .required(
                raw.channel_id,
                &channel_path,
                &format!("{because}, so give the channel of its task queue there"),
            )
            .and_then(|raw| self.channel(raw, &channel_path));
        let mut role = |value: Option<RawId>, key: &str, what: &str| {
            let role_path = path.key(key);
            let value = self.required(
                value,
                &role_path,
                &format!("{because}, so give the role of its {what} there"),
            )?;
            self.role(value, &role_path, Owner::MspServer, Side::Msp, guild)
        };
        let engineer_role = role(raw.engineer_role_id, "engineer_role_id", "engineers");
        let lead_role = role(raw.lead_role_id, "lead_role_id", "leads");
        Some(MspServer {
            guild_id,
            queue_channel: queue_channel?,
            engineer_role: engineer_role?,
            lead_role: lead_role?,
        })
    }

    fn categories(&mut self, raws: Vec<RawCategory>) -> Option<Vec<CategoryRule>> {
        let list = Path::root().key("categories");
        let mut names: HashMap<Category, Path> = HashMap::new();
        let mut keywords: HashMap<String, Path> = HashMap::new();
        let mut rules = Some(Vec::with_capacity(raws.len()));
        for (i, raw) in raws.into_iter().enumerate() {
            let path = list.index(i);
            let name_path = path.key("name");
            let category = self
                .required(
                    raw.name,
                    &name_path,
                    "the category's name, e.g. \"network\"",
                )
                .and_then(|n| {
                    Category::new(n.trim())
                        .map_err(|e| self.problem(&name_path, e.to_string()))
                        .ok()
                });
            if let Some(category) = &category {
                if let Some(first) = names.get(category) {
                    let first = self.there(first);
                    self.problem(
                        &name_path,
                        format!("category `{category}` is already defined at {first}"),
                    );
                } else {
                    names.insert(category.clone(), name_path.clone());
                }
            }
            let words = self.keywords(raw.keywords, &path.key("keywords"), &mut keywords);
            let actions = self.words_list(raw.actions, &path.key("actions"));
            let owner = self.side(raw.owner, &path.key("owner"), None);
            let priority = self.priority(raw.priority, &path.key("priority"), None);
            let rule = (|| {
                Some(CategoryRule {
                    category: category?,
                    keywords: words?,
                    owner: owner?,
                    priority: priority?,
                    needs_approval: raw.needs_approval.unwrap_or(false),
                    actions,
                })
            })();
            match (rule, rules.as_mut()) {
                (Some(rule), Some(rules)) => rules.push(rule),
                _ => rules = None,
            }
        }
        rules
    }

    /// A category's keywords; `seen` holds the keywords of the categories
    /// before, normalized as matching sees them.
    /// Words or phrases that must each have a letter or digit (an empty
    /// list is fine).
    fn words_list(&mut self, raw: Vec<String>, path: &Path) -> Vec<String> {
        for (j, word) in raw.iter().enumerate() {
            if text::words(word).is_empty() {
                self.problem(
                    &path.index(j),
                    format!("`{word}` has no letters or digits, so it can never match"),
                );
            }
        }
        raw.into_iter()
            .filter(|w| !text::words(w).is_empty())
            .collect()
    }

    fn keywords(
        &mut self,
        raw: Option<Vec<String>>,
        path: &Path,
        seen: &mut HashMap<String, Path>,
    ) -> Option<Vec<String>> {
        let raw = self.required(
            raw,
            path,
            "the words that send a request here, in English and Italian, e.g. [\"vpn\", \"rete\"]",
        )?;
        if raw.is_empty() {
            self.problem(
                path,
                "empty: list at least one word that sends a request here, e.g. [\"vpn\", \"rete\"]",
            );
            return None;
        }
        let mut ok = true;
        let mut mine: HashSet<String> = HashSet::new();
        for (j, keyword) in raw.iter().enumerate() {
            let kw_path = path.index(j);
            let normal = text::words(keyword).join(" ");
            if normal.is_empty() {
                self.problem(
                    &kw_path,
                    format!("`{keyword}` has no letters or digits, so it can never match"),
                );
                ok = false;
            } else if !mine.insert(normal.clone()) {
                self.problem(&kw_path, format!("`{keyword}` is listed twice"));
                ok = false;
            } else if let Some(first) = seen.get(&normal) {
                let first = self.there(first);
                self.problem(
                    &kw_path,
                    format!(
                        "`{keyword}` is already a keyword at {first}; the category listed first wins, \
                         so keep it in only one category"
                    ),
                );
                ok = false;
            }
        }
        for (j, keyword) in raw.iter().enumerate() {
            let normal = text::words(keyword).join(" ");
            seen.entry(normal).or_insert_with(|| path.index(j));
        }
        ok.then(|| raw.iter().map(|k| k.trim().to_owned()).collect())
    }

    fn clients(
        &mut self,
        raws: Vec<RawClient>,
        context: &Context<'_>,
        msp_has_server: bool,
    ) -> Option<Vec<ClientConfig>> {
        let list = Path::root().key("clients");
        if raws.is_empty() {
            self.problem(
                &list,
                "no clients: add a [[clients]] table for each client company",
            );
            return None;
        }
        let mut taken = Taken::default();
        let mut clients = Some(Vec::with_capacity(raws.len()));
        for (i, raw) in raws.into_iter().enumerate() {
            let client = self.client(i, raw, &list.index(i), context, msp_has_server, &mut taken);
            match (client, clients.as_mut()) {
                (Some(client), Some(clients)) => clients.push(client),
                _ => clients = None,
            }
        }
        clients
    }

    fn client(
        &mut self,
        index: usize,
        raw: RawClient,
        path: &Path,
        context: &Context<'_>,
        msp_has_server: bool,
        taken: &mut Taken,
    ) -> Option<ClientConfig> {
        let name_path = path.key("name");
        let name = self.name(
            raw.name,
            &name_path,
            "the company's name, e.g. \"Acme Manufacturing\"",
        );
        if let Some(name) = &name {
            let folded = name.to_lowercase();
            if let Some(first) = taken.names.get(&folded) {
                let first = self.there(first);
                self.problem(
                    &name_path,
                    format!("`{name}` is already the name at {first}: client names must differ, ignoring case"),
                );
            } else {
                taken.names.insert(folded, name_path.clone());
            }
        }

        let key_path = path.key("key");
        let key = self
            .required(
                raw.key,
                &key_path,
                "the client's short code for task ids, e.g. \"ACME\"",
            )
            .and_then(|k| {
                ClientKey::new(k.trim())
                    .map_err(|e| self.problem(&key_path, e.to_string()))
                    .ok()
            });
        if let Some(key) = &key {
            if let Some(first) = taken.keys.get(key) {
                let first = self.there(first);
                self.problem(
                    &key_path,
                    format!("`{key}` is already the key at {first}: each client needs its own key"),
                );
            } else {
                taken.keys.insert(key.clone(), key_path.clone());
            }
        }

        let language = self.language(raw.language, &path.key("language"), context.language);

        let tz_path = path.key("time_zone");
        let time_zone = self
            .required(
                raw.time_zone,
                &tz_path,
                "the company's time zone, an IANA name such as \"Europe/Rome\"",
            )
            .and_then(|name| match TimeZone::get(name.trim()) {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let shown: String = name.chars().take(40).collect();
                    self.problem(
                        &tz_path,
                        format!(
                            "unknown time zone `{shown}`: use an IANA name such as \"Europe/Rome\" or \"Europe/London\""
                        ),
                    );
                    None
                }
            });

        let guild_path = path.key("guild_id");
        let guild_id = self.guild(
            raw.guild_id,
            &guild_path,
            "the id of the company's Discord server",
        );
        if let Some(guild) = guild_id {
            if Some(guild.get()) == context.msp_guild {
                let msp = self.there(&Path::root().key("msp").key("guild_id"));
                self.problem(
                    &guild_path,
                    format!("server {guild} is the MSP's own server, {msp}: a client needs its own server"),
                );
            } else if let Some(first) = taken.guilds.get(&guild.get()) {
                let first = self.there(first);
                self.problem(
                    &guild_path,
                    format!("server {guild} is already {first}: each client has its own server"),
                );
            } else {
                taken.guilds.insert(guild.get(), guild_path.clone());
            }
        }

        let default_side = self.side(
            raw.default_side,
            &path.key("default_side"),
            Some(Side::Internal),
        );
        let default_priority = self.priority(
            raw.default_priority,
            &path.key("default_priority"),
            Some(Priority::P3),
        );

        let no_msp_server = "the MSP has no server of its own (msp.guild_id is not set)";
        let ch = path.key("channels");
        let raw_channels = raw.channels.unwrap_or_default();
        let requests = self
            .required(
                raw_channels.requests,
                &ch.key("requests"),
                "the channel where the company's people ask for help",
            )
            .and_then(|id| self.channel(id, &ch.key("requests")));
        let internal_it = self.optional_channel(raw_channels.internal_it, &ch.key("internal_it"));
        let msp_channel = if msp_has_server {
            Some(raw_channels.msp)
        } else {
            self.required(
                raw_channels.msp,
                &ch.key("msp"),
                &format!("{no_msp_server}, so give its channel in the company's server"),
            )
            .map(Some)
        };
        let msp_channel = msp_channel.and_then(|id| self.optional_channel(id, &ch.key("msp")));

        let rl = path.key("roles");
        let raw_roles = raw.roles.unwrap_or_default();
        let owner = Owner::Client(index);
        let guild = guild_id.map(GuildId::get);
        let mut role = |raw: Option<RawId>, key: &str, side: Side, need: Option<&str>| {
            let role_path = rl.key(key);
            let raw = match need {
                Some(what) => Some(self.required(raw, &role_path, what)?),
                None => raw,
            };
            match raw {
                Some(raw) => self.role(raw, &role_path, owner, side, guild).map(Some),
                None => Some(None),
            }
        };
        let it_manager = role(
            raw_roles.it_manager,
            "it_manager",
            Side::Internal,
            Some("the role of the company's IT manager, who owns its territory"),
        );
        let it_technician = role(
            raw_roles.it_technician,
            "it_technician",
            Side::Internal,
            Some("the role of the company's IT technicians"),
        );
        let msp_need =
            format!("{no_msp_server}, so give the MSP engineers' role in the company's server");
        let msp_engineer = role(
            raw_roles.msp_engineer,
            "msp_engineer",
            Side::Msp,
            (!msp_has_server).then_some(msp_need.as_str()),
        );
        let msp_lead = role(raw_roles.msp_lead, "msp_lead", Side::Msp, None);

        let critical = self.words_list(raw.critical_systems, &path.key("critical_systems"));
        let integrations = self.integrations(
            raw.integrations,
            &path.key("integrations"),
            &context.category_names,
        );
        let heartbeats = self.heartbeats(
            raw.heartbeats,
            &path.key("heartbeats"),
            &context.category_names,
        );
        let territory = self.territory(raw.territory, &path.key("territory"), context);
        let calendar = self.hours(raw.hours, &path.key("hours"), time_zone.as_ref());
        let sla = self.sla(raw.sla, &path.key("sla"));
        let digest_channels =
            requests
                .zip(internal_it)
                .map(|(requests, internal_it)| ClientChannels {
                    requests,
                    internal_it,
                    msp: None,
                });
        let digest = self.digest(raw.digest, &path.key("digest"), digest_channels.as_ref());
        let routing = (|| {
            Some(ClientRouting {
                categories: territory.as_ref()?.apply(context.rules?),
                default_side: default_side?,
                default_priority: default_priority?,
                critical,
            })
        })();

        Some(ClientConfig {
            key: key?,
            name: name?,
            language: language?,
            time_zone: time_zone?,
            guild_id: guild_id?,
            channels: ClientChannels {
                requests: requests?,
                internal_it: internal_it?,
                msp: msp_channel?,
            },
            roles: ClientRoles {
                it_manager: it_manager??,
                it_technician: it_technician??,
                msp_engineer: msp_engineer?,
                msp_lead: msp_lead?,
            },
            territory: territory?,
            routing: routing?,
            calendar: calendar?,
            sla: sla?,
            digest: digest?,
            integrations: integrations?,
            heartbeats: heartbeats?,
        })
    }

    /// Business hours: each weekday as `"09:00-13:00, 14:00-18:00"` (a day
    /// left out or `"closed"` is closed; `24:00` ends at midnight), and
    /// holidays as dates. Without the table: Monday to Friday, 09:00-18:00.
    fn hours(
        &mut self,
        raw: Option<RawHours>,
        path: &Path,
        tz: Option<&TimeZone>,
    ) -> Option<BusinessCalendar> {
        let tz = tz?.clone();
        let Some(raw) = raw else {
            let day = (Time::constant(9, 0, 0, 0), Time::constant(18, 0, 0, 0));
            return BusinessCalendar::weekdays(tz, &[day], BTreeSet::new()).ok();
        };
        let days = [
            ("monday", raw.monday),
            ("tuesday", raw.tuesday),
            ("wednesday", raw.wednesday),
            ("thursday", raw.thursday),
            ("friday", raw.friday),
            ("saturday", raw.saturday),
            ("sunday", raw.sunday),
        ];
        let mut hours: [Vec<(Time, Time)>; 7] = Default::default();
        let mut ok = true;
        for (i, (name, text)) in days.into_iter().enumerate() {
            let Some(text) = text else { continue };
            match parse_day_hours(&text) {
                Ok(ranges) => hours[i] = ranges,
                Err(why) => {
                    self.problem(&path.key(name), why);
                    ok = false;
                }
            }
        }
        let mut holidays = BTreeSet::new();
        for (j, text) in raw.holidays.iter().enumerate() {
            match text.trim().parse::<jiff::civil::Date>() {
                Ok(date) => {
                    holidays.insert(date);
                }
                Err(_) => {
                    let shown: String = text.chars().take(40).collect();
                    self.problem(
                        &path.key("holidays").index(j),
                        format!("`{shown}` is not a date: write it as \"2026-12-25\""),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        match BusinessCalendar::new(tz, hours, holidays) {
            Ok(calendar) => Some(calendar),
            Err(e) => {
                self.problem(path, format!("{e}: fix the opening hours"));
                None
            }
        }
    }

    /// `Some(None)` when absent, `Some(Some(id))` when valid, `None` when not.
    fn optional_channel(&mut self, raw: Option<RawId>, path: &Path) -> Option<Option<ChannelId>> {
        match raw {
            None => Some(None),
            Some(raw) => self.channel(raw, path).map(Some),
        }
    }

    fn territory(
        &mut self,
        raw: RawTerritory,
        path: &Path,
        context: &Context<'_>,
    ) -> Option<Territory> {
        let it_owns = self.category_list(&raw.it_owns, &path.key("it_owns"), context);
        let msp_handles = self.category_list(&raw.msp_handles, &path.key("msp_handles"), context);
        let needs_approval =
            self.category_list(&raw.needs_approval, &path.key("needs_approval"), context);
        let mut ok = true;
        for (j, name) in raw.msp_handles.iter().enumerate() {
            if let Some(k) = raw.it_owns.iter().position(|n| n.trim() == name.trim()) {
                let other = self.there(&path.key("it_owns").index(k));
                self.problem(
                    &path.key("msp_handles").index(j),
                    format!(
                        "`{}` is also in {other}: a category has one owner",
                        name.trim()
                    ),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(Territory {
            it_owns: it_owns?,
            msp_handles: msp_handles?,
            needs_approval: needs_approval?,
        })
    }

    fn category_list(
        &mut self,
        names: &[String],
        path: &Path,
        context: &Context<'_>,
    ) -> Option<Vec<Category>> {
        let mut list = Some(Vec::with_capacity(names.len()));
        for (j, name) in names.iter().enumerate() {
            let item = path.index(j);
            let name = name.trim();
            let known = context.category_names.iter().any(|n| n == name);
            let category = if !known {
                let all = context.category_names.join(", ");
                let shown: String = name.chars().take(40).collect();
                self.problem(
                    &item,
                    if all.is_empty() {
                        format!("unknown category `{shown}`: there are no [[categories]]")
                    } else {
                        format!("unknown category `{shown}`; the categories are: {all}")
                    },
                );
                None
            } else if names[..j].iter().any(|n| n.trim() == name) {
                self.problem(&item, format!("`{name}` is listed twice"));
                None
            } else {
                // A known name that is not a valid category was reported at
                // the category itself.
                Category::new(name).ok()
            };
            match (category, list.as_mut()) {
                (Some(c), Some(list)) => list.push(c),
                _ => list = None,
            }
        }
        list
    }
}

/// One day's opening hours: `"09:00-13:00, 14:00-18:00"`, or `"closed"`.
fn parse_day_hours(text: &str) -> Result<Vec<(Time, Time)>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let shown: String = text.chars().take(60).collect();
    let bad = || {
        format!(
            "`{shown}` is not opening hours: write ranges like \"09:00-13:00, 14:00-18:00\", or \"closed\""
        )
    };
    let time = |t: &str| -> Option<Time> {
        let t = t.trim();
        if t == "24:00" {
            return Some(Time::midnight());
        }
        let (h, m) = t.split_once(':')?;
        let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
        Time::new(h, m, 0, 0).ok()
    };
    text.split(',')
        .map(|range| {
            let (start, end) = range.split_once('-').ok_or_else(bad)?;
            match (time(start), time(end)) {
                (Some(start), Some(end)) => Ok((start, end)),
                _ => Err(bad()),
            }
        })
        .collect()
}
