//! The `ponte` binary as an operator runs it.

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/ponte.example.toml");

fn ponte(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .env_remove("PONTE_CONFIG")
        .env_remove("PONTE_DATA_DIR")
        .env_remove("DISCORD_TOKEN")
        .output()
        .expect("the ponte binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The example configuration with one edit, written to a temporary file.
fn edited_example(dir: &Path, from: &str, to: &str) -> String {
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    assert_eq!(
        example.matches(from).count(),
        1,
        "`{from}` once in the example"
    );
    let path = dir.join("ponte.toml");
    std::fs::write(&path, example.replacen(from, to, 1)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn check_config_accepts_the_example_and_says_what_it_understood() {
    let out = ponte(&["check-config", "--config", EXAMPLE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("is valid"), "{stdout}");
    assert!(
        stdout.contains("Client ACME: Acme Manufacturing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Client BRIGHT: Brightline Logistics"),
        "{stdout}"
    );
}

#[test]
fn check_config_exits_2_naming_a_mistyped_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_example(
        dir.path(),
        "guild_id = 1148173150060675072",
        "gild_id = 1148173150060675072",
    );
    let out = ponte(&["check-config", "--config", &path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("clients[0].gild_id: unknown field `gild_id`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `guild_id`?"), "{stderr}");
}

#[test]
fn check_config_exits_2_naming_a_missing_guild_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_example(dir.path(), "guild_id = 1198991878389891072\n", "");
    let out = ponte(&["check-config", "--config", &path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("clients[1].guild_id"), "{stderr}");
}

#[test]
fn check_config_exits_2_naming_a_duplicated_client_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited_example(
        dir.path(),
        "name = \"Brightline Logistics\"",
        "name = \"Acme Manufacturing\"",
    );
    let out = ponte(&["check-config", "--config", &path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("clients[1].name"), "{stderr}");
    assert!(
        stderr.contains("already the name at clients[0].name"),
        "{stderr}"
    );
}

#[test]
fn run_without_a_token_says_how_to_get_one() {
    let out = ponte(&["run", "--config", EXAMPLE]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("DISCORD_TOKEN is not set"), "{stderr}");
    assert!(
        stderr.contains("discord.com/developers/applications"),
        "{stderr}"
    );
}

#[test]
fn export_from_a_missing_directory_is_refused_rather_than_creating_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = ponte(&["export", "--data-dir", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no store at"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists());
}

#[test]
fn export_and_import_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("events.jsonl");
    // An empty store exports nothing, and imports into another.
    let a = dir.path().join("a");
    std::fs::create_dir(&a).unwrap();
    // An empty directory holds no store: refused, not taken for an empty store.
    let out = ponte(&["export", "--data-dir", a.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("no store at"),
        "{}",
        text(&out.stderr)
    );
    drop(ponte::store::SledStore::open(&ponte::store::StoreOptions::new(&a)).unwrap());
    let out = ponte(&[
        "export",
        "--data-dir",
        a.to_str().unwrap(),
        "--output",
        dump.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let b = dir.path().join("b");
    let out = ponte(&[
        "import",
        "--data-dir",
        b.to_str().unwrap(),
        "--input",
        dump.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A file that is not an export is refused with its line.
    std::fs::write(&dump, "{\"nope\": 1}\n").unwrap();
    let c = dir.path().join("c");
    let out = ponte(&[
        "import",
        "--data-dir",
        c.to_str().unwrap(),
        "--input",
        dump.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("import line 1: not an event"),
        "{}",
        text(&out.stderr)
    );
}

fn triage(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["triage", "--config", EXAMPLE];
    all.extend_from_slice(args);
    let out = ponte(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("triage prints JSON")
}

#[test]
fn triage_understands_an_italian_request_with_the_first_clients_rules() {
    let draft = triage(&["La VPN non funziona, nessuno riesce a lavorare. Entro domani!"]);
    assert_eq!(draft["client"], "ACME");
    assert_eq!(draft["priority"], "P1");
    assert_eq!(draft["category"], "network");
    assert_eq!(draft["side"], "auto");
    assert_eq!(
        draft["title"],
        "La VPN non funziona, nessuno riesce a lavorare"
    );
    // Acme keeps the network as its own territory.
    assert_eq!(draft["reasons"][0]["owner"], "internal");
    assert_eq!(draft["reasons"][1]["cue"], "non funziona");
    assert_eq!(draft["reasons"][2]["scope"], "whole_office");
    // Due at 18:00 in Rome, written with Rome's offset.
    let due = draft["due"].as_str().unwrap();
    assert!(
        due.ends_with("T18:00:00+01:00") || due.ends_with("T18:00:00+02:00"),
        "{due}"
    );
}

#[test]
fn triage_understands_an_english_request_for_a_named_client() {
    let draft = triage(&[
        "--client",
        "BRIGHT",
        "<@42> urgnet: the MSP should fix my laptop by Friday",
    ]);
    assert_eq!(draft["client"], "BRIGHT");
    assert_eq!(draft["priority"], "P2");
    assert_eq!(draft["category"], "workstations");
    assert_eq!(draft["side"]["to"], "msp");
    assert_eq!(draft["assignee"], 42);
    let cue = draft["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["guess"] == "priority_cue")
        .unwrap();
    assert_eq!(cue["cue"], "urgent");
    assert_eq!(cue["typed"], "urgnet");
    let due = draft["due"].as_str().unwrap();
    assert!(
        due.ends_with("T18:00:00+00:00") || due.ends_with("T18:00:00+01:00"),
        "{due}"
    );
}

#[test]
fn triage_exits_2_listing_the_known_clients() {
    let out = ponte(&["triage", "--config", EXAMPLE, "--client", "NOPE", "vpn"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown client `NOPE`"), "{stderr}");
    assert!(stderr.contains("ACME, BRIGHT"), "{stderr}");
}

#[test]
fn report_prints_sla_figures_of_imported_tasks_as_csv_and_json() {
    use ponte::domain::{ClientKey, Event, EventKind, PersonId, Priority, Side, TaskId, Who};
    use ponte::domain::{RouteReason, Status};
    let dir = tempfile::tempdir().unwrap();
    let id = TaskId::new(ClientKey::new("ACME").unwrap(), 1);
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let event = |seq, when: &str, by, kind| Event {
        task: id.clone(),
        seq,
        at: at(when),
        by,
        kind,
    };
    // Tuesday 24 November 2026, Rome (UTC+1): asked at 09:00, claimed by the
    // MSP at 09:20, resolved at 10:00.
    let events = [
        event(
            1,
            "2026-11-24T08:00:00Z",
            Who::Person(PersonId(1)),
            EventKind::Created {
                title: "Printer jam".into(),
                details: String::new(),
                requester: PersonId(1),
                asking_side: Side::Internal,
                priority: Priority::P3,
                due: None,
            },
        ),
        event(
            2,
            "2026-11-24T08:00:00Z",
            Who::Ponte,
            EventKind::Routed {
                side: Side::Msp,
                category: None,
                reason: RouteReason::Requested { side: Side::Msp },
            },
        ),
        event(
            3,
            "2026-11-24T08:20:00Z",
            Who::Person(PersonId(5)),
            EventKind::Claimed { by: PersonId(5) },
        ),
        event(
            4,
            "2026-11-24T09:00:00Z",
            Who::Person(PersonId(5)),
            EventKind::StatusChanged {
                from: Status::Claimed,
                to: Status::Resolved,
                reason: None,
            },
        ),
    ];
    let dump = dir.path().join("events.jsonl");
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    std::fs::write(&dump, lines.join("\n") + "\n").unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = ponte(&[
        "import",
        "--data-dir",
        data,
        "--input",
        dump.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = |format: &str| {
        ponte(&[
            "report",
            "--config",
            EXAMPLE,
            "--data-dir",
            data,
            "--client",
            "acme",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--format",
            format,
        ])
    };
    let out = report("csv");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert_eq!(
        csv.lines().nth(1),
        Some("msp,P3,1,1,20,20,100,1,60,60,100,0,0,0,0,0,0"),
        "{csv}"
    );
    let out = report("json");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"][0]["resolution_median_min"], 60);
    // Another period has nothing; an unknown client is refused.
    let out = ponte(&[
        "report",
        "--config",
        EXAMPLE,
        "--data-dir",
        data,
        "--client",
        "ACME",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-23",
    ]);
    assert!(text(&out.stdout).contains("no tasks created in the period"));
    let out = ponte(&[
        "report",
        "--config",
        EXAMPLE,
        "--data-dir",
        data,
        "--client",
        "NOPE",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-23",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no client `NOPE`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn export_of_one_client_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("both.jsonl");
    let line = |task: &str, title: &str| {
        format!(
            "{{\"task\":\"{task}\",\"seq\":1,\"at\":\"2026-11-27T09:00:00Z\",\"by\":{{\"person\":9001}},\
             \"type\":\"created\",\"title\":\"{title}\",\"details\":\"\",\"requester\":9001,\
             \"asking_side\":\"internal\",\"priority\":\"P2\",\"due\":null}}\n"
        )
    };
    let both = line("ACME-1", "vpn down") + &line("BRIGHT-1", "wifi slow");
    std::fs::write(&dump, &both).unwrap();
    let a = dir.path().join("a");
    let data = a.to_str().unwrap();
    let out = ponte(&[
        "import",
        "--data-dir",
        data,
        "--input",
        dump.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ponte(&["export", "--data-dir", data, "--client", "bright"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let only = text(&out.stdout);
    assert!(
        only.contains("\"BRIGHT-1\"") && only.contains("wifi slow"),
        "{only}"
    );
    assert!(
        !only.contains("ACME") && !only.contains("vpn down"),
        "{only}"
    );
    let out = ponte(&["export", "--data-dir", data]);
    assert_eq!(text(&out.stdout).lines().count(), 2);
    let out = ponte(&["export", "--data-dir", data, "--client", "not a key"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--client"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn outbox_lists_retries_and_drops_dead_letters() {
    use ponte::domain::effect::Effect;
    use ponte::domain::{ClientKey, TaskId};
    use ponte::store::{Mark, SledStore, Store, StoreOptions};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let task = |n| TaskId::new(ClientKey::new("ACME").unwrap(), n);
        let effects = [
            Effect::Announce {
                task: task(1),
                first: 1,
                last: 1,
            },
            Effect::Announce {
                task: task(2),
                first: 1,
                last: 1,
            },
        ];
        let mark = Mark {
            key: "test".into(),
            at: "2026-12-06T10:00:00Z".parse().unwrap(),
        };
        assert!(store.commit_mark(&mark, &effects).unwrap());
        for e in store.outbox_due(jiff::Timestamp::MAX, 10).unwrap() {
            store
                .outbox_dead(
                    e.id,
                    mark.at,
                    "Discord answered 403 (code 50013): Missing Permissions",
                )
                .unwrap();
        }
        store.flush().unwrap();
    }
    let data = data.to_string_lossy().into_owned();
    let out = ponte(&["outbox", "--data-dir", &data, "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains("dead letters: 2"), "{listed}");
    assert!(listed.contains("announce:ACME-1:1-1"), "{listed}");
    assert!(listed.contains("50013"), "{listed}");
    assert!(listed.contains("ponte outbox retry"), "{listed}");
    let out = ponte(&["outbox", "--data-dir", &data, "retry", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ponte(&["outbox", "--data-dir", &data, "drop", "all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ponte(&["outbox", "--data-dir", &data, "drop", "7"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no dead letter with id 7"),
        "{}",
        text(&out.stderr)
    );
    let out = ponte(&["outbox", "--data-dir", &data, "list"]);
    let listed = text(&out.stdout);
    assert!(listed.contains("waiting: 1"), "{listed}");
    assert!(listed.contains("dead letters: 0"), "{listed}");
}

/// An export of `n` tasks of `client`, each created and routed, with
/// `title` as every task's title.
fn export_of(client: &str, n: u64, title: &str) -> String {
    let mut out = String::new();
    for number in 1..=n {
        let task = format!("{client}-{number}");
        let title = serde_json::to_string(title).unwrap();
        out.push_str(&format!(
            "{{\"task\":\"{task}\",\"seq\":1,\"at\":\"2026-12-01T09:00:00Z\",\"by\":{{\"person\":9001}},\
             \"type\":\"created\",\"title\":{title},\"details\":\"\",\"requester\":9001,\
             \"asking_side\":\"internal\",\"priority\":\"P2\",\"due\":null}}\n\
             {{\"task\":\"{task}\",\"seq\":2,\"at\":\"2026-12-01T09:00:00Z\",\"by\":{{\"person\":9001}},\
             \"type\":\"routed\",\"side\":\"internal\",\"category\":\"network\",\"reason\":\
             {{\"rule\":\"keyword\",\"category\":\"network\",\"keyword\":\"vpn\",\"owner\":\"internal\"}}}}\n"
        ));
    }
    out
}

fn import(data: &Path, input: &Path, config: Option<&str>) -> Output {
    let mut args = vec![
        "import",
        "--data-dir",
        data.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    ponte(&args)
}

#[test]
fn import_is_all_or_nothing_and_can_be_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("events.jsonl");
    // A bad line 10: nothing at all is left behind.
    let mut lines: Vec<String> = export_of("ACME", 20, "VPN down")
        .lines()
        .map(String::from)
        .collect();
    lines[9] = "{not an event".into();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = import(&data, &input, None);
    assert!(!out.status.success());
    let shown = text(&out.stderr);
    assert!(shown.contains("line 10"), "{shown}");
    assert!(shown.contains("nothing was imported"), "{shown}");
    assert!(!data.exists(), "a partial store was left");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the input is left"
    );

    // What a killed import leaves (its working directory) is removed by
    // the next run, which then loads everything.
    let leftover = dir.path().join(".data.importing");
    std::fs::create_dir(&leftover).unwrap();
    std::fs::write(leftover.join("db"), b"half written").unwrap();
    std::fs::write(&input, export_of("ACME", 20, "VPN down")).unwrap();
    let out = import(&data, &input, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!leftover.exists());
    let check = ponte(&["check-store", "--data-dir", data.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let out = ponte(&["export", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(text(&out.stdout).lines().count(), 40);

    // Into a directory that holds a store: refused, the store untouched.
    let out = import(&data, &input, None);
    assert!(text(&out.stderr).contains("already exists and is not empty"));
    let check = ponte(&["check-store", "--data-dir", data.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}

#[test]
fn import_refuses_unknown_clients_long_lines_and_titles_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("events.jsonl");
    let config = edited_example(
        dir.path(),
        "data_dir = \"./ponte-data\"",
        "data_dir = \"d\"",
    );
    // Clients that are not in the configuration, each named.
    let text_in = export_of("ACME", 3, "VPN down")
        + &export_of("GLOBEX", 5, "x")
        + &export_of("INITECH", 2, "y");
    std::fs::write(&input, text_in).unwrap();
    let out = import(&data, &input, Some(&config));
    let shown = text(&out.stderr);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains("not in the configuration: GLOBEX (5 tasks), INITECH (2 tasks)"),
        "{shown}"
    );
    assert!(!data.exists());

    // A line far past any event's size is not read whole.
    let huge = format!(
        "{{\"task\":\"ACME-1\",\"title\":\"{}\"}}\n",
        "x".repeat(10 << 20)
    );
    std::fs::write(&input, huge).unwrap();
    let out = import(&data, &input, Some(&config));
    let shown = text(&out.stderr);
    assert!(shown.contains("line 1: longer than 64 KiB"), "{shown}");

    // A title longer than a command could ever give.
    std::fs::write(&input, export_of("ACME", 1, &"t".repeat(5000))).unwrap();
    let out = import(&data, &input, Some(&config));
    let shown = text(&out.stderr);
    assert!(
        shown.contains("title of ACME-1 has 5000 characters; at most 200"),
        "{shown}"
    );
    assert!(!data.exists());
}

/// A newcomer's first script through the built binary, on today's date: a
/// scenario file that sets its own start, then a script of their own that
/// lets more than half an hour pass and then mentions the bot (the draft is
/// as old as its message, whose time and id are the sandbox clock's, so it
/// has not expired), clicks a label with an apostrophe, and saves the
/// digest chart to look at it.
#[test]
fn the_sandbox_plays_scripts_through_the_binary() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/mention_draft.scenario"
    );
    let out = ponte(&["sandbox", "--script", scenario]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let play = |name: &str, script: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, script).unwrap();
        let out = ponte(&["sandbox", "--script", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    };
    // From now, as a newcomer starts.
    play(
        "draft.scenario",
        r#"advance 45m
as giulia
say "@ponte la stampante del secondo piano non stampa"
click Invia all'altra parte
click Crea
expect reply contains "ACME-1"
"#,
    );
    let chart = dir.path().join("chart.png");
    play(
        "chart.scenario",
        &format!(
            r#"start 2026-11-27T09:00Z
as giulia
/request title:"La stampante del secondo piano non stampa"
advance 70h30m
save #it-interno digest-chart.png to {}
"#,
            chart.display()
        ),
    );
    let bytes = std::fs::read(&chart).expect("the chart was saved");
    assert!(bytes.starts_with(b"\x89PNG"), "the saved file is a PNG");
}

/// A newcomer with the sandbox open points their own monitoring at it: the
/// sandbox prints its alert listener's address with a `curl` that works,
/// and the alert becomes a task they see in ACME's IT channel.
#[test]
fn an_alert_sent_from_outside_reaches_the_interactive_sandbox() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::time::Duration;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .arg("sandbox")
        .env_remove("PONTE_CONFIG")
        .env_remove("PONTE_DATA_DIR")
        .env_remove("DISCORD_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (lines, read) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // Generous: a slow, shared machine starts the emulator and the bot.
    let wait = Duration::from_secs(300);
    let mut seen = Vec::new();
    let addr = loop {
        let line = read
            .recv_timeout(wait)
            .unwrap_or_else(|_| panic!("no listener address in:\n{}", seen.join("\n")));
        if let Some(rest) = line.strip_prefix("Alert listener: http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        seen.push(line);
    };
    let alertmanager = r#"{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Backup job failed"},"fingerprint":"backup"}]}"#;
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /clients/ACME/alerts/prometheus HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer sandbox-secret-PONTE_ACME_PROMETHEUS_SECRET\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{alertmanager}",
        alertmanager.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("ACME-1"), "{answer}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "as marco\nshow #it-interno\nquit").unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    while let Ok(line) = read.recv_timeout(wait) {
        rest.push(line);
    }
    let _ = child.wait();
    let shown = rest.join("\n");
    assert!(shown.contains("ACME-1 · Backup job failed"), "{shown}");
    assert!(shown.contains("Fonte: prometheus"), "{shown}");
}
