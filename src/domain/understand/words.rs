//! Words with their place in the text, folded for matching, and phrase
//! matching that tolerates one typo in long words.

use super::lexicon::NEVER_FUZZY;

/// A word of the text: a run of letters and digits, with its byte range in
/// the text it came from and its folded form (lower case, no accents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Word {
    pub start: usize,
    pub end: usize,
    pub folded: String,
}

/// The words of `text`, in order.
pub(super) fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            let (_, folded) = current.get_or_insert_with(|| (i, String::new()));
            fold_into(c, folded);
        } else if let Some((start, folded)) = current.take() {
            out.push(Word {
                start,
                end: i,
                folded,
            });
        }
    }
    if let Some((start, folded)) = current {
        out.push(Word {
            start,
            end: text.len(),
            folded,
        });
    }
    out
}

/// Lower-cases `c` and drops its accent: `È` → `e`, `ç` → `c`.
fn fold_into(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        out.push(match lower {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        });
    }
}

/// Folds a whole text: lower case, no accents.
pub(super) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// The folded words of a lexicon phrase.
pub(super) fn phrase(p: &str) -> Vec<String> {
    words(p).into_iter().map(|w| w.folded).collect()
}

/// The edit distance between two words, in characters: insertions,
/// deletions, substitutions and swaps of two neighbours (`urgnet` is one edit
/// from `urgent`) — the optimal string alignment distance. Stops early once
/// it exceeds `limit`, returning `limit + 1`.
pub(super) fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 0..a.len() {
        row[0] = i + 1;
        let mut best = row[0];
        for j in 0..b.len() {
            let mut d = (prev[j] + usize::from(a[i] != b[j]))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            row[j + 1] = d;
            best = best.min(d);
        }
        if best > limit {
            return limit + 1;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()].min(limit + 1)
}

/// Whether a word of the text is the lexicon word `want`: the same, a plural
/// of it (`s`/`es`), or — for words of 5 letters or more — one typo away.
pub(super) fn same_word(got: &str, want: &str) -> bool {
    if got == want {
        return true;
    }
    if got
        .strip_prefix(want)
        .is_some_and(|rest| rest == "s" || rest == "es")
    {
        return true;
    }
    let long = want.chars().count() >= 5 && got.chars().count() >= 4;
    long && !NEVER_FUZZY.contains(&got) && edit_distance(got, want, 1) <= 1
}

/// Whether `phrase` matches the words starting at `at`; the index just past
/// the match.
pub(super) fn match_at(text: &[Word], at: usize, phrase: &[String]) -> Option<usize> {
    let end = at.checked_add(phrase.len())?;
    let window = text.get(at..end)?;
    if phrase.is_empty() {
        return None;
    }
    window
        .iter()
        .zip(phrase)
        .all(|(got, want)| same_word(&got.folded, want))
        .then_some(end)
}

/// A phrase of a lexicon found in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Found {
    /// The lexicon entry, as written there.
    pub entry: &'static str,
    /// Word indices: `first..end`.
    pub first: usize,
    pub end: usize,
}

/// Every place a phrase of `lexicon` occurs, in text order; at each place the
/// longest phrase wins.
pub(super) fn find_all(text: &[Word], lexicon: &[&'static str]) -> Vec<Found> {
    let phrases: Vec<(&'static str, Vec<String>)> =
        lexicon.iter().map(|p| (*p, phrase(p))).collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let best = phrases
            .iter()
            .filter_map(|(entry, words)| match_at(text, at, words).map(|end| (*entry, end)))
            .max_by_key(|(_, end)| *end);
        match best {
            Some((entry, end)) => {
                out.push(Found {
                    entry,
                    first: at,
                    end,
                });
                at = end;
            }
            None => at += 1,
        }
    }
    out
}

/// The text a found phrase covers, as the person typed it.
pub(super) fn quote<'t>(text: &'t str, words: &[Word], first: usize, end: usize) -> &'t str {
    match (
        words.get(first),
        end.checked_sub(1).and_then(|l| words.get(l)),
    ) {
        (Some(a), Some(b)) if a.start <= b.end => &text[a.start..b.end],
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_keep_their_place() {
        let text = "Perché È GIÀ giù?";
        let w = words(text);
        let folded: Vec<_> = w.iter().map(|w| w.folded.as_str()).collect();
        assert_eq!(folded, ["perche", "e", "gia", "giu"]);
        assert_eq!(&text[w[0].start..w[0].end], "Perché");
        assert_eq!(&text[w[3].start..w[3].end], "giù");
    }

    #[test]
    fn edit_distance_counts_single_edits_and_swaps() {
        assert_eq!(edit_distance("urgent", "urgent", 1), 0);
        assert_eq!(edit_distance("urgnet", "urgent", 1), 1);
        assert_eq!(edit_distance("bloccatto", "bloccato", 1), 1);
        assert_eq!(edit_distance("kitten", "sitting", 5), 3);
        assert_eq!(edit_distance("a", "abcdef", 1), 2);
        assert_eq!(edit_distance("outgae", "outage", 1), 1);
    }

    #[test]
    fn long_words_tolerate_one_typo_short_ones_none() {
        assert!(same_word("bloccatto", "bloccato"));
        assert!(same_word("urgnt", "urgent"));
        assert!(same_word("urgnet", "urgent"));
        assert!(same_word("critcal", "critical"));
        assert!(same_word("outages", "outage"));
        assert!(!same_word("dowm", "down"));
        assert!(!same_word("tutto", "tutti"));
        assert!(!same_word("serverless", "server"));
    }
}
