//! What tests and the sandbox read from the emulator, and what they pass to it.

use std::fmt;

use serde_json::Value;

/// Why an emulator call (acting as a user, or waiting) failed.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// A user, channel, message, command, button, ... does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The action is not possible in Discord (disabled button, wrong user, bad option).
    #[error("not possible: {0}")]
    Invalid(String),
    /// Waiting for something took longer than the timeout.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        what: String,
        timeout: std::time::Duration,
    },
}

/// A message as the emulator stores it (Discord's JSON is in [`Message::json`]).
#[derive(Clone, Debug)]
pub struct Message {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub author_id: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub flags: u64,
    /// Only the interaction's user sees it (flag 64); never in [`super::Emulator::messages`].
    pub ephemeral: bool,
    /// A deferred response not yet edited ("the bot is thinking", flag 128).
    pub loading: bool,
    /// The thread started from this message.
    pub thread_id: Option<u64>,
    /// `allowed_mentions` as the bot sent it (`None`: not sent).
    pub allowed_mentions: Option<Value>,
    /// The interaction this message answers, if any.
    pub interaction_id: Option<u64>,
    /// Earlier versions, oldest first (each edit pushes the version it replaced).
    pub edits: Vec<MessageVersion>,
    pub deleted: bool,
    /// The message object as Discord returns it over REST.
    pub json: Value,
}

/// A version of a message before an edit.
#[derive(Clone, Debug)]
pub struct MessageVersion {
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub json: Value,
}

/// A button found in a message's components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: Option<String>,
    pub custom_id: Option<String>,
    pub style: u64,
    pub disabled: bool,
    pub url: Option<String>,
}

impl Message {
    /// All buttons, row by row.
    pub fn buttons(&self) -> Vec<Button> {
        buttons_of(&self.components)
    }

    /// The button with this label.
    pub fn button(&self, label: &str) -> Option<Button> {
        self.buttons()
            .into_iter()
            .find(|b| b.label.as_deref() == Some(label))
    }

    /// Content, embed titles, descriptions, field names and values, and footers, one per line:
    /// handy to assert that some text was shown whatever the layout.
    pub fn text(&self) -> String {
        let mut out = vec![self.content.clone()];
        for embed in &self.embeds {
            for key in ["title", "description"] {
                if let Some(s) = embed.get(key).and_then(Value::as_str) {
                    out.push(s.to_string());
                }
            }
            for field in embed
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for key in ["name", "value"] {
                    if let Some(s) = field.get(key).and_then(Value::as_str) {
                        out.push(s.to_string());
                    }
                }
            }
            if let Some(s) = embed.pointer("/footer/text").and_then(Value::as_str) {
                out.push(s.to_string());
            }
        }
        out.retain(|s| !s.is_empty());
        out.join("\n")
    }
}

pub(crate) fn buttons_of(components: &[Value]) -> Vec<Button> {
    let mut out = Vec::new();
    for row in components {
        for c in row
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if c.get("type").and_then(Value::as_u64) == Some(2) {
                out.push(Button {
                    label: c.get("label").and_then(Value::as_str).map(String::from),
                    custom_id: c.get("custom_id").and_then(Value::as_str).map(String::from),
                    style: c.get("style").and_then(Value::as_u64).unwrap_or(0),
                    disabled: c.get("disabled").and_then(Value::as_bool).unwrap_or(false),
                    url: c.get("url").and_then(Value::as_str).map(String::from),
                });
            }
        }
    }
    out
}

/// A modal the bot opened (callback type 9).
#[derive(Clone, Debug)]
pub struct Modal {
    pub custom_id: String,
    pub title: String,
    /// The text inputs: (custom_id, label, required).
    pub fields: Vec<ModalField>,
    pub json: Value,
}

/// A text input of a modal.
#[derive(Clone, Debug)]
pub struct ModalField {
    pub custom_id: String,
    pub label: String,
    pub required: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// How the bot answered an interaction.
#[derive(Clone, Debug)]
pub struct InteractionResponse {
    /// The callback type: 4 message, 5 deferred message, 6 deferred update,
    /// 7 update message, 9 modal.
    pub kind: u8,
    /// For 4 and 5: the response message (for 5, after the bot edited it); for 6 and 7:
    /// the message the component is on, as it is now.
    pub message: Option<Message>,
    /// For 9: the modal.
    pub modal: Option<Modal>,
    /// Follow-up messages, oldest first.
    pub followups: Vec<Message>,
    /// The raw callback body.
    pub body: Value,
    /// After a deferred update (6): whether the bot edited the message since.
    pub edited_after: bool,
}

impl InteractionResponse {
    /// The content of the response message ("" if none).
    pub fn content(&self) -> &str {
        self.message.as_ref().map_or("", |m| m.content.as_str())
    }

    pub fn embeds(&self) -> &[Value] {
        self.message.as_ref().map_or(&[], |m| m.embeds.as_slice())
    }

    pub fn components(&self) -> &[Value] {
        self.message
            .as_ref()
            .map_or(&[], |m| m.components.as_slice())
    }

    pub fn flags(&self) -> u64 {
        self.message.as_ref().map_or(0, |m| m.flags)
    }

    pub fn ephemeral(&self) -> bool {
        self.message.as_ref().is_some_and(|m| m.ephemeral)
    }

    /// See [`Message::text`].
    pub fn text(&self) -> String {
        self.message.as_ref().map(Message::text).unwrap_or_default()
    }
}

/// A request the emulator refused because Discord would (or because it breaks
/// Ponte's rules), or that Discord would have refused in another way.
#[derive(Clone, Debug)]
pub struct Violation {
    pub method: String,
    pub path: String,
    /// The route template (as in Discord's OpenAPI spec), if the route is known.
    pub route: Option<String>,
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.reason)
    }
}

/// A REST request and the emulator's answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// The path after `/api/v10`.
    pub path: String,
    pub route: Option<String>,
    pub status: u16,
    pub request: Option<Value>,
    pub response: Option<Value>,
}

/// Which requests a fault applies to: a method and either a route template as in
/// Discord's spec (`/channels/{channel_id}/messages`) or a prefix of the concrete
/// path (`/channels/123`). Paths are relative to `/api/v10` (a leading `/api/v10`
/// is accepted too).
#[derive(Clone, Debug)]
pub struct RouteMatch {
    pub method: String,
    pub path: String,
}

impl RouteMatch {
    pub fn new(method: &str, path: &str) -> Self {
        let path = path.strip_prefix("/api/v10").unwrap_or(path).to_string();
        Self {
            method: method.to_ascii_uppercase(),
            path,
        }
    }

    pub(crate) fn matches(&self, method: &str, path: &str, route: Option<&str>) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        if self.path.contains('{') {
            route == Some(self.path.as_str())
        } else {
            // A prefix of whole segments: `/channels/1` does not match `/channels/12`.
            let prefix = self.path.trim_end_matches('/');
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_matches_by_template_or_whole_segment_prefix() {
        let by_template = RouteMatch::new("post", "/api/v10/channels/{channel_id}/messages");
        let route = Some("/channels/{channel_id}/messages");
        assert!(by_template.matches("POST", "/channels/5/messages", route));
        assert!(!by_template.matches("GET", "/channels/5/messages", route));
        assert!(!by_template.matches(
            "POST",
            "/channels/5/threads",
            Some("/channels/{channel_id}/threads")
        ));
        let by_prefix = RouteMatch::new("POST", "/channels/5");
        assert!(by_prefix.matches("POST", "/channels/5/messages", route));
        assert!(by_prefix.matches("POST", "/channels/5", None));
        assert!(!by_prefix.matches("POST", "/channels/55/messages", route));
    }
}

/// Counters of what happened on the gateway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    pub connections: u64,
    pub identifies: u64,
    pub resumes: u64,
    /// RESUMEs refused with INVALID_SESSION (unknown or invalidated session).
    pub failed_resumes: u64,
    pub heartbeats: u64,
}

/// A value of a slash-command option (see [`opt`] and [`sub`]).
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// A user, channel, role or mentionable id.
    Id(u64),
    /// A subcommand or subcommand group with its options.
    Sub(Vec<CommandOption>),
}

impl From<&str> for OptionValue {
    fn from(v: &str) -> Self {
        Self::Str(v.to_string())
    }
}
impl From<String> for OptionValue {
    fn from(v: String) -> Self {
        Self::Str(v)
    }
}
impl From<i64> for OptionValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<f64> for OptionValue {
    fn from(v: f64) -> Self {
        Self::Num(v)
    }
}
impl From<bool> for OptionValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

/// A named option the user fills in.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandOption {
    pub name: String,
    pub value: OptionValue,
}

/// An option value: `opt("id", "ACME-1")`, `opt("count", 3i64)`. Its type comes from the
/// registered command (a string is converted to the registered type).
pub fn opt(name: &str, value: impl Into<OptionValue>) -> CommandOption {
    CommandOption {
        name: name.to_string(),
        value: value.into(),
    }
}

/// A subcommand (or group) with its options: `sub("claim", vec![opt("id", "ACME-1")])`.
pub fn sub(name: &str, options: Vec<CommandOption>) -> CommandOption {
    CommandOption {
        name: name.to_string(),
        value: OptionValue::Sub(options),
    }
}
