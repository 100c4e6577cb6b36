//! Checking requests the way Discord would: the official OpenAPI spec, the limits of
//! the developer documentation, and Ponte's own rule that every message-creating
//! request carries an explicit `allowed_mentions`.
//!
//! Lengths are counted in Unicode code points (`str::chars`), which is how Discord
//! counts them for all text a bot can send (it does not count UTF-16 units).

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

/// One reason a request body was refused: where, Discord's error code, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: Vec<String>,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(path: &[&str], code: &'static str, message: impl Into<String>) -> Self {
        Self {
            path: path.iter().map(|s| s.to_string()).collect(),
            code,
            message: message.into(),
        }
    }

    fn at(base: &[String], rest: &[&str], code: &'static str, message: impl Into<String>) -> Self {
        let mut path = base.to_vec();
        path.extend(rest.iter().map(|s| s.to_string()));
        Self {
            path,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        if self.path.is_empty() {
            format!("{} ({})", self.message, self.code)
        } else {
            format!("{}: {} ({})", self.path.join("."), self.message, self.code)
        }
    }
}

/// Discord's "Invalid Form Body" error: `errors` nests the path, `_errors` lists them.
pub(crate) fn invalid_form_body(problems: &[Problem]) -> Value {
    let mut errors = Map::new();
    for problem in problems {
        let mut node = &mut errors;
        for segment in &problem.path {
            node = node
                .entry(segment.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("error tree nodes are objects");
        }
        let list = node
            .entry("_errors".to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(json!({"code": problem.code, "message": problem.message}));
        }
    }
    json!({"message": "Invalid Form Body", "code": 50035, "errors": errors})
}

fn chars(value: Option<&Value>) -> usize {
    value
        .and_then(Value::as_str)
        .map_or(0, |s| s.chars().count())
}

fn too_long(base: &[String], rest: &[&str], max: usize) -> Problem {
    Problem::at(
        base,
        rest,
        "BASE_TYPE_MAX_LENGTH",
        format!("Must be {max} or fewer in length."),
    )
}

fn bad_length(base: &[String], rest: &[&str], min: usize, max: usize) -> Problem {
    Problem::at(
        base,
        rest,
        "BASE_TYPE_BAD_LENGTH",
        format!("Must be between {min} and {max} in length."),
    )
}

/// Checks a message payload (a create or edit body, or the `data` of an interaction
/// response). `base` is where the payload sits in the request body.
pub(crate) fn check_message(
    payload: &Value,
    base: &[&str],
    creates_message: bool,
    problems: &mut Vec<Problem>,
) {
    let base: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    let Some(obj) = payload.as_object() else {
        return;
    };
    if chars(obj.get("content")) > 2000 {
        problems.push(too_long(&base, &["content"], 2000));
    }
    if let Some(embeds) = obj.get("embeds").and_then(Value::as_array) {
        if embeds.len() > 10 {
            problems.push(too_long(&base, &["embeds"], 10));
        }
        let mut total = 0;
        for (i, embed) in embeds.iter().enumerate() {
            let i = i.to_string();
            let title = chars(embed.get("title"));
            let description = chars(embed.get("description"));
            let footer = chars(embed.get("footer").and_then(|f| f.get("text")));
            let author = chars(embed.get("author").and_then(|a| a.get("name")));
            if title > 256 {
                problems.push(too_long(&base, &["embeds", &i, "title"], 256));
            }
            if description > 4096 {
                problems.push(too_long(&base, &["embeds", &i, "description"], 4096));
            }
            if footer > 2048 {
                problems.push(too_long(&base, &["embeds", &i, "footer", "text"], 2048));
            }
            if author > 256 {
                problems.push(too_long(&base, &["embeds", &i, "author", "name"], 256));
            }
            total += title + description + footer + author;
            if let Some(fields) = embed.get("fields").and_then(Value::as_array) {
                if fields.len() > 25 {
                    problems.push(too_long(&base, &["embeds", &i, "fields"], 25));
                }
                for (j, field) in fields.iter().enumerate() {
                    let j = j.to_string();
                    let name = chars(field.get("name"));
                    let value = chars(field.get("value"));
                    if name > 256 {
                        problems.push(too_long(&base, &["embeds", &i, "fields", &j, "name"], 256));
                    }
                    if value > 1024 {
                        problems.push(too_long(
                            &base,
                            &["embeds", &i, "fields", &j, "value"],
                            1024,
                        ));
                    }
                    total += name + value;
                }
            }
        }
        if total > 6000 {
            problems.push(Problem::at(
                &base,
                &["embeds"],
                "MAX_EMBED_SIZE_EXCEEDED",
                format!("Embed size exceeds maximum size of 6000 ({total})"),
            ));
        }
    }
    let components_v2 = obj
        .get("flags")
        .and_then(Value::as_u64)
        .is_some_and(|f| f & (1 << 15) != 0);
    if let Some(rows) = obj.get("components").and_then(Value::as_array) {
        if !components_v2 {
            check_action_rows(rows, &base, problems);
        }
    }
    if creates_message && obj.get("allowed_mentions").is_none_or(Value::is_null) {
        problems.push(Problem::at(
            &base,
            &["allowed_mentions"],
            "PONTE_ALLOWED_MENTIONS_REQUIRED",
            "Every message-creating request must send allowed_mentions explicitly \
             (Ponte's rule: omitted, Discord pings every mention in the text).",
        ));
    }
}

fn check_action_rows(rows: &[Value], base: &[String], problems: &mut Vec<Problem>) {
    if rows.len() > 5 {
        problems.push(too_long(base, &["components"], 5));
    }
    for (i, row) in rows.iter().enumerate() {
        let i = i.to_string();
        if row.get("type").and_then(Value::as_u64) != Some(1) {
            problems.push(Problem::at(
                base,
                &["components", &i, "type"],
                "COMPONENT_LAYOUT_INVALID",
                "Top-level components must be action rows (type 1) without the \
                 IS_COMPONENTS_V2 flag.",
            ));
            continue;
        }
        let children = row
            .get("components")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if children.is_empty() {
            problems.push(bad_length(base, &["components", &i, "components"], 1, 5));
        }
        if children.len() > 5 {
            problems.push(too_long(base, &["components", &i, "components"], 5));
        }
        let selects = children
            .iter()
            .filter(|c| matches!(c.get("type").and_then(Value::as_u64), Some(3 | 5..=8)))
            .count();
        if selects > 0 && children.len() > 1 {
            problems.push(Problem::at(
                base,
                &["components", &i, "components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "A select menu must be alone in its action row.",
            ));
        }
        for (j, child) in children.iter().enumerate() {
            let j = j.to_string();
            let at = ["components", &i, "components", &j];
            check_custom_id(child, base, &at, problems);
            if child.get("type").and_then(Value::as_u64) == Some(2) {
                let style = child.get("style").and_then(Value::as_u64).unwrap_or(0);
                let has_custom_id = child.get("custom_id").is_some_and(|c| !c.is_null());
                let has_url = child.get("url").is_some_and(|c| !c.is_null());
                if style == 5 && (!has_url || has_custom_id) {
                    problems.push(Problem::at(
                        base,
                        &at,
                        "BUTTON_COMPONENT_URL_REQUIRED",
                        "A link button needs a url and no custom_id.",
                    ));
                }
                if (1..=4).contains(&style) && !has_custom_id {
                    problems.push(Problem::at(
                        base,
                        &at,
                        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                        "A non-link button needs a custom_id.",
                    ));
                }
                if chars(child.get("label")) > 80 {
                    let mut at_label = at.to_vec();
                    at_label.push("label");
                    problems.push(too_long(base, &at_label, 80));
                }
            }
        }
    }
}

fn check_custom_id(component: &Value, base: &[String], at: &[&str], problems: &mut Vec<Problem>) {
    if let Some(custom_id) = component.get("custom_id").and_then(Value::as_str) {
        let n = custom_id.chars().count();
        if !(1..=100).contains(&n) {
            let mut at = at.to_vec();
            at.push("custom_id");
            problems.push(bad_length(base, &at, 1, 100));
        }
    }
}

/// Checks the `data` of a modal response (callback type 9).
pub(crate) fn check_modal(data: &Value, problems: &mut Vec<Problem>) {
    let base = vec!["data".to_string()];
    let title = chars(data.get("title"));
    if !(1..=45).contains(&title) {
        problems.push(bad_length(&base, &["title"], 1, 45));
    }
    let custom_id = chars(data.get("custom_id"));
    if !(1..=100).contains(&custom_id) {
        problems.push(bad_length(&base, &["custom_id"], 1, 100));
    }
    let rows = data
        .get("components")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !(1..=5).contains(&rows.len()) {
        problems.push(bad_length(&base, &["components"], 1, 5));
    }
    for (i, row) in rows.iter().enumerate() {
        let i = i.to_string();
        let children = row
            .get("components")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if children.len() != 1 {
            problems.push(bad_length(&base, &["components", &i, "components"], 1, 1));
        }
        for (j, child) in children.iter().enumerate() {
            let j = j.to_string();
            let at = ["components", &i, "components", &j];
            check_custom_id(child, &base, &at, problems);
            if child.get("type").and_then(Value::as_u64) == Some(4) {
                let label = chars(child.get("label"));
                if !(1..=45).contains(&label) {
                    let mut at = at.to_vec();
                    at.push("label");
                    problems.push(bad_length(&base, &at, 1, 45));
                }
            }
        }
    }
}

/// Checks a thread name (1-100 characters).
pub(crate) fn check_thread_name(body: &Value, problems: &mut Vec<Problem>) {
    let n = chars(body.get("name"));
    if !(1..=100).contains(&n) {
        problems.push(bad_length(&[], &["name"], 1, 100));
    }
}

/// Discord's OpenAPI description, with request-body validators compiled on first use.
pub(crate) struct Spec {
    path: PathBuf,
    paths: Value,
    schemas: Value,
    validators: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

static SPEC: OnceLock<Result<Option<Arc<Spec>>, String>> = OnceLock::new();

/// Where the spec is read from: `$PONTE_DISCORD_SPEC`, else
/// `../shared/discord/openapi.json` next to the crate.
pub fn spec_path() -> PathBuf {
    match std::env::var_os("PONTE_DISCORD_SPEC") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/discord/openapi.json"
        )),
    }
}

/// The spec, loaded once per process. A missing file skips the check (logged once)
/// unless `CI=true`, where it is an error; an unreadable or invalid file is an error.
pub(crate) fn spec() -> io::Result<Option<Arc<Spec>>> {
    SPEC.get_or_init(load_spec)
        .clone()
        .map_err(io::Error::other)
}

fn load_spec() -> Result<Option<Arc<Spec>>, String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let spec = load_spec_from(spec_path(), ci)?;
    if spec.is_none() {
        tracing::warn!(
            path = %spec_path().display(),
            "emulator: Discord's OpenAPI spec not found; request bodies are checked \
             against the documented limits only (set PONTE_DISCORD_SPEC)"
        );
    }
    Ok(spec)
}

fn load_spec_from(path: PathBuf, ci: bool) -> Result<Option<Arc<Spec>>, String> {
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            if ci {
                return Err(format!(
                    "Discord's OpenAPI spec is missing at {} (set PONTE_DISCORD_SPEC); \
                     with CI=true the emulator refuses to run without it",
                    path.display()
                ));
            }
            return Ok(None);
        }
        Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
    };
    let mut doc: Value = serde_json::from_str(&text)
        .map_err(|err| format!("{} is not JSON: {err}", path.display()))?;
    let paths = doc.get_mut("paths").map(Value::take);
    let schemas = doc
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .map(Value::take);
    match (paths, schemas) {
        (Some(paths), Some(schemas)) if paths.is_object() && schemas.is_object() => {
            Ok(Some(Arc::new(Spec {
                path,
                paths,
                schemas,
                validators: Mutex::new(HashMap::new()),
            })))
        }
        _ => Err(format!(
            "{} has no paths or components.schemas: not an OpenAPI document",
            path.display()
        )),
    }
}

impl Spec {
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Whether the spec describes this operation at all.
    #[cfg(test)]
    pub(crate) fn has_operation(&self, method: &str, template: &str) -> bool {
        self.paths
            .get(template)
            .and_then(|p| p.get(method.to_ascii_lowercase()))
            .is_some()
    }

    /// The cached validator, if it was compiled already: `Some(None)` means the
    /// operation takes no JSON body.
    pub(crate) fn cached(&self, method: &str, template: &str) -> Option<Option<Arc<Validator>>> {
        let key = format!("{method} {template}");
        self.validators
            .lock()
            .expect("validator cache")
            .get(&key)
            .cloned()
    }

    /// The validator of the JSON request body of an operation (compiled on first use;
    /// this can take tens of milliseconds, so call it off the async workers).
    pub(crate) fn validator(&self, method: &str, template: &str) -> Option<Arc<Validator>> {
        let key = format!("{method} {template}");
        if let Some(found) = self.validators.lock().expect("validator cache").get(&key) {
            return found.clone();
        }
        let built = self.build(method, template);
        self.validators
            .lock()
            .expect("validator cache")
            .insert(key, built.clone());
        built
    }

    fn build(&self, method: &str, template: &str) -> Option<Arc<Validator>> {
        let schema = self
            .paths
            .get(template)?
            .get(method.to_ascii_lowercase())?
            .get("requestBody")?
            .get("content")?
            .get("application/json")?
            .get("schema")?;
        // The operation's schema refers to `#/components/schemas/...`: give the
        // validator a root document with the schemas it reaches (not all 500 of
        // them, which would make every compilation scan the whole spec), with the
        // body schema under $defs.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": {"schemas": self.reachable(schema)},
            "$defs": {"body": schema},
            "$ref": "#/$defs/body",
        });
        match jsonschema::options()
            .with_draft(Draft::Draft202012)
            .build(&root)
        {
            Ok(validator) => Some(Arc::new(validator)),
            Err(err) => {
                tracing::error!(%err, method, template, "emulator: cannot compile the spec's schema");
                None
            }
        }
    }
}

impl Spec {
    /// The component schemas `schema` refers to, directly or not.
    fn reachable(&self, schema: &Value) -> Map<String, Value> {
        fn refs(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (key, v) in map {
                        match (key.as_str(), v) {
                            ("$ref", Value::String(r)) => {
                                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                                    out.push(name.to_string());
                                }
                            }
                            _ => refs(v, out),
                        }
                    }
                }
                Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut found = Map::new();
        let mut todo = Vec::new();
        refs(schema, &mut todo);
        while let Some(name) = todo.pop() {
            if found.contains_key(&name) {
                continue;
            }
            if let Some(component) = self.schemas.get(&name) {
                refs(component, &mut todo);
                found.insert(name, component.clone());
            }
        }
        found
    }
}

/// Validates a body; each error becomes a problem at its instance path.
pub(crate) fn validate(validator: &Validator, body: &Value, problems: &mut Vec<Problem>) {
    for error in validator.iter_errors(body) {
        let path: Vec<String> = error
            .instance_path()
            .as_str()
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        problems.push(Problem {
            path,
            code: "SPEC_INVALID",
            message: format!("Discord's OpenAPI spec: {error}"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(payload: Value, creates: bool) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_message(&payload, &[], creates, &mut problems);
        problems
    }

    #[test]
    fn content_is_counted_in_code_points() {
        let ok = "é".repeat(2000);
        assert!(problems(json!({"content": ok, "allowed_mentions": {}}), true).is_empty());
        let too_long = "😀".repeat(2001);
        let found = problems(json!({"content": too_long, "allowed_mentions": {}}), true);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, vec!["content"]);
    }

    #[test]
    fn missing_allowed_mentions_only_matters_when_creating() {
        assert_eq!(problems(json!({"content": "hi"}), true).len(), 1);
        assert!(problems(json!({"content": "hi"}), false).is_empty());
        assert_eq!(
            problems(json!({"content": "hi", "allowed_mentions": null}), true).len(),
            1
        );
    }

    #[test]
    fn embed_limits() {
        let field = json!({"name": "n", "value": "v".repeat(1025)});
        let embed = json!({"title": "t".repeat(257), "description": "d".repeat(4097),
            "fields": vec![field; 26]});
        let found = problems(
            json!({"embeds": vec![embed; 11], "allowed_mentions": {}}),
            true,
        );
        let codes: Vec<_> = found.iter().map(|p| p.path.join(".")).collect();
        assert!(codes.contains(&"embeds".to_string()));
        assert!(codes.contains(&"embeds.0.title".to_string()));
        assert!(codes.contains(&"embeds.0.description".to_string()));
        assert!(codes.contains(&"embeds.0.fields".to_string()));
        assert!(codes.contains(&"embeds.10.fields.25.value".to_string()));
        assert!(found.iter().any(|p| p.code == "MAX_EMBED_SIZE_EXCEEDED"));
    }

    #[test]
    fn six_thousand_characters_across_embeds() {
        let embed = json!({"description": "d".repeat(3001)});
        let found = problems(
            json!({"embeds": [embed, embed], "allowed_mentions": {}}),
            true,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "MAX_EMBED_SIZE_EXCEEDED");
    }

    #[test]
    fn component_limits() {
        let button = |id: &str| json!({"type": 2, "style": 1, "label": "b", "custom_id": id});
        let row = json!({"type": 1, "components": vec![button("a"); 6]});
        let found = problems(
            json!({"components": vec![row; 6], "allowed_mentions": {}}),
            true,
        );
        assert!(found.iter().any(|p| p.path == vec!["components"]));
        assert!(
            found
                .iter()
                .any(|p| p.path == vec!["components", "0", "components"])
        );
        let long = "x".repeat(101);
        let found = problems(
            json!({"components": [{"type": 1, "components": [button(&long)]}]}),
            false,
        );
        assert_eq!(found[0].path.last().map(String::as_str), Some("custom_id"));
        let found = problems(
            json!({"components": [{"type": 1, "components": [button("")]}]}),
            false,
        );
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn error_body_nests_paths_like_discord() {
        let body = invalid_form_body(&[
            Problem::new(
                &["content"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 2000 or fewer in length.",
            ),
            Problem::new(&["embeds", "0", "title"], "X", "y"),
        ]);
        assert_eq!(body["code"], 50035);
        assert_eq!(
            body["errors"]["content"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        assert_eq!(
            body["errors"]["embeds"]["0"]["title"]["_errors"][0]["message"],
            "y"
        );
    }

    #[test]
    fn a_missing_spec_is_skipped_except_in_ci() {
        let missing = PathBuf::from("/nonexistent/openapi.json");
        assert!(load_spec_from(missing.clone(), false).unwrap().is_none());
        let err = load_spec_from(missing, true).err().unwrap();
        assert!(err.contains("CI=true"), "{err}");
        let dir = std::env::temp_dir().join(format!("ponte-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("openapi.json");
        std::fs::write(&bad, "{\"openapi\": \"3.1.0\"}").unwrap();
        assert!(
            load_spec_from(bad, false).is_err(),
            "not an OpenAPI document"
        );
    }

    #[test]
    fn the_spec_checks_request_bodies() {
        let Ok(Some(spec)) = spec() else {
            eprintln!("spec not available: skipped");
            return;
        };
        let validator = spec
            .validator("POST", "/channels/{channel_id}/messages")
            .expect("message creation has a JSON body");
        let mut problems = Vec::new();
        validate(
            &validator,
            &json!({"content": "hi", "allowed_mentions": {"parse": ["users"]}}),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        validate(
            &validator,
            &json!({"content": 5, "allowed_mentions": {"parse": ["nobody"]}}),
            &mut problems,
        );
        let paths: Vec<String> = problems.iter().map(|p| p.path.join(".")).collect();
        assert!(paths.contains(&"content".to_string()), "{paths:?}");
        assert!(
            paths.iter().any(|p| p.starts_with("allowed_mentions")),
            "{paths:?}"
        );
        assert!(spec.validator("GET", "/users/@me").is_none(), "no body");
    }

    #[test]
    fn modal_and_thread_limits() {
        let mut found = Vec::new();
        check_modal(
            &json!({"custom_id": "m", "title": "t".repeat(46), "components": []}),
            &mut found,
        );
        assert_eq!(found.len(), 2);
        let mut found = Vec::new();
        check_thread_name(&json!({"name": ""}), &mut found);
        check_thread_name(&json!({"name": "n".repeat(101)}), &mut found);
        check_thread_name(&json!({"name": "ok"}), &mut found);
        assert_eq!(found.len(), 2);
    }
}

// ---- Application commands: Discord's documented rules beyond the schema ----
// https://discord.com/developers/docs/interactions/application-commands#application-command-object

/// The locales Discord accepts as keys of `name_localizations` and
/// `description_localizations`
/// (https://discord.com/developers/docs/reference#locales).
pub(crate) const LOCALES: [&str; 32] = [
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// What Discord documents as a string where the OpenAPI spec says integer:
/// `default_member_permissions` is "?string", a permission bit set. For the
/// schema check only, a string of digits is read as its number.
pub(crate) fn schema_view(template: &str, body: &Value) -> Option<Value> {
    if !template.starts_with("/applications/") {
        return None;
    }
    let fix = |c: &mut Value| {
        if let Some(p) = c.get("default_member_permissions").and_then(Value::as_str) {
            if let Ok(n) = p.parse::<u64>() {
                c["default_member_permissions"] = json!(n);
            }
        }
    };
    let mut view = body.clone();
    match &mut view {
        Value::Array(list) => list.iter_mut().for_each(fix),
        Value::Object(_) => fix(&mut view),
        _ => return None,
    }
    (view != *body).then_some(view)
}

/// A CHAT_INPUT command's or an option's name: 1 to 32 letters, digits, `-`,
/// `_` or `'`, in lower case where the letter has one.
fn slash_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '\''))
        && !name.chars().any(char::is_uppercase)
}

fn check_localizations(
    value: &Value,
    field: &str,
    base: &[String],
    slash_name: bool,
    problems: &mut Vec<Problem>,
) {
    let Some(map) = value.get(field).and_then(Value::as_object) else {
        return;
    };
    for (locale, text) in map {
        if !LOCALES.contains(&locale.as_str()) {
            problems.push(Problem::at(
                base,
                &[field, locale],
                "LOCALE_INVALID",
                format!("Invalid locale `{locale}` (Discord knows en-US and en-GB, not en)"),
            ));
        }
        if slash_name && !text.as_str().is_some_and(slash_name_ok) {
            problems.push(Problem::at(
                base,
                &[field, locale],
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            ));
        }
    }
}

fn check_options(options: &[Value], base: &[String], problems: &mut Vec<Problem>) {
    if options.len() > 25 {
        problems.push(Problem::at(
            base,
            &[],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        ));
    }
    let mut optional_seen = false;
    for (i, option) in options.iter().enumerate() {
        let mut at = base.to_vec();
        at.push(i.to_string());
        let kind = option["type"].as_u64().unwrap_or(0);
        let name = option["name"].as_str().unwrap_or("");
        if !slash_name_ok(name) {
            problems.push(Problem::at(
                &at,
                &["name"],
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            ));
        }
        let description = chars(option.get("description"));
        if !(1..=100).contains(&description) {
            problems.push(bad_length(&at, &["description"], 1, 100));
        }
        check_localizations(option, "name_localizations", &at, true, problems);
        check_localizations(option, "description_localizations", &at, false, problems);
        if matches!(kind, 1 | 2) {
            let inner = option["options"].as_array().map_or(&[][..], Vec::as_slice);
            let mut inner_at = at.clone();
            inner_at.push("options".into());
            check_options(inner, &inner_at, problems);
            continue;
        }
        let required = option["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            problems.push(Problem::at(
                &at,
                &["required"],
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        optional_seen |= !required;
        if option["choices"].as_array().is_some_and(|c| c.len() > 25) {
            problems.push(Problem::at(
                &at,
                &["choices"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            ));
        }
    }
}

/// Checks a list of commands (a bulk overwrite, or the list after one is
/// created) against Discord's documented rules: names, descriptions,
/// locales, option order, and at most 100 slash commands and 5 user and 5
/// message commands.
pub(crate) fn check_commands(list: &[Value], problems: &mut Vec<Problem>) {
    let count = |kind: u64| {
        list.iter()
            .filter(|c| c["type"].as_u64().unwrap_or(1) == kind)
            .count()
    };
    for (kind, max, what) in [(1, 100, "slash"), (2, 5, "user"), (3, 5, "message")] {
        if count(kind) > max {
            problems.push(Problem::new(
                &[],
                "APPLICATION_COMMANDS_TOO_MANY",
                format!("Maximum number of {what} commands reached ({max})"),
            ));
        }
    }
    for (i, command) in list.iter().enumerate() {
        let at = vec![i.to_string()];
        let kind = command["type"].as_u64().unwrap_or(1);
        let name = command["name"].as_str().unwrap_or("");
        let description = chars(command.get("description"));
        if kind == 1 {
            if !slash_name_ok(name) {
                problems.push(Problem::at(
                    &at,
                    &["name"],
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ));
            }
            if !(1..=100).contains(&description) {
                problems.push(bad_length(&at, &["description"], 1, 100));
            }
            let options = command["options"].as_array().map_or(&[][..], Vec::as_slice);
            let mut options_at = at.clone();
            options_at.push("options".into());
            check_options(options, &options_at, problems);
        } else if description > 0 {
            problems.push(Problem::at(
                &at,
                &["description"],
                "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                "User and message commands cannot have a description",
            ));
        }
        check_localizations(command, "name_localizations", &at, kind == 1, problems);
        check_localizations(command, "description_localizations", &at, false, problems);
    }
}

#[cfg(test)]
mod command_rules {
    use super::*;

    fn problems(list: Value) -> Vec<String> {
        let mut p = Vec::new();
        check_commands(list.as_array().unwrap(), &mut p);
        p.iter().map(Problem::describe).collect()
    }

    fn slash(name: &str) -> Value {
        json!({"type": 1, "name": name, "description": "d"})
    }

    #[test]
    fn what_discord_documents_as_invalid_is_refused() {
        assert!(problems(json!([slash("request")])).is_empty());
        assert!(
            !problems(json!([slash("Request")])).is_empty(),
            "upper case"
        );
        assert!(
            !problems(json!([slash("my request")])).is_empty(),
            "a space"
        );
        assert!(
            !problems(json!([{"type": 1, "name": "x"}])).is_empty(),
            "no description"
        );
        let en = json!([{"type": 1, "name": "x", "description": "d", "name_localizations": {"en": "x"}}]);
        assert!(problems(en)[0].contains("LOCALE_INVALID"));
        let order = json!([{"type": 1, "name": "x", "description": "d", "options": [
            {"type": 3, "name": "a", "description": "d"},
            {"type": 3, "name": "b", "description": "d", "required": true}
        ]}]);
        assert!(problems(order)[0].contains("REQUIRED_INVALID"));
        let many: Vec<Value> = (0..101).map(|i| slash(&format!("c{i}"))).collect();
        assert!(problems(Value::Array(many))[0].contains("TOO_MANY"));
        // A message command's name may have capitals and spaces.
        assert!(problems(json!([{"type": 3, "name": "Track as task"}])).is_empty());
    }

    #[test]
    fn default_member_permissions_may_be_a_string() {
        let body = json!([{"type": 1, "name": "x", "description": "d", "default_member_permissions": "8"}]);
        let view = schema_view("/applications/{application_id}/commands", &body).unwrap();
        assert_eq!(view[0]["default_member_permissions"], 8);
    }
}
