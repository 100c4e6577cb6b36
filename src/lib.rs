//! Ponte: a chat-ops bridge between a company's internal IT team and its
//! Managed Service Provider. See ARCHITECTURE.md for the map.

pub mod config;
pub mod domain;
