//! The escalation timer (issue 5): pages the people of each open urgent
//! task's escalation policy, step by step, through the ledger.
//!
//! At each firing, for every client with a policy, it lists the MSP's open
//! tasks through the store's `handled_by` index (never a scan of every
//! task; a page at a time, all of them whatever their number), reads the
//! history of those waiting for a pick-up, and asks the domain
//! ([`escalation::plan`]) which pages are due. The due pages of a
//! task are submitted as one `Command::Page`, keyed by its first page's key
//! and bound to the task's version: the `paged` events and their `Page`
//! effects are written in one transaction, and if anything changed the task
//! since it was read (an acknowledgement, a claim) nothing is recorded and
//! the next firing plans again. So a page never follows the change that
//! stops it, and a page exists once: after a restart, the history says which
//! pages were sent, and the next step fires once, at its time.
//!
//! The timer remembers nothing between firings; it answers the earliest
//! time a page falls due, and the timer loop also wakes it after every
//! change (a new urgent task pages at once).

use std::sync::Arc;

use jiff::Timestamp;

use crate::app::engine::{Ledger, Op, PonteError, Request};
use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::Config;
use crate::domain::escalation::{self, PlanRules};
use crate::domain::{
    Actor, ClientScope, Command, PersonId, Role, RoleSet, Side, Status, UserError, Who,
};
use crate::store::{self, Pages, Store};

pub struct Escalator<S: Store> {
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
    /// How many open tasks one listing holds ([`store::PAGE`]).
    page: usize,
}

/// Ponte's timers, acting for the MSP (escalations, handovers).
pub(crate) fn ponte() -> Actor {
    Actor {
        person: PersonId(0),
        side: Side::Msp,
        roles: RoleSet::empty().with(Role::MspEngineer),
        clients: ClientScope::All,
    }
}

fn failed(what: &str) -> impl Fn(PonteError) -> TimerError + '_ {
    move |e| TimerError(format!("{what}: {e}"))
}

impl<S: Store> Escalator<S> {
    pub fn new(ledger: Ledger<S>, config: Arc<Config>) -> Self {
        Self {
            ledger,
            config,
            page: store::PAGE,
        }
    }

    /// Lists the open tasks `page` at a time (tests use small pages).
    pub fn with_page(mut self, page: usize) -> Self {
        self.page = page;
        self
    }

    async fn run(&self, now: Timestamp) -> Result<Option<Timestamp>, TimerError> {
        let oncall = self.config.oncall();
        let schedules = {
            let store = self.ledger.store().clone();
            let config = self.config.clone();
            tokio::task::spawn_blocking(move || {
                crate::app::overrides::schedules(&*store, config.oncall())
            })
            .await
            .map_err(|e| TimerError(format!("reading overrides: {e}")))?
            .map_err(|e| TimerError(format!("reading overrides: {e}")))?
        };
        let on_call = |name: &str| {
            schedules
                .iter()
                .find(|s| s.schedule.name() == name)
                .map(|s| s.schedule.on_call(now).person)
        };
        let mut next: Option<Timestamp> = None;
        for client in self.config.clients() {
            let rules = oncall.paging_rules(&client.key);
            if rules.escalate.is_empty() {
                continue;
            }
            let windows: Vec<escalation::Maintenance> = {
                let store = self.ledger.store().clone();
                let key = client.key.clone();
                tokio::task::spawn_blocking(move || crate::app::maintenance::recent(&*store, &key))
                    .await
                    .map_err(|e| TimerError(format!("reading maintenance windows: {e}")))?
                    .map_err(|e| TimerError(format!("reading maintenance windows: {e}")))?
            };
            // Every open MSP task, a page at a time.
            let mut pages = Pages::handled_by(&client.key, Side::Msp, self.page);
            while let Some(tasks) = self
                .ledger
                .next_page(ponte(), &mut pages)
                .await
                .map_err(failed("listing open tasks"))?
            {
                for task in tasks {
                    let waiting = task.status == Status::New
                        && task.assignee.is_none()
                        && rules.escalates(task.priority);
                    let Some(rule) = oncall.policy_for(&client.key, task.priority) else {
                        continue;
                    };
                    if !waiting {
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
                    let plan = escalation::plan(
                        &events,
                        PlanRules {
                            policy: &rule.policy,
                            rules: &rules,
                            calendar: &client.calendar,
                            maintenance: &windows,
                        },
                        &on_call,
                        now,
                    );
                    if let Some(at) = plan.next {
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                    let Some(first) = plan.orders.first() else {
                        continue;
                    };
                    let key = first.key.to_string();
                    let request = Request {
                        actor: ponte(),
                        by: Who::Ponte,
                        op: Op::Change {
                            task: task.id.clone(),
                            command: Command::Page {
                                as_of: task.version,
                                pages: plan.orders.clone(),
                            },
                        },
                        key: Some(key),
                    };
                    match self.ledger.submit(request).await {
                        Ok(_) => {
                            tracing::info!(task = %task.id, pages = plan.orders.len(), "paged");
                        }
                        // The task changed since it was read: plan again soon.
                        Err(PonteError::User(UserError::Unchanged)) => {
                            let soon = now
                                .checked_add(jiff::SignedDuration::from_secs(1))
                                .unwrap_or(now);
                            next = Some(next.map_or(soon, |n| n.min(soon)));
                        }
                        Err(e) => return Err(failed("recording pages")(e)),
                    }
                }
            }
        }
        Ok(next)
    }
}

impl<S: Store> Timer for Escalator<S> {
    fn name(&self) -> &'static str {
        "escalation"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(self.run(now))
    }
}
