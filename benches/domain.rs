//! Pure domain work on the hot path of a creation: keyword routing and
//! understanding a request in plain words, with the example configuration's
//! rules. Each beside its floor: splitting the request into lower-cased
//! words, which any matcher must do once.
//!
//! `match_keywords_before` is the matcher as it was before it stopped
//! allocating (each keyword split and lower-cased on every call), kept here
//! so that before and after are measured in the same run.
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
        group.bench_function(format!("match_keywords_before/{name}"), |b| {
            b.iter(|| match_keywords_before(rules, black_box(text)))
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

/// The routing matcher before: `text::words` of each keyword on each call.
fn match_keywords_before(
    rules: &ponte::domain::routing::ClientRouting,
    text: &str,
) -> Option<ponte::domain::people::Side> {
    let words = text::words(text);
    rules.categories.iter().find_map(|rule| {
        rule.keywords
            .iter()
            .find(|kw| contains_phrase_before(&words, kw))
            .map(|_| rule.owner)
    })
}

fn contains_phrase_before(words: &[String], phrase: &str) -> bool {
    let wanted = text::words(phrase);
    let n = wanted.len();
    if n == 0 || words.len() < n {
        return false;
    }
    words.windows(n).any(|window| {
        window
            .iter()
            .zip(&wanted)
            .enumerate()
            .all(|(i, (got, want))| {
                got == want
                    || (i == n - 1
                        && got
                            .strip_prefix(want.as_str())
                            .is_some_and(|rest| rest == "s" || rest == "es"))
            })
    })
}

criterion_group!(benches, routing);
criterion_main!(benches);
