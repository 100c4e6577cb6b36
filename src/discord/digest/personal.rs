//! A person's own digest (`/digest subscribe`) as direct messages, and the
//! chart's legend: lines of tasks as in the side digests, with the SLA
//! state of the reader's side.

use jiff::Timestamp;

use super::{LINE_MAX, count, text, when};
use crate::discord::render::{Renderer, limits, pack};
use crate::domain::digest::personal::{PersonalDigest, PersonalLine};
use crate::domain::sla::ClockState;

impl Renderer<'_> {
    fn personal_line(&self, l: &PersonalLine) -> String {
        let mut out = self.digest_line(&l.line);
        if let Some((state, percent)) = l.sla {
            let id = match state {
                ClockState::Ok => "digest-personal-sla-ok",
                ClockState::AtRisk => "digest-personal-sla-at-risk",
                ClockState::Breached => "digest-personal-sla-breached",
            };
            out.push_str(&self.d(
                id,
                &[(
                    "percent",
                    crate::domain::error::Arg::Number(i64::from(percent)),
                )],
            ));
        }
        self.fit(&out, LINE_MAX)
    }

    /// The messages of a person's digest; `late` is when it was due, if it
    /// goes out late.
    pub fn personal_digest(&self, d: &PersonalDigest, late: Option<Timestamp>) -> Vec<String> {
        let mut lines = vec![self.d("digest-personal-title", &[("date", text(when(d.now)))])];
        if let Some(due) = late {
            lines.push(self.d("digest-late", &[("due", text(when(due)))]));
        }
        if d.is_empty() {
            lines.push(self.d("digest-personal-empty", &[]));
        }
        for (heading, list) in [
            ("digest-personal-your-move", &d.your_move),
            ("digest-personal-your-requests", &d.your_requests),
            ("digest-personal-assigned", &d.assigned),
        ] {
            if !list.is_empty() {
                lines.push(self.d(heading, &[("count", count(list.len()))]));
                lines.extend(list.iter().map(|l| self.personal_line(l)));
            }
        }
        lines.push(self.d("digest-personal-footer", &[]));
        pack(lines, limits::CONTENT)
    }

    /// The line under a digest that explains its chart.
    pub fn chart_legend(&self) -> String {
        self.d("digest-chart-legend", &[])
    }
}
