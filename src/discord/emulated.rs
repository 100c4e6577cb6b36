//! `ponte run` against a local emulator in another process (the crash test,
//! issue 8): only when `PONTE_EMULATOR_REST` is set. serenity keeps its
//! production URLs (`https://discord.com/api/v10`) and its rate limiter; the
//! HTTP client resolves `discord.com` to the emulator's TLS address and trusts
//! only the certificate authority in `PONTE_EMULATOR_CA` (DER, written by
//! `Emulator::write_connection`), never the system's roots. The gateway URL
//! comes from the emulator's `GET /gateway/bot`, as in production.

use std::net::SocketAddr;
use std::path::PathBuf;

use serenity::all::HttpBuilder;

use crate::emulator::{CA_FILE_VAR, REST_ADDR_VAR};

/// Why the emulator mode cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EmulatedError {
    #[error("{REST_ADDR_VAR}={value:?} is not an address like 127.0.0.1:4443")]
    Addr { value: String },
    #[error(
        "{REST_ADDR_VAR} is set but {CA_FILE_VAR} (the emulator's certificate authority file) is not"
    )]
    NoCa,
    #[error("cannot read the emulator's certificate authority {path}: {source}")]
    ReadCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the emulator's certificate authority {path} is not a DER certificate: {source}")]
    BadCa {
        path: PathBuf,
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client for the emulator: {0}")]
    Client(reqwest::Error),
}

/// Where an emulator serves, from the environment; `None` (production) when
/// `PONTE_EMULATOR_REST` is not set.
pub fn from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<(SocketAddr, PathBuf)>, EmulatedError> {
    let Some(value) = var(REST_ADDR_VAR) else {
        return Ok(None);
    };
    let addr = value.parse().map_err(|_| EmulatedError::Addr {
        value: value.clone(),
    })?;
    let ca = var(CA_FILE_VAR).ok_or(EmulatedError::NoCa)?;
    Ok(Some((addr, PathBuf::from(ca))))
}

/// serenity's HTTP builder for the emulator at `addr`, trusting only `ca`.
pub fn http_builder(
    token: &str,
    addr: SocketAddr,
    ca: &std::path::Path,
) -> Result<HttpBuilder, EmulatedError> {
    let der = std::fs::read(ca).map_err(|source| EmulatedError::ReadCa {
        path: ca.to_path_buf(),
        source,
    })?;
    let certificate =
        reqwest::Certificate::from_der(&der).map_err(|source| EmulatedError::BadCa {
            path: ca.to_path_buf(),
            source,
        })?;
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(certificate)
        .resolve("discord.com", addr)
        .tcp_nodelay(true)
        .build()
        .map_err(EmulatedError::Client)?;
    Ok(HttpBuilder::new(token).client(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_asked() {
        assert!(matches!(from_env(|_| None), Ok(None)));
    }

    #[test]
    fn needs_an_address_and_a_ca_file() {
        let only_addr = |v: &str| (v == REST_ADDR_VAR).then(|| "127.0.0.1:4443".to_string());
        assert!(matches!(from_env(only_addr), Err(EmulatedError::NoCa)));
        let bad = |v: &str| (v == REST_ADDR_VAR).then(|| "discord.com".to_string());
        assert!(matches!(from_env(bad), Err(EmulatedError::Addr { .. })));
    }

    #[test]
    fn an_unreadable_ca_file_is_a_clear_error() {
        let addr: SocketAddr = "127.0.0.1:4443".parse().unwrap();
        let err = http_builder("t", addr, std::path::Path::new("/nonexistent/ca.der"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("cannot read the emulator's certificate authority /nonexistent/ca.der"),
            "{err}"
        );
    }
}
