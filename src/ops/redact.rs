//! Defence in depth for secrets: whatever Ponte writes to standard error
//! (log lines, panic messages) passes through [`redact`], which replaces
//! every registered secret value with `<redacted>`.
//!
//! Secrets are registered once read from the environment
//! ([`crate::config::Secrets`]); the types that hold them never show them
//! either (`Debug`/`Display` redact). This catches what a dependency might
//! print (a request dump at trace level, an error that quotes a header).
//!
//! [`Redacting`] wraps the tracing writer and [`install_panic_hook`] routes panics
//! through [`redact`]. `config::Secret` and `notify::pager::Secret` register themselves
//! when created. Dependencies do print secrets: at trace level the gateway library logs
//! the IDENTIFY frame with the token (`tests/secrets.rs` searches every trace line and
//! the binary's output for it).

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::RwLock;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not redacted (they would hide ordinary
/// words; real tokens and keys are much longer).
const MIN_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a secret value to redact from now on.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_owned());
    }
}

/// `text` with every registered secret replaced.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

/// A `tracing_subscriber` writer that redacts what `inner` would write:
/// `Redacting(std::io::stderr)`. Each event is buffered and written, redacted,
/// in one piece when the fmt layer is done with it, so a secret is never
/// split between two writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Redacting<M>(pub M);

/// One event's bytes, written redacted to the inner writer when dropped.
pub struct Buffered<W: Write> {
    bytes: Vec<u8>,
    inner: W,
}

impl<W: Write> Write for Buffered<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Buffered<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.bytes);
        let _ = self.inner.write_all(redact(&text).as_bytes());
        let _ = self.inner.flush();
    }
}

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for Redacting<M>
{
    type Writer = Buffered<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Buffered {
            bytes: Vec::with_capacity(256),
            inner: self.0.make_writer(),
        }
    }
}

/// Panics print through [`redact`] too.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // A damaged store can make sled panic while it opens; the store
        // catches it and reports the damage, so it is no crash to show.
        if crate::store::is_opening() {
            return;
        }
        let text = format!("{info}\n");
        let _ = io::stderr().lock().write_all(redact(&text).as_bytes());
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_and_short_values_ignored() {
        register("  Bot.MTIz.redact-test-token \n");
        register("short");
        assert_eq!(
            redact(
                "sent Authorization: Bot Bot.MTIz.redact-test-token twice Bot.MTIz.redact-test-token"
            ),
            "sent Authorization: Bot <redacted> twice <redacted>"
        );
        assert_eq!(redact("a short word"), "a short word");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
