//! The emulator's world at run time and the Discord-shaped JSON it renders.
//!
//! Everything lives behind one mutex (`Shared::state`): REST handlers, gateway
//! connections and the test API take it briefly, so every change and the gateway
//! dispatches it causes happen in one order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::model::{
    EmuError, Exchange, GatewayStats, InteractionResponse, Message, MessageVersion, Modal,
    ModalField, Violation,
};
use super::world::{BOT_ROLE_PERMISSIONS, EVERYONE_PERMISSIONS, World};

pub(crate) const INTENT_GUILDS: u64 = 1;
pub(crate) const INTENT_GUILD_MEMBERS: u64 = 1 << 1;
pub(crate) const INTENT_GUILD_MESSAGES: u64 = 1 << 9;
pub(crate) const INTENT_DIRECT_MESSAGES: u64 = 1 << 12;
pub(crate) const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;

pub(crate) const FLAG_HAS_THREAD: u64 = 1 << 5;
pub(crate) const FLAG_EPHEMERAL: u64 = 1 << 6;
pub(crate) const FLAG_LOADING: u64 = 1 << 7;

/// Dispatches kept per session for RESUME.
const LOG_CAPACITY: usize = 10_000;
/// Exchanges and dispatch frames kept for [`super::Emulator::exchanges`] and
/// [`super::Emulator::dispatches`] (the oldest are dropped, so a long sandbox
/// session does not grow without bound).
pub(crate) const HISTORY_CAPACITY: usize = 20_000;

/// Appends to a bounded history.
pub(crate) fn push_bounded<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= HISTORY_CAPACITY {
        list.drain(..HISTORY_CAPACITY / 4);
    }
    list.push(item);
}

const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A frame for a gateway connection task.
#[derive(Debug)]
pub(crate) enum Out {
    Text(String),
    /// End the connection without a close frame (the TCP socket is just dropped).
    Abort,
}

pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) tx: UnboundedSender<Out>,
}

pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) intents: u64,
    pub(crate) shard: (u64, u64),
    pub(crate) seq: u64,
    pub(crate) log: VecDeque<(u64, String)>,
    pub(crate) conn: Option<Conn>,
}

impl Session {
    fn serves_guild(&self, guild_id: Option<u64>) -> bool {
        let (shard, total) = self.shard;
        match guild_id {
            Some(g) => (g >> 22) % total.max(1) == shard,
            None => shard == 0,
        }
    }
}

pub(crate) struct UserRec {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) locale: String,
    pub(crate) bot: bool,
}

pub(crate) struct RoleRec {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) permissions: u64,
    pub(crate) position: usize,
    pub(crate) bot_role: bool,
}

pub(crate) struct MemberRec {
    pub(crate) nick: Option<String>,
    pub(crate) roles: Vec<u64>,
    pub(crate) joined_at: String,
}

pub(crate) struct GuildRec {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) owner_id: u64,
    pub(crate) locale: String,
    pub(crate) roles: Vec<RoleRec>,
    pub(crate) members: BTreeMap<u64, MemberRec>,
    pub(crate) channels: Vec<u64>,
    pub(crate) threads: Vec<u64>,
    pub(crate) joined_at: String,
}

pub(crate) struct ChannelRec {
    pub(crate) id: u64,
    pub(crate) kind: u8,
    pub(crate) name: String,
    pub(crate) guild_id: Option<u64>,
    pub(crate) parent_id: Option<u64>,
    pub(crate) topic: Option<String>,
    pub(crate) position: usize,
    /// DM channels: the other user.
    pub(crate) recipient: Option<u64>,
    /// Threads: who started it, and when.
    pub(crate) owner_id: Option<u64>,
    pub(crate) created_at: String,
    pub(crate) auto_archive_duration: u64,
    pub(crate) last_message_id: Option<u64>,
    pub(crate) messages: Vec<u64>,
    /// Permission overwrites, applied as Discord documents
    /// (<https://discord.com/developers/docs/topics/permissions#permission-overwrites>).
    pub(crate) overwrites: Vec<Overwrite>,
    /// Threads: archived (a post unarchives it, unless it is locked) and
    /// locked (<https://discord.com/developers/docs/topics/threads#archiving-inactivity>).
    pub(crate) archived: bool,
    pub(crate) locked: bool,
}

/// A channel's permission overwrite for a role (`member: false`) or a member.
#[derive(Clone, Debug)]
pub(crate) struct Overwrite {
    pub(crate) id: u64,
    pub(crate) member: bool,
    pub(crate) allow: u64,
    pub(crate) deny: u64,
}

impl ChannelRec {
    pub(crate) fn is_thread(&self) -> bool {
        matches!(self.kind, 10..=12)
    }
}

pub(crate) struct MessageRec {
    pub(crate) json: Value,
    pub(crate) versions: Vec<Value>,
    pub(crate) allowed_mentions: Option<Value>,
    pub(crate) interaction_id: Option<u64>,
    pub(crate) guild_id: Option<u64>,
    pub(crate) deleted: bool,
}

impl MessageRec {
    pub(crate) fn flags(&self) -> u64 {
        self.json.get("flags").and_then(Value::as_u64).unwrap_or(0)
    }
    pub(crate) fn channel_id(&self) -> u64 {
        id_of(&self.json["channel_id"])
    }
    pub(crate) fn author_id(&self) -> u64 {
        id_of(&self.json["author"]["id"])
    }
}

pub(crate) struct Callback {
    pub(crate) kind: u8,
    pub(crate) body: Value,
}

pub(crate) struct InteractionRec {
    pub(crate) id: u64,
    pub(crate) token: String,
    /// 2 application command, 3 component, 5 modal submit.
    pub(crate) kind: u8,
    /// For commands: 1 chat input, 2 user, 3 message.
    pub(crate) command_type: u8,
    pub(crate) user_id: u64,
    pub(crate) channel_id: u64,
    pub(crate) guild_id: Option<u64>,
    pub(crate) created: Instant,
    pub(crate) payload: Value,
    /// The message whose component was used (components, and modals opened from one).
    pub(crate) source_message: Option<u64>,
    /// The interaction whose modal this one submits.
    pub(crate) parent: Option<u64>,
    pub(crate) callback: Option<Callback>,
    pub(crate) original: Option<u64>,
    pub(crate) followups: Vec<u64>,
    pub(crate) modal: Option<Value>,
    /// After a deferred update (type 6): the bot edited the message since.
    pub(crate) answered_late: bool,
}

pub(crate) struct Fault {
    pub(crate) matcher: super::model::RouteMatch,
    pub(crate) status: u16,
    pub(crate) remaining: usize,
}

pub(crate) struct Opts {
    pub(crate) deadline: Duration,
    pub(crate) token_lifetime: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) message_content_granted: bool,
}

pub(crate) struct State {
    pub(crate) token: String,
    pub(crate) bot_id: u64,
    pub(crate) app_id: u64,
    pub(crate) app_name: String,
    pub(crate) users: BTreeMap<u64, UserRec>,
    pub(crate) guilds: BTreeMap<u64, GuildRec>,
    pub(crate) channels: BTreeMap<u64, ChannelRec>,
    pub(crate) messages: HashMap<u64, MessageRec>,
    pub(crate) dms: HashMap<u64, u64>,
    pub(crate) guild_commands: BTreeMap<u64, Vec<Value>>,
    pub(crate) global_commands: Vec<Value>,
    pub(crate) command_ids: HashMap<String, u64>,
    pub(crate) interactions: HashMap<u64, InteractionRec>,
    pub(crate) tokens: HashMap<String, u64>,
    pub(crate) sessions: Vec<Session>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) faults: Vec<Fault>,
    /// Raw text rewrites of dispatch frames (`needle` → `replacement`),
    /// applied after the frame is serialized: a fault that sends what
    /// serde_json would never write (e.g. a lone UTF-16 surrogate `\ud800`).
    pub(crate) rewrites: Vec<(String, String)>,
    /// People's input beyond Discord's limits is let through (a fault: a
    /// hostile or broken client), for tests of what the bot does with it.
    pub(crate) oversized_input: bool,
    pub(crate) frames: Vec<Value>,
    pub(crate) stats: GatewayStats,
    pub(crate) opts: Opts,
    pub(crate) gateway_url: String,
    last_id: u64,
    rng: u64,
    /// Told of callbacks and new messages (the load tool).
    pub(crate) observer: Option<super::observe::Observer>,
    /// Files the bot uploaded, by attachment id.
    pub(crate) uploads: HashMap<u64, Vec<u8>>,
    /// `enforce_nonce`: (channel, author, nonce) -> the message it created
    /// and when (real time, like Discord's "past few minutes").
    pub(crate) nonces: HashMap<(u64, u64, String), (u64, std::time::Instant)>,
    /// People who do not accept direct messages from the bot (a fault):
    /// Discord answers 50007 to a message in their DM
    /// (<https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>).
    pub(crate) dms_closed: std::collections::HashSet<u64>,
    /// Channels and threads deleted (a fault): calls about them are answered
    /// 10003 as Discord does, not counted as the bot's mistakes.
    pub(crate) deleted_channels: std::collections::HashSet<u64>,
    /// REST requests served (for `ponte load`: calls per task).
    pub(crate) rest_requests: u64,
    /// Of those, answered 429 (rate limited).
    pub(crate) rest_limited: u64,
    /// Discord's rate limits: buckets and the global limit.
    pub(crate) limiter: super::ratelimit::RateLimiter,
    /// Routes that answer late, and how late (`Duration::MAX`: never).
    pub(crate) delays: Vec<Delay>,
    /// Where message times and snowflakes come from: the wall clock, or
    /// the clock of a test or sandbox driving the bot (`Emulator::set_time`).
    pub(crate) time: Option<TimeSource>,
}

/// A route that answers late (a fault): latency, or a hang.
pub(crate) struct Delay {
    pub(crate) matcher: super::model::RouteMatch,
    pub(crate) by: Duration,
    /// How many more requests; `None`: all of them.
    pub(crate) remaining: Option<usize>,
}

/// A clock for the emulator's timestamps and snowflakes (the time now).
pub type TimeSource = std::sync::Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// The current time as Discord writes timestamps (RFC 3339, UTC, microseconds).
pub(crate) fn now_iso() -> String {
    iso(jiff::Timestamp::now())
}

/// `now` as Discord writes timestamps.
pub(crate) fn iso(now: jiff::Timestamp) -> String {
    let micros = now.as_microsecond();
    jiff::Timestamp::from_microsecond(micros)
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// A snowflake id in a JSON value (string or number); 0 if absent.
pub(crate) fn id_of(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn s(id: u64) -> Value {
    Value::String(id.to_string())
}

/// How long Discord remembers a nonce sent with `enforce_nonce` ("the past
/// few minutes").
pub(crate) const NONCE_WINDOW: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The nonce of a message payload sent with `enforce_nonce: true`.
pub(crate) fn enforced_nonce(payload: &Value) -> Option<String> {
    if payload.get("enforce_nonce").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    match payload.get("nonce")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl State {
    /// The message an earlier request with the same enforced nonce created
    /// in this channel within [`NONCE_WINDOW`], if it still exists: Discord
    /// returns it instead of creating another.
    pub(crate) fn nonce_hit(
        &mut self,
        channel_id: u64,
        author_id: u64,
        payload: &Value,
    ) -> Option<u64> {
        let nonce = enforced_nonce(payload)?;
        let now = std::time::Instant::now();
        self.nonces
            .retain(|_, (_, at)| now.duration_since(*at) < NONCE_WINDOW);
        let (id, _) = self.nonces.get(&(channel_id, author_id, nonce))?;
        self.messages.get(id).filter(|m| !m.deleted).map(|_| *id)
    }

    /// Remembers the message an enforced nonce created.
    pub(crate) fn remember_nonce(
        &mut self,
        channel_id: u64,
        author_id: u64,
        payload: &Value,
        id: u64,
    ) {
        if let Some(nonce) = enforced_nonce(payload) {
            self.nonces.insert(
                (channel_id, author_id, nonce),
                (id, std::time::Instant::now()),
            );
        }
    }

    pub(crate) fn new(world: World, gateway_url: String) -> Result<Self, String> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        let mut state = State {
            token: world.token.clone(),
            bot_id: world.bot.id,
            app_id: world.application_id,
            app_name: world.application_name.clone(),
            users: BTreeMap::new(),
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: HashMap::new(),
            dms: HashMap::new(),
            guild_commands: BTreeMap::new(),
            global_commands: Vec::new(),
            command_ids: HashMap::new(),
            interactions: HashMap::new(),
            tokens: HashMap::new(),
            sessions: Vec::new(),
            violations: Vec::new(),
            exchanges: Vec::new(),
            faults: Vec::new(),
            rewrites: Vec::new(),
            oversized_input: false,
            frames: Vec::new(),
            stats: GatewayStats::default(),
            opts: Opts {
                deadline: world.interaction_deadline,
                token_lifetime: world.token_lifetime,
                retry_after: world.retry_after,
                heartbeat_interval: world.heartbeat_interval,
                message_content_granted: world.message_content_granted,
            },
            gateway_url,
            last_id: 0,
            rng: seed | 1,
            observer: None,
            uploads: HashMap::new(),
            nonces: HashMap::new(),
            dms_closed: std::collections::HashSet::new(),
            rest_requests: 0,
            rest_limited: 0,
            deleted_channels: std::collections::HashSet::new(),
            limiter: super::ratelimit::RateLimiter::new(super::ratelimit::Limits::lenient()),
            delays: Vec::new(),
            time: None,
        };
        let add_user = |state: &mut State, u: &super::world::UserSpec| -> Result<(), String> {
            if u.id == 0 {
                return Err(format!("user {:?} has id 0", u.name));
            }
            if state.users.contains_key(&u.id) {
                return Err(format!("user id {} is declared twice", u.id));
            }
            state.users.insert(
                u.id,
                UserRec {
                    id: u.id,
                    name: u.name.clone(),
                    locale: u.locale.clone(),
                    bot: u.bot,
                },
            );
            Ok(())
        };
        add_user(&mut state, &world.bot)?;
        for u in &world.users {
            add_user(&mut state, u)?;
        }
        let joined = now_iso();
        for g in &world.guilds {
            if g.id == 0 || state.guilds.contains_key(&g.id) {
                return Err(format!("guild id {} is 0 or declared twice", g.id));
            }
            let mut roles = vec![RoleRec {
                id: g.id,
                name: "@everyone".to_string(),
                permissions: EVERYONE_PERMISSIONS,
                position: 0,
                bot_role: false,
            }];
            for (i, r) in g.roles.iter().enumerate() {
                roles.push(RoleRec {
                    id: r.id,
                    name: r.name.clone(),
                    permissions: r.permissions,
                    position: i + 1,
                    bot_role: false,
                });
            }
            let bot_role = state.next_id();
            roles.push(RoleRec {
                id: bot_role,
                name: world.bot.name.clone(),
                permissions: BOT_ROLE_PERMISSIONS,
                position: roles.len(),
                bot_role: true,
            });
            let mut members = BTreeMap::new();
            members.insert(
                state.bot_id,
                MemberRec {
                    nick: None,
                    roles: vec![bot_role],
                    joined_at: joined.clone(),
                },
            );
            for m in &g.members {
                if !state.users.contains_key(&m.user_id) {
                    return Err(format!(
                        "guild {} lists member {} who is not declared with World::user",
                        g.id, m.user_id
                    ));
                }
                for r in &m.roles {
                    if !roles.iter().any(|role| role.id == *r) {
                        return Err(format!("member {} has unknown role {r}", m.user_id));
                    }
                }
                members.insert(
                    m.user_id,
                    MemberRec {
                        nick: m.nick.clone(),
                        roles: m.roles.clone(),
                        joined_at: joined.clone(),
                    },
                );
            }
            let owner_id = g
                .owner_id
                .or_else(|| g.members.first().map(|m| m.user_id))
                .unwrap_or(state.bot_id);
            let mut channel_ids = Vec::new();
            for (i, c) in g.channels.iter().enumerate() {
                if c.id == 0 || state.channels.contains_key(&c.id) {
                    return Err(format!("channel id {} is 0 or declared twice", c.id));
                }
                if let Some(parent) = c.parent_id {
                    if !g.channels.iter().any(|p| p.id == parent && p.kind == 4) {
                        return Err(format!(
                            "channel {} is in {parent}, which is not a category of guild {}",
                            c.id, g.id
                        ));
                    }
                }
                state.channels.insert(
                    c.id,
                    ChannelRec {
                        id: c.id,
                        kind: c.kind,
                        name: c.name.clone(),
                        guild_id: Some(g.id),
                        parent_id: c.parent_id,
                        topic: c.topic.clone(),
                        position: i,
                        recipient: None,
                        owner_id: None,
                        created_at: joined.clone(),
                        auto_archive_duration: 1440,
                        last_message_id: None,
                        messages: Vec::new(),
                        overwrites: Vec::new(),
                        archived: false,
                        locked: false,
                    },
                );
                channel_ids.push(c.id);
            }
            state.guilds.insert(
                g.id,
                GuildRec {
                    id: g.id,
                    name: g.name.clone(),
                    owner_id,
                    locale: g.locale.clone(),
                    roles,
                    members,
                    channels: channel_ids,
                    threads: Vec::new(),
                    joined_at: joined.clone(),
                },
            );
        }
        Ok(state)
    }

    /// The time now: the wall clock's, or the driving clock's.
    pub(crate) fn now(&self) -> jiff::Timestamp {
        self.time
            .as_ref()
            .map_or_else(jiff::Timestamp::now, |time| time())
    }

    /// [`State::now`] as Discord writes timestamps.
    pub(crate) fn now_iso(&self) -> String {
        iso(self.now())
    }

    /// A new snowflake: milliseconds since Discord's epoch in the top bits,
    /// increasing; the time is [`State::now`] (a snowflake says when its
    /// message was sent, and bots read it so).
    pub(crate) fn next_id(&mut self) -> u64 {
        let ms = u64::try_from(self.now().as_millisecond())
            .unwrap_or(0)
            .saturating_sub(DISCORD_EPOCH_MS);
        self.last_id = (self.last_id + 1).max(ms << 22);
        self.last_id
    }

    pub(crate) fn random_hex(&mut self, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes * 2);
        while out.len() < bytes * 2 {
            // xorshift64*
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let v = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
            out.push_str(&format!("{v:016x}"));
        }
        out.truncate(bytes * 2);
        out
    }

    pub(crate) fn violation(
        &mut self,
        method: &str,
        path: &str,
        route: Option<&str>,
        reason: String,
    ) {
        tracing::warn!(method, path, reason = %reason, "emulator: violation");
        self.violations.push(Violation {
            method: method.to_string(),
            path: path.to_string(),
            route: route.map(str::to_string),
            reason,
        });
    }

    // ---------------------------------------------------------------- JSON shapes

    pub(crate) fn user_json(&self, id: u64) -> Value {
        match self.users.get(&id) {
            Some(u) => json!({
                "id": s(u.id),
                "username": u.name,
                "discriminator": "0",
                "global_name": if u.bot { Value::Null } else { Value::String(u.name.clone()) },
                "avatar": null,
                "banner": null,
                "accent_color": null,
                "bot": u.bot,
                "system": false,
                "public_flags": 0,
                "flags": 0,
                "avatar_decoration_data": null,
                "collectibles": null,
                "primary_guild": null,
            }),
            None => json!({"id": s(id), "username": "unknown-user", "discriminator": "0",
                "global_name": null, "avatar": null}),
        }
    }

    pub(crate) fn current_user_json(&self) -> Value {
        let mut user = self.user_json(self.bot_id);
        let obj = user.as_object_mut().expect("user is an object");
        obj.insert("verified".into(), json!(true));
        obj.insert("mfa_enabled".into(), json!(false));
        obj.insert("locale".into(), json!("en-US"));
        obj.insert("email".into(), Value::Null);
        obj.insert("premium_type".into(), json!(0));
        obj.insert("bio".into(), json!(""));
        user
    }

    pub(crate) fn application_flags(&self) -> u64 {
        // GATEWAY_GUILD_MEMBERS_LIMITED, and GATEWAY_MESSAGE_CONTENT when granted.
        let mut flags = 1 << 15;
        if self.opts.message_content_granted {
            flags |= 1 << 18;
        }
        flags
    }

    pub(crate) fn application_json(&self) -> Value {
        let owner = self
            .users
            .values()
            .find(|u| !u.bot)
            .map_or(Value::Null, |u| self.user_json(u.id));
        json!({
            "id": s(self.app_id),
            "name": self.app_name,
            "icon": null,
            "description": "",
            "summary": "",
            "type": null,
            "rpc_origins": [],
            "bot_public": false,
            "bot_require_code_grant": false,
            "bot": self.user_json(self.bot_id),
            "terms_of_service_url": null,
            "privacy_policy_url": null,
            "owner": owner,
            "verify_key": "0".repeat(64),
            "team": null,
            "guild_id": null,
            "primary_sku_id": null,
            "slug": null,
            "cover_image": null,
            "flags": self.application_flags(),
            "tags": [],
            "install_params": null,
            "custom_install_url": null,
            "role_connections_verification_url": null,
            "interactions_endpoint_url": null,
            "redirect_uris": [],
            "approximate_guild_count": self.guilds.len(),
            "integration_types_config": {"0": {}},
            "hook": true,
            "is_monetized": false,
        })
    }

    fn role_json(&self, r: &RoleRec) -> Value {
        let mut role = json!({
            "id": s(r.id),
            "name": r.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": r.position,
            "permissions": r.permissions.to_string(),
            "managed": r.bot_role,
            "mentionable": false,
            "flags": 0,
        });
        if r.bot_role {
            role["tags"] = json!({"bot_id": s(self.bot_id)});
        }
        role
    }

    pub(crate) fn roles_json(&self, guild_id: u64) -> Value {
        self.guilds.get(&guild_id).map_or(json!([]), |g| {
            Value::Array(g.roles.iter().map(|r| self.role_json(r)).collect())
        })
    }

    /// A member's permissions in a guild (owner and ADMINISTRATOR get everything).
    pub(crate) fn permissions(&self, guild_id: u64, user_id: u64) -> u64 {
        let Some(g) = self.guilds.get(&guild_id) else {
            return 0;
        };
        if g.owner_id == user_id {
            return (1 << 51) - 1;
        }
        let Some(m) = g.members.get(&user_id) else {
            return 0;
        };
        let mut perms = g
            .roles
            .iter()
            .find(|r| r.id == guild_id)
            .map_or(0, |r| r.permissions);
        for role in &m.roles {
            if let Some(r) = g.roles.iter().find(|r| r.id == *role) {
                perms |= r.permissions;
            }
        }
        if perms & (1 << 3) != 0 {
            return (1 << 51) - 1;
        }
        perms
    }

    /// A member's permissions in a channel: the guild's, then the
    /// overwrites of `@everyone`, of the member's roles and of the member, in
    /// Discord's order (<https://discord.com/developers/docs/topics/permissions#permission-overwrites>).
    /// A thread has its parent channel's. ADMINISTRATOR and the owner get
    /// everything.
    pub(crate) fn channel_permissions(&self, channel_id: u64, user_id: u64) -> u64 {
        let Some(mut channel) = self.channels.get(&channel_id) else {
            return 0;
        };
        if channel.is_thread() {
            match channel.parent_id.and_then(|p| self.channels.get(&p)) {
                Some(parent) => channel = parent,
                None => return 0,
            }
        }
        let Some(guild_id) = channel.guild_id else {
            return (1 << 51) - 1;
        };
        let base = self.permissions(guild_id, user_id);
        if base == (1 << 51) - 1 {
            return base;
        }
        let roles: Vec<u64> = self
            .guilds
            .get(&guild_id)
            .and_then(|g| g.members.get(&user_id))
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let mut perms = base;
        if let Some(o) = channel
            .overwrites
            .iter()
            .find(|o| !o.member && o.id == guild_id)
        {
            perms = (perms & !o.deny) | o.allow;
        }
        let (mut allow, mut deny) = (0, 0);
        for o in channel
            .overwrites
            .iter()
            .filter(|o| !o.member && roles.contains(&o.id))
        {
            allow |= o.allow;
            deny |= o.deny;
        }
        perms = (perms & !deny) | allow;
        if let Some(o) = channel
            .overwrites
            .iter()
            .find(|o| o.member && o.id == user_id)
        {
            perms = (perms & !o.deny) | o.allow;
        }
        perms
    }

    pub(crate) fn member_json(&self, guild_id: u64, user_id: u64, with_user: bool) -> Value {
        let Some(m) = self
            .guilds
            .get(&guild_id)
            .and_then(|g| g.members.get(&user_id))
        else {
            return Value::Null;
        };
        let mut member = json!({
            "nick": m.nick,
            "avatar": null,
            "banner": null,
            "roles": m.roles.iter().map(|r| s(*r)).collect::<Vec<_>>(),
            "joined_at": m.joined_at,
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
            "unusual_dm_activity_until": null,
            "avatar_decoration_data": null,
        });
        if with_user {
            member["user"] = self.user_json(user_id);
        }
        member
    }

    pub(crate) fn channel_json(&self, id: u64) -> Value {
        let Some(c) = self.channels.get(&id) else {
            return Value::Null;
        };
        let last = c.last_message_id.map_or(Value::Null, s);
        match c.kind {
            1 => json!({
                "id": s(c.id),
                "type": 1,
                "last_message_id": last,
                "flags": 0,
                "recipients": [self.user_json(c.recipient.unwrap_or(0))],
            }),
            10..=12 => {
                let count = c.messages.len();
                json!({
                    "id": s(c.id),
                    "type": c.kind,
                    "guild_id": c.guild_id.map(s),
                    "parent_id": c.parent_id.map(s),
                    "owner_id": c.owner_id.map(s),
                    "name": c.name,
                    "last_message_id": last,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                    "message_count": count,
                    "total_message_sent": count,
                    "member_count": 1,
                    "thread_metadata": {
                        "archived": c.archived,
                        "auto_archive_duration": c.auto_archive_duration,
                        "archive_timestamp": c.created_at,
                        "locked": c.locked,
                        "create_timestamp": c.created_at,
                        "invitable": c.kind == 12,
                    },
                    "member": {
                        "id": s(c.id),
                        "user_id": s(self.bot_id),
                        "join_timestamp": c.created_at,
                        "flags": 1,
                    },
                })
            }
            _ => {
                let mut channel = json!({
                    "id": s(c.id),
                    "type": c.kind,
                    "guild_id": c.guild_id.map(s),
                    "name": c.name,
                    "position": c.position,
                    "permission_overwrites": c.overwrites.iter().map(|o| json!({
                        "id": s(o.id),
                        "type": u8::from(o.member),
                        "allow": o.allow.to_string(),
                        "deny": o.deny.to_string(),
                    })).collect::<Vec<_>>(),
                    "parent_id": c.parent_id.map(s),
                    "nsfw": false,
                    "flags": 0,
                });
                if c.kind != 4 {
                    channel["topic"] = json!(c.topic);
                    channel["last_message_id"] = last;
                    channel["rate_limit_per_user"] = json!(0);
                    channel["default_auto_archive_duration"] = json!(1440);
                }
                channel
            }
        }
    }

    /// A partial channel as interactions carry it.
    fn partial_channel_json(&self, id: u64, user_id: u64) -> Value {
        let mut channel = self.channel_json(id);
        if let Some(g) = self.channels.get(&id).and_then(|c| c.guild_id) {
            channel["permissions"] = json!(self.permissions(g, user_id).to_string());
        }
        channel
    }

    fn guild_base_json(&self, g: &GuildRec) -> Value {
        json!({
            "id": s(g.id),
            "name": g.name,
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": s(g.owner_id),
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": self.roles_json(g.id),
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
            "max_presences": null,
            "max_members": 500_000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g.locale,
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "nsfw": false,
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
            "incidents_data": null,
        })
    }

    /// GET /guilds/{guild_id}.
    pub(crate) fn guild_json(&self, guild_id: u64) -> Value {
        let Some(g) = self.guilds.get(&guild_id) else {
            return Value::Null;
        };
        let mut guild = self.guild_base_json(g);
        guild["approximate_member_count"] = json!(g.members.len());
        guild["approximate_presence_count"] = json!(0);
        guild
    }

    /// GUILD_CREATE's payload for a session with these intents.
    pub(crate) fn guild_create_json(&self, guild_id: u64, intents: u64) -> Value {
        let Some(g) = self.guilds.get(&guild_id) else {
            return Value::Null;
        };
        let mut guild = self.guild_base_json(g);
        let members: Vec<Value> = g
            .members
            .keys()
            .filter(|id| intents & INTENT_GUILD_MEMBERS != 0 || **id == self.bot_id)
            .map(|id| self.member_json(g.id, *id, true))
            .collect();
        let strip_guild = |mut c: Value| {
            if let Some(obj) = c.as_object_mut() {
                obj.remove("guild_id");
            }
            c
        };
        let extra = json!({
            "joined_at": g.joined_at,
            "large": false,
            "unavailable": false,
            "member_count": g.members.len(),
            "voice_states": [],
            "members": members,
            "channels": g.channels.iter().map(|c| strip_guild(self.channel_json(*c))).collect::<Vec<_>>(),
            "threads": g.threads.iter().map(|c| self.channel_json(*c)).collect::<Vec<_>>(),
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "lazy": true,
        });
        if let (Some(obj), Value::Object(extra)) = (guild.as_object_mut(), extra) {
            obj.extend(extra);
        }
        guild
    }

    pub(crate) fn ready_json(&self, session_id: &str, shard: (u64, u64)) -> Value {
        let guilds: Vec<Value> = self
            .guilds
            .keys()
            .filter(|g| (*g >> 22) % shard.1.max(1) == shard.0)
            .map(|g| json!({"id": s(*g), "unavailable": true}))
            .collect();
        json!({
            "v": 10,
            "user": self.current_user_json(),
            "user_settings": {},
            "guilds": guilds,
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard.0, shard.1],
            "application": {"id": s(self.app_id), "flags": self.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["emulator"],
            "_trace": ["[\"ponte-emulator\"]"],
        })
    }

    // ---------------------------------------------------------------- gateway

    /// Sends a dispatch to every session that should receive it.
    pub(crate) fn dispatch(&mut self, t: &str, d: &Value) {
        for i in 0..self.sessions.len() {
            self.dispatch_to(i, t, d);
        }
    }

    /// Sends a dispatch to one session, applying its intents and shard.
    pub(crate) fn dispatch_to(&mut self, index: usize, t: &str, d: &Value) {
        let bot_id = self.bot_id;
        let session = &self.sessions[index];
        let guild_id = match d.get("guild_id") {
            Some(v) if !v.is_null() => Some(id_of(v)),
            _ if t == "GUILD_CREATE" => Some(id_of(&d["id"])),
            _ => None,
        };
        if !matches!(t, "READY" | "RESUMED") && !session.serves_guild(guild_id) {
            return;
        }
        let needed = match t {
            "GUILD_CREATE" | "THREAD_CREATE" | "THREAD_UPDATE" | "CHANNEL_CREATE"
            | "CHANNEL_UPDATE" => INTENT_GUILDS,
            "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => {
                if guild_id.is_some() {
                    INTENT_GUILD_MESSAGES
                } else {
                    INTENT_DIRECT_MESSAGES
                }
            }
            _ => 0,
        };
        if session.intents & needed != needed {
            return;
        }
        let mut d = d.clone();
        if matches!(t, "MESSAGE_CREATE" | "MESSAGE_UPDATE")
            && guild_id.is_some()
            && session.intents & INTENT_MESSAGE_CONTENT == 0
        {
            hide_content(&mut d, bot_id);
        }
        let session = &mut self.sessions[index];
        session.seq += 1;
        let frame = json!({"op": 0, "s": session.seq, "t": t, "d": d});
        let mut text = frame.to_string();
        for (needle, replacement) in &self.rewrites {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), replacement);
            }
        }
        session.log.push_back((session.seq, text.clone()));
        if session.log.len() > LOG_CAPACITY {
            session.log.pop_front();
        }
        if let Some(conn) = &session.conn {
            let _ = conn.tx.send(Out::Text(text));
        }
        push_bounded(&mut self.frames, frame);
    }

    // ---------------------------------------------------------------- messages

    /// Users and roles a message mentions, as Discord resolves them.
    fn mentions(&self, content: &str, allowed: Option<&Value>) -> (Vec<Value>, Vec<Value>, bool) {
        let mut users = Vec::new();
        let mut roles = Vec::new();
        let mut rest = content;
        while let Some(start) = rest.find("<@") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('>') else { break };
            let inner = &after[..end];
            if let Some(role) = inner.strip_prefix('&') {
                if let Ok(id) = role.parse::<u64>() {
                    roles.push(id);
                }
            } else if let Ok(id) = inner.trim_start_matches('!').parse::<u64>() {
                users.push(id);
            }
            rest = &after[end..];
        }
        let everyone = content.contains("@everyone") || content.contains("@here");
        let (parse, allowed_users, allowed_roles) = match allowed {
            None => (vec!["users", "roles", "everyone"], Vec::new(), Vec::new()),
            Some(am) => {
                let list = |key: &str| -> Vec<u64> {
                    am.get(key)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(id_of).collect())
                        .unwrap_or_default()
                };
                let parse = am
                    .get("parse")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                (parse, list("users"), list("roles"))
            }
        };
        let mut user_json = Vec::new();
        let mut seen = Vec::new();
        for id in users {
            if seen.contains(&id) || !self.users.contains_key(&id) {
                continue;
            }
            seen.push(id);
            if parse.contains(&"users") || allowed_users.contains(&id) {
                user_json.push(self.user_json(id));
            }
        }
        let mut role_json = Vec::new();
        for id in roles {
            if (parse.contains(&"roles") || allowed_roles.contains(&id))
                && !role_json.contains(&s(id))
            {
                role_json.push(s(id));
            }
        }
        (
            user_json,
            role_json,
            everyone && parse.contains(&"everyone"),
        )
    }

    /// Stores a new message and dispatches MESSAGE_CREATE (not for ephemeral ones).
    /// `payload` holds content, embeds, components, flags, allowed_mentions, tts.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_message(
        &mut self,
        channel_id: u64,
        author_id: u64,
        payload: &Value,
        kind: u8,
        flags: u64,
        extra: Map<String, Value>,
        interaction_id: Option<u64>,
    ) -> u64 {
        let id = self.next_id();
        let allowed = payload
            .get("allowed_mentions")
            .filter(|v| !v.is_null())
            .cloned();
        let content = payload.get("content").and_then(Value::as_str).unwrap_or("");
        // Mentions in a message the bot sends follow allowed_mentions; a person's follow
        // the text.
        let (mentions, mention_roles, everyone) = self.mentions(
            content,
            if author_id == self.bot_id {
                allowed.as_ref()
            } else {
                None
            },
        );
        let mut json = json!({
            "id": s(id),
            "channel_id": s(channel_id),
            "author": self.user_json(author_id),
            "content": content,
            "timestamp": self.now_iso(),
            "edited_timestamp": null,
            "tts": payload.get("tts").and_then(Value::as_bool).unwrap_or(false),
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": [],
            "embeds": normalize_embeds(payload.get("embeds")),
            "pinned": false,
            "type": kind,
            "flags": flags,
            "components": payload.get("components").filter(|c| c.is_array()).cloned().unwrap_or(json!([])),
        });
        if let Some(obj) = json.as_object_mut() {
            obj.extend(extra);
        }
        let guild_id = self.channels.get(&channel_id).and_then(|c| c.guild_id);
        self.messages.insert(
            id,
            MessageRec {
                json,
                versions: Vec::new(),
                allowed_mentions: allowed,
                interaction_id,
                guild_id,
                deleted: false,
            },
        );
        if let Some(channel) = self.channels.get_mut(&channel_id) {
            channel.messages.push(id);
            if flags & FLAG_EPHEMERAL == 0 {
                channel.last_message_id = Some(id);
            }
        }
        if let (Some(observer), Some(rec)) = (&self.observer, self.messages.get(&id)) {
            observer(&super::observe::message(&rec.json, author_id));
        }
        if flags & FLAG_EPHEMERAL == 0 {
            let d = self.gateway_message(id);
            self.dispatch("MESSAGE_CREATE", &d);
        }
        id
    }

    /// A message as the gateway sends it: with `guild_id` and the author's `member`.
    pub(crate) fn gateway_message(&self, id: u64) -> Value {
        let Some(rec) = self.messages.get(&id) else {
            return Value::Null;
        };
        let mut d = rec.json.clone();
        if let Some(g) = rec.guild_id {
            d["guild_id"] = s(g);
            let member = self.member_json(g, rec.author_id(), false);
            if !member.is_null() {
                d["member"] = member;
            }
        }
        d
    }

    /// Applies an edit (the fields present in `patch`) and dispatches MESSAGE_UPDATE.
    pub(crate) fn edit_message(&mut self, id: u64, patch: &Value) {
        let bot_id = self.bot_id;
        let Some(rec) = self.messages.get(&id) else {
            return;
        };
        let was_loading = rec.flags() & FLAG_LOADING != 0;
        let mut json = rec.json.clone();
        let mut allowed = rec.allowed_mentions.clone();
        if let Some(am) = patch.get("allowed_mentions").filter(|v| !v.is_null()) {
            allowed = Some(am.clone());
        }
        let mut content_changed = false;
        if let Some(content) = patch.get("content") {
            json["content"] = json!(content.as_str().unwrap_or(""));
            content_changed = true;
        }
        if let Some(embeds) = patch.get("embeds") {
            json["embeds"] = normalize_embeds(Some(embeds));
        }
        if let Some(components) = patch.get("components") {
            json["components"] = if components.is_array() {
                components.clone()
            } else {
                json!([])
            };
        }
        let mut flags = json["flags"].as_u64().unwrap_or(0) & !FLAG_LOADING;
        if let Some(new) = patch.get("flags").and_then(Value::as_u64) {
            // Only SUPPRESS_EMBEDS (1 << 2) can be changed by an edit.
            flags = (flags & !(1 << 2)) | (new & (1 << 2));
        }
        json["flags"] = json!(flags);
        if !was_loading {
            json["edited_timestamp"] = json!(self.now_iso());
        }
        if content_changed {
            let content = json["content"].as_str().unwrap_or("").to_string();
            let author = id_of(&json["author"]["id"]);
            let (mentions, roles, everyone) = self.mentions(
                &content,
                if author == bot_id {
                    allowed.as_ref()
                } else {
                    None
                },
            );
            json["mentions"] = json!(mentions);
            json["mention_roles"] = json!(roles);
            json["mention_everyone"] = json!(everyone);
        }
        let rec = self.messages.get_mut(&id).expect("checked above");
        let previous = std::mem::replace(&mut rec.json, json);
        if !was_loading {
            rec.versions.push(previous);
        }
        rec.allowed_mentions = allowed;
        if flags & FLAG_EPHEMERAL == 0 {
            let d = self.gateway_message(id);
            self.dispatch("MESSAGE_UPDATE", &d);
        }
    }

    pub(crate) fn delete_message(&mut self, id: u64) {
        let Some(rec) = self.messages.get_mut(&id) else {
            return;
        };
        rec.deleted = true;
        let ephemeral = rec.flags() & FLAG_EPHEMERAL != 0;
        let mut d = json!({"id": s(id), "channel_id": rec.json["channel_id"].clone()});
        if let Some(g) = rec.guild_id {
            d["guild_id"] = s(g);
        }
        if !ephemeral {
            self.dispatch("MESSAGE_DELETE", &d);
        }
    }

    /// A live (not deleted) message.
    pub(crate) fn message_rec(&self, id: u64) -> Option<&MessageRec> {
        self.messages.get(&id).filter(|m| !m.deleted)
    }

    pub(crate) fn message_view(&self, id: u64) -> Option<Message> {
        let rec = self.messages.get(&id)?;
        let json = &rec.json;
        let flags = rec.flags();
        let array = |v: &Value| v.as_array().cloned().unwrap_or_default();
        Some(Message {
            id,
            channel_id: rec.channel_id(),
            guild_id: rec.guild_id,
            author_id: rec.author_id(),
            content: json["content"].as_str().unwrap_or("").to_string(),
            embeds: array(&json["embeds"]),
            components: array(&json["components"]),
            flags,
            ephemeral: flags & FLAG_EPHEMERAL != 0,
            loading: flags & FLAG_LOADING != 0,
            thread_id: self
                .channels
                .get(&id)
                .filter(|c| c.is_thread())
                .map(|c| c.id),
            allowed_mentions: rec.allowed_mentions.clone(),
            interaction_id: rec.interaction_id,
            edits: rec
                .versions
                .iter()
                .map(|v| MessageVersion {
                    content: v["content"].as_str().unwrap_or("").to_string(),
                    embeds: array(&v["embeds"]),
                    components: array(&v["components"]),
                    json: v.clone(),
                })
                .collect(),
            deleted: rec.deleted,
            json: json.clone(),
        })
    }

    // ---------------------------------------------------------------- threads, DMs

    /// Starts a thread (from a message: the thread takes the message's id).
    pub(crate) fn start_thread(
        &mut self,
        parent_id: u64,
        from_message: Option<u64>,
        name: &str,
        kind: u8,
        auto_archive: u64,
    ) -> u64 {
        let id = from_message.unwrap_or_else(|| self.next_id());
        let guild_id = self.channels.get(&parent_id).and_then(|c| c.guild_id);
        self.channels.insert(
            id,
            ChannelRec {
                id,
                kind,
                name: name.to_string(),
                guild_id,
                parent_id: Some(parent_id),
                topic: None,
                position: 0,
                recipient: None,
                owner_id: Some(self.bot_id),
                created_at: self.now_iso(),
                auto_archive_duration: auto_archive,
                last_message_id: None,
                messages: Vec::new(),
                overwrites: Vec::new(),
                archived: false,
                locked: false,
            },
        );
        if let Some(g) = guild_id.and_then(|g| self.guilds.get_mut(&g)) {
            g.threads.push(id);
        }
        if let Some(m) = from_message {
            let thread = self.channel_json(id);
            if let Some(rec) = self.messages.get_mut(&m) {
                rec.json["thread"] = thread;
                let flags = rec.flags() | FLAG_HAS_THREAD;
                rec.json["flags"] = json!(flags);
            }
        }
        let mut d = self.channel_json(id);
        d["newly_created"] = json!(true);
        self.dispatch("THREAD_CREATE", &d);
        id
    }

    /// The DM channel between the bot and a user, created on first use.
    pub(crate) fn dm_channel(&mut self, user_id: u64) -> u64 {
        if let Some(id) = self.dms.get(&user_id) {
            return *id;
        }
        let id = self.next_id();
        self.channels.insert(
            id,
            ChannelRec {
                id,
                kind: 1,
                name: String::new(),
                guild_id: None,
                parent_id: None,
                topic: None,
                position: 0,
                recipient: Some(user_id),
                owner_id: None,
                created_at: self.now_iso(),
                auto_archive_duration: 0,
                last_message_id: None,
                messages: Vec::new(),
                overwrites: Vec::new(),
                archived: false,
                locked: false,
            },
        );
        self.dms.insert(user_id, id);
        id
    }

    // ---------------------------------------------------------------- commands

    /// Stores commands as a bulk overwrite does; ids stay the same for the same name.
    pub(crate) fn overwrite_commands(
        &mut self,
        guild_id: Option<u64>,
        body: &[Value],
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for cmd in body {
            let kind = cmd.get("type").and_then(Value::as_u64).unwrap_or(1);
            let name = cmd
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let key = format!("{}/{kind}/{name}", guild_id.unwrap_or(0));
            let id = match self.command_ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id = self.next_id();
                    self.command_ids.insert(key, id);
                    id
                }
            };
            let version = self.next_id();
            let mut stored = json!({
                "id": s(id),
                "application_id": s(self.app_id),
                "version": s(version),
                "type": kind,
                "name": name,
                "name_localizations": null,
                "description": cmd.get("description").and_then(Value::as_str).unwrap_or(""),
                "description_localizations": null,
                "default_member_permissions": cmd.get("default_member_permissions").cloned().unwrap_or(Value::Null),
                "dm_permission": cmd.get("dm_permission").cloned().unwrap_or(json!(true)),
                "nsfw": cmd.get("nsfw").and_then(Value::as_bool).unwrap_or(false),
                "integration_types": cmd.get("integration_types").cloned().unwrap_or(json!([0])),
                "contexts": cmd.get("contexts").cloned().unwrap_or(Value::Null),
            });
            if let Some(g) = guild_id {
                stored["guild_id"] = s(g);
            }
            for key in ["options", "name_localizations", "description_localizations"] {
                if let Some(v) = cmd.get(key).filter(|v| !v.is_null()) {
                    stored[key] = v.clone();
                }
            }
            out.push(stored);
        }
        match guild_id {
            Some(g) => {
                self.guild_commands.insert(g, out.clone());
            }
            None => self.global_commands = out.clone(),
        }
        out
    }

    /// The command a user in this guild (or DM) can invoke by name and type.
    pub(crate) fn find_command(
        &self,
        guild_id: Option<u64>,
        name: &str,
        kind: u64,
    ) -> Option<Value> {
        let matches = |c: &&Value| c["name"] == name && c["type"].as_u64().unwrap_or(1) == kind;
        guild_id
            .and_then(|g| self.guild_commands.get(&g))
            .and_then(|cmds| cmds.iter().find(matches))
            .or_else(|| {
                self.global_commands.iter().find(matches).filter(|c| {
                    // Global commands: in DMs only if allowed there.
                    guild_id.is_some()
                        || (c["dm_permission"] != json!(false)
                            && c["contexts"]
                                .as_array()
                                .is_none_or(|ctx| ctx.iter().any(|x| x.as_u64() == Some(1))))
                })
            })
            .cloned()
    }

    /// The name of the command a user of `locale` sees as `typed` (its
    /// `name_localizations`), where they are.
    pub(crate) fn command_named_in(
        &self,
        guild_id: Option<u64>,
        typed: &str,
        locale: &str,
    ) -> Option<String> {
        let guild = guild_id.and_then(|g| self.guild_commands.get(&g));
        guild
            .into_iter()
            .flatten()
            .chain(&self.global_commands)
            .find(|c| c["name_localizations"][locale] == typed)
            .and_then(|c| c["name"].as_str().map(str::to_owned))
    }

    // ---------------------------------------------------------------- interactions

    /// The user's view of a channel: (guild, locale) or an error.
    pub(crate) fn check_user_in_channel(
        &self,
        user_id: u64,
        channel_id: u64,
    ) -> Result<Option<u64>, EmuError> {
        if !self.users.contains_key(&user_id) {
            return Err(EmuError::NotFound(format!("user {user_id}")));
        }
        let channel = self
            .channels
            .get(&channel_id)
            .ok_or_else(|| EmuError::NotFound(format!("channel {channel_id}")))?;
        match channel.guild_id {
            Some(g) => {
                let guild = self
                    .guilds
                    .get(&g)
                    .expect("channels belong to known guilds");
                if !guild.members.contains_key(&user_id) {
                    return Err(EmuError::Invalid(format!(
                        "user {user_id} is not a member of guild {g}"
                    )));
                }
                Ok(Some(g))
            }
            None => {
                if channel.recipient != Some(user_id) {
                    return Err(EmuError::Invalid(format!(
                        "channel {channel_id} is not user {user_id}'s DM with the bot"
                    )));
                }
                Ok(None)
            }
        }
    }

    /// Creates an interaction and dispatches INTERACTION_CREATE.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_interaction(
        &mut self,
        kind: u8,
        command_type: u8,
        user_id: u64,
        channel_id: u64,
        data: Value,
        message: Option<u64>,
        parent: Option<u64>,
    ) -> Result<(u64, String), EmuError> {
        if self.sessions.is_empty() {
            return Err(EmuError::Invalid(
                "no bot has identified on the gateway: nobody would receive the interaction"
                    .to_string(),
            ));
        }
        let guild_id = self.check_user_in_channel(user_id, channel_id)?;
        let id = self.next_id();
        let token = format!("emu.{}.{}", id, self.random_hex(24));
        let locale = self.users[&user_id].locale.clone();
        let mut payload = json!({
            "id": s(id),
            "application_id": s(self.app_id),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": s(channel_id),
            "channel": self.partial_channel_json(channel_id, user_id),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
        });
        match guild_id {
            Some(g) => {
                let mut member = self.member_json(g, user_id, true);
                member["permissions"] = json!(self.permissions(g, user_id).to_string());
                payload["guild_id"] = s(g);
                payload["guild"] =
                    json!({"id": s(g), "locale": self.guilds[&g].locale, "features": []});
                payload["member"] = member;
                payload["guild_locale"] = json!(self.guilds[&g].locale);
                payload["app_permissions"] = json!(self.permissions(g, self.bot_id).to_string());
                payload["authorizing_integration_owners"] = json!({"0": s(g)});
                payload["context"] = json!(0);
            }
            None => {
                payload["user"] = self.user_json(user_id);
                payload["app_permissions"] = json!(EVERYONE_PERMISSIONS.to_string());
                payload["authorizing_integration_owners"] = json!({"0": "0"});
                payload["context"] = json!(1);
            }
        }
        if let Some(m) = message {
            payload["message"] = self
                .messages
                .get(&m)
                .map_or(Value::Null, |r| r.json.clone());
        }
        self.interactions.insert(
            id,
            InteractionRec {
                id,
                token: token.clone(),
                kind,
                command_type,
                user_id,
                channel_id,
                guild_id,
                created: Instant::now(),
                payload: payload.clone(),
                source_message: message,
                parent,
                callback: None,
                original: None,
                followups: Vec::new(),
                answered_late: false,
                modal: None,
            },
        );
        self.tokens.insert(token.clone(), id);
        self.dispatch("INTERACTION_CREATE", &payload);
        Ok((id, token))
    }

    /// `interaction_metadata` of messages answering this interaction.
    pub(crate) fn interaction_metadata(&self, id: u64) -> Value {
        let Some(rec) = self.interactions.get(&id) else {
            return Value::Null;
        };
        let owners = match rec.guild_id {
            Some(g) => json!({"0": s(g)}),
            None => json!({"0": "0"}),
        };
        let mut meta = json!({
            "id": s(rec.id),
            "type": rec.kind,
            "user": self.user_json(rec.user_id),
            "authorizing_integration_owners": owners,
        });
        if let Some(original) = rec.original {
            meta["original_response_message_id"] = s(original);
        }
        match rec.kind {
            2 => {
                meta["name"] = rec.payload["data"]["name"].clone();
                meta["command_type"] = json!(rec.command_type);
                if rec.command_type == 3 {
                    meta["target_message_id"] = rec.payload["data"]["target_id"].clone();
                }
            }
            3 => {
                meta["interacted_message_id"] = rec.source_message.map_or(Value::Null, s);
            }
            5 => {
                meta["triggering_interaction_metadata"] = rec
                    .parent
                    .map_or(Value::Null, |p| self.interaction_metadata(p));
            }
            _ => {}
        }
        meta
    }

    /// The message `@original` names for this interaction, if any.
    pub(crate) fn original_of(&self, id: u64) -> Option<u64> {
        let rec = self.interactions.get(&id)?;
        match rec.callback.as_ref()?.kind {
            4 | 5 => rec.original,
            6 | 7 => rec.source_message,
            _ => None,
        }
    }

    pub(crate) fn response_view(&self, id: u64) -> Option<InteractionResponse> {
        let rec = self.interactions.get(&id)?;
        let callback = rec.callback.as_ref()?;
        let modal = rec.modal.as_ref().map(modal_view);
        Some(InteractionResponse {
            kind: callback.kind,
            message: self.original_of(id).and_then(|m| self.message_view(m)),
            modal,
            followups: rec
                .followups
                .iter()
                .filter_map(|m| self.message_view(*m))
                .collect(),
            body: callback.body.clone(),
            edited_after: rec.answered_late,
        })
    }
}

pub(crate) fn modal_view(json: &Value) -> Modal {
    let mut fields = Vec::new();
    for row in json["components"].as_array().into_iter().flatten() {
        for c in row["components"].as_array().into_iter().flatten() {
            if c["type"].as_u64() == Some(4) {
                fields.push(ModalField {
                    custom_id: c["custom_id"].as_str().unwrap_or("").to_string(),
                    label: c["label"].as_str().unwrap_or("").to_string(),
                    required: c["required"].as_bool().unwrap_or(true),
                    min_length: c["min_length"].as_u64(),
                    max_length: c["max_length"].as_u64(),
                });
            }
        }
    }
    Modal {
        custom_id: json["custom_id"].as_str().unwrap_or("").to_string(),
        title: json["title"].as_str().unwrap_or("").to_string(),
        fields,
        json: json.clone(),
    }
}

/// Embeds as Discord returns them (`type: rich` added).
fn normalize_embeds(embeds: Option<&Value>) -> Value {
    let mut list = embeds
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for embed in &mut list {
        if let Some(obj) = embed.as_object_mut() {
            obj.entry("type").or_insert(json!("rich"));
            obj.retain(|_, v| !v.is_null());
        }
    }
    Value::Array(list)
}

/// The MESSAGE_CONTENT rule: without the intent, a guild message's content, embeds,
/// attachments, components and poll arrive empty, unless the bot wrote it or is
/// mentioned in it.
fn hide_content(d: &mut Value, bot_id: u64) {
    let author = id_of(&d["author"]["id"]);
    let mentioned = d["mentions"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| id_of(&u["id"]) == bot_id));
    if author == bot_id || mentioned {
        return;
    }
    d["content"] = json!("");
    d["embeds"] = json!([]);
    d["attachments"] = json!([]);
    d["components"] = json!([]);
    if let Some(obj) = d.as_object_mut() {
        obj.remove("poll");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_content_rule() {
        let mut d = json!({"author": {"id": "5"}, "content": "secret", "embeds": [{}],
            "mentions": [], "components": [{}], "attachments": []});
        hide_content(&mut d, 9);
        assert_eq!(d["content"], "");
        assert_eq!(d["embeds"], json!([]));
        let mut d = json!({"author": {"id": "5"}, "content": "hi <@9>", "mentions": [{"id": "9"}]});
        hide_content(&mut d, 9);
        assert_eq!(d["content"], "hi <@9>");
        let mut d = json!({"author": {"id": "9"}, "content": "mine", "mentions": []});
        hide_content(&mut d, 9);
        assert_eq!(d["content"], "mine");
    }

    #[test]
    fn ids_increase_and_look_like_snowflakes() {
        let mut state = State::new(World::new(), "ws://x".into()).unwrap();
        let a = state.next_id();
        let b = state.next_id();
        assert!(b > a);
        assert!(a > 1 << 40);
    }

    #[test]
    fn mentions_follow_allowed_mentions() {
        let state = State::new(World::new().user(5, "ann", "it"), "ws://x".into()).unwrap();
        let (users, _, everyone) = state.mentions("hi <@5> @everyone", None);
        assert_eq!(users.len(), 1);
        assert!(everyone);
        let (users, _, everyone) =
            state.mentions("hi <@!5> @everyone", Some(&json!({"parse": []})));
        assert!(users.is_empty());
        assert!(!everyone);
        let (users, _, _) = state.mentions("hi <@5>", Some(&json!({"users": ["5"]})));
        assert_eq!(users.len(), 1);
    }

    #[test]
    fn an_inconsistent_world_is_refused() {
        use super::super::world::GuildSpec;
        let unknown_member = World::new().guild(GuildSpec::new(1, "g").member(5, &[]));
        assert!(State::new(unknown_member, String::new()).is_err());
        let unknown_role = World::new()
            .user(5, "ann", "it")
            .guild(GuildSpec::new(1, "g").member(5, &[9]));
        assert!(State::new(unknown_role, String::new()).is_err());
        let twice = World::new().guild(
            GuildSpec::new(1, "g")
                .text_channel(2, "a")
                .text_channel(2, "b"),
        );
        assert!(State::new(twice, String::new()).is_err());
        let no_category = World::new().guild(GuildSpec::new(1, "g").text_channel_in(2, "a", 3));
        assert!(State::new(no_category, String::new()).is_err());
        let fine = World::new().user(5, "ann", "it").guild(
            GuildSpec::new(1, "g")
                .category(3, "c")
                .text_channel_in(2, "a", 3)
                .member(5, &[1]),
        );
        assert!(
            State::new(fine, String::new()).is_ok(),
            "@everyone has the guild's id"
        );
    }

    #[test]
    fn now_iso_is_rfc3339() {
        let ts = now_iso();
        assert!(ts.ends_with("+00:00"), "{ts}");
        assert_eq!(ts.len(), "2024-01-01T00:00:00.000000+00:00".len(), "{ts}");
    }
}
