//! Ponte: a chat-ops bridge between a company's internal IT team and its
//! Managed Service Provider. See ARCHITECTURE.md for the map.

pub mod clock;
pub mod config;
pub mod digests;
pub mod discord;
pub mod domain;
pub mod emulator;
pub mod engine;
pub mod escalator;
pub mod handover;
pub mod health;
pub mod heap;
pub mod i18n;
pub mod load;
pub mod maintenance;
pub mod metrics;
pub mod outbox;
pub mod overrides;
pub mod pager;
pub mod redact;
pub mod report;
pub mod sandbox;
pub mod store;
pub mod timers;
pub mod transfer;
pub mod watchdog;
// Issue 6, digests: the chart image and personal digests by DM.
pub mod chart;
pub mod personal_digests;
// SLA warnings and breaches (issue 6).
pub mod sla_timer;
