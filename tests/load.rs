//! `ponte load` keeps working: a few operations against the real bot and
//! against the baseline. No timing assertions (the machine is shared).

use std::time::Duration;

use ponte::cli::load::{Mix, Options, run};

fn small(baseline: bool) -> Options {
    Options {
        people: 6,
        concurrency: 3,
        requests: Some(20),
        mix: Mix {
            requests: 6,
            claims: 2,
            mentions: 2,
        },
        baseline,
        // Generous: a debug build on a shared machine.
        timeout: Duration::from_secs(30),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_bot_answers_every_operation_and_stores_the_tasks() {
    let report = run(small(false)).await.expect("the load runs");
    let lost: u64 = report.kinds.iter().map(|k| k.lost).sum();
    assert_eq!(lost, 0, "{}", report.table());
    assert_eq!(report.violations, 0, "{}", report.table());
    let refused: u64 = report.kinds.iter().map(|k| k.refused).sum();
    assert_eq!(report.answered + refused, 20, "{}", report.table());
    let requests = &report.kinds[0];
    assert_eq!(requests.kind, "request");
    assert!(requests.answered >= 12, "{}", report.table());
    // Every answered /request created a task (mentions only draft one).
    assert_eq!(report.tasks, requests.answered, "{}", report.table());
    assert!(report.store_bytes > 0 && report.store_bytes_per_task.is_some());
    // Answers, cards and replies.
    assert!(report.bot_messages > report.tasks, "{}", report.table());
    assert_eq!(report.all.count as u64, report.answered);
    assert!(report.all.p50_ms <= report.all.p99_ms && report.all.p99_ms <= report.all.max_ms);
    assert!(report.rss_peak_kib.is_some());
    let json = serde_json::to_value(&report).expect("the report is JSON");
    assert_eq!(json["mode"], "ponte");
    assert_eq!(json["kinds"][2]["kind"], "mention");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baseline_answers_at_once_and_stores_nothing() {
    let report = run(small(true)).await.expect("the baseline runs");
    let lost: u64 = report.kinds.iter().map(|k| k.lost).sum();
    assert_eq!(lost, 0, "{}", report.table());
    assert_eq!(report.answered, 20, "{}", report.table());
    assert_eq!(report.mode, "baseline");
    assert_eq!(report.tasks, 0);
    // No cards: every planned claim was done as a request.
    assert_eq!(report.kinds[1].answered, 0);
    assert_eq!(report.violations, 0, "{}", report.table());
}
