//! Storage keys: fixed, order-preserving binary encodings, so that sled's
//! byte order is the order Ponte wants.
//!
//! - A client key is ASCII capitals and digits, written as its bytes followed
//!   by a `0x00` separator (which never occurs in a client key). The
//!   separator makes `AB` sort before `ABC`, as the strings do, and makes
//!   every client prefix unambiguous.
//! - Numbers are big-endian, so 9 sorts before 10.
//! - Timestamps are their nanosecond count (`i128`) with the sign bit
//!   flipped, big-endian, so earlier sorts first, negative before positive.
//!
//! | tree           | key                                        | value            |
//! |----------------|--------------------------------------------|------------------|
//! | `meta`         | ASCII name                                 | big-endian int   |
//! | `history`      | client \0 number(u64) chunk(u32)           | JSON lines       |
//! | `tasks`        | client \0 number(u64)                      | `codec` snapshot |
//! | `counters`     | client \0                                  | see below        |
//! | `idx_status`   | client \0 status(u8) number(u64)           | empty            |
//! | `idx_side`     | client \0 side(u8) number(u64)             | empty            |
//! | `idx_assignee` | person(u64) client \0 number(u64)          | empty            |
//! | `idx_due`      | client \0 due(16 bytes) number(u64)        | empty            |
//! | `idx_changed`  | client \0 updated_at(16 bytes) number(u64) | empty            |
//! | `open_tasks`   | client \0 number(u64) (open tasks only)     | `codec` snapshot |
//! | `outbox`       | id(u64)                                    | JSON entry       |
//! | `requests`     | the request key's UTF-8 bytes              | JSON record      |
//! | `idx_created`  | client \0 created_at(16 bytes) number(u64) | newest(16 bytes) |
//!
//! A task's history is kept in chunks of [`EVENTS_PER_CHUNK`] consecutive
//! events: chunk `c` holds the events with sequence numbers `16c + 1` to
//! `16c + 16`, each as one line of JSON ending in `\n`. sled 0.34 keeps an
//! in-memory page-table entry for every node of every tree whatever its
//! cache size, and a leaf node holds at most 16 keys, so its memory grows
//! with the number of keys, not bytes: one key per event (5.7 per task)
//! was more than half of all keys. Before history chunks, the `events`
//! tree held one event per key (`client \0 number(u64) seq(u32)`); such a
//! store is converted when it is opened.
//!
//! `idx_status` holds open tasks only, like the other per-status indexes:
//! nothing lists finished tasks by status, and they are nearly all tasks.
//!
//! Tasks are numbered in the order they are created, so the creation times
//! of a client's tasks nearly always grow with their numbers, and a period
//! of creation is a range of numbers: `tasks` itself is the index by
//! creation. The exceptions, tasks created earlier than a task numbered
//! before them (the clock was set back), are the only entries of
//! `idx_created`, each with the newest creation time before it as its
//! value. A client's `counters` value is its last task number (u64) and the
//! newest creation time of its tasks (16 bytes), which tells a creation
//! whether it is such an exception. For a number `n`, the newest creation
//! among tasks `1..=n` never decreases with `n`; it is the task's own
//! creation time unless `idx_created` holds the task. One index entry per
//! task was a million keys at a million tasks, and sled's memory grows with
//! keys.

use jiff::Timestamp;

use crate::domain::{ClientKey, PersonId, Side, Status, Task, TaskId};

/// Separates a client key from what follows it.
pub const SEP: u8 = 0;

/// `meta` key of the schema version (u32, big-endian).
pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";
/// `meta` key of the last outbox id handed out (u64, big-endian).
pub const META_OUTBOX_LAST: &[u8] = b"outbox_last_id";
/// The last write of `/healthz`'s store check (a time in milliseconds).
pub const META_HEALTH_PROBE: &[u8] = b"health_probe";

/// The bytes of a sortable timestamp key.
pub const TIMESTAMP_LEN: usize = 16;

/// A stable one-byte code for a side in storage keys.
pub fn side_code(side: Side) -> u8 {
    match side {
        Side::Internal => 0,
        Side::Msp => 1,
    }
}

/// `client \0`: the prefix of everything a client owns in a tree.
pub fn client_prefix(client: &ClientKey) -> Vec<u8> {
    let mut key = Vec::with_capacity(client.as_str().len() + 1 + 8 + 4);
    key.extend_from_slice(client.as_str().as_bytes());
    key.push(SEP);
    key
}

/// The `counters` key of a client.
pub fn counter_key(client: &ClientKey) -> Vec<u8> {
    client_prefix(client)
}

/// A client's `counters` value: its last task number and the newest
/// creation time among its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub last: u64,
    pub newest: Timestamp,
}

/// The bytes of a [`Counter`].
pub const COUNTER_LEN: usize = 8 + TIMESTAMP_LEN;

impl Counter {
    pub fn encode(&self) -> [u8; COUNTER_LEN] {
        let mut raw = [0; COUNTER_LEN];
        raw[..8].copy_from_slice(&self.last.to_be_bytes());
        raw[8..].copy_from_slice(&sortable_timestamp(self.newest));
        raw
    }

    pub fn decode(raw: &[u8]) -> Option<Self> {
        if raw.len() != COUNTER_LEN {
            return None;
        }
        Some(Self {
            last: decode_u64(&raw[..8])?,
            newest: decode_sortable_timestamp(raw[8..].try_into().ok()?)?,
        })
    }
}

/// `client \0 number`: a task snapshot, and the prefix of its events.
pub fn task_key(id: &TaskId) -> Vec<u8> {
    let mut key = client_prefix(id.client());
    key.extend_from_slice(&id.number().to_be_bytes());
    key
}

/// How many events one `history` chunk holds (the last chunk of a task
/// may hold fewer).
pub const EVENTS_PER_CHUNK: u32 = 16;

/// The chunk of a task's history that holds the event with sequence number
/// `seq` (numbered from 1).
pub fn chunk_of(seq: u32) -> u32 {
    seq.saturating_sub(1) / EVENTS_PER_CHUNK
}

/// How many events come before `seq` in its chunk.
pub fn position_in_chunk(seq: u32) -> u32 {
    seq.saturating_sub(1) % EVENTS_PER_CHUNK
}

/// `client \0 number chunk`: one chunk of a task's history.
pub fn history_key(id: &TaskId, chunk: u32) -> Vec<u8> {
    chunk_key(&task_key(id), chunk)
}

/// The `history` key of chunk `chunk` of the task whose `tasks` key is
/// `task`.
pub fn chunk_key(task: &[u8], chunk: u32) -> Vec<u8> {
    [task, &chunk.to_be_bytes()[..]].concat()
}

/// Splits a `history` key (or a key of the old `events` tree, which has the
/// same layout with a sequence number in place of the chunk) into the task
/// key and the trailing `u32`.
pub fn split_history_key(key: &[u8]) -> Option<(&[u8], u32)> {
    let split = key.len().checked_sub(4)?;
    let (task, tail) = key.split_at(split);
    Some((task, u32::from_be_bytes(tail.try_into().ok()?)))
}

/// Splits a `tasks` key into client and number.
pub fn decode_task_key(key: &[u8]) -> Option<TaskId> {
    let sep = key.iter().position(|b| *b == SEP)?;
    let client = std::str::from_utf8(&key[..sep]).ok()?;
    let client = ClientKey::new(client).ok()?;
    let number = u64::from_be_bytes(key.get(sep + 1..)?.try_into().ok()?);
    Some(TaskId::new(client, number))
}

/// `client \0 status`: the prefix of a client's tasks in one status.
pub fn status_prefix(client: &ClientKey, status: Status) -> Vec<u8> {
    let mut key = client_prefix(client);
    key.push(status.code());
    key
}

/// `client \0 side`: the prefix of a client's open tasks handled by a side.
pub fn side_prefix(client: &ClientKey, side: Side) -> Vec<u8> {
    let mut key = client_prefix(client);
    key.push(side_code(side));
    key
}

/// `person client \0`: the prefix of a person's open tasks of a client.
pub fn assignee_prefix(person: PersonId, client: &ClientKey) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + client.as_str().len() + 1 + 8);
    key.extend_from_slice(&person.0.to_be_bytes());
    key.extend_from_slice(client.as_str().as_bytes());
    key.push(SEP);
    key
}

/// `client \0`: the prefix of a client's open tasks with a due time.
pub fn due_prefix(client: &ClientKey) -> Vec<u8> {
    client_prefix(client)
}

/// The last possible `idx_due` key of a client with a due time `<= by`.
pub fn due_upper_bound(client: &ClientKey, by: Timestamp) -> Vec<u8> {
    let mut key = due_prefix(client);
    key.extend_from_slice(&sortable_timestamp(by));
    key.extend_from_slice(&u64::MAX.to_be_bytes());
    key
}

/// `client \0 updated_at number`: a task in `idx_changed`.
pub fn changed_key(client: &ClientKey, at: Timestamp, number: u64) -> Vec<u8> {
    let mut key = client_prefix(client);
    key.extend_from_slice(&sortable_timestamp(at));
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The first possible `idx_changed` key of a client after `at` (changes
/// at `at` itself sort before it).
pub fn changed_lower_bound(client: &ClientKey, at: Timestamp) -> Vec<u8> {
    changed_key(client, at, u64::MAX)
}

/// `client \0 created_at number`: a task in `idx_created` (same layout as
/// `idx_changed`), created before the newest creation of the tasks numbered
/// before it.
pub fn created_key(client: &ClientKey, at: Timestamp, number: u64) -> Vec<u8> {
    changed_key(client, at, number)
}

/// `prefix number`.
pub fn with_number(prefix: &[u8], number: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// The task number that ends an index key.
pub fn trailing_number(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key[start..].try_into().ok()?))
}

/// Decodes the `due number` part of an `idx_due` key after its prefix.
pub fn decode_due_suffix(suffix: &[u8]) -> Option<(Timestamp, u64)> {
    if suffix.len() != TIMESTAMP_LEN + 8 {
        return None;
    }
    let due = decode_sortable_timestamp(suffix[..TIMESTAMP_LEN].try_into().ok()?)?;
    let number = u64::from_be_bytes(suffix[TIMESTAMP_LEN..].try_into().ok()?);
    Some((due, number))
}

/// A timestamp as 16 bytes that sort like the timestamps.
pub fn sortable_timestamp(at: Timestamp) -> [u8; TIMESTAMP_LEN] {
    let flipped = (at.as_nanosecond() as u128) ^ (1u128 << 127);
    flipped.to_be_bytes()
}

pub fn decode_sortable_timestamp(bytes: [u8; TIMESTAMP_LEN]) -> Option<Timestamp> {
    let nanos = (u128::from_be_bytes(bytes) ^ (1u128 << 127)) as i128;
    Timestamp::from_nanosecond(nanos).ok()
}

/// An `outbox` key.
pub fn outbox_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

pub fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub fn decode_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// A key as readable text for error messages: printable ASCII as is, other
/// bytes escaped.
pub fn describe(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

/// The index entries of one task snapshot, one optional key per index tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexKeys {
    pub status: Option<Vec<u8>>,
    pub side: Option<Vec<u8>>,
    pub assignee: Option<Vec<u8>>,
    pub due: Option<Vec<u8>>,
    /// `idx_changed`: every task, open or not, by its last change.
    pub changed: Option<Vec<u8>>,
}

impl IndexKeys {
    /// Where `task` appears: `idx_changed` always;
    /// `idx_status`, `idx_side`, `idx_assignee` and `idx_due` only while the
    /// task is open (the last two when it has an assignee or a due time).
    pub fn of(task: &Task) -> Self {
        let client = task.id.client();
        let number = task.id.number();
        let open = task.status.is_open();
        Self {
            status: open.then(|| with_number(&status_prefix(client, task.status), number)),
            side: open.then(|| with_number(&side_prefix(client, task.handling_side), number)),
            assignee: task
                .assignee
                .filter(|_| open)
                .map(|person| with_number(&assignee_prefix(person, client), number)),
            due: task.due.filter(|_| open).map(|due| {
                let mut key = due_prefix(client);
                key.extend_from_slice(&sortable_timestamp(due));
                key.extend_from_slice(&number.to_be_bytes());
                key
            }),
            changed: Some(changed_key(client, task.updated_at, number)),
        }
    }

    /// The entries per index, in the order of [`IndexKeys::slots`].
    pub fn slots(&self) -> [&Option<Vec<u8>>; 5] {
        [
            &self.status,
            &self.side,
            &self.assignee,
            &self.due,
            &self.changed,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(raw: &str) -> ClientKey {
        ClientKey::new(raw).unwrap()
    }

    fn id(raw: &str, number: u64) -> TaskId {
        TaskId::new(client(raw), number)
    }

    #[test]
    fn numbers_sort_numerically_not_textually() {
        assert!(task_key(&id("ACME", 9)) < task_key(&id("ACME", 10)));
        assert!(task_key(&id("ACME", 255)) < task_key(&id("ACME", 256)));
        assert!(history_key(&id("ACME", 1), 9) < history_key(&id("ACME", 1), 10));
        assert!(history_key(&id("ACME", 1), u32::MAX) < history_key(&id("ACME", 2), 0));
    }

    #[test]
    fn clients_sort_like_their_keys_and_prefixes_do_not_overlap() {
        // `AB` < `ABC` as strings, and so must every key of theirs.
        assert!(task_key(&id("AB", u64::MAX)) < task_key(&id("ABC", 1)));
        assert!(history_key(&id("AB", u64::MAX), u32::MAX) < history_key(&id("ABC", 1), 0));
        assert!(!task_key(&id("ABC", 1)).starts_with(&client_prefix(&client("AB"))));
        let mut ids = [id("B2", 1), id("AB", 10), id("ABC", 2), id("AB", 9)];
        let mut keys: Vec<_> = ids.iter().map(task_key).collect();
        ids.sort();
        keys.sort();
        assert_eq!(keys, ids.iter().map(task_key).collect::<Vec<_>>());
    }

    #[test]
    fn a_task_key_is_the_prefix_of_its_history_only() {
        let task = task_key(&id("ACME", 1));
        assert!(history_key(&id("ACME", 1), 3).starts_with(&task));
        assert!(!history_key(&id("ACME", 256), 0).starts_with(&task));
        assert!(!history_key(&id("ACME", 10), 0).starts_with(&task));
        assert_eq!(
            split_history_key(&history_key(&id("ACME", 1), 3)),
            Some((task.as_slice(), 3))
        );
        assert_eq!(split_history_key(b"abc"), None);
    }

    #[test]
    fn chunks_hold_sixteen_consecutive_events() {
        assert_eq!((chunk_of(1), position_in_chunk(1)), (0, 0));
        assert_eq!((chunk_of(16), position_in_chunk(16)), (0, 15));
        assert_eq!((chunk_of(17), position_in_chunk(17)), (1, 0));
        assert_eq!((chunk_of(33), position_in_chunk(33)), (2, 0));
        assert_eq!(chunk_of(u32::MAX), (u32::MAX - 1) / 16);
    }

    #[test]
    fn task_keys_decode() {
        let task = id("ACME", 42);
        assert_eq!(decode_task_key(&task_key(&task)), Some(task));
        assert_eq!(decode_task_key(b"ACME"), None);
        assert_eq!(decode_task_key(b"acme\0\0\0\0\0\0\0\0\x01"), None);
        assert_eq!(decode_task_key(b"ACME\0\x01"), None);
    }

    #[test]
    fn timestamps_sort_in_time_order_and_round_trip() {
        let times = [
            Timestamp::MIN,
            Timestamp::from_second(-86_400).unwrap(),
            Timestamp::from_nanosecond(-1).unwrap(),
            Timestamp::UNIX_EPOCH,
            Timestamp::from_nanosecond(1).unwrap(),
            Timestamp::from_second(1_700_000_000).unwrap(),
            Timestamp::MAX,
        ];
        for pair in times.windows(2) {
            assert!(
                sortable_timestamp(pair[0]) < sortable_timestamp(pair[1]),
                "{pair:?}"
            );
        }
        for t in times {
            assert_eq!(decode_sortable_timestamp(sortable_timestamp(t)), Some(t));
        }
    }

    #[test]
    fn counters_round_trip_and_other_lengths_are_refused() {
        let counter = Counter {
            last: 1_000_001,
            newest: Timestamp::from_second(1_700_000_000).unwrap(),
        };
        let raw = counter.encode();
        assert_eq!(raw[..8], 1_000_001u64.to_be_bytes());
        assert_eq!(Counter::decode(&raw), Some(counter));
        // The counters of older stores: the last number only.
        assert_eq!(Counter::decode(&raw[..8]), None);
        assert_eq!(Counter::decode(&[raw.as_slice(), &[0]].concat()), None);
    }

    #[test]
    fn due_keys_sort_by_time_then_number_and_stay_under_the_bound() {
        let acme = client("ACME");
        let key = |secs: i64, number: u64| {
            let mut k = due_prefix(&acme);
            k.extend_from_slice(&sortable_timestamp(Timestamp::from_second(secs).unwrap()));
            k.extend_from_slice(&number.to_be_bytes());
            k
        };
        assert!(key(-5, 9) < key(5, 1));
        assert!(key(5, 9) < key(5, 10));
        assert!(key(5, 10) < key(6, 1));
        let bound = due_upper_bound(&acme, Timestamp::from_second(5).unwrap());
        assert!(key(5, u64::MAX) <= bound);
        assert!(key(6, 0) > bound);
        let suffix = &key(5, 7)[due_prefix(&acme).len()..];
        assert_eq!(
            decode_due_suffix(suffix),
            Some((Timestamp::from_second(5).unwrap(), 7))
        );
    }

    #[test]
    fn index_prefixes_separate_statuses_sides_and_people() {
        let acme = client("ACME");
        let new = with_number(&status_prefix(&acme, Status::New), 5);
        assert!(new.starts_with(&status_prefix(&acme, Status::New)));
        assert!(!new.starts_with(&status_prefix(&acme, Status::Claimed)));
        assert_eq!(trailing_number(&new), Some(5));
        let msp = with_number(&side_prefix(&acme, Side::Msp), 3);
        assert!(!msp.starts_with(&side_prefix(&acme, Side::Internal)));
        let p = with_number(&assignee_prefix(PersonId(7), &acme), 1);
        assert!(!p.starts_with(&assignee_prefix(PersonId(7), &client("ACMEX"))));
        assert!(!p.starts_with(&assignee_prefix(PersonId(8), &acme)));
        assert!(outbox_key(9) < outbox_key(10));
    }

    #[test]
    fn describe_escapes_binary() {
        assert_eq!(describe(b"ACME\0\x01"), "ACME\\x00\\x01");
    }
}
