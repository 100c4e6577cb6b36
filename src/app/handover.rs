//! The handover timer (issue 5): at each change of the person on call in
//! an MSP schedule, a message in the MSP's queue channel (or, without an
//! MSP server, each client's MSP channel) names who takes over and the open
//! urgent tasks. Each handover is a store [`Mark`]
//! (`handover:<schedule>:<unix seconds>`) recorded with its message's
//! effect in one transaction, so it is posted once, across restarts.
//!
//! Only a recent handover is posted (within [`CATCH_UP`]): after a long
//! outage the current shift is not announced hours late.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::app::engine::Ledger;
use crate::app::timers::{BoxFuture, Timer, TimerError};
use crate::config::Config;
use crate::domain::effect::Effect;
use crate::domain::{Side, Status, TaskId};
use crate::store::{self, Mark, Pages, Store};

/// How late a handover message may still be posted.
pub const CATCH_UP: SignedDuration = SignedDuration::from_mins(60);

pub struct Handovers<S: Store> {
    pub ledger: Ledger<S>,
    pub config: Arc<Config>,
}

use crate::app::escalator::ponte;

fn failed(what: &'static str) -> impl Fn(String) -> TimerError {
    move |e| TimerError(format!("{what}: {e}"))
}

impl<S: Store> Handovers<S> {
    async fn urgent_open(&self) -> Result<Vec<TaskId>, TimerError> {
        let oncall = self.config.oncall();
        let mut out = Vec::new();
        for client in self.config.clients() {
            let rules = oncall.paging_rules(&client.key);
            // Every open MSP task, a page at a time.
            let mut pages = Pages::handled_by(&client.key, Side::Msp, store::PAGE);
            while let Some(tasks) = self
                .ledger
                .next_page(ponte(), &mut pages)
                .await
                .map_err(|e| failed("listing open tasks")(e.to_string()))?
            {
                out.extend(
                    tasks
                        .into_iter()
                        .filter(|t| t.status.is_open() && t.status != Status::Resolved)
                        .filter(|t| rules.escalates(t.priority))
                        .map(|t| t.id),
                );
            }
        }
        Ok(out)
    }

    async fn run(&self, now: Timestamp) -> Result<Option<Timestamp>, TimerError> {
        let mut next: Option<Timestamp> = None;
        let week = SignedDuration::from_hours(24 * 15);
        let horizon = now.checked_add(week).unwrap_or(now);
        let since = now.checked_sub(CATCH_UP).unwrap_or(now);
        let schedules = {
            let store = self.ledger.store().clone();
            let config = self.config.clone();
            tokio::task::spawn_blocking(move || {
                crate::app::overrides::schedules(&*store, config.oncall())
            })
            .await
            .map_err(|e| failed("reading overrides")(e.to_string()))?
            .map_err(|e| failed("reading overrides")(e.to_string()))?
        };
        for s in &schedules {
            if s.side != Side::Msp {
                continue;
            }
            let schedule = &s.schedule;
            let after = now
                .checked_add(SignedDuration::from_nanos(1))
                .unwrap_or(now);
            if let Some(at) = schedule.handovers(after, horizon).first() {
                next = Some(next.map_or(*at, |n| n.min(*at)));
            }
            let Some(at) = schedule.handovers(since, after).last().copied() else {
                continue;
            };
            let key = format!("handover:{}:{:012}", schedule.name(), at.as_second());
            let store = self.ledger.store().clone();
            let seen = {
                let (store, key) = (store.clone(), key.clone());
                tokio::task::spawn_blocking(move || store.mark(&key))
                    .await
                    .map_err(|e| failed("reading a handover")(e.to_string()))?
                    .map_err(|e| failed("reading a handover")(e.to_string()))?
            };
            if seen.is_some() {
                continue;
            }
            let before = at
                .checked_sub(SignedDuration::from_nanos(1))
                .map(|t| schedule.on_call(t).person)
                .ok();
            let effect = Effect::Handover {
                schedule: schedule.name().to_owned(),
                at,
                from: before,
                to: schedule.on_call(at).person,
                tasks: self.urgent_open().await?,
            };
            let mark = Mark { key, at: now };
            tokio::task::spawn_blocking(move || {
                store.commit_mark(&mark, &[effect])?;
                store.flush()
            })
            .await
            .map_err(|e| failed("recording a handover")(e.to_string()))?
            .map_err(|e| failed("recording a handover")(e.to_string()))?;
            self.ledger.changed().notify_one();
        }
        Ok(next)
    }
}

impl<S: Store> Timer for Handovers<S> {
    fn name(&self) -> &'static str {
        "handover"
    }

    fn fire(&self, now: Timestamp) -> BoxFuture<'_, Result<Option<Timestamp>, TimerError>> {
        Box::pin(self.run(now))
    }
}
