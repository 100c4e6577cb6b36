//! Validated identifiers.
//!
//! `ClientKey` (`ACME`), `TaskId` (`ACME-42`: a client key and a per-client number from 1)
//! and `PersonId` (a chat user id). A value that parsed is valid: the store's codec
//! validates ids the same way when it decodes them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::UserError;

/// The short code of a client company, used as the prefix of its task ids
/// (`ACME` in `ACME-42`). Two to ten ASCII capital letters or digits, starting
/// with a letter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientKey(String);

/// Why a string is not a valid [`ClientKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid client key: use 2 to 10 capital letters or digits, starting with a letter (e.g. ACME)"
)]
pub struct InvalidClientKey(pub String);

impl ClientKey {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 10;

    pub fn new(raw: &str) -> Result<Self, InvalidClientKey> {
        let ok = (Self::MIN_LEN..=Self::MAX_LEN).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_uppercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidClientKey(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientKey {
    type Error = InvalidClientKey;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<ClientKey> for String {
    fn from(value: ClientKey) -> Self {
        value.0
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A person, identified by their chat user id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub u64);

impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "person:{}", self.0)
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A task's human id: the client key and a per-client number starting at 1,
/// written `ACME-42`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId {
    client: ClientKey,
    number: u64,
}

impl TaskId {
    pub fn new(client: ClientKey, number: u64) -> Self {
        Self { client, number }
    }

    pub fn client(&self) -> &ClientKey {
        &self.client
    }

    pub fn number(&self) -> u64 {
        self.number
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.client, self.number)
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for TaskId {
    type Err = UserError;

    /// Parses `ACME-42`, also accepting lower case and a leading `#`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || UserError::BadTaskId {
            input: raw.chars().take(40).collect(),
        };
        let trimmed = raw.trim().trim_start_matches('#');
        let (key, number) = trimmed.rsplit_once('-').ok_or_else(bad)?;
        let client = ClientKey::new(&key.to_ascii_uppercase()).map_err(|_| bad())?;
        let number: u64 = number.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(Self { client, number })
    }
}

impl TryFrom<String> for TaskId {
    type Error = UserError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<TaskId> for String {
    fn from(value: TaskId) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys_are_short_capital_codes() {
        assert!(ClientKey::new("ACME").is_ok());
        assert!(ClientKey::new("B2B").is_ok());
        for bad in ["", "A", "acme", "1ACME", "ACME-1", "ABCDEFGHIJK", "ÀCME"] {
            assert!(ClientKey::new(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn task_ids_round_trip_and_accept_friendly_spellings() {
        let id: TaskId = "ACME-42".parse().unwrap();
        assert_eq!(id.client().as_str(), "ACME");
        assert_eq!(id.number(), 42);
        assert_eq!(id.to_string(), "ACME-42");
        assert_eq!("#acme-42".parse::<TaskId>().unwrap(), id);
        assert_eq!(" ACME-42 ".parse::<TaskId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"ACME-42\"");
        assert_eq!(serde_json::from_str::<TaskId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_task_ids_are_refused() {
        for bad in ["ACME", "ACME-", "ACME-0", "ACME-x", "-4", "ACME--4", "A-1"] {
            assert!(
                matches!(bad.parse::<TaskId>(), Err(UserError::BadTaskId { .. })),
                "{bad} should be refused"
            );
        }
    }
}
