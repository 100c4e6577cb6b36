//! Routing: which side handles a request, in which category, at which
//! priority, and why. Rules come from the configuration.
//!
//! Each client has its categories (keywords, owning side, default priority, approval)
//! with the territory overrides of the configuration applied (`ClientRouting`).
//! `ClientRouting::route` returns a `RouteDecision`: side, category, priority, whether
//! the IT manager must approve (`ApprovalWhy`), and the `RouteReason` shown to people.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::UserError;
use super::people::Side;
use super::task::Priority;
use super::text;

/// A category of work (`network`, `backup`, ...): lower-case letters, digits,
/// `-` and `_`, 1 to 32 characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid category name: use 1 to 32 lower-case letters, digits, `-` or `_` (e.g. `network`)"
)]
pub struct InvalidCategory(pub String);

impl Category {
    pub fn new(raw: &str) -> Result<Self, InvalidCategory> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidCategory(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Category {
    type Error = InvalidCategory;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Category> for String {
    fn from(value: Category) -> Self {
        value.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One category as it applies to one client: its keywords, the side that
/// owns it there, its default priority, and whether the MSP needs the IT
/// manager's approval before acting on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRule {
    pub category: Category,
    /// Words or phrases, in any language; matched as whole words, ignoring
    /// case, with a plural `s`/`es` tolerated.
    pub keywords: Vec<String>,
    pub owner: Side,
    pub priority: Priority,
    pub needs_approval: bool,
    /// Keywords that are actions (`install`): where one appears, this
    /// category wins over categories listed before it that only name an
    /// object (`PC`). Also keywords.
    pub actions: Vec<String>,
}

/// The routing rules of every client, by client key.
pub type Rules = std::collections::BTreeMap<crate::domain::ClientKey, ClientRouting>;

/// The routing rules of one client, in order: when a text matches keywords
/// of several categories, the first category listed wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRouting {
    pub categories: Vec<CategoryRule>,
    /// Where a request goes when no rule matches.
    pub default_side: Side,
    /// The priority of a request that names none and matches no category.
    pub default_priority: Priority,
    /// The client's business-critical systems (`the shop`, `ERP`,
    /// `centralino`): one out of order stops the business (P1).
    pub critical: Vec<String>,
}

/// How the requester chose the side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideChoice {
    /// Let the rules decide.
    #[default]
    Auto,
    To(Side),
}

/// What routing looks at.
#[derive(Clone, Debug, Default)]
pub struct RouteInput<'a> {
    pub text: &'a str,
    pub category: Option<&'a str>,
    pub to: SideChoice,
    pub priority: Option<Priority>,
}

/// Why a task went where it went. Stored in the `routed` event, shown to users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RouteReason {
    /// The requester chose the side.
    Requested { side: Side },
    /// A keyword of a category matched; the category's owner handles it.
    Keyword {
        category: Category,
        keyword: String,
        owner: Side,
    },
    /// The requester named the category; its owner handles it.
    Category { category: Category, owner: Side },
    /// The MSP asked; the company's IT handles it.
    FromMsp,
    /// Nothing matched: the client's default side.
    Default { side: Side },
    /// A monitoring integration (or the heartbeat monitors) sends its alerts
    /// to this side, as configured (`to`).
    Monitoring { source: String, side: Side },
}

/// Why the company's IT must approve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum ApprovalWhy {
    /// The rules mark the category as needing approval.
    CategoryNeedsApproval { category: Category },
    /// The category is the company IT's territory, and the MSP was asked.
    ItTerritory { category: Category },
    /// The MSP proposes a change on its own initiative: the IT manager
    /// decides whether the MSP may go ahead.
    MspProposal,
}

/// The outcome of routing a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecision {
    pub side: Side,
    pub category: Option<Category>,
    pub priority: Priority,
    pub reason: RouteReason,
    pub approval: Option<ApprovalWhy>,
}

impl ClientRouting {
    pub fn rule(&self, category: &Category) -> Option<&CategoryRule> {
        self.categories.iter().find(|r| &r.category == category)
    }

    /// Looks a category up by the name a person typed.
    pub fn find_category(&self, name: &str) -> Result<&CategoryRule, UserError> {
        let wanted = name.trim().to_lowercase();
        self.categories
            .iter()
            .find(|r| r.category.as_str() == wanted)
            .ok_or_else(|| UserError::UnknownCategory {
                input: name.chars().take(32).collect(),
                known: self
                    .categories
                    .iter()
                    .map(|r| r.category.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The category of `text`, with the keyword that matched: the first
    /// category one of whose actions (`install`) appears, else the first
    /// whose keyword appears.
    pub fn match_keywords(&self, text: &str) -> Option<(&CategoryRule, &str)> {
        let words = text::words(text);
        let first = |keywords: fn(&CategoryRule) -> &[String]| {
            self.categories.iter().find_map(|rule| {
                keywords(rule)
                    .iter()
                    .find(|kw| text::contains_phrase(&words, kw))
                    .map(|kw| (rule, kw.as_str()))
            })
        };
        first(|r| &r.actions).or_else(|| first(|r| &r.keywords))
    }

    /// The first business-critical system `text` names.
    pub fn critical_in(&self, text: &str) -> Option<&str> {
        let words = text::words(text);
        self.critical
            .iter()
            .find(|system| text::contains_phrase(&words, system))
            .map(String::as_str)
    }

    /// Whether moving a task of `category` to `side` needs the IT manager's approval.
    pub fn approval_for(&self, category: Option<&Category>, side: Side) -> Option<ApprovalWhy> {
        if side != Side::Msp {
            return None;
        }
        let rule = self.rule(category?)?;
        if rule.needs_approval {
            Some(ApprovalWhy::CategoryNeedsApproval {
                category: rule.category.clone(),
            })
        } else if rule.owner == Side::Internal {
            Some(ApprovalWhy::ItTerritory {
                category: rule.category.clone(),
            })
        } else {
            None
        }
    }

    /// Decides side, category, priority and whether approval is needed for a
    /// request made by someone of `asker`'s side.
    pub fn route(&self, asker: Side, input: &RouteInput<'_>) -> Result<RouteDecision, UserError> {
        let chosen = match input.category {
            Some(name) if !name.trim().is_empty() => Some((self.find_category(name)?, None)),
            _ => self
                .match_keywords(input.text)
                .map(|(rule, kw)| (rule, Some(kw))),
        };
        let (side, reason) = match (input.to, asker, &chosen) {
            (SideChoice::To(side), _, _) => (side, RouteReason::Requested { side }),
            (SideChoice::Auto, Side::Msp, _) => (Side::Internal, RouteReason::FromMsp),
            (SideChoice::Auto, Side::Internal, Some((rule, Some(kw)))) => (
                rule.owner,
                RouteReason::Keyword {
                    category: rule.category.clone(),
                    keyword: (*kw).to_owned(),
                    owner: rule.owner,
                },
            ),
            (SideChoice::Auto, Side::Internal, Some((rule, None))) => (
                rule.owner,
                RouteReason::Category {
                    category: rule.category.clone(),
                    owner: rule.owner,
                },
            ),
            (SideChoice::Auto, Side::Internal, None) => (
                self.default_side,
                RouteReason::Default {
                    side: self.default_side,
                },
            ),
        };
        let category = chosen.as_ref().map(|(rule, _)| rule.category.clone());
        let priority = input
            .priority
            .or(chosen.as_ref().map(|(rule, _)| rule.priority))
            .unwrap_or(self.default_priority);
        let approval = self.approval_for(category.as_ref(), side);
        Ok(RouteDecision {
            side,
            category,
            priority,
            reason,
            approval,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn cat(name: &str) -> Category {
        Category::new(name).unwrap()
    }

    /// A small company: network and backup go to the MSP, security is the
    /// company's own, servers need approval before the MSP acts.
    pub(crate) fn rules() -> ClientRouting {
        let rule = |name: &str, kws: &[&str], owner, priority, needs_approval| CategoryRule {
            category: cat(name),
            keywords: kws.iter().map(|k| k.to_string()).collect(),
            owner,
            priority,
            needs_approval,
            actions: Vec::new(),
        };
        ClientRouting {
            categories: vec![
                rule(
                    "network",
                    &["vpn", "wifi", "rete", "network"],
                    Side::Msp,
                    Priority::P2,
                    false,
                ),
                rule(
                    "security",
                    &["phishing", "password reset", "sicurezza"],
                    Side::Internal,
                    Priority::P2,
                    false,
                ),
                rule(
                    "servers",
                    &["server", "file server"],
                    Side::Msp,
                    Priority::P3,
                    true,
                ),
                rule(
                    "printers",
                    &["printer", "stampante"],
                    Side::Internal,
                    Priority::P4,
                    false,
                ),
            ],
            default_side: Side::Internal,
            default_priority: Priority::P3,
            critical: Vec::new(),
        }
    }

    fn route(text: &str) -> RouteDecision {
        rules()
            .route(
                Side::Internal,
                &RouteInput {
                    text,
                    ..Default::default()
                },
            )
            .unwrap()
    }

    #[test]
    fn a_keyword_sends_the_task_to_the_category_owner_and_says_why() {
        let d = route("The VPN is down in Milan");
        assert_eq!(d.side, Side::Msp);
        assert_eq!(d.category, Some(cat("network")));
        assert_eq!(d.priority, Priority::P2);
        assert_eq!(
            d.reason,
            RouteReason::Keyword {
                category: cat("network"),
                keyword: "vpn".into(),
                owner: Side::Msp
            }
        );
        assert_eq!(d.approval, None);
    }

    #[test]
    fn phrases_match_whole_words_in_any_case_and_plurals() {
        assert_eq!(
            route("Need a PASSWORD  reset please").category,
            Some(cat("security"))
        );
        assert_eq!(
            route("the printers on floor 2").category,
            Some(cat("printers"))
        );
        // `serverless` is not `server`
        assert_eq!(route("serverless functions").category, None);
        assert_eq!(route("La stampante non stampa").side, Side::Internal);
    }

    #[test]
    fn no_match_goes_to_the_default_side() {
        let d = route("Can I get a second monitor?");
        assert_eq!(d.side, Side::Internal);
        assert_eq!(d.category, None);
        assert_eq!(d.priority, Priority::P3);
        assert_eq!(
            d.reason,
            RouteReason::Default {
                side: Side::Internal
            }
        );
    }

    #[test]
    fn asking_the_msp_for_it_territory_needs_approval() {
        let d = rules()
            .route(
                Side::Internal,
                &RouteInput {
                    text: "phishing mail",
                    to: SideChoice::To(Side::Msp),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(d.side, Side::Msp);
        assert_eq!(d.reason, RouteReason::Requested { side: Side::Msp });
        assert_eq!(
            d.approval,
            Some(ApprovalWhy::ItTerritory {
                category: cat("security")
            })
        );
    }

    #[test]
    fn categories_marked_for_approval_need_it_on_the_msp_side_only() {
        let d = route("the file server is slow");
        assert_eq!(d.side, Side::Msp);
        assert_eq!(
            d.approval,
            Some(ApprovalWhy::CategoryNeedsApproval {
                category: cat("servers")
            })
        );
        let d = rules()
            .route(
                Side::Internal,
                &RouteInput {
                    text: "server",
                    to: SideChoice::To(Side::Internal),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(d.approval, None);
    }

    #[test]
    fn the_msp_asking_goes_to_internal_it() {
        let d = rules()
            .route(
                Side::Msp,
                &RouteInput {
                    text: "please reset the vpn password",
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(d.side, Side::Internal);
        assert_eq!(d.reason, RouteReason::FromMsp);
    }

    #[test]
    fn an_explicit_category_wins_and_an_unknown_one_lists_the_known() {
        let d = rules()
            .route(
                Side::Internal,
                &RouteInput {
                    text: "vpn",
                    category: Some("Printers"),
                    priority: Some(Priority::P1),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(d.category, Some(cat("printers")));
        assert_eq!(d.priority, Priority::P1);
        assert_eq!(
            d.reason,
            RouteReason::Category {
                category: cat("printers"),
                owner: Side::Internal
            }
        );
        let err = rules()
            .route(
                Side::Internal,
                &RouteInput {
                    text: "",
                    category: Some("coffee"),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(
            err,
            UserError::UnknownCategory {
                input: "coffee".into(),
                known: "network, security, servers, printers".into()
            }
        );
    }
}
