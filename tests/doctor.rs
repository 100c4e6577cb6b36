//! `ponte doctor` against the local Discord: what it finds when everything
//! is granted, when a server admin takes a permission away, when the
//! Message Content intent is off, and when the bot is not in a server.

use ponte::config::Config;
use ponte::discord::doctor::{Report, check};
use ponte::emulator::Emulator;
use ponte::sandbox::cast;

fn config() -> Config {
    Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap()
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(ponte::discord::run::MANIFEST).unwrap()
}

async fn doctor(emulator: &Emulator) -> Report {
    check(&emulator.http(), &config(), &manifest()).await
}

#[tokio::test]
async fn everything_granted_is_no_problem() {
    let emulator = Emulator::start(cast::world()).await.unwrap();
    let report = doctor(&emulator).await;
    assert!(report.problems.is_empty(), "{report}");
    let text = report.to_string();
    assert!(text.contains("Message Content intent is enabled"), "{text}");
    assert!(text.contains("#requests"), "{text}");
    // Nothing has registered the commands yet: a note, not a problem.
    assert!(text.contains("commands not registered yet"), "{text}");
}

#[tokio::test]
async fn a_permission_taken_away_is_named_with_what_to_grant() {
    let emulator = Emulator::start(cast::world()).await.unwrap();
    let send = 1 << 11;
    let threads = 1 << 35;
    assert!(emulator.deny_bot(cast::BRIGHT_REQUESTS, send | threads, false));
    let report = doctor(&emulator).await;
    assert_eq!(report.problems.len(), 1, "{report}");
    let p = &report.problems[0];
    assert!(p.what.contains("#requests"), "{}", p.what);
    assert!(p.what.contains("channels.requests"), "{}", p.what);
    assert!(
        p.what.contains("Send Messages, Create Public Threads"),
        "{}",
        p.what
    );
    assert!(!p.what.contains("Embed Links"), "{}", p.what);
    assert!(p.fix.contains("allow Send Messages"), "{}", p.fix);
    // Given back, the problem is gone.
    emulator.deny_bot(cast::BRIGHT_REQUESTS, send | threads, true);
    assert!(doctor(&emulator).await.problems.is_empty());
}

#[tokio::test]
async fn the_message_content_intent_off_is_a_problem() {
    let emulator = Emulator::start(cast::world().message_content_granted(false))
        .await
        .unwrap();
    let report = doctor(&emulator).await;
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(report.problems[0].what.contains("Message Content"));
    assert!(report.problems[0].fix.contains("MESSAGE CONTENT INTENT"));
}

#[test]
fn overwrites_apply_in_discords_order() {
    use serenity::all::{
        PermissionOverwrite, PermissionOverwriteType, Permissions, RoleId, UserId,
    };
    let (guild, bot_role, me) = (1, 2, 3);
    let send = 1 << 11;
    let view = 1 << 10;
    let roles = [(guild, view | send), (bot_role, 0)];
    let ow = |kind, allow: u64, deny: u64| PermissionOverwrite {
        allow: Permissions::from_bits_truncate(allow),
        deny: Permissions::from_bits_truncate(deny),
        kind,
    };
    let effective = ponte::discord::doctor::effective;
    // @everyone denied, the bot's role allowed again: allowed.
    let o = [
        ow(PermissionOverwriteType::Role(RoleId::new(guild)), 0, send),
        ow(
            PermissionOverwriteType::Role(RoleId::new(bot_role)),
            send,
            0,
        ),
    ];
    assert_ne!(
        effective(guild, false, &roles, me, &[bot_role], &o) & send,
        0
    );
    // A member overwrite comes last and wins.
    let o = [
        ow(
            PermissionOverwriteType::Role(RoleId::new(bot_role)),
            send,
            0,
        ),
        ow(PermissionOverwriteType::Member(UserId::new(me)), 0, send),
    ];
    assert_eq!(
        effective(guild, false, &roles, me, &[bot_role], &o) & send,
        0
    );
    // ADMINISTRATOR ignores overwrites.
    let admin = [(guild, 0), (bot_role, 1 << 3)];
    assert_ne!(
        effective(guild, false, &admin, me, &[bot_role], &o) & send,
        0
    );
}
