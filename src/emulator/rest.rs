//! The REST API under `/api/v10`: the routes a bot calls, checked like Discord would.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::check::{self, Problem};
use super::model::Exchange;
use super::state::{self, Callback, FLAG_EPHEMERAL, FLAG_LOADING, State, id_of};

/// Every route the emulator serves, as templated in Discord's OpenAPI spec.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/users/@me"),
    ("GET", "/users/{user_id}"),
    ("POST", "/users/@me/channels"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/applications/@me"),
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("POST", "/applications/{application_id}/commands"),
    (
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands",
    ),
    (
        "PUT",
        "/applications/{application_id}/guilds/{guild_id}/commands",
    ),
    (
        "POST",
        "/applications/{application_id}/guilds/{guild_id}/commands",
    ),
    ("GET", "/channels/{channel_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    (
        "POST",
        "/channels/{channel_id}/messages/{message_id}/threads",
    ),
    ("POST", "/channels/{channel_id}/threads"),
    ("PUT", "/channels/{channel_id}/thread-members/@me"),
    ("POST", "/channels/{channel_id}/typing"),
    ("GET", "/guilds/{guild_id}"),
    ("GET", "/guilds/{guild_id}/channels"),
    ("GET", "/guilds/{guild_id}/roles"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
    (
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
    ),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    (
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    ),
    (
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    ),
    (
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    ),
    (
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    ),
    (
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    ),
    (
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    ),
];

/// The best matching template (most literal segments) and its parameters.
fn match_template(template: &str, path: &str) -> Option<(usize, Vec<String>)> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut literals = 0;
    for (ts, ps) in t.iter().zip(&p) {
        if ts.starts_with('{') {
            if ps.is_empty() {
                return None;
            }
            params.push(percent_decode(ps));
        } else if ts == ps {
            literals += 1;
        } else {
            return None;
        }
    }
    Some((literals, params))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) enum RouteLookup {
    Found(&'static str, Vec<String>),
    WrongMethod,
    Unknown,
}

pub(crate) fn lookup(method: &str, path: &str) -> RouteLookup {
    let mut best: Option<(usize, &'static str, Vec<String>)> = None;
    let mut path_known = false;
    for (m, template) in ROUTES {
        if let Some((literals, params)) = match_template(template, path) {
            path_known = true;
            if *m == method && best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
                best = Some((literals, template, params));
            }
        }
    }
    match best {
        Some((_, template, params)) => RouteLookup::Found(template, params),
        None if path_known => RouteLookup::WrongMethod,
        None => RouteLookup::Unknown,
    }
}

/// A response to send, and what to record.
pub(crate) struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    /// Recorded as a violation (a correct bot never gets this answer).
    violation: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self::status(200, body)
    }
    fn status(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
            violation: None,
        }
    }
    fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
            headers: Vec::new(),
            violation: None,
        }
    }
    /// A Discord JSON error, recorded as a violation.
    fn error(status: u16, code: u64, message: &str, why: impl Into<String>) -> Self {
        Self {
            status,
            body: Some(json!({"message": message, "code": code})),
            headers: Vec::new(),
            violation: Some(why.into()),
        }
    }
    fn invalid(problems: &[Problem]) -> Self {
        let reason = problems
            .iter()
            .map(Problem::describe)
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: 400,
            body: Some(check::invalid_form_body(problems)),
            headers: Vec::new(),
            violation: Some(format!("Invalid Form Body: {reason}")),
        }
    }
}

/// A refusal that follows from the world as a test set it up (a permission
/// taken away, DMs closed, a locked thread): answered as Discord does, and
/// not a violation, since a correct bot meets it in production too.
fn refused(status: u16, code: u64, message: &str) -> Reply {
    Reply {
        status,
        body: Some(json!({"message": message, "code": code})),
        headers: Vec::new(),
        violation: None,
    }
}

// Permission bits (https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags).
const VIEW_CHANNEL: u64 = 1 << 10;
const SEND_MESSAGES: u64 = 1 << 11;
const EMBED_LINKS: u64 = 1 << 14;
const ATTACH_FILES: u64 = 1 << 15;
const READ_MESSAGE_HISTORY: u64 = 1 << 16;
const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

/// Whether the bot may do what needs `needed` in `channel`: 50001 (Missing
/// Access) without VIEW_CHANNEL, 50013 (Missing Permissions) without the
/// rest, both 403 (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
fn allowed(st: &State, channel: u64, needed: u64) -> Result<(), Reply> {
    let has = st.channel_permissions(channel, st.bot_id);
    if has & VIEW_CHANNEL == 0 {
        return Err(refused(403, 50001, "Missing Access"));
    }
    if has & needed != needed {
        return Err(refused(403, 50013, "Missing Permissions"));
    }
    Ok(())
}

/// What posting in `channel` needs and whether it may: closed DMs (50007),
/// a locked archived thread (50083); an archived thread that is not locked
/// is unarchived by the post (https://discord.com/developers/docs/topics/threads#archiving-inactivity).
fn may_post(st: &mut State, channel_id: u64, body: &Value, files: bool) -> Result<(), Reply> {
    let Some(channel) = st.channels.get(&channel_id) else {
        return Ok(());
    };
    if let Some(user) = channel.recipient {
        if st.dms_closed.contains(&user) {
            return Err(refused(403, 50007, "Cannot send messages to this user"));
        }
        return Ok(());
    }
    let thread = channel.is_thread();
    let mut needed = if thread {
        SEND_MESSAGES_IN_THREADS
    } else {
        SEND_MESSAGES
    };
    if body
        .get("embeds")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
    {
        needed |= EMBED_LINKS;
    }
    if files {
        needed |= ATTACH_FILES;
    }
    if body.get("message_reference").is_some_and(|r| !r.is_null()) {
        needed |= READ_MESSAGE_HISTORY;
    }
    allowed(st, channel_id, needed)?;
    if thread && channel.archived {
        if channel.locked {
            return Err(refused(400, 50083, "Thread is archived"));
        }
        if let Some(c) = st.channels.get_mut(&channel_id) {
            c.archived = false;
        }
        let update = st.channel_json(channel_id);
        st.dispatch("THREAD_UPDATE", &update);
    }
    Ok(())
}

fn unknown_channel(id: &str) -> Reply {
    Reply::error(
        404,
        10003,
        "Unknown Channel",
        format!("unknown channel {id}"),
    )
}
fn unknown_message(id: &str) -> Reply {
    Reply::error(
        404,
        10008,
        "Unknown Message",
        format!("unknown message {id}"),
    )
}
fn unknown_webhook(why: &str) -> Reply {
    Reply::error(404, 10015, "Unknown Webhook", why.to_string())
}
fn missing_access(why: String) -> Reply {
    Reply::error(403, 50001, "Missing Access", why)
}
fn empty_message() -> Reply {
    Reply::error(
        400,
        50006,
        "Cannot send an empty message",
        "message without content, embeds, components or stickers",
    )
}

pub(crate) async fn handle(AxumState(shared): AxumState<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().as_str().to_ascii_uppercase();
    let uri = req.uri().clone();
    let full_path = uri.path().to_string();
    let query: HashMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), percent_decode(v))
        })
        .collect();
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = match axum::body::to_bytes(req.into_body(), 32 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "").into_response(),
    };

    let path = full_path
        .strip_prefix("/api/v10")
        .map(str::to_string)
        .unwrap_or_else(|| full_path.clone());
    let route = if full_path.starts_with("/api/v10/") {
        lookup(&method, &path)
    } else {
        RouteLookup::Unknown
    };
    let template = match &route {
        RouteLookup::Found(t, _) => Some(*t),
        _ => None,
    };

    // File uploads (issue 6's digest chart): a multipart form's payload_json
    // is the body; its files are checked with the message (see `upload`).
    let mut files: Vec<super::upload::Upload> = Vec::new();
    let body: Option<Value> = if bytes.is_empty() {
        None
    } else if content_type.starts_with("multipart/") {
        let form = match super::upload::parse(&content_type, &bytes) {
            Ok(form) if template == Some("/channels/{channel_id}/messages") && method == "POST" => {
                form
            }
            Ok(_) => {
                let reply = Reply::error(
                    400,
                    50035,
                    "Invalid Form Body",
                    "file uploads are accepted only when creating a message",
                );
                return finish(&shared, &method, &path, template, None, reply);
            }
            Err(why) => {
                let reply = Reply::error(400, 50035, "Invalid Form Body", why);
                return finish(&shared, &method, &path, template, None, reply);
            }
        };
        files = form.files;
        Some(super::upload::normalize(
            form.payload.unwrap_or_else(|| json!({})),
        ))
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(err) => {
                let reply = Reply::error(
                    400,
                    50109,
                    "The request body contains invalid JSON.",
                    format!("body is not JSON: {err}"),
                );
                return finish(&shared, &method, &path, template, None, reply);
            }
        }
    };

    let (template, params) = match route {
        RouteLookup::Found(t, p) => (t, p),
        RouteLookup::WrongMethod => {
            let reply = Reply::error(
                405,
                0,
                "405: Method Not Allowed",
                "the emulator serves this path, but not with this method",
            );
            return finish(&shared, &method, &path, None, body, reply);
        }
        RouteLookup::Unknown => {
            let reply = Reply::error(
                404,
                0,
                "404: Not Found",
                "unknown route: the emulator does not serve it (is the bot calling something unexpected?)",
            );
            return finish(&shared, &method, &path, None, body, reply);
        }
    };

    // Authentication and injected faults come before anything else, as on Discord.
    {
        let mut st = shared.lock();
        let expected = format!("Bot {}", st.token);
        if template != "/gateway" && auth.as_deref() != Some(expected.as_str()) {
            drop(st);
            let reply = Reply::error(
                401,
                0,
                "401: Unauthorized",
                "missing or wrong Authorization",
            );
            return finish(&shared, &method, &path, Some(template), body, reply);
        }
        let retry_after = st.opts.retry_after;
        if let Some(fault) = st
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.matcher.matches(&method, &path, Some(template)))
        {
            fault.remaining -= 1;
            let status = fault.status;
            st.faults.retain(|f| f.remaining > 0);
            drop(st);
            let reply = injected_fault(status, retry_after);
            return finish(&shared, &method, &path, Some(template), body, reply);
        }
    }

    // Rate limits: the route's bucket, and the global limit (interaction
    // callbacks and webhooks excluded).
    let limited = {
        let global = !template.starts_with("/interactions") && !template.starts_with("/webhooks");
        let key = super::ratelimit::bucket_key(&method, template, &path);
        shared.lock().limiter.check(&key, global)
    };
    let rate_headers = match limited {
        super::ratelimit::Verdict::Allowed(headers) => headers,
        super::ratelimit::Verdict::Limited {
            global,
            retry_after,
            headers,
        } => {
            let reply = Reply {
                status: 429,
                body: Some(json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry_after.as_secs_f64().max(0.001),
                    "global": global,
                })),
                headers,
                violation: None,
            };
            return finish(&shared, &method, &path, Some(template), body, reply);
        }
    };

    // Injected latency or a hang: the answer comes late, or never (the
    // client's own deadline has to end the wait).
    let delay = {
        let mut st = shared.lock();
        let found = st
            .delays
            .iter_mut()
            .find(|d| d.remaining != Some(0) && d.matcher.matches(&method, &path, Some(template)));
        found.map(|d| {
            if let Some(n) = d.remaining.as_mut() {
                *n -= 1;
            }
            d.by
        })
    };
    if let Some(by) = delay {
        tokio::time::sleep(by.min(Duration::from_secs(24 * 3600))).await;
    }

    // The spec check (compiling a validator the first time can take a while).
    let mut problems = Vec::new();
    let view = body.as_ref().and_then(|b| check::schema_view(template, b));
    if let (Some(spec), Some(body)) = (shared.spec.clone(), view.as_ref().or(body.as_ref())) {
        match spec.cached(&method, template) {
            Some(Some(validator)) => check::validate(&validator, body, &mut problems),
            Some(None) => {}
            None => {
                let (m, t, b) = (method.clone(), template, body.clone());
                problems = tokio::task::spawn_blocking(move || {
                    let mut problems = Vec::new();
                    if let Some(validator) = spec.validator(&m, t) {
                        check::validate(&validator, &b, &mut problems);
                    }
                    problems
                })
                .await
                .unwrap_or_default();
            }
        }
    }

    let reply = {
        let mut st = shared.lock();
        let req = Req {
            method: &method,
            template,
            params: &params,
            query: &query,
            body: body.as_ref().unwrap_or(&Value::Null),
            files: &files,
        };
        route_request(&mut st, &req, problems)
    };
    let mut reply = reply;
    reply.headers.extend(rate_headers);
    finish(&shared, &method, &path, Some(template), body, reply)
}

fn injected_fault(status: u16, retry_after: Duration) -> Reply {
    if status == 429 {
        let secs = retry_after.as_secs_f64();
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
            + secs;
        Reply {
            status,
            body: Some(
                json!({"message": "You are being rate limited.", "retry_after": secs, "global": false}),
            ),
            headers: vec![
                ("retry-after", format!("{secs}")),
                ("x-ratelimit-limit", "5".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", format!("{reset:.3}")),
                ("x-ratelimit-reset-after", format!("{secs:.3}")),
                ("x-ratelimit-bucket", "emulator-injected".into()),
                ("x-ratelimit-scope", "user".into()),
            ],
            violation: None,
        }
    } else {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        Reply {
            status,
            body: Some(json!({"message": format!("{status}: {reason}"), "code": 0})),
            headers: Vec::new(),
            violation: None,
        }
    }
}

fn finish(
    shared: &Shared,
    method: &str,
    path: &str,
    template: Option<&str>,
    request: Option<Value>,
    reply: Reply,
) -> Response {
    {
        let mut st = shared.lock();
        st.rest_requests += 1;
        if reply.status == 429 {
            st.rest_limited += 1;
        }
        if let Some(why) = &reply.violation {
            st.violation(method, path, template, why.clone());
        }
        state::push_bounded(
            &mut st.exchanges,
            Exchange {
                method: method.to_string(),
                path: path.to_string(),
                route: template.map(str::to_string),
                status: reply.status,
                request,
                response: reply.body.clone(),
            },
        );
    }
    shared.notify();
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        Some(body) => {
            let mut r = Response::new(Body::from(body.to_string()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

struct Req<'a> {
    method: &'a str,
    template: &'static str,
    params: &'a [String],
    query: &'a HashMap<String, String>,
    body: &'a Value,
    /// The files of a multipart upload (creating a message only).
    files: &'a [super::upload::Upload],
}

impl Req<'_> {
    fn id(&self, i: usize) -> u64 {
        self.params.get(i).and_then(|p| p.parse().ok()).unwrap_or(0)
    }
    fn param(&self, i: usize) -> &str {
        self.params.get(i).map_or("", String::as_str)
    }
}

fn route_request(st: &mut State, req: &Req, mut problems: Vec<Problem>) -> Reply {
    let b = req.body;
    // A channel or thread deleted while the bot knew it: Discord answers
    // 10003 Unknown Channel
    // (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
    if req.template.starts_with("/channels/{channel_id}")
        && st.deleted_channels.contains(&req.id(0))
    {
        return refused(404, 10003, "Unknown Channel");
    }
    match (req.method, req.template) {
        ("GET", "/gateway") => Reply::ok(json!({"url": st.gateway_url})),
        ("GET", "/gateway/bot") => Reply::ok(json!({
            "url": st.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        ("GET", "/users/@me") => Reply::ok(st.current_user_json()),
        ("GET", "/users/{user_id}") => {
            if st.users.contains_key(&req.id(0)) {
                Reply::ok(st.user_json(req.id(0)))
            } else {
                Reply::error(
                    404,
                    10013,
                    "Unknown User",
                    format!("unknown user {}", req.param(0)),
                )
            }
        }
        ("POST", "/users/@me/channels") => {
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            let user = id_of(&b["recipient_id"]);
            if !st.users.contains_key(&user) || user == st.bot_id {
                return Reply::error(
                    400,
                    50007,
                    "Cannot send messages to this user",
                    format!("DM with unknown user {user}"),
                );
            }
            let channel = st.dm_channel(user);
            Reply::ok(st.channel_json(channel))
        }
        ("GET", "/oauth2/applications/@me" | "/applications/@me") => {
            Reply::ok(st.application_json())
        }
        (_, t) if t.starts_with("/applications/{application_id}") => commands(st, req, problems),
        ("GET", "/channels/{channel_id}") => match st.channels.get(&req.id(0)) {
            Some(_) => Reply::ok(st.channel_json(req.id(0))),
            None => unknown_channel(req.param(0)),
        },
        ("GET", "/channels/{channel_id}/messages") => {
            let Some(channel) = st.channels.get(&req.id(0)) else {
                return unknown_channel(req.param(0));
            };
            let limit = req
                .query
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(50usize)
                .clamp(1, 100);
            let list: Vec<Value> = channel
                .messages
                .iter()
                .rev()
                .filter_map(|id| st.message_rec(*id))
                .filter(|m| m.flags() & FLAG_EPHEMERAL == 0)
                .take(limit)
                .map(|m| m.json.clone())
                .collect();
            Reply::ok(Value::Array(list))
        }
        ("POST", "/channels/{channel_id}/messages") => {
            let channel_id = req.id(0);
            if !st.channels.contains_key(&channel_id) {
                return unknown_channel(req.param(0));
            }
            check::check_message(b, &[], true, &mut problems);
            super::upload::check(b, req.files, &mut problems);
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            if is_empty_message(b) && req.files.is_empty() {
                return empty_message();
            }
            if let Err(refusal) = may_post(st, channel_id, b, !req.files.is_empty()) {
                return refusal;
            }
            let mut extra = Map::new();
            if !req.files.is_empty() {
                let mut kept = Vec::new();
                for file in req.files {
                    let id = st.next_id();
                    st.uploads.insert(id, file.bytes.clone());
                    kept.push((id, file));
                }
                extra.insert(
                    "attachments".into(),
                    super::upload::message_attachments(channel_id, &kept),
                );
            }
            let mut kind = 0;
            if let Some(reference) = b.get("message_reference").filter(|r| !r.is_null()) {
                let target = id_of(&reference["message_id"]);
                if st.message_rec(target).is_none() {
                    return Reply::invalid(&[Problem::new(
                        &["message_reference"],
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                        "Unknown message",
                    )]);
                }
                kind = 19;
                extra.insert(
                    "message_reference".into(),
                    json!({"type": 0, "message_id": target.to_string(), "channel_id": channel_id.to_string()}),
                );
                extra.insert(
                    "referenced_message".into(),
                    st.messages[&target].json.clone(),
                );
            }
            let flags = b["flags"].as_u64().unwrap_or(0) & ((1 << 2) | (1 << 12) | (1 << 15));
            let bot = st.bot_id;
            // `enforce_nonce`: the same nonce again returns the first message.
            if let Some(first) = st.nonce_hit(channel_id, bot, b) {
                return Reply::ok(st.messages[&first].json.clone());
            }
            let id = st.create_message(channel_id, bot, b, kind, flags, extra, None);
            st.remember_nonce(channel_id, bot, b, id);
            Reply::ok(st.messages[&id].json.clone())
        }
        (_, "/channels/{channel_id}/messages/{message_id}") => {
            let (channel_id, message_id) = (req.id(0), req.id(1));
            if !st.channels.contains_key(&channel_id) {
                return unknown_channel(req.param(0));
            }
            match st.message_rec(message_id) {
                Some(m) if m.channel_id() == channel_id && m.flags() & FLAG_EPHEMERAL == 0 => {}
                _ => return unknown_message(req.param(1)),
            }
            match req.method {
                "GET" => Reply::ok(st.messages[&message_id].json.clone()),
                "DELETE" => {
                    st.delete_message(message_id);
                    Reply::no_content()
                }
                _ => {
                    if let Err(refusal) = allowed(st, channel_id, 0) {
                        return refusal;
                    }
                    if st.channels.get(&channel_id).is_some_and(|c| c.locked) {
                        return refused(400, 50083, "Thread is archived");
                    }
                    if st.messages[&message_id].author_id() != st.bot_id {
                        return Reply::error(
                            403,
                            50005,
                            "Cannot edit a message authored by another user",
                            format!("edit of message {message_id} written by someone else"),
                        );
                    }
                    check::check_message(b, &[], false, &mut problems);
                    if !problems.is_empty() {
                        return Reply::invalid(&problems);
                    }
                    st.edit_message(message_id, b);
                    Reply::ok(st.messages[&message_id].json.clone())
                }
            }
        }
        ("POST", "/channels/{channel_id}/messages/{message_id}/threads") => {
            let (channel_id, message_id) = (req.id(0), req.id(1));
            let Some(channel) = st.channels.get(&channel_id) else {
                return unknown_channel(req.param(0));
            };
            if !matches!(channel.kind, 0 | 5) {
                return Reply::error(
                    400,
                    50024,
                    "Cannot execute action on this channel type",
                    format!(
                        "thread from a message in channel {channel_id} of type {}",
                        channel.kind
                    ),
                );
            }
            match st.message_rec(message_id) {
                Some(m) if m.channel_id() == channel_id && m.flags() & FLAG_EPHEMERAL == 0 => {}
                _ => return unknown_message(req.param(1)),
            }
            if let Err(refusal) = allowed(st, channel_id, CREATE_PUBLIC_THREADS) {
                return refusal;
            }
            if st.channels.contains_key(&message_id) {
                return Reply::error(
                    400,
                    160004,
                    "A thread has already been created for this message",
                    format!("second thread on message {message_id}"),
                );
            }
            check::check_thread_name(b, &mut problems);
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            let name = b["name"].as_str().unwrap_or("");
            let archive = b["auto_archive_duration"].as_u64().unwrap_or(1440);
            let id = st.start_thread(channel_id, Some(message_id), name, 11, archive);
            Reply::status(201, st.channel_json(id))
        }
        ("POST", "/channels/{channel_id}/threads") => {
            let channel_id = req.id(0);
            let Some(channel) = st.channels.get(&channel_id) else {
                return unknown_channel(req.param(0));
            };
            if !matches!(channel.kind, 0 | 5) {
                return Reply::error(
                    400,
                    50024,
                    "Cannot execute action on this channel type",
                    format!("thread in channel {channel_id} of type {}", channel.kind),
                );
            }
            check::check_thread_name(b, &mut problems);
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            let kind = b["type"].as_u64().unwrap_or(12) as u8;
            if !matches!(kind, 10..=12) {
                return Reply::invalid(&[Problem::new(
                    &["type"],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {10, 11, 12}.",
                )]);
            }
            let name = b["name"].as_str().unwrap_or("");
            let archive = b["auto_archive_duration"].as_u64().unwrap_or(1440);
            let id = st.start_thread(channel_id, None, name, kind, archive);
            Reply::status(201, st.channel_json(id))
        }
        ("PUT", "/channels/{channel_id}/thread-members/@me") => match st.channels.get(&req.id(0)) {
            Some(c) if c.is_thread() => Reply::no_content(),
            _ => unknown_channel(req.param(0)),
        },
        ("POST", "/channels/{channel_id}/typing") => match st.channels.get(&req.id(0)) {
            Some(_) => Reply::no_content(),
            None => unknown_channel(req.param(0)),
        },
        ("GET", t) if t.starts_with("/guilds/{guild_id}") => {
            let guild_id = req.id(0);
            let Some(guild) = st.guilds.get(&guild_id) else {
                return Reply::error(
                    404,
                    10004,
                    "Unknown Guild",
                    format!("unknown guild {}", req.param(0)),
                );
            };
            match t {
                "/guilds/{guild_id}" => Reply::ok(st.guild_json(guild_id)),
                "/guilds/{guild_id}/roles" => Reply::ok(st.roles_json(guild_id)),
                "/guilds/{guild_id}/channels" => Reply::ok(Value::Array(
                    guild.channels.iter().map(|c| st.channel_json(*c)).collect(),
                )),
                _ => {
                    let user = req.id(1);
                    if guild.members.contains_key(&user) {
                        Reply::ok(st.member_json(guild_id, user, true))
                    } else {
                        // Asking whether someone is a member is a fair
                        // question (Ponte does, to place a DM): the 404 is
                        // an answer, not a mistake of the bot.
                        Reply {
                            violation: None,
                            ..Reply::error(
                                404,
                                10007,
                                "Unknown Member",
                                format!("unknown member {user}"),
                            )
                        }
                    }
                }
            }
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            callback(st, req, problems)
        }
        (_, t) if t.starts_with("/webhooks/") => webhook(st, req, problems),
        (method, template) => Reply::error(
            404,
            0,
            "404: Not Found",
            format!("{method} {template} is listed but not implemented"),
        ),
    }
}

fn is_empty_message(b: &Value) -> bool {
    let empty = |key: &str| match b.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    empty("content")
        && empty("embeds")
        && empty("components")
        && empty("sticker_ids")
        && empty("poll")
}

fn commands(st: &mut State, req: &Req, problems: Vec<Problem>) -> Reply {
    if req.id(0) != st.app_id {
        return missing_access(format!(
            "commands of application {} (the bot's application is {})",
            req.param(0),
            st.app_id
        ));
    }
    let guild = if req.template.contains("{guild_id}") {
        let g = req.id(1);
        if !st.guilds.contains_key(&g) {
            return missing_access(format!(
                "commands in guild {} the bot is not in",
                req.param(1)
            ));
        }
        Some(g)
    } else {
        None
    };
    let current = match guild {
        Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
        None => st.global_commands.clone(),
    };
    match req.method {
        "GET" => Reply::ok(Value::Array(current)),
        "PUT" | "POST" => {
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            let list: Vec<Value> = if req.method == "PUT" {
                req.body.as_array().cloned().unwrap_or_default()
            } else {
                // Create (or replace) one command by name and type.
                let name = &req.body["name"];
                let kind = req.body["type"].as_u64().unwrap_or(1);
                let mut list: Vec<Value> = current
                    .into_iter()
                    .filter(|c| !(c["name"] == *name && c["type"].as_u64().unwrap_or(1) == kind))
                    .collect();
                list.push(req.body.clone());
                list
            };
            let mut rules = Vec::new();
            check::check_commands(&list, &mut rules);
            if !rules.is_empty() {
                return Reply::invalid(&rules);
            }
            let mut seen = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let key = (
                    c["type"].as_u64().unwrap_or(1),
                    c["name"].as_str().unwrap_or("").to_string(),
                );
                if seen.contains(&key) {
                    let i = i.to_string();
                    return Reply::invalid(&[Problem::new(
                        &[&i, "name"],
                        "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        format!("Application command names must be unique ({})", key.1),
                    )]);
                }
                seen.push(key);
            }
            let stored = st.overwrite_commands(guild, &list);
            if req.method == "PUT" {
                Reply::ok(Value::Array(stored))
            } else {
                let name = &req.body["name"];
                let one = stored
                    .into_iter()
                    .find(|c| c["name"] == *name)
                    .unwrap_or(Value::Null);
                Reply::status(201, one)
            }
        }
        _ => Reply::error(
            405,
            0,
            "405: Method Not Allowed",
            "unexpected method on commands",
        ),
    }
}

fn callback(st: &mut State, req: &Req, mut problems: Vec<Problem>) -> Reply {
    let id = req.id(0);
    let token = req.param(1);
    let deadline = st.opts.deadline;
    let bot = st.bot_id;
    let Some(rec) = st.interactions.get(&id).filter(|r| r.token == token) else {
        return Reply::error(
            404,
            10062,
            "Unknown interaction",
            format!("unknown interaction {id}"),
        );
    };
    if rec.callback.is_some() {
        return Reply::error(
            400,
            40060,
            "Interaction has already been acknowledged.",
            format!("interaction {id} answered twice"),
        );
    }
    let elapsed = rec.created.elapsed();
    if elapsed > deadline {
        return Reply::error(
            404,
            10062,
            "Unknown interaction",
            format!(
                "interaction {id} answered {} ms after it was dispatched (Discord allows {} ms)",
                elapsed.as_millis(),
                deadline.as_millis()
            ),
        );
    }
    let kind = req.body["type"].as_u64().unwrap_or(0) as u8;
    let data = &req.body["data"];
    let (interaction_kind, source, channel_id, command_type) = (
        rec.kind,
        rec.source_message,
        rec.channel_id,
        rec.command_type,
    );
    match kind {
        4 => check::check_message(data, &["data"], true, &mut problems),
        7 => check::check_message(data, &["data"], false, &mut problems),
        9 => check::check_modal(data, &mut problems),
        _ => {}
    }
    if !problems.is_empty() {
        return Reply::invalid(&problems);
    }
    let mut original = None;
    let mut modal = None;
    match kind {
        4 | 5 => {
            if kind == 4 && is_empty_message(data) {
                return empty_message();
            }
            let mut flags = data["flags"].as_u64().unwrap_or(0)
                & (FLAG_EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15));
            if kind == 5 {
                flags = (flags & FLAG_EPHEMERAL) | FLAG_LOADING;
            }
            let message_type = match (interaction_kind, command_type) {
                (2, 3) => 23,
                (2, _) => 20,
                _ => 0,
            };
            let mut extra = Map::new();
            extra.insert("webhook_id".into(), json!(st.app_id.to_string()));
            extra.insert("application_id".into(), json!(st.app_id.to_string()));
            extra.insert("interaction_metadata".into(), st.interaction_metadata(id));
            if interaction_kind == 2 {
                let rec = &st.interactions[&id];
                extra.insert(
                    "interaction".into(),
                    json!({"id": id.to_string(), "type": 2, "name": rec.payload["data"]["name"],
                        "user": st.user_json(rec.user_id)}),
                );
            }
            let payload = if kind == 4 { data.clone() } else { json!({}) };
            original = Some(st.create_message(
                channel_id,
                bot,
                &payload,
                message_type,
                flags,
                extra,
                Some(id),
            ));
        }
        6 | 7 => {
            if !matches!(interaction_kind, 3 | 5) || source.is_none() {
                return Reply::error(
                    400,
                    40004,
                    "Interaction callback type 6/7 is only valid for components",
                    format!(
                        "callback type {kind} for interaction {id}, which has no component message"
                    ),
                );
            }
            if kind == 7 {
                let target = source.expect("checked above");
                st.edit_message(target, data);
            }
        }
        9 => {
            if interaction_kind == 5 {
                return Reply::error(
                    400,
                    40004,
                    "Cannot respond to a modal submit with a modal",
                    format!("modal in response to modal submit {id}"),
                );
            }
            modal = Some(data.clone());
        }
        other => {
            return Reply::error(
                400,
                50035,
                "Invalid Form Body",
                format!(
                    "callback type {other} is not supported by the emulator (Ponte uses 4, 5, 6, 7, 9)"
                ),
            );
        }
    }
    let rec = st.interactions.get_mut(&id).expect("checked above");
    rec.callback = Some(Callback {
        kind,
        body: req.body.clone(),
    });
    rec.original = original;
    rec.modal = modal;
    let after = rec.created.elapsed();
    if let Some(observer) = &st.observer {
        observer(&super::observe::Observed::Callback {
            interaction: id,
            kind,
            after,
        });
    }
    if let (Some(m), Some(original)) = (st.messages.get_mut(&original.unwrap_or(0)), original) {
        // Now that the response exists, its metadata can name it.
        m.json["interaction_metadata"]["original_response_message_id"] =
            json!(original.to_string());
    }
    Reply::no_content()
}

fn webhook(st: &mut State, req: &Req, mut problems: Vec<Problem>) -> Reply {
    let webhook_id = req.id(0);
    let token = req.param(1);
    if webhook_id != st.app_id {
        return unknown_webhook(&format!(
            "webhook {webhook_id} is not the application ({}): interaction webhooks use the application id",
            st.app_id
        ));
    }
    let Some(&id) = st.tokens.get(token) else {
        return unknown_webhook("unknown interaction token");
    };
    let lifetime = st.opts.token_lifetime;
    let rec = &st.interactions[&id];
    if rec.created.elapsed() > lifetime {
        return Reply::error(
            401,
            50027,
            "Invalid Webhook Token",
            format!(
                "interaction token used {} s after the interaction (limit {} s)",
                rec.created.elapsed().as_secs(),
                lifetime.as_secs()
            ),
        );
    }
    if rec.callback.is_none() {
        return unknown_webhook(&format!(
            "follow-up on interaction {id} before its initial response (callback)"
        ));
    }
    let channel_id = rec.channel_id;
    let bot = st.bot_id;
    // Which message a /messages/... route names.
    let target = match req.template {
        "/webhooks/{webhook_id}/{webhook_token}" => None,
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original" => match st.original_of(id) {
            Some(m) => Some(m),
            None => return unknown_message("@original"),
        },
        _ => {
            let m = req.id(2);
            if st.original_of(id) == Some(m) || st.interactions[&id].followups.contains(&m) {
                Some(m)
            } else {
                return unknown_message(req.param(2));
            }
        }
    };
    if let Some(m) = target {
        if st.message_rec(m).is_none() {
            return unknown_message(&m.to_string());
        }
    }
    match (req.method, target) {
        ("POST", None) => {
            // A follow-up. The first one after a deferred response replaces the
            // "thinking" message, as on Discord.
            check::check_message(req.body, &[], true, &mut problems);
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            if is_empty_message(req.body) {
                return empty_message();
            }
            if let Some(loading) = st.original_of(id).filter(|m| {
                st.messages
                    .get(m)
                    .is_some_and(|r| r.flags() & FLAG_LOADING != 0)
            }) {
                st.edit_message(loading, req.body);
                return Reply::ok(st.messages[&loading].json.clone());
            }
            let flags = req.body["flags"].as_u64().unwrap_or(0)
                & (FLAG_EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15));
            let mut extra = Map::new();
            extra.insert("webhook_id".into(), json!(st.app_id.to_string()));
            extra.insert("application_id".into(), json!(st.app_id.to_string()));
            extra.insert("interaction_metadata".into(), st.interaction_metadata(id));
            let m = st.create_message(channel_id, bot, req.body, 0, flags, extra, Some(id));
            st.interactions
                .get_mut(&id)
                .expect("known")
                .followups
                .push(m);
            Reply::ok(st.messages[&m].json.clone())
        }
        ("GET", Some(m)) => Reply::ok(st.messages[&m].json.clone()),
        ("PATCH", Some(m)) => {
            // Filling in a deferred response is when its content is first sent.
            let creates = st.messages[&m].flags() & FLAG_LOADING != 0;
            check::check_message(req.body, &[], creates, &mut problems);
            if !problems.is_empty() {
                return Reply::invalid(&problems);
            }
            st.edit_message(m, req.body);
            if let Some(rec) = st.interactions.get_mut(&id) {
                rec.answered_late = true;
            }
            Reply::ok(st.messages[&m].json.clone())
        }
        ("DELETE", Some(m)) => {
            st.delete_message(m);
            Reply::no_content()
        }
        (method, _) => Reply::error(
            405,
            0,
            "405: Method Not Allowed",
            format!("{method} on a webhook"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_prefer_literal_segments() {
        match lookup("PATCH", "/webhooks/1/tok/messages/@original") {
            RouteLookup::Found(t, p) => {
                assert_eq!(
                    t,
                    "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
                );
                assert_eq!(p, vec!["1", "tok"]);
            }
            _ => panic!("not found"),
        }
        match lookup("PATCH", "/webhooks/1/tok/messages/55") {
            RouteLookup::Found(t, p) => {
                assert_eq!(
                    t,
                    "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
                );
                assert_eq!(p, vec!["1", "tok", "55"]);
            }
            _ => panic!("not found"),
        }
        assert!(matches!(
            lookup("GET", "/users/@me"),
            RouteLookup::Found("/users/@me", _)
        ));
        assert!(matches!(
            lookup("DELETE", "/users/@me"),
            RouteLookup::WrongMethod
        ));
        assert!(matches!(
            lookup("GET", "/voice/regions"),
            RouteLookup::Unknown
        ));
    }

    #[test]
    fn every_route_is_in_the_spec() {
        let Ok(Some(spec)) = check::spec() else {
            eprintln!("spec not available: skipped");
            return;
        };
        for (method, template) in ROUTES {
            assert!(
                spec.has_operation(method, template),
                "{method} {template} not in the spec"
            );
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("ab%2"), "ab%2");
    }
}
