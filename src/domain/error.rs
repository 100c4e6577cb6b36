//! What a user did wrong, as typed errors. Each carries a Fluent message id
//! and its arguments, so the adapters can show it in the user's language.
//! Internal failures are not here: they belong to the store and adapters.

use super::ids::PersonId;
use super::people::Side;
use super::task::Status;

/// A refusal or a bad input, shown to the user (ephemerally, in their
/// language) with what to fix. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("`{input}` is not a task id; task ids look like ACME-42")]
    BadTaskId { input: String },
    #[error("`{input}` is not a priority; use P1, P2, P3 or P4")]
    BadPriority { input: String },
    #[error("`{input}` is not a status")]
    BadStatus { input: String },
    #[error("`{input}` is not a side; use internal or msp")]
    BadSide { input: String },
    #[error("say whom to assign the task to")]
    AssigneeMissing,
    #[error("Ponte is not set up for this server")]
    UnknownServer,
    #[error("use this in your company's server")]
    UseInServer,
    #[error("this place belongs to no client; say which client")]
    ClientNeeded,
    #[error("this place holds every client's work; name one of {clients}")]
    ClientOptionNeeded { clients: String },
    #[error("only the person who asked can confirm or change this draft")]
    NotYourDraft,
    #[error("this draft has expired; ask again")]
    DraftExpired,
    #[error("the message this draft was made from is gone")]
    DraftGone,
    #[error("`{input}` is not a category; known categories: {known}")]
    UnknownCategory { input: String, known: String },
    #[error("no task {id} that you can see")]
    UnknownTask { id: String },
    #[error("this task belongs to another company")]
    OtherClient,
    #[error("you do not act for this company")]
    NotForClient,
    #[error("the title is empty")]
    TitleEmpty,
    #[error("the title has {len} characters; the most is {max}")]
    TitleTooLong { len: usize, max: usize },
    #[error("the details have {len} characters; the most is {max}")]
    DetailsTooLong { len: usize, max: usize },
    #[error("the comment is empty")]
    CommentEmpty,
    #[error("the comment has {len} characters; the most is {max}")]
    CommentTooLong { len: usize, max: usize },
    #[error("a reason is needed")]
    ReasonRequired,
    #[error("the reason has {len} characters; the most is {max}")]
    ReasonTooLong { len: usize, max: usize },
    #[error("the due time is in the past")]
    DueInPast,
    #[error("`{input}` is not a due date; write 2026-12-03 or 2026-12-03 17:00")]
    BadDue { input: String },
    #[error("only {side} staff can do this")]
    NotStaffOf { side: Side },
    #[error("only the requester, the IT manager or the handling side can do this")]
    NotRequesterOrStaff,
    #[error("only the IT manager can decide approvals")]
    OnlyItManager,
    #[error("internal notes of {side} can only be written by {side} staff")]
    NoteNotYourSide { side: Side },
    #[error("already claimed by {by}")]
    AlreadyClaimed { by: PersonId },
    #[error("only the assignee or the lead of the side can release the task")]
    NotAssignee,
    #[error("a task in status {status} cannot be claimed")]
    NotClaimable { status: Status },
    #[error("a task cannot go from {from} to {to}")]
    NoSuchTransition { from: Status, to: Status },
    #[error("the task is {status}: nothing more can change")]
    TaskFinished { status: Status },
    #[error("only a resolved task can be reopened (this one is {status})")]
    CannotReopen { status: Status },
    #[error("the MSP cannot act before the IT manager approves")]
    AwaitingApproval,
    #[error("the IT manager refused this work: {reason}")]
    ApprovalRefused { reason: String },
    #[error("no approval is pending on this task")]
    NoApprovalPending,
    #[error("the assignee must be {side} staff of this company")]
    AssigneeNotOnSide { side: Side },
    #[error("nothing to change")]
    Unchanged,
    #[error("a DM from someone in none of the configured servers")]
    DmUnknownPerson,
    #[error("a DM from the MSP's people, who ask in a client's channel")]
    DmFromMsp,
    #[error("a DM from someone in several companies' servers: {clients}")]
    DmSeveralClients { clients: String },
    /// `/task escalate` beyond the configured limits.
    #[error("this task was escalated {max} times already, or less than {minutes} minutes ago")]
    EscalateLimit { max: usize, minutes: usize },
    /// Only the requester or the IT manager escalate a task.
    #[error("only the requester or the IT manager can escalate a task")]
    NotRequesterOrManager,
    /// On-call overrides are for MSP leads.
    #[error("only an MSP lead can do this")]
    OnlyMspLead,
    // `/sla report` (issue 6).
    /// A report period that cannot be read.
    #[error("“{input}” is not a period")]
    BadPeriod { input: String },
    /// A report period of no days or too many.
    #[error("a period covers 1 to {max} days")]
    PeriodLength { max: usize },
    /// A client's people asked for another client's report.
    #[error("a company's people see only their company's report")]
    ReportOtherClient,
    /// No configured client has this key (or name).
    #[error("no client “{input}”")]
    UnknownClient { input: String },
    /// SLA reports are for IT and MSP staff.
    #[error("SLA reports are for IT and MSP staff")]
    ReportStaffOnly,
}

/// A value for a message argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Number(i64),
    /// Shown as the message `side-<name>` in the reader's language.
    Side(Side),
    /// Shown as the message `status-<name>` in the reader's language.
    Status(Status),
}

impl UserError {
    /// The Fluent message id, `error-` followed by the kebab-case variant name.
    pub fn message_id(&self) -> &'static str {
        match self {
            UserError::BadTaskId { .. } => "error-bad-task-id",
            UserError::BadPriority { .. } => "error-bad-priority",
            UserError::BadStatus { .. } => "error-bad-status",
            UserError::BadSide { .. } => "error-bad-side",
            UserError::AssigneeMissing => "error-assignee-missing",
            UserError::UnknownServer => "error-unknown-server",
            UserError::UseInServer => "error-use-in-server",
            UserError::ClientNeeded => "error-client-needed",
            UserError::ClientOptionNeeded { .. } => "error-client-option-needed",
            UserError::NotYourDraft => "error-not-your-draft",
            UserError::DraftExpired => "error-draft-expired",
            UserError::DraftGone => "error-draft-gone",
            UserError::UnknownCategory { .. } => "error-unknown-category",
            UserError::UnknownTask { .. } => "error-unknown-task",
            // Never confirm that another company's task exists.
            UserError::OtherClient => "error-unknown-task",
            UserError::NotForClient => "error-not-for-client",
            UserError::TitleEmpty => "error-title-empty",
            UserError::TitleTooLong { .. } => "error-title-too-long",
            UserError::DetailsTooLong { .. } => "error-details-too-long",
            UserError::CommentEmpty => "error-comment-empty",
            UserError::CommentTooLong { .. } => "error-comment-too-long",
            UserError::ReasonRequired => "error-reason-required",
            UserError::ReasonTooLong { .. } => "error-reason-too-long",
            UserError::DueInPast => "error-due-in-past",
            UserError::BadDue { .. } => "error-bad-due",
            UserError::NotStaffOf { .. } => "error-not-staff-of",
            UserError::NotRequesterOrStaff => "error-not-requester-or-staff",
            UserError::OnlyItManager => "error-only-it-manager",
            UserError::NoteNotYourSide { .. } => "error-note-not-your-side",
            UserError::AlreadyClaimed { .. } => "error-already-claimed",
            UserError::NotAssignee => "error-not-assignee",
            UserError::NotClaimable { .. } => "error-not-claimable",
            UserError::NoSuchTransition { .. } => "error-no-such-transition",
            UserError::TaskFinished { .. } => "error-task-finished",
            UserError::CannotReopen { .. } => "error-cannot-reopen",
            UserError::AwaitingApproval => "error-awaiting-approval",
            UserError::ApprovalRefused { .. } => "error-approval-refused",
            UserError::NoApprovalPending => "error-no-approval-pending",
            UserError::AssigneeNotOnSide { .. } => "error-assignee-not-on-side",
            UserError::Unchanged => "error-unchanged",
            UserError::DmUnknownPerson => "error-dm-unknown-person",
            UserError::DmFromMsp => "error-dm-from-msp",
            UserError::DmSeveralClients { .. } => "error-dm-several-clients",
            UserError::EscalateLimit { .. } => "error-escalate-limit",
            UserError::NotRequesterOrManager => "error-not-requester-or-manager",
            UserError::OnlyMspLead => "error-only-msp-lead",
            UserError::BadPeriod { .. } => "error-bad-period",
            UserError::PeriodLength { .. } => "error-period-length",
            UserError::ReportOtherClient => "error-report-other-client",
            UserError::UnknownClient { .. } => "error-unknown-client",
            UserError::ReportStaffOnly => "error-report-staff-only",
        }
    }

    /// The message's arguments.
    pub fn args(&self) -> Vec<(&'static str, Arg)> {
        let text = |s: &str| Arg::Text(s.to_owned());
        let num = |n: usize| Arg::Number(i64::try_from(n).unwrap_or(i64::MAX));
        match self {
            UserError::BadTaskId { input }
            | UserError::BadPriority { input }
            | UserError::BadStatus { input }
            | UserError::BadDue { input }
            | UserError::BadSide { input } => vec![("input", text(input))],
            UserError::UnknownCategory { input, known } => {
                vec![("input", text(input)), ("known", text(known))]
            }
            UserError::UnknownTask { id } => vec![("id", text(id))],
            UserError::OtherClient => vec![("id", text("?"))],
            UserError::TitleTooLong { len, max }
            | UserError::DetailsTooLong { len, max }
            | UserError::CommentTooLong { len, max }
            | UserError::ReasonTooLong { len, max } => vec![("len", num(*len)), ("max", num(*max))],
            UserError::NotStaffOf { side }
            | UserError::NoteNotYourSide { side }
            | UserError::AssigneeNotOnSide { side } => vec![("side", Arg::Side(*side))],
            UserError::AlreadyClaimed { by } => vec![("by", text(&by.0.to_string()))],
            UserError::NotClaimable { status }
            | UserError::TaskFinished { status }
            | UserError::CannotReopen { status } => vec![("status", Arg::Status(*status))],
            UserError::NoSuchTransition { from, to } => {
                vec![("from", Arg::Status(*from)), ("to", Arg::Status(*to))]
            }
            UserError::ApprovalRefused { reason } => vec![("reason", text(reason))],
            UserError::DmSeveralClients { clients } | UserError::ClientOptionNeeded { clients } => {
                vec![("clients", text(clients))]
            }
            UserError::DmUnknownPerson | UserError::DmFromMsp => vec![],
            UserError::NotForClient
            | UserError::AssigneeMissing
            | UserError::UnknownServer
            | UserError::UseInServer
            | UserError::ClientNeeded
            | UserError::NotYourDraft
            | UserError::DraftExpired
            | UserError::DraftGone
            | UserError::TitleEmpty
            | UserError::CommentEmpty
            | UserError::ReasonRequired
            | UserError::DueInPast
            | UserError::NotRequesterOrStaff
            | UserError::OnlyItManager
            | UserError::NotAssignee
            | UserError::AwaitingApproval
            | UserError::NoApprovalPending
            | UserError::Unchanged
            | UserError::NotRequesterOrManager
            | UserError::OnlyMspLead => vec![],
            UserError::EscalateLimit { max, minutes } => {
                vec![("max", num(*max)), ("minutes", num(*minutes))]
            }
            UserError::BadPeriod { input } | UserError::UnknownClient { input } => {
                vec![("input", text(input))]
            }
            UserError::PeriodLength { max } => vec![("max", num(*max))],
            UserError::ReportOtherClient | UserError::ReportStaffOnly => vec![],
        }
    }
}
