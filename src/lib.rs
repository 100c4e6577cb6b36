//! Ponte: a chat-ops bridge between a company's internal IT team and its
//! Managed Service Provider. See ARCHITECTURE.md for the map.
//!
//! The folders are the layers, from the inside out: [`domain`] (pure),
//! [`store`] (sled), [`app`] (every use case, no chat in it), then the
//! edges: [`discord`] (serenity), [`notify`] (outside pagers), [`ops`]
//! (health, metrics, watchdog), [`cli`]; [`run`] puts them together.
//! `tests/layers.rs` checks who may import whom.

pub mod app;
pub mod cli;
pub mod config;
pub mod discord;
pub mod domain;
pub mod emulator;
pub mod i18n;
pub mod inbound;
pub mod notify;
pub mod ops;
pub mod run;
pub mod sandbox;
pub mod store;
