//! The Discord adapter: the only code that knows serenity, and it only
//! converts and renders. [`edge`] turns gateway events into the app's
//! requests and the app's answers into interaction responses and messages;
//! [`chat`] implements the app's `Chat` port (what the outbox posts) over
//! Discord's REST API; [`run`] builds the serenity client. It never reads
//! the store: the app's [`crate::app::desk::Desk`] answers, and the app's
//! deliveries call [`chat::DiscordChat`]. [`echo`] is the minimal bot the
//! benchmarks measure Ponte against; [`emulated`] points serenity at the
//! local emulator.

pub mod chat;
pub mod doctor;
pub mod echo;
pub mod edge;
pub mod emulated;
pub mod invite;
pub mod run;

#[cfg(test)]
mod manifest_tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::run::MANIFEST;
    use crate::app::desk::parse::{HANDLED, TRACK_AS_TASK};

    fn manifest() -> Vec<Value> {
        serde_json::from_str(MANIFEST).unwrap()
    }

    #[test]
    fn every_manifest_command_has_a_handler_and_every_handler_an_entry() {
        let mut declared = BTreeSet::new();
        for command in manifest() {
            let name = command["name"].as_str().unwrap().to_owned();
            match command["type"].as_u64() {
                Some(3) => assert_eq!(name, TRACK_AS_TASK),
                Some(1) => {
                    let subs: Vec<String> = command["options"]
                        .as_array()
                        .map(|opts| {
                            opts.iter()
                                .filter(|o| o["type"] == 1)
                                .map(|o| o["name"].as_str().unwrap().to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    if subs.is_empty() {
                        declared.insert((name.clone(), None));
                    }
                    for sub in subs {
                        declared.insert((name.clone(), Some(sub)));
                    }
                }
                other => panic!("unexpected command type {other:?}"),
            }
        }
        let handled: BTreeSet<_> = HANDLED
            .iter()
            .map(|(n, s)| (n.to_string(), s.map(str::to_owned)))
            .collect();
        assert_eq!(declared, handled);
    }

    /// Every name, description and choice has an Italian version, and
    /// names and descriptions respect Discord's rules.
    #[test]
    fn every_entry_is_in_english_and_italian_within_discords_rules() {
        fn check(node: &Value, path: &str) {
            let name = node["name"].as_str().unwrap();
            assert!(
                node["name_localizations"]["it"].is_string(),
                "{path}.{name} has no Italian name"
            );
            if let Some(description) = node.get("description") {
                let d = description.as_str().unwrap();
                assert!(
                    (1..=100).contains(&d.chars().count()),
                    "{path}.{name} description"
                );
                let it = node["description_localizations"]["it"].as_str();
                assert!(
                    it.is_some_and(|it| (1..=100).contains(&it.chars().count())),
                    "{path}.{name} Italian description"
                );
            }
            for child in ["options", "choices"] {
                for n in node[child].as_array().into_iter().flatten() {
                    check(n, &format!("{path}.{name}"));
                }
            }
        }
        for command in manifest() {
            assert!(command.get("default_member_permissions").is_some());
            if command["type"] == 1 {
                let name = command["name"].as_str().unwrap();
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
                );
            }
            check(&command, "");
        }
    }
}
