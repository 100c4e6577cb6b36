//! Commands: what people ask Ponte to do, and the decision of which events
//! they produce. `decide` never changes anything; the caller appends the
//! events it returns and folds them into the task.
//!
//! `decide_create` turns a `NewTask` into a task's first events (`created`, `routed`,
//! an approval request when one is needed); `decide` answers a `Command` on a task with
//! its events, or the `UserError` that refuses it (`permission::authorize` first, then
//! whether the task's state allows it). Timer commands carry the task version they
//! were planned from (`Command::Page`, `Command::RecordSla`); `decide` refuses them if
//! the task changed since, so no page or alert is recorded after the change that stops
//! it. `Command::JoinAsReporter`
//! adds a duplicate report's person to the task (`reporter_added`).

use jiff::Timestamp;

use super::error::UserError;
use super::event::EventKind;
use super::ids::{ClientKey, PersonId};
use super::people::{Actor, Side};
use super::permission::{Action, action_for_status, authorize};
use super::routing::{ApprovalWhy, ClientRouting, RouteInput, SideChoice};
use super::task::{Approval, ChatRef, Priority, Status, Task, Visibility};
use super::text::{self, Bounds};

/// A request for a new task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub details: String,
    /// Which side should handle it; `Auto` lets the routing rules decide.
    pub to: SideChoice,
    pub priority: Option<Priority>,
    /// A category name as the person typed it.
    pub category: Option<String>,
    pub due: Option<Timestamp>,
    /// Who the request is for, when someone tracks another person's message.
    pub on_behalf_of: Option<PersonId>,
    pub chat: Option<ChatRef>,
    /// The monitoring alert this task is opened for (issue 20).
    pub alert: Option<super::monitor::AlertOrigin>,
}

/// A change to an existing task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Claim,
    Unclaim,
    /// Assign to a person, as the adapter resolved them.
    Assign {
        to: Actor,
    },
    Comment {
        body: String,
        visibility: Visibility,
    },
    SetStatus {
        to: Status,
        reason: Option<String>,
    },
    SetPriority(Priority),
    SetDue(Option<Timestamp>),
    Retitle(String),
    /// Hand the task to the other side.
    Handoff {
        reason: Option<String>,
    },
    Approve,
    Refuse {
        reason: String,
    },
    Reopen {
        reason: Option<String>,
    },
    Close,
    Cancel {
        reason: Option<String>,
    },
    LinkChat(ChatRef),
    /// Acknowledge an urgent task of the MSP: its escalation stops paging.
    Acknowledge,
    /// Someone wrote in one of the task's threads (the bridge).
    Say {
        author: String,
        thread: u64,
        message: u64,
        body: String,
        visibility: Visibility,
        attachments: Vec<super::event::Attachment>,
    },
    /// Someone edited a message of one of the task's threads.
    EditSaid {
        message: u64,
        body: String,
        visibility: Visibility,
    },
    /// Record the mirrored card and thread on the other side's server.
    LinkMirror(ChatRef),
    /// Record that `copy` is the relayed copy of message `source`.
    LinkRelay {
        source: u64,
        copy: u64,
    },
    /// The actor reports the same problem: add them as a reporter.
    JoinAsReporter,
    /// Record the pages of the escalation timer (issue 5). `as_of` is the
    /// task's version the pages were planned from: if the task changed since
    /// (an acknowledgement, a claim), nothing is recorded and the timer plans
    /// again, so a page never follows the change that stopped it.
    Page {
        as_of: u32,
        pages: Vec<super::escalation::PageOrder>,
    },
    /// Record where page `key` was delivered (Ponte's bookkeeping, so the
    /// page can follow the task).
    LinkPage {
        key: String,
        channel: u64,
        message: u64,
    },
    /// Record that page `key` could not reach its target for good (Ponte's
    /// delivery, issue 17): the next step pages at once.
    PageFailed {
        key: String,
        reason: String,
    },
    /// Delay the escalation's next steps by this many minutes from now.
    Snooze {
        minutes: u32,
    },
    /// Escalate by hand (`/task escalate`): page `target` now. The limits
    /// were checked on version `as_of` of the task's history.
    Escalate {
        as_of: u32,
        reason: String,
        key: String,
        target: super::escalation::Target,
        to: Option<PersonId>,
    },
    /// Record SLA warnings and breaches (issue 6), planned by Ponte's SLA
    /// timer from version `as_of` of the task's history: if the task
    /// changed since, nothing is recorded and the timer plans again.
    RecordSla {
        as_of: u32,
        alerts: Vec<super::sla::SlaAlert>,
        /// Pages of the escalation policy fed by a warning (recorded after
        /// the alerts, in the same transaction).
        pages: Vec<super::escalation::PageOrder>,
    },
    /// A monitoring alert of the task fired again, folded in or resolved
    /// (issue 20): Ponte's bookkeeping for the monitoring system.
    Alert(super::monitor::AlertChange),
}

impl Command {
    /// The permission this command needs.
    pub fn action(&self) -> Action {
        match self {
            Command::Claim => Action::Claim,
            Command::Unclaim => Action::Unclaim,
            Command::Assign { .. } => Action::Assign,
            Command::Comment { visibility, .. } => Action::Comment(*visibility),
            Command::SetStatus { to, .. } => action_for_status(*to),
            Command::SetPriority(_) => Action::SetPriority,
            Command::SetDue(_) => Action::SetDue,
            Command::Retitle(_) => Action::Retitle,
            Command::Handoff { .. } => Action::Handoff,
            Command::Approve | Command::Refuse { .. } => Action::DecideApproval,
            Command::Reopen { .. } => Action::Reopen,
            Command::Close => Action::Close,
            Command::Cancel { .. } => Action::Cancel,
            Command::LinkChat(_) => Action::LinkChat,
            Command::Acknowledge => Action::Acknowledge,
            Command::Say { visibility, .. } | Command::EditSaid { visibility, .. } => {
                Action::Comment(*visibility)
            }
            Command::LinkMirror(_) | Command::LinkRelay { .. } => Action::LinkChat,
            Command::JoinAsReporter => Action::Comment(Visibility::Shared),
            // Paging and snoozing are the MSP's escalation, like an
            // acknowledgement: MSP staff (and Ponte's own timer, acting for
            // the MSP).
            Command::Page { .. } | Command::Snooze { .. } => Action::Acknowledge,
            // Who may escalate (the requester, the IT manager) is checked
            // in `decide`; anyone who sees the task gets that far.
            Command::Escalate { .. } => Action::View,
            // Ponte's own bookkeeping, like a chat link.
            Command::RecordSla { .. }
            | Command::PageFailed { .. }
            | Command::LinkPage { .. }
            | Command::Alert(_) => Action::LinkChat,
        }
    }

    /// A stable, short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Claim => "claim",
            Command::Unclaim => "unclaim",
            Command::Assign { .. } => "assign",
            Command::Comment { .. } => "comment",
            Command::SetStatus { .. } => "status",
            Command::SetPriority(_) => "priority",
            Command::SetDue(_) => "due",
            Command::Retitle(_) => "retitle",
            Command::Handoff { .. } => "handoff",
            Command::Approve => "approve",
            Command::Refuse { .. } => "refuse",
            Command::Reopen { .. } => "reopen",
            Command::Close => "close",
            Command::Cancel { .. } => "cancel",
            Command::LinkChat(_) => "link_chat",
            Command::Acknowledge => "acknowledge",
            Command::Say { .. } => "say",
            Command::EditSaid { .. } => "edit_said",
            Command::LinkMirror(_) => "link_mirror",
            Command::LinkRelay { .. } => "link_relay",
            Command::JoinAsReporter => "join",
            Command::Page { .. } => "page",
            Command::Snooze { .. } => "snooze",
            Command::PageFailed { .. } => "page_failed",
            Command::LinkPage { .. } => "link_page",
            Command::Escalate { .. } => "escalate",
            Command::RecordSla { .. } => "sla",
            Command::Alert(_) => "alert",
        }
    }
}

fn title(raw: &str) -> Result<String, UserError> {
    text::bounded(raw, text::TITLE_MAX).map_err(|e| match e {
        Bounds::Empty => UserError::TitleEmpty,
        Bounds::TooLong { len } => UserError::TitleTooLong {
            len,
            max: text::TITLE_MAX,
        },
    })
}

fn details(raw: &str) -> Result<String, UserError> {
    match text::bounded(raw, text::DETAILS_MAX) {
        Ok(d) => Ok(d),
        Err(Bounds::Empty) => Ok(String::new()),
        Err(Bounds::TooLong { len }) => Err(UserError::DetailsTooLong {
            len,
            max: text::DETAILS_MAX,
        }),
    }
}

fn comment(raw: &str) -> Result<String, UserError> {
    text::bounded(raw, text::COMMENT_MAX).map_err(|e| match e {
        Bounds::Empty => UserError::CommentEmpty,
        Bounds::TooLong { len } => UserError::CommentTooLong {
            len,
            max: text::COMMENT_MAX,
        },
    })
}

fn reason(raw: &str) -> Result<String, UserError> {
    text::bounded(raw, text::REASON_MAX).map_err(|e| match e {
        Bounds::Empty => UserError::ReasonRequired,
        Bounds::TooLong { len } => UserError::ReasonTooLong {
            len,
            max: text::REASON_MAX,
        },
    })
}

fn optional_reason(raw: &Option<String>) -> Result<Option<String>, UserError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => reason(r).map(Some),
    }
}

fn due(due: Option<Timestamp>, now: Timestamp) -> Result<Option<Timestamp>, UserError> {
    match due {
        Some(at) if at < now => Err(UserError::DueInPast),
        other => Ok(other),
    }
}

/// Decides the events that create a task for `client`. The caller gives the
/// task its number.
pub fn decide_create(
    actor: &Actor,
    client: &ClientKey,
    new: &NewTask,
    routing: &ClientRouting,
    now: Timestamp,
) -> Result<Vec<EventKind>, UserError> {
    if !actor.serves(client) {
        return Err(UserError::NotForClient);
    }
    let title = title(&new.title)?;
    let details = details(&new.details)?;
    let due = due(new.due, now)?;
    let decision = routing.route(
        actor.side,
        &RouteInput {
            text: &format!("{title}\n{details}"),
            category: new.category.as_deref(),
            to: new.to,
            priority: new.priority,
        },
    )?;
    let mut events = vec![
        EventKind::Created {
            title,
            details,
            requester: new.on_behalf_of.unwrap_or(actor.person),
            asking_side: actor.side,
            priority: decision.priority,
            due,
        },
        EventKind::Routed {
            side: decision.side,
            category: decision.category,
            // An alert sent to a side by its integration's configuration
            // says so, not that its requester (Ponte) asked.
            reason: match (&new.alert, decision.reason) {
                (Some(alert), super::routing::RouteReason::Requested { side }) => {
                    super::routing::RouteReason::Monitoring {
                        source: alert.source.clone(),
                        side,
                    }
                }
                (_, reason) => reason,
            },
        },
    ];
    if let Some(why) = decision.approval {
        events.push(EventKind::ApprovalRequested { why });
    } else if actor.side == Side::Msp && decision.side == Side::Internal {
        // A request from the MSP to the company's IT is the MSP proposing a
        // change: the IT manager decides (see `Command::Approve`).
        events.push(EventKind::ApprovalRequested {
            why: ApprovalWhy::MspProposal,
        });
    }
    if let Some(chat) = new.chat.filter(|c| *c != ChatRef::default()) {
        events.push(EventKind::ChatLinked { chat });
    }
    if let Some(alert) = new.alert.clone() {
        events.push(EventKind::AlertFired {
            source: alert.source,
            fingerprint: alert.fingerprint,
            group: alert.group,
            severity: alert.severity,
            link: alert.link,
            storm: alert.storm,
        });
    }
    Ok(events)
}

/// Whether `task` is a change the MSP proposed to the company's IT, waiting
/// for (or refused by) the IT manager: the only way an approval can be
/// asked on a task the company's IT handles.
pub fn is_proposal(task: &Task) -> bool {
    task.asking_side == Side::Msp
        && task.handling_side == Side::Internal
        && task.approval != Approval::NotNeeded
}

/// Decides the events a command produces on `task`, or why it is refused.
pub fn decide(
    task: &Task,
    actor: &Actor,
    command: &Command,
    routing: &ClientRouting,
    now: Timestamp,
) -> Result<Vec<EventKind>, UserError> {
    authorize(actor, command.action(), task)?;
    let status = task.status;
    let finished = || UserError::TaskFinished { status };
    // Chat links may always be recorded; every other change needs a task
    // that is not finished (reopen has its own rule).
    let is_reopen = matches!(command, Command::Reopen { .. });
    // What people write in a finished task's thread is still its history.
    let always = matches!(
        command,
        Command::LinkChat(_)
            | Command::LinkMirror(_)
            | Command::LinkRelay { .. }
            | Command::LinkPage { .. }
            | Command::Say { .. }
            | Command::EditSaid { .. }
    );
    if status.is_final() && !is_reopen && !always {
        return Err(finished());
    }
    let handling = task.handling_side;
    let msp_blocked = || -> Result<(), UserError> {
        if handling != Side::Msp {
            return Ok(());
        }
        match &task.approval {
            Approval::Pending { .. } => Err(UserError::AwaitingApproval),
            Approval::Refused { reason, .. } => Err(UserError::ApprovalRefused {
                reason: reason.clone(),
            }),
            Approval::NotNeeded | Approval::Granted { .. } => Ok(()),
        }
    };
    let events = match command {
        Command::Claim => {
            match (status, task.assignee) {
                (Status::New, _) => {}
                (_, Some(by)) if by == actor.person => return Err(UserError::Unchanged),
                (Status::Claimed, Some(by)) => return Err(UserError::AlreadyClaimed { by }),
                _ => return Err(UserError::NotClaimable { status }),
            }
            vec![EventKind::Claimed { by: actor.person }]
        }
        Command::Unclaim => {
            if status != Status::Claimed {
                return Err(UserError::NoSuchTransition {
                    from: status,
                    to: Status::New,
                });
            }
            vec![EventKind::Unclaimed]
        }
        Command::Assign { to } => {
            if !to.serves(task.id.client()) || !to.works_for(handling) {
                return Err(UserError::AssigneeNotOnSide { side: handling });
            }
            if !status.is_open() {
                return Err(UserError::NotClaimable { status });
            }
            if task.assignee == Some(to.person) {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::Assigned { to: to.person }]
        }
        Command::Comment { body, visibility } => vec![EventKind::Commented {
            body: comment(body)?,
            visibility: *visibility,
        }],
        Command::SetStatus { to, reason } => match to {
            Status::Claimed => return decide(task, actor, &Command::Claim, routing, now),
            Status::New => return decide(task, actor, &Command::Unclaim, routing, now),
            Status::Closed => return decide(task, actor, &Command::Close, routing, now),
            Status::Cancelled => {
                let cancel = Command::Cancel {
                    reason: reason.clone(),
                };
                return decide(task, actor, &cancel, routing, now);
            }
            _ => {
                if *to == status {
                    return Err(UserError::Unchanged);
                }
                if !status.can_move_to(*to) {
                    return Err(UserError::NoSuchTransition {
                        from: status,
                        to: *to,
                    });
                }
                if matches!(to, Status::InProgress | Status::Resolved) {
                    msp_blocked()?;
                    // The company's territory: the MSP asks before it acts,
                    // even when nobody asked at creation (rules changed).
                    if handling == Side::Msp && task.approval == Approval::NotNeeded {
                        if let Some(why) = routing.approval_for(task.category.as_ref(), handling) {
                            return Ok(vec![EventKind::ApprovalRequested { why }]);
                        }
                    }
                }
                let mut events = Vec::with_capacity(2);
                let mut from = status;
                if status == Status::New && task.assignee.is_none() {
                    // Whoever starts working on an unowned task owns it.
                    events.push(EventKind::Claimed { by: actor.person });
                    from = Status::Claimed;
                }
                events.push(EventKind::StatusChanged {
                    from,
                    to: *to,
                    reason: optional_reason(reason)?,
                });
                events
            }
        },
        Command::SetPriority(priority) => {
            if *priority == task.priority {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::PriorityChanged {
                from: task.priority,
                to: *priority,
            }]
        }
        Command::SetDue(at) => {
            let at = due(*at, now)?;
            if at == task.due {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::DueChanged {
                from: task.due,
                to: at,
            }]
        }
        Command::Retitle(raw) => {
            let to = title(raw)?;
            if to == task.title {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::Retitled {
                from: task.title.clone(),
                to,
            }]
        }
        Command::Handoff { reason } => {
            if status == Status::Resolved {
                return Err(UserError::NoSuchTransition {
                    from: status,
                    to: Status::New,
                });
            }
            let to = handling.other();
            let mut events = vec![EventKind::HandedOff {
                from: handling,
                to,
                reason: optional_reason(reason)?,
            }];
            if let Some(why) = routing.approval_for(task.category.as_ref(), to) {
                events.push(EventKind::ApprovalRequested { why });
            }
            events
        }
        Command::Approve => match task.approval {
            // An approved proposal of the MSP goes to the MSP to carry out
            // (handing off first: a hand-off starts a fresh approval state).
            Approval::Pending { .. } | Approval::Refused { .. } if is_proposal(task) => vec![
                EventKind::HandedOff {
                    from: handling,
                    to: Side::Msp,
                    reason: None,
                },
                EventKind::ApprovalGranted,
            ],
            Approval::Pending { .. } | Approval::Refused { .. } => {
                vec![EventKind::ApprovalGranted]
            }
            Approval::NotNeeded | Approval::Granted { .. } => {
                return Err(UserError::NoApprovalPending);
            }
        },
        Command::Refuse { reason: raw } => match task.approval {
            // A refused proposal is not done at all.
            Approval::Pending { .. } if is_proposal(task) => {
                let reason = reason(raw)?;
                vec![
                    EventKind::ApprovalRefused {
                        reason: reason.clone(),
                    },
                    EventKind::StatusChanged {
                        from: status,
                        to: Status::Cancelled,
                        reason: Some(reason),
                    },
                ]
            }
            Approval::Pending { .. } => vec![EventKind::ApprovalRefused {
                reason: reason(raw)?,
            }],
            _ => return Err(UserError::NoApprovalPending),
        },
        Command::Reopen { reason } => {
            if status != Status::Resolved {
                return Err(UserError::CannotReopen { status });
            }
            vec![EventKind::Reopened {
                reason: optional_reason(reason)?,
            }]
        }
        Command::Close => {
            if !status.can_move_to(Status::Closed) {
                return Err(UserError::NoSuchTransition {
                    from: status,
                    to: Status::Closed,
                });
            }
            vec![EventKind::StatusChanged {
                from: status,
                to: Status::Closed,
                reason: None,
            }]
        }
        Command::Cancel { reason } => {
            if !status.can_move_to(Status::Cancelled) {
                return Err(UserError::NoSuchTransition {
                    from: status,
                    to: Status::Cancelled,
                });
            }
            vec![EventKind::StatusChanged {
                from: status,
                to: Status::Cancelled,
                reason: optional_reason(reason)?,
            }]
        }
        Command::LinkChat(chat) => {
            let merged = ChatRef {
                channel: chat.channel.or(task.chat.channel),
                thread: chat.thread.or(task.chat.thread),
                message: chat.message.or(task.chat.message),
            };
            if merged == task.chat {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::ChatLinked { chat: *chat }]
        }
        Command::Say {
            author,
            thread,
            message,
            body,
            visibility,
            attachments,
        } => {
            // A message with only a file has no text: the file is the message.
            let body = if body.trim().is_empty() && !attachments.is_empty() {
                String::new()
            } else {
                comment(body)?
            };
            vec![EventKind::Said {
                author: text::bounded(author, 100).unwrap_or_else(|_| "?".to_owned()),
                side: actor.side,
                thread: *thread,
                message: *message,
                body,
                visibility: *visibility,
                attachments: attachments.clone(),
            }]
        }
        Command::EditSaid {
            message,
            body,
            visibility,
        } => vec![EventKind::SaidEdited {
            message: *message,
            body: comment(body)?,
            visibility: *visibility,
        }],
        Command::LinkMirror(chat) => {
            if task.mirror == *chat {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::Mirrored { chat: *chat }]
        }
        Command::JoinAsReporter => {
            if task.requester == actor.person || task.reporters.contains(&actor.person) {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::ReporterAdded {
                person: actor.person,
            }]
        }
        Command::LinkRelay { source, copy } => vec![EventKind::Relayed {
            source: *source,
            copy: *copy,
        }],
        Command::Acknowledge => {
            // Only a task of the MSP that nobody picked up yet escalates; a
            // claimed or worked-on task is acknowledged already.
            if handling != Side::Msp || status != Status::New || task.assignee.is_some() {
                return Err(UserError::Unchanged);
            }
            vec![EventKind::Acknowledged]
        }
        Command::Page { as_of, pages } => {
            let waiting = handling == Side::Msp && status == Status::New && task.assignee.is_none();
            if *as_of != task.version || !waiting || pages.is_empty() {
                return Err(UserError::Unchanged);
            }
            pages
                .iter()
                .map(super::escalation::PageOrder::event)
                .collect()
        }
        Command::Escalate {
            as_of,
            reason,
            key,
            target,
            to,
        } => {
            if actor.person != task.requester && !actor.is_it_manager() {
                return Err(UserError::NotRequesterOrManager);
            }
            if *as_of != task.version {
                return Err(UserError::Unchanged);
            }
            let reason = match text::bounded(reason, text::REASON_MAX) {
                Ok(r) => r,
                Err(Bounds::Empty) => return Err(UserError::ReasonRequired),
                Err(Bounds::TooLong { len }) => {
                    return Err(UserError::ReasonTooLong {
                        len,
                        max: text::REASON_MAX,
                    });
                }
            };
            vec![EventKind::Escalated {
                reason,
                key: key.clone(),
                target: target.clone(),
                to: *to,
            }]
        }
        Command::LinkPage {
            key,
            channel,
            message,
        } => vec![EventKind::PageDelivered {
            key: key.clone(),
            channel: *channel,
            message: *message,
        }],
        // Recorded once per page: the request carries the page's key.
        Command::Alert(change) => super::monitor::decide(task, change),
        Command::PageFailed { key, reason } => vec![EventKind::PageFailed {
            key: key.clone(),
            reason: text::bounded(reason, text::REASON_MAX)
                .unwrap_or_else(|_| "undeliverable".to_owned()),
        }],
        Command::Snooze { minutes } => {
            if handling != Side::Msp || status != Status::New || task.assignee.is_some() {
                return Err(UserError::Unchanged);
            }
            let until = now
                .checked_add(jiff::SignedDuration::from_mins(i64::from(*minutes)))
                .map_err(|_| UserError::Unchanged)?;
            vec![EventKind::Snoozed { until }]
        }
        Command::RecordSla {
            as_of,
            alerts,
            pages,
        } => {
            if *as_of != task.version || alerts.is_empty() {
                return Err(UserError::Unchanged);
            }
            let waiting = handling == Side::Msp && status == Status::New && task.assignee.is_none();
            let pages = pages.iter().filter(|_| waiting);
            alerts
                .iter()
                .map(super::sla::SlaAlert::event)
                .chain(pages.map(super::escalation::PageOrder::event))
                .collect()
        }
    };
    Ok(events)
}
