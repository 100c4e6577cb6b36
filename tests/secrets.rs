//! Secrets never appear in what Ponte writes (issue 8): everything traced
//! at the finest level while the bot connects and works, and the whole
//! output of the binary, are searched for the token.
//!
//! This file holds one in-process test: it installs the global tracing
//! subscriber.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ponte::app::clock::SystemClock;
use ponte::emulator::{Emulator, RouteMatch};
use ponte::run::{Connect, start};
use ponte::sandbox::cast;
use ponte::store::{SledStore, StoreOptions};

/// A token as Discord issues them, and one no log could contain by chance.
const MARKER: &str = "MTEzNzQ5.SECRET-MARKER.kq9xZ0vBrT4wYp2LmN8sQ1dF";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_in_no_log_line_while_the_bot_connects_works_and_fails() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace,sled=info")
        .with_ansi(false)
        // As the binary does: every line through the redactor.
        .with_writer(ponte::ops::redact::Redacting(move || writer.clone()))
        .init();
    // Read from the environment, the token becomes a `Secret`.
    let secret = ponte::config::Secret::new(MARKER);
    assert_eq!(
        format!("{secret:?} {secret}"),
        "Secret(<redacted>) <redacted>"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = ponte::config::Config::from_toml_str(cast::CONFIG, "example").unwrap();
    let emulator = Emulator::start(cast::world().token(MARKER)).await.unwrap();
    let path = dir.path().join("data");
    let store = tokio::task::spawn_blocking(move || SledStore::open(&StoreOptions::new(path)))
        .await
        .unwrap()
        .unwrap();
    let bot = start(
        Arc::new(config),
        Arc::new(store),
        Connect::Http(emulator.http_builder()),
        // The system clock: the deliveries Discord failed are retried.
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let wait = Duration::from_secs(60);
    emulator.wait_until_connected(wait).await.unwrap();
    emulator
        .wait_for_commands(Some(cast::ACME_GUILD), wait)
        .await
        .unwrap();
    let giulia = &cast::PEOPLE[0];
    // Work, a refused request, Discord failing, and the gateway dropping.
    emulator.fail_next(RouteMatch::new("POST", "/channels/"), 500, 2);
    for line in [
        "/request title:\"VPN down\"",
        "/task claim id:NOPE-1",
        "/request title:\"Printer jam\"",
    ] {
        let handle = emulator
            .slash_line(giulia.id, giulia.channel, line)
            .unwrap();
        handle.response(wait).await.unwrap();
    }
    emulator.drop_gateway();
    emulator.wait_until_connected(wait).await.unwrap();
    emulator
        .wait_for_message(cast::ACME_REQUESTS, wait, |m| {
            m.content.contains("Printer jam")
                || m.embeds
                    .iter()
                    .any(|e| e.to_string().contains("Printer jam"))
        })
        .await
        .unwrap();
    bot.stop().await;
    emulator.shutdown();

    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // The capture did see the bot at work, at the finest level.
    assert!(text.contains("connected to Discord"), "{text}");
    assert!(text.contains("TRACE"), "no trace lines captured");
    assert!(text.len() > 10_000, "only {} bytes captured", text.len());
    // The gateway library traces the IDENTIFY frame, token and all: the
    // redactor is what keeps it out.
    assert!(text.contains("\"token\":\"Bot <redacted>\""), "{text}");
    for (n, line) in text.lines().enumerate() {
        assert!(
            !line.contains(MARKER) && !line.contains("SECRET-MARKER"),
            "line {n} shows the token: {line}"
        );
    }
}

#[test]
fn the_binary_never_prints_the_token_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let example = include_str!("../config/ponte.example.toml");
    let config = dir.path().join("ponte.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        example
            .replacen(
                "data_dir = \"./ponte-data\"",
                &format!("data_dir = {:?}", data.to_string_lossy()),
                1,
            )
            // No health port: tests run beside each other.
            .replacen("health_addr = \"127.0.0.1:9464\"\n", "", 1),
    )
    .unwrap();
    let bad_config = dir.path().join("missing.toml");
    let runs: [(&[&str], &str); 3] = [
        // Discord cannot be reached (offline) or refuses the token: either
        // way the bot logs its attempts, at the finest level.
        (&["run", "--config", &config.to_string_lossy()], "text"),
        (&["run", "--config", &config.to_string_lossy()], "json"),
        (&["run", "--config", &bad_config.to_string_lossy()], "text"),
    ];
    for (args, format) in runs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ponte"))
            .args(["--log-format", format])
            .args(args)
            .env("DISCORD_TOKEN", MARKER)
            .env("PONTE_LOG", "trace")
            .env_remove("PONTE_CONFIG")
            .env_remove("PONTE_DATA_DIR")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Let it try for a while, then stop it.
        let deadline = std::time::Instant::now() + Duration::from_secs(6);
        while std::time::Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.is_empty(), "{args:?} printed nothing");
        assert!(
            !all.contains(MARKER) && !all.contains("SECRET-MARKER"),
            "{args:?} printed the token:\n{all}"
        );
    }
}
