//! The invite URL of the bot (`ponte invite-url`): the OAuth2 scopes and the
//! channel permissions Ponte needs in every server it serves, each with why.
//! Bits from Discord's "Permissions" topic (docs/topics/permissions).

/// (name as the Developer Portal shows it, bit, why Ponte needs it).
pub const PERMISSIONS: &[(&str, u64, &str)] = &[
    ("View Channels", 1 << 10, "see the configured channels"),
    (
        "Send Messages",
        1 << 11,
        "post task cards, digests and answers",
    ),
    ("Embed Links", 1 << 14, "cards are embeds"),
    ("Attach Files", 1 << 15, "the digest's chart; relayed files"),
    (
        "Read Message History",
        1 << 16,
        "find its own cards again after a restart",
    ),
    ("Create Public Threads", 1 << 35, "one thread per task"),
    (
        "Send Messages in Threads",
        1 << 38,
        "post each change in the task's thread",
    ),
];

/// The sum of [`PERMISSIONS`]: the `permissions` of the invite URL.
pub fn permissions() -> u64 {
    PERMISSIONS.iter().map(|(_, bit, _)| bit).sum()
}

/// The URL that adds the bot (application `client_id`) to a server with
/// the `bot` and `applications.commands` scopes and [`permissions`].
pub fn url(client_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={client_id}&scope=bot+applications.commands&permissions={}",
        permissions()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_permission_integer_is_the_sum_of_the_documented_bits() {
        assert_eq!(super::permissions(), 309_237_763_072);
        assert_eq!(
            super::url(1_234),
            "https://discord.com/oauth2/authorize?client_id=1234&scope=bot+applications.commands&permissions=309237763072"
        );
    }
}
