//! Hostile input through the emulator and the real bot (issue 8):
//! - mentions written by people (@everyone, @here, roles, users) in titles,
//!   comments and thread messages that Ponte relays, pages, digests, cards,
//!   thread names and DMs: nobody is pinged but whom Ponte means to page;
//! - 100 KB message contents and option/form values: no crash, a clear
//!   refusal or a cut with a note, never mid-character, and Discord accepts
//!   every message Ponte sends;
//! - lone UTF-16 surrogates (`\ud800`) in gateway JSON (MESSAGE_CREATE,
//!   INTERACTION_CREATE): the bot survives and later events are handled.

use std::time::Duration;

use jiff::Timestamp;
use ponte::emulator::Message;
use ponte::sandbox::cast;
use ponte::sandbox::runner::{Sandbox, describe};
use ponte::sandbox::script::parse_line;
use serde_json::Value;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Thursday 26 November 2026, 10:00 in Rome.
fn start() -> Timestamp {
    "2026-11-26T09:00:00Z".parse().unwrap()
}

async fn step(sandbox: &mut Sandbox, line: &str) -> String {
    let step = parse_line(line)
        .unwrap_or_else(|e| panic!("bad step {line:?}: {e}"))
        .unwrap_or_else(|| panic!("empty step {line:?}"));
    sandbox.step(&step).await.unwrap_or_else(|f| {
        let short: String = line.chars().take(80).collect();
        let why: String = f.to_string().chars().take(2000).collect();
        panic!("{short:?}... failed: {why}")
    })
}

/// Every message anywhere: each channel of the demo, its threads, and the
/// DMs of every person.
fn everything(sandbox: &Sandbox) -> Vec<Message> {
    let emulator = &sandbox.emulator;
    let mut channels: Vec<u64> = cast::CHANNELS.iter().map(|(_, c, _)| *c).collect();
    let threads: Vec<u64> = channels
        .iter()
        .flat_map(|c| emulator.threads(*c))
        .map(|(t, _)| t)
        .collect();
    channels.extend(threads);
    channels.extend(
        cast::PEOPLE
            .iter()
            .filter_map(|p| emulator.dm_channel(p.id)),
    );
    channels
        .into_iter()
        .flat_map(|c| emulator.messages(c))
        .collect()
}

fn ids(allowed: &Value, key: &str) -> Vec<u64> {
    allowed
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
                .collect()
        })
        .unwrap_or_default()
}

/// Text full of pings people may write, none of which may ring.
const NOT_PINGED_USERS: [u64; 4] = [9001, 9003, 9011, 9013];
const NOT_PINGED_ROLES: [u64; 3] = [
    cast::BRIGHT_IT_MANAGER,
    cast::ACME_IT_MANAGER,
    cast::BRIGHT_IT_TECH,
];
const MARK: &str = "pingbait";

fn hostile() -> String {
    format!(
        "{MARK} @everyone @here <@&{}> <@&{}> <@&{}> <@9001> <@!9003> <@9011> <@9013>",
        cast::BRIGHT_IT_MANAGER,
        cast::ACME_IT_MANAGER,
        cast::BRIGHT_IT_TECH
    )
}

#[test]
fn mentions_in_relayed_paged_and_digested_text_ping_nobody() {
    runtime().block_on(async {
        let mut sandbox = Sandbox::start(None, start()).await.unwrap();
        let bait = hostile();
        let s = &mut sandbox;
        // Brightline (its digests at 08:30): an urgent request that pages
        // the MSP's on-call by DM, with a relayed conversation.
        step(s, "as alice").await;
        step(
            s,
            &format!(
                "/request title:\"phone system down {bait}\" details:\"{bait}\" priority:P1 to:msp"
            ),
        )
        .await;
        step(s, "as ben").await;
        step(s, "in #it-team").await;
        step(s, "/task list").await;
        step(s, "as mike").await;
        step(s, "in #nordhaven").await;
        step(
            s,
            &format!("/task comment id:BRIGHT-1 text:\"on it {bait}\""),
        )
        .await;
        step(s, "as alice").await;
        step(s, "in thread BRIGHT-1").await;
        step(s, &format!("say \"thanks {bait}\"")).await;
        // Acme: a DM request, and one through the form.
        step(s, "as giulia").await;
        step(s, &format!("dm \"@ponte la stampante {bait}\"")).await;
        step(s, "in #richieste").await;
        step(
            s,
            &format!("/request title:\"centralino fermo {bait}\" priority:P1 to:msp"),
        )
        .await;
        // Left alone: it pages up to the MSP leads' role.
        step(
            s,
            &format!(
                "/request title:\"telefoni muti {bait}\" details:\"{bait}\" priority:P1 to:msp"
            ),
        )
        .await;
        step(s, "as paolo").await;
        step(s, "in #acme").await;
        step(s, &format!("/task handoff id:ACME-1 reason:\"{bait}\"")).await;
        // Pages climb the escalation; the next morning's digests go out.
        step(s, "advance 1h").await;
        step(s, "advance 23h").await;
        step(s, "expect no violations").await;

        let all = everything(&sandbox);
        let bot = sandbox.emulator.bot_id();
        let mut pinged = 0;
        let mut baited = 0;
        for m in all.iter().filter(|m| m.author_id == bot) {
            let text = describe(m);
            baited += usize::from(text.contains(MARK));
            let allowed = m
                .allowed_mentions
                .as_ref()
                .unwrap_or_else(|| panic!("no allowed_mentions on {text}"));
            let parse = allowed.get("parse").and_then(Value::as_array);
            assert!(
                parse.is_some_and(Vec::is_empty),
                "parse must be explicit and empty: {allowed} on {text}"
            );
            let users = ids(allowed, "users");
            let roles = ids(allowed, "roles");
            pinged += users.len() + roles.len();
            for u in &users {
                assert!(!NOT_PINGED_USERS.contains(u), "{u} pinged by {text}");
            }
            for r in &roles {
                assert!(!NOT_PINGED_ROLES.contains(r), "role {r} pinged by {text}");
            }
        }
        // The check saw the bait where it travels, and real pages pinging.
        assert!(baited >= 5, "the bait travelled to only {baited} messages");
        if pinged == 0 {
            for m in all.iter().filter(|m| m.author_id == bot) {
                eprintln!(
                    "{} {:?} :: {}",
                    m.channel_id,
                    m.allowed_mentions,
                    describe(m).chars().take(150).collect::<String>()
                );
            }
        }
        assert!(pinged > 0, "no page pinged anybody: the check saw no pings");
        let dm_bait = [9021u64, 9022].iter().any(|p| {
            sandbox.emulator.dm_channel(*p).is_some_and(|c| {
                sandbox
                    .emulator
                    .messages(c)
                    .iter()
                    .any(|m| describe(m).contains(MARK))
            })
        });
        assert!(dm_bait, "no page DM carried the title");
        let digest = sandbox
            .emulator
            .messages(cast::BRIGHT_IT)
            .iter()
            .chain(sandbox.emulator.messages(cast::BRIGHT_MSP).iter())
            .any(|m| describe(m).contains(MARK) && m.author_id == bot);
        assert!(
            digest,
            "no digest or card in Brightline's channels carried it"
        );
        // Thread names are not messages: they hold the bait as plain text.
        for (_, name) in sandbox.emulator.threads(cast::BRIGHT_REQUESTS) {
            assert!(name.chars().count() <= 100, "thread name too long: {name}");
        }
        sandbox.stop().await;
    });
}

/// About 100 KB of text whose characters are 1 to 4 bytes long, so a cut
/// at a byte count would land inside one.
fn big(tag: &str) -> String {
    let mut text = format!("{tag} ");
    while text.len() < 100 * 1024 {
        text.push_str("é🙂 a👩‍💻 ");
    }
    text
}

/// Every message the bot sent is within Discord's limits (the emulator
/// checks them too) and holds no replacement character (a broken cut).
fn bot_messages_are_whole(sandbox: &Sandbox) -> usize {
    let bot = sandbox.emulator.bot_id();
    let mut n = 0;
    for m in everything(sandbox).iter().filter(|m| m.author_id == bot) {
        let text = describe(m);
        assert!(!text.contains('\u{FFFD}'), "a broken character in {text}");
        assert!(m.content.chars().count() <= 2000, "too long: {}", m.content);
        n += 1;
    }
    n
}

#[test]
fn hundred_kilobytes_of_input_are_refused_or_cut_with_a_note() {
    runtime().block_on(async {
        let mut sandbox = Sandbox::start(None, start()).await.unwrap();
        sandbox.emulator.allow_oversized_input(true);
        let s = &mut sandbox;
        step(s, "as alice").await;
        // Options: a clear refusal naming the limit.
        let reply = step(s, &format!("/request title:\"{}\"", big("title"))).await;
        assert!(reply.contains("the most is"), "{reply}");
        let reply = step(
            s,
            &format!(
                "/request title:\"phone broken\" details:\"{}\"",
                big("details")
            ),
        )
        .await;
        assert!(reply.contains("the most is"), "{reply}");
        step(s, "/request title:\"phone broken\" priority:P3").await;
        let reply = step(
            s,
            &format!("/task comment id:BRIGHT-1 text:\"{}\"", big("c")),
        )
        .await;
        assert!(reply.contains("the most is"), "{reply}");
        // The form: the same refusal.
        step(s, "/request").await;
        let reply = step(s, &format!("submit title:\"{}\"", big("form"))).await;
        assert!(reply.contains("the most is"), "{reply}");
        // A 100 KB mention: a draft, its text cut with a note.
        step(s, "in #requests").await;
        let draft = step(s, &format!("say \"@ponte {}\"", big("mention"))).await;
        assert!(
            draft.contains("mention") && draft.contains("(cut)"),
            "{draft}"
        );
        // A 100 KB message in the task's thread, relayed to the MSP's
        // mirror: cut with a note, whole characters.
        step(s, "as giulia").await;
        step(s, "/request title:\"telefono rotto\" to:msp").await;
        step(s, "in thread ACME-1").await;
        step(s, &format!("say \"{}\"", big("relayed"))).await;
        // A 100 KB DM.
        step(s, &format!("dm \"{}\"", big("dm"))).await;
        // Everything still works afterwards.
        step(s, "as alice").await;
        step(s, "in #requests").await;
        let reply = step(s, "/request title:\"printer jam again\"").await;
        assert!(reply.contains("BRIGHT-2"), "{reply}");
        step(s, "expect no violations").await;
        step(s, "as giulia").await;
        step(s, "expect mirror ACME-1 contains \"relayed\"").await;
        step(s, "expect mirror ACME-1 contains \"(cut)\"").await;
        assert!(bot_messages_are_whole(&sandbox) > 3);
        sandbox.stop().await;
    });
}

#[test]
fn lone_surrogates_in_gateway_json_do_not_stop_the_bot() {
    runtime().block_on(async {
        let mut sandbox = Sandbox::start(None, start()).await.unwrap();
        let s = &mut sandbox;
        step(s, "as alice").await;
        step(s, "/request title:\"phone broken\" to:msp").await;
        let before = s.emulator.gateway_stats();
        // What no JSON writer produces: a high surrogate alone, a low one
        // alone, and a high one followed by a letter.
        s.emulator.rewrite_dispatches("LONEHIGH", "\\ud800");
        s.emulator.rewrite_dispatches("LONELOW", "\\udc00");
        s.emulator.rewrite_dispatches("HIGHTHENA", "\\ud83dA");
        let bot = s.emulator.bot_id();
        // A mention, a thread message and a slash command carrying them.
        s.emulator
            .post(
                9011,
                cast::BRIGHT_REQUESTS,
                &format!("<@{bot}> printer LONEHIGH"),
            )
            .unwrap();
        let thread = {
            step(s, "in thread BRIGHT-1").await;
            s.emulator
                .threads(cast::BRIGHT_REQUESTS)
                .first()
                .map(|(t, _)| *t)
                .unwrap()
        };
        s.emulator
            .post(9011, thread, "still LONELOW broken")
            .unwrap();
        let bad = s
            .emulator
            .slash_line(
                9011,
                cast::BRIGHT_REQUESTS,
                "/request title:\"HIGHTHENA x\"",
            )
            .unwrap();
        // The frames really were invalid JSON.
        let invalid = s
            .emulator
            .dispatches()
            .iter()
            .filter(|f| f.to_string().contains("LONE") || f.to_string().contains("HIGHTHENA"))
            .count();
        assert_eq!(invalid, 3, "the three frames were dispatched");
        // Later events are all handled: a request, a mention, a thread
        // message (recorded and relayed), a click.
        step(s, "in #requests").await;
        let reply = step(s, "/request title:\"printer jam\"").await;
        assert!(reply.contains("BRIGHT-"), "{reply}");
        let draft = step(s, "say \"@ponte the printer is jammed\"").await;
        assert!(draft.contains("printer"), "{draft}");
        step(s, "in thread BRIGHT-1").await;
        step(s, "say \"any news on the phone?\"").await;
        step(s, "as mike").await;
        step(s, "in #nordhaven").await;
        step(s, "/task claim id:BRIGHT-1").await;
        step(s, "expect no violations").await;
        // The invalid interaction got no answer (serenity cannot read it;
        // Discord shows the person that it failed), and nothing else came
        // of the invalid frames: no task from them, no crash.
        assert!(
            bad.response(Duration::from_secs(3)).await.is_err(),
            "an unreadable interaction cannot have been answered"
        );
        // The session itself survived: no new IDENTIFY was needed.
        let after = s.emulator.gateway_stats();
        assert_eq!(
            after.identifies, before.identifies,
            "{before:?} → {after:?}"
        );
        sandbox.stop().await;
    });
}
