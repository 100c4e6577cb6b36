//! The sandbox: Ponte against the local Discord emulator, with a demo MSP
//! and two clients, driven by people typing (or a script of) what users do.
//!
//! `script.rs` is the scenario language, `cast.rs` the demo world of the example
//! configuration, `runner.rs` plays steps against the emulator and the real bot, and
//! [`play`] plays a whole script (as `tests/scenarios.rs` does for every
//! `tests/scenarios/*.scenario`). Time is a manual clock: `advance` fires the bot's own
//! timers at each due time on the way, and after each step the runner waits until the
//! outbox is drained, so what a script expects next does not depend on timing.

pub mod cast;
pub mod monitoring;
pub mod runner;
pub mod script;
pub mod slow;

use std::path::Path;

use jiff::Timestamp;

use runner::{Failure, Sandbox};
use script::parse_script;

/// A scenario that failed: where, and what was seen instead.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: `{text}`: {failure}")]
pub struct ScenarioFailure {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub failure: Failure,
}

/// Plays a whole script in a fresh sandbox; prints each step's output with
/// `echo`. Stops at the first failure. Ends by checking that Discord would
/// have accepted every request.
pub async fn play(
    name: &str,
    script: &str,
    data_dir: Option<&Path>,
    start: Timestamp,
    echo: &mut dyn FnMut(&str),
) -> Result<(), ScenarioFailure> {
    let at = |line: usize, text: &str, failure: Failure| ScenarioFailure {
        file: name.to_owned(),
        line,
        text: text.to_owned(),
        failure,
    };
    let lines = parse_script(script).map_err(|errors| {
        let first = &errors[0];
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        at(first.line, "", Failure(all.join("\n")))
    })?;
    // A script's leading `start TIME` sets the clock: it plays the same on
    // any date.
    let (start, lines) = match lines.split_first() {
        Some((first, rest)) => match first.step {
            script::Step::Start(at) => (at, rest),
            _ => (start, lines.as_slice()),
        },
        None => (start, lines.as_slice()),
    };
    let mut sandbox = Sandbox::start(data_dir, start)
        .await
        .map_err(|f| at(0, "start", f))?;
    let mut result = Ok(());
    for line in lines {
        echo(&format!("{}> {}", sandbox.me().name, line.text));
        match sandbox.step(&line.step).await {
            Ok(shown) if shown.is_empty() => {}
            Ok(shown) => echo(&shown),
            Err(failure) => {
                result = Err(at(line.number, &line.text, failure));
                break;
            }
        }
    }
    if result.is_ok() {
        if let Err(failure) = sandbox.step(&script::Step::ExpectNoViolations).await {
            result = Err(at(
                lines.last().map_or(0, |l| l.number),
                "(end of scenario)",
                failure,
            ));
        }
    }
    sandbox.stop().await;
    result
}
