//! The raw sled baseline of the store benchmarks (`store.rs`, `scale.rs`):
//! a plain sled database with the store's thirteen trees, written by one
//! transaction per change with the same keys and values as the store's
//! commit, but no reads, checks or serialisation.

use sled::transaction::{ConflictableTransactionError, Transactional};

/// The trees of a `SledStore`, in the order of its commit transaction.
pub const TREES: [&str; 13] = [
    "meta",
    "history",
    "tasks",
    "counters",
    "idx_status",
    "idx_side",
    "idx_assignee",
    "idx_due",
    "idx_changed",
    "open_tasks",
    "outbox",
    "requests",
    "idx_created",
];

/// One insert: tree (index into [`TREES`]), key, value.
pub type Write = (usize, Vec<u8>, Vec<u8>);

/// A plain sled database with the store's trees.
pub struct Raw {
    pub db: sled::Db,
    pub trees: [sled::Tree; 13],
}

impl Raw {
    pub fn new(db: sled::Db) -> Self {
        let trees = TREES.map(|name| db.open_tree(name).unwrap());
        Self { db, trees }
    }

    /// One transaction over all thirteen trees writing `writes` (no flush).
    pub fn commit(&self, writes: &[Write]) {
        let t = &self.trees;
        (
            &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8], &t[9], &t[10], &t[11],
            &t[12],
        )
            .transaction(|(a, b, c, d, e, f, g, h, i, j, k, l, m)| {
                let tx = [a, b, c, d, e, f, g, h, i, j, k, l, m];
                for (tree, key, value) in writes {
                    tx[*tree].insert(key.as_slice(), value.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .expect("raw transaction");
    }
}
