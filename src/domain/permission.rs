//! Who may do what to which task.
//!
//! The rules, in the product's spirit: anyone of the company may ask and
//! comment; the side whose task it is does the work; the IT manager keeps
//! the company's territory (approvals, handing work back, cancelling); the
//! requester may follow up, close and reopen their own request; and nobody
//! ever touches another client's task.
//!
//! `authorize` says only who, never when (the command checks the task's state). An
//! actor who does not serve the task's client is refused with `UserError::OtherClient`,
//! which reads as an unknown task: another client's task is never confirmed to exist.

use super::error::UserError;
use super::people::{Actor, Side};
use super::task::{Status, Task, Visibility};

/// Something a person wants to do to an existing task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    View,
    Claim,
    Unclaim,
    Assign,
    Comment(Visibility),
    /// Move to a working status (in progress, waiting, resolved).
    Work,
    SetPriority,
    SetDue,
    Retitle,
    Handoff,
    DecideApproval,
    Reopen,
    Close,
    Cancel,
    LinkChat,
    /// Acknowledge an escalation (stop the paging).
    Acknowledge,
}

impl Action {
    /// Every action, for table-driven tests and documentation.
    pub const ALL: [Action; 17] = [
        Action::View,
        Action::Claim,
        Action::Unclaim,
        Action::Assign,
        Action::Comment(Visibility::Shared),
        Action::Comment(Visibility::Side(super::Side::Internal)),
        Action::Comment(Visibility::Side(super::Side::Msp)),
        Action::Work,
        Action::SetPriority,
        Action::SetDue,
        Action::Retitle,
        Action::Handoff,
        Action::DecideApproval,
        Action::Reopen,
        Action::Close,
        Action::Cancel,
        Action::Acknowledge,
    ];
}

/// Whether `actor` may do `action` to `task`. Only who, never when: whether
/// the task's status allows it is the command's business.
pub fn authorize(actor: &Actor, action: Action, task: &Task) -> Result<(), UserError> {
    if !actor.serves(task.id.client()) {
        return Err(UserError::OtherClient);
    }
    let handling = task.handling_side;
    let is_requester = actor.person == task.requester;
    let handles = actor.works_for(handling);
    let manager = actor.is_it_manager();
    let staff_only = || {
        if handles {
            Ok(())
        } else {
            Err(UserError::NotStaffOf { side: handling })
        }
    };
    let requester_or_staff = || {
        if is_requester || handles || manager {
            Ok(())
        } else {
            Err(UserError::NotRequesterOrStaff)
        }
    };
    match action {
        Action::View | Action::LinkChat | Action::Comment(Visibility::Shared) => Ok(()),
        Action::Comment(Visibility::Side(side)) => {
            if actor.works_for(side) {
                Ok(())
            } else {
                Err(UserError::NoteNotYourSide { side })
            }
        }
        Action::Claim | Action::Assign | Action::Work => staff_only(),
        Action::Unclaim => {
            if task.assignee == Some(actor.person) || actor.leads(handling) {
                Ok(())
            } else {
                Err(UserError::NotAssignee)
            }
        }
        Action::Handoff => {
            if handles || manager {
                Ok(())
            } else {
                Err(UserError::NotStaffOf { side: handling })
            }
        }
        Action::DecideApproval => {
            if manager {
                Ok(())
            } else {
                Err(UserError::OnlyItManager)
            }
        }
        Action::SetPriority | Action::SetDue | Action::Retitle | Action::Reopen | Action::Close => {
            requester_or_staff()
        }
        Action::Acknowledge => {
            if actor.works_for(Side::Msp) {
                Ok(())
            } else {
                Err(UserError::NotStaffOf { side: Side::Msp })
            }
        }
        Action::Cancel => {
            if is_requester || manager || actor.leads(handling) {
                Ok(())
            } else {
                Err(UserError::NotRequesterOrStaff)
            }
        }
    }
}

/// Whether a status change is work on the task (the handling side's) rather
/// than closing or cancelling it.
pub fn action_for_status(to: Status) -> Action {
    match to {
        Status::Closed => Action::Close,
        Status::Cancelled => Action::Cancel,
        Status::Claimed => Action::Claim,
        Status::New => Action::Unclaim,
        Status::InProgress
        | Status::WaitingOnRequester
        | Status::WaitingOnOtherSide
        | Status::Resolved => Action::Work,
    }
}
