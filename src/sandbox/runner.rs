//! Plays scenario steps against the emulator and the real bot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::app::clock::{Clock, ManualClock};
use crate::config::Config;
use crate::domain::TaskId;
use crate::emulator::{
    CommandOption, Emulator, InteractionHandle, Message, OptionValue, RouteMatch, opt, sub,
};
use crate::run::{Connect, Running, start_wrapped};
use crate::store::{SledStore, Store, StoreOptions};

use super::cast::{self, Person};
use super::script::{Check, Fault, Place, Step};

/// How long a step waits for the bot.
pub const WAIT: Duration = Duration::from_secs(15);

/// Why a step failed, with what was there instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(message.into()))
}

/// A running sandbox: the emulator, the bot, the manual clock and who is
/// acting where.
pub struct Sandbox {
    pub emulator: Emulator,
    config: Arc<Config>,
    clock: ManualClock,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    bot: Option<Running<SledStore>>,
    me: &'static Person,
    channel: u64,
    last: Option<InteractionHandle>,
    /// The last interaction answered with a form, for `submit`.
    form: Option<InteractionHandle>,
    /// The task whose thread (or mirror) the current person writes in.
    in_task: Option<TaskId>,
    /// How late the bot answers interactions, in milliseconds
    /// (`fault slow-answers`).
    slow: Arc<std::sync::atomic::AtomicU64>,
    /// The bot's alert listener on a local port, and its stop switch.
    inbound: Option<(std::net::SocketAddr, tokio::sync::watch::Sender<bool>)>,
    /// The listener's answer to the last `alert` or `beat` step.
    inbound_answer: Option<String>,
    /// The alert listener's port (0 until the first start).
    inbound_port: u16,
}

impl Sandbox {
    /// Starts the emulator with the demo world and the bot on `data_dir`
    /// (a temporary directory when `None`), at `start` on the manual clock.
    pub async fn start(data_dir: Option<&Path>, at: Timestamp) -> Result<Self, Failure> {
        let config = Config::from_toml_str(cast::CONFIG, "ponte.example.toml")
            .map_err(|e| Failure(e.to_string()))?;
        let (data_dir, temp) = match data_dir {
            Some(dir) => (dir.to_path_buf(), None),
            None => {
                let temp = tempfile::tempdir().map_err(|e| Failure(e.to_string()))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let emulator = Emulator::start(cast::world())
            .await
            .map_err(|e| Failure(format!("cannot start the emulator: {e}")))?;
        let first = &cast::PEOPLE[0];
        let clock = ManualClock::new(at);
        // Message times and ids from the sandbox's clock, as the bot reads
        // them (a draft's age is its message's).
        let time = clock.clone();
        emulator.set_time(Arc::new(move || time.now()));
        let mut sandbox = Self {
            emulator,
            config: Arc::new(config),
            clock,
            data_dir,
            _temp: temp,
            bot: None,
            me: first,
            channel: first.channel,
            last: None,
            form: None,
            in_task: None,
            slow: Arc::default(),
            inbound: None,
            inbound_answer: None,
            inbound_port: 0,
        };
        sandbox.start_bot().await?;
        Ok(sandbox)
    }

    async fn start_bot(&mut self) -> Result<(), Failure> {
        let store = open_store(&self.data_dir).await?;
        let delay = self.slow.clone();
        let running = start_wrapped(
            self.config.clone(),
            Arc::new(store),
            Connect::Http(self.emulator.http_builder()),
            Arc::new(self.clock.clone()),
            |bot| crate::sandbox::slow::Slow { inner: bot, delay },
        )
        .await
        .map_err(|e| Failure(format!("cannot start the bot: {e}")))?;
        // The alert listener, on a port of its own (not the configured
        // address: the sandbox must not take a real port), the same one
        // after a `restart` so that a sender outside keeps reaching it.
        let listener = crate::inbound::bind(([127, 0, 0, 1], self.inbound_port).into())
            .await
            .map_err(|e| Failure(format!("cannot start the alert listener: {e}")))?;
        let addr = listener.local_addr().map_err(|e| Failure(e.to_string()))?;
        self.inbound_port = addr.port();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let max_body = self
            .config
            .inbound()
            .map_or(1024 * 1024, |i| i.max_body_bytes);
        tokio::spawn(crate::inbound::serve(
            listener,
            Arc::new(running.monitoring()),
            super::monitoring::secrets(),
            max_body,
            stopped,
        ));
        self.inbound = Some((addr, stop));
        self.bot = Some(running);
        self.emulator
            .wait_until_connected(WAIT)
            .await
            .map_err(|e| Failure(e.to_string()))?;
        for guild in [cast::ACME_GUILD, cast::BRIGHT_GUILD, cast::MSP_GUILD] {
            self.emulator
                .wait_for_commands(Some(guild), WAIT)
                .await
                .map_err(|e| Failure(e.to_string()))?;
        }
        Ok(())
    }

    /// How a monitoring system outside reaches the sandbox's alert
    /// listener: its address and an example for each of the first client's
    /// integrations and monitors (secrets are `sandbox-secret-<VARIABLE>`).
    pub fn listener_help(&self) -> Option<String> {
        let (addr, _) = self.inbound.as_ref()?;
        let mut out = format!(
            "Alert listener: http://{addr} (each secret is sandbox-secret-<its variable>), e.g.\n"
        );
        for client in self.config.clients() {
            for i in client
                .integrations
                .iter()
                .filter(|i| i.auth == crate::config::monitoring::InboundAuth::Bearer)
            {
                out.push_str(&format!(
                    "  curl -X POST -H 'Authorization: Bearer {}' -H 'content-type: application/json' \\\n    -d '{}' \\\n    http://{addr}/clients/{}/alerts/{}\n",
                    super::monitoring::secret(&i.secret_env),
                    match i.format {
                        crate::config::monitoring::AlertFormat::Generic =>
                            r#"{"title":"Website down","fingerprint":"www"}"#,
                        crate::config::monitoring::AlertFormat::Alertmanager =>
                            r#"{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Disk full"},"fingerprint":"disk-1"}]}"#,
                    },
                    client.key,
                    i.name
                ));
            }
            for m in client
                .heartbeats
                .iter()
                .filter(|m| m.auth == crate::config::monitoring::InboundAuth::Bearer)
            {
                out.push_str(&format!(
                    "  curl -X POST -H 'Authorization: Bearer {}' http://{addr}/clients/{}/heartbeat/{}\n",
                    super::monitoring::secret(&m.secret_env),
                    client.key,
                    m.name
                ));
            }
        }
        Some(out)
    }

    /// Stops the bot and releases the store.
    pub async fn stop(&mut self) {
        if let Some((_, stop)) = self.inbound.take() {
            let _ = stop.send(true);
        }
        if let Some(bot) = self.bot.take() {
            bot.stop().await;
        }
    }

    fn running(&self) -> Result<&Running<SledStore>, Failure> {
        self.bot
            .as_ref()
            .ok_or_else(|| Failure("the bot is not running".into()))
    }

    fn store(&self) -> Result<Arc<SledStore>, Failure> {
        Ok(self.running()?.bot.ledger.store().clone())
    }

    /// The running bot's store and configuration, for tests that read
    /// what the bot recorded (digests, reports, exports).
    pub fn store_and_config(&self) -> Result<(Arc<SledStore>, Arc<Config>), Failure> {
        Ok((self.store()?, self.config.clone()))
    }

    /// The manual clock's time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Who acts now.
    pub fn me(&self) -> &'static Person {
        self.me
    }

    /// Plays one step; returns what it shows.
    pub async fn step(&mut self, step: &Step) -> Result<String, Failure> {
        match step {
            Step::As(name) => {
                let Some(person) = cast::person(name) else {
                    return fail(format!("nobody is called {name}; people: {}", people()));
                };
                self.me = person;
                self.channel = person.channel;
                self.in_task = None;
                Ok(String::new())
            }
            Step::In(name) => {
                self.channel = self.channel_named(name)?;
                self.in_task = None;
                Ok(String::new())
            }
            Step::InThread { task, mirror } => {
                let found = self.task_of(task).await?;
                let chat = if *mirror { found.mirror } else { found.chat };
                let Some(thread) = chat.thread else {
                    let what = if *mirror { "mirror" } else { "thread" };
                    return fail(format!("{task} has no {what} yet"));
                };
                self.channel = thread;
                self.in_task = Some(found.id);
                Ok(String::new())
            }
            Step::Dm(text) => {
                let posted = self
                    .emulator
                    .dm(self.me.id, text)
                    .map_err(|e| Failure(e.to_string()))?;
                self.channel = posted.channel_id;
                self.in_task = None;
                let bot = self.emulator.bot_id();
                let answer = self
                    .emulator
                    .wait_for_message(self.channel, WAIT, |m| {
                        m.author_id == bot
                            && m.json
                                .pointer("/message_reference/message_id")
                                .and_then(Value::as_str)
                                == Some(posted.id.to_string().as_str())
                    })
                    .await
                    .map_err(|e| Failure(format!("no answer to the DM: {e}")))?;
                Ok(self.shown(&describe(&answer), self.server_of_message(&answer)))
            }
            Step::Edit(text) => {
                let text = self.mentions(text);
                let Some(mine) = self
                    .emulator
                    .messages(self.channel)
                    .into_iter()
                    .rev()
                    .find(|m| m.author_id == self.me.id)
                else {
                    return fail("you have written nothing here to edit");
                };
                self.emulator
                    .edit(self.me.id, mine.id, &text)
                    .map_err(|e| Failure(e.to_string()))?;
                let body = crate::domain::bridge::classify(&text, crate::domain::Side::Internal).0;
                self.recorded(|kind| {
                    matches!(kind, crate::domain::EventKind::SaidEdited { message, body: b, .. }
                        if *message == mine.id && *b == body)
                })
                .await?;
                Ok(String::new())
            }
            Step::Attach { file, size, text } => {
                let posted = self
                    .emulator
                    .post_file(self.me.id, self.channel, text, file, *size)
                    .map_err(|e| Failure(e.to_string()))?;
                self.recorded(|kind| {
                    matches!(kind, crate::domain::EventKind::Said { message, .. } if *message == posted.id)
                })
                .await?;
                Ok(String::new())
            }
            Step::InDm => {
                let Some(channel) = self.emulator.dm_channel(self.me.id) else {
                    return fail(format!("{} has no messages from the bot yet", self.me.name));
                };
                self.channel = channel;
                Ok(String::new())
            }
            Step::Slash {
                name,
                subcommand,
                options,
            } => {
                let mut opts: Vec<CommandOption> = Vec::new();
                for (k, v) in options {
                    let value = match v.strip_prefix('@').and_then(cast::person) {
                        Some(p) => OptionValue::Id(p.id),
                        None => OptionValue::Str(v.clone()),
                    };
                    opts.push(opt(k, value));
                }
                let opts = match subcommand {
                    Some(s) => vec![sub(s, opts)],
                    None => opts,
                };
                let handle = self
                    .emulator
                    .slash(self.me.id, self.channel, name, opts)
                    .map_err(|e| Failure(e.to_string()))?;
                self.answered(handle).await
            }
            Step::Click { label, task } => {
                let message = match task {
                    Some(id) => self.card_of(id).await?,
                    None => {
                        // The button may be on a card still being posted.
                        self.settle().await?;
                        self.last_with_button(label)?
                    }
                };
                // The label as the card writes it (typed apostrophes and
                // case may differ from the card's).
                let label = self
                    .emulator
                    .message(message)
                    .and_then(|m| {
                        m.buttons()
                            .into_iter()
                            .filter_map(|b| b.label)
                            .find(|l| same_label(l, label))
                    })
                    .unwrap_or_else(|| label.clone());
                let handle = self
                    .emulator
                    .click(self.me.id, message, &label)
                    .map_err(|e| Failure(e.to_string()))?;
                self.answered(handle).await
            }
            Step::Submit(fields) => {
                let Some(form) = self.form.clone() else {
                    return fail("no form is open: run a command that opens one first");
                };
                let values: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let handle = self
                    .emulator
                    .submit_modal(self.me.id, &form, &values)
                    .map_err(|e| Failure(e.to_string()))?;
                self.form = None;
                self.answered(handle).await
            }
            Step::Track => {
                let Some(target) = self
                    .emulator
                    .messages(self.channel)
                    .into_iter()
                    .rev()
                    .find(|m| m.author_id != self.emulator.bot_id())
                else {
                    return fail("there is no message to track in this channel: `say` one first");
                };
                let handle = self
                    .emulator
                    .message_command(
                        self.me.id,
                        target.id,
                        crate::app::desk::parse::TRACK_AS_TASK,
                    )
                    .map_err(|e| Failure(e.to_string()))?;
                self.answered(handle).await
            }
            Step::Say(text) => {
                let text = self.mentions(text);
                let posted = self
                    .emulator
                    .post(self.me.id, self.channel, &text)
                    .map_err(|e| Failure(e.to_string()))?;
                let bot = self.emulator.bot_id();
                if !text.contains(&format!("<@{bot}>")) {
                    // In a task's thread, Ponte records (and relays) it.
                    if self.in_task.is_some() {
                        self.recorded(|kind| {
                            matches!(kind, crate::domain::EventKind::Said { message, .. } if *message == posted.id)
                        })
                        .await?;
                    }
                    return Ok(String::new());
                }
                // The bot answers a mention with a reply to it.
                let answer = self
                    .emulator
                    .wait_for_message(self.channel, WAIT, |m| {
                        m.author_id == bot
                            && m.json
                                .pointer("/message_reference/message_id")
                                .and_then(Value::as_str)
                                == Some(posted.id.to_string().as_str())
                    })
                    .await
                    .map_err(|e| Failure(format!("no answer to the mention: {e}")))?;
                Ok(self.shown(&describe(&answer), self.server_of_message(&answer)))
            }
            Step::Advance(by) => {
                self.advance(*by).await?;
                Ok(format!("now {}", self.clock.now()))
            }
            Step::Restart => {
                self.settle().await?;
                self.stop().await;
                self.start_bot().await?;
                Ok("bot restarted on the same data".into())
            }
            Step::Down(by) => {
                self.settle().await?;
                self.stop().await;
                let back = self
                    .clock
                    .now()
                    .saturating_add(*by)
                    .unwrap_or(self.clock.now());
                self.clock.set(back);
                self.start_bot().await?;
                // What fell due while it was down happens now, once.
                self.advance(SignedDuration::ZERO).await?;
                Ok(format!("bot was down; back at {back}"))
            }
            Step::Fault(fault) => {
                match fault {
                    Fault::DropGateway => self.emulator.drop_gateway(),
                    Fault::Reconnect => self.emulator.send_reconnect(),
                    Fault::InvalidSession => self.emulator.send_invalid_session(true),
                    Fault::Http {
                        status,
                        method,
                        path,
                        times,
                    } => self
                        .emulator
                        .fail_next(RouteMatch::new(method, path), *status, *times),
                    Fault::Dms { person, closed } => {
                        let Some(who) = cast::person(person) else {
                            return fail(format!(
                                "nobody is called {person}; people: {}",
                                people()
                            ));
                        };
                        self.emulator.close_dms(who.id, *closed);
                    }
                    Fault::Permission {
                        permissions,
                        channel,
                        allow,
                    } => {
                        let id = self.channel_named(channel)?;
                        let bits = permissions
                            .iter()
                            .filter_map(|p| {
                                crate::sandbox::script::PERMISSIONS
                                    .iter()
                                    .find(|(name, _)| name == p)
                                    .map(|(_, bit)| *bit)
                            })
                            .fold(0, |all, bit| all | bit);
                        self.emulator.deny_bot(id, bits, *allow);
                    }
                    Fault::Thread { task, locked } => {
                        let chat = self.task_chat(task).await?;
                        let Some(thread) = chat.thread else {
                            return fail(format!("{task} has no thread yet"));
                        };
                        self.emulator.archive_thread(thread, *locked);
                    }
                    Fault::Delay {
                        by,
                        method,
                        path,
                        times,
                    } => {
                        let by = by
                            .and_then(|d| Duration::try_from(d).ok())
                            .unwrap_or(Duration::MAX);
                        self.emulator
                            .delay(RouteMatch::new(method, path), by, *times);
                    }
                    Fault::ClearDelays => self.emulator.clear_delays(),
                    Fault::DeleteThread { task } => {
                        let chat = self.task_chat(task).await?;
                        let Some(thread) = chat.thread else {
                            return fail(format!("{task} has no thread yet"));
                        };
                        self.emulator.delete_channel(thread);
                    }
                    Fault::RateLimits { strict } => self.emulator.strict_rate_limits(*strict),
                    Fault::SlowAnswers(by) => {
                        let ms = Duration::try_from(*by)
                            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                        self.slow.store(ms, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                Ok(String::new())
            }
            Step::Expect { place, check } => self.expect(place, check).await,
            Step::ExpectNoViolations => {
                self.settle().await?;
                let violations = self.emulator.violations();
                if violations.is_empty() {
                    Ok(String::new())
                } else {
                    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
                    fail(format!("Discord would have refused:\n{}", list.join("\n")))
                }
            }
            Step::Alert {
                client,
                integration,
                action,
                options,
            } => {
                let (format, auth, var) =
                    super::monitoring::integration(&self.config, client, integration)
                        .map_err(Failure)?;
                let body = super::monitoring::body(format, action, options, self.clock.now());
                let path = format!("/clients/{client}/alerts/{integration}");
                self.inbound_post(&path, auth, &var, options, body.to_string().as_bytes())
                    .await
            }
            Step::Beat {
                client,
                monitor,
                options,
            } => {
                let (auth, var) =
                    super::monitoring::monitor(&self.config, client, monitor).map_err(Failure)?;
                let path = format!("/clients/{client}/heartbeat/{monitor}");
                self.inbound_post(&path, auth, &var, options, b"").await
            }
            Step::Show(Place::Inbound) => Ok(self.inbound_answer.clone().unwrap_or_default()),
            Step::Show(place) => {
                self.settle().await?;
                Ok(self.read(place).await?.join("\n"))
            }
            Step::Help => Ok(help()),
            Step::Start(_) => fail(
                "`start` sets where the clock begins: make it the first step of the script, \
                 or run `ponte sandbox --start TIME`",
            ),
            Step::Save { place, name, path } => {
                self.settle().await?;
                let bytes = self
                    .messages_of(place)
                    .await?
                    .iter()
                    .rev()
                    .find_map(|m| self.attachment(m, name));
                let Some(bytes) = bytes else {
                    return fail(format!("no message in {place} carries a file {name:?}"));
                };
                std::fs::write(path, &bytes)
                    .map_err(|e| Failure(format!("cannot write {path}: {e}")))?;
                Ok(format!("saved {name} ({} bytes) to {path}", bytes.len()))
            }
        }
    }

    /// Posts to the bot's alert listener as a monitoring system would, and
    /// remembers the answer (`expect inbound ...`).
    async fn inbound_post(
        &mut self,
        path: &str,
        auth: crate::config::monitoring::InboundAuth,
        var: &str,
        options: &super::script::Options,
        body: &[u8],
    ) -> Result<String, Failure> {
        let Some((addr, _)) = &self.inbound else {
            return fail("the bot is not running");
        };
        let wrong = options.iter().any(|(k, v)| k == "secret" && v == "wrong");
        let url = format!("http://{addr}{path}");
        let answer = super::monitoring::post(&url, auth, var, wrong, body)
            .await
            .map_err(|e| Failure(format!("the alert listener did not answer: {e}")))?;
        self.inbound_answer = Some(answer.clone());
        Ok(answer)
    }

    /// Waits for the answer to an interaction and remembers it.
    async fn answered(&mut self, handle: InteractionHandle) -> Result<String, Failure> {
        let response = handle
            .response(WAIT)
            .await
            .map_err(|e| Failure(format!("no answer: {e}")))?;
        self.last = Some(handle.clone());
        if let Some(modal) = &response.modal {
            self.form = Some(handle);
            let fields: Vec<String> = modal
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.custom_id, f.label))
                .collect();
            return Ok(format!(
                "[form] {}\n  {}\n  (answer with `submit field:value ...`)",
                modal.title,
                fields.join("\n  ")
            ));
        }
        let mut shown = response
            .message
            .as_ref()
            .map(describe)
            .map(|t| self.shown(&t, self.server_of(self.channel)))
            .unwrap_or_default();
        if response.ephemeral() {
            shown = format!("[only you] {shown}");
        }
        Ok(shown)
    }

    /// Turns `@ponte` and `@name` of the demo's people into Discord mentions.
    fn mentions(&self, text: &str) -> String {
        let mut out = text.replace("@ponte", &format!("<@{}>", self.emulator.bot_id()));
        for p in cast::PEOPLE {
            out = out.replace(&format!("@{}", p.name), &format!("<@{}>", p.id));
        }
        out
    }

    /// Moves the clock forward by `by`, stopping at each time a timer has
    /// work, so that everything due in between happens at its own minute.
    async fn advance(&self, by: SignedDuration) -> Result<(), Failure> {
        let target = self
            .clock
            .now()
            .saturating_add(by)
            .unwrap_or(self.clock.now());
        let timers = self.running()?.timers.clone();
        loop {
            let next = timers.fire(self.clock.now()).await;
            self.settle().await?;
            match next {
                Some(at) if at <= target && at > self.clock.now() => self.clock.set(at),
                _ => break,
            }
        }
        if self.clock.now() < target {
            self.clock.set(target);
            timers.fire(target).await;
        }
        self.wake();
        self.settle().await
    }

    fn wake(&self) {
        if let Some(bot) = &self.bot {
            bot.bot.ledger.changed().notify_one();
        }
    }

    /// Waits until every pending effect is delivered; when the next retry
    /// is in the future, moves the clock to it (time passes while waiting).
    /// First fires the timers at the current time, as the bot's timer loop
    /// does after a change (a new P1's page), so what a script expects next
    /// does not depend on when that loop runs.
    pub async fn settle(&self) -> Result<(), Failure> {
        let store = self.store()?;
        self.running()?.timers.fire(self.clock.now()).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (len, head) = {
                let store = store.clone();
                tokio::task::spawn_blocking(move || {
                    Ok::<_, crate::store::StoreError>((
                        store.outbox_len()?,
                        store.outbox_due(Timestamp::MAX, 1)?,
                    ))
                })
                .await
                .map_err(|e| Failure(e.to_string()))?
                .map_err(|e| Failure(e.to_string()))?
            };
            if len == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return fail(format!("{len} messages are still waiting to be delivered"));
            }
            if let Some(first) = head.first() {
                if first.not_before > self.clock.now() {
                    self.clock.set(first.not_before);
                }
            }
            self.wake();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn channel_named(&self, name: &str) -> Result<u64, Failure> {
        let named = |(_, _, n): &&(u64, u64, &str)| *n == name;
        cast::CHANNELS
            .iter()
            .filter(named)
            .find(|(g, _, _)| *g == self.me.guild)
            .or_else(|| cast::CHANNELS.iter().find(named))
            .map(|(_, id, _)| *id)
            .ok_or_else(|| Failure(format!("there is no channel #{name}")))
    }

    async fn task_chat(&self, id: &str) -> Result<crate::domain::ChatRef, Failure> {
        self.settle().await?;
        let task: TaskId = id.parse().map_err(|e| Failure(format!("{e}")))?;
        let store = self.store()?;
        let found = tokio::task::spawn_blocking(move || store.task(&task))
            .await
            .map_err(|e| Failure(e.to_string()))?
            .map_err(|e| Failure(e.to_string()))?;
        match found {
            Some(task) => Ok(task.chat),
            None => fail(format!("there is no task {id}")),
        }
    }

    async fn task_of(&self, id: &str) -> Result<crate::domain::Task, Failure> {
        self.settle().await?;
        let task: TaskId = id.parse().map_err(|e| Failure(format!("{e}")))?;
        let store = self.store()?;
        let found = tokio::task::spawn_blocking(move || store.task(&task))
            .await
            .map_err(|e| Failure(e.to_string()))?
            .map_err(|e| Failure(e.to_string()))?;
        found.ok_or_else(|| Failure(format!("there is no task {id}")))
    }

    /// Waits until the current thread's task has an event that `matches`
    /// (what someone wrote reached Ponte through the gateway).
    async fn recorded(
        &self,
        matches: impl Fn(&crate::domain::EventKind) -> bool,
    ) -> Result<(), Failure> {
        let Some(task) = self.in_task.clone() else {
            return Ok(());
        };
        let store = self.store()?;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (store2, task2) = (store.clone(), task.clone());
            let events = tokio::task::spawn_blocking(move || store2.events(&task2))
                .await
                .map_err(|e| Failure(e.to_string()))?
                .map_err(|e| Failure(e.to_string()))?;
            if events.iter().any(|e| matches(&e.kind)) {
                return self.settle().await;
            }
            if tokio::time::Instant::now() > deadline {
                return fail(format!(
                    "Ponte did not record the message in {task}'s history"
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn card_of(&self, id: &str) -> Result<u64, Failure> {
        match self.task_chat(id).await?.message {
            Some(message) => Ok(message),
            None => fail(format!("{id} has no card yet")),
        }
    }

    fn last_with_button(&self, label: &str) -> Result<u64, Failure> {
        self.emulator
            .messages(self.channel)
            .into_iter()
            .rev()
            .find(|m| {
                m.buttons()
                    .iter()
                    .any(|b| b.label.as_deref().is_some_and(|l| same_label(l, label)))
            })
            .map(|m| m.id)
            .ok_or_else(|| Failure(format!("no message here has a `{label}` button")))
    }

    async fn messages_of(&self, place: &Place) -> Result<Vec<Message>, Failure> {
        Ok(match place {
            Place::Reply => {
                let Some(handle) = &self.last else {
                    return fail("nothing was answered yet");
                };
                let response = handle
                    .response(WAIT)
                    .await
                    .map_err(|e| Failure(e.to_string()))?;
                // After a deferred update (6), what the person was told is
                // in the follow-ups; the message is the card as it is now.
                if response.kind == 6 && !response.followups.is_empty() {
                    response.followups
                } else {
                    response
                        .message
                        .into_iter()
                        .chain(response.followups)
                        .collect()
                }
            }
            Place::Inbound => {
                return fail(
                    "the alert listener's answer is no message: use `expect inbound contains ...`",
                );
            }
            Place::Channel(name) => self.emulator.messages(self.channel_named(name)?),
            Place::Mirror(id) => match self.task_of(id).await?.mirror.thread {
                Some(thread) => self.emulator.messages(thread),
                None => return fail(format!("{id} has no mirror yet")),
            },
            Place::Thread(id) => {
                let chat = self.task_chat(id).await?;
                match chat.thread {
                    Some(thread) => self.emulator.messages(thread),
                    None => return fail(format!("{id} has no thread yet")),
                }
            }
            Place::Dm(name) => {
                let Some(person) = cast::person(name) else {
                    return fail(format!("nobody is called {name}"));
                };
                match self.emulator.dm_channel(person.id) {
                    Some(channel) => self.emulator.messages(channel),
                    None => Vec::new(),
                }
            }
        })
    }

    async fn read(&self, place: &Place) -> Result<Vec<String>, Failure> {
        let messages = self.messages_of(place).await?;
        Ok(messages
            .iter()
            .map(|m| {
                let author = cast::PEOPLE
                    .iter()
                    .find(|p| p.id == m.author_id)
                    .map_or("Ponte", |p| p.name);
                let here = self.server_of_message(m);
                let mut line = format!("{author}: {}", self.shown(&describe(m), here));
                let buttons: Vec<String> =
                    m.buttons().into_iter().filter_map(|b| b.label).collect();
                if !buttons.is_empty() {
                    let _ = write!(line, "\n  [{}]", buttons.join("] ["));
                }
                line
            })
            .collect())
    }

    async fn expect(&mut self, place: &Place, check: &Check) -> Result<String, Failure> {
        if *place == Place::Inbound {
            let text = self.inbound_answer.clone().unwrap_or_default();
            let ok = match check {
                Check::Contains(s) | Check::ContainsOnce(s) => text.contains(s.as_str()),
                Check::NotContains(s) => !text.contains(s.as_str()),
                _ => {
                    return fail(
                        "the listener's answer can only be checked with contains / not contains",
                    );
                }
            };
            return if ok {
                Ok(String::new())
            } else {
                fail(format!("the alert listener answered:\n{text}"))
            };
        }
        if *place != Place::Reply {
            self.settle().await?;
        }
        let messages = self.messages_of(place).await?;
        let mut text = self.read(place).await?.join("\n");
        if *place == Place::Reply {
            if let Some(modal) = self
                .last
                .as_ref()
                .and_then(|h| h.current_response())
                .and_then(|r| r.modal)
            {
                let fields: Vec<String> = modal.fields.iter().map(|f| f.label.clone()).collect();
                text = format!("[form] {}: {}", modal.title, fields.join(", "));
            }
        }
        let ok = match check {
            Check::Contains(s) => text.contains(s.as_str()),
            Check::ContainsOnce(s) => {
                self.read(place)
                    .await?
                    .iter()
                    .filter(|m| m.contains(s.as_str()))
                    .count()
                    == 1
            }
            Check::NotContains(s) => !text.contains(s.as_str()),
            Check::Ephemeral => !messages.is_empty() && messages.iter().all(|m| m.ephemeral),
            Check::Public => !messages.is_empty() && messages.iter().all(|m| !m.ephemeral),
            Check::PingsNobody => messages
                .iter()
                .filter(|m| m.author_id == self.emulator.bot_id())
                .all(|m| pings_nobody(m.allowed_mentions.as_ref())),
            Check::Image(name) => messages.iter().any(|m| self.has_png(m, name)),
        };
        if ok {
            Ok(String::new())
        } else {
            let what = match check {
                Check::Contains(s) => format!("contains {s:?}"),
                Check::ContainsOnce(s) => format!("has exactly one message containing {s:?}"),
                Check::NotContains(s) => format!("does not contain {s:?}"),
                Check::Ephemeral => "is ephemeral".into(),
                Check::Public => "is public".into(),
                Check::PingsNobody => "pings nobody".into(),
                Check::Image(name) => format!("has a PNG image {name:?}"),
            };
            fail(format!("expected {place} {what}; it shows:\n{text}"))
        }
    }
}

impl Sandbox {
    /// `text` as the current person's Discord shows it in server `here`
    /// (see [`render`]).
    fn shown(&self, text: &str, here: Option<u64>) -> String {
        let channel = |id: u64| {
            let c = self.emulator.channel(id);
            let name = c.get("name").and_then(Value::as_str)?.to_owned();
            Some((self.server_of(id), name))
        };
        render(text, self.me, here, self.clock.now(), &channel)
    }

    /// The server of a channel or thread (`None` for a DM).
    fn server_of(&self, channel: u64) -> Option<u64> {
        let c = self.emulator.channel(channel);
        c.get("guild_id")
            .and_then(Value::as_str)
            .and_then(|g| g.parse().ok())
    }

    /// The server a message is in.
    fn server_of_message(&self, m: &Message) -> Option<u64> {
        m.guild_id.or_else(|| self.server_of(m.channel_id))
    }

    /// The bytes of the file `name` that `m` carries, if any.
    fn attachment(&self, m: &Message, name: &str) -> Option<Vec<u8>> {
        m.json
            .get("attachments")
            .and_then(Value::as_array)?
            .iter()
            .filter(|a| a.get("filename").and_then(Value::as_str) == Some(name))
            .filter_map(|a| a.get("id").and_then(Value::as_str)?.parse().ok())
            .find_map(|id| self.emulator.attachment_bytes(id))
    }

    /// Whether `m` carries a file `name` whose bytes are a PNG image.
    fn has_png(&self, m: &Message, name: &str) -> bool {
        self.attachment(m, name).is_some_and(|bytes| {
            png::Decoder::new(bytes.as_slice())
                .read_info()
                .is_ok_and(|r| r.info().width > 0 && r.info().height > 0)
        })
    }
}

/// A message as a person reads it: text, then each embed's title,
/// description and fields.
pub fn describe(m: &Message) -> String {
    let mut out: Vec<String> = Vec::new();
    if !m.content.is_empty() {
        out.push(m.content.clone());
    }
    for file in m
        .json
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = file.get("filename").and_then(Value::as_str) {
            out.push(format!("[file {name}]"));
        }
    }
    for embed in &m.embeds {
        let get = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        for key in ["title", "description"] {
            let text = get(embed, key);
            if !text.is_empty() {
                out.push(text);
            }
        }
        let fields: Vec<String> = embed
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| format!("{}: {}", get(f, "name"), get(f, "value")))
            .collect();
        if !fields.is_empty() {
            out.push(fields.join(" | "));
        }
    }
    out.join("\n")
}

/// Discord's markup as `viewer`'s client shows it in server `here`: people
/// (`<@id>`), roles (`<@&id>`) and channels (`<#id>`; `channel` gives a
/// channel's server and name) by name, a role or channel of another server
/// as unknown (as Discord does), and times (`<t:seconds:style>`) in the
/// viewer's own time zone, relative ones (`R`) from `now`.
pub fn render(
    text: &str,
    viewer: &Person,
    here: Option<u64>,
    now: Timestamp,
    channel: &dyn Fn(u64) -> Option<(Option<u64>, String)>,
) -> String {
    crate::app::reply::markup::rewrite(text, |inner| {
        shown_markup(inner, viewer, here, now, channel)
    })
}

fn shown_markup(
    inner: &str,
    viewer: &Person,
    here: Option<u64>,
    now: Timestamp,
    channel: &dyn Fn(u64) -> Option<(Option<u64>, String)>,
) -> Option<String> {
    let id = |s: &str| s.parse::<u64>().ok();
    if let Some(role) = inner.strip_prefix("@&") {
        let role = id(role)?;
        let name = cast::ROLES
            .iter()
            .find(|(g, r, _)| *r == role && Some(*g) == here);
        return Some(format!("@{}", name.map_or("unknown-role", |(_, _, n)| *n)));
    }
    if let Some(user) = inner.strip_prefix('@') {
        let user = id(user.trim_start_matches('!'))?;
        let name = cast::PEOPLE.iter().find(|p| p.id == user);
        return Some(format!("@{}", name.map_or("unknown-user", |p| p.name)));
    }
    if let Some(c) = inner.strip_prefix('#') {
        let c = id(c)?;
        let name = channel(c)
            .filter(|(server, _)| server.is_none() || *server == here)
            .map_or_else(|| "unknown".to_owned(), |(_, name)| name);
        return Some(format!("#{name}"));
    }
    let time = inner.strip_prefix("t:")?;
    let (seconds, style) = time.split_once(':').unwrap_or((time, "f"));
    let at = Timestamp::from_second(seconds.parse().ok()?).ok()?;
    let zone = jiff::tz::TimeZone::get(viewer.zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = zone.to_datetime(at);
    let shown = match style {
        "t" => local.strftime("%H:%M").to_string(),
        "T" => local.strftime("%H:%M:%S").to_string(),
        "d" => local.strftime("%d/%m/%Y").to_string(),
        "D" => local.strftime("%-d %B %Y").to_string(),
        "F" => local.strftime("%A, %-d %B %Y %H:%M").to_string(),
        "R" => relative(now, at),
        _ => local.strftime("%-d %B %Y %H:%M").to_string(),
    };
    Some(shown)
}

/// `in 2 hours`, `5 minutes ago`, as Discord shows a relative time.
fn relative(now: Timestamp, at: Timestamp) -> String {
    let secs = at.as_second() - now.as_second();
    let n = secs.unsigned_abs();
    let (count, unit) = match n {
        0..60 => (n, "second"),
        60..3_600 => (n / 60, "minute"),
        3_600..86_400 => (n / 3_600, "hour"),
        _ => (n / 86_400, "day"),
    };
    let plural = if count == 1 { "" } else { "s" };
    if secs >= 0 {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// Whether a typed label names a button's: case and the apostrophe's
/// shape (’ or ') aside.
fn same_label(shown: &str, typed: &str) -> bool {
    let norm = |s: &str| s.trim().replace(['’', '‘'], "'").to_lowercase();
    norm(shown) == norm(typed)
}

/// Whether `allowed_mentions` lets nothing ping.
fn pings_nobody(allowed: Option<&Value>) -> bool {
    let Some(allowed) = allowed else {
        return false;
    };
    let empty = |key: &str| {
        allowed
            .get(key)
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    };
    allowed
        .get("parse")
        .is_some_and(|p| p.as_array().is_some_and(Vec::is_empty))
        && empty("users")
        && empty("roles")
}

async fn open_store(dir: &Path) -> Result<SledStore, Failure> {
    // Opening reads and checks the store (and waits for the previous bot's
    // handles to let go of it): off the async runtime.
    let options = StoreOptions::new(dir);
    tokio::task::spawn_blocking(move || SledStore::open(&options))
        .await
        .map_err(|e| Failure(e.to_string()))?
        .map_err(|e| Failure(format!("cannot open the store at {}: {e}", dir.display())))
}

fn people() -> String {
    cast::PEOPLE
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the sandbox understands.
pub fn help() -> String {
    let mut out = String::from(
        "Steps:\n\
         \x20 as PERSON                       act as someone (see below)\n\
         \x20 in #CHANNEL                     act in a channel of their server\n\
         \x20 /COMMAND [SUB] name:value ...   run a slash command (quote values with spaces; @person for users)\n\
         \x20 click LABEL [on ACME-1]         click a button (on a task's card)\n\
         \x20 submit field:value ...          fill in the form the bot opened\n\
         \x20 track                           \"Track as task\" on the last message here\n\
         \x20 say TEXT                        post a message here (@ponte mentions the bot, @name a person)\n\
         \x20 in thread ACME-1 | in mirror ACME-1   write in a task's thread, or its mirror on the other server\n\
         \x20 edit \"TEXT\"                     edit your last message here\n\
         \x20 attach FILE SIZE \"TEXT\"          post a message with a file of SIZE bytes\n\
         \x20 dm TEXT                         write to Ponte in a DM (then act there)\n\
         \x20 show reply|#CHANNEL|thread ID|mirror ID|dm PERSON\n\
         \x20 save PLACE NAME [to PATH]       write a file posted there (e.g. digest-chart.png) to disk\n\
         \x20 start TIME                      first line of a script: where the clock starts (2026-11-27T09:00Z)\n\
         \x20 expect PLACE contains \"text\" [once] | not contains \"text\" | is ephemeral | is public | pings nobody\n\
         \x20 expect PLACE has image \"NAME.png\"  a message there carries that PNG file\n\
         \x20 expect no violations            Discord would have accepted every request\n\
         \x20 advance 2h                      move the clock\n\
         \x20 restart                         stop the bot and start it again on the same data\n\
         \x20 down 40m                        the bot is down that long (no timer fires), then starts again\n\
         \x20 fault drop-gateway|reconnect|invalid-session|429 POST /channels/ [N]|500 ...\n\
         \x20 alert ACME/prometheus fire FINGERPRINT \"TITLE\" [severity:critical] [group:G] [label.NAME:V]\n\
         \x20 alert ACME/prometheus resolve FINGERPRINT | storm COUNT \"TITLE\" [group:G]\n\
         \x20                                  a monitoring system posts to the alert listener ([secret:wrong])\n\
         \x20 beat ACME/erp-sync              a heartbeat monitor beats (advance past its grace to miss one)\n\
         \x20 show inbound | expect inbound contains \"TEXT\"   the listener's last answer\n\
         People:\n",
    );
    for p in cast::PEOPLE {
        let _ = writeln!(out, "  {:<8} {}", p.name, p.about);
    }
    out
}

#[cfg(test)]
mod markup_tests {
    use super::*;

    #[test]
    fn markup_reads_as_discord_shows_it_to_the_viewer() {
        let giulia = cast::person("giulia").unwrap();
        let alice = cast::person("alice").unwrap();
        let now: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let channel = |id: u64| {
            (id == cast::ACME_IT).then(|| (Some(cast::ACME_GUILD), "it-interno".to_owned()))
        };
        let here = Some(cast::ACME_GUILD);
        let text = format!(
            "<@9001> <@!9003> <@&{}> in <#{}> at <t:{}:f>, <t:{}:R>; 1 < 2 <b>",
            cast::ACME_IT_MANAGER,
            cast::ACME_IT,
            now.as_second(),
            now.as_second() + 7_200
        );
        assert_eq!(
            render(&text, giulia, here, now, &channel),
            "@giulia @sara @Responsabile IT in #it-interno at 27 November 2026 10:00, in 2 hours; 1 < 2 <b>"
        );
        let in_bright = render(&text, alice, Some(cast::BRIGHT_GUILD), now, &channel);
        assert!(in_bright.contains("27 November 2026 09:00"), "{in_bright}");
        assert!(
            in_bright.contains("@unknown-role in #unknown"),
            "{in_bright}"
        );
        assert_eq!(
            render(
                &format!("<t:{}:t>", now.as_second() - 300),
                alice,
                here,
                now,
                &channel
            ),
            "08:55"
        );
        assert_eq!(
            relative(now, now - SignedDuration::from_mins(5)),
            "5 minutes ago"
        );
    }
}
