//! Plays every script in `tests/scenarios/` through the emulator and the
//! real bot (serenity included), as `ponte sandbox --script FILE` does: the
//! same `ponte::sandbox::play`, from the current time, each script setting
//! its own start. `every_scenario_file_sets_its_start` keeps them so, and
//! `tests/cli.rs` plays one through the built binary.

use std::path::Path;

fn scenario(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("{name}.scenario"));
    let script = std::fs::read_to_string(&path).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // As `ponte sandbox --script` plays it: from now, unless the script's
    // `start` line says otherwise (every script here says when it starts,
    // so it plays the same on any date).
    let start = jiff::Timestamp::now();
    let mut log = Vec::new();
    let result = runtime.block_on(ponte::sandbox::play(
        name,
        &script,
        None,
        start,
        &mut |line| log.push(line.to_owned()),
    ));
    if let Err(failure) = result {
        panic!("{}\n\n--- what happened ---\n{}", failure, log.join("\n"));
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { scenario(stringify!($name)); })*

        /// Every file in tests/scenarios has its test above.
        #[test]
        fn every_scenario_file_is_played() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
            let mut files: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".scenario").map(str::to_owned))
                .collect();
            files.sort();
            let mut listed = vec![$(stringify!($name).to_owned()),*];
            listed.sort();
            assert_eq!(files, listed);
        }
    };
}

scenarios! {
    approval_granted,
    msp_queue,
    approval_refused,
    bad_input,
    bridge_relay,
    dm_request,
    duplicate_join,
    digest_daily,
    digest_down_at_digest_time,
    digest_preview,
    digest_personal,
    digest_personal_two_clients,
    digest_chart,
    sla_report,
    sla_warned_then_breached,
    faults,
    handoff_between_sides,
    hostile_text,
    list_and_mine,
    long_text_and_mentions,
    mention_draft,
    refusals,
    request_by_form,
    request_claim_resolve,
    restart,
    track_as_task,
    two_languages,
    // On-call and escalation (issue 5).
    p1_pages_at_night,
    escalation_restart,
    p2_waits_for_business_hours,
    oncall_now_and_schedule,
    maintenance_silences,
    handover,
    task_escalate,
    oncall_override,
    snooze,
    // Reliability (issue 8).
    faults_for_a_minute,
    // Discord's real failures (issue 17).
    page_dm_closed,
    request_in_thread,
    permission_denied,
    locked_thread,
    deferred_answers,
    page_follows_task,
    rate_limits,
    deleted_thread,
    // Monitoring: alerts and heartbeats (issue 20).
    alerts,
    alert_storm,
    heartbeat_missed,
}

/// Every script says when it starts (its first step is `start`), so that
/// `ponte sandbox --script` plays it the same on any date.
#[test]
fn every_scenario_file_sets_its_start() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("scenario") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = ponte::sandbox::script::parse_script(&text).unwrap();
        assert!(
            matches!(
                lines.first().map(|l| &l.step),
                Some(ponte::sandbox::script::Step::Start(_))
            ),
            "{} does not begin with a `start` line",
            path.display()
        );
    }
}
