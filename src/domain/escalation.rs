//! Escalation: who is paged, when, for an urgent task nobody picked up.
//!
//! The rules are pure functions of a task's history and `now`:
//! - [`escalation_of`] reads a task's events and says since when it waits for
//!   the MSP to pick it up, and whether (and when) that wait ended: an
//!   acknowledgement (a claim, an assignment, a status change, an explicit
//!   `acknowledged` event) or a stop (resolved, cancelled, closed, handed back
//!   to internal IT, priority lowered out of the paging set).
//! - [`due_pages`] says which pages of a [`Policy`] are due at `now` and not
//!   sent yet; [`next_page_at`] says when to look again.
//! - Every page has a [`PageKey`]: the task, the event that started the
//!   escalation, the round and the step. The caller records a key once the
//!   page is in the outbox; after a restart, the keys already recorded are
//!   passed back in and nothing is paged twice.
//!
//! - [`PagingRules`] say which priorities escalate and which page outside contract
//!   hours ([`PagingRules::pages_now`]); a [`Maintenance`] window pages nobody.
//! - [`plan`] is what the escalation timer asks: the pages of a task due now and when
//!   to look again. The timer submits them as one `Command::Page` bound to the task's
//!   version, so a page is never recorded after the change that stops it.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::calendar::BusinessCalendar;
use super::event::{Event, EventKind};
use super::ids::{ClientKey, PersonId, TaskId};
use super::people::Side;
use super::task::{Priority, Status, Task};

/// Whom a step pages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// Whoever is on call in the schedule of this name.
    OnCall(String),
    Person(PersonId),
    /// A chat role (its id).
    Role(u64),
    /// A chat channel (its id).
    Channel(u64),
    /// An external pager, by its configured name.
    Pager(String),
}

/// One step of a policy: page `target` `after` the start of the round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Since the start of the round (for the first round, since the task
    /// became escalatable): the step's minute, not a delay since the step
    /// before. Steps are in order of `after`.
    pub after: SignedDuration,
    pub target: Target,
}

/// Steps paged in order, then the whole round again `repeat` more times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub steps: Vec<Step>,
    /// How many more rounds after the first (0: page each step once).
    pub repeat: u32,
    /// The pause between the last step of a round and the start of the next.
    pub repeat_after: SignedDuration,
}

/// Why a policy is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("an escalation policy needs at least one step")]
    NoSteps,
    #[error("step {step} of the escalation policy waits a negative time")]
    NegativeDelay { step: usize },
    #[error("step {step} of the escalation policy comes before the step before it")]
    OutOfOrder { step: usize },
    #[error("a repeating escalation policy needs a pause longer than zero before it repeats")]
    NoPauseBeforeRepeat,
}

impl Policy {
    /// The default for urgent tasks: the on-call at once, the secondary
    /// after 10 minutes, the MSP lead after 30. Not repeated.
    pub fn default_urgent(primary: &str, secondary: &str, lead: Target) -> Policy {
        Policy {
            steps: vec![
                Step {
                    after: SignedDuration::ZERO,
                    target: Target::OnCall(primary.to_owned()),
                },
                Step {
                    after: SignedDuration::from_mins(10),
                    target: Target::OnCall(secondary.to_owned()),
                },
                Step {
                    after: SignedDuration::from_mins(30),
                    target: lead,
                },
            ],
            repeat: 0,
            repeat_after: SignedDuration::from_mins(30),
        }
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.steps.is_empty() {
            return Err(PolicyError::NoSteps);
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.after.is_negative() {
                return Err(PolicyError::NegativeDelay { step: i });
            }
            if i > 0 && step.after < self.steps[i - 1].after {
                return Err(PolicyError::OutOfOrder { step: i });
            }
        }
        if self.repeat > 0 && !self.repeat_after.is_positive() {
            return Err(PolicyError::NoPauseBeforeRepeat);
        }
        Ok(())
    }

    /// The length of one round: its last step plus the pause.
    fn round_len(&self) -> SignedDuration {
        let last = self.steps.last().map_or(SignedDuration::ZERO, |s| s.after);
        last.saturating_add(self.repeat_after)
    }
}

/// Which priorities escalate, and which page outside contract hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagingRules {
    /// Tasks of these priorities handled by the MSP page when nobody picks
    /// them up.
    pub escalate: Vec<Priority>,
    /// These page at any hour; the others only within contract hours.
    pub around_the_clock: Vec<Priority>,
}

impl Default for PagingRules {
    fn default() -> Self {
        Self {
            escalate: vec![Priority::P1, Priority::P2],
            around_the_clock: vec![Priority::P1],
        }
    }
}

impl PagingRules {
    pub fn escalates(&self, priority: Priority) -> bool {
        self.escalate.contains(&priority)
    }

    /// Whether a page for a task of `priority` goes out now. The business
    /// calendar lives elsewhere: the caller says whether now is within
    /// contract hours.
    pub fn pages_now(&self, priority: Priority, is_business_time: bool) -> bool {
        self.escalates(priority) && (is_business_time || self.around_the_clock.contains(&priority))
    }
}

/// [`PagingRules::pages_now`] with the default rules: P1 pages at any hour,
/// P2 within contract hours, P3 and P4 never.
pub fn pages_now(priority: Priority, is_business_time: bool) -> bool {
    PagingRules::default().pages_now(priority, is_business_time)
}

/// A maintenance window of a client: no paging for its tasks while it lasts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub client: ClientKey,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Maintenance {
    pub fn active(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// One wait for a pick-up: since when a task is escalatable and how the wait
/// ended, if it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub task: TaskId,
    /// The `seq` of the event that made the task escalatable: it tells one
    /// wait from the next (after an unclaim or a reopen) in the page keys.
    pub since_seq: u32,
    pub started: Timestamp,
    pub acknowledged: Option<Timestamp>,
    /// Resolved, cancelled, closed, no longer the MSP's or no longer urgent,
    /// or a maintenance window started.
    pub stopped: Option<Timestamp>,
}

impl Escalation {
    /// When paging ends: the acknowledgement or the stop, whichever came first.
    pub fn end(&self) -> Option<Timestamp> {
        match (self.acknowledged, self.stopped) {
            (Some(a), Some(s)) => Some(a.min(s)),
            (a, s) => a.or(s),
        }
    }

    /// Applies the client's maintenance windows: a task that became
    /// escalatable during a window starts its escalation when the window
    /// ends; a window that starts during the escalation stops it (and it
    /// does not resume when the window ends). Windows of other clients are
    /// ignored.
    pub fn with_maintenance(mut self, windows: &[Maintenance]) -> Escalation {
        let mine: Vec<&Maintenance> = windows
            .iter()
            .filter(|w| &w.client == self.task.client() && w.from < w.to)
            .collect();
        while let Some(w) = mine.iter().find(|w| w.active(self.started)) {
            self.started = w.to;
        }
        let silenced = mine
            .iter()
            .map(|w| w.from)
            .filter(|from| *from > self.started)
            .min();
        if let Some(from) = silenced {
            self.stopped = Some(self.stopped.map_or(from, |s| s.min(from)));
        }
        self
    }
}

/// The idempotency key of a page.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PageKey {
    pub task: TaskId,
    pub since_seq: u32,
    pub round: u32,
    pub step: u32,
}

impl fmt::Display for PageKey {
    /// `page:ACME-42@1:r0:s2`: stable, usable as an outbox key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "page:{}@{}:r{}:s{}",
            self.task, self.since_seq, self.round, self.step
        )
    }
}

/// A page to send: to whom, and the instant it became due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub key: PageKey,
    pub target: Target,
    pub at: Timestamp,
}

/// Every page of the policy for this escalation, in order of time, up to
/// (excluding) its end.
pub fn planned_pages(policy: &Policy, escalation: &Escalation) -> Vec<Page> {
    let end = escalation.end();
    let round_len = policy.round_len();
    let mut out = Vec::new();
    for round in 0..=policy.repeat {
        let offset = round_len.saturating_mul(i32::try_from(round).unwrap_or(i32::MAX));
        let round_start = escalation
            .started
            .checked_add(offset)
            .unwrap_or(Timestamp::MAX);
        for (step, s) in policy.steps.iter().enumerate() {
            let at = round_start.checked_add(s.after).unwrap_or(Timestamp::MAX);
            if end.is_some_and(|end| at >= end) || at == Timestamp::MAX {
                return out;
            }
            out.push(Page {
                key: PageKey {
                    task: escalation.task.clone(),
                    since_seq: escalation.since_seq,
                    round,
                    step: step as u32,
                },
                target: s.target.clone(),
                at,
            });
        }
    }
    out
}

/// The pages due at `now` and not sent yet, oldest first. A page whose time
/// came while Ponte was down is still due (late rather than lost); a page at
/// or after the acknowledgement or the stop never is.
pub fn due_pages(
    policy: &Policy,
    escalation: &Escalation,
    already_sent: &[PageKey],
    now: Timestamp,
) -> Vec<Page> {
    planned_pages(policy, escalation)
        .into_iter()
        .filter(|p| p.at <= now && !already_sent.contains(&p.key))
        .collect()
}

/// When the next page not sent yet is due (possibly already, if it is at or
/// before `now`), or `None` when nothing more will be paged.
pub fn next_page_at(
    policy: &Policy,
    escalation: &Escalation,
    already_sent: &[PageKey],
) -> Option<Timestamp> {
    planned_pages(policy, escalation)
        .into_iter()
        .find(|p| !already_sent.contains(&p.key))
        .map(|p| p.at)
}

/// Whether the task counts for paging: urgent, the MSP's, still open, and
/// not waiting for the company's IT to approve (the MSP may not act yet).
fn escalatable(task: &Task, rules: &PagingRules) -> bool {
    rules.escalates(task.priority)
        && task.handling_side == Side::Msp
        && task.status.is_open()
        && !task.approval.blocks_msp()
}

/// Whether the task waits for the MSP to pick it up.
fn waiting(task: &Task, rules: &PagingRules) -> bool {
    escalatable(task, rules) && task.status == Status::New && task.assignee.is_none()
}

/// Whether an event is somebody picking the task up.
fn acknowledges(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Claimed { .. }
            | EventKind::Assigned { .. }
            | EventKind::StatusChanged { .. }
            | EventKind::Acknowledged
    )
}

/// The task's latest escalation, read from its history: it starts when the
/// task begins to wait for the MSP to pick it up (created, routed or handed
/// to the MSP, raised to an escalating priority, unclaimed, reopened without
/// an assignee) and ends at the first acknowledgement or stop. `None` when
/// the task never escalated or the history does not fold.
pub fn escalation_of(events: &[Event], rules: &PagingRules) -> Option<Escalation> {
    let (first, rest) = events.split_first()?;
    let mut task = Task::fold([first]).ok()?;
    let mut current: Option<Escalation> = None;
    let mut consider = |task: &Task, event: &Event, was_waiting: bool| {
        let active = current
            .as_ref()
            .is_some_and(|e| e.acknowledged.is_none() && e.stopped.is_none());
        if active {
            if let Some(e) = current.as_mut() {
                if acknowledges(&event.kind) {
                    e.acknowledged = Some(event.at);
                } else if !escalatable(task, rules) {
                    e.stopped = Some(event.at);
                }
            }
        } else if !was_waiting && waiting(task, rules) {
            current = Some(Escalation {
                task: task.id.clone(),
                since_seq: event.seq,
                started: event.at,
                acknowledged: None,
                stopped: None,
            });
        }
    };
    consider(&task, first, false);
    for event in rest {
        let was_waiting = waiting(&task, rules);
        task.apply(event).ok()?;
        consider(&task, event, was_waiting);
    }
    current
}

// Planning the pages of a task at `now` (issue 5, wired by the escalation
// timer): which pages to record, to whom, and when to look again.

/// How long after its time a page still counts as on time.
pub const LATE_AFTER: SignedDuration = SignedDuration::from_mins(2);

/// One page to record (as a `Paged` event) and send (as a `Page` effect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageOrder {
    pub key: PageKey,
    pub target: Target,
    /// The person paged: the step's person, or whoever is on call in the
    /// step's schedule at the time of the page.
    pub to: Option<PersonId>,
    /// Sent more than [`LATE_AFTER`] after its time.
    pub late: bool,
    /// Earlier overdue steps to the same target, not sent.
    pub skipped: Vec<PageKey>,
}

impl PageOrder {
    /// The event that records this page.
    pub fn event(&self) -> EventKind {
        EventKind::Paged {
            key: self.key.to_string(),
            round: self.key.round,
            step: self.key.step,
            target: self.target.clone(),
            to: self.to,
            late: self.late,
            skipped: self.skipped.iter().map(ToString::to_string).collect(),
        }
    }
}

/// What the escalation timer does for one task now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Pages due now and not recorded yet, in order of their time.
    pub orders: Vec<PageOrder>,
    /// When the next page not due yet falls due.
    pub next: Option<Timestamp>,
}

/// The rules a task's escalation follows.
#[derive(Clone, Copy, Debug)]
pub struct PlanRules<'a> {
    pub policy: &'a Policy,
    pub rules: &'a PagingRules,
    /// The client's contract hours: a priority that does not page at any
    /// hour starts its policy's clock at the next business opening.
    pub calendar: &'a BusinessCalendar,
    pub maintenance: &'a [Maintenance],
}

/// The pages of a task due at `now`, from its history.
///
/// - The policy's clock starts when the task began to wait for a pick-up
///   or, for a priority that does not page out of hours, at the client's
///   next business opening after that (a P3 at 22:00 waits until morning).
/// - An acknowledgement, a claim, a stop or a maintenance window ends it
///   (see [`escalation_of`], [`Escalation::with_maintenance`]).
/// - Pages already recorded (`Paged` events, and the steps they skipped) are
///   never planned again.
/// - A snooze moves every page before its end to its end.
/// - A page that failed for good (`PageFailed`) makes the next page not
///   sent yet due at the time of the failure.
/// - After an outage, each target gets only its latest overdue page, marked
///   late; the earlier ones are recorded as skipped.
///
/// `on_call` names who is on call in a schedule at `now`.
pub fn plan(
    events: &[Event],
    rules: PlanRules<'_>,
    on_call: &dyn Fn(&str) -> Option<PersonId>,
    now: Timestamp,
) -> Plan {
    let Some(mut escalation) = escalation_of(events, rules.rules) else {
        return Plan::default();
    };
    let Ok(task) = Task::fold(events) else {
        return Plan::default();
    };
    if !rules.rules.around_the_clock.contains(&task.priority) {
        escalation.started = rules.calendar.next_open(escalation.started);
    }
    let escalation = escalation.with_maintenance(rules.maintenance);
    let mut sent: Vec<String> = Vec::new();
    let mut snoozed: Option<Timestamp> = None;
    // A page that could not be delivered brings the next step forward.
    let mut failed: Option<Timestamp> = None;
    for event in events {
        match &event.kind {
            EventKind::Paged { key, skipped, .. } => {
                sent.push(key.clone());
                sent.extend(skipped.iter().cloned());
            }
            EventKind::Snoozed { until } if event.seq > escalation.since_seq => {
                snoozed = Some(snoozed.map_or(*until, |s| s.max(*until)));
            }
            EventKind::PageFailed { .. } if event.seq > escalation.since_seq => {
                failed = Some(event.at);
            }
            _ => {}
        }
    }
    let mut due: Vec<(Page, Timestamp)> = Vec::new();
    let mut next: Option<Timestamp> = None;
    for page in planned_pages(rules.policy, &escalation) {
        if sent.contains(&page.key.to_string()) {
            continue;
        }
        let planned = match failed.take() {
            Some(failed) => page.at.min(failed),
            None => page.at,
        };
        let at = snoozed.map_or(planned, |s| s.max(planned));
        if at <= now {
            due.push((page, at));
        } else {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    let mut orders: Vec<PageOrder> = Vec::new();
    for (page, at) in due {
        let late = now.duration_since(at) > LATE_AFTER;
        let to = match &page.target {
            Target::OnCall(name) => on_call(name),
            Target::Person(p) => Some(*p),
            _ => None,
        };
        if let Some(earlier) = orders.iter().position(|o| o.target == page.target) {
            let mut skipped = std::mem::take(&mut orders[earlier].skipped);
            skipped.push(orders.remove(earlier).key);
            orders.push(PageOrder {
                key: page.key,
                target: page.target,
                to,
                late: true,
                skipped,
            });
        } else {
            orders.push(PageOrder {
                key: page.key,
                target: page.target,
                to,
                late,
                skipped: Vec::new(),
            });
        }
    }
    Plan { orders, next }
}

/// Whether a task may be escalated by hand now: at most `max` times, and
/// not within `min_interval` of the last time. The number of this
/// escalation (1 for the first), for its key `escalate:ACME-42:1`.
pub fn manual_escalation(
    events: &[Event],
    max: u32,
    min_interval: SignedDuration,
    now: Timestamp,
) -> Result<u32, super::error::UserError> {
    let done: Vec<Timestamp> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Escalated { .. }))
        .map(|e| e.at)
        .collect();
    let too_soon = done
        .last()
        .is_some_and(|last| now.duration_since(*last) < min_interval);
    let count = u32::try_from(done.len()).unwrap_or(u32::MAX);
    if count >= max || too_soon {
        return Err(super::error::UserError::EscalateLimit {
            max: max as usize,
            minutes: usize::try_from(min_interval.as_mins()).unwrap_or(0),
        });
    }
    Ok(count + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Who;
    use crate::domain::routing::RouteReason;

    const ENGINEER: PersonId = PersonId(5);
    const LEAD_ROLE: u64 = 900;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }

    fn acme() -> ClientKey {
        ClientKey::new("ACME").unwrap()
    }

    fn id() -> TaskId {
        TaskId::new(acme(), 42)
    }

    /// 03:00 on a Sunday: out of hours.
    fn start() -> Timestamp {
        t("2026-03-29T01:00:00Z")
    }

    fn policy() -> Policy {
        Policy::default_urgent("primary", "secondary", Target::Role(LEAD_ROLE))
    }

    fn waiting_since(started: Timestamp) -> Escalation {
        Escalation {
            task: id(),
            since_seq: 1,
            started,
            acknowledged: None,
            stopped: None,
        }
    }

    fn targets(pages: &[Page]) -> Vec<(u32, u32, Target)> {
        pages
            .iter()
            .map(|p| (p.key.round, p.key.step, p.target.clone()))
            .collect()
    }

    #[test]
    fn the_default_policy_pages_each_step_at_its_minute_and_not_before() {
        let p = policy();
        p.validate().unwrap();
        let e = waiting_since(start());
        let at = |m| due_pages(&p, &e, &[], start() + mins(m));
        let on_call = (0, 0, Target::OnCall("primary".into()));
        let secondary = (0, 1, Target::OnCall("secondary".into()));
        let lead = (0, 2, Target::Role(LEAD_ROLE));
        assert!(due_pages(&p, &e, &[], start() - SignedDuration::from_secs(1)).is_empty());
        assert_eq!(targets(&at(0)), vec![on_call.clone()]);
        assert_eq!(targets(&at(9)), vec![on_call.clone()]);
        let almost = start() + mins(10) - SignedDuration::from_secs(1);
        assert_eq!(due_pages(&p, &e, &[], almost).len(), 1);
        assert_eq!(targets(&at(10)), vec![on_call.clone(), secondary.clone()]);
        assert_eq!(targets(&at(29)).len(), 2);
        assert_eq!(targets(&at(30)), vec![on_call, secondary, lead]);
        assert_eq!(targets(&at(600)).len(), 3, "no repeat by default");
        let pages = at(30);
        assert_eq!(pages[1].at, start() + mins(10));
        assert_eq!(pages[2].at, start() + mins(30));
        assert_eq!(pages[2].key.to_string(), "page:ACME-42@1:r0:s2");
    }

    #[test]
    fn pages_already_sent_are_not_due_again_and_the_timer_points_at_the_next() {
        let p = policy();
        let e = waiting_since(start());
        let first = due_pages(&p, &e, &[], start());
        let sent: Vec<PageKey> = first.iter().map(|p| p.key.clone()).collect();
        assert!(due_pages(&p, &e, &sent, start() + mins(5)).is_empty());
        assert_eq!(next_page_at(&p, &e, &sent), Some(start() + mins(10)));
        assert_eq!(next_page_at(&p, &e, &[]), Some(start()));
    }

    #[test]
    fn a_restart_in_the_middle_fires_the_next_step_once_at_its_time() {
        let p = policy();
        let e = waiting_since(start());
        // Before the restart: the on-call and the secondary were paged.
        let mut sent: Vec<PageKey> = due_pages(&p, &e, &[], start() + mins(12))
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(sent.len(), 2);
        // After the restart, with the recorded keys: nothing until minute 30.
        assert!(due_pages(&p, &e, &sent, start() + mins(20)).is_empty());
        assert_eq!(next_page_at(&p, &e, &sent), Some(start() + mins(30)));
        let lead = due_pages(&p, &e, &sent, start() + mins(30));
        assert_eq!(targets(&lead), vec![(0, 2, Target::Role(LEAD_ROLE))]);
        sent.extend(lead.into_iter().map(|p| p.key));
        assert!(due_pages(&p, &e, &sent, start() + mins(31)).is_empty());
        assert!(due_pages(&p, &e, &sent, start() + mins(3000)).is_empty());
        assert_eq!(next_page_at(&p, &e, &sent), None);
    }

    #[test]
    fn nothing_is_due_after_an_acknowledgement_or_a_stop() {
        let p = policy();
        let acked = Escalation {
            acknowledged: Some(start() + mins(12)),
            ..waiting_since(start())
        };
        let pages = due_pages(&p, &acked, &[], start() + mins(60));
        assert_eq!(pages.len(), 2, "the lead is never paged");
        let sent: Vec<PageKey> = pages.into_iter().map(|p| p.key).collect();
        assert_eq!(next_page_at(&p, &acked, &sent), None);
        // Acknowledged at the very minute of a step: that step is not paged.
        let on_the_minute = Escalation {
            acknowledged: Some(start() + mins(10)),
            ..waiting_since(start())
        };
        assert_eq!(
            due_pages(&p, &on_the_minute, &[], start() + mins(60)).len(),
            1
        );
        let resolved = Escalation {
            stopped: Some(start() + mins(5)),
            ..waiting_since(start())
        };
        assert_eq!(due_pages(&p, &resolved, &[], start() + mins(60)).len(), 1);
    }

    #[test]
    fn repeats_run_the_whole_policy_again_up_to_the_count() {
        let p = Policy {
            repeat: 2,
            repeat_after: mins(15),
            ..policy()
        };
        p.validate().unwrap();
        let e = waiting_since(start());
        let all = due_pages(&p, &e, &[], start() + mins(10_000));
        assert_eq!(all.len(), 9, "three rounds of three steps");
        let times: Vec<SignedDuration> = all.iter().map(|p| p.at.duration_since(start())).collect();
        assert_eq!(
            times,
            [0, 10, 30, 45, 55, 75, 90, 100, 120].map(mins).to_vec()
        );
        assert_eq!(all[3].key.round, 1);
        assert_eq!(all[3].key.step, 0);
        assert_eq!(all[8].key.to_string(), "page:ACME-42@1:r2:s2");
        let keys: Vec<PageKey> = all.iter().map(|p| p.key.clone()).collect();
        assert_eq!(next_page_at(&p, &e, &keys), None);
        // Round 1 starts at minute 45, not before.
        assert_eq!(due_pages(&p, &e, &[], start() + mins(44)).len(), 3);
        assert_eq!(due_pages(&p, &e, &[], start() + mins(45)).len(), 4);
    }

    #[test]
    fn invalid_policies_are_refused() {
        let mut p = policy();
        p.steps.swap(1, 2);
        assert_eq!(p.validate(), Err(PolicyError::OutOfOrder { step: 2 }));
        let mut p = policy();
        p.steps[0].after = mins(-1);
        assert_eq!(p.validate(), Err(PolicyError::NegativeDelay { step: 0 }));
        let p = Policy {
            repeat: 1,
            repeat_after: SignedDuration::ZERO,
            ..policy()
        };
        assert_eq!(p.validate(), Err(PolicyError::NoPauseBeforeRepeat));
        let p = Policy {
            steps: vec![],
            ..policy()
        };
        assert_eq!(p.validate(), Err(PolicyError::NoSteps));
    }

    #[test]
    fn maintenance_silences_paging() {
        let p = policy();
        let window = |from: Timestamp, to: Timestamp| Maintenance {
            client: acme(),
            from,
            to,
        };
        // A window that starts at minute 5: only the first page.
        let w = window(start() + mins(5), start() + mins(120));
        assert!(w.active(start() + mins(5)));
        assert!(!w.active(start() + mins(120)));
        let e = waiting_since(start()).with_maintenance(std::slice::from_ref(&w));
        assert_eq!(e.stopped, Some(start() + mins(5)));
        assert_eq!(due_pages(&p, &e, &[], start() + mins(200)).len(), 1);
        // A task that needs a pick-up during a window pages when it ends.
        let during = window(start() - mins(60), start() + mins(60));
        let e = waiting_since(start()).with_maintenance(&[during]);
        assert!(due_pages(&p, &e, &[], start() + mins(59)).is_empty());
        assert_eq!(due_pages(&p, &e, &[], start() + mins(60)).len(), 1);
        // Another client's window changes nothing.
        let other = Maintenance {
            client: ClientKey::new("BRIGHT").unwrap(),
            ..window(start() - mins(60), start() + mins(60))
        };
        let e = waiting_since(start()).with_maintenance(&[other]);
        assert_eq!(e, waiting_since(start()));
    }

    #[test]
    fn contract_hours_decide_who_pages_now() {
        assert!(pages_now(Priority::P1, false));
        assert!(pages_now(Priority::P1, true));
        assert!(pages_now(Priority::P2, true));
        assert!(!pages_now(Priority::P2, false));
        assert!(
            !pages_now(Priority::P3, false),
            "P3 out of hours never pages"
        );
        assert!(
            !pages_now(Priority::P3, true),
            "P3 does not escalate by default"
        );
        let rules = PagingRules {
            escalate: Priority::ALL.to_vec(),
            around_the_clock: vec![Priority::P1, Priority::P2],
        };
        assert!(rules.pages_now(Priority::P2, false));
        assert!(rules.pages_now(Priority::P3, true));
        assert!(!rules.pages_now(Priority::P3, false));
    }

    // ---- escalation from a task's history ----

    struct History {
        events: Vec<Event>,
    }

    impl History {
        fn created(priority: Priority) -> Self {
            let mut h = History { events: vec![] };
            h.push(
                0,
                EventKind::Created {
                    title: "VPN down".into(),
                    details: String::new(),
                    requester: PersonId(1),
                    asking_side: Side::Internal,
                    priority,
                    due: None,
                },
            );
            h.push(
                0,
                EventKind::Routed {
                    side: Side::Msp,
                    category: None,
                    reason: RouteReason::Default { side: Side::Msp },
                },
            );
            h
        }

        fn push(&mut self, minute: i64, kind: EventKind) -> &mut Self {
            self.events.push(Event {
                task: id(),
                seq: self.events.len() as u32 + 1,
                at: start() + mins(minute),
                by: Who::Person(ENGINEER),
                kind,
            });
            self
        }

        fn escalation(&self) -> Option<Escalation> {
            escalation_of(&self.events, &PagingRules::default())
        }
    }

    fn status(from: Status, to: Status) -> EventKind {
        EventKind::StatusChanged {
            from,
            to,
            reason: None,
        }
    }

    #[test]
    fn an_urgent_msp_task_escalates_from_its_creation_until_acknowledged() {
        let mut h = History::created(Priority::P1);
        assert_eq!(h.escalation(), Some(waiting_since(start())));
        h.push(
            3,
            EventKind::Commented {
                body: "anyone?".into(),
                visibility: crate::domain::Visibility::Shared,
            },
        );
        assert_eq!(h.escalation().unwrap().acknowledged, None);
        h.push(12, EventKind::Acknowledged);
        let e = h.escalation().unwrap();
        assert_eq!(e.acknowledged, Some(start() + mins(12)));
        assert_eq!(due_pages(&policy(), &e, &[], start() + mins(60)).len(), 2);
        // A later comment does not start paging again.
        h.push(
            20,
            EventKind::Commented {
                body: "on it".into(),
                visibility: crate::domain::Visibility::Shared,
            },
        );
        assert_eq!(h.escalation(), Some(e));
    }

    #[test]
    fn claims_assignments_and_status_changes_acknowledge() {
        for kind in [
            EventKind::Claimed { by: ENGINEER },
            EventKind::Assigned { to: ENGINEER },
            status(Status::New, Status::InProgress),
        ] {
            let mut h = History::created(Priority::P2);
            h.push(7, kind.clone());
            let e = h.escalation().unwrap();
            assert_eq!(e.acknowledged, Some(start() + mins(7)), "{kind:?}");
        }
    }

    #[test]
    fn resolve_cancel_handoff_and_lower_priority_stop_paging() {
        for kind in [
            status(Status::New, Status::Cancelled),
            EventKind::HandedOff {
                from: Side::Msp,
                to: Side::Internal,
                reason: None,
            },
            EventKind::PriorityChanged {
                from: Priority::P1,
                to: Priority::P3,
            },
        ] {
            let mut h = History::created(Priority::P1);
            h.push(4, kind.clone());
            let e = h.escalation().unwrap();
            assert_eq!(e.end(), Some(start() + mins(4)), "{kind:?}");
            assert_eq!(due_pages(&policy(), &e, &[], start() + mins(60)).len(), 1);
        }
        // P1 to P2 keeps the same escalation going.
        let mut h = History::created(Priority::P1);
        h.push(
            4,
            EventKind::PriorityChanged {
                from: Priority::P1,
                to: Priority::P2,
            },
        );
        assert_eq!(h.escalation(), Some(waiting_since(start())));
    }

    #[test]
    fn only_urgent_tasks_of_the_msp_escalate() {
        assert_eq!(History::created(Priority::P3).escalation(), None);
        let mut internal = History { events: vec![] };
        internal.push(
            0,
            EventKind::Created {
                title: "printer".into(),
                details: String::new(),
                requester: PersonId(1),
                asking_side: Side::Msp,
                priority: Priority::P1,
                due: None,
            },
        );
        assert_eq!(internal.escalation(), None);
        // Raised to P1 later: the escalation starts then, with its own keys.
        let mut h = History::created(Priority::P3);
        h.push(
            15,
            EventKind::PriorityChanged {
                from: Priority::P3,
                to: Priority::P1,
            },
        );
        let e = h.escalation().unwrap();
        assert_eq!((e.since_seq, e.started), (3, start() + mins(15)));
    }

    #[test]
    fn a_task_waiting_for_approval_escalates_once_approved() {
        let mut h = History::created(Priority::P1);
        h.events.truncate(1);
        h.push(
            0,
            EventKind::Routed {
                side: Side::Msp,
                category: None,
                reason: RouteReason::Requested { side: Side::Msp },
            },
        );
        h.push(
            0,
            EventKind::ApprovalRequested {
                why: crate::domain::ApprovalWhy::CategoryNeedsApproval {
                    category: crate::domain::Category::new("security").unwrap(),
                },
            },
        );
        assert_eq!(h.escalation().unwrap().stopped, Some(start()));
        h.push(25, EventKind::ApprovalGranted);
        let e = h.escalation().unwrap();
        assert_eq!(
            (e.since_seq, e.started, e.stopped),
            (4, start() + mins(25), None)
        );
    }

    #[test]
    fn an_unclaimed_task_escalates_again_with_new_keys() {
        let mut h = History::created(Priority::P1);
        h.push(2, EventKind::Claimed { by: ENGINEER });
        h.push(40, EventKind::Unclaimed);
        let e = h.escalation().unwrap();
        assert_eq!(e.since_seq, 4);
        assert_eq!(e.started, start() + mins(40));
        assert_eq!(e.acknowledged, None);
        // The pages of the first wait do not hide those of the second.
        let old = PageKey {
            task: id(),
            since_seq: 1,
            round: 0,
            step: 0,
        };
        assert_eq!(
            due_pages(&policy(), &e, &[old], start() + mins(40)).len(),
            1
        );
    }

    #[test]
    fn a_p3_out_of_hours_does_not_page_even_when_it_escalates() {
        let rules = PagingRules {
            escalate: Priority::ALL.to_vec(),
            ..PagingRules::default()
        };
        let h = History::created(Priority::P3);
        let e = escalation_of(&h.events, &rules).unwrap();
        let due = due_pages(&policy(), &e, &[], start());
        assert_eq!(due.len(), 1, "the timing says a page is due");
        assert!(
            !rules.pages_now(Priority::P3, false),
            "but out of hours a P3 does not page"
        );
        assert!(rules.pages_now(Priority::P1, false));
    }

    // The timer's plan (issue 5): what it records at each firing.

    fn rome_weekdays(holidays: &[&str]) -> BusinessCalendar {
        use jiff::civil::Time;
        BusinessCalendar::weekdays(
            jiff::tz::TimeZone::get("Europe/Rome").unwrap(),
            &[(Time::constant(9, 0, 0, 0), Time::constant(18, 0, 0, 0))],
            holidays.iter().map(|d| d.parse().unwrap()).collect(),
        )
        .unwrap()
    }

    fn who_is_on_call(name: &str) -> Option<PersonId> {
        match name {
            "primary" => Some(PersonId(21)),
            "secondary" => Some(PersonId(22)),
            _ => None,
        }
    }

    /// Fires the plan at `now` like the timer does, recording its pages.
    fn fire(
        h: &mut History,
        policy: &Policy,
        calendar: &BusinessCalendar,
        windows: &[Maintenance],
        now: Timestamp,
    ) -> Plan {
        let rules = PagingRules::default();
        let plan = plan(
            &h.events,
            PlanRules {
                policy,
                rules: &rules,
                calendar,
                maintenance: windows,
            },
            &who_is_on_call,
            now,
        );
        for order in &plan.orders {
            h.events.push(Event {
                task: id(),
                seq: h.events.len() as u32 + 1,
                at: now,
                by: Who::Ponte,
                kind: order.event(),
            });
        }
        plan
    }

    fn keys(plan: &Plan) -> Vec<String> {
        plan.orders.iter().map(|o| o.key.to_string()).collect()
    }

    #[test]
    fn the_timer_pages_each_step_at_its_minute_once_and_resolves_the_on_call() {
        let cal = rome_weekdays(&[]);
        let p = policy();
        let mut h = History::created(Priority::P1);
        let first = fire(&mut h, &p, &cal, &[], start());
        assert_eq!(keys(&first), vec!["page:ACME-42@1:r0:s0"]);
        assert_eq!(first.orders[0].to, Some(PersonId(21)));
        assert!(!first.orders[0].late);
        assert_eq!(first.next, Some(start() + mins(10)));
        // Fired again (a second tick, a restart): nothing twice.
        let again = fire(&mut h, &p, &cal, &[], start() + mins(9));
        assert!(again.orders.is_empty());
        assert_eq!(again.next, Some(start() + mins(10)));
        let second = fire(&mut h, &p, &cal, &[], start() + mins(10));
        assert_eq!(keys(&second), vec!["page:ACME-42@1:r0:s1"]);
        assert_eq!(second.orders[0].to, Some(PersonId(22)));
        let third = fire(&mut h, &p, &cal, &[], start() + mins(30));
        assert_eq!(third.orders[0].target, Target::Role(LEAD_ROLE));
        assert_eq!(third.orders[0].to, None);
        assert_eq!(third.next, None);
        assert!(
            fire(&mut h, &p, &cal, &[], start() + mins(300))
                .orders
                .is_empty()
        );
    }

    #[test]
    fn nothing_is_paged_after_an_acknowledgement() {
        let cal = rome_weekdays(&[]);
        let p = policy();
        let mut h = History::created(Priority::P1);
        assert_eq!(fire(&mut h, &p, &cal, &[], start()).orders.len(), 1);
        h.push(4, EventKind::Acknowledged);
        for m in [10, 30, 60, 600] {
            let plan = fire(&mut h, &p, &cal, &[], start() + mins(m));
            assert!(plan.orders.is_empty(), "minute {m}");
            assert_eq!(plan.next, None);
        }
    }

    #[test]
    fn after_an_outage_each_target_gets_its_latest_step_once_marked_late() {
        let cal = rome_weekdays(&[]);
        // Every step pages the same on-call, repeated: a burst after an
        // outage would page them six times.
        let p = Policy {
            steps: vec![
                Step {
                    after: mins(0),
                    target: Target::OnCall("primary".into()),
                },
                Step {
                    after: mins(5),
                    target: Target::OnCall("primary".into()),
                },
                Step {
                    after: mins(10),
                    target: Target::OnCall("secondary".into()),
                },
            ],
            repeat: 1,
            repeat_after: mins(20),
        };
        let mut h = History::created(Priority::P1);
        // Ponte was down from minute 0 to minute 32 (round 1 starts at 30).
        let plan = fire(&mut h, &p, &cal, &[], start() + mins(32));
        let to: Vec<(String, bool, usize)> = plan
            .orders
            .iter()
            .map(|o| (o.key.to_string(), o.late, o.skipped.len()))
            .collect();
        assert_eq!(
            to,
            vec![
                ("page:ACME-42@1:r0:s2".to_owned(), true, 0),
                ("page:ACME-42@1:r1:s0".to_owned(), true, 2),
            ]
        );
        // The skipped steps are never paged afterwards; the rest of round 1
        // comes at its time.
        assert_eq!(plan.next, Some(start() + mins(35)));
        let later = fire(&mut h, &p, &cal, &[], start() + mins(35));
        assert_eq!(keys(&later), vec!["page:ACME-42@1:r1:s1"]);
        assert!(!later.orders[0].late);
    }

    #[test]
    fn a_p2_out_of_hours_waits_for_the_opening_and_skips_holidays() {
        // Sunday 03:00, then Monday is a holiday: the clock starts Tuesday
        // 09:00 Rome (07:00Z, summer time).
        let cal = rome_weekdays(&["2026-03-30"]);
        let p = policy();
        let mut h = History::created(Priority::P2);
        let plan = fire(&mut h, &p, &cal, &[], start());
        assert!(plan.orders.is_empty());
        let opening = t("2026-03-31T07:00:00Z");
        assert_eq!(plan.next, Some(opening));
        let plan = fire(&mut h, &p, &cal, &[], opening);
        assert_eq!(keys(&plan), vec!["page:ACME-42@1:r0:s0"]);
        assert!(!plan.orders[0].late);
        assert_eq!(plan.next, Some(opening + mins(10)));
    }

    #[test]
    fn a_snooze_moves_the_next_steps_to_its_end() {
        let cal = rome_weekdays(&[]);
        let p = policy();
        let mut h = History::created(Priority::P1);
        fire(&mut h, &p, &cal, &[], start());
        h.push(
            2,
            EventKind::Snoozed {
                until: start() + mins(17),
            },
        );
        let plan = fire(&mut h, &p, &cal, &[], start() + mins(10));
        assert!(plan.orders.is_empty());
        assert_eq!(plan.next, Some(start() + mins(17)));
        let plan = fire(&mut h, &p, &cal, &[], start() + mins(17));
        assert_eq!(keys(&plan), vec!["page:ACME-42@1:r0:s1"]);
        assert!(!plan.orders[0].late, "a snoozed page is not late");
        assert_eq!(plan.next, Some(start() + mins(30)));
    }

    #[test]
    fn a_page_that_failed_for_good_brings_the_next_step_forward() {
        let cal = rome_weekdays(&[]);
        let p = policy();
        let mut h = History::created(Priority::P1);
        let first = fire(&mut h, &p, &cal, &[], start());
        assert_eq!(keys(&first), vec!["page:ACME-42@1:r0:s0"]);
        // The primary's DMs are closed: Ponte records it at minute 1.
        h.push(
            1,
            EventKind::PageFailed {
                key: "page:ACME-42@1:r0:s0".into(),
                reason: "direct messages closed".into(),
            },
        );
        let plan = fire(&mut h, &p, &cal, &[], start() + mins(1));
        assert_eq!(keys(&plan), vec!["page:ACME-42@1:r0:s1"]);
        assert!(!plan.orders[0].late, "paged at the failure, not late");
        // Only the next step moved: the one after keeps its time.
        assert_eq!(plan.next, Some(start() + mins(30)));
    }

    #[test]
    fn a_maintenance_window_silences_every_pending_step() {
        let cal = rome_weekdays(&[]);
        let p = policy();
        let mut h = History::created(Priority::P1);
        fire(&mut h, &p, &cal, &[], start());
        let window = Maintenance {
            client: acme(),
            from: start() + mins(5),
            to: start() + mins(120),
        };
        let plan = fire(
            &mut h,
            &p,
            &cal,
            std::slice::from_ref(&window),
            start() + mins(10),
        );
        assert!(plan.orders.is_empty());
        assert_eq!(plan.next, None);
        // A task that starts waiting during a window pages when it ends.
        let mut h = History::created(Priority::P1);
        let window = Maintenance {
            client: acme(),
            from: start() - mins(5),
            to: start() + mins(60),
        };
        let plan = fire(&mut h, &p, &cal, std::slice::from_ref(&window), start());
        assert!(plan.orders.is_empty());
        assert_eq!(plan.next, Some(start() + mins(60)));
    }

    #[test]
    fn manual_escalations_are_limited_in_number_and_spacing() {
        let mut h = History::created(Priority::P3);
        let limit =
            |h: &History, m: i64| manual_escalation(&h.events, 2, mins(15), start() + mins(m));
        assert_eq!(limit(&h, 0), Ok(1));
        let escalated = EventKind::Escalated {
            reason: "late".into(),
            key: "escalate:ACME-42:1".into(),
            target: Target::Role(LEAD_ROLE),
            to: None,
        };
        h.push(0, escalated.clone());
        let refused = Err(crate::domain::UserError::EscalateLimit {
            max: 2,
            minutes: 15,
        });
        assert_eq!(limit(&h, 14), refused);
        assert_eq!(limit(&h, 15), Ok(2));
        h.push(15, escalated);
        assert_eq!(limit(&h, 600), refused, "at most twice");
    }
}
