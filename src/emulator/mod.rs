//! A local Discord (REST and gateway) that the real serenity client talks to through
//! its production code path. Used by the end-to-end tests and by `ponte sandbox`.
//!
//! # Connection
//!
//! REST is served over TLS for `discord.com` on `127.0.0.1:<random>`, with a
//! certificate signed by a throw-away authority. [`Emulator::reqwest_client`] trusts
//! only that authority and resolves `discord.com` to the emulator, and
//! [`Emulator::http_builder`] hands that client to serenity's `HttpBuilder::client`,
//! so serenity keeps its normal `https://discord.com/api/v10` URLs and its own rate
//! limiter (which honours `retry-after` and `x-ratelimit-*`), exactly as in production.
//! The same REST API is also served over plain HTTP on the gateway port, for
//! serenity's proxy mode ([`Emulator::proxy_http_builder`]; its rate limiter must then
//! be off, so 429s come back as errors instead of being retried).
//!
//! The gateway is `ws://127.0.0.1:<port>`, which `GET /api/v10/gateway` returns.
//!
//! # Checking
//!
//! Every request body is validated against Discord's OpenAPI spec (see
//! [`spec_path`]) and the documented limits (see `check.rs`); failures are answered
//! like Discord (400, code 50035) and recorded as [`Violation`]s, as are unknown
//! routes and every other 4xx a correct bot would never get (late or repeated
//! interaction callbacks, unknown channels, ...). Injected faults are not violations.
//!
//! Discord de-duplicates on `enforce_nonce` and so does the emulator: the same nonce
//! within 5 minutes returns the first message. The spec is read at run time
//! (`$PONTE_DISCORD_SPEC`, else `../shared/discord/openapi.json`), never copied into
//! the repository. What the emulator sends is checked in the tests by deserializing it
//! into serenity's model types, because serenity silently drops what it cannot parse.
//! The emulator imports nothing of Ponte's (`tests/layers.rs`): it behaves like Discord,
//! not like the bot wants.
//!
//! # Files
//!
//! `world.rs` (the [`World`] it starts with), `state.rs` (the world at run time and its
//! Discord-shaped JSON), `rest.rs` (the routes under `/api/v10`), `gateway.rs` (HELLO,
//! IDENTIFY, RESUME, heartbeats), `act.rs` (acting as a person: posts, commands,
//! clicks, modals), `check.rs` (the spec and the documented limits), `upload.rs`
//! (multipart file uploads), `tls.rs` (the `discord.com` certificate and listeners),
//! `observe.rs` (timings for `ponte load`), `model.rs` (what tests read).
//!
//! Hooks for the hostile and crash tests: `Emulator::fail_next` (429 and 5xx faults),
//! `Emulator::allow_oversized_input`, `Emulator::rewrite_dispatches` (e.g. lone UTF-16
//! surrogates in gateway frames), `Emulator::redeliver` (an unanswered interaction
//! again), and `Emulator::write_connection` (for `ponte run` in another process, see
//! `discord::emulated`).

mod act;
mod check;
mod gateway;
mod model;
mod observe;
mod ratelimit;
mod rest;
mod state;
mod tls;
mod upload;
mod world;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use serenity::client::ClientBuilder;
use serenity::http::{Http, HttpBuilder};
use serenity::model::gateway::GatewayIntents;
use serenity::model::id::ApplicationId;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use check::spec_path;
pub use model::{
    Button, CommandOption, EmuError, Exchange, GatewayStats, InteractionResponse, Message,
    MessageVersion, Modal, ModalField, OptionValue, RouteMatch, Violation, opt, sub,
};
pub use observe::Observed;
pub use state::TimeSource;
pub use world::{
    BOT_ROLE_PERMISSIONS, ChannelSpec, DEFAULT_APPLICATION_ID, DEFAULT_BOT_ID, DEFAULT_TOKEN,
    EVERYONE_PERMISSIONS, GuildSpec, MemberSpec, RoleSpec, UserSpec, World,
};

use state::{Out, State};

/// What the servers, the gateway connections and the handles share.
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) spec: Option<Arc<check::Spec>>,
    tls_addr: SocketAddr,
    plain_addr: SocketAddr,
    ca_der: Vec<u8>,
    client: reqwest::Client,
    token: String,
    app_id: u64,
    bot_id: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes everything waiting for a change.
    pub(crate) fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until `check` returns something, re-checking after every change.
    async fn wait<T>(
        &self,
        timeout: Duration,
        what: impl Fn() -> String,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, EmuError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.changed.subscribe();
        loop {
            rx.borrow_and_update();
            if let Some(found) = check(&self.lock()) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    return check(&self.lock()).ok_or_else(|| EmuError::Timeout {
                        what: what(),
                        timeout,
                    });
                }
            }
        }
    }

    fn stop(&self) {
        self.shutdown.send_replace(true);
        let mut st = self.lock();
        for session in &mut st.sessions {
            if let Some(conn) = session.conn.take() {
                let _ = conn.tx.send(Out::Abort);
            }
        }
    }
}

struct Guard(Arc<Shared>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A running local Discord. Cheap to clone; the servers stop when the last clone is
/// dropped (or on [`Emulator::shutdown`]).
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
    _guard: Arc<Guard>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("rest", &self.shared.tls_addr)
            .field("gateway", &self.gateway_url())
            .finish()
    }
}

/// An interaction a user started: read how the bot answered it.
#[derive(Clone)]
pub struct InteractionHandle {
    shared: Arc<Shared>,
    id: u64,
    token: String,
}

impl std::fmt::Debug for InteractionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractionHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl InteractionHandle {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The INTERACTION_CREATE payload as dispatched.
    pub fn payload(&self) -> Value {
        self.shared
            .lock()
            .interactions
            .get(&self.id)
            .map_or(Value::Null, |i| i.payload.clone())
    }

    /// The bot's answer. For a deferred message (5) this waits until the bot filled
    /// it in (edited `@original` or sent a follow-up); for a deferred update (6),
    /// until it edited the message or sent a follow-up.
    pub async fn response(&self, timeout: Duration) -> Result<InteractionResponse, EmuError> {
        let id = self.id;
        self.shared
            .wait(
                timeout,
                || format!("the bot to answer interaction {id}"),
                |st| {
                    let response = st.response_view(id)?;
                    // A deferred message (5) is answered when filled in; a
                    // deferred update (6) when its message is edited or a
                    // follow-up comes.
                    let settled = match response.kind {
                        5 => {
                            response.message.as_ref().is_some_and(|m| !m.loading)
                                || !response.followups.is_empty()
                        }
                        6 => response.edited_after || !response.followups.is_empty(),
                        _ => true,
                    };
                    settled.then_some(response)
                },
            )
            .await
    }

    /// The answer so far, without waiting (`None` before the callback).
    pub fn current_response(&self) -> Option<InteractionResponse> {
        self.shared.lock().response_view(self.id)
    }

    /// Waits until the bot sent at least `count` follow-up messages.
    pub async fn followups(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Message>, EmuError> {
        let id = self.id;
        self.shared
            .wait(
                timeout,
                || format!("{count} follow-ups to interaction {id}"),
                |st| {
                    let response = st.response_view(id)?;
                    (response.followups.len() >= count).then_some(response.followups)
                },
            )
            .await
    }
}

impl Emulator {
    /// Starts the REST (TLS and plain) and gateway servers on 127.0.0.1.
    ///
    /// Fails if the world is inconsistent, if the spec file is unreadable, or if it
    /// is missing while `CI=true`.
    pub async fn start(world: World) -> io::Result<Emulator> {
        let spec = check::spec()?;
        let tls = tls::material()?;
        let plain = TcpListener::bind("127.0.0.1:0").await?;
        let tls_tcp = TcpListener::bind("127.0.0.1:0").await?;
        let plain_addr = plain.local_addr()?;
        let tls_addr = tls_tcp.local_addr()?;
        let gateway_url = format!("ws://{plain_addr}");
        let (token, app_id, bot_id) = (world.token.clone(), world.application_id, world.bot.id);
        let state = State::new(world, gateway_url)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_der(&tls.ca_der).map_err(io::Error::other)?,
            )
            .resolve("discord.com", tls_addr)
            .tcp_nodelay(true)
            .build()
            .map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            spec,
            tls_addr,
            plain_addr,
            ca_der: tls.ca_der.clone(),
            client,
            token,
            app_id,
            bot_id,
        });
        let router = axum::Router::new()
            .route("/", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(shared.clone());

        use axum::serve::ListenerExt;
        let plain = plain.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let mut stop = shared.shutdown.subscribe();
        let server = axum::serve(plain, router.clone()).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        tokio::spawn(async move {
            if let Err(err) = server.await {
                tracing::error!(%err, "emulator: plain server failed");
            }
        });
        let listener = tls::TlsListener::new(tls_tcp, tls.acceptor.clone())?;
        let mut stop = shared.shutdown.subscribe();
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        tokio::spawn(async move {
            if let Err(err) = server.await {
                tracing::error!(%err, "emulator: TLS server failed");
            }
        });
        if let Some(spec) = &shared.spec {
            tracing::debug!(spec = %spec.path().display(), "emulator: checking requests against the spec");
            // Compile the validators in the background (once per process), so the
            // first request of each kind does not pay for it.
            static WARM_UP: std::sync::Once = std::sync::Once::new();
            let spec = spec.clone();
            WARM_UP.call_once(move || {
                tokio::task::spawn_blocking(move || {
                    for (method, template) in rest::ROUTES {
                        spec.validator(method, template);
                    }
                });
            });
        }
        tracing::info!(rest = %tls_addr, gateway = %plain_addr, "emulator: started");
        Ok(Emulator {
            _guard: Arc::new(Guard(shared.clone())),
            shared,
        })
    }

    /// Stops the servers and closes the gateway connections.
    pub fn shutdown(&self) {
        self.shared.stop();
    }

    /// The bot token (without the `Bot ` prefix).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    pub fn bot_id(&self) -> u64 {
        self.shared.bot_id
    }

    pub fn application_id(&self) -> u64 {
        self.shared.app_id
    }

    /// Where `discord.com` (REST over TLS) is served.
    pub fn rest_addr(&self) -> SocketAddr {
        self.shared.tls_addr
    }

    /// The plain HTTP port: the gateway, and REST for proxy mode.
    pub fn http_addr(&self) -> SocketAddr {
        self.shared.plain_addr
    }

    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.shared.plain_addr)
    }

    /// The DER of the certificate authority that signed the `discord.com` certificate.
    pub fn ca_certificate_der(&self) -> &[u8] {
        &self.shared.ca_der
    }

    /// A reqwest 0.12 client that reaches the emulator for `https://discord.com` and
    /// trusts nothing else.
    pub fn reqwest_client(&self) -> reqwest::Client {
        self.shared.client.clone()
    }

    /// serenity's HTTP builder for the emulator: production URLs, rate limiter on.
    pub fn http_builder(&self) -> HttpBuilder {
        HttpBuilder::new(self.token())
            .client(self.reqwest_client())
            .application_id(ApplicationId::new(self.application_id()))
    }

    pub fn http(&self) -> Arc<Http> {
        Arc::new(self.http_builder().build())
    }

    /// The fallback: serenity's proxy mode over plain HTTP. The rate limiter has to
    /// be disabled (it would send its requests to the real Discord), so 429s come
    /// back as errors.
    pub fn proxy_http_builder(&self) -> HttpBuilder {
        HttpBuilder::new(self.token())
            .proxy(format!("http://{}", self.shared.plain_addr))
            .ratelimiter_disabled(true)
            .application_id(ApplicationId::new(self.application_id()))
    }

    /// A serenity client builder wired to the emulator, as production builds one
    /// (`ClientBuilder::new_with_http`).
    pub fn client_builder(&self, intents: GatewayIntents) -> ClientBuilder {
        ClientBuilder::new_with_http(self.http_builder().build(), intents)
    }

    fn handle(&self, (id, token): (u64, String)) -> InteractionHandle {
        InteractionHandle {
            shared: self.shared.clone(),
            id,
            token,
        }
    }

    fn act<T>(&self, f: impl FnOnce(&mut State) -> Result<T, EmuError>) -> Result<T, EmuError> {
        let result = f(&mut self.shared.lock());
        self.shared.notify();
        result
    }

    /// Takes message times and snowflakes from `time` (a test's or the
    /// sandbox's clock) instead of the wall clock: Discord's ids say when a
    /// message was sent, and a bot on a manual clock reads them so.
    pub fn set_time(&self, time: state::TimeSource) {
        self.shared.lock().time = Some(time);
    }

    /// Tells `observer` of every interaction callback and every message created
    /// from now on (replacing any observer set before). It runs under the
    /// emulator's lock: it must be quick and must not call the emulator.
    pub fn observe(&self, observer: impl Fn(&Observed) + Send + Sync + 'static) {
        self.shared.lock().observer = Some(Arc::new(observer));
    }

    // ------------------------------------------------------------- acting as people

    /// A user posts in a channel (MESSAGE_CREATE; `<@bot id>` mentions the bot).
    pub fn post(&self, user: u64, channel: u64, content: &str) -> Result<Message, EmuError> {
        self.act(|st| {
            let id = act::post(st, user, channel, content)?;
            Ok(st.message_view(id).expect("just created"))
        })
    }

    /// A user edits their own message (MESSAGE_UPDATE).
    pub fn edit(&self, user: u64, message: u64, content: &str) -> Result<(), EmuError> {
        self.act(|st| act::edit_own(st, user, message, content))
    }

    /// A user posts a message with a file of `size` bytes attached.
    pub fn post_file(
        &self,
        user: u64,
        channel: u64,
        content: &str,
        file_name: &str,
        size: u64,
    ) -> Result<Message, EmuError> {
        self.act(|st| {
            let id = act::post_file(st, user, channel, content, file_name, size)?;
            Ok(st.message_view(id).expect("just created"))
        })
    }

    /// A user writes to the bot in DMs (the DM channel is created on first use).
    pub fn dm(&self, user: u64, content: &str) -> Result<Message, EmuError> {
        self.act(|st| {
            let id = act::dm(st, user, content)?;
            Ok(st.message_view(id).expect("just created"))
        })
    }

    /// A user runs a registered slash command: `slash(u, c, "task",
    /// vec![sub("claim", vec![opt("id", "ACME-1")])])`.
    pub fn slash(
        &self,
        user: u64,
        channel: u64,
        command: &str,
        options: Vec<CommandOption>,
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| act::slash(st, user, channel, command, &options))
            .map(|h| self.handle(h))
    }

    /// A user types a slash command line: `/task claim id:ACME-1 note:any text`
    /// (option types come from the registered command).
    pub fn slash_line(
        &self,
        user: u64,
        channel: u64,
        line: &str,
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| {
            let (name, options) = act::parse_line(st, channel, line)?;
            act::slash(st, user, channel, &name, &options)
        })
        .map(|h| self.handle(h))
    }

    /// A user runs a message context-menu command on a message.
    pub fn message_command(
        &self,
        user: u64,
        target_message: u64,
        command: &str,
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| act::message_command(st, user, target_message, command))
            .map(|h| self.handle(h))
    }

    /// A user clicks the button with this label (an error if absent, disabled or a link).
    pub fn click(
        &self,
        user: u64,
        message: u64,
        label: &str,
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| act::click(st, user, message, label))
            .map(|h| self.handle(h))
    }

    /// A user picks values in a string select menu.
    pub fn select(
        &self,
        user: u64,
        message: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| act::select(st, user, message, custom_id, values))
            .map(|h| self.handle(h))
    }

    /// A user fills in and submits the modal the bot opened in answer to `opened_by`.
    pub fn submit_modal(
        &self,
        user: u64,
        opened_by: &InteractionHandle,
        values: &[(&str, &str)],
    ) -> Result<InteractionHandle, EmuError> {
        self.act(|st| act::submit_modal(st, user, opened_by.id, values))
            .map(|h| self.handle(h))
    }

    // ------------------------------------------------------------- reading

    /// The bytes of a file the bot uploaded, by attachment id (the `id` of
    /// an entry of a message's `attachments`).
    pub fn attachment_bytes(&self, attachment: u64) -> Option<Vec<u8>> {
        self.shared.lock().uploads.get(&attachment).cloned()
    }

    /// The channel's messages, oldest first (not deleted, not ephemeral).
    pub fn messages(&self, channel: u64) -> Vec<Message> {
        let st = self.shared.lock();
        messages_in(&st, channel)
    }

    /// How many REST requests the emulator has served.
    pub fn rest_requests(&self) -> u64 {
        self.shared.lock().rest_requests
    }

    /// How many of them were answered 429 (rate limited).
    pub fn rest_limited(&self) -> u64 {
        self.shared.lock().rest_limited
    }

    /// Any message by id (ephemeral and deleted ones included).
    pub fn message(&self, id: u64) -> Option<Message> {
        self.shared.lock().message_view(id)
    }

    /// The thread started from a message.
    pub fn thread_of(&self, message: u64) -> Option<u64> {
        self.shared
            .lock()
            .channels
            .get(&message)
            .filter(|c| c.is_thread())
            .map(|c| c.id)
    }

    /// The threads of a channel: (thread id, name).
    pub fn threads(&self, channel: u64) -> Vec<(u64, String)> {
        self.shared
            .lock()
            .channels
            .values()
            .filter(|c| c.is_thread() && c.parent_id == Some(channel))
            .map(|c| (c.id, c.name.clone()))
            .collect()
    }

    /// The channel object as Discord returns it (`null` if unknown).
    pub fn channel(&self, id: u64) -> Value {
        self.shared.lock().channel_json(id)
    }

    /// The DM channel between the bot and a user, if one was opened.
    pub fn dm_channel(&self, user: u64) -> Option<u64> {
        self.shared.lock().dms.get(&user).copied()
    }

    /// Waits for a message in a channel matching `predicate`; returns the first one.
    pub async fn wait_for_message(
        &self,
        channel: u64,
        timeout: Duration,
        predicate: impl Fn(&Message) -> bool,
    ) -> Result<Message, EmuError> {
        self.shared
            .wait(
                timeout,
                || format!("a matching message in channel {channel}"),
                |st| messages_in(st, channel).into_iter().find(|m| predicate(m)),
            )
            .await
    }

    /// The commands registered in a guild, as Discord returns them.
    pub fn commands(&self, guild: u64) -> Vec<Value> {
        self.shared
            .lock()
            .guild_commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.lock().global_commands.clone()
    }

    /// Waits until the bot registered commands in the guild (`None`: globally).
    pub async fn wait_for_commands(
        &self,
        guild: Option<u64>,
        timeout: Duration,
    ) -> Result<Vec<Value>, EmuError> {
        self.shared
            .wait(
                timeout,
                || format!("commands registered in {guild:?}"),
                |st| {
                    let list = match guild {
                        Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
                        None => st.global_commands.clone(),
                    };
                    (!list.is_empty()).then_some(list)
                },
            )
            .await
    }

    /// Waits until a bot is identified and connected on the gateway.
    pub async fn wait_until_connected(&self, timeout: Duration) -> Result<(), EmuError> {
        self.shared
            .wait(
                timeout,
                || "a bot connected to the gateway".to_string(),
                |st| st.sessions.iter().any(|s| s.conn.is_some()).then_some(()),
            )
            .await
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.lock().stats
    }

    /// Waits until the gateway counters satisfy `predicate`.
    pub async fn wait_for_stats(
        &self,
        timeout: Duration,
        predicate: impl Fn(&GatewayStats) -> bool,
    ) -> Result<GatewayStats, EmuError> {
        self.shared
            .wait(
                timeout,
                || "gateway counters".to_string(),
                |st| predicate(&st.stats).then_some(st.stats),
            )
            .await
    }

    /// Everything refused so far (see the module documentation).
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.lock().violations.clone()
    }

    /// Waits until at least `count` violations were recorded.
    pub async fn wait_for_violations(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Violation>, EmuError> {
        self.shared
            .wait(
                timeout,
                || format!("{count} violations"),
                |st| (st.violations.len() >= count).then(|| st.violations.clone()),
            )
            .await
    }

    /// The violations so far, forgetting them.
    pub fn take_violations(&self) -> Vec<Violation> {
        std::mem::take(&mut self.shared.lock().violations)
    }

    /// Panics with the list if anything was refused.
    #[track_caller]
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "the bot did what Discord would refuse:\n{}",
                list.join("\n")
            );
        }
    }

    /// Every REST request and its answer, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.lock().exchanges.clone()
    }

    /// Every dispatch frame sent on the gateway (`{"op": 0, "s", "t", "d"}`), in order.
    pub fn dispatches(&self) -> Vec<Value> {
        self.shared.lock().frames.clone()
    }

    // ------------------------------------------------------------- faults

    /// Closes every gateway connection abruptly (no close frame). The sessions stay
    /// resumable: what is dispatched meanwhile is replayed on RESUME.
    pub fn drop_gateway(&self) {
        let mut st = self.shared.lock();
        for session in &mut st.sessions {
            if let Some(conn) = session.conn.take() {
                let _ = conn.tx.send(Out::Abort);
            }
        }
        drop(st);
        self.shared.notify();
    }

    /// Sends RECONNECT (op 7) on every connection; the bot should resume.
    pub fn send_reconnect(&self) {
        let mut st = self.shared.lock();
        for session in &mut st.sessions {
            if let Some(conn) = session.conn.take() {
                let _ = conn.tx.send(Out::Text(gateway::reconnect()));
            }
        }
        drop(st);
        self.shared.notify();
    }

    /// Sends INVALID_SESSION (op 9). Not resumable: the sessions are forgotten and the
    /// bot must identify again (serenity waits 5 s before it does).
    pub fn send_invalid_session(&self, resumable: bool) {
        let mut st = self.shared.lock();
        for session in &mut st.sessions {
            if let Some(conn) = session.conn.take() {
                let _ = conn.tx.send(Out::Text(gateway::invalid_session(resumable)));
            }
        }
        if !resumable {
            st.sessions.clear();
        }
        drop(st);
        self.shared.notify();
    }

    /// From now on, every dispatch frame containing `needle` is sent with
    /// it replaced by `replacement`, as raw JSON text (e.g. `"\\ud800"`, a
    /// lone surrogate escape that no JSON serializer writes). The frame is
    /// also replayed so on RESUME, like Discord would.
    pub fn rewrite_dispatches(&self, needle: &str, replacement: &str) {
        self.shared
            .lock()
            .rewrites
            .push((needle.to_owned(), replacement.to_owned()));
    }

    /// A fault: people's messages, options and form fields may exceed
    /// Discord's limits (4000 characters, registered lengths) from now on,
    /// as a hostile or broken client could send. What the bot sends is
    /// still checked.
    pub fn allow_oversized_input(&self, on: bool) {
        self.shared.lock().oversized_input = on;
    }

    /// Discord's rate limits with the bucket sizes Discord is seen to use
    /// for messages (5 per 5 s per channel), or (`false`, the default) 50 a
    /// second per bucket. The global 50 a second and the headers are always
    /// on (see `ratelimit.rs`).
    pub fn strict_rate_limits(&self, strict: bool) {
        self.shared.lock().limiter.limits = if strict {
            ratelimit::Limits::strict()
        } else {
            ratelimit::Limits::lenient()
        };
    }

    /// A fault: `user` does not accept direct messages from the bot; a
    /// message in their DM is answered 403 with code 50007, as Discord does
    /// (<https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>).
    pub fn close_dms(&self, user: u64, closed: bool) {
        let mut st = self.shared.lock();
        if closed {
            st.dms_closed.insert(user);
        } else {
            st.dms_closed.remove(&user);
        }
    }

    /// A fault: the bot loses (or, with `allow`, regains) `permissions` in
    /// `channel`, through a member overwrite for the bot as a server admin
    /// would set it; every REST call is checked against the permissions
    /// computed from roles and overwrites
    /// (<https://discord.com/developers/docs/topics/permissions#permission-overwrites>).
    /// Sends CHANNEL_UPDATE. `false` if there is no such channel.
    pub fn deny_bot(&self, channel: u64, permissions: u64, allow: bool) -> bool {
        let mut st = self.shared.lock();
        let bot = st.bot_id;
        let Some(c) = st.channels.get_mut(&channel) else {
            return false;
        };
        let at = match c.overwrites.iter().position(|o| o.member && o.id == bot) {
            Some(at) => at,
            None => {
                c.overwrites.push(state::Overwrite {
                    id: bot,
                    member: true,
                    allow: 0,
                    deny: 0,
                });
                c.overwrites.len() - 1
            }
        };
        let o = &mut c.overwrites[at];
        if allow {
            o.deny &= !permissions;
        } else {
            o.deny |= permissions;
            o.allow &= !permissions;
        }
        let update = st.channel_json(channel);
        st.dispatch("CHANNEL_UPDATE", &update);
        drop(st);
        self.shared.notify();
        true
    }

    /// A fault: a thread is archived, and with `locked` locked too: a post
    /// into a locked archived thread is answered 400 with code 50083; a post
    /// into an archived one unarchives it
    /// (<https://discord.com/developers/docs/topics/threads#archiving-inactivity>).
    /// `false` if `thread` is not a thread.
    pub fn archive_thread(&self, thread: u64, locked: bool) -> bool {
        let mut st = self.shared.lock();
        let Some(c) = st.channels.get_mut(&thread).filter(|c| c.is_thread()) else {
            return false;
        };
        c.archived = true;
        c.locked = locked;
        let update = st.channel_json(thread);
        st.dispatch("THREAD_UPDATE", &update);
        drop(st);
        self.shared.notify();
        true
    }

    /// A fault: requests matching `route` are answered `by` late (`times`
    /// of them, or all with `None`); a very long `by` is a hang that only
    /// the client's own deadline ends.
    pub fn delay(&self, route: RouteMatch, by: Duration, times: Option<usize>) {
        self.shared.lock().delays.push(state::Delay {
            matcher: route,
            by,
            remaining: times,
        });
    }

    /// A fault: a channel or thread is deleted (CHANNEL_DELETE or
    /// THREAD_DELETE); calls about it are answered 404 with code 10003.
    /// `false` if there is no such channel.
    pub fn delete_channel(&self, channel: u64) -> bool {
        let mut st = self.shared.lock();
        let Some(gone) = st.channels.remove(&channel) else {
            return false;
        };
        st.deleted_channels.insert(channel);
        let event = if gone.is_thread() {
            "THREAD_DELETE"
        } else {
            "CHANNEL_DELETE"
        };
        let payload = serde_json::json!({
            "id": channel.to_string(),
            "guild_id": gone.guild_id.map(|g| g.to_string()),
            "parent_id": gone.parent_id.map(|p| p.to_string()),
            "type": gone.kind,
        });
        st.dispatch(event, &payload);
        drop(st);
        self.shared.notify();
        true
    }

    /// Ends every injected delay and hang for requests from now on.
    pub fn clear_delays(&self) {
        self.shared.lock().delays.clear();
    }

    /// The next `times` requests matching `route` fail with `status` (429 with
    /// `retry_after`, `Retry-After` and `X-RateLimit-*`; or 500, 502, ...) before
    /// the emulator looks at them.
    pub fn fail_next(&self, route: RouteMatch, status: u16, times: usize) {
        self.shared.lock().faults.push(state::Fault {
            matcher: route,
            status,
            remaining: times,
        });
    }
}

// ---- Crash test (issue 8): a bot in another process ----

/// The environment variables that point `ponte run` at an emulator in another
/// process (see [`Emulator::write_connection`] and `discord::emulated`).
pub const REST_ADDR_VAR: &str = "PONTE_EMULATOR_REST";
/// The file holding the emulator's certificate authority (DER).
pub const CA_FILE_VAR: &str = "PONTE_EMULATOR_CA";

impl Emulator {
    /// Writes the certificate authority (DER) to `ca_file` and returns the
    /// environment a `ponte run` child needs to reach this emulator: the TLS
    /// REST address, the CA file and the bot token.
    pub fn write_connection(&self, ca_file: &std::path::Path) -> io::Result<Vec<(String, String)>> {
        std::fs::write(ca_file, self.ca_certificate_der())?;
        Ok(vec![
            (REST_ADDR_VAR.to_string(), self.rest_addr().to_string()),
            (CA_FILE_VAR.to_string(), ca_file.display().to_string()),
            ("DISCORD_TOKEN".to_string(), self.token().to_string()),
        ])
    }

    /// Dispatches INTERACTION_CREATE of interaction `id` again, unchanged (same
    /// id and token), as Discord may when a bot never answered it.
    pub fn redeliver(&self, id: u64) -> Result<InteractionHandle, EmuError> {
        self.act(|st| {
            let (payload, token) = st
                .interactions
                .get(&id)
                .map(|i| (i.payload.clone(), i.token.clone()))
                .ok_or_else(|| EmuError::NotFound(format!("interaction {id}")))?;
            st.dispatch("INTERACTION_CREATE", &payload);
            Ok((id, token))
        })
        .map(|h| self.handle(h))
    }
}

fn messages_in(st: &State, channel: u64) -> Vec<Message> {
    st.channels
        .get(&channel)
        .map(|c| {
            c.messages
                .iter()
                .filter_map(|id| st.message_view(*id))
                .filter(|m| !m.deleted && !m.ephemeral)
                .collect()
        })
        .unwrap_or_default()
}
