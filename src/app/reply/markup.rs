//! The markup inside Ponte's texts: how a text names a person, a role, a
//! channel or a moment so that the chat shows a name, a link or a local
//! time instead of an id. It is Discord's (`<@id>`, `<@&id>`, `<#id>`,
//! `<t:seconds:f>`, which every reader sees in their own time zone); every
//! text of the app writes these through here, so a chat with another markup
//! changes this module only.

use jiff::Timestamp;

/// A person, shown by name (a mention: it pings only if the reply lists
/// the person in `Reply::ping`).
pub fn person(id: u64) -> String {
    format!("<@{id}>")
}

/// A role, shown by name (pings only if listed in `Reply::ping_roles`).
pub fn role(id: u64) -> String {
    format!("<@&{id}>")
}

/// A channel or thread, shown as a link.
pub fn channel(id: u64) -> String {
    format!("<#{id}>")
}

/// A moment, shown as date and time in the reader's own time zone.
pub fn time(at: Timestamp) -> String {
    format!("<t:{}:f>", at.as_second())
}

/// `text` with each `<…>` piece of markup replaced by what `show` makes of
/// its inside (`@&7`, `#9`, `t:1700000000:f`), or kept when it says `None`.
pub fn rewrite(text: &str, mut show: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let shown = tail
            .find('>')
            .and_then(|close| Some((show(&tail[1..close])?, close)));
        match shown {
            Some((shown, close)) => {
                out.push_str(&shown);
                rest = &tail[close + 1..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_times_are_discord_markup() {
        assert_eq!(person(5), "<@5>");
        assert_eq!(role(7), "<@&7>");
        assert_eq!(channel(9), "<#9>");
        let at: Timestamp = "2026-12-06T09:00:00Z".parse().expect("a timestamp");
        assert_eq!(time(at), format!("<t:{}:f>", at.as_second()));
    }

    #[test]
    fn rewriting_replaces_only_what_it_knows() {
        let shown = rewrite("a <@5> <b> < <#9>", |inner| {
            inner.strip_prefix('#').map(|id| format!("channel {id}"))
        });
        assert_eq!(shown, "a <@5> <b> < channel 9");
    }
}
