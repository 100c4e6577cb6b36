//! The world an [`Emulator`](super::Emulator) starts with: the bot, its
//! application, the users and the guilds with their channels, roles and members.

use std::time::Duration;

/// Default ids, chosen to look like Discord snowflakes.
pub const DEFAULT_BOT_ID: u64 = 1_100_000_000_000_000_001;
/// The default application id (Discord gives bots the application's id as user id;
/// the emulator keeps them apart by default so mixing them up is caught).
pub const DEFAULT_APPLICATION_ID: u64 = 1_100_000_000_000_000_002;
/// The default bot token.
pub const DEFAULT_TOKEN: &str = "emulator.bot.token";

/// Permissions of `@everyone` in a new guild: view, send, embed, attach, history,
/// reactions, application commands, threads.
pub const EVERYONE_PERMISSIONS: u64 = (1 << 6)
    | (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 31)
    | (1 << 35)
    | (1 << 38);

/// Permissions of the bot's managed role: everything a chat-ops bot needs
/// (`@everyone` plus manage messages and threads, mention everyone, private threads).
pub const BOT_ROLE_PERMISSIONS: u64 =
    EVERYONE_PERMISSIONS | (1 << 13) | (1 << 17) | (1 << 34) | (1 << 36);

/// A person (or the bot) known to the emulator.
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub id: u64,
    pub name: String,
    /// The locale their client reports in interactions (`"it"`, `"en-US"`, ...).
    pub locale: String,
    pub bot: bool,
}

/// A guild channel (text channel or category) present at start.
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    pub id: u64,
    pub name: String,
    /// Discord channel type: 0 text, 4 category, 5 announcement.
    pub kind: u8,
    pub parent_id: Option<u64>,
    pub topic: Option<String>,
}

/// A guild role. The `@everyone` role is added automatically with the guild's id.
#[derive(Clone, Debug)]
pub struct RoleSpec {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
}

/// A guild member: a user declared with [`World::user`] and their roles.
#[derive(Clone, Debug)]
pub struct MemberSpec {
    pub user_id: u64,
    pub nick: Option<String>,
    pub roles: Vec<u64>,
}

/// A guild with its channels, roles and members. The bot is always a member.
#[derive(Clone, Debug)]
pub struct GuildSpec {
    pub id: u64,
    pub name: String,
    pub owner_id: Option<u64>,
    pub locale: String,
    pub channels: Vec<ChannelSpec>,
    pub roles: Vec<RoleSpec>,
    pub members: Vec<MemberSpec>,
}

impl GuildSpec {
    pub fn new(id: u64, name: &str) -> Self {
        Self {
            id,
            name: name.to_string(),
            owner_id: None,
            locale: "en-US".to_string(),
            channels: Vec::new(),
            roles: Vec::new(),
            members: Vec::new(),
        }
    }

    /// The guild's preferred locale (`guild_locale` in interactions). Default `en-US`.
    pub fn locale(mut self, locale: &str) -> Self {
        self.locale = locale.to_string();
        self
    }

    /// The owner (must be a member). Default: the first member, else the bot.
    pub fn owner(mut self, user_id: u64) -> Self {
        self.owner_id = Some(user_id);
        self
    }

    pub fn text_channel(mut self, id: u64, name: &str) -> Self {
        self.channels.push(ChannelSpec {
            id,
            name: name.to_string(),
            kind: 0,
            parent_id: None,
            topic: None,
        });
        self
    }

    /// A text channel inside a category declared with [`GuildSpec::category`].
    pub fn text_channel_in(mut self, id: u64, name: &str, category: u64) -> Self {
        self.channels.push(ChannelSpec {
            id,
            name: name.to_string(),
            kind: 0,
            parent_id: Some(category),
            topic: None,
        });
        self
    }

    pub fn category(mut self, id: u64, name: &str) -> Self {
        self.channels.push(ChannelSpec {
            id,
            name: name.to_string(),
            kind: 4,
            parent_id: None,
            topic: None,
        });
        self
    }

    /// A role with `@everyone`'s permissions.
    pub fn role(self, id: u64, name: &str) -> Self {
        self.role_with_permissions(id, name, EVERYONE_PERMISSIONS)
    }

    pub fn role_with_permissions(mut self, id: u64, name: &str, permissions: u64) -> Self {
        self.roles.push(RoleSpec {
            id,
            name: name.to_string(),
            permissions,
        });
        self
    }

    pub fn member(mut self, user_id: u64, roles: &[u64]) -> Self {
        self.members.push(MemberSpec {
            user_id,
            nick: None,
            roles: roles.to_vec(),
        });
        self
    }

    pub fn member_with_nick(mut self, user_id: u64, nick: &str, roles: &[u64]) -> Self {
        self.members.push(MemberSpec {
            user_id,
            nick: Some(nick.to_string()),
            roles: roles.to_vec(),
        });
        self
    }
}

/// Everything the emulator starts with, and how strict it is.
#[derive(Clone, Debug)]
pub struct World {
    pub(crate) token: String,
    pub(crate) bot: UserSpec,
    pub(crate) application_id: u64,
    pub(crate) application_name: String,
    pub(crate) users: Vec<UserSpec>,
    pub(crate) guilds: Vec<GuildSpec>,
    pub(crate) message_content_granted: bool,
    pub(crate) interaction_deadline: Duration,
    pub(crate) token_lifetime: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) heartbeat_interval: Duration,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// A world with only the bot (`Ponte`, [`DEFAULT_BOT_ID`]) and its application.
    pub fn new() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_string(),
            bot: UserSpec {
                id: DEFAULT_BOT_ID,
                name: "Ponte".to_string(),
                locale: "en-US".to_string(),
                bot: true,
            },
            application_id: DEFAULT_APPLICATION_ID,
            application_name: "Ponte".to_string(),
            users: Vec::new(),
            guilds: Vec::new(),
            message_content_granted: true,
            interaction_deadline: Duration::from_secs(3),
            token_lifetime: Duration::from_secs(15 * 60),
            retry_after: Duration::from_millis(250),
            heartbeat_interval: Duration::from_millis(41_250),
        }
    }

    /// The bot user's id and name.
    pub fn bot(mut self, user_id: u64, name: &str) -> Self {
        self.bot.id = user_id;
        self.bot.name = name.to_string();
        self
    }

    pub fn application(mut self, application_id: u64, name: &str) -> Self {
        self.application_id = application_id;
        self.application_name = name.to_string();
        self
    }

    /// The token the bot must present (without the `Bot ` prefix).
    pub fn token(mut self, token: &str) -> Self {
        self.token = token.to_string();
        self
    }

    /// A human user with a name and a client locale.
    pub fn user(mut self, id: u64, name: &str, locale: &str) -> Self {
        self.users.push(UserSpec {
            id,
            name: name.to_string(),
            locale: locale.to_string(),
            bot: false,
        });
        self
    }

    pub fn guild(mut self, guild: GuildSpec) -> Self {
        self.guilds.push(guild);
        self
    }

    /// Whether the application may use the privileged MESSAGE_CONTENT intent (the
    /// developer-portal switch). If not, IDENTIFY with it is closed with 4014 like
    /// Discord does. Default: granted.
    pub fn message_content_granted(mut self, granted: bool) -> Self {
        self.message_content_granted = granted;
        self
    }

    /// How long after dispatch an interaction may be answered. Default 3 s, as on Discord.
    pub fn interaction_deadline(mut self, deadline: Duration) -> Self {
        self.interaction_deadline = deadline;
        self
    }

    /// How long an interaction token works for follow-ups. Default 15 min.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The `retry_after` of injected 429s. Default 250 ms.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The heartbeat interval announced in HELLO. Default 41.25 s, as on Discord.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }
}
