//! Running Ponte in production: `/healthz` and `/metrics` ([`health`],
//! [`metrics`]), the store [`watchdog`], secret redaction in what goes to
//! standard error ([`redact`]) and returning freed memory ([`heap`]).

pub mod health;
pub mod heap;
pub mod metrics;
pub mod redact;
pub mod watchdog;
