//! The `ponte` command: [`commands`] (arguments and what each subcommand
//! runs; `src/main.rs` only calls it) and [`load`], the load generator
//! (`ponte load`; [`load_alerts`] for `ponte load --alerts N`).

pub mod commands;
pub mod doctor;
pub mod load;
pub mod load_alerts;
pub mod outbox;
