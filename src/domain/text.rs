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
///
/// This runs for every keyword of every category on each request, so it
/// does not allocate: the phrase is split and lower-cased as it is compared
/// (the same words and the same lower case as [`words`]).
pub fn contains_phrase(words: &[String], phrase: &str) -> bool {
    // `str::to_lowercase` treats a final capital sigma specially; char by
    // char it does not. Such a phrase takes the allocating path.
    if phrase.contains('Σ') {
        return contains_words(words, &self::words(phrase));
    }
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

/// The words of a phrase as written (not lower-cased), split like [`words`].
fn phrase_words(phrase: &str) -> impl Iterator<Item = &str> {
    phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// `got` without the lower case of `want` at its start, if it starts so.
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

/// [`contains_phrase`] with the phrase already split and lower-cased.
fn contains_words(words: &[String], wanted: &[String]) -> bool {
    let n = wanted.len();
    if n == 0 || words.len() < n {
        return false;
    }
    words.windows(n).any(|window| {
        window
            .iter()
            .zip(wanted)
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

/// How a text failed [`bounded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounds {
    Empty,
    TooLong { len: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The allocation-free matcher agrees with splitting and
        /// lower-casing the phrase first, on mixed-case, accented, Greek and
        /// Turkish letters, digits and punctuation.
        #[test]
        fn contains_phrase_agrees_with_the_plain_split(
            text in "[a-zA-ZàÈéİıΣσςß0-9 ,.!-]{0,40}",
            phrase in "[a-zA-ZàÈéİıΣσςß0-9 ,.!-]{0,12}",
            suffix in proptest::sample::select(vec!["", "s", "es", "x"]),
        ) {
            let text = format!("{text} {phrase}{suffix}");
            let ws = words(&text);
            proptest::prop_assert_eq!(
                contains_phrase(&ws, &phrase),
                contains_words(&ws, &words(&phrase))
            );
        }
    }

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
