//! From an interaction to what the person wants: a small parser per
//! command, each answering "not mine", "parsed", or "malformed" with what to
//! fix.

use crate::domain::{Command, Priority, Side, SideChoice, Status, TaskId, UserError, Visibility};

use super::request::{Interaction, OptionValue, TargetMessage};

/// The outcome of parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    /// Not something Ponte handles (another bot's button, an old command).
    NotMine,
    Ok(T),
    /// Ponte's, but wrong: tell the person what to fix.
    Malformed(UserError),
}

/// A request for a new task, before it is resolved against the client's
/// configuration (time zone for the due date, routing rules).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestDraft {
    pub title: String,
    pub details: String,
    pub to: SideChoice,
    pub priority: Option<Priority>,
    pub due: Option<String>,
    pub category: Option<String>,
}

/// A change to a task, before people named in it are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeDraft {
    Ready(Command),
    /// Assign to a chat user; the handler resolves who they are.
    AssignTo(u64),
}

/// A button on the preview of a request written in plain words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftVerb {
    Create,
    /// Send it to the other side than proposed.
    Flip,
    /// Change the priority (cycles P1 → P4).
    Priority,
    Cancel,
    /// Join the open task the draft resembles, as one more reporter.
    Join,
}

impl DraftVerb {
    pub const ALL: [DraftVerb; 5] = [
        DraftVerb::Create,
        DraftVerb::Flip,
        DraftVerb::Priority,
        DraftVerb::Cancel,
        DraftVerb::Join,
    ];

    fn code(self) -> &'static str {
        match self {
            DraftVerb::Create => "create",
            DraftVerb::Flip => "flip",
            DraftVerb::Priority => "prio",
            DraftVerb::Cancel => "cancel",
            DraftVerb::Join => "join",
        }
    }
}

/// What a draft's buttons carry: the message it was written in (the draft
/// itself is re-read from it, so nothing is stored until it is confirmed)
/// and the choices made so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DraftRef {
    pub verb: DraftVerb,
    pub channel: u64,
    pub message: u64,
    pub priority: Priority,
    pub side: SideChoice,
    /// Who tracked someone else's message as a task ("Track as task"):
    /// they confirm, and the task is the message author's request.
    pub tracker: Option<u64>,
}

/// The prefix of a draft button's custom id.
pub const DRAFT_PREFIX: &str = "ponte:draft:";

impl DraftRef {
    pub fn custom_id(&self) -> String {
        let side = match self.side {
            SideChoice::Auto => "a",
            SideChoice::To(Side::Internal) => "i",
            SideChoice::To(Side::Msp) => "m",
        };
        let tracker = self.tracker.map(|t| format!(":t{t}")).unwrap_or_default();
        format!(
            "{DRAFT_PREFIX}{}:{}:{}:{}:{side}{tracker}",
            self.verb.code(),
            self.channel,
            self.message,
            self.priority
        )
    }

    /// Reads a draft button's custom id; `None` when it is not one.
    pub fn parse(custom_id: &str) -> Option<DraftRef> {
        let rest = custom_id.strip_prefix(DRAFT_PREFIX)?;
        let mut parts = rest.split(':');
        let verb = parts.next()?;
        let verb = DraftVerb::ALL.into_iter().find(|v| v.code() == verb)?;
        let channel = parts.next()?.parse().ok()?;
        let message = parts.next()?.parse().ok()?;
        let priority = parts.next()?.parse().ok()?;
        let side = match parts.next()? {
            "a" => SideChoice::Auto,
            "i" => SideChoice::To(Side::Internal),
            "m" => SideChoice::To(Side::Msp),
            _ => return None,
        };
        let tracker = match parts.next() {
            None => None,
            Some(t) => Some(t.strip_prefix('t')?.parse().ok()?),
        };
        parts.next().is_none().then_some(DraftRef {
            verb,
            channel,
            message,
            priority,
            side,
            tracker,
        })
    }
}

/// What the person wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    Request(RequestDraft),
    /// `/request` without a title: show the form.
    RequestForm,
    Track(TargetMessage),
    Show(TaskId),
    List {
        side: Option<Side>,
    },
    Mine,
    Help,
    /// `/digest preview`: the reader's side's digest now, ephemerally.
    /// `/digest preview [client]`: the client option is for the MSP's
    /// staff (in the queue channel, without it: every client).
    DigestPreview {
        client: Option<String>,
    },
    /// `/digest subscribe`: a personal digest by DM each digest morning.
    DigestSubscribe,
    /// `/digest unsubscribe`: no more personal digests.
    DigestUnsubscribe,
    Change {
        task: TaskId,
        change: ChangeDraft,
    },
    /// A button on a plain-words draft, with the message it was written in
    /// (`None` when that message is gone).
    Draft(DraftRef, Option<TargetMessage>),
    /// The IT manager's Refuse button: ask for the reason.
    RefuseForm(TaskId),
    /// `/oncall now`: who is on call in each schedule, until when.
    OnCallNow,
    /// `/oncall schedule`: the shifts of the next two weeks.
    OnCallSchedule,
    /// `/maintenance start minutes:N`: no paging for the place's client.
    MaintenanceStart {
        minutes: u32,
    },
    /// `/maintenance end`.
    MaintenanceEnd,
    /// `/task escalate id reason`.
    Escalate {
        task: TaskId,
        reason: String,
    },
    /// `/oncall override person from to [schedule]`.
    OnCallOverride {
        person: u64,
        from: String,
        to: String,
        schedule: Option<String>,
    },
    /// `/sla report [client] [period]` (issue 6): checked and read by the bot.
    SlaReport {
        client: Option<String>,
        period: Option<String>,
    },
}

/// Prefix of every custom id Ponte puts on buttons and modals.
pub const CUSTOM_ID_PREFIX: &str = "ponte:";
/// The custom id of the request form.
pub const REQUEST_FORM: &str = "ponte:request";
/// The name of the message context-menu command.
pub const TRACK_AS_TASK: &str = "Track as task";

/// Every slash command and subcommand this parser handles, for the test
/// that holds the manifest in `commands/` and the handlers together.
pub const HANDLED: &[(&str, Option<&str>)] = &[
    ("request", None),
    ("task", Some("show")),
    ("task", Some("list")),
    ("task", Some("claim")),
    ("task", Some("assign")),
    ("task", Some("status")),
    ("task", Some("comment")),
    ("task", Some("note")),
    ("task", Some("handoff")),
    ("task", Some("close")),
    ("task", Some("reopen")),
    ("task", Some("cancel")),
    ("mine", None),
    ("help", None),
    ("oncall", Some("now")),
    ("oncall", Some("schedule")),
    ("oncall", Some("override")),
    ("task", Some("escalate")),
    ("maintenance", Some("start")),
    ("maintenance", Some("end")),
    ("digest", Some("preview")),
    ("digest", Some("subscribe")),
    ("digest", Some("unsubscribe")),
    ("sla", Some("report")),
];

/// The buttons Ponte puts on task cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonAction {
    Claim,
    Resolve,
    Reopen,
    /// On a page (issue 5): stop the escalation.
    Acknowledge,
    /// On a page: delay the next step by [`SNOOZE_MINUTES`].
    Snooze,
}

/// How long the Snooze button of a page delays the next step.
pub const SNOOZE_MINUTES: u32 = 15;

impl ButtonAction {
    pub const ALL: [ButtonAction; 5] = [
        ButtonAction::Claim,
        ButtonAction::Resolve,
        ButtonAction::Reopen,
        ButtonAction::Acknowledge,
        ButtonAction::Snooze,
    ];

    fn verb(self) -> &'static str {
        match self {
            ButtonAction::Claim => "claim",
            ButtonAction::Resolve => "resolve",
            ButtonAction::Reopen => "reopen",
            ButtonAction::Acknowledge => "ack",
            ButtonAction::Snooze => "snooze",
        }
    }

    /// The custom id of this button on a task's card.
    pub fn custom_id(self, task: &TaskId) -> String {
        format!("{CUSTOM_ID_PREFIX}{}:{task}", self.verb())
    }

    fn command(self) -> Command {
        match self {
            ButtonAction::Claim => Command::Claim,
            ButtonAction::Resolve => Command::SetStatus {
                to: Status::Resolved,
                reason: None,
            },
            ButtonAction::Reopen => Command::Reopen { reason: None },
            ButtonAction::Acknowledge => Command::Acknowledge,
            ButtonAction::Snooze => Command::Snooze {
                minutes: SNOOZE_MINUTES,
            },
        }
    }
}

/// The IT manager's buttons on an approval card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalButton {
    Approve,
    /// Opens a form asking the reason.
    Refuse,
}

/// The prefix of the refusal form's custom id (the task id follows).
pub const REFUSE_FORM: &str = "ponte:refuse-form:";

impl ApprovalButton {
    pub const ALL: [ApprovalButton; 2] = [ApprovalButton::Approve, ApprovalButton::Refuse];

    fn verb(self) -> &'static str {
        match self {
            ApprovalButton::Approve => "approve",
            ApprovalButton::Refuse => "refuse",
        }
    }

    pub fn custom_id(self, task: &TaskId) -> String {
        format!("{CUSTOM_ID_PREFIX}{}:{task}", self.verb())
    }

    /// Reads an approval button; `None` when the custom id is not one.
    pub fn parse(custom_id: &str) -> Option<Parsed<Intent>> {
        let (verb, id) = custom_id.strip_prefix(CUSTOM_ID_PREFIX)?.split_once(':')?;
        let action = Self::ALL.into_iter().find(|a| a.verb() == verb)?;
        let task = match id.parse::<TaskId>() {
            Ok(task) => task,
            Err(e) => return Some(Parsed::Malformed(e)),
        };
        Some(Parsed::Ok(match action {
            ApprovalButton::Approve => Intent::Change {
                task,
                change: ChangeDraft::Ready(Command::Approve),
            },
            ApprovalButton::Refuse => Intent::RefuseForm(task),
        }))
    }
}

/// The custom id of the form asking why `task` is refused.
pub fn refuse_form_id(task: &TaskId) -> String {
    format!("{REFUSE_FORM}{task}")
}

fn refuse_form(i: &Interaction, custom_id: &str) -> Parsed<Intent> {
    let Some(id) = custom_id.strip_prefix(REFUSE_FORM) else {
        return Parsed::NotMine;
    };
    let task = match id.parse::<TaskId>() {
        Ok(task) => task,
        Err(e) => return Parsed::Malformed(e),
    };
    Parsed::Ok(Intent::Change {
        task,
        change: ChangeDraft::Ready(Command::Refuse {
            reason: i.field("reason").unwrap_or_default().to_owned(),
        }),
    })
}

pub fn parse(interaction: &Interaction) -> Parsed<Intent> {
    match interaction {
        Interaction::Slash {
            name, subcommand, ..
        } => match (name.as_str(), subcommand.as_deref()) {
            ("request", None) => request(interaction),
            ("task", Some(sub)) => task(sub, interaction),
            ("mine", None) => Parsed::Ok(Intent::Mine),
            ("help", None) => Parsed::Ok(Intent::Help),
            ("oncall", Some("now")) => Parsed::Ok(Intent::OnCallNow),
            ("oncall", Some("schedule")) => Parsed::Ok(Intent::OnCallSchedule),
            ("oncall", Some("override")) => on_call_override(interaction),
            ("maintenance", Some("start")) => maintenance_start(interaction),
            ("maintenance", Some("end")) => Parsed::Ok(Intent::MaintenanceEnd),
            ("digest", Some("preview")) => Parsed::Ok(Intent::DigestPreview {
                client: interaction.text("client").map(str::to_owned),
            }),
            ("digest", Some("subscribe")) => Parsed::Ok(Intent::DigestSubscribe),
            ("digest", Some("unsubscribe")) => Parsed::Ok(Intent::DigestUnsubscribe),
            ("sla", Some("report")) => Parsed::Ok(Intent::SlaReport {
                client: interaction.text("client").map(str::to_owned),
                period: interaction.text("period").map(str::to_owned),
            }),
            _ => Parsed::NotMine,
        },
        Interaction::MessageMenu { name, target } if name == TRACK_AS_TASK => {
            Parsed::Ok(Intent::Track(target.clone()))
        }
        Interaction::MessageMenu { .. } => Parsed::NotMine,
        Interaction::Button { custom_id, source } => match DraftRef::parse(custom_id) {
            Some(draft) => Parsed::Ok(Intent::Draft(draft, source.clone())),
            None => match ApprovalButton::parse(custom_id) {
                Some(parsed) => parsed,
                None => button(custom_id),
            },
        },
        Interaction::Modal { custom_id, .. } if custom_id.starts_with(REFUSE_FORM) => {
            refuse_form(interaction, custom_id)
        }
        Interaction::Modal { custom_id, .. } if custom_id == REQUEST_FORM => {
            match interaction.field("title") {
                None => Parsed::Malformed(UserError::TitleEmpty),
                Some(title) => Parsed::Ok(Intent::Request(RequestDraft {
                    title: title.to_owned(),
                    details: interaction.field("details").unwrap_or_default().to_owned(),
                    ..RequestDraft::default()
                })),
            }
        }
        Interaction::Modal { .. } => Parsed::NotMine,
    }
}

/// Turns a `Result` of option parsing into `Parsed`.
fn parsed<T>(result: Result<T, UserError>) -> Parsed<T> {
    match result {
        Ok(t) => Parsed::Ok(t),
        Err(e) => Parsed::Malformed(e),
    }
}

fn request(i: &Interaction) -> Parsed<Intent> {
    let Some(title) = i.text("title") else {
        return Parsed::Ok(Intent::RequestForm);
    };
    parsed((|| {
        Ok(Intent::Request(RequestDraft {
            title: title.to_owned(),
            details: i.text("details").unwrap_or_default().to_owned(),
            to: side_choice(i.text("to"))?,
            priority: i.text("priority").map(str::parse).transpose()?,
            due: i.text("due").map(str::to_owned),
            category: i.text("category").map(str::to_owned),
        }))
    })())
}

fn side_choice(raw: Option<&str>) -> Result<SideChoice, UserError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => Ok(SideChoice::Auto),
        Some("internal") => Ok(SideChoice::To(Side::Internal)),
        Some("msp") => Ok(SideChoice::To(Side::Msp)),
        Some(other) => Err(UserError::BadSide {
            input: other.chars().take(20).collect(),
        }),
    }
}

fn task(sub: &str, i: &Interaction) -> Parsed<Intent> {
    if sub == "list" {
        return parsed(side_choice(i.text("side")).map(|choice| Intent::List {
            side: match choice {
                SideChoice::Auto => None,
                SideChoice::To(side) => Some(side),
            },
        }));
    }
    let known = HANDLED.iter().any(|(n, s)| *n == "task" && *s == Some(sub));
    if !known {
        return Parsed::NotMine;
    }
    let id = match i.text("id").map(str::parse::<TaskId>) {
        Some(Ok(id)) => id,
        Some(Err(e)) => return Parsed::Malformed(e),
        None => {
            return Parsed::Malformed(UserError::BadTaskId {
                input: String::new(),
            });
        }
    };
    let reason = || i.text("reason").map(str::to_owned);
    let text = || i.text("text").unwrap_or_default().to_owned();
    let ready = |command| ChangeDraft::Ready(command);
    let change = match sub {
        "show" => return Parsed::Ok(Intent::Show(id)),
        "claim" => ready(Command::Claim),
        "assign" => match i.option("to") {
            Some(OptionValue::User(user)) => ChangeDraft::AssignTo(*user),
            _ => return Parsed::Malformed(UserError::AssigneeMissing),
        },
        "status" => {
            let status = match i.text("status").map(str::parse::<Status>) {
                Some(Ok(status)) => status,
                Some(Err(e)) => return Parsed::Malformed(e),
                None => {
                    return Parsed::Malformed(UserError::BadStatus {
                        input: String::new(),
                    });
                }
            };
            ready(Command::SetStatus {
                to: status,
                reason: reason(),
            })
        }
        "comment" => ready(Command::Comment {
            body: text(),
            visibility: Visibility::Shared,
        }),
        // The side of the note is the author's: the handler fills it in.
        "note" => ready(Command::Comment {
            body: text(),
            visibility: Visibility::Side(Side::Internal),
        }),
        "handoff" => ready(Command::Handoff { reason: reason() }),
        "close" => ready(Command::Close),
        "reopen" => ready(Command::Reopen { reason: reason() }),
        "cancel" => ready(Command::Cancel { reason: reason() }),
        "escalate" => {
            return Parsed::Ok(Intent::Escalate {
                task: id,
                reason: reason().unwrap_or_default(),
            });
        }
        _ => return Parsed::NotMine,
    };
    Parsed::Ok(Intent::Change { task: id, change })
}

fn on_call_override(interaction: &Interaction) -> Parsed<Intent> {
    let Interaction::Slash { options, .. } = interaction else {
        return Parsed::NotMine;
    };
    let get = |name: &str| options.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let text = |name: &str| match get(name) {
        Some(OptionValue::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let (Some(OptionValue::User(person)), Some(from), Some(to)) =
        (get("person"), text("from"), text("to"))
    else {
        return Parsed::Malformed(UserError::AssigneeMissing);
    };
    Parsed::Ok(Intent::OnCallOverride {
        person: *person,
        from,
        to,
        schedule: text("schedule"),
    })
}

/// The longest maintenance window, in minutes (a day).
pub const MAINTENANCE_MAX_MINUTES: u32 = 1440;

fn maintenance_start(interaction: &Interaction) -> Parsed<Intent> {
    let Interaction::Slash { options, .. } = interaction else {
        return Parsed::NotMine;
    };
    let minutes = options
        .iter()
        .find(|(k, _)| k == "minutes")
        .and_then(|(_, v)| match v {
            OptionValue::Integer(n) => u32::try_from(*n).ok(),
            OptionValue::Text(t) => t.trim().parse::<u32>().ok(),
            _ => None,
        });
    let minutes = minutes.unwrap_or(60).clamp(1, MAINTENANCE_MAX_MINUTES);
    Parsed::Ok(Intent::MaintenanceStart { minutes })
}

fn button(custom_id: &str) -> Parsed<Intent> {
    let Some(rest) = custom_id.strip_prefix(CUSTOM_ID_PREFIX) else {
        return Parsed::NotMine;
    };
    let Some((verb, id)) = rest.split_once(':') else {
        return Parsed::NotMine;
    };
    let Some(action) = ButtonAction::ALL.into_iter().find(|a| a.verb() == verb) else {
        return Parsed::NotMine;
    };
    match id.parse::<TaskId>() {
        Ok(task) => Parsed::Ok(Intent::Change {
            task,
            change: ChangeDraft::Ready(action.command()),
        }),
        Err(e) => Parsed::Malformed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slash(name: &str, sub: Option<&str>, options: &[(&str, &str)]) -> Interaction {
        Interaction::Slash {
            name: name.into(),
            subcommand: sub.map(Into::into),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), OptionValue::Text(v.to_string())))
                .collect(),
        }
    }

    fn id(s: &str) -> TaskId {
        s.parse().unwrap()
    }

    #[test]
    fn a_request_with_options_becomes_a_draft() {
        let i = slash(
            "request",
            None,
            &[
                ("title", " VPN down "),
                ("to", "msp"),
                ("priority", "P1"),
                ("due", "2026-12-03"),
            ],
        );
        let Parsed::Ok(Intent::Request(draft)) = parse(&i) else {
            panic!("{:?}", parse(&i))
        };
        assert_eq!(draft.title, "VPN down");
        assert_eq!(draft.to, SideChoice::To(Side::Msp));
        assert_eq!(draft.priority, Some(Priority::P1));
        assert_eq!(draft.due.as_deref(), Some("2026-12-03"));
    }

    #[test]
    fn a_request_without_title_opens_the_form_and_the_form_needs_one() {
        assert_eq!(
            parse(&slash("request", None, &[])),
            Parsed::Ok(Intent::RequestForm)
        );
        assert_eq!(
            parse(&slash("request", None, &[("title", "  ")])),
            Parsed::Ok(Intent::RequestForm)
        );
        let form = |title: &str| Interaction::Modal {
            custom_id: REQUEST_FORM.into(),
            fields: vec![
                ("title".into(), title.into()),
                ("details".into(), "on floor 2".into()),
            ],
        };
        assert_eq!(parse(&form(" ")), Parsed::Malformed(UserError::TitleEmpty));
        let Parsed::Ok(Intent::Request(draft)) = parse(&form("Printer")) else {
            panic!()
        };
        assert_eq!(
            (draft.title.as_str(), draft.details.as_str()),
            ("Printer", "on floor 2")
        );
    }

    #[test]
    fn bad_option_values_say_what_to_fix() {
        assert_eq!(
            parse(&slash(
                "request",
                None,
                &[("title", "x"), ("priority", "P9")]
            )),
            Parsed::Malformed(UserError::BadPriority { input: "P9".into() })
        );
        assert_eq!(
            parse(&slash("task", Some("claim"), &[("id", "ACME")])),
            Parsed::Malformed(UserError::BadTaskId {
                input: "ACME".into()
            })
        );
        assert_eq!(
            parse(&slash(
                "task",
                Some("status"),
                &[("id", "ACME-1"), ("status", "done")]
            )),
            Parsed::Malformed(UserError::BadStatus {
                input: "done".into()
            })
        );
        assert_eq!(
            parse(&slash("task", Some("list"), &[("side", "them")])),
            Parsed::Malformed(UserError::BadSide {
                input: "them".into()
            })
        );
    }

    #[test]
    fn task_subcommands_become_changes() {
        assert_eq!(
            parse(&slash("task", Some("claim"), &[("id", "acme-3")])),
            Parsed::Ok(Intent::Change {
                task: id("ACME-3"),
                change: ChangeDraft::Ready(Command::Claim)
            })
        );
        assert_eq!(
            parse(&slash(
                "task",
                Some("handoff"),
                &[("id", "ACME-3"), ("reason", "yours")]
            )),
            Parsed::Ok(Intent::Change {
                task: id("ACME-3"),
                change: ChangeDraft::Ready(Command::Handoff {
                    reason: Some("yours".into())
                })
            })
        );
        let assign = Interaction::Slash {
            name: "task".into(),
            subcommand: Some("assign".into()),
            options: vec![
                ("id".into(), OptionValue::Text("ACME-3".into())),
                ("to".into(), OptionValue::User(42)),
            ],
        };
        assert_eq!(
            parse(&assign),
            Parsed::Ok(Intent::Change {
                task: id("ACME-3"),
                change: ChangeDraft::AssignTo(42)
            })
        );
        assert_eq!(
            parse(&slash("task", Some("show"), &[("id", "ACME-3")])),
            Parsed::Ok(Intent::Show(id("ACME-3")))
        );
    }

    #[test]
    fn buttons_are_parsed_by_their_custom_id_and_others_are_not_mine() {
        for action in ButtonAction::ALL {
            let custom_id = action.custom_id(&id("ACME-7"));
            assert!(custom_id.len() <= 100);
            assert_eq!(
                parse(&Interaction::Button {
                    custom_id,
                    source: None
                }),
                Parsed::Ok(Intent::Change {
                    task: id("ACME-7"),
                    change: ChangeDraft::Ready(action.command())
                })
            );
        }
        for other in ["other-bot:claim", "ponte:dance:ACME-1", "ponte:claim"] {
            assert_eq!(
                parse(&Interaction::Button {
                    custom_id: other.into(),
                    source: None,
                }),
                Parsed::NotMine,
                "{other}"
            );
        }
        assert_eq!(
            parse(&Interaction::Button {
                custom_id: "ponte:claim:ACME-x".into(),
                source: None,
            }),
            Parsed::Malformed(UserError::BadTaskId {
                input: "ACME-x".into()
            })
        );
        assert_eq!(parse(&slash("dance", None, &[])), Parsed::NotMine);
    }

    #[test]
    fn approval_buttons_approve_or_ask_for_the_reason_and_the_form_refuses() {
        let button = |a: ApprovalButton| Interaction::Button {
            custom_id: a.custom_id(&id("ACME-7")),
            source: None,
        };
        assert_eq!(
            parse(&button(ApprovalButton::Approve)),
            Parsed::Ok(Intent::Change {
                task: id("ACME-7"),
                change: ChangeDraft::Ready(Command::Approve)
            })
        );
        assert_eq!(
            parse(&button(ApprovalButton::Refuse)),
            Parsed::Ok(Intent::RefuseForm(id("ACME-7")))
        );
        let form = Interaction::Modal {
            custom_id: refuse_form_id(&id("ACME-7")),
            fields: vec![("reason".into(), "not now".into())],
        };
        assert_eq!(
            parse(&form),
            Parsed::Ok(Intent::Change {
                task: id("ACME-7"),
                change: ChangeDraft::Ready(Command::Refuse {
                    reason: "not now".into()
                })
            })
        );
        assert_eq!(
            parse(&Interaction::Button {
                custom_id: "ponte:approve:nope".into(),
                source: None
            }),
            Parsed::Malformed(UserError::BadTaskId {
                input: "nope".into()
            })
        );
    }

    #[test]
    fn draft_buttons_carry_their_source_and_choices_within_discords_limit() {
        for verb in DraftVerb::ALL {
            let draft = DraftRef {
                verb,
                channel: u64::MAX,
                message: u64::MAX,
                priority: Priority::P4,
                side: SideChoice::To(Side::Internal),
                tracker: (verb == DraftVerb::Create).then_some(u64::MAX),
            };
            let id = draft.custom_id();
            assert!(id.len() <= 100, "{id}");
            assert_eq!(DraftRef::parse(&id), Some(draft));
        }
        for bad in [
            "ponte:draft:",
            "ponte:draft:dance:1:2:P1:a",
            "ponte:draft:create:1:2:P9:a",
            "ponte:draft:create:1:2:P1:x:y",
            "ponte:draft:create:1:2:P1:a:x9",
            "ponte:draft:create:1:2:P1:a:t9:z",
        ] {
            assert_eq!(DraftRef::parse(bad), None, "{bad}");
        }
    }
}
