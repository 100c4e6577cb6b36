//! `ponte doctor`: checks with the bot's token what Discord would refuse
//! (see `crate::discord::doctor`), prints each problem with its fix, and
//! exits 1 when there is one.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::commands::{EXIT_BAD_INPUT, config_or_exit};
use crate::config::Secrets;

pub fn doctor(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match config_or_exit(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let secrets = match Secrets::from_env() {
        Ok(secrets) => secrets,
        Err(missing) => {
            eprintln!("{missing}: `ponte doctor` asks Discord with the bot's token");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let http = match crate::discord::emulated::from_env(|v| std::env::var(v).ok()) {
        Ok(Some((addr, ca))) => {
            crate::discord::emulated::http_builder(secrets.discord_token(), addr, &ca)
                .context("cannot connect to the emulator")?
                .build()
        }
        Ok(None) => serenity::all::Http::new(secrets.discord_token()),
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let manifest: serde_json::Value = serde_json::from_str(crate::discord::run::MANIFEST)
        .context("the command manifest is not valid JSON")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(crate::discord::doctor::check(&http, &config, &manifest));
    print!("{report}");
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
