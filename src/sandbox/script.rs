//! The scenario language: what people do in the chat, one line at a time,
//! and what they should see. Used by `ponte sandbox` (typed in, or
//! `--script FILE`) and by the scenario tests in `tests/scenarios/`.
//!
//! ```text
//! # A comment.
//! as giulia                      # act as this person from now on
//! in #requests                   # and in this channel of their server
//! in dm                          # or in their direct messages with the bot
//! /request title:"VPN down" priority:P1
//! expect reply contains "ACME-1"
//! as mike
//! click Claim on ACME-1          # a button on a task's card
//! expect thread ACME-1 contains "claimed the task"
//! advance 2h                     # move the manual clock
//! restart                        # stop the bot, start it again on the same data
//! fault 429 POST /channels/ 1    # the next call answers 429 (or 500)
//! fault dm-closed mike           # Discord's failures: closed DMs (50007),
//! fault deny SEND_MESSAGES in #requests   # permissions (50013),
//! fault lock-thread BRIGHT-1     # locked threads (50083),
//! fault hang POST /channels/     # calls that never answer, or `latency 2s`
//! expect #acme has image "digest-chart.png"   # a PNG file attached there
//! expect no violations
//! save #acme digest-chart.png to chart.png    # write a file posted there to disk
//! ```
//!
//! A script may begin with `start 2026-11-27T09:00Z` (or a local time with
//! its zone, `start 2026-11-27T10:00[Europe/Rome]`): the sandbox's clock
//! starts there instead of now, so a script plays the same on any date.

use std::fmt;

use jiff::SignedDuration;

/// A value typed for a command option or a form field.
pub type Options = Vec<(String, String)>;

/// Where to look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The answer to the last interaction of the current person.
    Reply,
    /// A channel of the current person's server, by name.
    Channel(String),
    /// The thread of a task, by its id.
    Thread(String),
    /// The direct messages between the bot and a person.
    Dm(String),
    /// The mirrored thread of a task, on the other side's server.
    Mirror(String),
    /// The alert listener's answer to the last `alert` or `beat` step.
    Inbound,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Reply => f.write_str("reply"),
            Place::Channel(c) => write!(f, "#{c}"),
            Place::Thread(t) => write!(f, "thread {t}"),
            Place::Dm(p) => write!(f, "dm {p}"),
            Place::Mirror(t) => write!(f, "mirror {t}"),
            Place::Inbound => f.write_str("inbound"),
        }
    }
}

/// What must be true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Contains(String),
    /// Exactly one message there contains the text (nothing was sent twice).
    ContainsOnce(String),
    NotContains(String),
    /// The reply is visible only to its reader.
    Ephemeral,
    /// The reply is visible to everyone in the channel.
    Public,
    /// No message there pings anybody (allowed_mentions parses nothing).
    PingsNobody,
    /// A message there carries a PNG image file with this name (its bytes
    /// decode as a PNG).
    Image(String),
}

/// A fault to inject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    DropGateway,
    Reconnect,
    InvalidSession,
    /// The next `times` calls to a route answer `status` (429 or 500).
    Http {
        status: u16,
        method: String,
        path: String,
        times: usize,
    },
    /// `fault dm-closed mike` / `fault dm-open mike`: whether a person
    /// accepts direct messages from the bot.
    Dms {
        person: String,
        closed: bool,
    },
    /// `fault deny SEND_MESSAGES,EMBED_LINKS in #requests` (or `allow`):
    /// the bot's permissions in a channel, by a member overwrite.
    Permission {
        permissions: Vec<String>,
        channel: String,
        allow: bool,
    },
    /// `fault archive-thread BRIGHT-1` / `fault lock-thread BRIGHT-1`.
    Thread {
        task: String,
        locked: bool,
    },
    /// `fault latency 2s POST /channels/ [TIMES]`, `fault hang POST
    /// /channels/ [TIMES]`: calls answered late, or never.
    Delay {
        by: Option<SignedDuration>,
        method: String,
        path: String,
        times: Option<usize>,
    },
    /// `fault delete-thread BRIGHT-1`: a moderator deletes a task's thread.
    DeleteThread {
        task: String,
    },
    /// `fault clear-delays`: no more latency or hangs.
    ClearDelays,
    /// `fault rate-limits strict|lenient`: Discord's bucket sizes for
    /// messages (5 per 5 s per channel), or 50 a second per bucket.
    RateLimits {
        strict: bool,
    },
    /// `fault slow-answers 2s`: the bot takes this long to answer
    /// commands, buttons and forms (past 1.5 s it defers); `0s` ends it.
    SlowAnswers(SignedDuration),
}

/// The permission names `fault deny` knows, with their bits
/// (<https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags>).
pub const PERMISSIONS: [(&str, u64); 7] = [
    ("VIEW_CHANNEL", 1 << 10),
    ("SEND_MESSAGES", 1 << 11),
    ("EMBED_LINKS", 1 << 14),
    ("ATTACH_FILES", 1 << 15),
    ("READ_MESSAGE_HISTORY", 1 << 16),
    ("CREATE_PUBLIC_THREADS", 1 << 35),
    ("SEND_MESSAGES_IN_THREADS", 1 << 38),
];

/// One line of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    As(String),
    In(String),
    /// `in dm`: act in the current person's direct messages with the bot
    /// (e.g. to click a page's buttons).
    InDm,
    Slash {
        name: String,
        subcommand: Option<String>,
        options: Options,
    },
    Click {
        label: String,
        task: Option<String>,
    },
    Submit(Options),
    /// "Track as task" on the last message of the current channel.
    Track,
    Say(String),
    Advance(SignedDuration),
    Restart,
    /// The bot is down for a while: stopped, the clock moves on with no
    /// timer firing, then it starts again on the same data.
    Down(SignedDuration),
    Fault(Fault),
    Expect {
        place: Place,
        check: Check,
    },
    ExpectNoViolations,
    Show(Place),
    Help,
    /// Act in a task's thread (`in thread ACME-1`) or its mirror
    /// (`in mirror ACME-1`).
    InThread {
        task: String,
        mirror: bool,
    },
    /// Edit my last message here.
    Edit(String),
    /// Write to the bot in a DM (then act in that DM).
    Dm(String),
    /// Post a message with a file: `attach report.pdf 20480 "the text"`.
    Attach {
        file: String,
        size: u64,
        text: String,
    },
    /// `start TIME`: where the clock starts (a script's first step).
    Start(jiff::Timestamp),
    /// `save PLACE NAME [to PATH]`: write the latest file `NAME` posted
    /// there to `PATH` (default: `NAME`), so a person can look at it.
    Save {
        place: Place,
        name: String,
        path: String,
    },
    /// A monitoring system posts to a client's alert integration, through
    /// the alert listener: `alert ACME/prometheus fire disk-db1 "Disk full"
    /// severity:critical`, `... resolve disk-db1`, `... storm 12 "Node down"
    /// group:nodes` (twelve alerts in one request).
    Alert {
        client: String,
        integration: String,
        action: AlertAction,
        options: Options,
    },
    /// A heartbeat monitor beats: `beat ACME/nightly-backup`.
    Beat {
        client: String,
        monitor: String,
        options: Options,
    },
}

/// What an `alert` step sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertAction {
    Fire { fingerprint: String, title: String },
    Resolve { fingerprint: String },
    Storm { count: usize, title: String },
}

/// A line that is not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// A parsed line with its number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub text: String,
    pub step: Step,
}

/// Parses a whole script; every bad line is reported.
pub fn parse_script(text: &str) -> Result<Vec<Line>, Vec<ScriptError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        match parse_line(raw) {
            Ok(None) => {}
            Ok(Some(step)) => lines.push(Line {
                number: i + 1,
                text: raw.trim().to_owned(),
                step,
            }),
            Err(message) => errors.push(ScriptError {
                line: i + 1,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// Parses one line: `None` for blank lines and comments.
pub fn parse_line(raw: &str) -> Result<Option<Step>, String> {
    let line = strip_comment(raw).trim();
    if line.is_empty() {
        return Ok(None);
    }
    let words = tokenize(line)?;
    let Some((head, rest)) = words.split_first() else {
        return Ok(None);
    };
    let step = if let Some(name) = head.strip_prefix('/') {
        slash(name, rest)?
    } else {
        match head.as_str() {
            "as" => Step::As(one(rest, "as PERSON")?.trim_start_matches('@').to_owned()),
            "in" => match rest {
                [kind] if kind == "dm" => Step::InDm,
                [kind, task] if kind == "thread" || kind == "mirror" => Step::InThread {
                    task: task.to_uppercase(),
                    mirror: kind == "mirror",
                },
                _ => Step::In(channel_name(one(rest, "in #CHANNEL")?)?),
            },
            "dm" => {
                let text = line[2..].trim();
                if text.is_empty() {
                    return Err("dm what? `dm \"the printer is jammed\"`".into());
                }
                Step::Dm(unquote(text))
            }
            "edit" => Step::Edit(one(rest, "edit \"new text\"")?.to_owned()),
            "attach" => match rest {
                [file, size, text] => Step::Attach {
                    file: file.clone(),
                    size: size
                        .parse()
                        .map_err(|_| format!("`{size}` is not a size in bytes"))?,
                    text: text.clone(),
                },
                _ => return Err("write `attach FILE SIZE \"text\"`".into()),
            },
            "click" => click(rest)?,
            "submit" => Step::Submit(options(rest)?),
            "track" => {
                if rest.is_empty() || rest == ["last"] {
                    Step::Track
                } else {
                    return Err("write `track` (the last message of this channel)".into());
                }
            }
            "say" => {
                let text = line[3..].trim();
                if text.is_empty() {
                    return Err("say what? `say the printer is jammed`".into());
                }
                Step::Say(unquote(text))
            }
            "advance" => {
                Step::Advance(duration(one(rest, "advance DURATION (e.g. 2h, 30m, 1d)")?)?)
            }
            "restart" => Step::Restart,
            "start" => Step::Start(start_time(one(
                rest,
                "start TIME, e.g. start 2026-11-27T09:00Z or start 2026-11-27T10:00[Europe/Rome]",
            )?)?),
            "save" => save(rest)?,
            "down" => Step::Down(duration(one(
                rest,
                "down DURATION (e.g. 40m): the bot is down that long",
            )?)?),
            "fault" => Step::Fault(fault(rest)?),
            "alert" => alert(rest)?,
            "beat" => {
                let usage = "write `beat CLIENT/MONITOR`, e.g. `beat ACME/nightly-backup`";
                let [target, rest @ ..] = rest else {
                    return Err(usage.into());
                };
                let (client, monitor) = target.split_once('/').ok_or(usage)?;
                Step::Beat {
                    client: client.to_uppercase(),
                    monitor: monitor.to_owned(),
                    options: options(rest)?,
                }
            }
            "expect" => expect(rest)?,
            "show" => Step::Show(place(rest)?.0),
            "help" => Step::Help,
            other => {
                return Err(format!(
                    "unknown step `{other}`; steps are: as, in, /command, click, submit, track, \
                     say, dm, edit, attach, advance, restart, down, fault, alert, beat, expect, show, save, start, help"
                ));
            }
        }
    };
    Ok(Some(step))
}

fn strip_comment(raw: &str) -> &str {
    // A `#` starts a comment unless it starts a channel name or sits in quotes.
    let mut in_quotes = false;
    let mut prev_space = true;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '#' if !in_quotes && prev_space => {
                let next = raw[i + 1..].chars().next();
                if next.is_none_or(char::is_whitespace) {
                    return &raw[..i];
                }
            }
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    raw
}

/// Splits on spaces, keeping `"quoted text"` (with `\"` escapes) together.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_quotes => match chars.next() {
                Some(n) => current.push(n),
                None => return Err("a line cannot end with `\\`".into()),
            },
            '"' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if in_quotes {
        return Err("a quote is not closed".into());
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].replace("\\\"", "\"")
    } else {
        t.to_owned()
    }
}

fn one<'a>(rest: &'a [String], usage: &str) -> Result<&'a str, String> {
    match rest {
        [only] => Ok(only),
        _ => Err(format!("write `{usage}`")),
    }
}

fn channel_name(word: &str) -> Result<String, String> {
    word.strip_prefix('#')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("`{word}` is not a channel; write it as #name"))
}

fn options(words: &[String]) -> Result<Options, String> {
    words
        .iter()
        .map(|w| {
            w.split_once(':')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| {
                    format!("`{w}` is not an option; write name:value (quote values with spaces)")
                })
        })
        .collect()
}

fn slash(name: &str, rest: &[String]) -> Result<Step, String> {
    if name.is_empty() {
        return Err("a command needs a name, e.g. /request".into());
    }
    let (subcommand, opts) = match rest.split_first() {
        Some((first, others)) if !first.contains(':') => (Some(first.clone()), others),
        _ => (None, rest),
    };
    Ok(Step::Slash {
        name: name.to_owned(),
        subcommand,
        options: options(opts)?,
    })
}

/// `click LABEL [on ACME-1]`: the label quoted (`"Invia all'altra parte"`),
/// in single quotes, or just written out (`click Invia all'altra parte`).
fn click(rest: &[String]) -> Result<Step, String> {
    let (words, task) = match rest {
        [words @ .., on, task] if on == "on" && !words.is_empty() => (words, Some(task.clone())),
        words => (words, None),
    };
    let label = words.join(" ");
    let label = label
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .unwrap_or(&label)
        .trim()
        .to_owned();
    if label.is_empty() {
        return Err("write `click LABEL` or `click LABEL on ACME-1`".into());
    }
    Ok(Step::Click { label, task })
}

/// `30s`, `10m`, `2h`, `1d`, or combinations such as `1h30m`.
pub fn duration(text: &str) -> Result<SignedDuration, String> {
    let bad = || format!("`{text}` is not a duration; write e.g. 30s, 10m, 2h, 1d or 1h30m");
    let mut total = SignedDuration::ZERO;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => SignedDuration::from_secs(n),
            'm' => SignedDuration::from_mins(n),
            'h' => SignedDuration::from_hours(n),
            'd' => SignedDuration::from_hours(n.checked_mul(24).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        total = total.checked_add(unit).ok_or_else(bad)?;
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(bad());
    }
    Ok(total)
}

fn fault(rest: &[String]) -> Result<Fault, String> {
    let usage = "write `fault drop-gateway`, `fault reconnect`, `fault invalid-session`, \
                 `fault 429|500 METHOD /path/prefix [TIMES]`, `fault dm-closed|dm-open PERSON`, \
                 `fault deny|allow PERMISSION[,PERMISSION] in #channel`, \
                 `fault archive-thread|lock-thread TASK`, \
                 `fault latency DURATION METHOD /path/prefix [TIMES]`, \
                 `fault hang METHOD /path/prefix [TIMES]`, `fault clear-delays` \
                 `fault rate-limits strict|lenient`, `fault delete-thread TASK` \
                 or `fault slow-answers DURATION`";
    let count = |times: &[String]| -> Result<Option<usize>, String> {
        times
            .first()
            .map(|t| t.parse().map_err(|_| format!("`{t}` is not a count")))
            .transpose()
    };
    match rest {
        [kind, person] if kind == "dm-closed" || kind == "dm-open" => Ok(Fault::Dms {
            person: person.clone(),
            closed: kind == "dm-closed",
        }),
        [kind, perms, word, channel] if (kind == "deny" || kind == "allow") && word == "in" => {
            let permissions: Vec<String> = perms
                .split(',')
                .map(|p| p.trim().to_ascii_uppercase())
                .collect();
            if let Some(unknown) = permissions
                .iter()
                .find(|p| !PERMISSIONS.iter().any(|(name, _)| name == p))
            {
                let known: Vec<&str> = PERMISSIONS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "`{unknown}` is not a permission Ponte uses; write one of {}",
                    known.join(", ")
                ));
            }
            Ok(Fault::Permission {
                permissions,
                channel: channel.trim_start_matches('#').to_owned(),
                allow: kind == "allow",
            })
        }
        [kind, task] if kind == "archive-thread" || kind == "lock-thread" => Ok(Fault::Thread {
            task: task.to_uppercase(),
            locked: kind == "lock-thread",
        }),
        [kind, by, method, path, times @ ..] if kind == "latency" && times.len() <= 1 => {
            Ok(Fault::Delay {
                by: Some(duration(by)?),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                times: count(times)?,
            })
        }
        [kind, method, path, times @ ..] if kind == "hang" && times.len() <= 1 => {
            Ok(Fault::Delay {
                by: None,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                times: count(times)?,
            })
        }
        [kind] if kind == "clear-delays" => Ok(Fault::ClearDelays),
        [kind, task] if kind == "delete-thread" => Ok(Fault::DeleteThread {
            task: task.to_uppercase(),
        }),
        [kind, by] if kind == "slow-answers" => Ok(Fault::SlowAnswers(duration(by)?)),
        [kind, how] if kind == "rate-limits" && (how == "strict" || how == "lenient") => {
            Ok(Fault::RateLimits {
                strict: how == "strict",
            })
        }
        [kind] if kind == "drop-gateway" => Ok(Fault::DropGateway),
        [kind] if kind == "reconnect" => Ok(Fault::Reconnect),
        [kind] if kind == "invalid-session" => Ok(Fault::InvalidSession),
        [status, method, path, times @ ..] if times.len() <= 1 => {
            let status: u16 = status.parse().map_err(|_| usage.to_owned())?;
            if status != 429 && status != 500 {
                return Err(format!("only 429 and 500 can be injected, not {status}"));
            }
            let times = match times.first() {
                Some(t) => t.parse().map_err(|_| format!("`{t}` is not a count"))?,
                None => 1,
            };
            Ok(Fault::Http {
                status,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                times,
            })
        }
        _ => Err(usage.to_owned()),
    }
}

/// A place at the start of `words`, and what follows it.
fn place(words: &[String]) -> Result<(Place, &[String]), String> {
    match words {
        [first, rest @ ..] if first == "reply" => Ok((Place::Reply, rest)),
        [first, rest @ ..] if first == "inbound" => Ok((Place::Inbound, rest)),
        [first, id, rest @ ..] if first == "thread" => Ok((Place::Thread(id.to_uppercase()), rest)),
        [first, id, rest @ ..] if first == "mirror" => Ok((Place::Mirror(id.to_uppercase()), rest)),
        [first, who, rest @ ..] if first == "dm" => {
            Ok((Place::Dm(who.trim_start_matches('@').to_owned()), rest))
        }
        [first, rest @ ..] if first.starts_with('#') => {
            Ok((Place::Channel(channel_name(first)?), rest))
        }
        _ => Err("say where: reply, #channel, thread ACME-1, dm PERSON or inbound".into()),
    }
}

/// `2026-11-27T09:00Z` (an instant) or `2026-11-27T10:00[Europe/Rome]`
/// (a local time in a zone).
fn start_time(text: &str) -> Result<jiff::Timestamp, String> {
    let local = || -> Option<jiff::Timestamp> {
        let (civil, zone) = text.strip_suffix(']')?.split_once('[')?;
        let civil: jiff::civil::DateTime = civil.parse().ok()?;
        jiff::tz::TimeZone::get(zone).ok()?.to_timestamp(civil).ok()
    };
    text.parse::<jiff::Timestamp>()
        .ok()
        .or_else(local)
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time; write e.g. 2026-11-27T09:00Z or 2026-11-27T10:00[Europe/Rome]"
            )
        })
}

fn alert(rest: &[String]) -> Result<Step, String> {
    let usage = "write `alert CLIENT/INTEGRATION fire FINGERPRINT \"title\" [severity:S] [group:G]                  [label.NAME:VALUE]`, `alert CLIENT/INTEGRATION resolve FINGERPRINT` or                  `alert CLIENT/INTEGRATION storm COUNT \"title\" [group:G]`";
    let [target, action, rest @ ..] = rest else {
        return Err(usage.into());
    };
    let (client, integration) = target.split_once('/').ok_or(usage)?;
    let (action, rest) = match (action.as_str(), rest) {
        ("fire", [fingerprint, title, rest @ ..]) => (
            AlertAction::Fire {
                fingerprint: fingerprint.clone(),
                title: title.clone(),
            },
            rest,
        ),
        ("resolve", [fingerprint, rest @ ..]) => (
            AlertAction::Resolve {
                fingerprint: fingerprint.clone(),
            },
            rest,
        ),
        ("storm", [count, title, rest @ ..]) => (
            AlertAction::Storm {
                count: count
                    .parse()
                    .map_err(|_| format!("`{count}` is not a number of alerts"))?,
                title: title.clone(),
            },
            rest,
        ),
        _ => return Err(usage.into()),
    };
    Ok(Step::Alert {
        client: client.to_uppercase(),
        integration: integration.to_owned(),
        action,
        options: options(rest)?,
    })
}

fn save(rest: &[String]) -> Result<Step, String> {
    let usage =
        "write `save PLACE NAME [to PATH]`, e.g. `save #acme digest-chart.png to chart.png`";
    let (place, rest) = place(rest).map_err(|_| usage.to_owned())?;
    let (name, path) = match rest {
        [name] => (name.clone(), name.clone()),
        [name, to, path] if to == "to" => (name.clone(), path.clone()),
        _ => return Err(usage.to_owned()),
    };
    Ok(Step::Save { place, name, path })
}

fn expect(rest: &[String]) -> Result<Step, String> {
    if rest == ["no", "violations"] {
        return Ok(Step::ExpectNoViolations);
    }
    let (place, check) = place(rest)?;
    let check = match check {
        [c, text] if c == "contains" => Check::Contains(text.clone()),
        [c, text, once] if c == "contains" && once == "once" => Check::ContainsOnce(text.clone()),
        [n, c, text] if n == "not" && c == "contains" => Check::NotContains(text.clone()),
        [is, e] if is == "is" && e == "ephemeral" => Check::Ephemeral,
        [is, p] if is == "is" && p == "public" => Check::Public,
        [p, n] if p == "pings" && n == "nobody" => Check::PingsNobody,
        [has, image, name] if has == "has" && image == "image" => Check::Image(name.clone()),
        _ => {
            return Err(
                "write `expect PLACE contains \"text\"`, `contains \"text\" once`, `not contains \"text\"`, `is ephemeral`, `has image \"name.png\"`, \
                 `is public`, `pings nobody`, or `expect no violations`"
                    .into(),
            );
        }
    };
    Ok(Step::Expect { place, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: &str) -> Step {
        parse_line(line).unwrap().unwrap()
    }

    #[test]
    fn start_save_and_labels_with_quotes() {
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        assert_eq!(step("start 2026-11-27T09:00Z"), Step::Start(at));
        assert_eq!(step("start 2026-11-27T10:00[Europe/Rome]"), Step::Start(at));
        assert!(parse_line("start tomorrow").is_err());
        assert_eq!(
            step("save #acme digest-chart.png to /tmp/chart.png"),
            Step::Save {
                place: Place::Channel("acme".into()),
                name: "digest-chart.png".into(),
                path: "/tmp/chart.png".into(),
            }
        );
        assert!(parse_line("save #acme").is_err());
        let label = |line: &str| match step(line) {
            Step::Click { label, task } => (label, task),
            other => panic!("{other:?}"),
        };
        let apostrophe = (
            "Invia all'altra parte".to_owned(),
            Some("ACME-1".to_owned()),
        );
        assert_eq!(
            label(r#"click "Invia all'altra parte" on ACME-1"#),
            apostrophe
        );
        assert_eq!(label("click Invia all'altra parte on ACME-1"), apostrophe);
        assert_eq!(label("click 'Invia all'altra parte' on ACME-1"), apostrophe);
        assert_eq!(
            label(r#"click "Say \"hi\"""#),
            (r#"Say "hi""#.to_owned(), None)
        );
        assert!(parse_line("click").is_err());
    }

    #[test]
    fn an_image_check_names_the_file() {
        assert_eq!(
            step(r#"expect #acme has image "digest-chart.png""#),
            Step::Expect {
                place: Place::Channel("acme".into()),
                check: Check::Image("digest-chart.png".into()),
            }
        );
        assert!(parse_line("expect #acme has image").is_err());
    }

    #[test]
    fn a_script_reads_like_what_people_do() {
        let script = r#"
            # Giulia reports an outage.
            as giulia
            in #richieste
            /request title:"VPN giù a Milano" priority:P1   # urgent
            expect reply contains "ACME-1"
            as @mike
            click Claim on acme-1
            /task comment id:ACME-1 text:"on it \"now\""
            advance 1h30m
            expect thread ACME-1 not contains "@everyone"
            expect no violations
        "#;
        let lines = parse_script(script).unwrap();
        let steps: Vec<_> = lines.iter().map(|l| l.step.clone()).collect();
        assert_eq!(steps[0], Step::As("giulia".into()));
        assert_eq!(steps[1], Step::In("richieste".into()));
        assert_eq!(
            steps[2],
            Step::Slash {
                name: "request".into(),
                subcommand: None,
                options: vec![
                    ("title".into(), "VPN giù a Milano".into()),
                    ("priority".into(), "P1".into())
                ],
            }
        );
        assert_eq!(
            steps[3],
            Step::Expect {
                place: Place::Reply,
                check: Check::Contains("ACME-1".into())
            }
        );
        assert_eq!(steps[4], Step::As("mike".into()));
        assert_eq!(
            steps[5],
            Step::Click {
                label: "Claim".into(),
                task: Some("acme-1".into())
            }
        );
        assert_eq!(
            steps[6],
            Step::Slash {
                name: "task".into(),
                subcommand: Some("comment".into()),
                options: vec![
                    ("id".into(), "ACME-1".into()),
                    ("text".into(), "on it \"now\"".into())
                ],
            }
        );
        assert_eq!(steps[7], Step::Advance(SignedDuration::from_mins(90)));
        assert_eq!(
            steps[8],
            Step::Expect {
                place: Place::Thread("ACME-1".into()),
                check: Check::NotContains("@everyone".into())
            }
        );
        assert_eq!(steps[9], Step::ExpectNoViolations);
        assert_eq!(lines[2].number, 5);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number_and_a_fix() {
        let errors =
            parse_script("as\nfly away\nadvance soon\nexpect reply glows\nsay \"open").unwrap_err();
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
        assert!(errors[0].message.contains("as PERSON"));
        assert!(errors[1].message.contains("unknown step `fly`"));
        assert!(errors[2].message.contains("not a duration"));
        assert!(errors[4].message.contains("quote"));
    }

    #[test]
    fn faults_and_durations() {
        assert_eq!(
            step("fault 429 post /channels/ 2"),
            Step::Fault(Fault::Http {
                status: 429,
                method: "POST".into(),
                path: "/channels/".into(),
                times: 2
            })
        );
        assert_eq!(step("fault drop-gateway"), Step::Fault(Fault::DropGateway));
        assert!(
            parse_line("fault 404 GET /x")
                .unwrap_err()
                .contains("only 429 and 500")
        );
        assert_eq!(duration("1d").unwrap(), SignedDuration::from_hours(24));
        assert!(duration("h").is_err());
        assert!(duration("10").is_err());
    }

    #[test]
    fn hashes_start_comments_only_before_a_space() {
        assert_eq!(
            step("in #requests # the channel"),
            Step::In("requests".into())
        );
        assert_eq!(step("say \"ticket #4\""), Step::Say("ticket #4".into()));
        assert_eq!(parse_line("   # only a comment").unwrap(), None);
    }
}
