//! What a person did in the chat, in Ponte's own terms: a command with
//! options, a button, a form, a mention or a direct message, and where and
//! by whom ([`Origin`]). A chat adapter (`crate::discord::edge`) converts its
//! events into these; everything after it is plain data, testable without a chat.

/// A value given for a command option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    Text(String),
    Integer(i64),
    User(u64),
    Bool(bool),
}

/// A message a context-menu command was used on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetMessage {
    pub id: u64,
    pub channel: u64,
    pub author: u64,
    pub content: String,
    /// When it was written (seconds since the epoch; 0 when unknown).
    pub sent_at: i64,
}

/// The kinds of interaction Ponte answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interaction {
    /// `/name [subcommand] option:value...`
    Slash {
        name: String,
        subcommand: Option<String>,
        options: Vec<(String, OptionValue)>,
    },
    /// A message context-menu command ("Track as task").
    MessageMenu { name: String, target: TargetMessage },
    /// A button press. For a button on a plain-words draft, the message the
    /// draft was written in, as the edge fetched it.
    Button {
        custom_id: String,
        source: Option<TargetMessage>,
    },
    /// A submitted modal form.
    Modal {
        custom_id: String,
        fields: Vec<(String, String)>,
    },
}

/// Who did it and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub interaction_id: u64,
    pub user: u64,
    pub guild: Option<u64>,
    pub channel: u64,
    /// The member's roles in that guild (empty in DMs).
    pub roles: Vec<u64>,
    /// The user's Discord locale (`it`, `en-US`, ...).
    pub locale: String,
    /// Members named in the options, with their roles in this guild.
    pub resolved: Vec<(u64, Vec<u64>)>,
    /// In DMs: the configured servers the person is in, with their roles
    /// there (how Ponte finds whom a DM is from).
    pub memberships: Vec<(u64, Vec<u64>)>,
}

impl Interaction {
    /// The value of a slash option.
    pub fn option(&self, name: &str) -> Option<&OptionValue> {
        match self {
            Interaction::Slash { options, .. } => {
                options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// A text option, trimmed; an empty one counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.option(name) {
            Some(OptionValue::Text(s)) if !s.trim().is_empty() => Some(s.trim()),
            _ => None,
        }
    }

    /// A modal field, trimmed; an empty one counts as absent.
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            Interaction::Modal { fields, .. } => fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty()),
            _ => None,
        }
    }
}
