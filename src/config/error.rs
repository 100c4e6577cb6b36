//! Configuration problems: where they are (a path like `clients[1].guild_id`
//! and a line) and what to fix.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Where in the document, e.g. `clients[1].guild_id`; empty for problems
    /// of the document as a whole (such as a TOML syntax error).
    pub path: String,
    /// The 1-based line the problem is on, or the line of the nearest
    /// enclosing table when the value is missing.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Every problem found in one configuration file, in document order.
///
/// Displays one problem per line as `file:line: path: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The file name, or whatever name the text was loaded under.
    pub file: String,
    pub problems: Vec<ConfigProblem>,
}

impl ConfigErrors {
    pub(crate) fn single(file: &str, message: String) -> Self {
        Self {
            file: file.to_owned(),
            problems: vec![ConfigProblem {
                path: String::new(),
                line: None,
                message,
            }],
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.file)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
            }
            if !p.path.is_empty() {
                write!(f, ": {}", p.path)?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A path into the document: table keys and array indexes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path(Vec<Seg>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

impl Path {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        Self(segs)
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Self(segs)
    }

    /// This path followed by what `serde_path_to_error` tracked below it.
    pub(crate) fn join_serde(&self, below: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment;
        let mut path = self.clone();
        for seg in below.iter() {
            path = match seg {
                Segment::Seq { index } => path.index(*index),
                Segment::Map { key } => path.key(key),
                Segment::Enum { variant } => path.key(variant),
                Segment::Unknown => path.key("?"),
            };
        }
        path
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem before it is given its line.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) path: Path,
    /// A byte offset known from the parser; otherwise the line comes from `path`.
    pub(crate) offset: Option<usize>,
    pub(crate) message: String,
}

/// Finds where paths are in the parsed document.
pub(crate) struct Locator<'a, 'i> {
    text: &'a str,
    doc: &'a Spanned<DeTable<'i>>,
}

impl<'a, 'i> Locator<'a, 'i> {
    pub(crate) fn new(text: &'a str, doc: &'a Spanned<DeTable<'i>>) -> Self {
        Self { text, doc }
    }

    /// The span of the value at `path`, or of its nearest ancestor present
    /// in the document (for a missing key: the table that should hold it).
    pub(crate) fn span(&self, path: &Path) -> Option<Range<usize>> {
        let mut best = None;
        let mut here: Option<&DeValue<'i>> = None;
        for seg in &path.0 {
            let next = match (seg, here) {
                (Seg::Key(k), None) => self.doc.get_ref().get(k.as_str()),
                (Seg::Key(k), Some(DeValue::Table(t))) => t.get(k.as_str()),
                (Seg::Index(n), Some(DeValue::Array(a))) => a.get(*n),
                _ => None,
            };
            let Some(next) = next else { break };
            best = Some(next.span());
            here = Some(next.get_ref());
        }
        best
    }

    pub(crate) fn line(&self, path: &Path) -> Option<usize> {
        self.span(path).map(|s| line_of(self.text, s.start))
    }

    pub(crate) fn finish(&self, file: &str, mut found: Vec<Found>) -> ConfigErrors {
        found.sort_by_key(|f| f.offset.or_else(|| self.span(&f.path).map(|s| s.start)));
        ConfigErrors {
            file: file.to_owned(),
            problems: found
                .into_iter()
                .map(|f| ConfigProblem {
                    line: match f.offset {
                        Some(offset) => Some(line_of(self.text, offset)),
                        None => self.line(&f.path),
                    },
                    path: f.path.to_string(),
                    message: f.message,
                })
                .collect(),
        }
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Rewrites serde's `unknown field` message: secrets get the hint that they
/// belong in the environment, near-misses get a suggestion.
pub(crate) fn explain(message: &str) -> String {
    if let Some(found) = message.strip_suffix(", expected a sequence") {
        return format!("{found}, expected a list, e.g. [\"a\", \"b\"]");
    }
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let names: Vec<&str> = rest.split('`').step_by(2).collect();
    let Some((&field, expected)) = names.split_first() else {
        return message.to_owned();
    };
    if looks_secret(field) {
        return format!("unknown field `{field}`: {}", secret_hint(field));
    }
    let lower = field.to_ascii_lowercase();
    let best = expected
        .iter()
        .map(|e| (distance(&lower, e), *e))
        .filter(|(d, e)| *d <= 2 && *d < e.len() / 2)
        .min();
    match best {
        Some((_, e)) => format!("unknown field `{field}`: did you mean `{e}`?"),
        None => message.to_owned(),
    }
}

fn looks_secret(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "credential",
        "private_key",
    ]
    .iter()
    .any(|s| f.contains(s))
}

fn secret_hint(field: &str) -> String {
    if field.to_ascii_lowercase().contains("token") {
        format!(
            "secrets never go in the configuration file; remove `{field}` and set the {} environment variable instead",
            super::DISCORD_TOKEN_VAR
        )
    } else {
        format!(
            "secrets never go in the configuration file; remove `{field}`: Ponte reads secrets from the environment"
        )
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_document() {
        let p = Path::root()
            .key("clients")
            .index(1)
            .key("roles")
            .key("it_manager");
        assert_eq!(p.to_string(), "clients[1].roles.it_manager");
        assert_eq!(Path::root().to_string(), "");
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn missing_values_point_at_the_table_that_should_hold_them() {
        let text = "[msp]\nname = 'x'\n\n[[clients]]\nname = 'a'\n\n[[clients]]\nname = 'b'\n[clients.roles]\nit_manager = 1\n";
        let doc = DeTable::parse(text).unwrap();
        let loc = Locator::new(text, &doc);
        let clients = Path::root().key("clients");
        assert_eq!(loc.line(&clients.index(0).key("name")), Some(5));
        assert_eq!(loc.line(&clients.index(1).key("guild_id")), Some(7));
        assert_eq!(
            loc.line(&clients.index(1).key("roles").key("it_manager")),
            Some(10)
        );
        assert_eq!(
            loc.line(&clients.index(1).key("roles").key("it_technician")),
            Some(9)
        );
        assert_eq!(loc.line(&Path::root().key("categories")), None);
    }

    #[test]
    fn unknown_fields_get_suggestions_and_secrets_get_the_environment() {
        assert_eq!(
            explain("unknown field `gild_id`, expected one of `name`, `guild_id`"),
            "unknown field `gild_id`: did you mean `guild_id`?"
        );
        assert_eq!(
            explain("unknown field `colour`, expected `name`"),
            "unknown field `colour`, expected `name`"
        );
        assert!(explain("unknown field `token`, expected `name`").contains("DISCORD_TOKEN"));
        assert!(explain("unknown field `pager_secret`, expected `name`").contains("environment"));
        assert_eq!(explain("invalid type: integer"), "invalid type: integer");
    }
}
