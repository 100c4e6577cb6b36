//! The SLA timer (issue 6): records SLA warnings and breaches as events.
//!
//! At each firing, for every client, it lists the open tasks through the
//! store's status index, a page at a time (all of them, whatever their
//! number, holding [`crate::store::PAGE`] at once), and asks the domain
//! ([`sla::sla_alerts`]) which alerts are due (in the client's business
//! calendar, around the clock for 24/7 priorities, each side's clock
//! running only while it is that side's move). The due alerts of a task are
//! submitted as one
//! `Command::RecordSla`, keyed by its first alert's key
//! (`sla:ACME-42:msp:first_response:warned`) and bound to the task's
//! version: the `sla_warned` / `sla_breached` events and their `Announce`
//! effect (a line in the task's thread and its mirror, in each side's
//! language, pinging nobody) are written in one transaction. Each alert is
//! recorded once in the history, which the planner reads, so a firing
//! repeated or after a restart records nothing twice.
//!
//! **Not rescanning everything.** A task's history is read only when its
//! version changed since the last firing, or when its next SLA moment has
//! come; otherwise the moment remembered for that version is used. The
//! memory is a cache: after a restart the first firing reads every open
//! task once.
//!
//! **Feeding the escalation policy.** With `on_sla_warning = true` on the
//! client's `[[escalation]]` rule for the task's priority, a warning of an
//! MSP-handled task that waits for a pick-up and was never paged also pages
//! the policy's first step, in the same command (`Paged` events with their
//! `Page` effects).
//!
//! Registered with the other timers in `crate::run`. The clocks it alerts are exactly
//! those the digest lists as at risk or breached, and a warning not recorded before its
//! breach is due is never recorded (see `domain::sla::alerts`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::app::engine::{Ledger, Op, PonteError, Request};
use crate::app::escalator::ponte;
use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::Config;
use crate::domain::escalation::{self, PageKey, PageOrder, Target};
use crate::domain::sla::{self, AlertLevel};
use crate::domain::{Command, EventKind, Side, Status, TaskId, UserError, Who};
use crate::store::{self, Pages, Store};

/// What the timer remembers of a task: the version it planned from and the
/// next moment an alert falls due.
type Seen = HashMap<TaskId, (u32, Option<Timestamp>)>;

pub struct SlaTimer<S: Store> {
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
    seen: Mutex<Seen>,
    /// How many open tasks one listing holds ([`store::PAGE`]).
    page: usize,
}

impl<S: Store> SlaTimer<S> {
    pub fn new(ledger: Ledger<S>, config: Arc<Config>) -> Self {
        Self {
            ledger,
            config,
            seen: Mutex::new(HashMap::new()),
            page: store::PAGE,
        }
    }

    /// Lists the open tasks `page` at a time (tests use small pages).
    pub fn with_page(mut self, page: usize) -> Self {
        self.page = page;
        self
    }

    fn remembered(&self, task: &TaskId, version: u32, now: Timestamp) -> Option<Option<Timestamp>> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(task) {
            Some(&(v, next)) if v == version && next.is_none_or(|n| n > now) => Some(next),
            _ => None,
        }
    }

    fn remember(&self, task: TaskId, version: u32, next: Option<Timestamp>) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(task, (version, next));
    }

    async fn run(&self, now: Timestamp) -> Result<Option<Timestamp>, TimerError> {
        let failed = |what: &'static str| move |e: PonteError| TimerError(format!("{what}: {e}"));
        let mut next: Option<Timestamp> = None;
        let mut soonest = |at: Option<Timestamp>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
            }
        };
        let mut open_now: std::collections::HashSet<TaskId> = std::collections::HashSet::new();
        for client in self.config.clients() {
            // Every open task, a page at a time.
            let mut pages = Pages::open(&client.key, self.page);
            while let Some(tasks) = self
                .ledger
                .next_page(ponte(), &mut pages)
                .await
                .map_err(failed("listing open tasks"))?
            {
                for task in tasks {
                    open_now.insert(task.id.clone());
                    if let Some(at) = self.remembered(&task.id, task.version, now) {
                        soonest(at);
                        continue;
                    }
                    let Some((task, events)) = self
                        .ledger
                        .history(task.id.clone())
                        .await
                        .map_err(failed("reading a task's history"))?
                    else {
                        continue;
                    };
                    let plan = sla::sla_alerts(&events, &client.sla, &client.calendar, now);
                    let Some(first) = plan.due.first() else {
                        self.remember(task.id.clone(), task.version, plan.next);
                        soonest(plan.next);
                        continue;
                    };
                    let key = first.key(&task.id);
                    let pages = self
                        .pages_on_warning(&task, &events, &plan.due, now)
                        .await?;
                    let command = Command::RecordSla {
                        as_of: task.version,
                        alerts: plan.due.clone(),
                        pages,
                    };
                    let request = Request {
                        actor: ponte(),
                        by: Who::Ponte,
                        op: Op::Change {
                            task: task.id.clone(),
                            command,
                        },
                        key: Some(key),
                    };
                    match self.ledger.submit(request).await {
                        Ok(outcome) => {
                            tracing::info!(task = %task.id, alerts = plan.due.len(), "SLA alerts recorded");
                            for alert in plan.due.iter().filter(|a| a.level == AlertLevel::Breach) {
                                crate::ops::metrics::global()
                                    .sla_breach(task.id.client().as_str(), alert.side.as_str());
                            }
                            self.remember(task.id.clone(), outcome.task.version, plan.next);
                            soonest(plan.next);
                        }
                        // The task changed since it was read: plan again soon.
                        Err(PonteError::User(UserError::Unchanged)) => {
                            soonest(now.checked_add(jiff::SignedDuration::from_secs(1)).ok());
                        }
                        Err(e) => return Err(failed("recording SLA alerts")(e)),
                    }
                }
            }
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|id, _| open_now.contains(id));
        Ok(next)
    }

    /// The first step of the task's escalation policy, when a warning is
    /// due for an MSP-handled task waiting for a pick-up that was never
    /// paged in its current wait, and the client's rule for its priority
    /// says `on_sla_warning`. Its key is the policy's own first page's key,
    /// so the escalation timer counts that step as sent.
    async fn pages_on_warning(
        &self,
        task: &crate::domain::Task,
        events: &[crate::domain::Event],
        due: &[sla::SlaAlert],
        now: Timestamp,
    ) -> Result<Vec<PageOrder>, TimerError> {
        let warned = due
            .iter()
            .any(|a| a.side == Side::Msp && a.level == AlertLevel::Warning);
        let waiting = task.handling_side == Side::Msp
            && task.status == Status::New
            && task.assignee.is_none();
        if !warned || !waiting {
            return Ok(Vec::new());
        }
        let oncall = self.config.oncall();
        let Some(rule) = oncall.policy_for(task.id.client(), task.priority) else {
            return Ok(Vec::new());
        };
        let Some(step) = rule.policy.steps.first().filter(|_| rule.on_sla_warning) else {
            return Ok(Vec::new());
        };
        let rules = oncall.paging_rules(task.id.client());
        let Some(wait) = escalation::escalation_of(events, &rules) else {
            return Ok(Vec::new());
        };
        let paged = events.iter().any(|e| {
            e.seq > wait.since_seq
                && matches!(
                    e.kind,
                    EventKind::Paged { .. } | EventKind::Escalated { .. }
                )
        });
        if paged || wait.end().is_some() {
            return Ok(Vec::new());
        }
        let to = match &step.target {
            Target::Person(p) => Some(*p),
            Target::OnCall(name) => {
                let store = self.ledger.store().clone();
                let config = self.config.clone();
                let schedules = tokio::task::spawn_blocking(move || {
                    crate::app::overrides::schedules(&*store, config.oncall())
                })
                .await
                .map_err(|e| TimerError(format!("reading overrides: {e}")))?
                .map_err(|e| TimerError(format!("reading overrides: {e}")))?;
                schedules
                    .iter()
                    .find(|s| s.schedule.name() == name)
                    .map(|s| s.schedule.on_call(now).person)
            }
            _ => None,
        };
        Ok(vec![PageOrder {
            key: PageKey {
                task: task.id.clone(),
                since_seq: wait.since_seq,
                round: 0,
                step: 0,
            },
            target: step.target.clone(),
            to,
            late: false,
            skipped: Vec::new(),
        }])
    }
}

impl<S: Store> Timer for SlaTimer<S> {
    fn name(&self) -> &'static str {
        "sla"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(self.run(now))
    }
}
