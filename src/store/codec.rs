//! The binary encoding of task snapshots (the values of the `tasks` and
//! `open_tasks` trees). Events stay JSON: they are the record, and their JSON
//! is the stable `ponte export` format. A snapshot is derived data (the fold
//! of the events), so its encoding is private to this version of the code:
//! a store whose snapshots are in an older encoding has them re-encoded when
//! it is opened ([`reencode_json_snapshots`]).
//!
//! Why not JSON: a digest decodes a few thousand snapshots, and parsing
//! their JSON (field names, RFC 3339 timestamps through jiff, `ACME-42` ids)
//! was most of its time. This encoding is read front to back with no field
//! names and no text to parse.
//!
//! # Format (version 1)
//!
//! The first byte is [`VERSION`]. Then every field of [`Task`] in
//! declaration order (and of [`Facts`] in its order), with:
//! - unsigned integers (numbers, person ids, chat ids, version, lengths) as
//!   LEB128 varints;
//! - strings as a varint byte length and their UTF-8 bytes;
//! - timestamps as the zigzag varint of `Timestamp::as_second` and the
//!   zigzag varint of `Timestamp::subsec_nanosecond`;
//! - `Option`s as a byte 0 (none) or 1 followed by the value;
//! - enums as a one-byte tag (the tables are in [`status_code`],
//!   [`side_code`], ...) followed by the variant's fields;
//! - sequences as a varint count and the elements.
//!
//! The value must end exactly where the task does. The encoding is
//! deterministic (the same task always gives the same bytes), which keeps
//! `open_tasks` byte-identical to `tasks` even when each is re-encoded on
//! its own.
//!
//! # Keeping it complete
//!
//! The encoder destructures [`Task`], [`Facts`], [`Move`], [`ChatRef`] and
//! matches every enum without a wildcard, so a new field or variant does not
//! compile until it is encoded here. Decoding builds the same structs with
//! every field named. A change of the format bumps [`VERSION`] and the
//! `meta` marker of [`reencode_json_snapshots`] (which then has to read the
//! previous version too).
//!
//! # Trust
//!
//! Decoding never panics and never builds an invalid value: garbage or
//! truncated bytes give a [`DecodeError`] (which the store reports as
//! `StoreError::Corrupt` naming the tree and key). Identifiers are validated
//! as when they are parsed from JSON (`ClientKey::new`, `Category::new`, a
//! task number above 0): the checks are a few byte comparisons on at most 32
//! bytes, so skipping them for bytes the store wrote itself would save
//! nothing measurable, and they keep a damaged store from producing ids the
//! rest of Ponte assumes valid.

use jiff::Timestamp;

use super::StoreError;
use super::keys;
use crate::domain::facts::{Facts, Move};
use crate::domain::sla::Holder;
use crate::domain::{
    Approval, Category, ChatRef, ClientKey, PersonId, Priority, RouteReason, Side, Status, Task,
    TaskId, Who,
};

/// The first byte of every snapshot in this encoding. It can never start a
/// JSON snapshot (those start with `{`).
pub const VERSION: u8 = 1;

/// Why bytes are not a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a snapshot (byte {offset}): {what}")]
pub struct DecodeError {
    /// Where in the value decoding stopped.
    pub offset: usize,
    pub what: String,
}

/// The bytes of `task`'s snapshot.
pub fn encode_snapshot(task: &Task) -> Vec<u8> {
    let Task {
        id,
        title,
        details,
        requester,
        asking_side,
        handling_side,
        assignee,
        priority,
        category,
        due,
        status,
        approval,
        route,
        chat,
        mirror,
        reporters,
        created_at,
        updated_at,
        version,
        facts,
    } = task;
    let mut w = Writer(Vec::with_capacity(
        160 + title.len() + details.len() + facts.moves.len() * 8,
    ));
    w.u8(VERSION);
    w.str(id.client().as_str());
    w.varint(id.number());
    w.str(title);
    w.str(details);
    w.varint(requester.0);
    w.u8(side_code(*asking_side));
    w.u8(side_code(*handling_side));
    w.opt(assignee.as_ref(), |w, p| w.varint(p.0));
    w.u8(priority_code(*priority));
    w.opt(category.as_ref(), |w, c| w.str(c.as_str()));
    w.opt(due.as_ref(), |w, t| w.ts(*t));
    w.u8(status_code(*status));
    match approval {
        Approval::NotNeeded => w.u8(0),
        Approval::Pending { since } => {
            w.u8(1);
            w.ts(*since);
        }
        Approval::Granted { by, at } => {
            w.u8(2);
            w.who(*by);
            w.ts(*at);
        }
        Approval::Refused { by, at, reason } => {
            w.u8(3);
            w.who(*by);
            w.ts(*at);
            w.str(reason);
        }
    }
    match route {
        None => w.u8(0),
        Some(RouteReason::Requested { side }) => {
            w.u8(1);
            w.u8(side_code(*side));
        }
        Some(RouteReason::Keyword {
            category,
            keyword,
            owner,
        }) => {
            w.u8(2);
            w.str(category.as_str());
            w.str(keyword);
            w.u8(side_code(*owner));
        }
        Some(RouteReason::Category { category, owner }) => {
            w.u8(3);
            w.str(category.as_str());
            w.u8(side_code(*owner));
        }
        Some(RouteReason::FromMsp) => w.u8(4),
        Some(RouteReason::Default { side }) => {
            w.u8(5);
            w.u8(side_code(*side));
        }
        Some(RouteReason::Monitoring { source, side }) => {
            w.u8(6);
            w.str(source);
            w.u8(side_code(*side));
        }
    }
    w.chat(chat);
    w.chat(mirror);
    w.varint(reporters.len() as u64);
    for p in reporters {
        w.varint(p.0);
    }
    w.ts(*created_at);
    w.ts(*updated_at);
    w.varint(u64::from(*version));

    let Facts {
        moves,
        responded,
        acknowledged,
        finished_at,
        last_shared,
        last_note,
        finish,
        latest,
    } = facts;
    w.varint(moves.len() as u64);
    for Move {
        from,
        holder,
        handling,
    } in moves
    {
        w.ts(*from);
        w.u8(holder_code(*holder));
        w.u8(side_code(*handling));
    }
    for t in responded {
        w.opt(t.as_ref(), |w, t| w.ts(*t));
    }
    w.varint(acknowledged.len() as u64);
    for t in acknowledged {
        w.ts(*t);
    }
    w.opt(finished_at.as_ref(), |w, t| w.ts(*t));
    w.opt(last_shared.as_ref(), |w, s| w.str(s));
    for note in last_note {
        w.opt(note.as_ref(), |w, s| w.str(s));
    }
    w.opt(finish.as_ref(), |w, (at, status)| {
        w.ts(*at);
        w.u8(status_code(*status));
    });
    w.opt(latest.as_ref(), |w, t| w.ts(*t));
    w.0
}

/// The task whose snapshot `bytes` are.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Task, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    match r.u8()? {
        VERSION => {}
        b'{' => {
            return Err(r.fail(
                "a JSON snapshot of an older Ponte that was not re-encoded when the store was opened",
            ));
        }
        other => return Err(r.fail(format!("unknown snapshot version {other}"))),
    }
    let client = r.str()?;
    let client = ClientKey::new(client).map_err(|e| r.fail(e))?;
    let number = r.varint()?;
    if number == 0 {
        return Err(r.fail("task number 0"));
    }
    let id = TaskId::new(client, number);
    let title = r.string()?;
    let details = r.string()?;
    let requester = PersonId(r.varint()?);
    let asking_side = r.side()?;
    let handling_side = r.side()?;
    let assignee = r.opt(|r| r.varint().map(PersonId))?;
    let priority = match r.u8()? {
        0 => Priority::P1,
        1 => Priority::P2,
        2 => Priority::P3,
        3 => Priority::P4,
        other => return Err(r.fail(format!("priority code {other}"))),
    };
    let category = r.opt(Reader::category)?;
    let due = r.opt(Reader::ts)?;
    let status = r.status()?;
    let approval = match r.u8()? {
        0 => Approval::NotNeeded,
        1 => Approval::Pending { since: r.ts()? },
        2 => Approval::Granted {
            by: r.who()?,
            at: r.ts()?,
        },
        3 => Approval::Refused {
            by: r.who()?,
            at: r.ts()?,
            reason: r.string()?,
        },
        other => return Err(r.fail(format!("approval tag {other}"))),
    };
    let route = match r.u8()? {
        0 => None,
        1 => Some(RouteReason::Requested { side: r.side()? }),
        2 => Some(RouteReason::Keyword {
            category: r.category()?,
            keyword: r.string()?,
            owner: r.side()?,
        }),
        3 => Some(RouteReason::Category {
            category: r.category()?,
            owner: r.side()?,
        }),
        4 => Some(RouteReason::FromMsp),
        5 => Some(RouteReason::Default { side: r.side()? }),
        6 => Some(RouteReason::Monitoring {
            source: r.string()?,
            side: r.side()?,
        }),
        other => return Err(r.fail(format!("route tag {other}"))),
    };
    let chat = r.chat()?;
    let mirror = r.chat()?;
    let count = r.count(1)?;
    let mut reporters = Vec::with_capacity(count);
    for _ in 0..count {
        reporters.push(PersonId(r.varint()?));
    }
    let created_at = r.ts()?;
    let updated_at = r.ts()?;
    let version = u32::try_from(r.varint()?).map_err(|_| r.fail("version above u32"))?;

    let count = r.count(4)?;
    let mut moves = Vec::with_capacity(count);
    for _ in 0..count {
        moves.push(Move {
            from: r.ts()?,
            holder: r.holder()?,
            handling: r.side()?,
        });
    }
    let responded = [r.opt(Reader::ts)?, r.opt(Reader::ts)?];
    let count = r.count(2)?;
    let mut acknowledged = Vec::with_capacity(count);
    for _ in 0..count {
        acknowledged.push(r.ts()?);
    }
    let finished_at = r.opt(Reader::ts)?;
    let last_shared = r.opt(Reader::string)?;
    let last_note = [r.opt(Reader::string)?, r.opt(Reader::string)?];
    let finish = r.opt(|r| Ok((r.ts()?, r.status()?)))?;
    let latest = r.opt(Reader::ts)?;
    if r.at != bytes.len() {
        return Err(r.fail(format!(
            "{} bytes after the end of the task",
            bytes.len() - r.at
        )));
    }
    Ok(Task {
        id,
        title,
        details,
        requester,
        asking_side,
        handling_side,
        assignee,
        priority,
        category,
        due,
        status,
        approval,
        route,
        chat,
        mirror,
        reporters,
        created_at,
        updated_at,
        version,
        facts: Facts {
            moves,
            responded,
            acknowledged,
            finished_at,
            last_shared,
            last_note,
            finish,
            latest,
        },
    })
}

/// [`decode_snapshot`] of the value under `key` in `tree`, its failure
/// reported as the store reports unreadable records.
pub(super) fn decode_stored(tree: &str, key: &[u8], raw: &[u8]) -> Result<Task, StoreError> {
    decode_snapshot(raw).map_err(|e| {
        StoreError::Corrupt(format!("tree `{tree}`, key `{}`: {e}", keys::describe(key)))
    })
}

fn side_code(side: Side) -> u8 {
    match side {
        Side::Internal => 0,
        Side::Msp => 1,
    }
}

fn priority_code(priority: Priority) -> u8 {
    match priority {
        Priority::P1 => 0,
        Priority::P2 => 1,
        Priority::P3 => 2,
        Priority::P4 => 3,
    }
}

fn status_code(status: Status) -> u8 {
    match status {
        Status::New => 0,
        Status::Claimed => 1,
        Status::InProgress => 2,
        Status::WaitingOnRequester => 3,
        Status::WaitingOnOtherSide => 4,
        Status::Resolved => 5,
        Status::Closed => 6,
        Status::Cancelled => 7,
    }
}

fn holder_code(holder: Holder) -> u8 {
    match holder {
        Holder::Side(Side::Internal) => 0,
        Holder::Side(Side::Msp) => 1,
        Holder::Requester => 2,
        Holder::Nobody => 3,
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, b: u8) {
        self.0.push(b);
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn signed(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn ts(&mut self, t: Timestamp) {
        self.signed(t.as_second());
        self.signed(i64::from(t.subsec_nanosecond()));
    }

    fn who(&mut self, who: Who) {
        match who {
            Who::Person(p) => {
                self.u8(0);
                self.varint(p.0);
            }
            Who::Ponte => self.u8(1),
        }
    }

    fn chat(&mut self, chat: &ChatRef) {
        let ChatRef {
            channel,
            thread,
            message,
        } = chat;
        for id in [channel, thread, message] {
            self.opt(id.as_ref(), |w, id| w.varint(*id));
        }
    }

    fn opt<T>(&mut self, value: Option<&T>, f: impl FnOnce(&mut Self, &T)) {
        match value {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn fail(&self, what: impl std::fmt::Display) -> DecodeError {
        DecodeError {
            offset: self.at,
            what: what.to_string(),
        }
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.fail("truncated"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.fail("varint above u64"));
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.fail("varint longer than 10 bytes"))
    }

    fn signed(&mut self) -> Result<i64, DecodeError> {
        let v = self.varint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count of elements each at least `min_size` bytes long, refused if
    /// the rest of the value cannot hold them (so garbage cannot make the
    /// decoder allocate much).
    fn count(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(min_size as u64) > left {
            return Err(self.fail(format!("{n} elements in {left} bytes")));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.count(1)?;
        let raw = &self.bytes[self.at..self.at + len];
        let s = std::str::from_utf8(raw).map_err(|e| self.fail(e))?;
        self.at += len;
        Ok(s)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(str::to_owned)
    }

    fn ts(&mut self) -> Result<Timestamp, DecodeError> {
        let second = self.signed()?;
        let nanos = self.signed()?;
        let nanos = i32::try_from(nanos).map_err(|_| self.fail("nanoseconds above i32"))?;
        Timestamp::new(second, nanos).map_err(|e| self.fail(e))
    }

    fn side(&mut self) -> Result<Side, DecodeError> {
        match self.u8()? {
            0 => Ok(Side::Internal),
            1 => Ok(Side::Msp),
            other => Err(self.fail(format!("side code {other}"))),
        }
    }

    fn status(&mut self) -> Result<Status, DecodeError> {
        Ok(match self.u8()? {
            0 => Status::New,
            1 => Status::Claimed,
            2 => Status::InProgress,
            3 => Status::WaitingOnRequester,
            4 => Status::WaitingOnOtherSide,
            5 => Status::Resolved,
            6 => Status::Closed,
            7 => Status::Cancelled,
            other => return Err(self.fail(format!("status code {other}"))),
        })
    }

    fn holder(&mut self) -> Result<Holder, DecodeError> {
        Ok(match self.u8()? {
            0 => Holder::Side(Side::Internal),
            1 => Holder::Side(Side::Msp),
            2 => Holder::Requester,
            3 => Holder::Nobody,
            other => return Err(self.fail(format!("holder code {other}"))),
        })
    }

    fn who(&mut self) -> Result<Who, DecodeError> {
        match self.u8()? {
            0 => Ok(Who::Person(PersonId(self.varint()?))),
            1 => Ok(Who::Ponte),
            other => Err(self.fail(format!("who tag {other}"))),
        }
    }

    fn category(&mut self) -> Result<Category, DecodeError> {
        let raw = self.str()?;
        Category::new(raw).map_err(|e| self.fail(e))
    }

    fn chat(&mut self) -> Result<ChatRef, DecodeError> {
        Ok(ChatRef {
            channel: self.opt(Reader::varint)?,
            thread: self.opt(Reader::varint)?,
            message: self.opt(Reader::varint)?,
        })
    }

    fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            other => Err(self.fail(format!("option tag {other}"))),
        }
    }
}

// ---- Re-encoding the JSON snapshots of an older store, once, at open ----

/// `meta` key set once every snapshot in `tasks` and `open_tasks` is in
/// this encoding (stores written before it had JSON snapshots).
pub(super) const META_SNAPSHOT_CODEC: &[u8] = b"snapshot_codec_v1";

/// How many snapshots [`reencode_json_snapshots`] writes per sled batch.
const REENCODE_BATCH: usize = 10_000;

/// Re-encodes, once, every snapshot an older Ponte wrote as JSON in
/// `trees` (the `tasks` and `open_tasks` trees, by name), then sets
/// [`META_SNAPSHOT_CODEC`] in `meta`. Runs at open, before anything else
/// reads a snapshot or can write.
///
/// Crash-safe: each tree is converted on its own, value by value, and a
/// value already in this encoding is left alone; so a run cut short is
/// finished by the next open, and the marker is set only after everything
/// is flushed. As the encoding is deterministic, `open_tasks` ends up
/// byte-identical to `tasks` although each is converted separately. A JSON
/// value that does not parse as a task is left as it is (reading it then
/// reports the tree and key, as `ponte check-store` does).
pub(super) fn reencode_json_snapshots(
    db: &sled::Db,
    meta: &sled::Tree,
    trees: [(&str, &sled::Tree); 2],
    path: &str,
) -> Result<(), StoreError> {
    if meta.get(META_SNAPSHOT_CODEC)?.is_some() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut rewritten = 0u64;
    for (name, tree) in trees {
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        for item in tree.iter() {
            let (key, raw) = item?;
            if raw.first() != Some(&b'{') {
                continue;
            }
            if rewritten == 0 && pending == 0 {
                tracing::info!(
                    path,
                    "re-encoding the task snapshots (JSON to the binary snapshot encoding)"
                );
            }
            match serde_json::from_slice::<Task>(&raw) {
                Ok(task) => {
                    batch.insert(key, encode_snapshot(&task));
                    pending += 1;
                }
                Err(e) => tracing::warn!(
                    path,
                    tree = name,
                    key = %keys::describe(&key),
                    error = %e,
                    "a JSON snapshot does not read; left as it is"
                ),
            }
            if pending == REENCODE_BATCH {
                tree.apply_batch(std::mem::take(&mut batch))?;
                rewritten += pending as u64;
                pending = 0;
            }
        }
        tree.apply_batch(batch)?;
        rewritten += pending as u64;
    }
    if rewritten > 0 {
        db.flush()?;
        tracing::info!(
            path,
            rewritten,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshots re-encoded"
        );
    }
    meta.insert(META_SNAPSHOT_CODEC, &[1u8][..])?;
    if rewritten > 0 {
        db.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::digest::snapshot_tests::{plan, play};
    use crate::domain::digest::tests::Cast;

    fn ts() -> impl Strategy<Value = Timestamp> {
        prop_oneof![
            // Any instant jiff can represent, to the nanosecond.
            (Timestamp::MIN.as_nanosecond()..=Timestamp::MAX.as_nanosecond())
                .prop_map(|n| Timestamp::from_nanosecond(n).unwrap()),
            // Around now, whole seconds (what chat events mostly carry).
            (1_600_000_000i64..1_900_000_000).prop_map(|s| Timestamp::from_second(s).unwrap()),
            Just(Timestamp::MIN),
            Just(Timestamp::MAX),
            Just(Timestamp::UNIX_EPOCH),
        ]
    }

    fn side() -> impl Strategy<Value = Side> {
        prop_oneof![Just(Side::Internal), Just(Side::Msp)]
    }

    fn status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    fn person() -> impl Strategy<Value = PersonId> {
        prop_oneof![any::<u64>(), 0..300u64].prop_map(PersonId)
    }

    fn who() -> impl Strategy<Value = Who> {
        prop_oneof![person().prop_map(Who::Person), Just(Who::Ponte)]
    }

    fn category() -> impl Strategy<Value = Category> {
        "[a-z0-9_-]{1,32}".prop_map(|s| Category::new(&s).unwrap())
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![".{0,40}", Just(String::new()), "[a-z]{100,400}"]
    }

    fn ids() -> impl Strategy<Value = Option<u64>> {
        proptest::option::of(any::<u64>())
    }

    fn chat() -> impl Strategy<Value = ChatRef> {
        (ids(), ids(), ids()).prop_map(|(channel, thread, message)| ChatRef {
            channel,
            thread,
            message,
        })
    }

    fn approval() -> impl Strategy<Value = Approval> {
        prop_oneof![
            Just(Approval::NotNeeded),
            ts().prop_map(|since| Approval::Pending { since }),
            (who(), ts()).prop_map(|(by, at)| Approval::Granted { by, at }),
            (who(), ts(), text()).prop_map(|(by, at, reason)| Approval::Refused { by, at, reason }),
        ]
    }

    fn route() -> impl Strategy<Value = Option<RouteReason>> {
        proptest::option::of(prop_oneof![
            side().prop_map(|side| RouteReason::Requested { side }),
            (category(), text(), side()).prop_map(|(category, keyword, owner)| {
                RouteReason::Keyword {
                    category,
                    keyword,
                    owner,
                }
            }),
            (category(), side())
                .prop_map(|(category, owner)| RouteReason::Category { category, owner }),
            Just(RouteReason::FromMsp),
            side().prop_map(|side| RouteReason::Default { side }),
            (text(), side()).prop_map(|(source, side)| RouteReason::Monitoring { source, side }),
        ])
    }

    fn holder() -> impl Strategy<Value = Holder> {
        prop_oneof![
            side().prop_map(Holder::Side),
            Just(Holder::Requester),
            Just(Holder::Nobody)
        ]
    }

    fn facts() -> impl Strategy<Value = Facts> {
        let moves = proptest::collection::vec(
            (ts(), holder(), side()).prop_map(|(from, holder, handling)| Move {
                from,
                holder,
                handling,
            }),
            0..6,
        );
        (
            moves,
            [proptest::option::of(ts()), proptest::option::of(ts())],
            proptest::collection::vec(ts(), 0..4),
            proptest::option::of(ts()),
            proptest::option::of(text()),
            [proptest::option::of(text()), proptest::option::of(text())],
            proptest::option::of((ts(), status())),
            proptest::option::of(ts()),
        )
            .prop_map(
                |(
                    moves,
                    responded,
                    acknowledged,
                    finished_at,
                    last_shared,
                    last_note,
                    finish,
                    latest,
                )| Facts {
                    moves,
                    responded,
                    acknowledged,
                    finished_at,
                    last_shared,
                    last_note,
                    finish,
                    latest,
                },
            )
    }

    /// Any task, every field drawn on its own (not necessarily one a
    /// history folds to): the codec must keep whatever a `Task` can hold.
    fn any_task() -> impl Strategy<Value = Task> {
        let id = ("[A-Z][A-Z0-9]{1,9}", 1..=u64::MAX)
            .prop_map(|(c, n)| TaskId::new(ClientKey::new(&c).unwrap(), n));
        let people = (
            person(),
            side(),
            side(),
            proptest::option::of(person()),
            proptest::collection::vec(person(), 0..4),
        );
        let what = (
            text(),
            text(),
            proptest::sample::select(Priority::ALL.to_vec()),
            proptest::option::of(category()),
            proptest::option::of(ts()),
            status(),
        );
        let more = (approval(), route(), chat(), chat());
        let times = (ts(), ts(), any::<u32>());
        (id, people, what, more, times, facts()).prop_map(
            |(
                id,
                (requester, asking_side, handling_side, assignee, reporters),
                (title, details, priority, category, due, status),
                (approval, route, chat, mirror),
                (created_at, updated_at, version),
                facts,
            )| Task {
                id,
                title,
                details,
                requester,
                asking_side,
                handling_side,
                assignee,
                priority,
                category,
                due,
                status,
                approval,
                route,
                chat,
                mirror,
                reporters,
                created_at,
                updated_at,
                version,
                facts,
            },
        )
    }

    /// Every way of cutting the bytes short is an error, never a panic.
    fn assert_truncations_fail(bytes: &[u8]) -> Result<(), TestCaseError> {
        for len in 0..bytes.len() {
            prop_assert!(decode_snapshot(&bytes[..len]).is_err(), "cut at {}", len);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_task_round_trips(task in any_task()) {
            let bytes = encode_snapshot(&task);
            prop_assert_eq!(bytes[0], VERSION);
            prop_assert_eq!(decode_snapshot(&bytes), Ok(task.clone()));
            // Deterministic: `open_tasks` and `tasks` hold the same bytes.
            prop_assert_eq!(encode_snapshot(&task), bytes.clone());
            assert_truncations_fail(&bytes)?;
            let mut longer = bytes;
            longer.push(0);
            prop_assert!(decode_snapshot(&longer).is_err());
        }

        /// Tasks folded from random histories (the digest property tests'
        /// generator: any commands, in any order, at random times).
        #[test]
        fn folded_tasks_round_trip(plans in proptest::collection::vec(plan(), 1..6)) {
            let acme = ClientKey::new("ACME").unwrap();
            let cast = Cast::of(&acme, 0);
            for (i, p) in plans.iter().enumerate() {
                let tracked = play(&acme, i as u64 + 1, &cast, p);
                prop_assert_eq!(Task::fold(&tracked.events), Ok(tracked.task.clone()));
                let bytes = encode_snapshot(&tracked.task);
                prop_assert_eq!(decode_snapshot(&bytes), Ok(tracked.task.clone()));
                // Smaller than the JSON it replaces.
                let json = serde_json::to_vec(&tracked.task).unwrap();
                prop_assert!(bytes.len() < json.len(), "{} >= {}", bytes.len(), json.len());
                assert_truncations_fail(&bytes)?;
            }
        }

        #[test]
        fn garbage_is_an_error_not_a_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), versioned in any::<bool>()) {
            if versioned && !bytes.is_empty() {
                bytes[0] = VERSION;
            }
            let _ = decode_snapshot(&bytes);
        }

        #[test]
        fn damaged_bytes_are_an_error_or_a_task_never_a_panic(
            task in any_task(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let mut bytes = encode_snapshot(&task);
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if let Ok(decoded) = decode_snapshot(&bytes) {
                // Whatever decodes is a valid task: its ids pass the checks.
                prop_assert!(ClientKey::new(decoded.id.client().as_str()).is_ok());
                prop_assert!(decoded.id.number() > 0);
            }
        }
    }

    #[test]
    fn timestamps_keep_their_nanoseconds_on_both_sides_of_the_epoch() {
        for t in [
            "2026-11-28T12:34:56.123456789Z",
            "1969-12-31T23:59:59.999999999Z",
            "1900-01-01T00:00:00.5Z",
        ] {
            let t: Timestamp = t.parse().unwrap();
            let mut w = Writer(Vec::new());
            w.ts(t);
            let mut r = Reader { bytes: &w.0, at: 0 };
            assert_eq!(r.ts(), Ok(t));
            assert_eq!(r.at, w.0.len());
        }
    }

    #[test]
    fn varints_round_trip_and_overlong_ones_are_refused() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut w = Writer(Vec::new());
            w.varint(v);
            let mut r = Reader { bytes: &w.0, at: 0 };
            assert_eq!(r.varint(), Ok(v));
        }
        let too_big = [0xff; 9].into_iter().chain([0x02]).collect::<Vec<_>>();
        assert!(
            Reader {
                bytes: &too_big,
                at: 0
            }
            .varint()
            .is_err()
        );
        let too_long = [0x80; 11];
        assert!(
            Reader {
                bytes: &too_long,
                at: 0
            }
            .varint()
            .is_err()
        );
    }

    #[test]
    fn invalid_ids_and_old_json_are_refused_with_a_reason() {
        let acme = ClientKey::new("ACME").unwrap();
        let cast = Cast::of(&acme, 0);
        let task = play(&acme, 7, &cast, &(0, 0, 1, 0, vec![(1, 6, 3, 10)])).task;
        assert_eq!(task.facts.last_shared.as_deref(), Some("shared 3"));
        let json = serde_json::to_vec(&task).unwrap();
        let err = decode_snapshot(&json).unwrap_err();
        assert!(err.what.contains("JSON"), "{err}");
        let err = decode_snapshot(&[9]).unwrap_err();
        assert!(err.what.contains("version 9"), "{err}");

        // A client key in lower case, and task number 0.
        let mut bytes = encode_snapshot(&task);
        assert_eq!(&bytes[1..6], b"\x04ACME");
        bytes[2] = b'a';
        let err = decode_snapshot(&bytes).unwrap_err();
        assert!(err.what.contains("not a valid client key"), "{err}");
        let mut bytes = encode_snapshot(&task);
        assert_eq!(bytes[6], 7);
        bytes[6] = 0;
        assert!(
            decode_snapshot(&bytes)
                .unwrap_err()
                .what
                .contains("number 0")
        );

        // A category that is not one.
        let mut odd = task.clone();
        odd.category = Some(Category::new("network").unwrap());
        let bytes = encode_snapshot(&odd);
        let at = bytes.windows(7).position(|w| w == b"network").unwrap();
        let mut bad = bytes.clone();
        bad[at] = b'N';
        let err = decode_snapshot(&bad).unwrap_err();
        assert!(err.what.contains("not a valid category"), "{err}");

        // What the store says about it.
        let err = decode_stored("tasks", b"ACME\0\0\0\0\0\0\0\0\x07", &bad).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::Corrupt(_)), "{message}");
        assert!(
            message.contains("tree `tasks`, key `ACME\\x00"),
            "{message}"
        );
    }
}
