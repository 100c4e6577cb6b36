//! Pure domain work on the hot path of a creation: keyword routing and
//! understanding a request in plain words, with the example configuration's
//! rules. Each beside its floor: splitting the request into lower-cased
//! words, which any matcher must do once.
//!
//! `match_keywords_lazy_split` is a matcher that does not allocate (it
//! splits and lower-cases each keyword as it compares, window by window):
//! tried as an optimisation, it was 2-4x slower than splitting each keyword
//! once per call, so it stays here as a measured alternative, not in Ponte.
//!
//! `cargo bench --bench domain`; as a test (`cargo test --benches`) each
//! benchmark runs once.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ponte::config::Config;
use ponte::domain::text;

const CONFIG: &str = include_str!("../config/ponte.example.toml");

/// Requests as people write them: one matching the first category early,
/// one matching late, one matching nothing (every keyword is tried).
const TEXTS: &[(&str, &str)] = &[
    ("early_match", "The VPN is down at the Leeds depot"),
    (
        "late_match",
        "Since this morning nobody on the second floor can print: the printer shows an error",
    ),
    (
        "no_match",
        "Could somebody look at the coffee machine in the kitchen on the third floor, it makes strange noises since Monday",
    ),
];

fn routing(c: &mut Criterion) {
    let config = Config::from_toml_str(CONFIG, "ponte.example.toml").expect("example config");
    let client = &config.clients()[1];
    let rules = &client.routing;
    let keywords: usize = rules.categories.iter().map(|r| r.keywords.len()).sum();
    eprintln!(
        "routing: {} categories, {keywords} keywords ({})",
        rules.categories.len(),
        client.key
    );
    let mut group = c.benchmark_group("routing");
    for (name, text) in TEXTS {
        group.bench_function(format!("match_keywords/{name}"), |b| {
            b.iter(|| rules.match_keywords(black_box(text)).map(|(r, _)| r.owner))
        });
        group.bench_function(format!("match_keywords_lazy_split/{name}"), |b| {
            b.iter(|| match_keywords_lazy_split(rules, black_box(text)))
        });
        group.bench_function(format!("words_floor/{name}"), |b| {
            b.iter(|| text::words(black_box(text)).len())
        });
        group.bench_function(format!("understand/{name}"), |b| {
            let now = jiff::Timestamp::from_second(1_795_000_000).expect("a time");
            b.iter(|| {
                ponte::domain::understand::understand(
                    black_box(text),
                    rules,
                    &client.time_zone,
                    now,
                )
            })
        });
    }
    group.finish();
}

/// Keyword routing without allocating per keyword: each keyword is split
/// and lower-cased while it is compared, in every window of the text.
fn match_keywords_lazy_split(
    rules: &ponte::domain::routing::ClientRouting,
    text: &str,
) -> Option<ponte::domain::people::Side> {
    let words = text::words(text);
    rules.categories.iter().find_map(|rule| {
        rule.keywords
            .iter()
            .find(|kw| contains_phrase_lazy(&words, kw))
            .map(|_| rule.owner)
    })
}

fn phrase_words(phrase: &str) -> impl Iterator<Item = &str> {
    phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

fn strip_lowered<'g>(got: &'g str, want: &str) -> Option<&'g str> {
    let mut rest = got;
    for c in want.chars().flat_map(char::to_lowercase) {
        let mut chars = rest.chars();
        if chars.next() != Some(c) {
            return None;
        }
        rest = chars.as_str();
    }
    Some(rest)
}

fn contains_phrase_lazy(words: &[String], phrase: &str) -> bool {
    let n = phrase_words(phrase).count();
    if n == 0 || words.len() < n {
        return false;
    }
    words.windows(n).any(|window| {
        window
            .iter()
            .zip(phrase_words(phrase))
            .enumerate()
            .all(|(i, (got, want))| match strip_lowered(got, want) {
                Some("") => true,
                Some(rest) => i == n - 1 && (rest == "s" || rest == "es"),
                None => false,
            })
    })
}

criterion_group!(benches, routing);
criterion_main!(benches);
