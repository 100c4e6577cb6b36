//! Running Ponte in production: `/healthz` and `/metrics` ([`health`],
//! [`metrics`]), when each loop last worked ([`liveness`]) and the call out
//! that proves it ([`heartbeat_out`]), the store [`watchdog`], secret
//! redaction in what goes to standard error ([`redact`]) and returning freed
//! memory ([`heap`]).

pub mod health;
pub mod heap;
pub mod heartbeat_out;
pub mod liveness;
pub mod metrics;
pub mod redact;
pub mod watchdog;
