//! File uploads: `multipart/form-data` bodies as Discord takes them for a
//! new message (`payload_json` plus `files[n]` parts, each referred to by
//! an entry of the payload's `attachments` with `id: n`). The form is
//! parsed here, checked against Discord's rules (at most 10 files, each
//! within the attachment size limit, a name, a content type that matches
//! what the bytes are for PNG images, every file referred to and every
//! new attachment uploaded), and the files are kept so tests can read them.
//!
//! The size limit is 10 MiB a file. The bytes are kept (`Emulator::attachment_bytes`),
//! and scenario scripts check them with `expect PLACE has image "name.png"`.

use serde_json::{Value, json};

use super::check::Problem;

/// What a file may weigh: the guild's `attachment_size_limit` (10 MiB).
pub(crate) const SIZE_LIMIT: usize = 10 * 1024 * 1024;

/// How many files one message may carry.
pub(crate) const MAX_FILES: usize = 10;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// One uploaded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Upload {
    /// `n` of the `files[n]` part.
    pub(crate) index: u64,
    pub(crate) filename: String,
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// A parsed form: the JSON payload and the files.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pub(crate) payload: Option<Value>,
    pub(crate) files: Vec<Upload>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The value of `key` in a header's `; key="value"` parameters.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Parses a `multipart/form-data` body; `Err` says why it is not one.
pub(crate) fn parse(content_type: &str, body: &[u8]) -> Result<Form, String> {
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(format!("`{content_type}` is not multipart/form-data"));
    }
    let boundary = param(content_type, "boundary")
        .filter(|b| !b.is_empty())
        .ok_or("multipart/form-data without a boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut at =
        find(body, &delimiter, 0).ok_or("no part in the multipart body")? + delimiter.len();
    let mut form = Form::default();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err("a multipart boundary not followed by CRLF".into());
        }
        at += 2;
        let head_end =
            find(body, b"\r\n\r\n", at).ok_or("a part without the end of its headers")?;
        let head = std::str::from_utf8(&body[at..head_end])
            .map_err(|_| "part headers are not UTF-8".to_owned())?;
        let data_start = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let data_end =
            find(body, &closing, data_start).ok_or("a part without its closing boundary")?;
        let data = &body[data_start..data_end];
        at = data_end + closing.len();

        let mut disposition = None;
        let mut part_type = None;
        for line in head.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!("a malformed part header `{line}`"));
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => disposition = Some(value.trim().to_owned()),
                "content-type" => part_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let disposition = disposition.ok_or("a part without Content-Disposition")?;
        if !disposition.to_ascii_lowercase().starts_with("form-data") {
            return Err(format!(
                "a part's disposition is `{disposition}`, not form-data"
            ));
        }
        let name = param(&disposition, "name").ok_or("a part without a name")?;
        if name == "payload_json" {
            let payload = serde_json::from_slice(data)
                .map_err(|e| format!("payload_json is not JSON: {e}"))?;
            form.payload = Some(payload);
        } else if let Some(index) = name
            .strip_prefix("files[")
            .and_then(|rest| rest.strip_suffix(']'))
        {
            let index = index
                .parse()
                .map_err(|_| format!("`{name}`: the file's index is not a number"))?;
            form.files.push(Upload {
                index,
                filename: param(&disposition, "filename").unwrap_or_default(),
                content_type: part_type.unwrap_or_default(),
                bytes: data.to_vec(),
            });
        } else {
            return Err(format!("an unexpected form field `{name}`"));
        }
    }
}

fn problem(path: &[&str], code: &'static str, message: String) -> Problem {
    Problem {
        path: path.iter().map(|s| s.to_string()).collect(),
        code,
        message,
    }
}

/// A placeholder attachment id, as Discord's documentation writes it (`0`)
/// or as a snowflake string.
fn placeholder(id: &Value) -> Option<u64> {
    match id {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The payload with the placeholder ids of its new attachments written as
/// strings, the spec's snowflake type (Discord takes both; serenity sends
/// numbers), so the spec check sees the rest.
pub(crate) fn normalize(mut payload: Value) -> Value {
    if let Some(list) = payload.get_mut("attachments").and_then(Value::as_array_mut) {
        for a in list {
            if let Some(id) = a.get_mut("id") {
                if let Some(n) = id.as_u64() {
                    *id = Value::String(n.to_string());
                }
            }
        }
    }
    payload
}

/// Checks the files of a new message against its payload.
pub(crate) fn check(payload: &Value, files: &[Upload], problems: &mut Vec<Problem>) {
    if files.len() > MAX_FILES {
        problems.push(problem(
            &["files"],
            "BASE_TYPE_MAX_LENGTH",
            format!("at most {MAX_FILES} files, not {}", files.len()),
        ));
    }
    let refs: Vec<(usize, &Value)> = payload
        .get("attachments")
        .and_then(Value::as_array)
        .map(|l| l.iter().enumerate().collect())
        .unwrap_or_default();
    for file in files {
        let field = format!("files[{}]", file.index);
        if files.iter().filter(|f| f.index == file.index).count() > 1 {
            problems.push(problem(
                &[&field],
                "DUPLICATE_FILE",
                format!("{field} is sent twice"),
            ));
        }
        if file.bytes.is_empty() {
            problems.push(problem(
                &[&field],
                "FILE_EMPTY",
                format!("{field} is empty"),
            ));
        }
        if file.bytes.len() > SIZE_LIMIT {
            problems.push(problem(
                &[&field],
                "FILE_TOO_LARGE",
                format!(
                    "{field} has {} bytes; the limit is {SIZE_LIMIT}",
                    file.bytes.len()
                ),
            ));
        }
        if file.filename.is_empty() {
            problems.push(problem(
                &[&field],
                "FILE_NAME_MISSING",
                format!("{field} has no filename"),
            ));
        }
        let is_png = file.bytes.starts_with(PNG_SIGNATURE);
        let says_png = file.content_type.eq_ignore_ascii_case("image/png");
        if file.content_type.is_empty() {
            problems.push(problem(
                &[&field],
                "CONTENT_TYPE_MISSING",
                format!("{field} has no Content-Type"),
            ));
        } else if says_png != is_png
            || (file.filename.to_ascii_lowercase().ends_with(".png") && !says_png)
        {
            problems.push(problem(
                &[&field],
                "CONTENT_TYPE_MISMATCH",
                format!(
                    "{field} ({}) is sent as `{}` but its bytes {} a PNG image",
                    file.filename,
                    file.content_type,
                    if is_png { "are" } else { "are not" }
                ),
            ));
        }
        let referred = refs
            .iter()
            .find(|(_, a)| placeholder(&a["id"]) == Some(file.index));
        match referred {
            None => problems.push(problem(
                &["attachments"],
                "ATTACHMENT_NOT_REFERRED",
                format!(
                    "{field} is not in the payload's attachments (no entry with id {})",
                    file.index
                ),
            )),
            Some((i, a)) => {
                if let Some(name) = a.get("filename").and_then(Value::as_str) {
                    if name != file.filename {
                        problems.push(problem(
                            &["attachments", &i.to_string(), "filename"],
                            "ATTACHMENT_NAME_MISMATCH",
                            format!(
                                "attachment {} is named `{name}`, its file `{}`",
                                file.index, file.filename
                            ),
                        ));
                    }
                }
            }
        }
    }
    // A new message has no earlier attachments to keep: each entry is a file.
    for (i, a) in &refs {
        let id = placeholder(&a["id"]);
        if !files.iter().any(|f| Some(f.index) == id) {
            problems.push(problem(
                &["attachments", &i.to_string(), "id"],
                "ATTACHMENT_NOT_UPLOADED",
                format!("attachment {} refers to no uploaded file", a["id"]),
            ));
        }
    }
}

/// The `attachments` of the created message, as Discord returns them.
pub(crate) fn message_attachments(channel: u64, files: &[(u64, &Upload)]) -> Value {
    let list: Vec<Value> = files
        .iter()
        .map(|(id, f)| {
            let url = format!(
                "https://cdn.discordapp.com/attachments/{channel}/{id}/{}",
                f.filename
            );
            json!({
                "id": id.to_string(),
                "filename": f.filename,
                "size": f.bytes.len(),
                "url": url,
                "proxy_url": url,
                "content_type": f.content_type,
            })
        })
        .collect();
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    /// A form part: name, file name and content type (for a file), data.
    type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

    fn body(parts: &[Part<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, data) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some((filename, ct)) => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    fn png() -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        b.extend_from_slice(b"rest\r\n--not-the-boundary");
        b
    }

    fn problems(payload: &str, files: &[Part<'_>]) -> Vec<&'static str> {
        let mut parts = vec![("payload_json", None, payload.as_bytes())];
        parts.extend_from_slice(files);
        let form = parse(CT, &body(&parts)).unwrap();
        let mut problems = Vec::new();
        check(&form.payload.unwrap(), &form.files, &mut problems);
        problems.into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn a_png_referred_to_by_its_attachment_is_accepted_with_its_bytes() {
        let png = png();
        let payload = r#"{"content":"hi","attachments":[{"id":0,"filename":"c.png"}]}"#;
        let form = parse(
            CT,
            &body(&[
                ("payload_json", None, payload.as_bytes()),
                ("files[0]", Some(("c.png", "image/png")), &png),
            ]),
        )
        .unwrap();
        assert_eq!(form.files.len(), 1);
        assert_eq!(
            form.files[0].bytes, png,
            "binary data, CRLF and dashes included"
        );
        assert_eq!(form.payload.as_ref().unwrap()["content"], "hi");
        assert!(problems(payload, &[("files[0]", Some(("c.png", "image/png")), &png)]).is_empty());
        let normalized = normalize(form.payload.unwrap());
        assert_eq!(normalized["attachments"][0]["id"], "0");
    }

    #[test]
    fn wrong_uploads_are_refused() {
        let png = png();
        let with = r#"{"attachments":[{"id":0,"filename":"c.png"}]}"#;
        assert_eq!(
            problems(with, &[("files[0]", Some(("c.png", "text/plain")), &png)]),
            ["CONTENT_TYPE_MISMATCH"]
        );
        assert_eq!(
            problems(
                with,
                &[("files[0]", Some(("c.png", "image/png")), b"not a png")]
            ),
            ["CONTENT_TYPE_MISMATCH"]
        );
        assert_eq!(
            problems(r#"{}"#, &[("files[0]", Some(("c.png", "image/png")), &png)]),
            ["ATTACHMENT_NOT_REFERRED"]
        );
        assert_eq!(problems(with, &[]), ["ATTACHMENT_NOT_UPLOADED"]);
        assert_eq!(
            problems(with, &[("files[0]", Some(("d.png", "image/png")), &png)]),
            ["ATTACHMENT_NAME_MISMATCH"]
        );
        let big = vec![0u8; SIZE_LIMIT + 1];
        let with_bin = r#"{"attachments":[{"id":0,"filename":"c.bin"}]}"#;
        assert_eq!(
            problems(
                with_bin,
                &[(
                    "files[0]",
                    Some(("c.bin", "application/octet-stream")),
                    &big
                )]
            ),
            ["FILE_TOO_LARGE"]
        );
    }

    #[test]
    fn malformed_forms_are_refused() {
        assert!(parse("multipart/form-data", b"--x\r\n").is_err());
        assert!(parse(CT, b"no boundary here").is_err());
        assert!(
            parse(
                CT,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"
            )
            .is_err()
        );
        assert!(parse(CT, &body(&[("other", None, b"x")])).is_err());
    }
}
