//! Cleaning a text for reading, and making a short title of it.

use super::lexicon::{ADDRESSEES, GREETINGS, POLITE, TITLE_CUES};
use super::words::{Word, match_at, phrase, words};

/// Longest title a draft proposes, in characters.
pub const TITLE_LIMIT: usize = 100;

/// Zero-width and direction-control characters, which people do not see and
/// which would split or hide words.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{FEFF}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}')
}

/// The text without invisible characters; control characters other than a
/// new line become spaces.
pub(super) fn strip_invisible(text: &str) -> String {
    text.chars()
        .filter(|c| !invisible(*c))
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// The text without Discord mentions (users, roles, channels, custom emoji,
/// `@everyone`, `@here`), and the users mentioned, in order.
pub(super) fn strip_mentions(text: &str) -> (String, Vec<u64>) {
    let mut out = String::with_capacity(text.len());
    let mut users = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['<', '@']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some((len, user)) = mention(tail) {
            users.extend(user);
            out.push(' ');
            rest = &tail[len..];
        } else {
            let c = tail.chars().next().unwrap_or('<');
            out.push(c);
            rest = &tail[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    (out, users)
}

/// A mention at the start of `s`: its length in bytes and, for a user, the id.
fn mention(s: &str) -> Option<(usize, Option<u64>)> {
    for everyone in ["@everyone", "@here"] {
        if s.starts_with(everyone) {
            return Some((everyone.len(), None));
        }
    }
    if !s.starts_with('<') {
        return None;
    }
    let close = s.char_indices().take(72).find(|(_, c)| *c == '>')?.0;
    let inner = &s[1..close];
    let digits = |d: &str| !d.is_empty() && d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit());
    let len = close + 1;
    if let Some(id) = inner.strip_prefix("@!").or_else(|| inner.strip_prefix('@')) {
        if digits(id) {
            return Some((len, id.parse().ok()));
        }
        if let Some(role) = id.strip_prefix('&') {
            return digits(role).then_some((len, None));
        }
        return None;
    }
    if let Some(channel) = inner.strip_prefix('#') {
        return digits(channel).then_some((len, None));
    }
    // Custom emoji: <:name:id> or <a:name:id>.
    let emoji = inner
        .strip_prefix("a:")
        .or_else(|| inner.strip_prefix(':'))?;
    let (name, id) = emoji.split_once(':')?;
    let name_ok = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    (name_ok && digits(id)).then_some((len, None))
}

/// The title of a text already cleaned of mentions: its first sentence with
/// content once greetings, politeness and urgency words are taken off its
/// ends, at most [`TITLE_LIMIT`] characters, cut at a word boundary.
pub(super) fn title(text: &str) -> String {
    let sentences = sentences(text);
    let chosen = sentences
        .iter()
        .map(|s| strip_ends(s))
        .find(|s| s.chars().any(char::is_alphanumeric))
        .or_else(|| {
            sentences
                .iter()
                .copied()
                .find(|s| s.chars().any(char::is_alphanumeric))
        })
        .unwrap_or(text);
    finish(chosen)
}

fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let split = match c {
            '\n' => Some(i),
            '.' | '!' | '?' => text[end..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
                .then_some(end),
            _ => None,
        };
        if let Some(cut) = split {
            out.push(text[start..cut].trim());
            start = end;
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

fn phrases(list: &[&str]) -> Vec<Vec<String>> {
    list.iter().map(|p| phrase(p)).collect()
}

fn longest_at(ws: &[Word], at: usize, list: &[Vec<String>]) -> Option<usize> {
    list.iter().filter_map(|p| match_at(ws, at, p)).max()
}

/// Takes greetings, politeness and urgency words off both ends of a sentence.
fn strip_ends(sentence: &str) -> &str {
    let greetings = phrases(GREETINGS);
    let addressees = phrases(ADDRESSEES);
    let cues: Vec<Vec<String>> = phrases(POLITE)
        .into_iter()
        .chain(phrases(TITLE_CUES))
        .collect();
    let mut s = sentence;
    let mut after_greeting = false;
    for _ in 0..12 {
        let ws = words(s);
        if ws.is_empty() {
            return s;
        }
        let cut_from = |end: usize| ws.get(end).map_or("", |w| &s[w.start..]);
        // A greeting, then maybe who it greets: always taken off.
        if let Some(end) = longest_at(&ws, 0, &greetings) {
            s = cut_from(end);
            after_greeting = true;
            continue;
        }
        if after_greeting {
            after_greeting = false;
            if let Some(end) = longest_at(&ws, 0, &addressees) {
                s = cut_from(end);
                continue;
            }
        }
        // `Urgent:`, `Please,` but not `Critical update failed`.
        if let Some(end) = longest_at(&ws, 0, &cues) {
            let after = &s[ws[end - 1].end..];
            let punctuated = after
                .trim_start()
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if punctuated {
                s = cut_from(end);
                continue;
            }
        }
        // `..., urgent!`, `... please`
        let n = ws.len();
        let trailing = (1..n.min(4)).find(|k| {
            cues.iter()
                .any(|p| p.len() == *k && match_at(&ws, n - k, p) == Some(n))
        });
        if let Some(k) = trailing {
            s = &s[..ws[n - k].start];
            continue;
        }
        return s;
    }
    s
}

fn finish(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed
        .trim_start_matches(|c: char| c.is_whitespace() || ",;:.!-–—".contains(c))
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:.!-–—".contains(c));
    let mut title = String::with_capacity(trimmed.len());
    let mut chars = trimmed.chars();
    if let Some(first) = chars.next() {
        if first.is_lowercase() && first.to_uppercase().count() == 1 {
            title.extend(first.to_uppercase());
        } else {
            title.push(first);
        }
    }
    title.extend(chars);
    cut(title)
}

/// At most [`TITLE_LIMIT`] characters: a longer title is cut at the last
/// space that fits (or, in one endless word, at a character) and ends in `…`.
fn cut(title: String) -> String {
    if title.chars().count() <= TITLE_LIMIT {
        return title;
    }
    // Room for the ellipsis.
    let Some((limit, next)) = title.char_indices().nth(TITLE_LIMIT - 1) else {
        return title;
    };
    let head = &title[..limit];
    let head = if next == ' ' {
        head
    } else {
        match head.rfind(' ') {
            Some(space) if space > 0 => &head[..space],
            _ => head,
        }
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:.!-–—".contains(c));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_taken_out_and_users_collected() {
        let (text, users) =
            strip_mentions("<@123> and <@!456>, see <#789> <@&42> @everyone <:ok:99> <3 a@b.c");
        assert_eq!(users, [123, 456]);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["and", ",", "see", "<3", "a@b.c"]
        );
    }

    #[test]
    fn titles_are_the_first_sentence_without_greetings_and_cues() {
        assert_eq!(
            title("URGENT: the VPN is down. Nobody can work"),
            "The VPN is down"
        );
        assert_eq!(
            title("Ciao a tutti, la stampante del 2° piano non stampa! Grazie"),
            "La stampante del 2° piano non stampa"
        );
        assert_eq!(
            title("Hi all!\nCan someone reset my password please?"),
            "Can someone reset my password"
        );
        assert_eq!(
            title("Critical update failed on PC-12"),
            "Critical update failed on PC-12"
        );
        assert_eq!(title("urgente!!!"), "Urgente");
        assert_eq!(title("   "), "");
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let long = "word ".repeat(40);
        let t = title(&long);
        assert!(t.chars().count() <= TITLE_LIMIT, "{t}");
        assert!(t.ends_with("word…"), "{t}");
        let endless = "x".repeat(300);
        let t = title(&endless);
        assert_eq!(t.chars().count(), TITLE_LIMIT);
    }
}
