//! `ponte report`: SLA figures of one client over a period, read from the
//! store, as text, CSV or JSON. The tasks counted are those created in the
//! period (local dates of the client's time zone, both included); their
//! clocks are taken at the end of the period, or now if that is earlier.
//!
//! [`client_report`] reads snapshots only (their `Task::facts`) and only the tasks
//! created in the period: a range of task numbers (numbers follow creation) plus the
//! few tasks created out of number order (`idx_created`, see `store::keys`). The same
//! figures answer `/sla report` (`crate::app::desk::sla`).

use std::fmt::Write;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::config::ClientConfig;
use crate::domain::sla::{Figures, Report, report_of};
use crate::store::{Store, StoreError, TaskFilter, TaskQuery};

/// Reads the tasks of `client` created between `from` and `to` (local
/// dates, both included) and computes their figures. Blocking (sled).
pub fn client_report(
    store: &dyn Store,
    client: &ClientConfig,
    from: Date,
    to: Date,
    now: Timestamp,
) -> Result<Report, StoreError> {
    let tz = client.calendar.tz();
    let start = tz
        .to_ambiguous_timestamp(from.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_err(|e| StoreError::Corrupt(format!("the period's start: {e}")))?;
    let end_day = to.tomorrow().unwrap_or(to);
    let end = tz
        .to_ambiguous_timestamp(end_day.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_err(|e| StoreError::Corrupt(format!("the period's end: {e}")))?;
    let at = now.min(end);
    // The index by creation: only the client's tasks of the period are
    // read, and only their snapshots (their facts carry what the clocks
    // need of the histories).
    let tasks = store.list(&TaskQuery {
        client: client.key.clone(),
        filter: TaskFilter::CreatedIn {
            from: start,
            to: end,
        },
        after: None,
        limit: usize::MAX,
    })?;
    Ok(report_of(
        tasks.into_iter(),
        &client.sla,
        &client.calendar,
        at,
    ))
}

/// A row as written in CSV and JSON: durations in whole minutes.
#[derive(Debug, Serialize)]
pub struct Row {
    pub side: String,
    pub priority: String,
    pub tasks: usize,
    pub first_response_measured: usize,
    pub first_response_median_min: Option<i64>,
    pub first_response_p90_min: Option<i64>,
    pub first_response_within_target_pct: Option<f64>,
    pub resolution_measured: usize,
    pub resolution_median_min: Option<i64>,
    pub resolution_p90_min: Option<i64>,
    pub resolution_within_target_pct: Option<f64>,
    pub waiting_on_other_side_min: i64,
    pub waiting_on_requester_min: i64,
    /// Breached clocks, and of them those still running (never answered,
    /// never resolved): counted with their running time in the figures.
    pub first_response_breached: usize,
    pub first_response_breached_open: usize,
    pub resolution_breached: usize,
    pub resolution_breached_open: usize,
}

fn mins(d: SignedDuration) -> i64 {
    d.as_secs() / 60
}

fn pct(f: &Figures) -> Option<f64> {
    f.share_within_target().map(|s| (s * 1000.0).round() / 10.0)
}

/// The report's rows in their written form.
pub fn rows(report: &Report) -> Vec<Row> {
    report
        .rows
        .iter()
        .map(|r| Row {
            side: r.side.to_string(),
            priority: r.priority.as_str().to_owned(),
            tasks: r.tasks,
            first_response_measured: r.first_response.measured,
            first_response_median_min: r.first_response.median.map(mins),
            first_response_p90_min: r.first_response.p90.map(mins),
            first_response_within_target_pct: pct(&r.first_response),
            resolution_measured: r.resolution.measured,
            resolution_median_min: r.resolution.median.map(mins),
            resolution_p90_min: r.resolution.p90.map(mins),
            resolution_within_target_pct: pct(&r.resolution),
            waiting_on_other_side_min: mins(r.waiting_on_other_side),
            waiting_on_requester_min: mins(r.waiting_on_requester),
            first_response_breached: r.first_response.breached,
            first_response_breached_open: r.first_response.breached_open,
            resolution_breached: r.resolution.breached,
            resolution_breached_open: r.resolution.breached_open,
        })
        .collect()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// CSV with a header line; empty cells where nothing was measured.
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "side,priority,tasks,first_response_measured,first_response_median_min,first_response_p90_min,first_response_within_target_pct,resolution_measured,resolution_median_min,resolution_p90_min,resolution_within_target_pct,waiting_on_other_side_min,waiting_on_requester_min,first_response_breached,first_response_breached_open,resolution_breached,resolution_breached_open\n",
    );
    for r in rows(report) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.side,
            r.priority,
            r.tasks,
            r.first_response_measured,
            opt(r.first_response_median_min),
            opt(r.first_response_p90_min),
            opt(r.first_response_within_target_pct),
            r.resolution_measured,
            opt(r.resolution_median_min),
            opt(r.resolution_p90_min),
            opt(r.resolution_within_target_pct),
            r.waiting_on_other_side_min,
            r.waiting_on_requester_min,
            r.first_response_breached,
            r.first_response_breached_open,
            r.resolution_breached,
            r.resolution_breached_open
        );
    }
    out
}

/// JSON: `{"client", "from", "to", "rows": [...], "unreadable": [...]}`.
pub fn json(report: &Report, client: &str, from: Date, to: Date) -> String {
    let value = serde_json::json!({
        "client": client,
        "from": from.to_string(),
        "to": to.to_string(),
        "rows": rows(report),
        "unreadable": report.unreadable.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// A table for the terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<3} {:>5}  {:>22}  {:>22}  {:>8}  {:>8}  {:>13}",
        "side",
        "pri",
        "tasks",
        "first resp. med/p90 ok",
        "resolution med/p90 ok",
        "wait oth",
        "wait req",
        "breached(open)"
    );
    let d = |v: Option<SignedDuration>| {
        v.map_or_else(
            || "-".to_owned(),
            |d| format!("{:#}", jiff::SignedDuration::from_mins(d.as_secs() / 60)),
        )
    };
    let p = |f: &Figures| pct(f).map_or_else(|| "-".to_owned(), |p| format!("{p}%"));
    for r in &report.rows {
        let _ = writeln!(
            out,
            "{:<9} {:<3} {:>5}  {:>22}  {:>22}  {:>8}  {:>8}  {:>13}",
            r.side.to_string(),
            r.priority.as_str(),
            r.tasks,
            format!(
                "{}/{} {}",
                d(r.first_response.median),
                d(r.first_response.p90),
                p(&r.first_response)
            ),
            format!(
                "{}/{} {}",
                d(r.resolution.median),
                d(r.resolution.p90),
                p(&r.resolution)
            ),
            d(Some(r.waiting_on_other_side)),
            d(Some(r.waiting_on_requester)),
            format!(
                "{}({}) {}({})",
                r.first_response.breached,
                r.first_response.breached_open,
                r.resolution.breached,
                r.resolution.breached_open
            ),
        );
    }
    if report.rows.is_empty() {
        out.push_str("(no tasks created in the period)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::digest::tests::{acme_tasks, now, office, targets};

    fn sample() -> Report {
        let snapshots = acme_tasks().into_iter().map(|t| t.task);
        let report = report_of(snapshots, &targets(), &office(), now());
        let histories = acme_tasks().into_iter().map(|t| (t.task, t.events));
        let from_histories = crate::domain::sla::report(histories, &targets(), &office(), now());
        assert_eq!(
            report, from_histories,
            "snapshots give the histories' figures"
        );
        report
    }

    #[test]
    fn csv_has_a_row_per_side_and_priority_in_minutes() {
        insta::assert_snapshot!(csv(&sample()), @"
        side,priority,tasks,first_response_measured,first_response_median_min,first_response_p90_min,first_response_within_target_pct,resolution_measured,resolution_median_min,resolution_p90_min,resolution_within_target_pct,waiting_on_other_side_min,waiting_on_requester_min,first_response_breached,first_response_breached_open,resolution_breached,resolution_breached_open
        internal,P3,1,1,25,25,100,0,,,,0,0,0,0,0,0
        internal,P4,2,2,10,30,100,2,20,35,100,0,0,0,0,0,0
        msp,P1,1,1,15,15,100,0,,,,0,0,0,0,0,0
        msp,P2,2,2,0,20,100,0,1440,1440,0,360,0,0,0,1,1
        msp,P3,2,1,30,255,50,0,,,,0,930,1,1,0,0
        ");
    }

    #[test]
    fn json_names_the_client_and_period() {
        let from: Date = "2026-11-01".parse().unwrap();
        let to: Date = "2026-11-30".parse().unwrap();
        let out = json(&sample(), "ACME", from, to);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["client"], "ACME");
        assert_eq!(value["rows"].as_array().unwrap().len(), sample().rows.len());
        insta::assert_snapshot!(text(&sample()), @"
        side      pri tasks  first resp. med/p90 ok   resolution med/p90 ok  wait oth  wait req  breached(open)
        internal  P3      1            25m/25m 100%                   -/- -        0s        0s      0(0) 0(0)
        internal  P4      2            10m/30m 100%            20m/35m 100%        0s        0s      0(0) 0(0)
        msp       P1      1            15m/15m 100%                   -/- -        0s        0s      0(0) 0(0)
        msp       P2      2             0s/20m 100%              24h/24h 0%        6h        0s      0(0) 1(1)
        msp       P3      2          30m/4h 15m 50%                   -/- -        0s   15h 30m      1(1) 0(0)
        ");
    }
}
