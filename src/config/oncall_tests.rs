//! The checks of the on-call part of the configuration.

use jiff::SignedDuration;

use super::oncall::PagerKind;
use super::*;
use crate::domain::escalation::Target;
use crate::domain::{PersonId, Priority};

const BASE: &str = r#"
[msp]
name = "Solo MSP"

[[categories]]
name = "network"
keywords = ["vpn"]
owner = "msp"
priority = "P1"

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

const ONCALL: &str = r#"
[[oncall]]
name = "primary"
time_zone = "Europe/Rome"
members = [9021, 9022]
start = "2026-11-02"
handover = "09:00"
shift = "1w"

[[oncall]]
name = "secondary"
time_zone = "Europe/Rome"
members = [9022, 9021]
start = "2026-11-02"
shift = "12h"

[[pagers]]
name = "pd"
kind = "pagerduty"
url = "https://events.pagerduty.com/v2/enqueue"
routing_key_env = "PONTE_PD_KEY"

[[pagers]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9999/page"
secret_env = "PONTE_HOOK_SECRET"
max_attempts = 3

[[escalation]]
priority = "P1"
[[escalation.steps]]
after_minutes = 0
oncall = "primary"
[[escalation.steps]]
after_minutes = 10
oncall = "secondary"
[[escalation.steps]]
after_minutes = 30
pager = "pd"

[[escalation]]
client = "ALPHA"
priority = "P3"
repeat = 1
repeat_after_minutes = 60
[[escalation.steps]]
after_minutes = 0
person = 9023

[escalate]
max_per_task = 3
min_interval_minutes = 5
"#;

fn load(text: &str) -> Config {
    Config::from_toml_str(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str) -> String {
    match Config::from_toml_str(text, "test.toml") {
        Ok(_) => panic!("the configuration should be refused"),
        Err(e) => e.to_string(),
    }
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn without_oncall_tables_nobody_is_paged() {
    let config = load(BASE);
    let alpha = ClientKey::new("ALPHA").unwrap();
    assert!(config.oncall().schedules.is_empty());
    assert!(config.oncall().policy_for(&alpha, Priority::P1).is_none());
    assert!(config.oncall().paging_rules(&alpha).escalate.is_empty());
    assert_eq!(config.oncall().escalate, oncall::EscalateLimits::default());
}

#[test]
fn schedules_policies_pagers_and_limits_are_read() {
    let config = load(&with(ONCALL));
    let oncall = config.oncall();
    assert_eq!(oncall.schedules.len(), 2);
    let primary = oncall.schedule("primary").unwrap();
    assert_eq!(primary.side, Side::Msp);
    assert_eq!(
        primary.schedule.rotation().members(),
        &[PersonId(9021), PersonId(9022)]
    );
    // The first shift is the first member's, from Monday 09:00 in Rome.
    let monday: jiff::Timestamp = "2026-11-02T09:00:00Z".parse().unwrap();
    assert_eq!(primary.schedule.on_call(monday).person, PersonId(9021));
    // No `handover`: 09:00.
    let secondary = oncall.schedule("secondary").unwrap();
    assert_eq!(secondary.schedule.rotation().start().hour(), 9);

    let alpha = ClientKey::new("ALPHA").unwrap();
    let p1 = oncall.policy_for(&alpha, Priority::P1).unwrap();
    assert!(p1.client.is_none() && p1.out_of_hours);
    assert_eq!(
        p1.policy
            .steps
            .iter()
            .map(|s| (s.after.as_mins(), s.target.clone()))
            .collect::<Vec<_>>(),
        vec![
            (0, Target::OnCall("primary".into())),
            (10, Target::OnCall("secondary".into())),
            (30, Target::Pager("pd".into())),
        ]
    );
    let p3 = oncall.policy_for(&alpha, Priority::P3).unwrap();
    assert_eq!(p3.client.as_ref(), Some(&alpha));
    assert!(!p3.out_of_hours);
    assert_eq!(p3.policy.repeat, 1);
    assert_eq!(p3.policy.repeat_after, SignedDuration::from_mins(60));
    assert!(oncall.policy_for(&alpha, Priority::P2).is_none());
    let rules = oncall.paging_rules(&alpha);
    assert_eq!(rules.escalate, vec![Priority::P1, Priority::P3]);
    assert_eq!(rules.around_the_clock, vec![Priority::P1]);

    assert_eq!(
        oncall.pager("pd").unwrap().kind,
        PagerKind::PagerDuty {
            routing_key_env: "PONTE_PD_KEY".into()
        }
    );
    assert_eq!(oncall.pager("pd").unwrap().max_attempts, 5);
    assert_eq!(oncall.pager("hook").unwrap().max_attempts, 3);
    assert_eq!(oncall.escalate.max_per_task, 3);
    assert_eq!(oncall.escalate.min_interval, SignedDuration::from_mins(5));

    let summary = config.summary();
    assert!(
        summary.contains("escalation P1 for every client, at any hour:"),
        "{summary}"
    );
    assert!(
        summary.contains("after 10 min: on call in `secondary`"),
        "{summary}"
    );
    assert!(summary.contains("secret from $PONTE_PD_KEY"), "{summary}");
}

#[test]
fn problems_name_the_line_and_the_field() {
    let text = with(
        r#"
[[oncall]]
name = "primary"
time_zone = "Mars/Olympus"
members = []
start = "next monday"
shift = "a while"

[[pagers]]
name = "pd"
kind = "pagerduty"
url = "events.pagerduty.com"
routing_key_env = "R0ut1ng-key-here"

[[escalation]]
client = "NOPE"
priority = "P1"
out_of_hours = false
[[escalation.steps]]
after_minutes = 10
oncall = "nobody"
[[escalation.steps]]
after_minutes = 5
role = 0
channel = 7
"#,
    );
    insta::assert_snapshot!(errors(&text), @r#"
    test.toml:26: oncall[0].time_zone: unknown time zone `Mars/Olympus`: use an IANA name such as "Europe/Rome"
    test.toml:27: oncall[0].members: empty: list at least one person
    test.toml:28: oncall[0].start: `next monday` is not a date: write it as "2026-11-02"
    test.toml:29: oncall[0].shift: `a while` is not a length: write it as "1w", "7d" or "12h"
    test.toml:34: pagers[0].url: write the full URL, starting with https://
    test.toml:35: pagers[0].routing_key_env: give the name of an environment variable (capitals, digits and _), e.g. "PONTE_PAGERDUTY_KEY"; the secret itself never goes in this file
    test.toml:38: escalation[0].client: `NOPE` is not the key of a client in [[clients]]
    test.toml:40: escalation[0].out_of_hours: P1 always pages, at any hour: remove `out_of_hours = false`
    test.toml:43: escalation[0].steps[0].oncall: no [[oncall]] schedule is named `nobody`
    test.toml:44: escalation[0].steps[1]: give exactly one target: `oncall`, `person`, `role`, `channel` or `pager`
    "#);
}

#[test]
fn a_secret_in_the_file_is_refused() {
    let text = with(
        r#"
[[pagers]]
name = "pd"
kind = "pagerduty"
url = "https://events.pagerduty.com/v2/enqueue"
routing_key = "abc123"
"#,
    );
    let e = errors(&text);
    assert!(e.contains("pagers[0]"), "{e}");
    assert!(e.contains("routing_key"), "{e}");
}

#[test]
fn the_example_configuration_pages_p1_at_once_then_the_secondary_then_the_lead() {
    let config = Config::load(std::path::Path::new("config/ponte.example.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let acme = ClientKey::new("ACME").unwrap();
    let p1 = config.oncall().policy_for(&acme, Priority::P1).unwrap();
    let minutes: Vec<i64> = p1.policy.steps.iter().map(|s| s.after.as_mins()).collect();
    assert_eq!(minutes, vec![0, 10, 30]);
    assert_eq!(
        p1.policy.steps[0].target,
        Target::OnCall("msp-primary".into())
    );
    assert_eq!(
        p1.policy.steps[1].target,
        Target::OnCall("msp-secondary".into())
    );
    let lead = config.msp().server.unwrap().lead_role.get();
    assert_eq!(p1.policy.steps[2].target, Target::Role(lead));
}

/// Issue 6: `on_sla_warning` lets an SLA warning page the first step of a
/// policy that does not page at once.
#[test]
fn on_sla_warning_is_read_and_checked() {
    let policy = |on: &str, first: u32| {
        with(&format!(
            r#"
[[oncall]]
name = "primary"
time_zone = "Europe/Rome"
members = [9021]
start = "2026-11-02"
shift = "1w"

[[escalation]]
priority = "P3"
{on}
[[escalation.steps]]
after_minutes = {first}
oncall = "primary"
"#
        ))
    };
    let alpha = ClientKey::new("ALPHA").unwrap();
    let config = load(&policy("on_sla_warning = true", 120));
    let rule = config.oncall().policy_for(&alpha, Priority::P3).unwrap();
    assert!(rule.on_sla_warning);
    let config = load(&policy("", 120));
    let rule = config.oncall().policy_for(&alpha, Priority::P3).unwrap();
    assert!(!rule.on_sla_warning, "off by default");
    insta::assert_snapshot!(errors(&policy("on_sla_warning = true", 0)), @"test.toml:33: escalation[0].on_sla_warning: the first step already pages at minute 0: remove `on_sla_warning = true`, or start the steps later");
    insta::assert_snapshot!(errors(&policy("on_sla_warning = \"yes\"", 120)), @r#"test.toml:33: escalation[0].on_sla_warning: invalid type: string "yes", expected a boolean"#);
}

#[test]
fn check_config_says_when_a_warning_pages() {
    let text = with(
        r#"
[[oncall]]
name = "primary"
time_zone = "Europe/Rome"
members = [9021]
start = "2026-11-02"
shift = "1w"

[[escalation]]
priority = "P3"
on_sla_warning = true
[[escalation.steps]]
after_minutes = 120
oncall = "primary"
"#,
    );
    let summary = super::summary::render(&load(&text));
    assert!(
        summary.contains(
            "  escalation P3 for every client, from the next business opening:\n    an SLA warning of a task never paged: the first step at once\n    after 120 min: "
        ),
        "{summary}"
    );
}
