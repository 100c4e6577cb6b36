//! Monitoring's changes on the writer thread (issue 20): an alert fires or
//! resolves, a heartbeat monitor beats or misses its beat.
//!
//! Deciding what an alert does needs what the store knows of it (is its
//! fingerprint's task open? is its group in a storm?), and two alerts with
//! one fingerprint must not both open a task: so the lookups are read,
//! the change decided and committed, with the lookups it changes, in one
//! step of the one writer. A repeat, a fold or a resolution is a
//! `Command::Alert` on the task; a new alert a creation with its
//! `alert_fired` event. Pages follow from the escalation policies, like
//! any task's.
//!
//! The lookups (JSON, in the store's `lookups` tree):
//! - `alert/{client}/{source}/{fingerprint}`: the task the alert feeds;
//!   removed when the alert resolves;
//! - `alertgroup/{client}/{source}/{group}`: the group's storm window and
//!   its storm task;
//! - `alerttask/{task}`: how many of the task's alerts fire, and how many
//!   folded in; removed when the last one resolves;
//! - `beat/{client}/{monitor}`: a heartbeat monitor's last beat and the
//!   beat whose expiry opened a task.
//!
//! The sweep timer removes, a batch at a time, the `alert…` lookups nothing
//! reads again ([`MonitorOp::Sweep`]).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Engine, InternalError, Op, PonteError, Request};
use crate::domain::monitor::{AlertChange, AlertOrigin, Beats, GroupWindow};
use crate::domain::{
    Actor, ChatRef, ClientKey, ClientScope, Command, NewTask, PersonId, Priority, Role, RoleSet,
    Side, SideChoice, TaskId, Who,
};
use crate::store::Store;

/// What monitoring asks of the writer.
#[derive(Clone, Debug)]
pub enum MonitorOp {
    /// An alert of a client's integration fired or resolved.
    Alert {
        client: ClientKey,
        alert: IncomingAlert,
    },
    /// A heartbeat monitor beat: its missed-beat task, if open, resolves.
    Beat { client: ClientKey, monitor: String },
    /// A heartbeat monitor missed the beat after `last` (the timer): its
    /// task opens, once per expiry.
    Missed {
        client: ClientKey,
        monitor: String,
        last: jiff::Timestamp,
        alert: IncomingAlert,
    },
    /// Removes up to [`SWEEP_BATCH`] alert lookups nothing will read again
    /// (the sweep timer), continuing where the last sweep stopped: those of
    /// closed or cancelled tasks, and groups whose storm window is over
    /// and whose storm task, if any, is closed. Alerts that never resolve
    /// and one-off group keys would otherwise stay for ever.
    Sweep,
}

/// How many alert lookups one [`MonitorOp::Sweep`] reads.
pub const SWEEP_BATCH: usize = 500;

/// Where the last sweep stopped (a lookup itself).
const SWEEP_CURSOR: &str = "sweep/alerts";

/// An alert as the application made it from a monitoring system's payload
/// and the integration's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingAlert {
    /// The integration (or `heartbeat`).
    pub source: String,
    pub fingerprint: String,
    pub group: String,
    pub firing: bool,
    pub title: String,
    pub details: String,
    pub severity: Option<String>,
    pub link: Option<String>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub to: SideChoice,
    /// Where the task's card goes.
    pub channel: Option<u64>,
    /// Alerts of one group beyond this many in a minute fold into one task
    /// (0: never).
    pub storm_threshold: u32,
}

/// What an alert did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertResult {
    /// A new task.
    Opened(TaskId),
    /// A new task for a storm: the group's later alerts fold into it.
    OpenedStorm(TaskId),
    /// The alert's open task heard it again.
    Repeated(TaskId),
    /// Folded into the group's storm task.
    Folded(TaskId),
    /// The alert resolved on its task; `task_resolved` when the task was
    /// resolved with it.
    Resolved { task: TaskId, task_resolved: bool },
    /// A resolution (or a beat) with no open task: nothing to do.
    NothingOpen,
    /// A sweep removed `removed` lookups; `done` when it reached the last.
    Swept { removed: usize, done: bool },
}

impl AlertResult {
    /// The task concerned, if any.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            AlertResult::Opened(t)
            | AlertResult::OpenedStorm(t)
            | AlertResult::Repeated(t)
            | AlertResult::Folded(t)
            | AlertResult::Resolved { task: t, .. } => Some(t),
            AlertResult::NothingOpen | AlertResult::Swept { .. } => None,
        }
    }

    /// A short name for the HTTP answer and the metrics.
    pub fn name(&self) -> &'static str {
        match self {
            AlertResult::Opened(_) => "opened",
            AlertResult::OpenedStorm(_) => "opened_storm",
            AlertResult::Repeated(_) => "repeated",
            AlertResult::Folded(_) => "folded",
            AlertResult::Resolved { .. } => "resolved",
            AlertResult::NothingOpen => "nothing_open",
            AlertResult::Swept { .. } => "swept",
        }
    }
}

/// What a monitoring op did, and whether it wrote (for the group commit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorOutcome {
    pub result: AlertResult,
    pub wrote: bool,
}

/// The actor monitoring acts as: Ponte, asking as the company's side (an
/// alert is the company's systems asking for help), serving one client.
pub fn monitoring(client: &ClientKey) -> Actor {
    Actor {
        person: PersonId(0),
        side: Side::Internal,
        roles: RoleSet::empty().with(Role::ItTechnician),
        clients: ClientScope::Only(client.clone()),
    }
}

pub use crate::domain::monitor::HEARTBEAT_SOURCE;

fn alert_key(client: &ClientKey, source: &str, fingerprint: &str) -> String {
    format!("alert/{client}/{source}/{fingerprint}")
}

fn group_key(client: &ClientKey, source: &str, group: &str) -> String {
    format!("alertgroup/{client}/{source}/{group}")
}

fn task_key(task: &TaskId) -> String {
    format!("alerttask/{task}")
}

/// The lookup key of a heartbeat monitor's state.
pub fn beat_key(client: &ClientKey, monitor: &str) -> String {
    format!("beat/{client}/{monitor}")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AlertRef {
    task: TaskId,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct GroupState {
    #[serde(default)]
    window: GroupWindow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storm: Option<TaskId>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct TaskAlerts {
    firing: u32,
    #[serde(default)]
    folded: u32,
}

type Change = (String, Option<Vec<u8>>);

fn put<T: Serialize>(key: String, value: &T) -> Result<Change, PonteError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| PonteError::Internal(InternalError::log("encoding a lookup", &e)))?;
    Ok((key, Some(bytes)))
}

/// The lookups a task's history implies (`ponte import`, which rebuilds
/// everything else from the events too): each alert still firing on a task
/// that is not closed finds it again, with the task's counts, and an open
/// storm task takes its group's later alerts. Storm windows and heartbeat
/// monitors' beats are not history: they start afresh, as at a restart.
pub(crate) fn lookups_from_history(
    task: &crate::domain::Task,
    events: &[crate::domain::Event],
) -> Vec<Change> {
    if task.status.is_final() {
        return Vec::new();
    }
    let history = crate::domain::monitor::history(events);
    let Some(origin) = history.origin.as_ref() else {
        return Vec::new();
    };
    let client = task.id.client();
    let mut lookups = Vec::new();
    for (source, fingerprint) in &history.firing {
        lookups.push(put(
            alert_key(client, source, fingerprint),
            &AlertRef {
                task: task.id.clone(),
            },
        ));
    }
    if !history.firing.is_empty() || history.folded > 0 {
        let counts = TaskAlerts {
            firing: u32::try_from(history.firing.len()).unwrap_or(u32::MAX),
            folded: history.folded,
        };
        lookups.push(put(task_key(&task.id), &counts));
    }
    if origin.storm && task.status.is_open() {
        lookups.push(put(
            group_key(client, &origin.source, &origin.group),
            &GroupState {
                window: GroupWindow::default(),
                storm: Some(task.id.clone()),
            },
        ));
    }
    // These small structs always encode.
    lookups.into_iter().filter_map(Result::ok).collect()
}

impl<S: Store> Engine<S> {
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, PonteError> {
        let Some(raw) = self
            .store
            .lookup(key)
            .map_err(|e| PonteError::store("reading monitoring's lookups", e))?
        else {
            return Ok(None);
        };
        match serde_json::from_slice(&raw) {
            Ok(value) => Ok(Some(value)),
            Err(e) => {
                // A damaged lookup costs a deduplication, not the alert.
                tracing::warn!(key, error = %e, "an unreadable monitoring lookup is ignored");
                Ok(None)
            }
        }
    }

    /// The task `id`, if it exists and is not closed or cancelled.
    fn live_task(&self, id: &TaskId) -> Result<Option<crate::domain::Task>, PonteError> {
        Ok(self
            .store
            .task(id)
            .map_err(|e| PonteError::store("reading a task", e))?
            .filter(|t| !t.status.is_final()))
    }

    /// Decides and writes one monitoring op (not flushed: the writer
    /// flushes the batch).
    pub(crate) fn monitor(
        &self,
        op: &MonitorOp,
        now: jiff::Timestamp,
    ) -> Result<MonitorOutcome, PonteError> {
        match op {
            MonitorOp::Alert { client, alert } => self.alert(client, alert, now, Vec::new()),
            MonitorOp::Sweep => self.sweep(now),
            MonitorOp::Beat { client, monitor } => {
                let key = beat_key(client, monitor);
                let mut beats: Beats = self.get(&key)?.unwrap_or_default();
                if crate::domain::monitor::coalesces(&beats, now) {
                    return Ok(MonitorOutcome {
                        result: AlertResult::NothingOpen,
                        wrote: false,
                    });
                }
                beats.last = Some(now);
                let beat = put(key, &beats)?;
                let resolved = IncomingAlert {
                    source: HEARTBEAT_SOURCE.to_owned(),
                    fingerprint: monitor.clone(),
                    firing: false,
                    ..IncomingAlert::default()
                };
                let outcome = self.alert(client, &resolved, now, vec![beat.clone()])?;
                if !outcome.wrote {
                    self.store
                        .put_lookups(&[beat])
                        .map_err(|e| PonteError::store("recording a heartbeat", e))?;
                }
                Ok(MonitorOutcome {
                    wrote: true,
                    ..outcome
                })
            }
            MonitorOp::Missed {
                client,
                monitor,
                last,
                alert,
            } => {
                let key = beat_key(client, monitor);
                let mut beats: Beats = self.get(&key)?.unwrap_or_default();
                // A beat came in since the timer looked, or this expiry
                // already opened its task.
                if beats.last != Some(*last) || beats.expired_after == Some(*last) {
                    return Ok(MonitorOutcome {
                        result: AlertResult::NothingOpen,
                        wrote: false,
                    });
                }
                beats.expired_after = Some(*last);
                let beats = put(key, &beats)?;
                let outcome = self.alert(client, alert, now, vec![beats.clone()])?;
                if !outcome.wrote {
                    self.store
                        .put_lookups(&[beats])
                        .map_err(|e| PonteError::store("recording a missed heartbeat", e))?;
                }
                Ok(MonitorOutcome {
                    wrote: true,
                    ..outcome
                })
            }
        }
    }

    /// [`MonitorOp::Sweep`].
    fn sweep(&self, now: jiff::Timestamp) -> Result<MonitorOutcome, PonteError> {
        let failed = |e| PonteError::store("sweeping monitoring's lookups", e);
        let cursor = self
            .store
            .lookup(SWEEP_CURSOR)
            .map_err(failed)?
            .and_then(|raw| String::from_utf8(raw).ok());
        let batch = self
            .store
            .lookups_after("alert", cursor.as_deref(), SWEEP_BATCH)
            .map_err(failed)?;
        let mut changes: Vec<Change> = Vec::new();
        for (key, raw) in &batch {
            if !self.wanted(key, raw, now)? {
                changes.push((key.clone(), None));
            }
        }
        let removed = changes.len();
        let next = (batch.len() == SWEEP_BATCH)
            .then(|| batch.last().map(|(key, _)| key.clone()))
            .flatten();
        let done = next.is_none();
        changes.push((SWEEP_CURSOR.to_owned(), next.map(String::into_bytes)));
        self.store.put_lookups(&changes).map_err(failed)?;
        if removed > 0 {
            tracing::info!(
                removed,
                "alert lookups of closed tasks and past storms removed"
            );
        }
        Ok(MonitorOutcome {
            result: AlertResult::Swept { removed, done },
            wrote: true,
        })
    }

    /// Whether the alert lookup `key` may still be read: its task is not
    /// closed, or its group's storm is not over. An unreadable one is not.
    fn wanted(&self, key: &str, raw: &[u8], now: jiff::Timestamp) -> Result<bool, PonteError> {
        let live = |id: &TaskId| -> Result<bool, PonteError> { Ok(self.live_task(id)?.is_some()) };
        if key.starts_with("alert/") {
            match serde_json::from_slice::<AlertRef>(raw) {
                Ok(r) => live(&r.task),
                Err(_) => Ok(false),
            }
        } else if let Some(task) = key.strip_prefix("alerttask/") {
            match task.parse::<TaskId>() {
                Ok(id) => live(&id),
                Err(_) => Ok(false),
            }
        } else if key.starts_with("alertgroup/") {
            match serde_json::from_slice::<GroupState>(raw) {
                Ok(mut group) => {
                    group.window.prune(now);
                    Ok(!group.window.recent.is_empty()
                        || match &group.storm {
                            Some(id) => live(id)?,
                            None => false,
                        })
                }
                Err(_) => Ok(false),
            }
        } else {
            // Not one of the alert lookups this module writes.
            Ok(true)
        }
    }

    fn alert(
        &self,
        client: &ClientKey,
        alert: &IncomingAlert,
        now: jiff::Timestamp,
        extra: Vec<Change>,
    ) -> Result<MonitorOutcome, PonteError> {
        let fp_key = alert_key(client, &alert.source, &alert.fingerprint);
        let known: Option<AlertRef> = self.get(&fp_key)?;
        let task = match &known {
            Some(r) => self.live_task(&r.task)?,
            None => None,
        };
        let actor = monitoring(client);
        let change = |id: &TaskId, command: AlertChange, lookups: Vec<Change>| {
            let request = Request {
                actor: actor.clone(),
                by: Who::Ponte,
                op: Op::Change {
                    task: id.clone(),
                    command: Command::Alert(command),
                },
                key: None,
            };
            self.execute_with(&request, now, &|_| lookups.clone())
        };
        if !alert.firing {
            let Some(task) = task else {
                // Nothing open: forget a stale fingerprint (its task was
                // closed by hand), and the closed task's counts, which no
                // decision reads again.
                if let Some(known) = known {
                    let mut lookups = extra;
                    lookups.push((fp_key, None));
                    lookups.push((task_key(&known.task), None));
                    self.store
                        .put_lookups(&lookups)
                        .map_err(|e| PonteError::store("forgetting a resolved alert", e))?;
                    return Ok(MonitorOutcome {
                        result: AlertResult::NothingOpen,
                        wrote: true,
                    });
                }
                return Ok(MonitorOutcome {
                    result: AlertResult::NothingOpen,
                    wrote: false,
                });
            };
            let counts: TaskAlerts = self.get(&task_key(&task.id))?.unwrap_or(TaskAlerts {
                firing: 1,
                folded: 0,
            });
            let left = TaskAlerts {
                firing: counts.firing.saturating_sub(1),
                ..counts
            };
            let mut lookups = extra;
            lookups.push((fp_key, None));
            // No key stays behind for a task its last alert resolves
            // (sled's memory grows with its keys); one still worked on
            // keeps its count of folded alerts.
            // A heartbeat's task is about the beat: the next one ends it.
            let even_if_touched = alert.source == HEARTBEAT_SOURCE;
            if crate::domain::monitor::resolve(&task, left.firing, even_if_touched) {
                lookups.push((task_key(&task.id), None));
            } else {
                lookups.push(put(task_key(&task.id), &left)?);
            }
            let outcome = change(
                &task.id,
                AlertChange::Resolved {
                    source: alert.source.clone(),
                    fingerprint: alert.fingerprint.clone(),
                    firing: left.firing,
                    even_if_touched,
                },
                lookups,
            )?;
            let task_resolved = outcome.events.iter().any(|e| {
                matches!(
                    e.kind,
                    crate::domain::EventKind::AlertResolved {
                        resolves_task: true,
                        ..
                    }
                )
            });
            return Ok(MonitorOutcome {
                result: AlertResult::Resolved {
                    task: task.id,
                    task_resolved,
                },
                wrote: true,
            });
        }
        // Firing, and its task is open: a repeat.
        if let Some(task) = task.filter(|t| t.status.is_open()) {
            change(
                &task.id,
                AlertChange::Repeated {
                    source: alert.source.clone(),
                    fingerprint: alert.fingerprint.clone(),
                },
                extra,
            )?;
            return Ok(MonitorOutcome {
                result: AlertResult::Repeated(task.id),
                wrote: true,
            });
        }
        let g_key = group_key(client, &alert.source, &alert.group);
        let mut group: GroupState = self.get(&g_key)?.unwrap_or_default();
        // The group is in a storm with an open task: fold in.
        let storm_task = match &group.storm {
            Some(id) => self.live_task(id)?.filter(|t| t.status.is_open()),
            None => None,
        };
        if let Some(storm) = storm_task {
            let counts: TaskAlerts = self.get(&task_key(&storm.id))?.unwrap_or_default();
            let counts = TaskAlerts {
                firing: counts.firing.saturating_add(1),
                folded: counts.folded.saturating_add(1),
            };
            let mut lookups = extra;
            lookups.push(put(
                fp_key,
                &AlertRef {
                    task: storm.id.clone(),
                },
            )?);
            lookups.push(put(task_key(&storm.id), &counts)?);
            change(
                &storm.id,
                AlertChange::Folded {
                    source: alert.source.clone(),
                    fingerprint: alert.fingerprint.clone(),
                    title: crate::domain::text::clip(&alert.title, 200),
                    count: counts.folded,
                },
                lookups,
            )?;
            return Ok(MonitorOutcome {
                result: AlertResult::Folded(storm.id),
                wrote: true,
            });
        }
        let storm = group.window.storm(now, alert.storm_threshold);
        group.window.opened(now, alert.storm_threshold);
        group.storm = None;
        let title = if storm {
            crate::domain::text::clip(
                &format!("⛈ {} (+ storm of {})", alert.title, alert.group),
                200,
            )
        } else {
            alert.title.clone()
        };
        let new = NewTask {
            title,
            details: alert.details.clone(),
            to: alert.to,
            priority: alert.priority,
            category: alert.category.clone(),
            due: None,
            on_behalf_of: None,
            chat: alert.channel.map(|channel| ChatRef {
                channel: Some(channel),
                thread: None,
                message: None,
            }),
            alert: Some(AlertOrigin {
                source: alert.source.clone(),
                fingerprint: alert.fingerprint.clone(),
                group: alert.group.clone(),
                severity: alert.severity.clone(),
                link: alert.link.clone(),
                storm,
            }),
        };
        let request = Request {
            actor,
            by: Who::Ponte,
            op: Op::Create {
                client: client.clone(),
                new,
            },
            key: None,
        };
        let group_base = group.clone();
        let lookups = |id: &TaskId| -> Vec<Change> {
            let mut group = group_base.clone();
            if storm {
                group.storm = Some(id.clone());
            }
            let mut lookups = extra.clone();
            let encoded = [
                put(fp_key.clone(), &AlertRef { task: id.clone() }),
                put(
                    task_key(id),
                    &TaskAlerts {
                        firing: 1,
                        folded: 0,
                    },
                ),
                put(g_key.clone(), &group),
            ];
            lookups.extend(encoded.into_iter().filter_map(Result::ok));
            lookups
        };
        let outcome = self.execute_with(&request, now, &lookups)?;
        let id = outcome.task.id;
        Ok(MonitorOutcome {
            result: if storm {
                AlertResult::OpenedStorm(id)
            } else {
                AlertResult::Opened(id)
            },
            wrote: true,
        })
    }
}
