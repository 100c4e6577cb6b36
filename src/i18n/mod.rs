//! User-facing text, from the Fluent files beside this module (English and
//! Italian). Handlers never hard-code what users read: they ask [`Messages`]
//! for a message id with its arguments, in the user's language.

use std::fmt;
use std::str::FromStr;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::{LanguageIdentifier, langid};

use crate::domain::UserError;
use crate::domain::error::Arg;

/// A language Ponte speaks.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    It,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::It];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::It => "it",
        }
    }

    /// The language for a chat locale (`it`, `en-US`, `en-GB`, ...), if Ponte
    /// speaks it.
    pub fn from_locale(locale: &str) -> Option<Lang> {
        let primary = locale.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "it" => Some(Lang::It),
            _ => None,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("en.ftl"),
            Lang::It => include_str!("it.ftl"),
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::It => langid!("it"),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a string is not a [`Lang`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`: use \"en\" (English) or \"it\" (Italian)")]
pub struct UnknownLanguage(pub String);

impl FromStr for Lang {
    type Err = UnknownLanguage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "en" => Ok(Lang::En),
            "it" => Ok(Lang::It),
            other => Err(UnknownLanguage(other.chars().take(20).collect())),
        }
    }
}

/// Why the message files could not be loaded (a bug caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("the {lang} message file is broken: {detail}")]
pub struct BrokenMessages {
    lang: Lang,
    detail: String,
}

/// Every message in every language.
pub struct Messages {
    en: FluentBundle<FluentResource>,
    it: FluentBundle<FluentResource>,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Messages { en, it }")
    }
}

impl Messages {
    pub fn load() -> Result<Self, BrokenMessages> {
        Ok(Self {
            en: bundle(Lang::En)?,
            it: bundle(Lang::It)?,
        })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::En => &self.en,
            Lang::It => &self.it,
        }
    }

    /// The message `id` in `lang`. A missing message falls back to English,
    /// then to the id itself, so a user always reads something.
    pub fn text(&self, lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(s) => FluentValue::from(s.clone()),
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Side(side) => FluentValue::from(self.text(lang, &format!("side-{side}"), &[])),
                Arg::Status(status) => {
                    FluentValue::from(self.text(lang, &format!("status-{status}"), &[]))
                }
            };
            fluent_args.set(*name, value);
        }
        for lang in [lang, Lang::En] {
            let bundle = self.bundle(lang);
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(id, lang = %lang, ?errors, "message formatted with errors");
                }
                return text.into_owned();
            }
        }
        tracing::error!(id, "no such message in any language");
        id.to_owned()
    }

    /// A refusal, in the user's language.
    pub fn user_error(&self, lang: Lang, error: &UserError) -> String {
        self.text(lang, error.message_id(), &error.args())
    }

    /// The message shown for an internal failure: only its reference.
    pub fn internal_error(&self, lang: Lang, reference: &str) -> String {
        self.text(
            lang,
            "error-internal",
            &[("reference", Arg::Text(reference.to_owned()))],
        )
    }

    /// Every message id of a language (for tests and tooling).
    pub fn ids(lang: Lang) -> Vec<String> {
        use fluent_syntax::ast::Entry;
        let Ok(resource) = FluentResource::try_new(lang.source().to_owned()) else {
            return Vec::new();
        };
        resource
            .entries()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.id.name.to_owned()),
                Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect()
    }
}

fn bundle(lang: Lang) -> Result<FluentBundle<FluentResource>, BrokenMessages> {
    let broken = |detail: String| BrokenMessages { lang, detail };
    let resource = FluentResource::try_new(lang.source().to_owned())
        .map_err(|(_, errors)| broken(format!("{errors:?}")))?;
    let mut bundle = FluentBundle::new_concurrent(vec![lang.id()]);
    // Discord shows the Unicode isolation marks Fluent adds around
    // arguments as stray characters: leave them out.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|errors| broken(format!("{errors:?}")))?;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::{PersonId, Side, Status};

    #[test]
    fn both_languages_have_the_same_messages() {
        let en: BTreeSet<_> = Messages::ids(Lang::En).into_iter().collect();
        let it: BTreeSet<_> = Messages::ids(Lang::It).into_iter().collect();
        assert!(!en.is_empty());
        let only_en: Vec<_> = en.difference(&it).collect();
        let only_it: Vec<_> = it.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_it.is_empty(),
            "only in en.ftl: {only_en:?}; only in it.ftl: {only_it:?}"
        );
    }

    #[test]
    fn the_files_parse_and_load() {
        Messages::load().unwrap();
    }

    /// One of each refusal, so a new variant without a message fails here.
    fn every_user_error() -> Vec<UserError> {
        let s = || "x".to_owned();
        vec![
            UserError::BadTaskId { input: s() },
            UserError::BadPriority { input: s() },
            UserError::BadStatus { input: s() },
            UserError::BadSide { input: s() },
            UserError::AssigneeMissing,
            UserError::UnknownServer,
            UserError::UseInServer,
            UserError::ClientNeeded,
            UserError::NotYourDraft,
            UserError::DraftExpired,
            UserError::DraftGone,
            UserError::UnknownCategory {
                input: s(),
                known: s(),
            },
            UserError::UnknownTask { id: s() },
            UserError::OtherClient,
            UserError::NotForClient,
            UserError::TitleEmpty,
            UserError::TitleTooLong { len: 2, max: 1 },
            UserError::DetailsTooLong { len: 2, max: 1 },
            UserError::CommentEmpty,
            UserError::CommentTooLong { len: 2, max: 1 },
            UserError::ReasonRequired,
            UserError::ReasonTooLong { len: 2, max: 1 },
            UserError::DueInPast,
            UserError::BadDue { input: s() },
            UserError::NotStaffOf { side: Side::Msp },
            UserError::NotRequesterOrStaff,
            UserError::OnlyItManager,
            UserError::NoteNotYourSide {
                side: Side::Internal,
            },
            UserError::AlreadyClaimed { by: PersonId(7) },
            UserError::NotAssignee,
            UserError::NotClaimable {
                status: Status::Closed,
            },
            UserError::NoSuchTransition {
                from: Status::New,
                to: Status::Closed,
            },
            UserError::TaskFinished {
                status: Status::Cancelled,
            },
            UserError::CannotReopen {
                status: Status::New,
            },
            UserError::AwaitingApproval,
            UserError::ApprovalRefused { reason: s() },
            UserError::NoApprovalPending,
            UserError::AssigneeNotOnSide { side: Side::Msp },
            UserError::Unchanged,
            UserError::DmUnknownPerson,
            UserError::DmFromMsp,
            UserError::DmSeveralClients { clients: s() },
        ]
    }

    #[test]
    fn every_refusal_has_a_message_in_both_languages() {
        let en: BTreeSet<_> = Messages::ids(Lang::En).into_iter().collect();
        for error in every_user_error() {
            assert!(
                en.contains(error.message_id()),
                "{} has no message",
                error.message_id()
            );
        }
    }

    #[test]
    fn messages_read_well_in_each_language() {
        let m = Messages::load().unwrap();
        let err = UserError::NotStaffOf { side: Side::Msp };
        insta::assert_snapshot!(m.user_error(Lang::En, &err), @"Only the MSP staff can do this, because the task is in their hands.");
        insta::assert_snapshot!(m.user_error(Lang::It, &err), @"Può farlo solo il personale della parte che ha in mano l'attività (MSP).");
        let err = UserError::NoSuchTransition {
            from: Status::New,
            to: Status::Closed,
        };
        insta::assert_snapshot!(m.user_error(Lang::It, &err), @"Un'attività non può passare da nuovo a chiuso.");
        insta::assert_snapshot!(m.internal_error(Lang::En, "E1A2B3"), @"Something went wrong on our side; nothing you did. Quote E1A2B3 to your administrator.");
    }

    #[test]
    fn locales_map_to_languages() {
        assert_eq!(Lang::from_locale("it"), Some(Lang::It));
        assert_eq!(Lang::from_locale("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_locale("de"), None);
    }
}
