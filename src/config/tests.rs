//! The checks, one by one, on a small configuration where the MSP has no
//! server of its own and works inside the client's.

use super::*;
use crate::domain::{Priority, RouteInput};

const MINIMAL: &str = r#"
[msp]
name = "Solo MSP"

[[categories]]
name = "network"
keywords = ["vpn", "rete"]
owner = "msp"
priority = "P2"

[[clients]]
name = "Alpha"
key = "ALPHA"
time_zone = "Europe/Rome"
guild_id = 101

[clients.channels]
requests = 201
msp = 202

[clients.roles]
it_manager = 301
it_technician = 302
msp_engineer = 303
"#;

/// `MINIMAL` with each `from` replaced by its `to`.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = MINIMAL.to_owned();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` should be in the text once"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

fn load(text: &str) -> Config {
    Config::from_toml_str(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str) -> String {
    match Config::from_toml_str(text, "test.toml") {
        Ok(_) => panic!("the configuration should be refused"),
        Err(e) => e.to_string(),
    }
}

const BETA: &str = r#"
[[clients]]
name = "Beta"
key = "BETA"
time_zone = "Europe/London"
guild_id = 111
[clients.channels]
requests = 211
msp = 212
[clients.roles]
it_manager = 311
it_technician = 312
msp_engineer = 313
"#;

const MSP_SERVER: &str =
    "guild_id = 900\nchannel_id = 901\nengineer_role_id = 902\nlead_role_id = 903\n";

#[test]
fn a_minimal_file_gets_the_documented_defaults() {
    let config = load(MINIMAL);
    assert_eq!(config.data_dir(), Path::new("./ponte-data"));
    assert_eq!(config.cache_capacity_mb(), 16);
    assert_eq!(config.cache_capacity_bytes(), 16 * 1024 * 1024);
    assert_eq!(config.language(), Lang::En);
    assert_eq!(config.msp().language, Lang::En);
    assert_eq!(config.msp().server, None);
    let alpha = &config.clients()[0];
    assert_eq!(alpha.language, Lang::En);
    assert_eq!(alpha.routing.default_side, Side::Internal);
    assert_eq!(alpha.routing.default_priority, Priority::P3);
    assert_eq!(alpha.channels.internal_it, None);
    assert_eq!(alpha.roles.msp_engineer.map(RoleId::get), Some(303));
    assert!(alpha.territory.is_empty());
    assert_eq!(
        config.msp_channel(&alpha.key).map(ChannelId::get),
        Some(202)
    );
    assert_eq!(
        config.client_by_guild(101).map(|c| c.name.as_str()),
        Some("Alpha")
    );
    assert_eq!(config.routing(&alpha.key), Some(&alpha.routing));
    let d = alpha
        .routing
        .route(
            Side::Internal,
            &RouteInput {
                text: "la rete è lenta",
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((d.side, d.priority), (Side::Msp, Priority::P2));
}

#[test]
fn the_deployment_language_is_the_default_of_msp_and_clients() {
    let config = load(&format!("[ponte]\nlanguage = \"it\"\n{MINIMAL}"));
    assert_eq!(config.msp().language, Lang::It);
    assert_eq!(config.clients()[0].language, Lang::It);
    let config = load(&format!(
        "[ponte]\nlanguage = \"it\"\n{}",
        edited(&[(
            "name = \"Solo MSP\"",
            "name = \"Solo MSP\"\nlanguage = \"en\""
        )])
    ));
    assert_eq!(config.msp().language, Lang::En);
}

#[test]
fn ids_may_be_strings_of_digits() {
    let config = load(&edited(&[("guild_id = 101", "guild_id = \"101\"")]));
    assert_eq!(config.clients()[0].guild_id.get(), 101);
}

#[test]
fn bad_ids_are_refused_where_they_are() {
    insta::assert_snapshot!(errors(&edited(&[("guild_id = 101", "guild_id = \"10 1\"")])), @"test.toml:15: clients[0].guild_id: `10 1` is not a Discord id: use only the digits; copy it in Discord with Developer Mode on: right click, Copy ID");
    insta::assert_snapshot!(errors(&edited(&[("guild_id = 101", "guild_id = -101")])), @"test.toml:15: clients[0].guild_id: `-101` is not a Discord id: ids are positive numbers; copy it in Discord with Developer Mode on: right click, Copy ID");
    insta::assert_snapshot!(errors(&edited(&[("requests = 201", "requests = 0")])), @"test.toml:18: clients[0].channels.requests: 0 is not a Discord id: copy the id in Discord with Developer Mode on (right click, Copy ID)");
}

#[test]
fn without_an_msp_server_each_client_needs_the_msps_channel_and_role() {
    let text = edited(&[("msp = 202\n", ""), ("msp_engineer = 303\n", "")]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:17: clients[0].channels.msp: missing: the MSP has no server of its own (msp.guild_id is not set), so give its channel in the company's server
        test.toml:20: clients[0].roles.msp_engineer: missing: the MSP has no server of its own (msp.guild_id is not set), so give the MSP engineers' role in the company's server
    ");
}

#[test]
fn msp_channel_and_roles_need_the_msp_server() {
    let text = edited(&[(
        "name = \"Solo MSP\"",
        "name = \"Solo MSP\"\nchannel_id = 901\nlead_role_id = 903",
    )]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:4: msp.channel_id: only used with the MSP's own server: set msp.guild_id too, or remove this and give each client `channels.msp` and `roles.msp_engineer`
        test.toml:5: msp.lead_role_id: only used with the MSP's own server: set msp.guild_id too, or remove this and give each client `channels.msp` and `roles.msp_engineer`
    ");
}

#[test]
fn with_an_msp_server_its_queue_and_roles_are_required_and_client_msp_ones_optional() {
    let text = edited(&[
        ("name = \"Solo MSP\"", "name = \"Solo MSP\"\nguild_id = 900"),
        ("msp = 202\n", ""),
        ("msp_engineer = 303\n", ""),
    ]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:2: msp.channel_id: missing: the MSP has its own server (msp.guild_id is set), so give the channel of its task queue there
        test.toml:2: msp.engineer_role_id: missing: the MSP has its own server (msp.guild_id is set), so give the role of its engineers there
        test.toml:2: msp.lead_role_id: missing: the MSP has its own server (msp.guild_id is set), so give the role of its leads there
    ");
    let text = edited(&[
        (
            "name = \"Solo MSP\"",
            &format!("name = \"Solo MSP\"\n{MSP_SERVER}"),
        ),
        ("msp = 202\n", ""),
        ("msp_engineer = 303\n", ""),
    ]);
    let config = load(&text);
    let server = config.msp().server.unwrap();
    assert_eq!(
        (
            server.guild_id.get(),
            server.queue_channel.get(),
            server.engineer_role.get(),
            server.lead_role.get()
        ),
        (900, 901, 902, 903)
    );
    let alpha = &config.clients()[0];
    assert_eq!(alpha.roles.msp_engineer, None);
    assert_eq!(
        config.msp_channel(&alpha.key).map(ChannelId::get),
        Some(901)
    );
}

#[test]
fn a_client_cannot_live_in_the_msps_server_or_share_a_server() {
    let text = edited(&[
        (
            "name = \"Solo MSP\"",
            &format!("name = \"Solo MSP\"\n{MSP_SERVER}"),
        ),
        ("guild_id = 101", "guild_id = 900"),
    ]);
    insta::assert_snapshot!(errors(&text), @"test.toml:20: clients[0].guild_id: server 900 is the MSP's own server, msp.guild_id (line 4): a client needs its own server");
    let text = format!(
        "{MINIMAL}{}",
        BETA.replace("guild_id = 111", "guild_id = 101")
    );
    insta::assert_snapshot!(errors(&text), @"test.toml:30: clients[1].guild_id: server 101 is already clients[0].guild_id (line 15): each client has its own server");
}

#[test]
fn roles_keep_sides_and_servers_apart() {
    // One IT role for manager and technician is fine.
    let config = load(&edited(&[("it_technician = 302", "it_technician = 301")]));
    assert_eq!(config.clients()[0].roles.it_technician.get(), 301);
    // The MSP sharing a role with internal IT is not; nor is the @everyone role.
    let text = edited(&[
        ("msp_engineer = 303", "msp_engineer = 301"),
        ("it_technician = 302", "it_technician = 101"),
    ]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:23: clients[0].roles.it_technician: this is the server's @everyone role (its id is the server's): use a role given only to the right people
        test.toml:24: clients[0].roles.msp_engineer: role 301 is also clients[0].roles.it_manager (line 22): internal IT and the MSP need different roles
    ");
    // A role of another client's server is a copy-paste mistake.
    let text = format!(
        "{MINIMAL}{}",
        BETA.replace("it_manager = 311", "it_manager = 301")
    );
    insta::assert_snapshot!(errors(&text), @"test.toml:35: clients[1].roles.it_manager: role 301 is already clients[0].roles.it_manager (line 22), in another server: each server has its own roles");
}

#[test]
fn channels_serve_one_purpose() {
    let text = edited(&[("msp = 202", "msp = 201\ninternal_it = 201")]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:19: clients[0].channels.msp: channel 201 is already clients[0].channels.requests (line 18): each channel serves one purpose
        test.toml:20: clients[0].channels.internal_it: channel 201 is already clients[0].channels.requests (line 18): each channel serves one purpose
    ");
}

#[test]
fn category_problems_are_named() {
    let text = format!(
        "{}{}",
        edited(&[("keywords = [\"vpn\", \"rete\"]", "keywords = []")]),
        r#"
[[categories]]
name = "Net Work"
keywords = ["VPN", "!!", "  "]

[[categories]]
name = "ok"
keywords = ["fine"]
owner = "msp"
priority = "1"
"#
    );
    insta::assert_snapshot!(errors(&text), @r#"
        test.toml:7: categories[0].keywords: empty: list at least one word that sends a request here, e.g. ["vpn", "rete"]
        test.toml:26: categories[1].owner: missing: the side that owns it: "internal" (the company's IT) or "msp"
        test.toml:26: categories[1].priority: missing: a priority, "P1" (most urgent) to "P4"
        test.toml:27: categories[1].name: `Net Work` is not a valid category name: use 1 to 32 lower-case letters, digits, `-` or `_` (e.g. `network`)
        test.toml:28: categories[1].keywords[1]: `!!` has no letters or digits, so it can never match
        test.toml:28: categories[1].keywords[2]: `  ` has no letters or digits, so it can never match
    "#);
}

#[test]
fn a_keyword_belongs_to_one_category() {
    let text = edited(&[(
        "priority = \"P2\"\n",
        "priority = \"P2\"\n\n[[categories]]\nname = \"vpn\"\nkeywords = [\"Rete\"]\nowner = \"internal\"\npriority = \"P3\"\n",
    )]);
    insta::assert_snapshot!(errors(&text), @"test.toml:13: categories[1].keywords[0]: `Rete` is already a keyword at categories[0].keywords[1] (line 7); the category listed first wins, so keep it in only one category");
}

#[test]
fn territory_lists_name_known_categories_once() {
    let text = format!(
        "{MINIMAL}[clients.territory]\nit_owns = [\"network\", \"network\"]\nneeds_approval = [\"printers\"]\n"
    );
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:26: clients[0].territory.it_owns[1]: `network` is listed twice
        test.toml:27: clients[0].territory.needs_approval[0]: unknown category `printers`; the categories are: network
    ");
}

#[test]
fn territory_overrides_apply_to_owner_and_approval_only() {
    let text = format!(
        "{MINIMAL}[clients.territory]\nit_owns = [\"network\"]\nneeds_approval = [\"network\"]\n"
    );
    let config = load(&text);
    let rule = &config.clients()[0].routing.categories[0];
    assert_eq!(rule.owner, Side::Internal);
    assert!(rule.needs_approval);
    assert_eq!(rule.priority, Priority::P2);
    assert_eq!(rule.keywords, ["vpn", "rete"]);
    // The global rule is untouched.
    assert_eq!(config.categories()[0].owner, Side::Msp);
    assert!(!config.categories()[0].needs_approval);
}

#[test]
fn the_whole_is_required_msp_and_clients() {
    insta::assert_snapshot!(errors("[ponte]\ndata_dir = \"\"\ncache_capacity_mb = 5000\n"), @r#"
        test.toml: msp: missing [msp] table: give at least the `name` of the MSP this deployment serves
        test.toml: clients: no clients: add a [[clients]] table for each client company
        test.toml:2: ponte.data_dir: empty: give the directory for Ponte's data, e.g. "./ponte-data"
        test.toml:3: ponte.cache_capacity_mb: 5000 is out of range: use 1 to 4096 (megabytes)
    "#);
    insta::assert_snapshot!(errors(""), @r"
        test.toml: msp: missing [msp] table: give at least the `name` of the MSP this deployment serves
        test.toml: clients: no clients: add a [[clients]] table for each client company
    ");
}

#[test]
fn shape_problems_name_the_path() {
    let text = MINIMAL.replace("[[clients]]", "[clients]");
    insta::assert_snapshot!(errors(&text), @"test.toml:11: clients: expected a list of tables: write each one under its own [[clients]] header");
    insta::assert_snapshot!(errors(&format!("client = 3\ncolour = \"blue\"\n{MINIMAL}")), @"
    test.toml:1: client: unknown field `client`: did you mean `clients`?
    test.toml:2: colour: unknown field `colour`, expected one of `ponte`, `msp`, `categories`, `clients`, `oncall`, `escalation`, `pagers`, `escalate`, `inbound`, `heartbeat_out`
    ");
    insta::assert_snapshot!(errors(&edited(&[("keywords = [\"vpn\", \"rete\"]", "keywords = \"vpn\"")])), @r#"test.toml:7: categories[0].keywords: invalid type: string "vpn", expected a list, e.g. ["a", "b"]"#);
    insta::assert_snapshot!(errors(&format!("[ponte]\ncache = 3\n{MINIMAL}")), @"test.toml:2: ponte.cache: unknown field `cache`, expected one of `data_dir`, `cache_capacity_mb`, `language`, `health_addr`, `discord_timeout_seconds`, `timers_stale_seconds`");
    insta::assert_snapshot!(errors(&edited(&[("[clients.roles]", "[clients.roles]\napi_key = \"x\"")])), @"test.toml:22: clients[0].roles.api_key: unknown field `api_key`: secrets never go in the configuration file; remove `api_key`: Ponte reads secrets from the environment");
}

#[test]
fn syntax_errors_are_all_reported_with_their_lines() {
    let text = edited(&[
        ("name = \"Alpha\"", "name = Alpha"),
        ("requests = 201", "requests = = 201"),
    ]);
    insta::assert_snapshot!(errors(&text), @r"
        test.toml:12: string values must be quoted, expected literal string
        test.toml:18: extra `=`, expected nothing
        test.toml:18: unexpected key or value, expected newline, `#`
    ");
    insta::assert_snapshot!(errors(&format!("{MINIMAL}[msp]\nname = \"again\"\n")), @r"
        test.toml:25: duplicate key `msp`: each key and table may be defined once
        test.toml:26: duplicate key `name`: each key and table may be defined once
    ");
}

#[test]
fn the_shape_in_the_module_documentation_loads() {
    let doc: String = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .skip_while(|l| *l != "```toml")
        .skip(1)
        .take_while(|l| *l != "```")
        .map(|l| format!("{l}\n"))
        .collect();
    let config = load(&doc);
    assert_eq!(config.clients()[0].key.as_str(), "ACME");
    assert!(config.msp().server.is_some());
}

#[test]
fn the_summary_says_when_the_msp_works_in_the_clients_server() {
    let config = load(&format!(
        "{MINIMAL}[clients.territory]\nit_owns = [\"network\"]\n"
    ));
    insta::assert_snapshot!(config.summary(), @"
    MSP: Solo MSP (language en)
      no server of its own: works in each client's server
    Data: ./ponte-data (cache 16 MB); default language en
    Routing: the first category with a keyword in the request wins; * marks a client's override.
    The MSP needs the IT manager's approval on categories marked yes and on those internal IT owns.

    Client ALPHA: Alpha
      server 101, language en, time zone Europe/Rome
      business hours: Mon 09:00-18:00; Tue 09:00-18:00; Wed 09:00-18:00; Thu 09:00-18:00; Fri 09:00-18:00
      SLA (first response/resolution): P1 30m/4h 24/7, P2 2h/8h, P3 4h/24h, P4 8h/40h; warning at 75%
      digest: 08:30 on working days; msp in 202
      channels: requests 201, internal IT -, MSP 202
      roles: IT manager 301, IT technician 302, MSP engineer 303, MSP lead -
      when no keyword matches: internal, P3
      routing:
        category  owner      priority  approval  keywords
        network   internal*  P2        -         vpn, rete
    ");
}

#[test]
fn business_hours_default_to_weekdays_nine_to_six_and_can_be_written_per_day() {
    use jiff::civil::{Time, Weekday};
    let config = load(MINIMAL);
    let alpha = &config.clients()[0];
    let nine_to_six = [(Time::constant(9, 0, 0, 0), Time::constant(18, 0, 0, 0))];
    let ranges = |w| -> Vec<(Time, Time)> {
        alpha
            .calendar
            .hours(w)
            .iter()
            .map(|r| (r.start, r.end))
            .collect()
    };
    assert_eq!(ranges(Weekday::Monday), nine_to_six);
    assert_eq!(ranges(Weekday::Saturday), []);

    let text = format!(
        "{MINIMAL}\n[clients.hours]\nmonday = \"08:30-12:30, 14:00-18:00\"\nsaturday = \"closed\"\nsunday = \"20:00-24:00\"\nholidays = [\"2026-12-08\"]\n"
    );
    let config = load(&text);
    let alpha = &config.clients()[0];
    assert_eq!(alpha.calendar.hours(Weekday::Monday).len(), 2);
    assert!(alpha.calendar.hours(Weekday::Tuesday).is_empty());
    assert_eq!(
        alpha.calendar.hours(Weekday::Sunday)[0].end,
        Time::midnight()
    );
    assert!(
        alpha
            .calendar
            .holidays()
            .contains(&jiff::civil::date(2026, 12, 8))
    );
}

#[test]
fn bad_business_hours_are_refused_where_they_are() {
    let text = format!(
        "{MINIMAL}\n[clients.hours]\nmonday = \"9 to 5\"\ntuesday = \"18:00-09:00\"\nholidays = [\"8 dicembre\"]\n"
    );
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:27: clients[0].hours.monday: `9 to 5` is not opening hours: write ranges like "09:00-13:00, 14:00-18:00", or "closed"
    test.toml:29: clients[0].hours.holidays[0]: `8 dicembre` is not a date: write it as "2026-12-25"
    "#);
    let text = format!("{MINIMAL}\n[clients.hours]\ntuesday = \"18:00-09:00\"\n");
    insta::assert_snapshot!(errors(&text), @"test.toml:26: clients[0].hours: Tuesday: the range 18:00:00..09:00:00 ends before it starts: fix the opening hours");
}

mod sla_and_digest {
    //! `[clients.sla]`, `[clients.digest]` and `[msp.digest]`.

    use super::*;
    use jiff::SignedDuration;
    use jiff::civil::{Time, Weekday, date};

    const SLA: &str = r#"
[clients.sla]
warn_at_percent = 80
around_the_clock = ["P1", "P2"]
[clients.sla.first_response]
P1 = "15m"
P3 = "2h 30m"
[clients.sla.resolution]
P4 = "16h"

[clients.digest]
time = "07:45"
days = ["monday", "wed", "fri"]
sides = ["msp"]
"#;

    #[test]
    fn targets_and_digest_settings_are_read_with_defaults_for_the_rest() {
        let config = load(&format!("{MINIMAL}{SLA}"));
        let client = &config.clients()[0];
        let sla = &client.sla;
        assert_eq!(sla.at_risk_percent, 80);
        assert_eq!(sla.around_the_clock, [true, true, false, false]);
        assert_eq!(
            sla.first_response_for(Priority::P1),
            SignedDuration::from_mins(15)
        );
        assert_eq!(
            sla.first_response_for(Priority::P2),
            SignedDuration::from_hours(2)
        );
        assert_eq!(
            sla.first_response_for(Priority::P3),
            SignedDuration::from_mins(150)
        );
        assert_eq!(
            sla.resolution_for(Priority::P4),
            SignedDuration::from_hours(16)
        );
        let digest = &client.digest;
        assert_eq!(digest.schedule.time, Time::constant(7, 45, 0, 0));
        assert_eq!(
            digest.schedule.days,
            Some(vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday])
        );
        assert_eq!(digest.sides, vec![Side::Msp]);
        let key = client.key.clone();
        assert_eq!(
            config.digest_channel(&key, Side::Msp).map(|c| c.get()),
            Some(202)
        );
        assert_eq!(config.digest_channel(&key, Side::Internal), None);
    }

    #[test]
    fn without_the_tables_the_defaults_apply() {
        let config = load(MINIMAL);
        let client = &config.clients()[0];
        assert_eq!(client.sla, default_targets());
        assert_eq!(client.digest.schedule.time, DEFAULT_DIGEST_TIME);
        assert_eq!(client.digest.schedule.days, None);
        // No internal IT channel: only the MSP gets a digest.
        assert_eq!(client.digest.sides, vec![Side::Msp]);
        assert!(config.msp().digest.is_none());
        // With an internal IT channel, both sides do.
        let config = load(&edited(&[("msp = 202", "msp = 202\ninternal_it = 204")]));
        let key = config.clients()[0].key.clone();
        assert_eq!(
            config.clients()[0].digest.sides,
            vec![Side::Internal, Side::Msp]
        );
        assert_eq!(
            config.digest_channel(&key, Side::Internal).map(|c| c.get()),
            Some(204)
        );
    }

    #[test]
    fn digest_days_are_working_days_without_holidays_and_dst_correct() {
        let text = format!(
            "{MINIMAL}\n[clients.hours]\nmonday = \"09:00-18:00\"\ntuesday = \"09:00-18:00\"\nholidays = [\"2026-03-31\"]\n"
        );
        let config = load(&text);
        let client = &config.clients()[0];
        let schedule = &client.digest.schedule;
        let cal = &client.calendar;
        assert!(schedule.is_digest_day(date(2026, 3, 30), cal)); // Monday
        assert!(!schedule.is_digest_day(date(2026, 3, 31), cal)); // a holiday
        assert!(!schedule.is_digest_day(date(2026, 4, 1), cal)); // closed
        // 08:30 in Rome is 07:30 UTC before the DST change (29 March) and
        // 06:30 UTC after it.
        let before = schedule.instant_on(date(2026, 3, 23), cal.tz()).unwrap();
        let after = schedule.instant_on(date(2026, 3, 30), cal.tz()).unwrap();
        assert_eq!(before.to_string(), "2026-03-23T07:30:00Z");
        assert_eq!(after.to_string(), "2026-03-30T06:30:00Z");
        assert_eq!(
            schedule.next_after(before, cal),
            Some("2026-03-24T07:30:00Z".parse().unwrap())
        );
        // From Tuesday 24 at noon the next one skips to Monday 30.
        assert_eq!(
            schedule.next_after("2026-03-24T12:00:00Z".parse().unwrap(), cal),
            Some(after)
        );
        assert_eq!(
            schedule.latest_due("2026-03-31T12:00:00Z".parse().unwrap(), cal),
            Some((date(2026, 3, 30), after))
        );
    }

    #[test]
    fn bad_targets_times_days_and_sides_are_named_with_their_line() {
        let text = format!(
            "{MINIMAL}\n[clients.sla]\nwarn_at_percent = 100\naround_the_clock = [\"P5\"]\n[clients.sla.first_response]\nP1 = \"2 days\"\nP2 = \"0m\"\n\n[clients.digest]\ntime = \"8.30\"\ndays = [\"someday\"]\nsides = [\"internal\", \"vendor\"]\n"
        );
        insta::assert_snapshot!(errors(&text), @r#"
        test.toml:27: clients[0].sla.warn_at_percent: 100 is out of range: a warning comes at 1 to 99 percent of a target (default 75)
        test.toml:28: clients[0].sla.around_the_clock[0]: `P5` is not a priority: use "P1" to "P4"
        test.toml:30: clients[0].sla.first_response.P1: `2 days` is not a duration: write business time like "30m", "4h" or "1h 30m" (no days: write "16h" for two working days of eight hours)
        test.toml:31: clients[0].sla.first_response.P2: `0m` is not a target: it must be more than zero
        test.toml:34: clients[0].digest.time: `8.30` is not a time of day: write it as "08:30"
        test.toml:35: clients[0].digest.days[0]: `someday` is not a weekday: write "monday" to "sunday" (or "mon" to "sun")
        test.toml:36: clients[0].digest.sides[0]: internal IT has no channel for its digest: set channels.internal_it or digest.internal_channel
        test.toml:36: clients[0].digest.sides[1]: `vendor` is not a side: use "internal" or "msp"
        "#);
    }

    #[test]
    fn an_unknown_priority_key_is_a_shape_problem() {
        let text = format!("{MINIMAL}\n[clients.sla.first_response]\nP9 = \"1h\"\n");
        insta::assert_snapshot!(errors(&text), @"test.toml:27: clients[0].sla.first_response.P9: unknown field `P9`, expected one of `P1`, `P2`, `P3`, `P4`");
    }

    #[test]
    fn the_leads_digest_goes_to_a_channel_or_a_person() {
        let lead = "[msp.digest]\ntime = \"08:00\"\ntime_zone = \"Europe/Rome\"\nuser_id = 777\n";
        let text = edited(&[(
            "name = \"Solo MSP\"\n",
            &format!("name = \"Solo MSP\"\n{lead}"),
        )]);
        let config = load(&text);
        let digest = config.msp().digest.as_ref().unwrap();
        assert_eq!(digest.target, LeadTarget::User(777));
        assert_eq!(digest.schedule.time, Time::constant(8, 0, 0, 0));
        let both = "[msp.digest]\nchannel_id = 5\nuser_id = 777\n";
        let text = edited(&[(
            "name = \"Solo MSP\"\n",
            &format!("name = \"Solo MSP\"\n{both}"),
        )]);
        insta::assert_snapshot!(errors(&text), @"test.toml:6: msp.digest.user_id: give either channel_id (a channel) or user_id (a direct message), not both");
        let none = "[msp.digest]\ntime_zone = \"Mars/Olympus\"\n";
        let text = edited(&[(
            "name = \"Solo MSP\"\n",
            &format!("name = \"Solo MSP\"\n{none}"),
        )]);
        insta::assert_snapshot!(errors(&text), @r#"
        test.toml:4: msp.digest: missing channel_id or user_id: where the MSP lead's digest goes (a channel, or a direct message to this person)
        test.toml:5: msp.digest.time_zone: unknown time zone `Mars/Olympus`: use an IANA name such as "Europe/Rome"
        "#);
    }
}

#[test]
fn critical_systems_and_category_actions_are_read() {
    let config = load(include_str!("../../config/ponte.example.toml"));
    let acme = config
        .routing(&crate::domain::ClientKey::new("ACME").unwrap())
        .unwrap();
    assert!(acme.critical.iter().any(|c| c == "centralino"));
    let software = acme
        .categories
        .iter()
        .find(|r| r.category.as_str() == "software")
        .unwrap();
    assert!(software.actions.iter().any(|a| a == "install"));
    let (rule, _) = acme.match_keywords("install Zoom on my PC").unwrap();
    assert_eq!(rule.category.as_str(), "software");
    let bad = errors(&include_str!("../../config/ponte.example.toml").replacen(
        "critical_systems = [\"centralino\"",
        "critical_systems = [\"--\"",
        1,
    ));
    assert!(
        bad.contains("critical_systems[0]: `--` has no letters"),
        "{bad}"
    );
}

// ---- Monitoring (issue 20) ----

#[test]
fn monitoring_settings_load_with_their_defaults() {
    let text = format!(
        "{MINIMAL}
[[clients.integrations]]
name = \"prometheus\"
format = \"alertmanager\"
secret_env = \"PONTE_ALPHA_ALERTS\"
[clients.integrations.severity]
Disaster = \"P1\"

[[clients.heartbeats]]
name = \"backup\"
interval = \"1h\"
secret_env = \"PONTE_ALPHA_BEAT\"
category = \"network\"

[inbound]
addr = \"127.0.0.1:9465\"
"
    );
    let config = Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let client = &config.clients()[0];
    let i = &client.integrations[0];
    assert_eq!(i.auth, super::monitoring::InboundAuth::Bearer);
    assert_eq!(i.rate_per_minute, 600);
    assert_eq!(i.storm_threshold, 5);
    assert_eq!(
        i.priority_of("disaster"),
        Some(Priority::P1),
        "configured, any case"
    );
    assert_eq!(
        i.priority_of("warning"),
        Some(Priority::P3),
        "a default name"
    );
    assert_eq!(i.priority_of("weird"), None);
    let m = &client.heartbeats[0];
    assert_eq!(m.priority, Priority::P1);
    assert_eq!(m.grace, jiff::SignedDuration::from_mins(1));
    assert_eq!(m.category.as_deref(), Some("network"));
    let inbound = config.inbound().unwrap();
    assert_eq!(inbound.max_body_bytes, 1024 * 1024);
}

#[test]
fn every_monitoring_mistake_is_named_with_its_line() {
    let text = format!(
        "{MINIMAL}
[[clients.integrations]]
name = \"Prometheus\"
format = \"nagios\"
auth = \"basic\"
secret_env = \"my secret\"
rate_per_minute = 0
storm_threshold = -1
to = \"them\"
[clients.integrations.severity]
critical = \"P0\"

[[clients.integrations]]
name = \"ok\"

[[clients.integrations]]
name = \"ok\"
format = \"generic\"
secret_env = \"X\"

[[clients.integrations]]
name = \"heartbeat\"
format = \"generic\"
secret_env = \"Y\"

[[clients.heartbeats]]
name = \"backup\"
interval = \"soon\"
grace = \"2s\"
secret_env = \"PONTE_BEAT\"
category = \"nope\"
priority = \"urgent\"

[inbound]
addr = \"everywhere\"
max_body_kb = 0
"
    );
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:27: clients[0].integrations[0].name: `Prometheus` cannot be part of a URL: use 1 to 40 lowercase letters, digits, - or _
    test.toml:28: clients[0].integrations[0].format: unknown format `nagios`: use "alertmanager" or "generic"
    test.toml:29: clients[0].integrations[0].auth: unknown authentication `basic`: use "bearer" (Authorization: Bearer <secret>) or "hmac" (X-Ponte-Signature over the body)
    test.toml:30: clients[0].integrations[0].secret_env: give the name of an environment variable (capitals, digits and _), e.g. "PONTE_ACME_ALERTS_SECRET"; the secret itself never goes in this file
    test.toml:31: clients[0].integrations[0].rate_per_minute: 0 is out of range: use 1 to 60000
    test.toml:32: clients[0].integrations[0].storm_threshold: -1 is out of range: use 0 to 10000
    test.toml:33: clients[0].integrations[0].to: unknown side `them`: use "auto" (the routing rules decide), "internal" or "msp"
    test.toml:35: clients[0].integrations[0].severity.critical: `P0` is not a priority; use P1, P2, P3 or P4
    test.toml:37: clients[0].integrations[1].format: missing: "alertmanager" (Prometheus Alertmanager's webhook) or "generic" (Ponte's JSON)
    test.toml:37: clients[0].integrations[1].secret_env: missing: the environment variable holding the secret callers must show, e.g. "PONTE_ACME_ALERTS_SECRET"
    test.toml:41: clients[0].integrations[2].name: `ok` is already used by this client: names must differ
    test.toml:46: clients[0].integrations[3].name: `heartbeat` is the name Ponte gives the heartbeat monitors' alerts: name the integration after its system, e.g. "uptime-kuma"
    test.toml:52: clients[0].heartbeats[0].interval: `soon` is not a duration: write e.g. "5m", "1h" or "90s"
    test.toml:53: clients[0].heartbeats[0].grace: `2s` is out of range: use 10s to 168h
    test.toml:55: clients[0].heartbeats[0].category: `nope` is not a category: use one of the [[categories]] names ("network")
    test.toml:56: clients[0].heartbeats[0].priority: `urgent` is not a priority; use P1, P2, P3 or P4
    test.toml:59: inbound.addr: `everywhere` is not an address and port: write e.g. "0.0.0.0:9465"
    test.toml:60: inbound.max_body_kb: 0 is out of range: use 1 to 16384 (KiB)
    "#);
}

#[test]
fn monitoring_tables_refuse_unknown_keys() {
    let text = format!("{MINIMAL}\n[[clients.integrations]]\nname = \"a\"\nsecret = \"x\"\n");
    insta::assert_snapshot!(errors(&text), @"test.toml:28: clients[0].integrations[0].secret: unknown field `secret`: secrets never go in the configuration file; remove `secret`: Ponte reads secrets from the environment");
    let text = format!("{MINIMAL}\n[inbound]\naddress = \"0.0.0.0:1\"\n");
    insta::assert_snapshot!(errors(&text), @"test.toml:27: inbound.address: unknown field `address`, expected `addr` or `max_body_kb`");
}

#[test]
fn the_heartbeat_out_and_the_timers_limit_are_checked() {
    let text = format!(
        "[ponte]\ntimers_stale_seconds = 120\n{MINIMAL}
[heartbeat_out]
url_env = \"PONTE_HEARTBEAT_URL\"
method = \"POST\"
every_seconds = 30
body = '{{\"event_action\": \"trigger\"}}'
"
    );
    let config = Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let out = config.heartbeat_out().unwrap();
    assert_eq!(
        out.url,
        super::monitoring::PingUrl::Env("PONTE_HEARTBEAT_URL".into())
    );
    assert_eq!(out.every, std::time::Duration::from_secs(30));
    assert_eq!(out.timeout, std::time::Duration::from_secs(10));
    assert_eq!(config.timers_stale(), std::time::Duration::from_secs(120));
    let text = format!(
        "[ponte]\ntimers_stale_seconds = 5\n{MINIMAL}
[heartbeat_out]
url = \"http://hc-ping.com/abc\"
method = \"GET\"
every_seconds = 5
timeout_seconds = 30
body = \"{{}}\"
"
    );
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:2: ponte.timers_stale_seconds: 5 is out of range: use 60 to 3600 (the timers run at least every 30 s)
    test.toml:29: heartbeat_out.url: use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)
    test.toml:31: heartbeat_out.every_seconds: 5 is out of range: use 10 to 3600
    test.toml:33: heartbeat_out.body: a GET sends no body: set method = "POST"
    "#);
    let text = format!(
        "{MINIMAL}\n[heartbeat_out]\nurl = \"https://a.example\"\nurl_env = \"X\"\nmethod = \"PUT\"\nevery_seconds = 20\ntimeout_seconds = 20\n"
    );
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:28: heartbeat_out.url_env: give `url` or `url_env`, not both
    test.toml:29: heartbeat_out.method: unknown method `PUT`: use "GET" or "POST"
    test.toml:31: heartbeat_out.timeout_seconds: 20 is out of range: use 1 to 60, and less than every_seconds (20)
    "#);
    let text = format!("{MINIMAL}\n[heartbeat_out]\nmethod = \"POST\"\nbody = \"not json\"\n");
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:26: heartbeat_out.url: missing: the URL to call, e.g. "https://hc-ping.com/<uuid>", or `url_env` naming the environment variable that holds it
    test.toml:28: heartbeat_out.body: the body must be JSON (it is sent as application/json)
    "#);
}
