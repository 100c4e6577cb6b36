//! The layer rules, read off the sources: every path a file names (`use`
//! lines and paths in code, `crate::…`, `super::…`, and outside crates) is
//! resolved to the top-level module it reaches, and each layer may reach
//! only what its rule allows. A broken rule names the file, the line and the
//! import. See ARCHITECTURE.md, "Layers".

use std::path::{Path, PathBuf};

/// One layer's rule: the files under `folder` may not reach these crate
/// modules, nor these outside crates.
struct Rule {
    folder: &'static str,
    why: &'static str,
    /// Crate modules it may reach; `None`: any but those in `denied`.
    allowed: Option<&'static [&'static str]>,
    denied: &'static [&'static str],
    denied_crates: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        folder: "domain",
        why: "the domain is pure: it imports nothing of the crate outside itself",
        allowed: Some(&["domain"]),
        denied: &[],
        denied_crates: &["serenity", "sled", "reqwest", "tokio"],
    },
    Rule {
        folder: "store",
        why: "the store imports only the domain",
        allowed: Some(&["store", "domain"]),
        denied: &[],
        denied_crates: &["serenity", "reqwest"],
    },
    Rule {
        folder: "app",
        why: "the app has no chat in it: no serenity, nothing of discord/, and no sled",
        allowed: None,
        denied: &["discord", "run", "emulator"],
        denied_crates: &["serenity", "sled"],
    },
    Rule {
        folder: "discord",
        why: "the Discord adapter converts and renders: it never imports the store",
        allowed: None,
        denied: &["store", "run"],
        denied_crates: &["sled"],
    },
    Rule {
        folder: "inbound",
        why: "the alert listener checks and converts, and calls the app: it never imports the store",
        allowed: None,
        denied: &["store", "run", "discord", "emulator"],
        denied_crates: &["sled", "serenity"],
    },
    Rule {
        folder: "emulator",
        why: "the emulator is a stand-in for Discord: it imports nothing of Ponte's",
        allowed: Some(&["emulator"]),
        denied: &[],
        denied_crates: &["ponte"],
    },
];

/// A path a source names that breaks a rule.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    import: String,
    why: &'static str,
}

/// The module path of a source file under `src/` (`app/deliver/sink.rs` is
/// `app::deliver::sink`, a `mod.rs` is its folder's module).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" && stem != "main" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// The code of a line: without `//` comments and string contents.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Each path in `code` that starts with `crate`, `super`, `self` or an
/// outside crate of `crates`, resolved to its first segment: `(what the
/// source says, the module or crate it reaches, whether it is this crate)`.
fn paths_in(code: &str, module: &[String], crates: &[&str]) -> Vec<(String, String, bool)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let rest = &code[i..];
        let ident_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if ident_len == 0 {
            // Not an identifier character: step over it whole.
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        if !starts_word || !rest[ident_len..].starts_with("::") {
            i += ident_len;
            continue;
        }
        // A preceding `::` means this is not the start of a path.
        if code[..i].ends_with("::") {
            i += ident_len;
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let first = segments[0];
        let resolved = match first {
            "crate" => segments.get(1).map(|s| (s.to_string(), true)),
            "super" | "self" => {
                let mut at = module.to_vec();
                let mut k = 0;
                while let Some(&seg) = segments.get(k) {
                    match seg {
                        "super" => {
                            at.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    k += 1;
                }
                match at.first() {
                    Some(top) => Some((top.clone(), true)),
                    // From the crate root: the next segment is the module.
                    None => segments.get(k).map(|s| (s.to_string(), true)),
                }
            }
            other if crates.contains(&other) => Some((other.to_owned(), false)),
            _ => None,
        };
        if let Some((target, own)) = resolved {
            found.push((path.clone(), target, own));
        }
        i += path.len().max(1);
    }
    found
}

/// The violations in one file's text.
fn check_source(relative: &Path, text: &str) -> Vec<Violation> {
    let module = module_of(relative);
    let Some(top) = module.first() else {
        return Vec::new();
    };
    let Some(rule) = RULES.iter().find(|r| r.folder == top) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Inline modules (`mod tests { … }`): their name and the brace depth
    // they opened at, so that `super::` inside them resolves right.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let code = code_of(line).replace("'{'", "").replace("'}'", "");
        let words: Vec<&str> = code.split_whitespace().collect();
        if let Some(at) = words.iter().position(|w| *w == "mod")
            && words.get(at + 2) == Some(&"{")
        {
            inline.push((words[at + 1].to_owned(), depth));
        }
        let mut here = module.clone();
        here.extend(inline.iter().map(|(name, _)| name.clone()));
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    while inline.last().is_some_and(|(_, opened)| *opened >= depth) {
                        inline.pop();
                    }
                }
                _ => {}
            }
        }
        for (import, target, own) in paths_in(&code, &here, rule.denied_crates) {
            let broken = if own {
                match rule.allowed {
                    Some(allowed) => !allowed.contains(&target.as_str()),
                    None => rule.denied.contains(&target.as_str()),
                }
            } else {
                rule.denied_crates.contains(&target.as_str())
            };
            if broken {
                out.push(Violation {
                    file: relative.display().to_string(),
                    line: n + 1,
                    import,
                    why: rule.why,
                });
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_layer_imports_only_what_its_rule_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "the sources were not found under {}",
        src.display()
    );
    let mut checked = 0;
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let text = std::fs::read_to_string(file).expect("a readable source file");
        if module_of(relative)
            .first()
            .is_some_and(|top| RULES.iter().any(|r| r.folder == top))
        {
            checked += 1;
        }
        violations.extend(check_source(relative, &text));
    }
    for rule in RULES {
        assert!(
            files.iter().any(|f| f
                .strip_prefix(&src)
                .is_ok_and(|r| r.starts_with(rule.folder))),
            "no sources in src/{}: the rule checks nothing",
            rule.folder
        );
    }
    assert!(checked > 50, "only {checked} files fall under a rule");
    let report: Vec<String> = violations
        .iter()
        .map(|v| format!("src/{}:{}: `{}`: {}", v.file, v.line, v.import, v.why))
        .collect();
    assert!(
        report.is_empty(),
        "layer rules broken:\n{}",
        report.join("\n")
    );
}

// The checker itself, on planted violations.

fn planted(file: &str, text: &str) -> Vec<String> {
    check_source(Path::new(file), text)
        .into_iter()
        .map(|v| format!("{}:{}:{}", v.file, v.line, v.import))
        .collect()
}

#[test]
fn a_domain_file_that_reads_the_store_or_the_clock_is_named() {
    let text = "use crate::domain::Task;\nuse crate::store::Store;\n\
                fn f() { let _ = crate::app::clock::SystemClock; }\nuse tokio::sync::Mutex;\n";
    assert_eq!(
        planted("domain/task.rs", text),
        [
            "domain/task.rs:2:crate::store::Store",
            "domain/task.rs:3:crate::app::clock::SystemClock",
            "domain/task.rs:4:tokio::sync::Mutex",
        ]
    );
}

#[test]
fn the_app_may_not_reach_discord_even_through_super() {
    let text = "use super::super::super::discord::edge::Handler;\nuse super::Chat;\n\
                use serenity::all::Http;\nuse crate::store::Store;\n";
    assert_eq!(
        planted("app/deliver/sink.rs", text),
        [
            "app/deliver/sink.rs:1:super::super::super::discord::edge::Handler",
            "app/deliver/sink.rs:3:serenity::all::Http",
        ]
    );
}

#[test]
fn discord_may_not_import_the_store_and_the_emulator_nothing_of_ponte() {
    assert_eq!(
        planted(
            "discord/edge.rs",
            "use crate::store::Store;\nuse crate::app::desk::Desk;\n"
        ),
        ["discord/edge.rs:1:crate::store::Store"]
    );
    assert_eq!(
        planted(
            "emulator/rest.rs",
            "use super::state::State;\nuse crate::config::Config;\n"
        ),
        ["emulator/rest.rs:2:crate::config::Config"]
    );
    assert_eq!(
        planted("store/keys.rs", "use crate::app::engine::Ledger;\n"),
        ["store/keys.rs:1:crate::app::engine::Ledger"]
    );
}

#[test]
fn comments_and_strings_are_not_imports() {
    let text =
        "// see crate::store::Store\nlet s = \"crate::store::Store\";\n/// [`crate::discord`]\n";
    assert!(planted("app/engine.rs", text).is_empty());
    assert!(planted("domain/task.rs", "//! Uses crate::store nowhere.\n").is_empty());
}

#[test]
fn super_inside_an_inline_module_is_its_parent() {
    let text = "mod tests {\n    use super::run::MANIFEST;\n}\nuse super::store::Store;\n";
    assert_eq!(
        planted("discord/mod.rs", text),
        ["discord/mod.rs:4:super::store::Store"]
    );
}
