//! Acting as a person: posting, DMs, slash and context-menu commands, button
//! clicks, select menus and modal submissions, checked like a Discord client would.

use serde_json::{Map, Value, json};

use super::model::{CommandOption, EmuError, OptionValue, buttons_of};
use super::state::{FLAG_EPHEMERAL, State, id_of, modal_view};

fn s(id: u64) -> Value {
    Value::String(id.to_string())
}

pub(crate) fn post(
    st: &mut State,
    user: u64,
    channel: u64,
    content: &str,
) -> Result<u64, EmuError> {
    st.check_user_in_channel(user, channel)?;
    if content.is_empty() {
        return Err(EmuError::Invalid("an empty message cannot be sent".into()));
    }
    if content.chars().count() > 4000 && !st.oversized_input {
        return Err(EmuError::Invalid(
            "a person's message is at most 4000 characters".into(),
        ));
    }
    if st.users.get(&user).is_some_and(|u| u.bot) {
        return Err(EmuError::Invalid(format!(
            "user {user} is the bot: it posts through REST"
        )));
    }
    Ok(st.create_message(
        channel,
        user,
        &json!({"content": content}),
        0,
        0,
        Map::new(),
        None,
    ))
}

pub(crate) fn dm(st: &mut State, user: u64, content: &str) -> Result<u64, EmuError> {
    if !st.users.contains_key(&user) {
        return Err(EmuError::NotFound(format!("user {user}")));
    }
    let channel = st.dm_channel(user);
    post(st, user, channel, content)
}

fn guild_of(st: &State, channel: u64) -> Result<Option<u64>, EmuError> {
    st.channels
        .get(&channel)
        .map(|c| c.guild_id)
        .ok_or_else(|| EmuError::NotFound(format!("channel {channel}")))
}

#[derive(Default)]
struct Resolved {
    users: Map<String, Value>,
    members: Map<String, Value>,
    roles: Map<String, Value>,
    channels: Map<String, Value>,
}

impl Resolved {
    fn into_json(self) -> Option<Value> {
        let mut out = Map::new();
        for (key, map) in [
            ("users", self.users),
            ("members", self.members),
            ("roles", self.roles),
            ("channels", self.channels),
        ] {
            if !map.is_empty() {
                out.insert(key.into(), Value::Object(map));
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}

fn parse_id(value: &OptionValue, what: &str) -> Result<u64, EmuError> {
    match value {
        OptionValue::Id(id) => Ok(*id),
        OptionValue::Int(i) if *i > 0 => Ok(*i as u64),
        OptionValue::Str(s) => s
            .trim()
            .trim_start_matches("<@")
            .trim_start_matches(['!', '&', '#'])
            .trim_start_matches("<#")
            .trim_end_matches('>')
            .parse()
            .map_err(|_| EmuError::Invalid(format!("{what}: {s:?} is not a mention or id"))),
        other => Err(EmuError::Invalid(format!("{what}: {other:?} is not an id"))),
    }
}

fn convert(
    st: &State,
    guild: Option<u64>,
    def: &Value,
    value: &OptionValue,
    resolved: &mut Resolved,
) -> Result<Value, EmuError> {
    let name = def["name"].as_str().unwrap_or("");
    let kind = def["type"].as_u64().unwrap_or(3);
    let bad = |why: String| EmuError::Invalid(format!("option {name}: {why}"));
    let value = match (kind, value) {
        (3, OptionValue::Str(s)) => {
            let n = s.chars().count() as u64;
            if !st.oversized_input
                && (def["min_length"].as_u64().is_some_and(|min| n < min)
                    || def["max_length"].as_u64().is_some_and(|max| n > max))
            {
                return Err(bad(format!("length {n} is outside the registered bounds")));
            }
            json!(s)
        }
        (3, OptionValue::Int(i)) => json!(i.to_string()),
        (3, OptionValue::Num(f)) => json!(f.to_string()),
        (3, OptionValue::Bool(b)) => json!(b.to_string()),
        (4, OptionValue::Int(i)) => json!(i),
        (4, OptionValue::Str(s)) => {
            json!(
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| bad(format!("{s:?} is not an integer")))?
            )
        }
        (10, OptionValue::Num(f)) => json!(f),
        (10, OptionValue::Int(i)) => json!(*i as f64),
        (10, OptionValue::Str(s)) => {
            json!(
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(format!("{s:?} is not a number")))?
            )
        }
        (5, OptionValue::Bool(b)) => json!(b),
        (5, OptionValue::Str(s)) => match s.trim() {
            "true" | "True" => json!(true),
            "false" | "False" => json!(false),
            other => return Err(bad(format!("{other:?} is not true or false"))),
        },
        (6 | 9, v) if kind == 6 || parse_id(v, name).is_ok_and(|id| st.users.contains_key(&id)) => {
            let id = parse_id(v, name)?;
            if !st.users.contains_key(&id) {
                return Err(bad(format!("unknown user {id}")));
            }
            resolved.users.insert(id.to_string(), st.user_json(id));
            if let Some(g) = guild {
                let mut member = st.member_json(g, id, false);
                if !member.is_null() {
                    member["permissions"] = json!(st.permissions(g, id).to_string());
                    resolved.members.insert(id.to_string(), member);
                }
            }
            json!(id.to_string())
        }
        (7, v) => {
            let id = parse_id(v, name)?;
            if !st.channels.contains_key(&id) {
                return Err(bad(format!("unknown channel {id}")));
            }
            resolved
                .channels
                .insert(id.to_string(), st.channel_json(id));
            json!(id.to_string())
        }
        (8 | 9, v) => {
            let id = parse_id(v, name)?;
            let role = guild
                .and_then(|g| st.guilds.get(&g))
                .and_then(|g| g.roles.iter().find(|r| r.id == id))
                .ok_or_else(|| bad(format!("unknown role {id}")))?;
            let roles = st.roles_json(guild.unwrap_or(0));
            let role_json = roles
                .as_array()
                .and_then(|a| a.iter().find(|r| id_of(&r["id"]) == role.id))
                .cloned()
                .unwrap_or(Value::Null);
            resolved.roles.insert(id.to_string(), role_json);
            json!(id.to_string())
        }
        (11, _) => return Err(bad("attachments are not supported by the emulator".into())),
        (_, other) => return Err(bad(format!("{other:?} does not fit option type {kind}"))),
    };
    if let Some(choices) = def["choices"].as_array().filter(|c| !c.is_empty()) {
        if !choices.iter().any(|c| c["value"] == value) {
            return Err(bad(format!("{value} is not one of the registered choices")));
        }
    }
    Ok(value)
}

fn build_options(
    st: &State,
    guild: Option<u64>,
    path: &str,
    defs: &[Value],
    given: &[CommandOption],
    resolved: &mut Resolved,
) -> Result<Vec<Value>, EmuError> {
    let subs: Vec<&Value> = defs
        .iter()
        .filter(|d| matches!(d["type"].as_u64(), Some(1 | 2)))
        .collect();
    if !subs.is_empty() {
        let names: Vec<&str> = subs.iter().filter_map(|d| d["name"].as_str()).collect();
        let [one] = given else {
            return Err(EmuError::Invalid(format!(
                "{path} needs exactly one subcommand of {names:?}"
            )));
        };
        let OptionValue::Sub(inner) = &one.value else {
            return Err(EmuError::Invalid(format!(
                "{path} {}: a subcommand takes sub(name, options)",
                one.name
            )));
        };
        let def = subs
            .iter()
            .find(|d| d["name"] == one.name.as_str())
            .ok_or_else(|| {
                EmuError::NotFound(format!(
                    "{path} has no subcommand {} (has {names:?})",
                    one.name
                ))
            })?;
        let inner_defs = def["options"].as_array().cloned().unwrap_or_default();
        let inner = build_options(
            st,
            guild,
            &format!("{path} {}", one.name),
            &inner_defs,
            inner,
            resolved,
        )?;
        // Discord always sends `options` on a subcommand or group, empty or
        // not (and serenity refuses a subcommand without it).
        let out = json!({"name": one.name, "type": def["type"], "options": inner});
        return Ok(vec![out]);
    }
    let mut out = Vec::new();
    for g in given {
        let def = defs
            .iter()
            .find(|d| d["name"] == g.name.as_str())
            .ok_or_else(|| EmuError::NotFound(format!("{path} has no option {}", g.name)))?;
        if out.iter().any(|o: &Value| o["name"] == g.name.as_str()) {
            return Err(EmuError::Invalid(format!(
                "{path}: option {} given twice",
                g.name
            )));
        }
        let value = convert(st, guild, def, &g.value, resolved)?;
        out.push(json!({"name": g.name, "type": def["type"], "value": value}));
    }
    for def in defs {
        if def["required"].as_bool() == Some(true) && !out.iter().any(|o| o["name"] == def["name"])
        {
            return Err(EmuError::Invalid(format!(
                "{path}: required option {} is missing",
                def["name"]
            )));
        }
    }
    Ok(out)
}

pub(crate) fn slash(
    st: &mut State,
    user: u64,
    channel: u64,
    name: &str,
    options: &[CommandOption],
) -> Result<(u64, String), EmuError> {
    let guild = guild_of(st, channel)?;
    let typed = name.trim_start_matches('/');
    // People type the name their client shows: the command's name in their
    // locale (`name_localizations`), or its own name. The interaction
    // carries its own names, whatever was typed
    // (https://discord.com/developers/docs/interactions/application-commands#localization).
    let locale = st
        .users
        .get(&user)
        .map(|u| u.locale.clone())
        .unwrap_or_default();
    let cmd = st
        .find_command(guild, typed, 1)
        .or_else(|| {
            let name = st.command_named_in(guild, typed, &locale)?;
            st.find_command(guild, &name, 1)
        })
        .ok_or_else(|| {
            EmuError::NotFound(format!(
                "slash command /{typed} is not registered where channel {channel} is"
            ))
        })?;
    let name = cmd["name"].as_str().unwrap_or(typed).to_owned();
    let name = name.as_str();
    let defs = cmd["options"].as_array().cloned().unwrap_or_default();
    let options = &own_names(&defs, options, &locale);
    let mut resolved = Resolved::default();
    let options = build_options(
        st,
        guild,
        &format!("/{name}"),
        &defs,
        options,
        &mut resolved,
    )?;
    let mut data = json!({"id": cmd["id"], "name": name, "type": 1});
    if !options.is_empty() {
        data["options"] = Value::Array(options);
    }
    if let Some(g) = cmd.get("guild_id") {
        data["guild_id"] = g.clone();
    }
    if let Some(r) = resolved.into_json() {
        data["resolved"] = r;
    }
    st.new_interaction(2, 1, user, channel, data, None, None)
}

/// `given` with each option and subcommand named as registered, where it
/// was typed by its name in `locale` (`name_localizations`).
fn own_names(defs: &[Value], given: &[CommandOption], locale: &str) -> Vec<CommandOption> {
    given
        .iter()
        .map(|o| {
            let def = defs
                .iter()
                .find(|d| d["name"] == o.name.as_str())
                .or_else(|| {
                    defs.iter()
                        .find(|d| d["name_localizations"][locale] == o.name.as_str())
                });
            let Some(def) = def else {
                return o.clone();
            };
            let value = match &o.value {
                OptionValue::Sub(inner) => {
                    let inner_defs = def["options"].as_array().cloned().unwrap_or_default();
                    OptionValue::Sub(own_names(&inner_defs, inner, locale))
                }
                other => other.clone(),
            };
            CommandOption {
                name: def["name"].as_str().unwrap_or(&o.name).to_owned(),
                value,
            }
        })
        .collect()
}

/// Parses `/task claim id:ACME-1 note:any text` with the registered definition.
pub(crate) fn parse_line(
    st: &State,
    channel: u64,
    line: &str,
) -> Result<(String, Vec<CommandOption>), EmuError> {
    let guild = guild_of(st, channel)?;
    let line = line.trim().trim_start_matches('/');
    let (name, mut rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let cmd = st.find_command(guild, name, 1).ok_or_else(|| {
        EmuError::NotFound(format!(
            "slash command /{name} is not registered where channel {channel} is"
        ))
    })?;
    let mut defs = cmd["options"].as_array().cloned().unwrap_or_default();
    let mut path = Vec::new();
    while defs
        .iter()
        .any(|d| matches!(d["type"].as_u64(), Some(1 | 2)))
    {
        rest = rest.trim_start();
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let def = defs
            .iter()
            .find(|d| d["name"] == word && matches!(d["type"].as_u64(), Some(1 | 2)))
            .cloned()
            .ok_or_else(|| {
                EmuError::NotFound(format!(
                    "/{name} {}: no subcommand {word:?}",
                    path.join(" ")
                ))
            })?;
        path.push(word.to_string());
        defs = def["options"].as_array().cloned().unwrap_or_default();
        rest = after;
    }
    let rest = rest.trim();
    let mut marks: Vec<(usize, &str)> = Vec::new();
    for def in &defs {
        let Some(opt) = def["name"].as_str() else {
            continue;
        };
        let key = format!("{opt}:");
        for (at, _) in rest.match_indices(&key) {
            let boundary = at == 0 || rest[..at].ends_with(char::is_whitespace);
            if boundary {
                marks.push((at, opt));
            }
        }
    }
    marks.sort();
    if marks.first().map_or(!rest.is_empty(), |(at, _)| *at > 0) {
        return Err(EmuError::Invalid(format!(
            "/{name}: cannot read {rest:?} as name:value options"
        )));
    }
    let mut options = Vec::new();
    for (i, (at, opt)) in marks.iter().enumerate() {
        let start = at + opt.len() + 1;
        let end = marks.get(i + 1).map_or(rest.len(), |(next, _)| *next);
        let mut value = rest[start..end].trim();
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = &value[1..value.len() - 1];
        }
        options.push(CommandOption {
            name: opt.to_string(),
            value: OptionValue::Str(value.to_string()),
        });
    }
    for sub in path.iter().rev() {
        options = vec![CommandOption {
            name: sub.clone(),
            value: OptionValue::Sub(options),
        }];
    }
    Ok((name.to_string(), options))
}

pub(crate) fn message_command(
    st: &mut State,
    user: u64,
    target: u64,
    name: &str,
) -> Result<(u64, String), EmuError> {
    let rec = st
        .message_rec(target)
        .filter(|m| m.flags() & FLAG_EPHEMERAL == 0)
        .ok_or_else(|| EmuError::NotFound(format!("message {target}")))?;
    let channel = rec.channel_id();
    let message = rec.json.clone();
    let guild = rec.guild_id;
    let cmd = st
        .find_command(guild, name, 3)
        .ok_or_else(|| EmuError::NotFound(format!("message command {name:?} is not registered")))?;
    let mut data = json!({
        "id": cmd["id"],
        "name": name,
        "type": 3,
        "target_id": s(target),
        // Context-menu targets always carry their content, whatever the intents.
        "resolved": {"messages": {target.to_string(): message}},
    });
    if let Some(g) = cmd.get("guild_id") {
        data["guild_id"] = g.clone();
    }
    st.new_interaction(2, 3, user, channel, data, None, None)
}

fn visible_message(st: &State, user: u64, message: u64) -> Result<(u64, Value), EmuError> {
    let rec = st
        .message_rec(message)
        .ok_or_else(|| EmuError::NotFound(format!("message {message}")))?;
    if rec.flags() & FLAG_EPHEMERAL != 0 {
        let owner = rec
            .interaction_id
            .and_then(|i| st.interactions.get(&i))
            .map(|i| i.user_id);
        if owner != Some(user) {
            return Err(EmuError::Invalid(format!(
                "message {message} is ephemeral: only its interaction's user sees it"
            )));
        }
    }
    Ok((rec.channel_id(), rec.json.clone()))
}

pub(crate) fn click(
    st: &mut State,
    user: u64,
    message: u64,
    label: &str,
) -> Result<(u64, String), EmuError> {
    let (channel, json) = visible_message(st, user, message)?;
    let components = json["components"].as_array().cloned().unwrap_or_default();
    let buttons = buttons_of(&components);
    let button = buttons
        .iter()
        .find(|b| b.label.as_deref() == Some(label))
        .ok_or_else(|| {
            let labels: Vec<_> = buttons.iter().filter_map(|b| b.label.clone()).collect();
            EmuError::NotFound(format!(
                "no button labelled {label:?} in message {message} (buttons: {labels:?})"
            ))
        })?;
    if button.disabled {
        return Err(EmuError::Invalid(format!("button {label:?} is disabled")));
    }
    let Some(custom_id) = button.custom_id.clone() else {
        return Err(EmuError::Invalid(format!(
            "button {label:?} is a link: clicking it sends no interaction"
        )));
    };
    let data = json!({"custom_id": custom_id, "component_type": 2});
    st.new_interaction(3, 0, user, channel, data, Some(message), None)
}

pub(crate) fn select(
    st: &mut State,
    user: u64,
    message: u64,
    custom_id: &str,
    values: &[&str],
) -> Result<(u64, String), EmuError> {
    let (channel, json) = visible_message(st, user, message)?;
    let menu = json["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["type"].as_u64() == Some(3) && c["custom_id"] == custom_id)
        .ok_or_else(|| {
            EmuError::NotFound(format!(
                "no string select {custom_id:?} in message {message}"
            ))
        })?;
    if menu["disabled"].as_bool() == Some(true) {
        return Err(EmuError::Invalid(format!(
            "select {custom_id:?} is disabled"
        )));
    }
    let allowed: Vec<&str> = menu["options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["value"].as_str())
        .collect();
    if let Some(v) = values.iter().find(|v| !allowed.contains(v)) {
        return Err(EmuError::Invalid(format!(
            "{v:?} is not an option of {custom_id:?}"
        )));
    }
    let min = menu["min_values"].as_u64().unwrap_or(1) as usize;
    let max = menu["max_values"].as_u64().unwrap_or(1) as usize;
    if values.len() < min || values.len() > max {
        return Err(EmuError::Invalid(format!(
            "{custom_id:?} takes {min} to {max} values, not {}",
            values.len()
        )));
    }
    let data = json!({"custom_id": custom_id, "component_type": 3, "values": values});
    st.new_interaction(3, 0, user, channel, data, Some(message), None)
}

pub(crate) fn submit_modal(
    st: &mut State,
    user: u64,
    opened_by: u64,
    values: &[(&str, &str)],
) -> Result<(u64, String), EmuError> {
    let parent = st
        .interactions
        .get(&opened_by)
        .ok_or_else(|| EmuError::NotFound(format!("interaction {opened_by}")))?;
    let Some(modal_json) = parent
        .modal
        .clone()
        .filter(|_| parent.callback.as_ref().is_some_and(|c| c.kind == 9))
    else {
        return Err(EmuError::Invalid(format!(
            "interaction {opened_by} was not answered with a modal"
        )));
    };
    if parent.user_id != user {
        return Err(EmuError::Invalid(format!(
            "the modal was opened for user {}, not {user}",
            parent.user_id
        )));
    }
    let (channel, source) = (parent.channel_id, parent.source_message);
    let modal = modal_view(&modal_json);
    for (key, _) in values {
        if !modal.fields.iter().any(|f| f.custom_id == *key) {
            return Err(EmuError::NotFound(format!(
                "modal {:?} has no field {key:?}",
                modal.custom_id
            )));
        }
    }
    let mut rows = Vec::new();
    for field in &modal.fields {
        let value = values
            .iter()
            .find(|(k, _)| *k == field.custom_id)
            .map_or("", |(_, v)| *v);
        let n = value.chars().count() as u64;
        if field.required && value.is_empty() {
            return Err(EmuError::Invalid(format!(
                "field {:?} is required",
                field.label
            )));
        }
        if !value.is_empty()
            && !st.oversized_input
            && (field.min_length.is_some_and(|m| n < m) || field.max_length.is_some_and(|m| n > m))
        {
            return Err(EmuError::Invalid(format!(
                "field {:?}: length {n} is outside its bounds",
                field.label
            )));
        }
        rows.push(json!({"type": 1, "components": [
            {"type": 4, "custom_id": field.custom_id, "value": value}
        ]}));
    }
    let data = json!({"custom_id": modal.custom_id, "components": rows});
    st.new_interaction(5, 0, user, channel, data, source, Some(opened_by))
}

// ------------------------------------------------------------- threads: edits and files

/// A user edits their own message (MESSAGE_UPDATE with the new content).
pub(crate) fn edit_own(
    st: &mut State,
    user: u64,
    message: u64,
    content: &str,
) -> Result<(), EmuError> {
    let rec = st
        .messages
        .get(&message)
        .ok_or_else(|| EmuError::NotFound(format!("message {message}")))?;
    if rec.author_id() != user {
        return Err(EmuError::Invalid(format!(
            "user {user} cannot edit message {message}: only its author can"
        )));
    }
    if content.is_empty() || content.chars().count() > 4000 {
        return Err(EmuError::Invalid(
            "a person's message has 1 to 4000 characters".into(),
        ));
    }
    st.edit_message(message, &json!({ "content": content }));
    Ok(())
}

/// A user posts a message with one file attached (Discord's CDN holds it;
/// the message carries its name, size and URL).
pub(crate) fn post_file(
    st: &mut State,
    user: u64,
    channel: u64,
    content: &str,
    file_name: &str,
    size: u64,
) -> Result<u64, EmuError> {
    st.check_user_in_channel(user, channel)?;
    if file_name.is_empty() || size == 0 {
        return Err(EmuError::Invalid("a file has a name and some bytes".into()));
    }
    // 25 MiB: what a member of a server without boosts may upload.
    if size > 25 * 1024 * 1024 {
        return Err(EmuError::Invalid(format!(
            "a file is at most 25 MiB, not {size} bytes"
        )));
    }
    let attachment_id = st.next_id();
    let url =
        format!("https://cdn.discordapp.com/attachments/{channel}/{attachment_id}/{file_name}");
    let mut extra = Map::new();
    extra.insert(
        "attachments".into(),
        json!([{
            "id": attachment_id.to_string(),
            "filename": file_name,
            "size": size,
            "url": url,
            "proxy_url": url,
        }]),
    );
    Ok(st.create_message(
        channel,
        user,
        &json!({ "content": content }),
        0,
        0,
        extra,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::world::{GuildSpec, World};
    use crate::emulator::{opt, sub};

    const GUILD: u64 = 10;
    const CHANNEL: u64 = 11;

    fn state() -> State {
        let world = World::new().user(5, "ann", "it").guild(
            GuildSpec::new(GUILD, "g")
                .text_channel(CHANNEL, "c")
                .member(5, &[]),
        );
        let mut st = State::new(world, "ws://x".into()).unwrap();
        let task = json!({"name": "task", "description": "d", "options": [
            {"type": 1, "name": "claim", "description": "d", "options": [
                {"type": 3, "name": "id", "description": "d", "required": true},
                {"type": 3, "name": "note", "description": "d"},
                {"type": 4, "name": "hours", "description": "d"},
            ]},
            {"type": 1, "name": "list", "description": "d"},
        ]});
        st.overwrite_commands(Some(GUILD), &[task]);
        st
    }

    #[test]
    fn a_command_line_is_read_with_the_registered_definition() {
        let st = state();
        let (name, options) =
            parse_line(&st, CHANNEL, "/task claim id:ACME-1 note:\"a b\" hours:3").unwrap();
        assert_eq!(name, "task");
        let [
            CommandOption {
                name,
                value: OptionValue::Sub(inner),
            },
        ] = options.as_slice()
        else {
            panic!("{options:?}");
        };
        assert_eq!(name, "claim");
        let values: Vec<_> = inner
            .iter()
            .map(|o| (o.name.as_str(), o.value.clone()))
            .collect();
        assert_eq!(
            values,
            vec![
                ("id", OptionValue::Str("ACME-1".into())),
                ("note", OptionValue::Str("a b".into())),
                ("hours", OptionValue::Str("3".into())),
            ]
        );
        let (_, options) = parse_line(&st, CHANNEL, "/task list").unwrap();
        assert_eq!(options[0].value, OptionValue::Sub(vec![]));
        assert!(parse_line(&st, CHANNEL, "/task close id:1").is_err());
        assert!(parse_line(&st, CHANNEL, "/nope").is_err());
        assert!(parse_line(&st, CHANNEL, "/task claim stray id:1").is_err());
    }

    #[test]
    fn options_are_typed_and_checked_like_a_client_would() {
        let st = state();
        let defs = st.guild_commands[&GUILD][0]["options"]
            .as_array()
            .unwrap()
            .clone();
        let build = |given: Vec<CommandOption>| {
            build_options(
                &st,
                Some(GUILD),
                "/task",
                &defs,
                &given,
                &mut Resolved::default(),
            )
        };
        let ok = build(vec![sub(
            "claim",
            vec![opt("id", "A-1"), opt("hours", "4")],
        )])
        .unwrap();
        assert_eq!(ok[0]["options"][1]["value"], json!(4));
        assert!(build(vec![sub("claim", vec![opt("hours", "x")])]).is_err());
        assert!(
            build(vec![sub("claim", vec![opt("note", "n")])]).is_err(),
            "id is required"
        );
        assert!(
            build(vec![opt("id", "A-1")]).is_err(),
            "a subcommand is needed"
        );
        assert!(build(vec![]).is_err());
    }
}
