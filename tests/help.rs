//! Every command is documented where people look (issue 18): each slash
//! command and subcommand of the manifest (and the message command) in
//! `/help`, in English and Italian under the names Discord shows in that
//! language, and in the README; every `ponte` subcommand in the README.

use ponte::config::Lang;
use ponte::i18n::Messages;

const MANIFEST: &str = include_str!("../commands/commands.json");
const README: &str = include_str!("../README.md");

/// (command, its subcommands) as named in `lang`.
fn commands(lang: Option<&str>) -> Vec<(String, Vec<String>, u64)> {
    let manifest: serde_json::Value = serde_json::from_str(MANIFEST).unwrap();
    let name = |v: &serde_json::Value| {
        lang.and_then(|l| v["name_localizations"][l].as_str())
            .or_else(|| v["name"].as_str())
            .unwrap()
            .to_owned()
    };
    manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let subs = c["options"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| matches!(o["type"].as_u64(), Some(1 | 2)))
                .map(name)
                .collect();
            (name(c), subs, c["type"].as_u64().unwrap_or(1))
        })
        .collect()
}

#[test]
fn help_names_every_command_in_each_language_and_fits_a_message() {
    let messages = Messages::load().unwrap();
    for (lang, code) in [(Lang::En, None), (Lang::It, Some("it"))] {
        let help = messages.text(lang, "help", &[]);
        assert!(
            help.chars().count() <= 2000,
            "{code:?}: /help is over Discord's 2,000"
        );
        assert!(help.contains("@Ponte"), "{code:?}: mentions are explained");
        for (command, subs, kind) in commands(code) {
            if kind == 3 {
                assert!(
                    help.contains(&command),
                    "{code:?}: {command:?} not in /help"
                );
                continue;
            }
            if command == "help" || command == "aiuto" {
                continue;
            }
            assert!(
                help.contains(&format!("/{command}")),
                "{code:?}: /{command} not in /help"
            );
            for sub in subs {
                assert!(
                    help.contains(&format!("|{sub}")) || help.contains(&format!(" {sub}")),
                    "{code:?}: /{command} {sub} not in /help"
                );
            }
        }
    }
}

#[test]
fn the_readme_lists_every_slash_and_cli_command() {
    for (command, subs, kind) in commands(None) {
        if kind == 3 {
            assert!(README.contains(&command), "{command:?} not in the README");
            continue;
        }
        assert!(
            README.contains(&format!("/{command}")),
            "/{command} not in the README"
        );
        for sub in subs {
            assert!(
                README.contains(&format!("|{sub}"))
                    || README.contains(&format!("/{command} {sub}")),
                "/{command} {sub} not in the README"
            );
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .arg("--help")
        .output()
        .unwrap();
    let usage = String::from_utf8_lossy(&out.stdout);
    let list = usage.split("Commands:").nth(1).expect("a command list");
    let list = list.split("Options:").next().unwrap();
    let mut n = 0;
    for line in list.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        if name == "help" || !line.starts_with("  ") || line.starts_with("   ") {
            continue;
        }
        n += 1;
        assert!(
            README.contains(&format!("`ponte {name}")),
            "ponte {name} not in the README"
        );
    }
    assert!(n >= 12, "read {n} commands from:\n{usage}");
}
