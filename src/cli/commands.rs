//! The `ponte` command: its arguments (clap) and what each subcommand runs.
//!
//! Subcommands: `check-config`, `export`, `import`, `run`, `triage`, `report`,
//! `sandbox`, `backup`, `healthcheck`, `check-store`, `load`, `invite-url`. Each is thin and calls
//! into the rest of the library (`crate::run`, `crate::app`, `crate::store`). `anyhow`
//! lives in `cli/` only.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use std::sync::Arc;

use crate::app::clock::SystemClock;
use crate::app::transfer;
use crate::config::{Config, Secrets};
use crate::store::{SledStore, Store, StoreOptions};
use tracing_subscriber::EnvFilter;

/// Ponte: a chat-ops bridge between a company's internal IT team and its
/// Managed Service Provider.
#[derive(Parser, Debug)]
#[command(name = "ponte", version, about, long_about = None)]
struct Cli {
    /// How log lines are written (to standard error).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Validate a configuration file and print what Ponte understood.
    /// Exits 2, listing every problem with its field and line, if it is wrong.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Write every event of the store as JSON lines (the stable format).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Where to write; `-` is standard output.
        #[arg(long, short, default_value = "-")]
        output: PathBuf,
        /// Only this client's tasks (its key, e.g. ACME); all when absent.
        #[arg(long)]
        client: Option<String>,
        /// From a damaged store: write every task whose events can still be
        /// read, skip the rest and name each one skipped (exits 1 if any).
        #[arg(long)]
        salvage: bool,
        /// Who will read it: `internal` (the company's IT: the MSP's internal
        /// notes are withheld), `msp`, `requesters` (no internal note) or
        /// `everyone` (nothing withheld, for a backup or a move). Default:
        /// `internal` with --client, `everyone` without.
        #[arg(long = "for", value_name = "READER")]
        reader: Option<String>,
    },
    /// Load an export into an empty store.
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// What to read; `-` is standard input.
        #[arg(long, short, default_value = "-")]
        input: PathBuf,
        /// The input is an `export --salvage`: tasks missing from it (gaps in
        /// a client's numbers) are recorded as lost instead of refused.
        #[arg(long)]
        salvaged: bool,
    },
    /// Run the bot against Discord (needs DISCORD_TOKEN in the environment).
    /// Stops cleanly on SIGTERM or SIGINT (a second one exits at once).
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// The data directory, overriding the configuration's.
        #[arg(long, env = "PONTE_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Ask Discord, with the bot's token, what it would refuse: the Message
    /// Content intent, the bot in every configured server, its permissions in
    /// every configured channel, the configured roles, the commands. Prints
    /// each problem with what to grant; exits 1 if there is one.
    Doctor {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Show what Ponte understands from a request: side, category, priority,
    /// due time and the reason for each guess, as JSON. For testing routing
    /// rules; nothing is stored.
    Triage {
        #[command(flatten)]
        config: ConfigArg,
        /// The client whose rules and time zone apply (default: the first).
        #[arg(long)]
        client: Option<String>,
        /// The request, as someone would write it in the chat.
        text: String,
    },
    /// SLA figures of one client over a period, per side and priority:
    /// tasks handled, median and 90th percentile first-response and
    /// resolution times, share within target, time waiting on the other
    /// side. Reads the store directly (stop the bot first: sled allows one
    /// process).
    Report {
        #[command(flatten)]
        config: ConfigArg,
        /// The data directory, overriding the configuration's.
        #[arg(long, env = "PONTE_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The client's key or name.
        #[arg(long)]
        client: String,
        /// The first day (local to the client), e.g. 2026-11-01.
        #[arg(long)]
        from: jiff::civil::Date,
        /// The last day, included.
        #[arg(long)]
        to: jiff::civil::Date,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Try Ponte with no Discord account: a local Discord with a demo MSP and
    /// two client companies, and you typing what their people do.
    Sandbox {
        /// Play this script (the lines you would type, plus `expect` lines)
        /// and exit non-zero at the first expectation that fails.
        #[arg(long)]
        script: Option<PathBuf>,
        /// Keep the data here (default: a temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where the clock starts (e.g. 2026-11-27T09:00Z); default now. A
        /// script's own `start` line wins.
        #[arg(long)]
        start: Option<jiff::Timestamp>,
    },
    /// Copy the store, consistently, into a new directory; works while the
    /// bot runs (through its `health_addr`). The copy is a data directory:
    /// point `data_dir` at it to restore.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The new directory: an absolute path that does not exist yet,
        /// outside the data directory.
        dir: PathBuf,
        /// Give up on a running Ponte's backup after this many seconds.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Ask a running bot's `/healthz` (at the configuration's
    /// `health_addr`); exits 0 when healthy, 1 otherwise. For container
    /// health checks.
    Healthcheck {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Check a store (stopped bot) for damage: every snapshot the fold of
    /// its events, indexes and counters right. Exits 1 if it is damaged.
    CheckStore {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// What waits in the outbox, and the dead letters (deliveries refused
    /// for good): list them, retry them after a fix, or drop them. Stop the
    /// bot first.
    Outbox {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        what: crate::cli::outbox::OutboxCmd,
    },
    /// Print the URL that adds the bot to a Discord server, with the scopes
    /// and permissions Ponte needs (and why each).
    InviteUrl {
        /// The application's id (Developer Portal → General Information →
        /// Application ID).
        #[arg(long, env = "PONTE_APPLICATION_ID")]
        application_id: u64,
    },
    /// Load test: the local Discord and the real bot in this process, driven
    /// by simulated people; prints throughput, latency, store size, memory
    /// and CPU time (see BENCHMARKS.md).
    Load(LoadArgs),
}

#[derive(clap::Args, Debug)]
struct LoadArgs {
    /// How many people ask (the demo's requesters plus generated ones).
    #[arg(long, default_value_t = 50)]
    people: usize,
    /// Operations started per second (default: as fast as possible).
    #[arg(long)]
    rate: Option<f64>,
    /// Operations in flight at most.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Stop after this many operations (default 1000 without --duration).
    #[arg(long)]
    requests: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Weights of /request commands, Claim clicks and mentions.
    #[arg(long, default_value = "7:2:1")]
    mix: crate::cli::load::Mix,
    /// Against a bot that answers everything at once, with no Ponte: the
    /// emulator's and serenity's share of the latency.
    #[arg(long)]
    baseline: bool,
    /// Ponte's data directory (default: a fresh temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Load the alert listener instead: post this many distinct alerts to
    /// the demo's Alertmanager integration (and as many to a listener that
    /// records nothing, the baseline); --concurrency requests at a time.
    #[arg(long)]
    alerts: Option<u64>,
    /// With --alerts: alerts per request.
    #[arg(long, default_value_t = 50)]
    batch: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReportFormat {
    Text,
    Csv,
    Json,
}

#[derive(clap::Args, Debug)]
struct ConfigArg {
    /// The configuration file.
    #[arg(long, short, env = "PONTE_CONFIG", default_value = "ponte.toml")]
    config: PathBuf,
}

#[derive(clap::Args, Debug)]
struct StoreArgs {
    /// The configuration file, for its `data_dir` (not needed with --data-dir).
    #[arg(long, short, env = "PONTE_CONFIG")]
    config: Option<PathBuf>,
    /// The data directory, overriding the configuration's.
    #[arg(long, env = "PONTE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

/// Exit code for a usage or configuration problem.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

/// Runs the `ponte` command with the process's arguments.
pub fn main() -> ExitCode {
    let _ = crate::ops::heap::return_freed_memory();
    let cli = Cli::parse();
    // The sandbox shares the terminal with its user: only warnings by default.
    let quiet = matches!(cli.command, Cmd::Sandbox { .. } | Cmd::Load(_));
    init_tracing(cli.log_format, if quiet { "warn" } else { "info" });
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!(
                "error: {}",
                crate::ops::redact::redact(&format!("{error:#}"))
            );
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_env("PONTE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default));
    // Log lines and panics go through the redactor: a secret read from the
    // environment is never written out, whoever tries to print it.
    crate::ops::redact::install_panic_hook();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::ops::redact::Redacting(io::stderr));
    match format {
        LogFormat::Text => builder.with_ansi(io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(command: Cmd) -> anyhow::Result<ExitCode> {
    match command {
        Cmd::CheckConfig { config } => Ok(check_config(&config.config)),
        Cmd::Export {
            store,
            output,
            client,
            salvage,
            reader,
        } => {
            let client = client
                .map(|c| crate::domain::ClientKey::new(&c.trim().to_ascii_uppercase()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--client: {e}"))?;
            let reader = export_reader(reader.as_deref(), client.is_some())?;
            let (store, _copy) = open_for_reading(&store)?;
            if salvage {
                return salvage_export(&store, client.as_ref(), &output);
            }
            let counts = if output == Path::new("-") {
                let stdout = io::stdout();
                transfer::export_for(
                    &store,
                    client.as_ref(),
                    reader,
                    &mut BufWriter::new(stdout.lock()),
                )?
            } else {
                let file = File::create(&output)
                    .with_context(|| format!("cannot create {}", output.display()))?;
                transfer::export_for(&store, client.as_ref(), reader, &mut BufWriter::new(file))?
            };
            tracing::info!(tasks = counts.tasks, events = counts.events, "exported");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Import {
            store,
            input,
            salvaged,
        } => import(&store, &input, salvaged),
        Cmd::Run { config, data_dir } => run_bot(&config.config, data_dir),
        Cmd::Doctor { config } => crate::cli::doctor::doctor(&config.config),
        Cmd::Triage {
            config,
            client,
            text,
        } => triage(&config.config, client.as_deref(), &text),
        Cmd::Sandbox {
            script,
            data_dir,
            start,
        } => sandbox(script.as_deref(), data_dir.as_deref(), start),
        Cmd::Report {
            config,
            data_dir,
            client,
            from,
            to,
            format,
        } => sla_report(&config.config, data_dir, &client, from, to, format),
        Cmd::Backup {
            store,
            dir,
            timeout,
        } => backup(&store, &dir, std::time::Duration::from_secs(timeout)),
        Cmd::CheckStore { store } => Ok(check_store(&store)),
        Cmd::Outbox { store, what } => {
            let opened = open_existing_store(&store)?;
            crate::cli::outbox::run(&opened, &what, &mut io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Healthcheck { config } => healthcheck(&config.config),
        Cmd::Load(args) => load(args),
        Cmd::InviteUrl { application_id } => {
            use crate::discord::invite;
            println!("{}\n", invite::url(application_id));
            println!(
                "Scopes: bot, applications.commands. Permissions ({}):",
                invite::permissions()
            );
            for (name, _, why) in invite::PERMISSIONS {
                println!("  - {name}: {why}");
            }
            println!(
                "\nAlso turn on the privileged Message Content intent (Developer Portal → Bot):\n\
                 Ponte reads mentions, DMs and task threads; without it Discord closes the gateway."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ponte import`: into a new directory beside the target, moved into
/// place only once everything is loaded and flushed, so an interrupted
/// import leaves no half store, and running it again starts over.
fn import(args: &StoreArgs, input: &Path, salvaged: bool) -> anyhow::Result<ExitCode> {
    let (dir, cache) = store_dir(args)?;
    let dir =
        std::path::absolute(&dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let empty_dir = match std::fs::read_dir(&dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    anyhow::ensure!(
        empty_dir || !dir.exists(),
        "{} already exists and is not empty; import makes a new data directory: give one \
         that does not exist yet (or is empty)",
        dir.display()
    );
    let name = dir
        .file_name()
        .context("give the data directory a name")?
        .to_string_lossy()
        .into_owned();
    let partial = dir.with_file_name(format!(".{name}.importing"));
    if partial.exists() {
        tracing::warn!(dir = %partial.display(), "removing what an interrupted import left");
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let known: Option<Vec<crate::domain::ClientKey>> = match &args.config {
        Some(path) => Some(
            load_config(path)?
                .clients()
                .iter()
                .map(|c| c.key.clone())
                .collect(),
        ),
        None => {
            tracing::warn!("no --config: the clients of the events are not checked");
            None
        }
    };
    let accept =
        |client: &crate::domain::ClientKey| known.as_ref().is_none_or(|k| k.contains(client));
    let loaded = (|| {
        let store = SledStore::open(&StoreOptions {
            path: partial.clone(),
            cache_capacity_bytes: cache,
        })
        .context("cannot create the store")?;
        let counts = if input == Path::new("-") {
            transfer::import_clients(&store, &mut io::stdin().lock(), &accept, salvaged)?
        } else {
            let file =
                File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
            transfer::import_clients(&store, &mut BufReader::new(file), &accept, salvaged)?
        };
        anyhow::Ok(counts)
    })();
    let counts = match loaded {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e.context(format!("nothing was imported into {}", dir.display())));
        }
    };
    // The store is flushed and closed (dropped above): move it into place.
    if empty_dir {
        std::fs::remove_dir(&dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&partial, &dir)
        .with_context(|| format!("cannot move the import into {}", dir.display()))?;
    if let Some(parent) = dir.parent() {
        let _ = File::open(parent).and_then(|d| d.sync_all());
    }
    tracing::info!(tasks = counts.tasks, events = counts.events, dir = %dir.display(), "imported");
    Ok(ExitCode::SUCCESS)
}

// ---- Operations: backup, check-store, health (issue 8) ----

/// What to do when a store is damaged.
const RECOVER: &str = "\
To recover: stop Ponte, save what can still be read with
    ponte export --data-dir DIR --output ponte-export.jsonl
then import it into a new, empty data directory
    ponte import --data-dir NEW_DIR --input ponte-export.jsonl
and point `data_dir` at NEW_DIR (or restore the latest `ponte backup`).";

fn backup(args: &StoreArgs, dir: &Path, timeout: std::time::Duration) -> anyhow::Result<ExitCode> {
    let dir =
        std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    match open_existing_store(args) {
        Ok(store) => {
            let report = store.backup_to(&dir).context("the backup failed")?;
            println!(
                "backed up {} tasks, {} events and {} outbox entries into {}",
                report.tasks,
                report.events,
                report.outbox,
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error)
            if error
                .downcast_ref::<crate::store::StoreError>()
                .is_some_and(|e| e.is_locked()) =>
        {
            // The bot runs and holds the store: ask it.
            let addr = match &args.config {
                Some(path) => load_config(path)?.health_addr(),
                None => None,
            };
            let Some(addr) = addr else {
                anyhow::bail!(
                    "the store is in use by a running Ponte; give its --config (with \
                     [ponte] health_addr) so the backup is made through it, or stop it first"
                );
            };
            let var = crate::ops::health::BACKUP_SECRET_VAR;
            let secret = std::env::var(var).ok().filter(|s| !s.trim().is_empty());
            let Some(secret) = secret else {
                anyhow::bail!(
                    "the store is in use by a running Ponte; set {var} to the secret the bot \
                     was started with, so the backup is made through it (or stop it first)"
                );
            };
            crate::ops::redact::register(&secret);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let answer = runtime.block_on(async {
                let response = reqwest::Client::new()
                    .post(format!("http://{addr}/backup"))
                    .bearer_auth(&secret)
                    .timeout(timeout)
                    .json(&crate::ops::health::BackupRequest { dir: dir.clone() })
                    .send()
                    .await?;
                let status = response.status();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            });
            let (status, text) =
                answer.with_context(|| format!("cannot reach the running Ponte at {addr}"))?;
            anyhow::ensure!(
                status.is_success(),
                "the running Ponte refused: {}",
                text.trim()
            );
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Err(error),
    }
}

fn healthcheck(path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let Some(addr) = config.health_addr() else {
        anyhow::bail!("{} sets no [ponte] health_addr", path.display());
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let answer = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("http://{addr}/healthz"))
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    });
    match answer {
        Ok((status, body)) => {
            println!("{}", body.trim());
            Ok(if status.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(e) => {
            eprintln!("error: cannot reach {addr}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check_store(args: &StoreArgs) -> ExitCode {
    let (store, _copy) = match open_for_reading(args) {
        Ok(opened) => opened,
        Err(error) => {
            eprintln!("error: {error:#}");
            let damaged = error
                .downcast_ref::<crate::store::StoreError>()
                .is_some_and(|e| !e.is_locked());
            match store_dir(args) {
                Ok((dir, _)) if damaged => eprintln!("\n{}", unopenable_advice(&dir)),
                _ => {}
            }
            return ExitCode::FAILURE;
        }
    };
    // Issue 6: personal digest subscriptions (marks) read back too.
    let checked = store.quick_check().and_then(|()| {
        let mut problems = store.check_integrity()?;
        problems.extend(crate::app::personal_digests::check(&store)?);
        Ok(problems)
    });
    match checked {
        Ok(problems) if problems.is_empty() => {
            println!("the store is intact");
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            eprintln!("the store is damaged ({} problems):", problems.len());
            for problem in &problems {
                eprintln!("  - {problem}");
            }
            eprintln!("\n{RECOVER}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!(
                "the store is damaged: some of its pages cannot be read ({error})\n\n{SALVAGE}"
            );
            ExitCode::FAILURE
        }
    }
}

/// What to do when parts of the log cannot be read.
const SALVAGE: &str = "\
To recover: stop Ponte, then save every task that can still be read
    ponte export --salvage --data-dir DIR --output salvage.jsonl
and load it into a new, empty data directory
    ponte import --salvaged --data-dir NEW_DIR --input salvage.jsonl
then point `data_dir` at NEW_DIR. The salvage names each task it skips;
the import records them as lost (their numbers are not given again): take
them from your latest `ponte backup`.";

/// Which part of a store that does not open is damaged, and what to do.
fn unopenable_advice(dir: &Path) -> String {
    use crate::store::Diagnosis;
    // Absolute, so the commands shown work from any directory.
    let dir = &std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let shown = dir.display();
    match crate::store::diagnose(dir) {
        Diagnosis::MissingLog => format!(
            "The log file {shown}/db is missing: the tasks are no longer in this directory.\n\
             To recover: stop Ponte and restore the latest `ponte backup` (point `data_dir` at \n\
             the backup directory), or import the latest export into a new, empty directory:\n    \
             ponte import --data-dir NEW_DIR --input ponte-export.jsonl"
        ),
        Diagnosis::Snapshot { files, tasks } => {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            format!(
                "Only the snapshot is damaged: without it the log reads whole ({tasks} tasks, \
                 checked on a copy).\nTo recover: stop Ponte, move the snapshot out of the data \
                 directory\n    mv {} /some/where/else/\nand run `ponte check-store` again \
                 (sled rebuilds the snapshot from the log).",
                files.join(" ")
            )
        }
        Diagnosis::Log(why) => format!(
            "The log {shown}/db itself is damaged ({why}), and Ponte cannot read it.\n\
             To recover: stop Ponte and restore the latest `ponte backup` (point `data_dir` at \n\
             the backup directory), or import the latest export into a new, empty directory.\n\
             Keep the damaged directory: it is evidence, and nothing reads it any more."
        ),
    }
}

fn salvage_export(
    store: &SledStore,
    client: Option<&crate::domain::ClientKey>,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let mut out: Box<dyn Write> = if output == Path::new("-") {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(File::create(output).with_context(|| {
            format!("cannot create {}", output.display())
        })?))
    };
    let report = store.salvage(client, &mut |events| {
        for event in events {
            serde_json::to_writer(&mut out, event)
                .map_err(|e| crate::store::StoreError::Io(io::Error::other(e)))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    out.flush()?;
    eprintln!(
        "salvaged {} tasks ({} events); skipped {}",
        report.tasks,
        report.events,
        report.skipped.len()
    );
    for skipped in &report.skipped {
        eprintln!("  - skipped {skipped}");
    }
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn sla_report(
    path: &Path,
    data_dir: Option<PathBuf>,
    client: &str,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    format: ReportFormat,
) -> anyhow::Result<ExitCode> {
    let config = match config_or_exit(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let Some(conf) = config.clients().iter().find(|c| {
        c.key.as_str().eq_ignore_ascii_case(client) || c.name.eq_ignore_ascii_case(client)
    }) else {
        let known: Vec<&str> = config.clients().iter().map(|c| c.key.as_str()).collect();
        eprintln!("no client `{client}`: use one of {}", known.join(", "));
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    };
    if from > to {
        eprintln!("--from {from} is after --to {to}");
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    let store = open_existing_store(&StoreArgs {
        config: Some(path.to_owned()),
        data_dir,
    })?;
    let report = crate::app::report::client_report(&store, conf, from, to, jiff::Timestamp::now())?;
    let out = match format {
        ReportFormat::Text => crate::app::report::text(&report),
        ReportFormat::Csv => crate::app::report::csv(&report),
        ReportFormat::Json => crate::app::report::json(&report, conf.key.as_str(), from, to) + "\n",
    };
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    if let Some(alerts) = args.alerts {
        let options = crate::cli::load_alerts::Options {
            alerts,
            batch: args.batch,
            concurrency: args.concurrency,
        };
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let report = runtime.block_on(crate::cli::load_alerts::run(options))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.table());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let duration = match args.duration {
        Some(s) if s.is_finite() && s > 0.0 => Some(std::time::Duration::from_secs_f64(s)),
        Some(_) => anyhow::bail!("--duration must be a positive number of seconds"),
        None => None,
    };
    let options = crate::cli::load::Options {
        people: args.people,
        rate: args.rate,
        concurrency: args.concurrency,
        requests: args.requests.or(duration.is_none().then_some(1000)),
        duration,
        mix: args.mix,
        baseline: args.baseline,
        data_dir: args.data_dir,
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(crate::cli::load::run(options))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}

fn check_config(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok(config) => {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{} is valid.\n", path.display());
            let _ = write!(out, "{}", config.summary());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Who an export is for (`--for`): a client's export defaults to the
/// company's IT, so the MSP's internal notes never leave with it.
fn export_reader(
    reader: Option<&str>,
    one_client: bool,
) -> anyhow::Result<Option<crate::domain::Audience>> {
    use crate::domain::{Audience, Side};
    Ok(match reader.map(str::trim) {
        None if one_client => Some(Audience::Staff(Side::Internal)),
        None | Some("everyone") => None,
        Some("internal") => Some(Audience::Staff(Side::Internal)),
        Some("msp") => Some(Audience::Staff(Side::Msp)),
        Some("requesters") => Some(Audience::Requesters),
        Some(other) => anyhow::bail!(
            "--for {other:?}: say internal, msp, requesters or everyone (who will read the export)"
        ),
    })
}

/// Opens a store that must already exist (exporting from a mistyped path
/// should not quietly create an empty store), whether the directory comes
/// from `--data-dir` or from the configuration's `data_dir`.
fn open_existing_store(args: &StoreArgs) -> anyhow::Result<SledStore> {
    let (dir, _) = store_dir(args)?;
    // sled's files: a store has its `conf` and its log `db` (a store whose
    // log is gone is reported as damaged when opened).
    let holds_store = dir.join("conf").is_file() || dir.join("db").is_file();
    if !holds_store {
        let shown = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
        let from = match (&args.data_dir, &args.config) {
            (Some(_), _) => "--data-dir (or PONTE_DATA_DIR)".to_owned(),
            (None, Some(config)) => format!(
                "data_dir in {} (relative to that file's folder)",
                config.display()
            ),
            (None, None) => "data_dir".to_owned(),
        };
        anyhow::bail!("no store at {}; check {from}", shown.display());
    }
    open_store(args)
}

/// The data directory and cache size `args` name.
fn store_dir(args: &StoreArgs) -> anyhow::Result<(PathBuf, u64)> {
    Ok(match (&args.data_dir, &args.config) {
        (Some(dir), config) => {
            let cache = match config {
                Some(path) => load_config(path)?.store_options().cache_capacity_bytes,
                None => StoreOptions::DEFAULT_CACHE_CAPACITY_BYTES,
            };
            (dir.clone(), cache)
        }
        (None, Some(path)) => {
            let options = load_config(path)?.store_options();
            (options.path, options.cache_capacity_bytes)
        }
        (None, None) => {
            anyhow::bail!("say which store to use: --data-dir DIR, or --config FILE (its data_dir)")
        }
    })
}

/// [`open_existing_store`] for commands that only read: when sled cannot
/// open the store in place (its disk is full or read-only: sled writes as it
/// opens), a copy in `TMPDIR` is read instead, removed with the guard.
fn open_for_reading(args: &StoreArgs) -> anyhow::Result<(SledStore, Option<tempfile::TempDir>)> {
    let error = match open_existing_store(args) {
        Ok(store) => return Ok((store, None)),
        Err(error) => error,
    };
    let retry = error
        .downcast_ref::<crate::store::StoreError>()
        .is_some_and(|e| !e.is_locked());
    if !retry {
        return Err(error);
    }
    let (dir, _) = store_dir(args)?;
    match crate::store::open_copy(&dir) {
        Ok((store, copy)) => {
            eprintln!(
                "note: {} cannot be opened in place ({error:#}); reading a copy in {} \
                 (is its disk full or read-only?)",
                dir.display(),
                copy.path().display()
            );
            Ok((store, Some(copy)))
        }
        Err(_) => Err(error),
    }
}

fn open_store(args: &StoreArgs) -> anyhow::Result<SledStore> {
    let (data_dir, cache) = store_dir(args)?;
    SledStore::open(&StoreOptions {
        path: data_dir,
        cache_capacity_bytes: cache,
    })
    .context("cannot open the store")
}

/// The configuration at `path`, or, when it has problems, the exit code
/// after printing every one of them (with its file:line).
pub(crate) fn config_or_exit(path: &Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|problems| {
        eprintln!("{problems}");
        ExitCode::from(EXIT_BAD_INPUT)
    })
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|problems| anyhow::anyhow!("{problems}"))
}

fn triage(path: &Path, client: Option<&str>, text: &str) -> anyhow::Result<ExitCode> {
    let config = match config_or_exit(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let known = || {
        config
            .clients()
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match client {
        None => config.clients().first(),
        Some(raw) => crate::domain::ClientKey::new(&raw.trim().to_uppercase())
            .ok()
            .and_then(|key| config.client(&key)),
    };
    let Some(found) = found else {
        eprintln!(
            "error: unknown client `{}`; the known clients are: {}",
            client.unwrap_or(""),
            known()
        );
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    };
    let routing = config
        .routing(&found.key)
        .context("the client has no routing rules")?;
    let tz = &found.time_zone;
    let draft = crate::domain::understand::understand(text, routing, tz, jiff::Timestamp::now());
    let mut json = serde_json::to_value(&draft).context("cannot write the draft as JSON")?;
    local_times(&mut json, tz);
    if let serde_json::Value::Object(map) = &mut json {
        map.insert("client".into(), found.key.as_str().into());
        map.insert("time_zone".into(), tz.iana_name().unwrap_or("").into());
    }
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}

/// Rewrites every `due` time of the draft's JSON in the client's offset.
fn local_times(value: &mut serde_json::Value, tz: &jiff::tz::TimeZone) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let at = match (key.as_str(), &*inner) {
                    ("due", serde_json::Value::String(s)) => s.parse::<jiff::Timestamp>().ok(),
                    _ => None,
                };
                match at {
                    Some(at) => {
                        *inner = at.display_with_offset(tz.to_offset(at)).to_string().into();
                    }
                    None => local_times(inner, tz),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| local_times(v, tz)),
        _ => {}
    }
}

fn run_bot(path: &Path, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = match config_or_exit(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let secrets = match Secrets::from_env() {
        Ok(secrets) => secrets,
        Err(missing) => {
            eprintln!(
                "{missing}.\n\
                 \n\
                 To run Ponte in your Discord server, create an application and a bot at\n\
                 https://discord.com/developers/applications, copy the bot's token and start\n\
                 Ponte with it in the environment (never in the configuration file):\n\
                 \n    DISCORD_TOKEN=... ponte run --config {}\n\
                 \n\
                 To try Ponte without a Discord account, run the sandbox instead:\n\
                 \n    ponte sandbox\n",
                path.display()
            );
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    // Only for the crash test: a local emulator in another process
    // (`PONTE_EMULATOR_REST` and `PONTE_EMULATOR_CA`); never set in production.
    let emulated = match crate::discord::emulated::from_env(|v| std::env::var(v).ok()) {
        Ok(emulated) => emulated,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let connect = || -> anyhow::Result<crate::run::Connect> {
        Ok(match &emulated {
            Some((addr, ca)) => {
                tracing::warn!("connecting to a local Discord emulator, not to Discord");
                crate::run::Connect::Http(
                    crate::discord::emulated::http_builder(secrets.discord_token(), *addr, ca)
                        .context("cannot connect to the emulator")?,
                )
            }
            None => crate::run::Connect::Discord {
                token: secrets.discord_token().to_owned(),
            },
        })
    };
    // Open the store first, so a damaged or foreign data directory is
    // reported before anything connects.
    let mut options = config.store_options();
    if let Some(dir) = data_dir {
        options.path = dir;
    }
    let open = |options: &StoreOptions| {
        SledStore::open(options).and_then(|s| s.quick_check().map(|()| Arc::new(s)))
    };
    let store = match open(&options) {
        Ok(store) => store,
        Err(e) if e.is_locked() => return Err(e).context("cannot open the store"),
        Err(e) => {
            eprintln!(
                "error: the store at {} fails its check, so Ponte does not start: {e}\n\
                 Run `ponte check-store --config {}` for what is damaged and how to recover.",
                options.path.display(),
                path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let current = Arc::new(std::sync::Mutex::new(Some(store.clone())));
    let config = Arc::new(config);
    let code = runtime.block_on(async {
        // Listen before connecting: as PID 1 (in a container) a signal with
        // no handler is ignored, so `docker stop` would wait and kill.
        let mut signals = Signals::listen().context("cannot listen for SIGTERM and SIGINT")?;
        let mut store = store;
        loop {
            let health = match config.health_addr() {
                Some(addr) => Some(
                    crate::ops::health::bind(addr)
                        .await
                        .with_context(|| format!("cannot serve /healthz on {addr}"))?,
                ),
                None => None,
            };
            let inbound = match config.inbound() {
                Some(inbound) => Some(
                    crate::inbound::bind(inbound.addr)
                        .await
                        .with_context(|| format!("cannot receive alerts on {}", inbound.addr))?,
                ),
                None => None,
            };
            let mut bot = crate::run::start(
                config.clone(),
                store.clone(),
                connect()?,
                Arc::new(SystemClock),
            )
            .await
            .context("cannot start the bot")?;
            bot.check_discord();
            let (health_stop, health_stopped) = tokio::sync::watch::channel(false);
            if let Some(listener) = health {
                serve_health(listener, Arc::new(bot.probe()), health_stopped.clone());
            }
            if let (Some(listener), Some(settings)) = (inbound, config.inbound()) {
                serve_inbound(
                    listener,
                    bot.monitoring(),
                    settings.max_body_bytes,
                    health_stopped.clone(),
                );
            }
            match bot.heartbeat_out() {
                Ok(Some(out)) => {
                    tracing::info!(
                        every_s = out.settings.every.as_secs(),
                        "heartbeat out: calling its URL while the writer, the timers and the gateway work"
                    );
                    tokio::spawn(out.run(health_stopped));
                }
                Ok(None) => {}
                Err(e) => tracing::error!("{e}"),
            }
            let stopped_by = tokio::select! {
                () = bot.wait() => anyhow::bail!("the Discord connection ended; see the log above"),
                signal = signals.next() => Some(signal),
                () = stuck(store.clone()) => None,
            };
            let _ = health_stop.send(true);
            let Some(signal) = stopped_by else {
                // sled refuses everything after a failed write until it is
                // reopened: stop, reopen once the disk takes writes, go on.
                tracing::error!(
                    "the store refuses writes since one failed, though the disk has room: \
                     stopping the bot to reopen the store"
                );
                if tokio::time::timeout(STOP_DEADLINE, bot.stop())
                    .await
                    .is_err()
                {
                    tracing::warn!("the bot did not stop in time");
                }
                drop(current.lock().unwrap_or_else(|e| e.into_inner()).take());
                drop(store);
                store = loop {
                    tokio::select! {
                        signal = signals.next() => {
                            tracing::info!(signal, "stopping while the store is closed");
                            return Ok(ExitCode::SUCCESS);
                        }
                        () = tokio::time::sleep(REOPEN_EVERY) => {}
                    }
                    let options = options.clone();
                    let reopened = tokio::task::spawn_blocking(move || {
                        let store = open(&options)?;
                        store.probe_write()?;
                        Ok::<_, crate::store::StoreError>(store)
                    })
                    .await;
                    match reopened {
                        Ok(Ok(store)) => break store,
                        Ok(Err(e)) => tracing::warn!(error = %e, "the store does not open yet"),
                        Err(e) => tracing::warn!(error = %e, "reopening the store failed"),
                    }
                };
                *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(store.clone());
                tracing::info!("the store is open again: reconnecting");
                continue;
            };
            tracing::info!(
                signal,
                "stopping: closing the gateway, then the outbox and the timers"
            );
            // A second signal means "now": every confirmed change is already
            // on disk (the writer flushes before anyone is told), so nothing
            // is lost.
            tokio::spawn(async move {
                let again = signals.next().await;
                eprintln!("{again} again: exiting at once");
                std::process::exit(EXIT_SECOND_SIGNAL);
            });
            if tokio::time::timeout(STOP_DEADLINE, bot.stop())
                .await
                .is_err()
            {
                tracing::warn!(
                    after_s = STOP_DEADLINE.as_secs(),
                    "the bot did not stop in time; what is not delivered stays in the outbox"
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
    });
    // Flush what the timers and the outbox recorded last, with a deadline
    // (a full or hung disk must not keep the process alive).
    if let Some(flushed) = current.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let (done, flushed_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(flushed.flush());
        });
        match flushed_rx.recv_timeout(FLUSH_DEADLINE) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the last flush failed"),
            Err(_) => tracing::error!("the last flush did not finish in time"),
        }
    }
    // Tasks still running (a hung HTTP call, a blocking read) are dropped,
    // not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if code.is_ok() {
        tracing::info!("stopped");
    }
    code
}

/// Serves `/healthz`, `/metrics` and `/backup` on `listener` until `stop`.
fn serve_health(
    listener: tokio::net::TcpListener,
    probe: Arc<dyn crate::ops::health::Probe>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let options = crate::ops::health::Options::from_env();
    if options.backup_secret.is_none() {
        tracing::info!(
            "POST /backup is off: set {} to allow `ponte backup` while Ponte runs",
            crate::ops::health::BACKUP_SECRET_VAR
        );
    }
    let metrics = crate::ops::metrics::global();
    tracing::info!(addr = ?listener.local_addr().ok(), "serving /healthz and /metrics");
    tokio::spawn(async move {
        if let Err(e) = crate::ops::health::serve(listener, probe, metrics, options, stop).await {
            tracing::error!(error = %e, "the health server stopped");
        }
    });
}

/// Receives alerts and beats on `listener` until `stop` (issue 20).
fn serve_inbound<S: crate::store::Store>(
    listener: tokio::net::TcpListener,
    monitoring: crate::app::monitor::Monitoring<S>,
    max_body: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let secrets: crate::inbound::Secrets = Arc::new(|var: &str| std::env::var(var).ok());
    crate::inbound::check_secrets(&monitoring.config, &secrets);
    tracing::info!(addr = ?listener.local_addr().ok(), "receiving alerts and heartbeats");
    tokio::spawn(async move {
        if let Err(e) =
            crate::inbound::serve(listener, Arc::new(monitoring), secrets, max_body, stop).await
        {
            tracing::error!(error = %e, "the alert listener stopped");
        }
    });
}

/// Returns once `store` refuses writes while its disk has room (sled after
/// a failed write), checked every [`REOPEN_EVERY`].
async fn stuck(store: Arc<SledStore>) {
    loop {
        tokio::time::sleep(REOPEN_EVERY).await;
        let store = store.clone();
        if tokio::task::spawn_blocking(move || store.stuck())
            .await
            .unwrap_or(false)
        {
            return;
        }
    }
}

/// How often a running Ponte checks for a stuck store, and tries to reopen
/// one.
const REOPEN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How long `ponte run` takes at most to stop after SIGTERM or SIGINT before
/// it gives up on the outbox and the gateway (within Docker's 10 s).
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(6);
/// How long the last flush may take when stopping.
const FLUSH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);
/// Exit code after a second SIGTERM or SIGINT.
const EXIT_SECOND_SIGNAL: i32 = 130;

/// SIGTERM and SIGINT, both handled (also as PID 1).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

fn sandbox(
    script: Option<&Path>,
    data_dir: Option<&Path>,
    start: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let start = start.unwrap_or_else(jiff::Timestamp::now);
    match script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path.display().to_string();
            let result = runtime.block_on(crate::sandbox::play(
                &name,
                &text,
                data_dir,
                start,
                &mut |line| println!("{line}"),
            ));
            match result {
                Ok(()) => {
                    println!("\nok: every expectation held");
                    Ok(ExitCode::SUCCESS)
                }
                Err(failure) => {
                    eprintln!("\nFAILED {failure}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        None => runtime.block_on(interactive(data_dir, start)),
    }
}

async fn interactive(data_dir: Option<&Path>, start: jiff::Timestamp) -> anyhow::Result<ExitCode> {
    use crate::sandbox::runner::{Sandbox, help};
    use crate::sandbox::script::parse_line;
    use tokio::io::AsyncBufReadExt;

    println!("Starting a local Discord and Ponte...");
    let mut sandbox = Sandbox::start(data_dir, start)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    println!("Ready. {}", help());
    if let Some(listener) = sandbox.listener_help() {
        println!("{listener}");
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        print!("{}> ", sandbox.me().name);
        let _ = io::stdout().flush();
        let Some(line) = lines
            .next_line()
            .await
            .context("cannot read the terminal")?
        else {
            break;
        };
        if matches!(line.trim(), "quit" | "exit") {
            break;
        }
        match parse_line(&line) {
            Ok(None) => {}
            Ok(Some(step)) => match sandbox.step(&step).await {
                Ok(shown) if shown.is_empty() => {}
                Ok(shown) => println!("{shown}"),
                Err(failure) => println!("! {failure}"),
            },
            Err(problem) => println!("! {problem}"),
        }
    }
    sandbox.stop().await;
    Ok(ExitCode::SUCCESS)
}
