//! The engine: the one place where changes are decided and written.
//!
//! Every change goes through a single writer thread (the serialized
//! consumer): it loads the task, asks the domain to decide, folds the new
//! events, and commits event, snapshot, indexes, outbox entries and the
//! request key in one store transaction. It takes every request that is
//! waiting, commits each, then flushes once for the whole batch (group
//! commit) before it answers any of them: nobody is told about a change
//! that is not durable, and two clicks on one button are decided one after
//! the other, never raced.
//!
//! Reads go straight to the store on tokio's blocking pool.
//!
//! - [`Ledger::submit`] answers once the batch is flushed, with the blocking
//!   `Store::flush` on the writer thread: never `flush_async`, which can deadlock in
//!   sled 0.34.
//! - A request may carry a key (an interaction id, a draft's source message, a page's
//!   or an SLA alert's key): a key seen before answers with the task and writes
//!   nothing, so a replay creates nothing twice.
//! - Timer commands (`Command::Page`, `Command::RecordSla`) carry the task version
//!   they were planned from; `decide` refuses them if the task changed since, so no
//!   page or alert is recorded after the change that stops it.
//! - A change reads the task's history only when `pager_sync::may_update` says one of
//!   its events could update an outside pager.
//! - [`Ledger::next_page`] walks a `store::Pages` (the timers' and the digests' walks
//!   over every open task, a page at a time); [`Ledger::recent_open`] lists a client's
//!   recent open tasks through the index by creation (the duplicate check's candidates).
//! - [`PonteError`]: a `UserError` is shown to the user, in their language and only to
//!   them; an internal failure is logged with a short reference (`E1A2B3`), which is
//!   all the user sees.
//! - `crate::ops::watchdog` ends the process when one batch runs for over 60 s.

use std::sync::Arc;
use std::thread;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::app::clock::Clock;
use crate::domain::effect::effects_with_history;
use crate::domain::permission::{Action, authorize};
use crate::domain::{
    Actor, ClientKey, ClientRouting, Command, Event, EventKind, NewTask, Task, TaskId, UserError,
    Who, decide, decide_create,
};
use crate::store::{Commit, CommitOutcome, Pages, Store, StoreError, TaskFilter, TaskQuery};

pub use crate::domain::routing::Rules;
pub(crate) use alerts::lookups_from_history;
pub use alerts::{
    AlertResult, HEARTBEAT_SOURCE, IncomingAlert, MonitorOp, MonitorOutcome, SWEEP_BATCH, beat_key,
    monitoring,
};

mod alerts;

/// What someone asks for.
#[derive(Clone, Debug)]
pub enum Op {
    Create { client: ClientKey, new: NewTask },
    Change { task: TaskId, command: Command },
}

/// A request to change something, from a person or from Ponte itself.
#[derive(Clone, Debug)]
pub struct Request {
    pub actor: Actor,
    /// `Who::Ponte` for Ponte's own bookkeeping (linking a task to its chat
    /// messages); the actor's permissions still apply.
    pub by: Who,
    pub op: Op,
    /// A unique key of the request (an interaction id): a request seen
    /// before changes nothing and answers what the first one did.
    pub key: Option<String>,
}

impl Request {
    pub fn by(actor: Actor, op: Op) -> Self {
        Self {
            by: Who::Person(actor.person),
            actor,
            op,
            key: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// What a request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The task as it is now.
    pub task: Task,
    /// The events this request appended (empty when `replayed`).
    pub events: Vec<Event>,
    /// The request had been seen before; nothing new was written.
    pub replayed: bool,
}

/// A failure with a reference to quote: the details are in the log under
/// the same reference, the user sees only the reference.
#[derive(Debug, thiserror::Error)]
#[error("internal error {reference}: {message}")]
pub struct InternalError {
    pub reference: String,
    pub message: String,
}

impl InternalError {
    /// Logs `error` with a fresh reference and returns it.
    pub fn log(context: &str, error: &dyn std::error::Error) -> Self {
        let reference = new_reference();
        tracing::error!(reference = %reference, context, error = %error, "internal error");
        Self {
            reference,
            message: format!("{context}: {error}"),
        }
    }
}

fn new_reference() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("E{:06X}", (nanos ^ n.wrapping_mul(0x9E37_79B9)) & 0xFF_FFFF)
}

/// Either the user's mistake (show it to them) or ours (log it, show a reference).
#[derive(Debug, thiserror::Error)]
pub enum PonteError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl PonteError {
    fn store(context: &str, error: StoreError) -> Self {
        PonteError::Internal(InternalError::log(context, &error))
    }
}

/// The synchronous core: decides and commits one request, without flushing.
pub struct Engine<S: Store> {
    store: Arc<S>,
    rules: Arc<Rules>,
}

impl<S: Store> Engine<S> {
    pub fn new(store: Arc<S>, rules: Arc<Rules>) -> Self {
        Self { store, rules }
    }

    fn routing(&self, client: &ClientKey) -> Result<&ClientRouting, PonteError> {
        self.rules
            .get(client)
            .ok_or(PonteError::User(UserError::NotForClient))
    }

    /// Decides and writes one request. The change is written but not yet
    /// durable: call [`Store::flush`] before telling anybody.
    pub fn execute(&self, request: &Request, now: jiff::Timestamp) -> Result<Outcome, PonteError> {
        if let Some(key) = &request.key {
            let seen = self
                .store
                .request(key)
                .map_err(|e| PonteError::store("reading request keys", e))?;
            if let Some(record) = seen {
                return self.replay(&record.task);
            }
        }
        // Only this engine writes, so a conflict means someone else wrote to
        // the store (a bug, or a second process): try again once on fresh data.
        self.execute_with(request, now, &|_| Vec::new())
    }

    /// [`Engine::execute`] without a request key, writing the lookups
    /// `lookups` makes for the task's id in the same transaction.
    pub(crate) fn execute_with(
        &self,
        request: &Request,
        now: jiff::Timestamp,
        lookups: &Lookups<'_>,
    ) -> Result<Outcome, PonteError> {
        match self.try_execute(request, now, lookups) {
            Ok(Attempt::Done(outcome)) => Ok(*outcome),
            Ok(Attempt::Conflict) => match self.try_execute(request, now, lookups)? {
                Attempt::Done(outcome) => Ok(*outcome),
                Attempt::Conflict => Err(PonteError::store(
                    "writing a change",
                    StoreError::Conflict("the task changed twice under the engine".into()),
                )),
            },
            Err(e) => Err(e),
        }
    }

    fn replay(&self, id: &TaskId) -> Result<Outcome, PonteError> {
        let task = self
            .store
            .task(id)
            .map_err(|e| PonteError::store("reading a task", e))?
            .ok_or_else(|| {
                PonteError::store(
                    "replaying a request",
                    StoreError::Corrupt(format!("request key points to missing task {id}")),
                )
            })?;
        Ok(Outcome {
            task,
            events: Vec::new(),
            replayed: true,
        })
    }

    fn try_execute(
        &self,
        request: &Request,
        now: jiff::Timestamp,
        lookups: &Lookups<'_>,
    ) -> Result<Attempt, PonteError> {
        let (before, kinds) = match &request.op {
            Op::Create { client, new } => {
                let routing = self.routing(client)?;
                let kinds = decide_create(&request.actor, client, new, routing, now)?;
                let number = self
                    .store
                    .next_number(client)
                    .map_err(|e| PonteError::store("numbering a task", e))?;
                (Before::New(TaskId::new(client.clone(), number)), kinds)
            }
            Op::Change { task, command } => {
                let current = self.load_visible(&request.actor, task)?;
                let routing = self.routing(task.client())?;
                let kinds = decide(&current, &request.actor, command, routing, now)?;
                (Before::Existing(Box::new(current)), kinds)
            }
        };
        self.write(before, kinds, request, now, lookups)
    }

    /// A task the actor may see; another client's task is reported as
    /// unknown, so nobody learns what exists elsewhere.
    fn load_visible(&self, actor: &Actor, id: &TaskId) -> Result<Task, PonteError> {
        let unknown = || UserError::UnknownTask { id: id.to_string() };
        if !actor.serves(id.client()) {
            return Err(unknown().into());
        }
        let task = self
            .store
            .task(id)
            .map_err(|e| PonteError::store("reading a task", e))?
            .ok_or_else(unknown)?;
        authorize(actor, Action::View, &task).map_err(|_| unknown())?;
        Ok(task)
    }

    fn write(
        &self,
        before: Before,
        kinds: Vec<EventKind>,
        request: &Request,
        now: jiff::Timestamp,
        lookups: &Lookups<'_>,
    ) -> Result<Attempt, PonteError> {
        let (id, first_seq, before) = match before {
            Before::New(id) => (id, 1, None),
            Before::Existing(task) => (task.id.clone(), task.version + 1, Some(*task)),
        };
        let events: Vec<Event> = kinds
            .into_iter()
            .zip(first_seq..)
            .map(|(kind, seq)| Event {
                task: id.clone(),
                seq,
                at: now,
                by: request.by,
                kind,
            })
            .collect();
        let after = match &before {
            None => Task::fold(&events),
            Some(task) => {
                let mut task = task.clone();
                events.iter().try_for_each(|e| task.apply(e)).map(|()| task)
            }
        }
        .map_err(|e| PonteError::Internal(InternalError::log("folding new events", &e)))?;
        // Outside pagers hear of an ack or a resolve of a task paged to
        // them (gaps): that needs the earlier events, read only then.
        let history = if before.is_some() && crate::domain::pager_sync::may_update(&events) {
            self.store
                .events(&id)
                .map_err(|e| PonteError::store("reading a task's history", e))?
        } else {
            Vec::new()
        };
        let commit = Commit {
            effects: effects_with_history(&after, &history, &events),
            before,
            after,
            request: request.key.clone(),
            lookups: lookups(&id),
            events,
        };
        match self.store.commit(&commit) {
            Ok(CommitOutcome::Written) => Ok(Attempt::Done(Box::new(Outcome {
                task: commit.after,
                events: commit.events,
                replayed: false,
            }))),
            Ok(CommitOutcome::Duplicate(record)) => self
                .replay(&record.task)
                .map(|o| Attempt::Done(Box::new(o))),
            Err(StoreError::Conflict(why)) => {
                tracing::warn!(task = %id, why, "store conflict, deciding again");
                Ok(Attempt::Conflict)
            }
            Err(e) => Err(PonteError::store("writing a change", e)),
        }
    }
}

/// Monitoring's request found the writer thread stopped.
fn writer_gone() -> PonteError {
    PonteError::Internal(InternalError::log(
        "recording an alert",
        &std::io::Error::other("the writer thread has stopped"),
    ))
}

/// The lookups a change writes with it, made from the task's id (known
/// only once a creation is numbered).
pub(crate) type Lookups<'a> = dyn Fn(&TaskId) -> Vec<(String, Option<Vec<u8>>)> + 'a;

// The large variants are boxed (clippy::large_enum_variant); one small
// allocation per request is nothing beside a sled transaction.
enum Before {
    New(TaskId),
    Existing(Box<Task>),
}

enum Attempt {
    Done(Box<Outcome>),
    Conflict,
}

enum Job {
    Change {
        request: Request,
        reply: oneshot::Sender<Result<Outcome, PonteError>>,
    },
    Monitor {
        op: MonitorOp,
        reply: oneshot::Sender<Result<MonitorOutcome, PonteError>>,
    },
    /// Proof that the writer runs: answered after the batch it is in.
    Ping { reply: oneshot::Sender<()> },
}

/// A job's result, before it is sent back.
// One per job of a batch (at most 512): the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Done {
    Change(Result<Outcome, PonteError>),
    Monitor(Result<MonitorOutcome, PonteError>),
    Pong,
}

impl Done {
    fn wrote(&self) -> bool {
        match self {
            Done::Change(r) => matches!(r, Ok(o) if !o.replayed),
            Done::Monitor(r) => matches!(r, Ok(o) if o.wrote),
            Done::Pong => false,
        }
    }

    /// Nobody may be told of a change that did not reach the disk.
    fn not_durable(&mut self, error: &InternalError) {
        let failed = || {
            PonteError::Internal(InternalError {
                reference: error.reference.clone(),
                message: error.message.clone(),
            })
        };
        match self {
            Done::Change(r @ Ok(_)) => *r = Err(failed()),
            Done::Monitor(r @ Ok(_)) => *r = Err(failed()),
            _ => {}
        }
    }

    fn send(self, job: Job) {
        // The asker may have gone away (timeout); the change stands.
        match (job, self) {
            (Job::Change { reply, .. }, Done::Change(r)) => {
                let _ = reply.send(r);
            }
            (Job::Monitor { reply, .. }, Done::Monitor(r)) => {
                let _ = reply.send(r);
            }
            (Job::Ping { reply }, Done::Pong) => {
                let _ = reply.send(());
            }
            _ => tracing::error!("a job's result does not match the job"),
        }
    }
}

/// The most requests decided between two flushes.
const MAX_BATCH: usize = 512;

/// The async face of the engine: submit changes to the writer thread, read
/// from the store off the runtime.
pub struct Ledger<S: Store> {
    jobs: mpsc::Sender<Job>,
    store: Arc<S>,
    changed: Arc<Notify>,
    timers: Arc<Notify>,
    /// When the writer (and the loops sharing this) last worked.
    liveness: Arc<crate::ops::liveness::Liveness>,
}

impl<S: Store> Clone for Ledger<S> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            store: self.store.clone(),
            changed: self.changed.clone(),
            timers: self.timers.clone(),
            liveness: self.liveness.clone(),
        }
    }
}

impl<S: Store> Ledger<S> {
    /// Starts the writer thread. It stops when every `Ledger` clone is
    /// dropped. A [`crate::ops::watchdog`] ends the process if one batch of the
    /// writer's runs for longer than [`crate::ops::watchdog::STUCK_AFTER`] (a
    /// deadlocked store).
    pub fn start(store: Arc<S>, rules: Arc<Rules>, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let changed = Arc::new(Notify::new());
        let timers = Arc::new(Notify::new());
        let engine = Engine::new(store.clone(), rules);
        let notify = [changed.clone(), timers.clone()];
        let heartbeat = Arc::new(crate::ops::watchdog::Heartbeat::default());
        let liveness = Arc::new(crate::ops::liveness::Liveness::new());
        crate::ops::watchdog::spawn(
            heartbeat.clone(),
            crate::ops::watchdog::STUCK_AFTER,
            std::time::Duration::from_secs(5),
            crate::ops::watchdog::exit_stuck,
        )?;
        thread::Builder::new().name("ponte-writer".into()).spawn({
            let liveness = liveness.clone();
            move || writer(engine, rx, clock, notify, &heartbeat, &liveness)
        })?;
        Ok(Self {
            jobs,
            store,
            changed,
            timers,
            liveness,
        })
    }

    /// Decides and durably records a change; answers once it is flushed.
    pub async fn submit(&self, request: Request) -> Result<Outcome, PonteError> {
        let (reply, answer) = oneshot::channel();
        let gone = || {
            PonteError::Internal(InternalError::log(
                "submitting a change",
                &std::io::Error::other("the writer thread has stopped"),
            ))
        };
        self.jobs
            .send(Job::Change { request, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Records what monitoring says (an alert, a beat, a missed beat)
    /// through the writer; answers once it is flushed.
    pub async fn monitor(&self, op: MonitorOp) -> Result<MonitorOutcome, PonteError> {
        self.monitor_many(vec![op])
            .await
            .pop()
            .unwrap_or_else(|| Err(writer_gone()))
    }

    /// [`Ledger::monitor`] for several ops, decided in this order: all are
    /// queued before any answer is awaited, so they share the writer's
    /// batches and flushes (an Alertmanager webhook's alerts).
    pub async fn monitor_many(
        &self,
        ops: Vec<MonitorOp>,
    ) -> Vec<Result<MonitorOutcome, PonteError>> {
        let gone = writer_gone;
        let mut answers = Vec::with_capacity(ops.len());
        for op in ops {
            let (reply, answer) = oneshot::channel();
            if self.jobs.send(Job::Monitor { op, reply }).await.is_err() {
                answers.push(None);
            } else {
                answers.push(Some(answer));
            }
        }
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            results.push(match answer {
                Some(answer) => answer.await.unwrap_or_else(|_| Err(gone())),
                None => Err(gone()),
            });
        }
        results
    }

    /// Sends a ping through the writer's queue; answers once the writer has
    /// finished the batch it was in (false: the writer is gone).
    pub async fn ping(&self) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.jobs.send(Job::Ping { reply }).await.is_err() {
            return false;
        }
        answer.await.is_ok()
    }

    /// When the writer, the timers and the gateway last worked.
    pub fn liveness(&self) -> Arc<crate::ops::liveness::Liveness> {
        self.liveness.clone()
    }

    /// Woken after every batch that wrote something (new outbox entries):
    /// the outbox worker waits on it.
    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// Woken after every batch that wrote something, for the timers (a new
    /// task may need a timer sooner than the one they sleep for).
    pub fn timers_wake(&self) -> Arc<Notify> {
        self.timers.clone()
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// A task and its history as `actor` may see them (internal notes of
    /// the other side left out, and every note for a requester).
    pub async fn show(&self, actor: Actor, id: TaskId) -> Result<(Task, Vec<Event>), PonteError> {
        self.blocking(move |store| {
            let unknown = || UserError::UnknownTask { id: id.to_string() };
            if !actor.serves(id.client()) {
                return Err(unknown().into());
            }
            let task = store
                .task(&id)
                .map_err(|e| PonteError::store("reading a task", e))?
                .ok_or_else(unknown)?;
            let events = store
                .events(&id)
                .map_err(|e| PonteError::store("reading a history", e))?
                .into_iter()
                .filter(|e| e.kind.visibility().visible_to(actor.audience()))
                .collect();
            Ok((task, events))
        })
        .await
    }

    /// A task and its whole history, for Ponte's own workers (the outbox
    /// sinks decide themselves what each side may see).
    pub async fn history(&self, id: TaskId) -> Result<Option<(Task, Vec<Event>)>, PonteError> {
        self.blocking(move |store| {
            let Some(task) = store
                .task(&id)
                .map_err(|e| PonteError::store("reading a task", e))?
            else {
                return Ok(None);
            };
            let events = store
                .events(&id)
                .map_err(|e| PonteError::store("reading a history", e))?;
            Ok(Some((task, events)))
        })
        .await
    }

    /// Lists tasks of a client the actor serves.
    pub async fn list(&self, actor: Actor, query: TaskQuery) -> Result<Vec<Task>, PonteError> {
        self.blocking(move |store| {
            if !actor.serves(&query.client) {
                return Err(UserError::NotForClient.into());
            }
            store
                .list(&query)
                .map_err(|e| PonteError::store("listing tasks", e))
        })
        .await
    }

    /// The next page of a walk over a client's tasks ([`Pages`]); `None`
    /// once the walk is over.
    pub async fn next_page(
        &self,
        actor: Actor,
        pages: &mut Pages,
    ) -> Result<Option<Vec<Task>>, PonteError> {
        let Some(query) = pages.next_query() else {
            return Ok(None);
        };
        let tasks = self.list(actor, query).await?;
        pages.advance(&tasks);
        Ok(Some(tasks))
    }

    /// The open tasks of `client` created at or after `since`, among its
    /// `limit` most recently numbered tasks, by creation (what a new report
    /// may be a duplicate of). Through the index by creation: it reads those
    /// tasks only, however many tasks and open tasks the client has.
    pub async fn recent_open(
        &self,
        actor: Actor,
        client: ClientKey,
        since: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<Task>, PonteError> {
        self.blocking(move |store| {
            if !actor.serves(&client) {
                return Err(UserError::NotForClient.into());
            }
            let failed = |e| PonteError::store("listing recent tasks", e);
            let last = store
                .next_number(&client)
                .map_err(failed)?
                .saturating_sub(1);
            let query = TaskQuery {
                client,
                filter: TaskFilter::CreatedIn {
                    from: since,
                    to: jiff::Timestamp::MAX,
                },
                after: Some(last.saturating_sub(limit as u64)),
                limit,
            };
            let mut tasks = store.list(&query).map_err(failed)?;
            tasks.retain(|t| t.status.is_open());
            Ok(tasks)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> Result<T, PonteError> + Send + 'static,
    ) -> Result<T, PonteError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| PonteError::Internal(InternalError::log("reading the store", &e)))?
    }
}

fn writer<S: Store>(
    engine: Engine<S>,
    mut rx: mpsc::Receiver<Job>,
    clock: Arc<dyn Clock>,
    changed: [Arc<Notify>; 2],
    heartbeat: &crate::ops::watchdog::Heartbeat,
    liveness: &crate::ops::liveness::Liveness,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        heartbeat.busy();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut results: Vec<Done> = batch
            .iter()
            .map(|job| match job {
                Job::Change { request, .. } => Done::Change(engine.execute(request, clock.now())),
                Job::Monitor { op, .. } => Done::Monitor(engine.monitor(op, clock.now())),
                Job::Ping { .. } => Done::Pong,
            })
            .collect();
        let wrote = results.iter().any(Done::wrote);
        if wrote {
            if let Err(e) = engine.store.flush() {
                // Not durable: nobody may be told it happened.
                let error = InternalError::log("flushing the store", &e);
                for result in &mut results {
                    result.not_durable(&error);
                }
            }
        }
        heartbeat.idle();
        liveness.mark(crate::ops::liveness::Part::Writer);
        for (job, result) in batch.drain(..).zip(results) {
            result.send(job);
        }
        if wrote {
            for notify in &changed {
                notify.notify_one();
            }
        }
    }
    tracing::debug!("writer thread stopping: no more ledgers");
}
