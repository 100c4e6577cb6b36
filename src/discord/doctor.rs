//! `ponte doctor`: what Discord would refuse, found before it happens. With
//! the bot's token it reads, over REST (each call with a deadline):
//! - the application's flags: the privileged MESSAGE_CONTENT intent must be
//!   enabled, or Discord closes the gateway with 4014;
//! - every configured server: the bot must be a member;
//! - the bot's effective permissions in every configured channel, from the
//!   server's roles, the bot's roles and the channel's overwrites, computed
//!   as Discord documents
//!   (<https://discord.com/developers/docs/topics/permissions#permission-overwrites>);
//! - the configured roles must exist in their servers;
//! - the slash commands registered in each server (a note: `ponte run`
//!   registers them when it connects).
//!
//! Each problem says what to grant or fix. `ponte run` runs the same check
//! at start and logs what it finds.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use serenity::all::{
    ApplicationFlags, ChannelId, GuildId, Http, PermissionOverwrite, PermissionOverwriteType,
    RoleId, UserId,
};

use crate::config::Config;

/// What each configured channel needs: cards, their threads, history lines,
/// digests with a chart, and reading what people reply.
pub const NEEDED: [(u64, &str); 7] = [
    (1 << 10, "View Channel"),
    (1 << 11, "Send Messages"),
    (1 << 38, "Send Messages in Threads"),
    (1 << 35, "Create Public Threads"),
    (1 << 14, "Embed Links"),
    (1 << 15, "Attach Files"),
    (1 << 16, "Read Message History"),
];

/// The permissions integer of [`NEEDED`], for the invite URL.
pub fn needed_bits() -> u64 {
    NEEDED.iter().fold(0, |all, (bit, _)| all | bit)
}

/// Something Discord would refuse, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

/// What the check found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub problems: Vec<Problem>,
    /// Things that are fine, or that fix themselves (commands not yet
    /// registered before the first run).
    pub notes: Vec<String>,
}

impl Report {
    fn problem(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem {
            what: what.into(),
            fix: fix.into(),
        });
    }
}

const DEADLINE: Duration = Duration::from_secs(10);

async fn within<T>(call: impl Future<Output = serenity::Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(DEADLINE, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "Discord did not answer within {}s",
            DEADLINE.as_secs()
        )),
    }
}

/// A member's permissions in a channel: the server's `@everyone` role and
/// the member's roles, then the channel's overwrites for `@everyone`, for the
/// member's roles, and for the member, in that order. ADMINISTRATOR (and the
/// owner) get everything.
pub fn effective(
    guild: u64,
    owner: bool,
    roles: &[(u64, u64)],
    member: u64,
    member_roles: &[u64],
    overwrites: &[PermissionOverwrite],
) -> u64 {
    const ALL: u64 = u64::MAX;
    if owner {
        return ALL;
    }
    let role = |id: u64| roles.iter().find(|(r, _)| *r == id).map_or(0, |(_, p)| *p);
    let mut base = role(guild);
    for r in member_roles {
        base |= role(*r);
    }
    if base & (1 << 3) != 0 {
        return ALL;
    }
    let mut perms = base;
    for o in overwrites {
        if o.kind == PermissionOverwriteType::Role(RoleId::new(guild)) {
            perms = (perms & !o.deny.bits()) | o.allow.bits();
        }
    }
    let (mut allow, mut deny) = (0, 0);
    for o in overwrites {
        if let PermissionOverwriteType::Role(r) = o.kind {
            if r.get() != guild && member_roles.contains(&r.get()) {
                allow |= o.allow.bits();
                deny |= o.deny.bits();
            }
        }
    }
    perms = (perms & !deny) | allow;
    for o in overwrites {
        if o.kind == PermissionOverwriteType::Member(UserId::new(member)) {
            perms = (perms & !o.deny.bits()) | o.allow.bits();
        }
    }
    perms
}

/// The names of the [`NEEDED`] permissions missing from `has`.
pub fn missing(has: u64) -> Vec<&'static str> {
    NEEDED
        .iter()
        .filter(|(bit, _)| has & bit == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// An id and the setting that names it.
type Setting = (u64, String);

/// What the configuration names: its servers (with their roles) and its
/// channels, each with the setting that names it.
struct Named {
    servers: Vec<(u64, String, Vec<Setting>)>,
    channels: Vec<(u64, String)>,
}

fn named(config: &Config) -> Named {
    let mut servers = Vec::new();
    let mut channels = Vec::new();
    if let Some(server) = config.msp().server {
        servers.push((
            server.guild_id.get(),
            format!("the MSP's server ({})", config.msp().name),
            vec![
                (
                    server.engineer_role.get(),
                    "[msp] engineer_role_id".to_owned(),
                ),
                (server.lead_role.get(), "[msp] lead_role_id".to_owned()),
            ],
        ));
        channels.push((
            server.queue_channel.get(),
            "[msp] channel_id (the queue)".to_owned(),
        ));
    }
    for c in config.clients() {
        let key = &c.key;
        let mut roles = vec![
            (
                c.roles.it_manager.get(),
                format!("client {key}: roles.it_manager"),
            ),
            (
                c.roles.it_technician.get(),
                format!("client {key}: roles.it_technician"),
            ),
        ];
        if let Some(r) = c.roles.msp_engineer {
            roles.push((r.get(), format!("client {key}: roles.msp_engineer")));
        }
        if let Some(r) = c.roles.msp_lead {
            roles.push((r.get(), format!("client {key}: roles.msp_lead")));
        }
        servers.push((c.guild_id.get(), format!("{}'s server", c.name), roles));
        channels.push((
            c.channels.requests.get(),
            format!("client {key}: channels.requests"),
        ));
        if let Some(it) = c.channels.internal_it {
            channels.push((it.get(), format!("client {key}: channels.internal_it")));
        }
        if let Some(msp) = c.channels.msp {
            channels.push((msp.get(), format!("client {key}: channels.msp")));
        }
    }
    Named { servers, channels }
}

/// The bot in one server: the server's roles, the bot's, whether it owns it.
struct Seat {
    guild: u64,
    what: String,
    roles: Vec<(u64, u64)>,
    mine: Vec<u64>,
    owner: bool,
}

/// Checks everything the module's documentation lists.
pub async fn check(http: &Http, config: &Config, manifest: &serde_json::Value) -> Report {
    let mut report = Report::default();
    match within(http.get_current_application_info()).await {
        Ok(app) => {
            let flags = app.flags.unwrap_or(ApplicationFlags::empty());
            if flags.intersects(
                ApplicationFlags::GATEWAY_MESSAGE_CONTENT
                    | ApplicationFlags::GATEWAY_MESSAGE_CONTENT_LIMITED,
            ) {
                report
                    .notes
                    .push("the Message Content intent is enabled".into());
            } else {
                report.problem(
                    "the privileged Message Content intent is not enabled: Discord would close \
                     the connection (4014)",
                    "Developer Portal → your application → Bot → Privileged Gateway Intents → \
                     turn on MESSAGE CONTENT INTENT",
                );
            }
        }
        Err(e) => report.problem(
            format!("cannot read the application: {e}"),
            "check DISCORD_TOKEN (Developer Portal → Bot → Reset Token)",
        ),
    }
    let me = match within(http.get_current_user()).await {
        Ok(me) => me.id.get(),
        Err(e) => {
            report.problem(
                format!("cannot read the bot's own user: {e}"),
                "check DISCORD_TOKEN",
            );
            return report;
        }
    };
    let wanted: BTreeSet<String> = manifest
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect();
    let named = named(config);
    let mut seats = Vec::new();
    for (guild, what, roles) in &named.servers {
        if seats.iter().any(|s: &Seat| s.guild == *guild) {
            continue;
        }
        if let Some(seat) = check_server(http, *guild, what, roles, me, &wanted, &mut report).await
        {
            seats.push(seat);
        }
    }
    for (channel, label) in &named.channels {
        check_channel(http, *channel, label, me, &seats, &mut report).await;
    }
    report
}

async fn check_server(
    http: &Http,
    guild: u64,
    what: &str,
    wanted_roles: &[(u64, String)],
    me: u64,
    wanted: &BTreeSet<String>,
    report: &mut Report,
) -> Option<Seat> {
    let id = GuildId::new(guild);
    let found = match within(http.get_guild(id)).await {
        Ok(g) => g,
        Err(e) => {
            report.problem(
                format!("the bot is not in {what} (server {guild}): {e}"),
                "a server admin invites it with the URL `ponte invite-url` prints",
            );
            return None;
        }
    };
    let roles: Vec<(u64, u64)> = found
        .roles
        .values()
        .map(|r| (r.id.get(), r.permissions.bits()))
        .collect();
    for (role, label) in wanted_roles {
        if !roles.iter().any(|(r, _)| r == role) {
            report.problem(
                format!("{label}: role {role} does not exist in {what}"),
                "copy the role's id (Developer Mode → right-click the role → Copy Role ID) \
                 into the configuration",
            );
        }
    }
    let mine: Vec<u64> = match within(http.get_member(id, UserId::new(me))).await {
        Ok(m) => m.roles.iter().map(|r| r.get()).collect(),
        Err(e) => {
            report.problem(
                format!("cannot read the bot's roles in {what}: {e}"),
                "invite the bot to that server",
            );
            return None;
        }
    };
    match within(http.get_guild_commands(id)).await {
        Ok(commands) => {
            let have: BTreeSet<String> = commands.into_iter().map(|c| c.name).collect();
            let absent: Vec<String> = wanted.difference(&have).map(|s| format!("/{s}")).collect();
            if absent.is_empty() {
                report
                    .notes
                    .push(format!("{what}: every command is registered"));
            } else {
                report.notes.push(format!(
                    "{what}: commands not registered yet ({}); `ponte run` registers them when it connects",
                    absent.join(", ")
                ));
            }
        }
        Err(e) => report.problem(
            format!("cannot read the commands of {what}: {e}"),
            "invite the bot with the applications.commands scope (`ponte invite-url`)",
        ),
    }
    Some(Seat {
        guild,
        what: what.to_owned(),
        roles,
        mine,
        owner: found.owner_id.get() == me,
    })
}

async fn check_channel(
    http: &Http,
    channel: u64,
    label: &str,
    me: u64,
    seats: &[Seat],
    report: &mut Report,
) {
    let read = within(http.get_channel(ChannelId::new(channel))).await;
    let c = match read {
        Ok(serenity::all::Channel::Guild(c)) => c,
        Ok(_) => {
            report.problem(
                format!("{label}: {channel} is not a server channel"),
                "give the id of a text channel (Developer Mode → right-click → Copy Channel ID)",
            );
            return;
        }
        Err(e) => {
            report.problem(
                format!("{label}: channel {channel} cannot be read: {e}"),
                "check the id (Developer Mode → right-click the channel → Copy Channel ID) and \
                 give Ponte's role View Channel there",
            );
            return;
        }
    };
    let Some(seat) = seats.iter().find(|s| s.guild == c.guild_id.get()) else {
        report.problem(
            format!(
                "{label}: #{} is in server {}, which the configuration does not name",
                c.name, c.guild_id
            ),
            "use a channel of the configured servers",
        );
        return;
    };
    let has = effective(
        seat.guild,
        seat.owner,
        &seat.roles,
        me,
        &seat.mine,
        &c.permission_overwrites,
    );
    let lacking = missing(has);
    if lacking.is_empty() {
        report.notes.push(format!(
            "#{} ({label}): every permission Ponte needs",
            c.name
        ));
    } else {
        report.problem(
            format!("#{} ({label}) in {}: Ponte lacks {}", c.name, seat.what, lacking.join(", ")),
            format!(
                "in #{}'s settings → Permissions (or the server's roles), allow {} for Ponte's role",
                c.name,
                lacking.join(", ")
            ),
        );
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for note in &self.notes {
            writeln!(f, "ok: {note}")?;
        }
        for p in &self.problems {
            writeln!(f, "PROBLEM: {}\n  fix: {}", p.what, p.fix)?;
        }
        if self.problems.is_empty() {
            writeln!(f, "Discord should accept everything Ponte does.")
        } else {
            writeln!(
                f,
                "{} problem(s): Discord would refuse what they name.",
                self.problems.len()
            )
        }
    }
}
