//! The pure core of Ponte: tasks, their events, routing and permissions.
//!
//! Nothing in here knows about Discord, sled, the network, the async runtime or
//! the wall clock. Functions that need the time take `now` as an argument, so
//! every rule can be tested with plain values.
//!
//! `tests/layers.rs` checks that nothing here imports from outside `domain`.

pub mod bridge;
pub mod calendar;
pub mod command;
pub mod digest;
pub mod due;
pub mod duplicate;
pub mod effect;
pub mod error;
pub mod escalation;
pub mod event;
pub mod ids;
pub mod monitor;
pub mod oncall;
pub mod pager_sync;
pub mod people;
pub mod period;
pub mod permission;
pub mod routing;
pub mod sla;
pub mod task;
pub mod text;
pub mod understand;
// Issue 6: the digest chart's numbers.
pub mod chart;
// Snapshot-only digests: the history-derived facts the fold keeps.
pub mod facts;

pub use calendar::{BusinessCalendar, CalendarError};
pub use command::{Command, NewTask, decide, decide_create, is_proposal};
pub use error::UserError;
pub use event::{Attachment, Event, EventKind, Who};
pub use ids::{ClientKey, PersonId, TaskId};
pub use people::{Actor, Audience, ClientScope, Role, RoleSet, Side};
pub use routing::{
    ApprovalWhy, Category, CategoryRule, ClientRouting, RouteDecision, RouteInput, RouteReason,
    SideChoice,
};
pub use task::{Approval, ChatRef, Priority, Status, Task, Visibility};

#[cfg(test)]
mod tests;
