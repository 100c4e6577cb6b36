//! Text rules shared by the domain: limits and word matching.

/// Longest task title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest task details, in characters.
pub const DETAILS_MAX: usize = 4000;
/// Longest comment, in characters.
pub const COMMENT_MAX: usize = 4000;
/// Longest reason (handoff, refusal, reopen, cancel), in characters.
pub const REASON_MAX: usize = 500;

/// Lower-cased words of a text: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `phrase` (one or more words) appears in `words` as consecutive
/// whole words. The last word may carry a plural `s` or `es`.
pub fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted = self::words(phrase);
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

/// Trims a text and checks it is neither empty nor longer than `max`
/// characters; returns the trimmed text, or the length found.
pub fn bounded(raw: &str, max: usize) -> Result<String, Bounds> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        Err(Bounds::Empty)
    } else if len > max {
        Err(Bounds::TooLong { len })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// `raw` trimmed and cut to at most `max` characters, with `…` marking a
/// cut (for texts made from outside input, such as an alert's title).
pub fn clip(raw: &str, max: usize) -> String {
    let trimmed = raw.trim();
    if trimmed.chars().count() <= max {
        return trimmed.to_owned();
    }
    let mut out: String = trimmed.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// How a text failed [`bounded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounds {
    Empty,
    TooLong { len: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_phrase_matches_whole_words_ignoring_case_with_plurals() {
        let ws = words("The VPN is down; two Printers are jammed");
        assert!(contains_phrase(&ws, "vpn"));
        assert!(contains_phrase(&ws, "VPN is"));
        assert!(contains_phrase(&ws, "printer"));
        assert!(contains_phrase(&ws, "two printer"));
        assert!(!contains_phrase(&ws, "printers are jam"));
        assert!(!contains_phrase(&ws, "vp"));
        assert!(!contains_phrase(&ws, "!!"));
        assert!(!contains_phrase(&ws, "vpns is"));
    }

    #[test]
    fn words_split_on_anything_but_letters_and_digits() {
        assert_eq!(
            words("VPN down, in Milano!! (urgent)"),
            ["vpn", "down", "in", "milano", "urgent"]
        );
        assert_eq!(words("perché è già rotto"), ["perché", "è", "già", "rotto"]);
    }

    #[test]
    fn bounds_count_characters_not_bytes() {
        assert_eq!(bounded("  è  ", 1), Ok("è".to_owned()));
        assert_eq!(bounded("ènne", 3), Err(Bounds::TooLong { len: 4 }));
        assert_eq!(bounded(" \n ", 3), Err(Bounds::Empty));
    }
}
