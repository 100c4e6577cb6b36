//! Secrets, which come only from the environment, never from the file.
//!
//! [`Secrets`] holds the Discord token (`DISCORD_TOKEN`). A [`Secret`] never shows its
//! value (`Debug` and `Display` redact; [`Secret::expose`] reads it where it is used)
//! and registers it with `crate::ops::redact` when created, so it is also cut out of
//! every log line and panic message.

use std::fmt;

/// The environment variable that holds the Discord bot token.
pub const DISCORD_TOKEN_VAR: &str = "DISCORD_TOKEN";

/// The secrets Ponte needs to run. `Debug` never shows them.
#[derive(Clone)]
pub struct Secrets {
    discord_token: Secret,
}

/// A secret that the environment does not provide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the environment variable {var} is not set: {what}")]
pub struct MissingSecret {
    pub var: &'static str,
    pub what: &'static str,
}

impl Secrets {
    /// Reads the secrets from the process environment.
    pub fn from_env() -> Result<Self, MissingSecret> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the secrets through `lookup` (a variable name to its value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingSecret> {
        let discord_token = lookup(DISCORD_TOKEN_VAR)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or(MissingSecret {
                var: DISCORD_TOKEN_VAR,
                what: "set it to the bot token from the Discord developer portal",
            })?;
        Ok(Self {
            discord_token: Secret::new(discord_token),
        })
    }

    pub fn discord_token(&self) -> &str {
        self.discord_token.expose()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("discord_token", &"<redacted>")
            .finish()
    }
}

// ---- Secret values (issue 8) ----

/// A secret value (a token, a pager key). `Debug` and `Display` never show
/// it; [`Secret::expose`] is the one way to read it, where it is used.
/// Creating one registers it with [`crate::ops::redact`], so it is also cut out
/// of anything written to standard error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::ops::redact::register(&value);
        Self(value)
    }

    /// A secret from the environment variable `var`, if set and not blank.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Self::new)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_environment_and_is_never_shown() {
        let secrets =
            Secrets::from_lookup(|name| (name == "DISCORD_TOKEN").then(|| " abc.def \n".into()))
                .unwrap();
        assert_eq!(secrets.discord_token(), "abc.def");
        assert!(!format!("{secrets:?}").contains("abc"));
    }

    #[test]
    fn a_missing_or_empty_token_names_the_variable() {
        for value in [None, Some("  ".to_owned())] {
            let err = Secrets::from_lookup(|_| value.clone()).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("the environment variable DISCORD_TOKEN is not set")
            );
        }
    }

    #[test]
    fn a_secret_shows_nowhere_but_expose() {
        let secret = Secret::new("pager-key-0123456789");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(<redacted>))");
        assert_eq!(secret.expose(), "pager-key-0123456789");
        assert_eq!(
            crate::ops::redact::redact("error: key pager-key-0123456789 refused"),
            "error: key <redacted> refused"
        );
    }
}
