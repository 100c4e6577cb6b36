//! The bridge between the two sides' threads: what a message written in a
//! task's thread is (shared, or an internal note that never crosses), and
//! how a relayed copy reads.
//!
//! `classify`: a thread message is shared, or an internal note of the writer's side
//! when it starts with `NOTE_MARKER` (`//`). Attachments are relayed as links with
//! human sizes (`attachment_lines`). The events are `mirrored` (the other side's card
//! and thread), `said`, `said_edited` and `relayed`; only shared `said`/`said_edited`
//! events produce `Effect::Relay`/`Effect::RelayEdit` (see `effect::effects_of`).

use super::event::Attachment;
use super::people::Side;
use super::task::Visibility;

/// A message starting with this stays on its side: an internal note.
pub const NOTE_MARKER: &str = "//";

/// What a person wrote in a thread, as Ponte records it: the text without
/// the note marker, and who may read it.
pub fn classify(text: &str, side: Side) -> (String, Visibility) {
    let trimmed = text.trim_start();
    match trimmed.strip_prefix(NOTE_MARKER) {
        Some(note) => (note.trim().to_owned(), Visibility::Side(side)),
        None => (text.trim().to_owned(), Visibility::Shared),
    }
}

/// A size people read: bytes, KB or MB.
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB {
        format!("{:.1} KB", bytes as f64 / KB as f64)
    } else {
        format!("{bytes} B")
    }
}

/// The link lines for a message's attachments: `📎 [name](url) (size)`.
pub fn attachment_lines(attachments: &[Attachment]) -> Vec<String> {
    attachments
        .iter()
        .map(|a| {
            // Brackets in a file name would break the link's text.
            let name: String = a
                .name
                .chars()
                .map(|c| if matches!(c, '[' | ']') { '_' } else { c })
                .collect();
            format!("📎 [{name}]({}) ({})", a.url, human_size(a.size))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_starting_with_the_marker_is_a_note_of_its_side() {
        assert_eq!(
            classify("  // the customer is slow", Side::Msp),
            (
                "the customer is slow".to_owned(),
                Visibility::Side(Side::Msp)
            )
        );
        assert_eq!(
            classify("//nota interna", Side::Internal),
            ("nota interna".to_owned(), Visibility::Side(Side::Internal))
        );
        // A link or a marker later in the text is not a note.
        assert_eq!(
            classify("see https://example.com // later", Side::Msp).1,
            Visibility::Shared
        );
        assert_eq!(classify("hello", Side::Internal).1, Visibility::Shared);
    }

    #[test]
    fn attachments_become_links_with_name_and_size() {
        let lines = attachment_lines(&[
            Attachment {
                name: "router [old].log".into(),
                size: 2048,
                url: "https://cdn.example/a".into(),
            },
            Attachment {
                name: "x.png".into(),
                size: 3 * 1024 * 1024,
                url: "https://cdn.example/b".into(),
            },
            Attachment {
                name: "n.txt".into(),
                size: 12,
                url: "https://cdn.example/c".into(),
            },
        ]);
        assert_eq!(
            lines,
            [
                "📎 [router _old_.log](https://cdn.example/a) (2.0 KB)",
                "📎 [x.png](https://cdn.example/b) (3.0 MB)",
                "📎 [n.txt](https://cdn.example/c) (12 B)",
            ]
        );
    }
}
