//! `/sla report [client] [period]` (issue 6): the SLA figures of a client
//! over a period, shown only to the asker, computed like `ponte report`
//! (`crate::app::report::client_report`): tasks opened in the period, per side
//! and priority, clocks read at the end of the period (or now).
//!
//! Who sees what: IT staff (technicians, the IT manager) see their own
//! company's report only (naming another client is refused, naming their
//! own is fine); MSP staff pick any client they serve (by key or name), or
//! get the client of the place they ask in. Plain requesters are refused.

use jiff::SignedDuration;

use super::bot::Bot;
use super::identity::Resolved;
use crate::app::engine::{InternalError, PonteError};
use crate::app::reply::Answer;
use crate::app::reply::render::{Reply, limits, minutes_text};
use crate::config::ClientConfig;
use crate::domain::error::Arg;
use crate::domain::period::{self, Period};
use crate::domain::sla::{Figures, Report};
use crate::domain::{ClientKey, Side, UserError};
use crate::i18n::Lang;
use crate::store::Store;

impl<S: Store> Bot<S> {
    pub(super) async fn sla_report(
        &self,
        lang: Lang,
        who: &Resolved,
        client: Option<String>,
        period: Option<String>,
    ) -> Result<Answer, PonteError> {
        let actor = &who.actor;
        if !actor.works_for(actor.side) {
            return Err(UserError::ReportStaffOnly.into());
        }
        let key = report_client(&self.config, actor.side, who, client.as_deref())?;
        if !actor.serves(&key) {
            return Err(UserError::UnknownClient {
                input: key.to_string(),
            }
            .into());
        }
        let config = self.config.clone();
        let Some(client) = config.client(&key) else {
            return Err(UserError::ClientNeeded.into());
        };
        let now = self.clock.now();
        let today = client.calendar.tz().to_datetime(now).date();
        let period = period::parse_period(period.as_deref().unwrap_or(period::DEFAULT), today)?;
        let store = self.ledger.store().clone();
        let (from, to) = (period.from, period.to);
        let report = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || {
                let client = config.client(&key).ok_or_else(|| {
                    crate::store::StoreError::Corrupt("the client is gone".into())
                })?;
                crate::app::report::client_report(&*store, client, from, to, now)
            })
            .await
            .map_err(|e| PonteError::Internal(InternalError::log("sla report", &e)))?
            .map_err(|e| PonteError::Internal(InternalError::log("sla report", &e)))?
        };
        let content = render_report(&self.messages, lang, client, period, &report);
        Ok(Answer::Reply(Reply::ephemeral(content)))
    }
}

/// The client a report (or a digest preview) is about, by the asker's side.
pub(super) fn report_client(
    config: &crate::config::Config,
    side: Side,
    who: &Resolved,
    asked: Option<&str>,
) -> Result<ClientKey, UserError> {
    let named = asked.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        config
            .clients()
            .iter()
            .find(|c| c.key.as_str().eq_ignore_ascii_case(s) || c.name.eq_ignore_ascii_case(s))
            .map(|c| c.key.clone())
            .ok_or_else(|| UserError::UnknownClient {
                input: s.chars().take(40).collect(),
            })
    });
    match side {
        // A company's people: their own company, whatever they name.
        Side::Internal => {
            let own = who.client.clone().ok_or(UserError::ClientNeeded)?;
            match named {
                None => Ok(own),
                Some(Ok(key)) if key == own => Ok(own),
                Some(_) => Err(UserError::ReportOtherClient),
            }
        }
        Side::Msp => match named {
            Some(key) => key,
            // Where no client is (the MSP's queue, a DM): say which.
            None => who
                .client
                .clone()
                .ok_or_else(|| UserError::ClientOptionNeeded {
                    clients: config
                        .clients()
                        .iter()
                        .map(|c| c.key.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
        },
    }
}

fn duration(d: Option<SignedDuration>) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| minutes_text(u32::try_from(d.as_secs().max(0) / 60).unwrap_or(u32::MAX)),
    )
}

fn within(f: &Figures) -> String {
    f.share_within_target()
        .map_or_else(|| "-".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// The report as one message of at most 2000 characters: a title, then one
/// block per side and priority (never cut), then a note of what did not fit.
pub fn render_report(
    messages: &crate::i18n::Messages,
    lang: Lang,
    client: &ClientConfig,
    period: Period,
    report: &Report,
) -> String {
    let t = |id: &str, args: &[(&str, Arg)]| messages.text(lang, id, args);
    let text = |s: String| Arg::Text(s);
    let num = |n: usize| Arg::Number(i64::try_from(n).unwrap_or(i64::MAX));
    let mut head = t(
        "sla-report-title",
        &[
            ("client", text(client.name.clone())),
            ("from", text(period.from.to_string())),
            ("to", text(period.to.to_string())),
        ],
    );
    if report.rows.is_empty() {
        head.push('\n');
        head.push_str(&t("sla-report-empty", &[]));
    }
    if !report.unreadable.is_empty() {
        head.push('\n');
        head.push_str(&t(
            "sla-report-unreadable",
            &[("count", num(report.unreadable.len()))],
        ));
    }
    let figures = |id: &str, f: &Figures| {
        let mut line = t(
            id,
            &[
                ("median", text(duration(f.median))),
                ("p90", text(duration(f.p90))),
                ("within", text(within(f))),
                ("measured", num(f.measured)),
            ],
        );
        // Breaches, those still running (never answered, never resolved) too.
        if f.breached > 0 {
            line.push('\n');
            line.push_str(&t(
                "sla-report-breached",
                &[
                    ("breached", num(f.breached)),
                    ("open", num(f.breached_open)),
                ],
            ));
        }
        line
    };
    let blocks: Vec<String> = report
        .rows
        .iter()
        .map(|r| {
            [
                t(
                    "sla-report-row",
                    &[
                        ("side", Arg::Side(r.side)),
                        ("priority", text(r.priority.as_str().to_owned())),
                        ("tasks", num(r.tasks)),
                    ],
                ),
                figures("sla-report-first", &r.first_response),
                figures("sla-report-resolution", &r.resolution),
                t(
                    "sla-report-waiting",
                    &[
                        ("other", text(duration(Some(r.waiting_on_other_side)))),
                        ("requester", text(duration(Some(r.waiting_on_requester)))),
                    ],
                ),
            ]
            .join("\n")
        })
        .collect();
    // Room for the "and N more" note.
    let room = limits::CONTENT - 200;
    let mut out = head;
    let mut shown = 0;
    for block in &blocks {
        if out.chars().count() + 1 + block.chars().count() > room {
            break;
        }
        out.push('\n');
        out.push_str(block);
        shown += 1;
    }
    if shown < blocks.len() {
        out.push('\n');
        out.push_str(&t(
            "sla-report-more",
            &[("count", num(blocks.len() - shown))],
        ));
    }
    // A title longer than the room (a very long client name) is cut.
    if out.chars().count() > limits::CONTENT {
        out = out.chars().take(limits::CONTENT - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Priority;
    use crate::domain::sla::ReportRow;
    use jiff::civil::date;

    fn figures(n: usize, mins: i64) -> Figures {
        Figures {
            measured: n,
            median: Some(SignedDuration::from_mins(mins)),
            p90: Some(SignedDuration::from_mins(mins * 3)),
            within_target: n - 1,
            breached: 1,
            breached_open: 0,
        }
    }

    fn full_report() -> Report {
        let mut rows = Vec::new();
        for side in Side::ALL {
            for priority in Priority::ALL {
                rows.push(ReportRow {
                    side,
                    priority,
                    tasks: 1234,
                    first_response: figures(1200, 95),
                    resolution: figures(1100, 1385),
                    waiting_on_other_side: SignedDuration::from_hours(12_345),
                    waiting_on_requester: SignedDuration::from_mins(54_321),
                });
            }
        }
        Report {
            rows,
            unreadable: Vec::new(),
        }
    }

    #[test]
    fn the_report_fits_one_message_without_cutting_a_row() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/ponte.example.toml");
        let config = crate::config::Config::load(&path).unwrap();
        let messages = crate::i18n::Messages::load().unwrap();
        let period = Period {
            from: date(2026, 11, 1),
            to: date(2026, 11, 30),
        };
        let mut client = config.clients()[0].clone();
        for lang in [Lang::En, Lang::It] {
            let text = render_report(&messages, lang, &client, period, &full_report());
            assert!(
                text.chars().count() <= limits::CONTENT,
                "{}",
                text.chars().count()
            );
            let first = text.matches(" p90 ").count();
            let waiting = text.matches("waiting on the other side").count()
                + text.matches("in attesa dell'altra parte").count();
            // Each row shown has its four lines; the rest are counted.
            assert_eq!(first, 2 * waiting, "{text}");
            assert!(waiting >= 4, "{text}");
            if waiting < 8 {
                let rest = (8 - waiting).to_string();
                assert!(
                    text.ends_with("report.") || text.ends_with("completo."),
                    "{text}"
                );
                assert!(text.contains(&rest), "{text}");
            }
            assert!(text.contains("1234"), "{text}");
        }
        // A client name longer than a message is cut, visibly.
        client.name = "Acme ".repeat(500);
        let text = render_report(&messages, Lang::En, &client, period, &full_report());
        assert_eq!(text.chars().count(), limits::CONTENT);
        assert!(text.ends_with('…'));
    }
}
