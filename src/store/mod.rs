//! Persistence. `Store` is what the rest of Ponte knows; `SledStore` is the
//! only code that knows sled. The store imports only `domain` (`tests/layers.rs`).
//!
//! A change is written by one call to [`Store::commit`]: its events, the new
//! task snapshot, the index entries that change, the outbox entries and the
//! request key, in one transaction. `commit` does not flush; the caller
//! flushes (once for a whole batch of commits: group commit) before it tells
//! anybody the change happened.
//!
//! The index trees and `open_tasks` are derived from the snapshots and written in the
//! commit's transaction; `SledStore::check_integrity` (behind `ponte check-store`) and
//! the store's property test compare each with a full scan. A mark (`Store::commit_mark`:
//! a digest of a day, a handover, a subscription change) exists once and is written
//! with its outbox entries in one transaction; marks are never deleted.
//!
//! Work over every open task of a client (timers, digests) walks them with [`Pages`],
//! [`PAGE`] (1,000) at a time, so memory does not grow with the open tasks and none is
//! skipped. Digests read finished tasks through `TaskFilter::ChangedAfter` (only those
//! changed since the last digest), SLA reports through `TaskFilter::CreatedIn`.
//!
//! The store records its [`SCHEMA_VERSION`] and refuses to open another one, saying how
//! to migrate (`ponte export`, then `ponte import` into a new directory).

pub mod codec;
mod keys;
mod sled_store;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{ClientKey, Event, PersonId, Side, Status, Task, TaskId, effect::Effect};

pub use sled_store::damage::{Diagnosis, Salvage, diagnose, is_opening, open_copy};
pub use sled_store::{BackupReport, SledStore, StoreOptions};

/// The schema version written at creation and checked at every open.
pub const SCHEMA_VERSION: u32 = 1;

/// One change to write atomically.
#[derive(Clone, Debug)]
pub struct Commit {
    /// The task before the change (`None` when the change creates it). The
    /// store refuses the commit with [`StoreError::Conflict`] unless the
    /// stored snapshot is exactly at this version (or absent, for a creation,
    /// in which case the client's counter must be one below the new number).
    pub before: Option<Task>,
    /// The task after the change: the fold of `before` and `events`.
    pub after: Task,
    /// The new events, with consecutive `seq` following `before.version`.
    pub events: Vec<Event>,
    /// Side effects to deliver once the change is durable.
    pub effects: Vec<Effect>,
    /// The key of the request that made this change (an interaction id), so
    /// a replayed request is recognised and creates nothing twice.
    pub request: Option<String>,
    /// Lookups to set (`Some`) or remove (`None`) with the change (see
    /// [`Store::lookup`]).
    pub lookups: Vec<(String, Option<Vec<u8>>)>,
}

/// What a request key led to the first time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub task: TaskId,
    /// The version of the task right after that request's change.
    pub version: u32,
}

/// The result of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Written (not yet flushed).
    Written,
    /// The request key was seen before; nothing was written.
    Duplicate(RequestRecord),
}

/// A pending side effect in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Position in the outbox; entries are delivered in this order.
    pub id: u64,
    pub effect: Effect,
    /// Not to be tried before this time (backoff after failures).
    pub not_before: Timestamp,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// An outbox entry set aside because delivering it was refused for good
/// (a missing permission, DMs closed, an archived thread, a pager's 4xx):
/// trying again changes nothing until someone acts. `ponte outbox` lists,
/// retries or drops them; the entry keeps its id, so a retried entry goes
/// back to its place in the outbox order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub entry: OutboxEntry,
    /// When it was set aside.
    pub at: Timestamp,
    /// Why: the last failure, as the deliverer described it.
    pub error: String,
}

/// Something done once, not tied to one task's history: the digest of a
/// client, side and day; a shift's handover message. Its key says what it
/// is (`digest:ACME:internal:2026-11-28`); keys sharing a prefix sort in the
/// order of what follows it, so [`Store::last_mark`] finds the latest one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub key: String,
    pub at: Timestamp,
}

/// Which tasks to list. Results are ordered by task number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskQuery {
    pub client: ClientKey,
    pub filter: TaskFilter,
    /// Only tasks with a number greater than this (for paging). For
    /// [`TaskFilter::DueBy`], ordered by due time, this is still a filter on
    /// the number, so it does not page that listing: narrow the time instead.
    pub after: Option<u64>,
    pub limit: usize,
}

/// The index a listing uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskFilter {
    /// Tasks in any of these statuses.
    Status(Vec<Status>),
    /// Open tasks handled by one side.
    HandledBy(Side),
    /// Open tasks assigned to a person.
    AssignedTo(PersonId),
    /// Open tasks with a due time at or before this one, earliest first.
    DueBy(Timestamp),
    /// Tasks, open or not, whose last change (`updated_at`) is after this
    /// time, least recently changed first (then by number).
    ChangedAfter(Timestamp),
    /// Tasks, open or not, created at or after `from` and before `to`,
    /// earliest first (then by number).
    CreatedIn { from: Timestamp, to: Timestamp },
}

impl TaskFilter {
    pub fn open() -> Self {
        TaskFilter::Status(Status::OPEN.to_vec())
    }
}

/// How many tasks work over every open task of a client (the SLA timer,
/// the escalator, digests) holds at once: listings go a page at a time, so
/// memory does not grow with the number of open tasks, and none is left
/// out however many there are.
pub const PAGE: usize = 1_000;

/// The listings that walk all of a client's tasks matching a filter a page
/// at a time, by number; each page's query comes from [`Pages::next_query`]
/// and its answer goes back through [`Pages::advance`]. Only filters
/// listed by number page this way, so the constructors pick them: the open
/// tasks go status by status (a listing of several statuses scans a page
/// of each status for every page it returns). A task that changes between
/// two pages may be seen twice or not at all in one walk; the next walk
/// sees it.
#[derive(Clone, Debug)]
pub struct Pages {
    client: ClientKey,
    /// The filters still to walk, the current one last.
    filters: Vec<TaskFilter>,
    after: Option<u64>,
    page: usize,
}

impl Pages {
    /// Every open task of `client`.
    pub fn open(client: &ClientKey, page: usize) -> Self {
        let filters = Status::OPEN
            .iter()
            .rev()
            .map(|s| TaskFilter::Status(vec![*s]))
            .collect();
        Self::walk(client, filters, page)
    }

    /// The open tasks of `client` handled by `side`.
    pub fn handled_by(client: &ClientKey, side: Side, page: usize) -> Self {
        Self::walk(client, vec![TaskFilter::HandledBy(side)], page)
    }

    fn walk(client: &ClientKey, filters: Vec<TaskFilter>, page: usize) -> Self {
        Self {
            client: client.clone(),
            filters,
            after: None,
            page: page.max(1),
        }
    }

    /// The query of the next page; `None` once the walk is over.
    pub fn next_query(&self) -> Option<TaskQuery> {
        Some(TaskQuery {
            client: self.client.clone(),
            filter: self.filters.last()?.clone(),
            after: self.after,
            limit: self.page,
        })
    }

    /// Takes the answer to [`Pages::next_query`]: an empty page ends the
    /// current filter. (A short one does not: a listing leaves out a task
    /// that changed between its index scan and its read, so a page can be
    /// short with more to come.)
    pub fn advance(&mut self, page: &[Task]) {
        match page.last() {
            Some(last) => self.after = Some(last.id.number()),
            None => {
                self.filters.pop();
                self.after = None;
            }
        }
    }

    /// Walks the pages on `store`, calling `f` with each (blocking).
    pub fn for_each(
        mut self,
        store: &dyn Store,
        mut f: impl FnMut(Vec<Task>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        while let Some(query) = self.next_query() {
            let tasks = store.list(&query)?;
            self.advance(&tasks);
            f(tasks)?;
        }
        Ok(())
    }
}

/// Why the store failed. None of these is the user's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sled::Error,
    },
    #[error(
        "the store at {path} has schema version {found}, this Ponte reads version {expected}; \
         use the Ponte release that wrote it to `ponte export`, then `ponte import` here"
    )]
    SchemaMismatch {
        path: String,
        found: u32,
        expected: u32,
    },
    /// sled cannot read the store's files (it failed or panicked opening
    /// them): `what` says which part, as far as known.
    #[error(
        "the store at {path} is damaged: {what}; run `ponte check-store` for the way to recover"
    )]
    Damaged { path: String, what: String },
    #[error("the store was changed concurrently ({0}); retry")]
    Conflict(String),
    #[error("the store holds data this Ponte cannot read ({0})")]
    Corrupt(String),
    /// The commit contradicts itself (`after` is not the fold of `before`
    /// and `events`): a bug in the caller, refused before anything is
    /// written.
    #[error("refused an inconsistent change ({0}); this is a bug in Ponte")]
    InvalidCommit(String),
    #[error(
        "cannot import into a store that already holds {tasks} tasks; import needs an empty data directory"
    )]
    NotEmpty { tasks: u64 },
    #[error("import line {line}: {reason}")]
    Import { line: usize, reason: String },
    #[error("storage failure: {0}")]
    Sled(#[from] sled::Error),
    #[error("i/o failure: {0}")]
    Io(#[from] std::io::Error),
}

/// Everything Ponte asks of its storage. Calls block: async code runs them
/// on a blocking thread (see `crate::app::engine`).
pub trait Store: Send + Sync + 'static {
    /// Writes one change atomically (not flushed).
    ///
    /// A request key seen before wins over everything: the result is
    /// [`CommitOutcome::Duplicate`] and nothing else is checked or written.
    /// Otherwise the commit is refused with [`StoreError::Conflict`] when the
    /// stored task is not `before` (see [`Commit::before`]), and with
    /// [`StoreError::InvalidCommit`] when `after` is not the fold of `before`
    /// and `events`. New outbox entries get the next ids, in the order of
    /// `effects`, and are due from `after.updated_at`.
    fn commit(&self, commit: &Commit) -> Result<CommitOutcome, StoreError>;
    /// Makes every change written so far durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Records `mark` and queues `effects` (due from `mark.at`) in one
    /// transaction, unless a mark with that key exists: then nothing is
    /// written and the answer is `false`. This is how something that must
    /// happen once (a day's digest) happens once, across restarts. Not
    /// flushed, like [`Store::commit`].
    fn commit_mark(&self, mark: &Mark, effects: &[Effect]) -> Result<bool, StoreError>;
    /// A value the application keeps by key (monitoring's indexes), written
    /// with a commit ([`Commit::lookups`]) or by [`Store::put_lookups`].
    fn lookup(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets or removes lookups outside a commit, atomically (not flushed).
    fn put_lookups(&self, changes: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError>;
    /// The lookups whose keys start with `prefix`, in key order, after the
    /// key `after` (from the first when `None`), at most `limit`.
    fn lookups_after(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// When the mark with this key was recorded, if it was.
    fn mark(&self, key: &str) -> Result<Option<Timestamp>, StoreError>;
    /// The mark with the greatest key starting with `prefix`.
    fn last_mark(&self, prefix: &str) -> Result<Option<Mark>, StoreError>;
    /// The marks with the greatest keys starting with `prefix`, greatest
    /// first, at most `limit` (a client's recent maintenance windows).
    fn last_marks(&self, prefix: &str, limit: usize) -> Result<Vec<Mark>, StoreError>;

    /// The number the next task of `client` gets.
    fn next_number(&self, client: &ClientKey) -> Result<u64, StoreError>;
    fn task(&self, id: &TaskId) -> Result<Option<Task>, StoreError>;
    /// A task's whole history, in order.
    fn events(&self, id: &TaskId) -> Result<Vec<Event>, StoreError>;
    fn list(&self, query: &TaskQuery) -> Result<Vec<Task>, StoreError>;
    /// What a request key led to, if it was seen.
    fn request(&self, key: &str) -> Result<Option<RequestRecord>, StoreError>;

    /// Outbox entries due at `now`, oldest first, at most `limit`.
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// How many entries wait in the outbox (may count them one by one).
    fn outbox_len(&self) -> Result<usize, StoreError>;
    /// Removes a delivered entry (no error if it is already gone).
    fn outbox_done(&self, id: u64) -> Result<(), StoreError>;
    /// Records a failed attempt and when to try again (no error if the
    /// entry is already gone).
    fn outbox_retry(&self, id: u64, not_before: Timestamp, error: &str) -> Result<(), StoreError>;

    /// Sets entry `id` aside as a dead letter at `at` (no error if it is
    /// already gone from the outbox).
    fn outbox_dead(&self, id: u64, at: Timestamp, error: &str) -> Result<(), StoreError>;
    /// The dead letters, oldest id first, at most `limit`.
    fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;
    /// How many dead letters there are.
    fn dead_count(&self) -> Result<usize, StoreError>;
    /// Puts dead letter `id` back into the outbox, due at once with no
    /// attempts counted. `false` if there is no such dead letter.
    fn dead_retry(&self, id: u64) -> Result<bool, StoreError>;
    /// Deletes dead letter `id` for good. `false` if there is none.
    fn dead_drop(&self, id: u64) -> Result<bool, StoreError>;

    /// Every event of every task, ordered by client, task number and seq.
    fn for_each_event(
        &self,
        f: &mut dyn FnMut(Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Every task snapshot, ordered by client and task number.
    fn for_each_task(
        &self,
        f: &mut dyn FnMut(Task) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// How many tasks are stored (may count them one by one: not for hot paths).
    fn task_count(&self) -> Result<u64, StoreError>;

    /// Writes something small and flushes it, to show the store is writable
    /// (`/healthz`). The default only flushes.
    fn probe_write(&self) -> Result<(), StoreError> {
        self.flush()
    }

    /// Records that `client`'s tasks after its last one up to `through` were
    /// lost (an import of a salvaged export): their numbers are never given
    /// again, each is marked `lost:KEY-N`, and the integrity check accepts
    /// the gap. The default cannot.
    fn record_lost(
        &self,
        client: &ClientKey,
        through: u64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let _ = (client, through, at);
        Err(StoreError::Io(std::io::Error::other(
            "this store cannot record lost tasks",
        )))
    }

    /// Copies the whole store, consistently, into a new directory while it
    /// stays in use (`ponte backup`). The default cannot.
    fn backup(&self, dir: &std::path::Path) -> Result<BackupReport, StoreError> {
        let _ = dir;
        Err(StoreError::Io(std::io::Error::other(
            "this store cannot make backups",
        )))
    }
}
