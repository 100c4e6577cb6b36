//! What the digests and the SLA clocks need from a task's history, kept in
//! the task by the fold (`Task::apply`), so that they read snapshots only.
//!
//! [`Facts`] is part of [`Task`] and, like the rest of it, exactly the fold
//! of the task's events (the store's integrity check and the property tests
//! compare snapshot and fold). It holds no business time: the SLA clocks
//! are measured when they are read, from the [`Move`]s and the client's
//! calendar of that moment, so a calendar changed in the configuration is
//! honoured.
//!
//! What it keeps, a few entries per task:
//! - whose move it was over time ([`Move`]s: where each stretch of
//!   `sla::timeline` starts, its holder and handling side; a stretch ends
//!   where the next one starts);
//! - when each side first responded (`sla::is_response`);
//! - when the task was acknowledged (escalations), and the latest time it
//!   was resolved, closed or cancelled;
//! - the latest shared comment, and each side's latest internal note when
//!   it is newer than that comment (the latest comment a side may see).
//!
//! The readers: `app::digests::for_each_client_task`, `app::personal_digests::build`
//! and `app::report::client_report` read snapshots, never histories. A store written before
//! facts existed has every snapshot folded again from its events once, when it is
//! opened (`snapshot_facts_v1` in `meta`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::event::{Event, EventKind};
use super::people::{Audience, Side};
use super::sla::{Holder, Stretch, is_response};
use super::task::{Status, Task, Visibility};

/// The history-derived part of a task (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// Whose move it was, from creation on: never empty for a folded task,
    /// never two in a row with the same holder and handling side.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Move>,
    /// When each side (by `Side as usize`) first responded.
    #[serde(default, skip_serializing_if = "no_times")]
    pub responded: [Option<Timestamp>; 2],
    /// When each `acknowledged` event happened, in history order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<Timestamp>,
    /// The latest time of a status change to resolved, closed or cancelled
    /// (kept after a reopen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// The latest shared comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_shared: Option<String>,
    /// Each side's latest internal note, only while it is newer than
    /// `last_shared`.
    #[serde(default, skip_serializing_if = "no_notes")]
    pub last_note: [Option<String>; 2],
    /// For the chart: when the task last became finished and how, if it
    /// still is (the latest status change, unless a reopen or a change to
    /// an open status came after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<(Timestamp, Status)>,
    /// The latest time of any event, only when it is later than the last
    /// event's (a writer's clock ahead of the next one's); otherwise that
    /// is `Task::updated_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<Timestamp>,
}

fn no_times(t: &[Option<Timestamp>; 2]) -> bool {
    t.iter().all(Option::is_none)
}

fn no_notes(n: &[Option<String>; 2]) -> bool {
    n.iter().all(Option::is_none)
}

/// The start of a stretch of whose move it is (stored as
/// `["2026-12-01T07:30:00Z", "msp", "msp"]`: from, holder, handling side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "MoveRepr", into = "MoveRepr")]
pub struct Move {
    pub from: Timestamp,
    pub holder: Holder,
    pub handling: Side,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum HolderTag {
    Internal,
    Msp,
    Requester,
    Nobody,
}

#[derive(Serialize, Deserialize)]
struct MoveRepr(Timestamp, HolderTag, Side);

impl From<Move> for MoveRepr {
    fn from(m: Move) -> Self {
        let tag = match m.holder {
            Holder::Side(Side::Internal) => HolderTag::Internal,
            Holder::Side(Side::Msp) => HolderTag::Msp,
            Holder::Requester => HolderTag::Requester,
            Holder::Nobody => HolderTag::Nobody,
        };
        MoveRepr(m.from, tag, m.handling)
    }
}

impl From<MoveRepr> for Move {
    fn from(MoveRepr(from, tag, handling): MoveRepr) -> Self {
        let holder = match tag {
            HolderTag::Internal => Holder::Side(Side::Internal),
            HolderTag::Msp => Holder::Side(Side::Msp),
            HolderTag::Requester => Holder::Requester,
            HolderTag::Nobody => Holder::Nobody,
        };
        Move {
            from,
            holder,
            handling,
        }
    }
}

impl Facts {
    /// The facts of a task just created at `at`.
    pub(crate) fn created(task: &Task, at: Timestamp) -> Facts {
        Facts {
            moves: vec![Move {
                from: at,
                holder: Holder::of(task),
                handling: task.handling_side,
            }],
            ..Facts::default()
        }
    }

    /// Takes in `event`: `before` is the handling side before it, `holder`
    /// and `handling` the task's after it.
    pub(crate) fn record(&mut self, event: &Event, before: Side, holder: Holder, handling: Side) {
        if is_response(event) && self.responded[before as usize].is_none() {
            self.responded[before as usize] = Some(event.at);
        }
        match &event.kind {
            EventKind::StatusChanged { to, .. } => {
                self.finish = (!to.is_open()).then_some((event.at, *to));
            }
            EventKind::Reopened { .. } => self.finish = None,
            _ => {}
        }
        match &event.kind {
            EventKind::Acknowledged => self.acknowledged.push(event.at),
            EventKind::StatusChanged {
                to: Status::Resolved | Status::Closed | Status::Cancelled,
                ..
            } => {
                self.finished_at = Some(self.finished_at.map_or(event.at, |f| f.max(event.at)));
            }
            EventKind::Commented { body, visibility } => match visibility {
                Visibility::Shared => {
                    self.last_shared = Some(body.clone());
                    self.last_note = [None, None];
                }
                Visibility::Side(side) => self.last_note[*side as usize] = Some(body.clone()),
            },
            _ => {}
        }
        self.record_move(event.at, holder, handling);
    }

    /// The same rules as `sla::timeline`: a new stretch when the holder or
    /// the handling side changes; an instant earlier than the last start
    /// counts as that instant; a stretch that did not last is dropped (and
    /// the one before resumes if it had the same holder).
    fn record_move(&mut self, at: Timestamp, holder: Holder, handling: Side) {
        let same = |m: &Move| m.holder == holder && m.handling == handling;
        let next = Move {
            from: at,
            holder,
            handling,
        };
        let Some(last) = self.moves.last() else {
            self.moves.push(next);
            return;
        };
        if same(last) {
            return;
        }
        let at = at.max(last.from);
        if last.from == at {
            self.moves.pop();
            if self.moves.last().is_some_and(same) {
                return;
            }
        }
        self.moves.push(Move { from: at, ..next });
    }

    /// Whose move it was over time, as `sla::timeline` gives it.
    pub fn stretches(&self) -> Vec<Stretch> {
        let mut out: Vec<Stretch> = Vec::with_capacity(self.moves.len());
        for m in &self.moves {
            if let Some(prev) = out.last_mut() {
                prev.to = Some(m.from);
            }
            out.push(Stretch {
                from: m.from,
                to: None,
                holder: m.holder,
                handling: m.handling,
            });
        }
        out
    }

    /// Takes in the time of an event that follows one at `before` (the
    /// task's `updated_at` before it).
    pub(crate) fn record_time(&mut self, before: Timestamp, at: Timestamp) {
        let latest = self.latest.unwrap_or(before).max(at);
        self.latest = (latest > at).then_some(latest);
    }

    /// The latest time of any event of a task last changed at `updated_at`.
    pub fn latest_at(&self, updated_at: Timestamp) -> Timestamp {
        self.latest.unwrap_or(updated_at)
    }

    /// The latest comment `audience` may see: a side's staff its own
    /// latest note if newer, requesters only shared comments.
    pub fn last_comment(&self, audience: Audience) -> Option<&str> {
        let note = match audience {
            Audience::Staff(side) => self.last_note[side as usize].as_deref(),
            Audience::Requesters => None,
        };
        note.or(self.last_shared.as_deref())
    }

    /// The task became resolved, closed or cancelled after `since`.
    pub fn finished_after(&self, since: Timestamp) -> bool {
        self.finished_at.is_some_and(|at| at > since)
    }

    /// It was acknowledged after `since` and at or before `now`.
    pub fn acknowledged_within(&self, since: Timestamp, now: Timestamp) -> bool {
        self.acknowledged.iter().any(|&at| at > since && at <= now)
    }
}
