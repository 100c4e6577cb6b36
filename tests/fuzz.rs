//! Fuzzing with proptest (issue 8): every parser of outside input takes
//! random and mutated input without panicking or hanging, and answers bad
//! input with an error that says something. The number of cases is kept so
//! that the whole file runs in about half a minute on a busy 2-core machine;
//! `PROPTEST_CASES=10000 cargo test --release --test fuzz` runs more.

mod common;

use std::sync::Arc;

use common::*;
use ponte::app::desk::parse::{Parsed, parse};
use ponte::app::desk::request::{Interaction, OptionValue, TargetMessage};
use ponte::config::Config;
use ponte::domain::understand::understand;
use ponte::sandbox::script::{parse_line, parse_script};
use ponte::store::{SledStore, Store};
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../config/ponte.example.toml");

/// Text that is hard on parsers: mentions, markdown, links, invisible and
/// right-to-left characters, quotes, separators, control characters.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("@everyone".to_owned()),
        Just("@here".to_owned()),
        Just("<@&1148173188274978819>".to_owned()),
        Just("<@9001>".to_owned()),
        Just("<@!9002>".to_owned()),
        Just("**Ponte** ✅ ACME-1 resolved".to_owned()),
        Just("[ACME-1](https://discord.com/channels/1/2/3)".to_owned()),
        Just("```".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("\u{200D}".to_owned()),
        Just("\u{FEFF}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{2066}".to_owned()),
        Just("\u{0000}".to_owned()),
        Just("é".to_owned()),
        Just("👩‍💻".to_owned()),
        Just("\"".to_owned()),
        Just(":".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\t".to_owned()),
        Just(" ".to_owned()),
        Just("ACME-".to_owned()),
        Just("ponte:".to_owned()),
        Just("9999999999999999999999".to_owned()),
        Just("urgente domani alle 9".to_owned()),
        Just("the vpn is down".to_owned()),
        "[a-zA-Z0-9]{1,12}",
        any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(piece, 0..60).prop_map(|p| p.concat()),
    ]
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(n),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Slash commands, buttons and forms with names Ponte knows and names it
/// does not, and options of every type.
fn interaction() -> impl Strategy<Value = Interaction> {
    let name = prop_oneof![
        Just("request".to_owned()),
        Just("task".to_owned()),
        Just("mine".to_owned()),
        Just("help".to_owned()),
        Just("Track as task".to_owned()),
        "[a-z]{0,8}",
    ];
    let sub = prop::option::of(prop_oneof![
        Just("claim".to_owned()),
        Just("show".to_owned()),
        Just("status".to_owned()),
        Just("assign".to_owned()),
        Just("note".to_owned()),
        Just("list".to_owned()),
        Just("handoff".to_owned()),
        "[a-z]{0,8}",
    ]);
    let value = prop_oneof![
        hostile().prop_map(OptionValue::Text),
        any::<i64>().prop_map(OptionValue::Integer),
        any::<u64>().prop_map(OptionValue::User),
        any::<bool>().prop_map(OptionValue::Bool),
    ];
    let option_name = prop_oneof![
        Just("id".to_owned()),
        Just("title".to_owned()),
        Just("details".to_owned()),
        Just("to".to_owned()),
        Just("priority".to_owned()),
        Just("status".to_owned()),
        Just("due".to_owned()),
        Just("who".to_owned()),
        Just("text".to_owned()),
        Just("reason".to_owned()),
        "[a-z]{0,6}",
    ];
    let options = prop::collection::vec((option_name, value), 0..6);
    let custom_id = prop_oneof![
        hostile(),
        (
            prop_oneof![
                Just("ponte:claim:"),
                Just("ponte:resolve:"),
                Just("ponte:reopen:"),
                Just("ponte:draft:"),
                Just("ponte:"),
            ],
            hostile()
        )
            .prop_map(|(p, s)| format!("{p}{s}")),
    ];
    prop_oneof![
        (name.clone(), sub, options).prop_map(|(name, subcommand, options)| {
            Interaction::Slash {
                name,
                subcommand,
                options,
            }
        }),
        (name, target()).prop_map(|(name, target)| Interaction::MessageMenu { name, target }),
        (custom_id.clone(), prop::option::of(target()))
            .prop_map(|(custom_id, source)| Interaction::Button { custom_id, source }),
        (
            custom_id,
            prop::collection::vec(("[a-z]{0,8}", hostile()), 0..4)
        )
            .prop_map(|(custom_id, fields)| Interaction::Modal { custom_id, fields }),
    ]
}

fn target() -> impl Strategy<Value = TargetMessage> {
    (any::<u64>(), any::<u64>(), hostile(), any::<i64>()).prop_map(
        |(id, author, content, sent_at)| TargetMessage {
            id,
            channel: 1,
            author,
            content,
            sent_at,
        },
    )
}

/// The example configuration with random edits: characters deleted,
/// inserted or replaced, lines dropped or repeated.
fn mutated_config() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        (any::<prop::sample::Index>(), 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<prop::sample::Index>(), hostile()).prop_map(|(at, s)| Edit::Insert(at, s)),
        any::<prop::sample::Index>().prop_map(Edit::DropLine),
        any::<prop::sample::Index>().prop_map(Edit::RepeatLine),
    ];
    prop::collection::vec(edit, 1..6).prop_map(|edits| {
        let mut text = EXAMPLE.to_owned();
        for edit in edits {
            text = edit.apply(&text);
        }
        text
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, String),
    DropLine(prop::sample::Index),
    RepeatLine(prop::sample::Index),
}

impl Edit {
    fn apply(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let lines: Vec<&str> = text.lines().collect();
        match self {
            Edit::Delete(at, n) if !chars.is_empty() => {
                let at = at.index(chars.len());
                let end = (at + n).min(chars.len());
                chars[..at].iter().chain(&chars[end..]).collect()
            }
            Edit::Insert(at, s) => {
                let at = at.index(chars.len() + 1);
                let mut out: String = chars[..at].iter().collect();
                out.push_str(s);
                out.extend(&chars[at..]);
                out
            }
            Edit::DropLine(at) if !lines.is_empty() => {
                let at = at.index(lines.len());
                let mut lines = lines;
                lines.remove(at);
                lines.join("\n")
            }
            Edit::RepeatLine(at) if !lines.is_empty() => {
                let at = at.index(lines.len());
                let mut lines = lines;
                lines.insert(at, lines[at]);
                lines.join("\n")
            }
            _ => text.to_owned(),
        }
    }
}

/// A real export of a few tasks of two clients.
fn export() -> String {
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let engine = ponte::app::engine::Engine::new(store.clone(), rules());
    for (i, client) in [ACME, BRIGHT, ACME].into_iter().enumerate() {
        engine
            .execute(
                &create(&employee(1, client), client, &format!("vpn {i}")),
                start(),
            )
            .unwrap();
    }
    let mut out = Vec::new();
    ponte::app::transfer::export(store.as_ref(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn understanding_free_text_never_panics(text in hostile()) {
        let now = start();
        let tz = jiff::tz::TimeZone::get("Europe/Rome").unwrap();
        let draft = understand(&text, &routing(), &tz, now);
        prop_assert!(!draft.title.contains(['\u{200B}', '\u{202E}', '\u{FEFF}']), "{:?}", draft.title);
        prop_assert!(draft.due.is_none_or(|due| due > now));
    }

    #[test]
    fn parsing_interactions_never_panics_and_refusals_have_a_message(i in interaction()) {
        match parse(&i) {
            Parsed::Malformed(error) => {
                // Every refusal is a message the user can be shown.
                prop_assert!(!error.message_id().is_empty());
            }
            Parsed::Ok(_) | Parsed::NotMine => {}
        }
    }

    #[test]
    fn the_script_parser_answers_every_line(text in hostile()) {
        match parse_script(&text) {
            Ok(_) => {}
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
        for line in text.lines() {
            if let Err(problem) = parse_line(line) {
                prop_assert!(!problem.is_empty());
            }
        }
    }

    #[test]
    fn script_lines_built_from_its_words_parse_or_say_why(
        words in prop::collection::vec(prop_oneof![
            Just("as"), Just("in"), Just("/request"), Just("/task"), Just("claim"),
            Just("click"), Just("submit"), Just("say"), Just("advance"), Just("restart"),
            Just("fault"), Just("429"), Just("500"), Just("POST"), Just("expect"),
            Just("reply"), Just("contains"), Just("once"), Just("no"), Just("violations"),
            Just("thread"), Just("#requests"), Just("dm"), Just("to"), Just("\""),
            Just("title:\"x\""), Just("2h"), Just("-5m"), Just("99999999999h"),
            Just("alice"), Just("ACME-1"), Just("drop-gateway"), Just(":"),
        ], 0..8)
    ) {
        let line = words.join(" ");
        if let Err(problem) = parse_line(&line) {
            prop_assert!(!problem.is_empty(), "{line}");
        }
    }
}

proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn the_config_loader_refuses_mutations_clearly(text in mutated_config()) {
        match Config::from_toml_str(&text, "ponte.toml") {
            Ok(config) => prop_assert!(!config.clients().is_empty()),
            Err(errors) => {
                let shown = errors.to_string();
                prop_assert!(shown.contains("ponte.toml"), "{shown}");
            }
        }
    }

    #[test]
    fn the_config_loader_takes_any_text(text in hostile()) {
        if let Err(errors) = Config::from_toml_str(&text, "ponte.toml") {
            prop_assert!(!errors.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(cases(150))]

    /// Whatever import accepts leaves a store that passes the integrity
    /// check; whatever it refuses is refused with a reason.
    #[test]
    fn import_of_mutated_exports_is_consistent_or_refused(
        edits in prop::collection::vec(prop_oneof![
            (any::<prop::sample::Index>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<prop::sample::Index>(), hostile()).prop_map(|(at, s)| Edit::Insert(at, s)),
            any::<prop::sample::Index>().prop_map(Edit::DropLine),
            any::<prop::sample::Index>().prop_map(Edit::RepeatLine),
        ], 0..4)
    ) {
        let mut text = export();
        for edit in &edits {
            text = edit.apply(&text);
        }
        let store = SledStore::open_temporary().unwrap();
        match ponte::app::transfer::import(&store, &mut text.as_bytes()) {
            Ok(counts) => {
                prop_assert_eq!(store.check_integrity().unwrap(), Vec::<String>::new());
                prop_assert_eq!(store.task_count().unwrap(), counts.tasks);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}
