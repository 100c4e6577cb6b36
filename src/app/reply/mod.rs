//! Ponte's own reply model: what the app answers and posts, as plain
//! data that no chat knows of. A [`Reply`] is a message (text, [`Card`]s
//! with [`Field`]s, the actions on it as [`Button`]s, who it may
//! ping); an [`Answer`] says how to answer a request (a reply, an update of
//! the card a button is on, a [`Form`] to fill in, or nothing). Texts come
//! from the Fluent files through [`render::Renderer`] and are cut to the
//! [`limits`] of the tightest chat Ponte serves (Discord's). A chat adapter
//! turns this model into its own payloads: `crate::discord` into embeds,
//! components and threads.

pub mod digest;
pub mod markup;
pub mod places;
pub mod render;

/// Discord's limits (see shared/discord/README.md).
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const EMBEDS_TOTAL: usize = 6000;
    pub const THREAD_NAME: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
}

/// Cuts `text` to at most `max` characters, at a character boundary, ending
/// with `note` (e.g. "… (cut)") when something was cut.
pub fn fit(text: &str, max: usize, note: &str) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(note.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(note);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Success,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub custom_id: String,
    pub style: ButtonStyle,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A card: a titled block with a description and fields, in a colour
/// (a task, a list, an approval). Discord shows it as an embed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Card {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    pub color: u32,
}

impl Card {
    /// Characters Discord counts towards the 6000 of all embeds.
    pub fn size(&self) -> usize {
        self.title.chars().count()
            + self.description.chars().count()
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }
}

/// A message to send: text, cards, buttons. Nobody is ever pinged unless
/// named in `ping` (user ids); @everyone, @here and roles never are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub content: String,
    pub cards: Vec<Card>,
    pub buttons: Vec<Button>,
    pub ephemeral: bool,
    pub ping: Vec<u64>,
    /// Roles it pings (a page for an on-call role); never from user text.
    pub ping_roles: Vec<u64>,
    /// A file sent with it (the digest's chart).
    pub file: Option<Attachment>,
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn ephemeral(content: String) -> Self {
        Self {
            content,
            ephemeral: true,
            ..Self::default()
        }
    }
}

/// A text input of a modal form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub custom_id: String,
    pub label: String,
    pub long: bool,
    pub required: bool,
    pub max_length: u16,
}

/// A modal form to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<Input>,
}

/// How to answer an interaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A new message (ephemeral or not).
    Reply(Reply),
    /// Replace the message the clicked button is on.
    Update(Reply),
    /// Show a form.
    Form(Form),
    /// Not Ponte's: leave it alone.
    Ignore,
}
