//! Discord ids (snowflakes) as the configuration holds them.
//!
//! Discord ids are unsigned 64-bit numbers. TOML integers are signed 64-bit,
//! which holds every id Discord hands out today (they stay below 2^63 until
//! well into the 22nd century), so the file may write an id either as a plain
//! integer (`guild_id = 1187426301958832128`) or as a string of digits
//! (`guild_id = "1187426301958832128"`), whichever the copy-paste produced.

use std::fmt;
use std::num::NonZeroU64;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

macro_rules! snowflake {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(NonZeroU64);

        impl $name {
            /// The id, or `None` for 0, which Discord never uses.
            pub fn new(raw: u64) -> Option<Self> {
                NonZeroU64::new(raw).map(Self)
            }

            pub fn get(self) -> u64 {
                self.0.get()
            }
        }

        impl From<NonZeroU64> for $name {
            fn from(value: NonZeroU64) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

snowflake!(
    /// A Discord server ("guild").
    GuildId
);
snowflake!(
    /// A Discord channel.
    ChannelId
);
snowflake!(
    /// A Discord role.
    RoleId
);

/// An id as written in the file, before the checks that it is not zero and
/// not used twice (those are reported with all the other problems).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawId(pub u64);

impl<'de> Deserialize<'de> for RawId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawIdVisitor)
    }
}

struct RawIdVisitor;

const HOW_TO_COPY: &str = "copy it in Discord with Developer Mode on: right click, Copy ID";

impl Visitor<'_> for RawIdVisitor {
    type Value = RawId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Discord id: a positive integer or a string of digits")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawId, E> {
        u64::try_from(v).map(RawId).map_err(|_| {
            E::custom(format!(
                "`{v}` is not a Discord id: ids are positive numbers; {HOW_TO_COPY}"
            ))
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawId, E> {
        Ok(RawId(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawId, E> {
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        match v.parse::<u64>() {
            Ok(id) if digits => Ok(RawId(id)),
            _ => {
                let shown: String = v.chars().take(40).collect();
                Err(E::custom(format!(
                    "`{shown}` is not a Discord id: use only the digits; {HOW_TO_COPY}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(toml_value: &str) -> Result<u64, String> {
        #[derive(Deserialize)]
        struct Holder {
            id: RawId,
        }
        toml::from_str::<Holder>(&format!("id = {toml_value}"))
            .map(|h| h.id.0)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn ids_are_integers_or_strings_of_digits() {
        assert_eq!(raw("1187426301958832128"), Ok(1187426301958832128));
        assert_eq!(raw("\"1187426301958832128\""), Ok(1187426301958832128));
        assert_eq!(raw("\"18446744073709551615\""), Ok(u64::MAX));
        assert_eq!(
            raw("0"),
            Ok(0),
            "zero is refused later, with the other problems"
        );
    }

    #[test]
    fn anything_else_is_refused_with_how_to_copy_an_id() {
        for bad in [
            "-5",
            "\"12a\"",
            "\"\"",
            "\"+12\"",
            "\" 12\"",
            "\"18446744073709551616\"",
        ] {
            let err = raw(bad).unwrap_err();
            assert!(err.contains("Copy ID"), "{bad}: {err}");
        }
        assert!(raw("1.5").unwrap_err().contains("a Discord id"));
    }

    #[test]
    fn typed_ids_are_never_zero() {
        assert_eq!(GuildId::new(0), None);
        assert_eq!(GuildId::new(7).map(GuildId::get), Some(7));
        assert_eq!(format!("{:?}", RoleId::new(9).unwrap()), "RoleId(9)");
    }
}
