//! `ponte outbox`: what waits to be delivered, and the dead letters: entries
//! whose delivery was refused for good (a missing permission, DMs closed, an
//! archived thread, a pager's 4xx). After fixing the cause, `retry` puts a
//! dead letter back in the outbox; `drop` deletes it. The bot must be
//! stopped (sled allows one process).

use std::io::Write;

use anyhow::Context;

use crate::store::{SledStore, Store};

/// What `ponte outbox` does.
#[derive(clap::Subcommand, Debug)]
pub enum OutboxCmd {
    /// List the entries waiting and the dead letters, oldest first.
    List {
        /// At most this many of each.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Put dead letters back in the outbox, to be delivered at the bot's
    /// next start (after fixing what refused them).
    Retry {
        /// Their ids (from `list`), or `all`.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Delete dead letters for good.
    Drop {
        /// Their ids (from `list`), or `all`.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Runs `cmd` on `store`, writing to `out`.
pub fn run(store: &SledStore, cmd: &OutboxCmd, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        OutboxCmd::List { limit } => list(store, *limit, out),
        OutboxCmd::Retry { ids } => each(store, ids, out, "retried", |s, id| s.dead_retry(id)),
        OutboxCmd::Drop { ids } => each(store, ids, out, "dropped", |s, id| s.dead_drop(id)),
    }
}

fn list(store: &SledStore, limit: usize, out: &mut dyn Write) -> anyhow::Result<()> {
    let waiting = store.outbox_due(jiff::Timestamp::MAX, limit)?;
    let total = store.outbox_len()?;
    writeln!(out, "waiting: {total}")?;
    for e in &waiting {
        write!(
            out,
            "  {:>6}  {}  attempts {}  not before {}",
            e.id,
            e.effect.key(),
            e.attempts,
            e.not_before
        )?;
        match &e.last_error {
            Some(error) => writeln!(out, "  last error: {error}")?,
            None => writeln!(out)?,
        }
    }
    let dead = store.dead_letters(limit)?;
    writeln!(out, "dead letters: {}", store.dead_count()?)?;
    for d in &dead {
        writeln!(
            out,
            "  {:>6}  {}  set aside {}  {}",
            d.entry.id,
            d.entry.effect.key(),
            d.at,
            d.error
        )?;
    }
    if !dead.is_empty() {
        writeln!(
            out,
            "fix what refused them, then `ponte outbox retry ID...` (or `all`); \
             `ponte outbox drop ID...` deletes them"
        )?;
    }
    Ok(())
}

fn each(
    store: &SledStore,
    ids: &[String],
    out: &mut dyn Write,
    done: &str,
    apply: impl Fn(&SledStore, u64) -> Result<bool, crate::store::StoreError>,
) -> anyhow::Result<()> {
    let ids: Vec<u64> = if ids.iter().any(|i| i == "all") {
        store
            .dead_letters(usize::MAX)?
            .iter()
            .map(|d| d.entry.id)
            .collect()
    } else {
        ids.iter()
            .map(|i| {
                i.parse::<u64>().with_context(|| {
                    format!(
                        "`{i}` is not an id: give the numbers `ponte outbox list` shows, or `all`"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut missing = Vec::new();
    let mut n = 0;
    for id in ids {
        if apply(store, id)? {
            n += 1;
        } else {
            missing.push(id.to_string());
        }
    }
    store.flush()?;
    writeln!(out, "{done} {n} dead letter(s)")?;
    anyhow::ensure!(
        missing.is_empty(),
        "no dead letter with id {}: see `ponte outbox list`",
        missing.join(", ")
    );
    Ok(())
}
