//! Digests: what a side of a client needs to know in the morning, built
//! from task snapshots at `now` (what the digest needs of the histories,
//! the fold keeps in `Task::facts`). Pure: the caller reads the store and
//! says since when (the last digest) and for whom.
//!
//! A digest for `side` shows: tasks created since the last digest, tasks
//! closed (resolved, closed or cancelled) since then, open tasks grouped by
//! whose move it is with their age, SLA clocks at risk and breached,
//! escalations acknowledged since then, approvals waiting, and who is
//! waiting on whom ("waiting on you", naming the assignee or the
//! requester). The only free text it carries is each open task's latest
//! comment its reader may see (`DigestSpec::reader`): an internal note of
//! the other side never appears in it, nor any note for a requester.
//!
//! A digest reads tasks through [`Source`]: a `Task` answers from its `facts`; in the
//! tests a [`Tracked`] task answers from its history the old way, the oracle of
//! `digest/snapshot_tests.rs`. [`Builder`] takes tasks one at a time (the caller reads
//! open tasks a page at a time, so memory does not grow with them); [`build`] is the
//! one-call form. [`LeadDigest`] is the MSP lead's: the MSP side of every client.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::calendar::BusinessCalendar;
use super::event::Event;
#[cfg(test)]
use super::event::EventKind;
use super::ids::{ClientKey, PersonId, TaskId};
use super::people::{Audience, Side};
use super::sla::{ClockState, Holder, SideSla, SlaTargets, side_clocks_of};
use super::task::{Approval, Priority, Status, Task};

/// A task and its history, as read from the store.
#[derive(Clone, Debug)]
pub struct Tracked {
    pub task: Task,
    pub events: Vec<Event>,
}

/// What a digest reads of a task. A snapshot ([`Task`]) has it all in
/// `Task::facts`; in the tests, a [`Tracked`] task answers the same from
/// its history, the way digests were built before (the oracle that the
/// two agree).
pub trait Source {
    fn task(&self) -> &Task;
    /// The latest comment `audience` may see.
    fn last_comment(&self, audience: Audience) -> Option<&str>;
    /// It became resolved, closed or cancelled after `since`.
    fn finished_after(&self, since: Timestamp) -> bool;
    /// It was acknowledged after `since`, at or before `now`.
    fn acknowledged_within(&self, since: Timestamp, now: Timestamp) -> bool;
    /// The SLA clocks of `side` at `now` (`None` for a side that never
    /// handled or held it, or a history that does not fold).
    fn side_clocks(
        &self,
        side: Side,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SideSla>;
}

impl Source for Task {
    fn task(&self) -> &Task {
        self
    }

    fn last_comment(&self, audience: Audience) -> Option<&str> {
        self.facts.last_comment(audience)
    }

    fn finished_after(&self, since: Timestamp) -> bool {
        self.facts.finished_after(since)
    }

    fn acknowledged_within(&self, since: Timestamp, now: Timestamp) -> bool {
        self.facts.acknowledged_within(since, now)
    }

    fn side_clocks(
        &self,
        side: Side,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SideSla> {
        side_clocks_of(self, side, targets, calendar, now)
    }
}

/// The history way (tests only): what digests read before the snapshot
/// kept the facts, computed from the events as it was then.
#[cfg(test)]
impl Source for Tracked {
    fn task(&self) -> &Task {
        &self.task
    }

    fn last_comment(&self, audience: Audience) -> Option<&str> {
        self.events.iter().rev().find_map(|e| match &e.kind {
            EventKind::Commented { body, visibility } if visibility.visible_to(audience) => {
                Some(body.as_str())
            }
            _ => None,
        })
    }

    fn finished_after(&self, since: Timestamp) -> bool {
        self.events.iter().rev().any(|e| {
            e.at > since
                && matches!(
                    e.kind,
                    EventKind::StatusChanged {
                        to: Status::Resolved | Status::Closed | Status::Cancelled,
                        ..
                    }
                )
        })
    }

    fn acknowledged_within(&self, since: Timestamp, now: Timestamp) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Acknowledged) && e.at > since && e.at <= now)
    }

    fn side_clocks(
        &self,
        side: Side,
        targets: &SlaTargets,
        calendar: &BusinessCalendar,
        now: Timestamp,
    ) -> Option<SideSla> {
        super::sla::clocks_from_history(&self.events, targets, calendar, now)
            .ok()?
            .side(side)
            .cloned()
    }
}

/// One task in a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: TaskId,
    pub title: String,
    pub priority: Priority,
    pub status: Status,
    /// Since the task was created (wall-clock time).
    pub age: SignedDuration,
    pub assignee: Option<PersonId>,
    /// The latest comment the reader's side may see, if any.
    pub last_comment: Option<String>,
}

/// An SLA clock of the reader's side that needs attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaLine {
    pub line: Line,
    /// First response (`true`) or resolution.
    pub first_response: bool,
    pub percent_used: u32,
    /// When it breached, or will breach if nothing changes.
    pub breach_at: Option<Timestamp>,
}

/// The digest of one side of one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub client: ClientKey,
    pub side: Side,
    pub since: Option<Timestamp>,
    pub now: Timestamp,
    pub new: Vec<Line>,
    pub closed: Vec<Line>,
    /// Open tasks by whose move it is; the reader's side first.
    pub open: Vec<(Holder, Vec<Line>)>,
    pub at_risk: Vec<SlaLine>,
    pub breached: Vec<SlaLine>,
    /// Tasks whose escalation was acknowledged since the last digest.
    pub escalations: Vec<Line>,
    /// Tasks waiting for the IT manager's approval.
    pub approvals: Vec<Line>,
    /// Who has tasks waiting on them: assignees of the reader's side's
    /// moves (or nobody, `None`, for unassigned ones) and requesters.
    pub waiting_on: Vec<(Option<PersonId>, Vec<TaskId>)>,
}

impl Digest {
    /// Nothing happened and nothing is open.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.closed.is_empty() && self.open.is_empty()
    }

    /// How many tasks are open.
    pub fn open_count(&self) -> usize {
        self.open.iter().map(|(_, l)| l.len()).sum()
    }
}

/// What a digest is built with.
#[derive(Clone, Copy)]
pub struct DigestSpec<'a> {
    pub client: &'a ClientKey,
    pub side: Side,
    /// Who reads it: the side's staff (the digest channel), or a
    /// requester previewing it (no internal note at all).
    pub reader: Audience,
    /// The last digest's time; `None` for the first one (then the last
    /// 24 hours count as new).
    pub since: Option<Timestamp>,
    pub now: Timestamp,
    pub targets: &'a SlaTargets,
    pub calendar: &'a BusinessCalendar,
}

/// Builds the digest of `spec.side` for `spec.client` from `tasks` (other
/// clients' tasks are ignored): snapshots, read from the store without
/// their histories.
pub fn build<'t, T: Source + 't>(
    spec: &DigestSpec<'_>,
    tasks: impl IntoIterator<Item = &'t T>,
) -> Digest {
    let mut builder = Builder::new(*spec);
    for tracked in tasks {
        builder.add(tracked);
    }
    builder.finish()
}

/// A digest built a task at a time, in any order: [`build`] for a list;
/// the store's pages feed it so that no more than a page of snapshots is
/// held at once (`crate::app::digests::client_digest`).
pub struct Builder<'a> {
    spec: DigestSpec<'a>,
    /// Tasks created after this are new.
    since: Timestamp,
    digest: Digest,
    open: BTreeMap<u8, (Holder, Vec<Line>)>,
    waiting: BTreeMap<Option<u64>, Vec<TaskId>>,
}

impl<'a> Builder<'a> {
    pub fn new(spec: DigestSpec<'a>) -> Self {
        let since = spec
            .since
            .unwrap_or_else(|| spec.now - SignedDuration::from_hours(24));
        Self {
            digest: Digest {
                client: spec.client.clone(),
                side: spec.side,
                since: spec.since,
                now: spec.now,
                new: Vec::new(),
                closed: Vec::new(),
                open: Vec::new(),
                at_risk: Vec::new(),
                breached: Vec::new(),
                escalations: Vec::new(),
                approvals: Vec::new(),
                waiting_on: Vec::new(),
            },
            spec,
            since,
            open: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// Counts one task in (another client's is ignored).
    pub fn add(&mut self, tracked: &impl Source) {
        let task = tracked.task();
        if task.id.client() != self.spec.client {
            return;
        }
        let line = line(tracked, self.spec.reader, self.spec.now);
        let involved = task.handling_side == self.spec.side || task.asking_side == self.spec.side;
        if task.created_at > self.since && task.created_at <= self.spec.now && involved {
            self.digest.new.push(line.clone());
        }
        if !task.status.is_open() {
            if involved && tracked.finished_after(self.since) {
                self.digest.closed.push(line);
            }
            return;
        }
        let holder = Holder::of(task);
        let mine = holder == Holder::Side(self.spec.side);
        if involved || mine {
            let rank = match holder {
                Holder::Side(s) if s == self.spec.side => 0,
                Holder::Side(_) => 1,
                Holder::Requester => 2,
                Holder::Nobody => 3,
            };
            self.open
                .entry(rank)
                .or_insert_with(|| (holder, Vec::new()))
                .1
                .push(line.clone());
        }
        if mine {
            // The assignee is the handling side's: while the other side is
            // waited on (or asked for approval), nobody there is named yet.
            let who = task
                .assignee
                .filter(|_| task.handling_side == self.spec.side);
            self.waiting
                .entry(who.map(|p| p.0))
                .or_default()
                .push(task.id.clone());
        } else if holder == Holder::Requester && task.asking_side == self.spec.side {
            self.waiting
                .entry(Some(task.requester.0))
                .or_default()
                .push(task.id.clone());
        }
        if matches!(task.approval, Approval::Pending { .. }) && involved {
            self.digest.approvals.push(line.clone());
        }
        if involved && tracked.acknowledged_within(self.since, self.spec.now) {
            self.digest.escalations.push(line.clone());
        }
        if let Some(sla) = tracked.side_clocks(
            self.spec.side,
            self.spec.targets,
            self.spec.calendar,
            self.spec.now,
        ) {
            let candidates = sla
                .first_response
                .iter()
                .map(|c| (true, c))
                .chain([(false, &sla.resolution)]);
            for (first_response, clock) in candidates {
                if clock.stopped_at.is_some() {
                    continue;
                }
                let entry = SlaLine {
                    line: line.clone(),
                    first_response,
                    percent_used: clock.percent_used,
                    breach_at: clock.breach_at,
                };
                match clock.state {
                    ClockState::Breached => self.digest.breached.push(entry),
                    ClockState::AtRisk => self.digest.at_risk.push(entry),
                    ClockState::Ok => {}
                }
            }
        }
    }

    /// The digest, each list in its order (whatever the order of the tasks).
    pub fn finish(self) -> Digest {
        let mut digest = self.digest;
        digest.open = self.open.into_values().collect();
        for (_, lines) in &mut digest.open {
            // Most urgent, then oldest; then by number, so that the order
            // of the tasks given does not matter.
            lines.sort_by(|a, b| {
                (a.priority, b.age, a.id.number()).cmp(&(b.priority, a.age, b.id.number()))
            });
        }
        for list in [
            &mut digest.new,
            &mut digest.closed,
            &mut digest.escalations,
            &mut digest.approvals,
        ] {
            list.sort_by_key(|l| l.id.number());
        }
        for list in [&mut digest.at_risk, &mut digest.breached] {
            list.sort_by(|a, b| {
                (a.breach_at, a.line.id.number()).cmp(&(b.breach_at, b.line.id.number()))
            });
        }
        digest.waiting_on = self
            .waiting
            .into_iter()
            .map(|(who, mut ids)| {
                ids.sort_by_key(TaskId::number);
                (who.map(PersonId), ids)
            })
            .collect();
        digest
    }
}

fn line(tracked: &impl Source, reader: Audience, now: Timestamp) -> Line {
    let task = tracked.task();
    Line {
        id: task.id.clone(),
        title: task.title.clone(),
        priority: task.priority,
        status: task.status,
        age: now.duration_since(task.created_at),
        assignee: task.assignee,
        last_comment: tracked.last_comment(reader).map(str::to_owned),
    }
}

/// The MSP lead's digest: the MSP side's digest of every client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadDigest {
    pub now: Timestamp,
    pub clients: Vec<Digest>,
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
pub(crate) mod snapshot_tests;

/// A person's own digest (issue 6, `/digest subscribe`).
pub mod personal;
