//! The application layer: every use case, with no chat in it. Chat
//! adapters (`crate::discord` today; a web page, PSA sync, monitoring or
//! other chats tomorrow) call it the same way, and so do the sandbox and the
//! tests.
//!
//! - [`engine`]: the [`engine::Ledger`], the one serialized writer every
//!   change goes through, and its reads.
//! - [`desk`]: what people ask (commands, buttons, forms, mentions, DMs,
//!   thread messages) and what to answer, in the [`reply`] model.
//! - [`outbox`] and [`deliver`]: effects recorded with their change,
//!   delivered through a chat's [`deliver::Chat`] port and the pagers.
//! - [`timers`]: work that falls due with time; each timer only submits
//!   requests or records once-only marks ([`escalator`], [`sla_timer`],
//!   [`digests`], [`personal_digests`], [`handover`]).
//! - [`overrides`], [`maintenance`]: on-call overrides and maintenance
//!   windows, kept as store marks.
//! - [`report`], [`transfer`], [`chart`]: SLA reports, export and import,
//!   the digest's chart.
//! - [`monitor`]: monitoring's alerts and heartbeat monitors as tasks.
//! - [`clock`]: where "now" comes from.

pub mod chart;
pub mod clock;
pub mod deliver;
pub mod desk;
pub mod digests;
pub mod engine;
pub mod escalator;
pub mod handover;
pub mod maintenance;
pub mod monitor;
pub mod outbox;
pub mod overrides;
pub mod personal_digests;
pub mod reply;
pub mod report;
pub mod sla_timer;
pub mod timers;
pub mod transfer;
