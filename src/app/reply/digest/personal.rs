//! A person's own digest (`/digest subscribe`) as direct messages, and the
//! chart's legend: lines of tasks as in the side digests, with the SLA
//! state of the reader's side.

use jiff::Timestamp;

use super::{LINE_MAX, count, text, when};
use crate::app::reply::render::{Renderer, limits, pack};
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

#[cfg(test)]
mod tests {
    use crate::app::reply::render::Renderer;
    use crate::domain::digest::personal::{PersonalSpec, build};
    use crate::domain::digest::tests::{acme_tasks, now, office, targets};
    use crate::domain::{ClientKey, PersonId, Side};
    use crate::i18n::{Lang, Messages};

    #[test]
    fn a_personal_digest_in_each_language() {
        let m = Messages::load().unwrap();
        // The snapshots, as the store gives them (no histories).
        let tasks: Vec<crate::domain::Task> = acme_tasks().into_iter().map(|t| t.task).collect();
        let (t, o) = (targets(), office());
        let acme = ClientKey::new("ACME").unwrap();
        // Person 5 is ACME's MSP engineer in the realistic morning.
        let spec = PersonalSpec {
            person: PersonId(5),
            side: Side::Msp,
            client: None,
            now: now(),
        };
        let digest = build(&spec, &tasks, |_| Some((&t, &o)));
        let en = Renderer {
            messages: &m,
            lang: Lang::En,
        }
        .personal_digest(&digest, None);
        insta::assert_snapshot!(en.join("\n----\n"), @"
        **Your digest** · <t:1796110200:f>
        **Your move (2)**
        • `ACME-9` P1 Website down · claimed · 1h 40m · <@5> · SLA 41%
        • `ACME-3` P2 VPN drops every hour in Milan · claimed · 4d 22h · <@5> · “Probably the ISP again; do not tell them yet” · 🔴 SLA breached, 300%
        **Assigned to you, waiting on others (2)**
        • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5> · SLA 0%
        • `ACME-5` P3 Outlook asks for the password every morning · waiting on the requester · 3d 23h · <@5> · SLA 5%
        _`/digest unsubscribe` stops these messages._
        ");
        // The requester (person 1), in Italian, late.
        let spec = PersonalSpec {
            person: PersonId(1),
            side: Side::Internal,
            client: Some(&acme),
            now: now(),
        };
        let digest = build(&spec, &tasks, |_| Some((&t, &o)));
        let it = Renderer {
            messages: &m,
            lang: Lang::It,
        }
        .personal_digest(&digest, Some(now()));
        insta::assert_snapshot!(it.join("\n----\n"), @"
        **Il tuo riepilogo** · <t:1796110200:f>
        ⏰ In ritardo: questo riepilogo era previsto per <t:1796110200:f>, mentre Ponte era fermo.
        **Tue richieste in attesa di una tua risposta (1)**
        • `ACME-5` P3 Outlook asks for the password every morning · in attesa del richiedente · 3g 23h · <@5>
        _`/riepilogo disiscriviti` per non ricevere più questi messaggi._
        ");
        let nobody = PersonalSpec {
            person: PersonId(999),
            side: Side::Internal,
            client: Some(&acme),
            now: now(),
        };
        let empty = build(&nobody, &tasks, |_| Some((&t, &o)));
        let it = Renderer {
            messages: &m,
            lang: Lang::It,
        }
        .personal_digest(&empty, None);
        insta::assert_snapshot!(it.join("\n----\n"), @"
        **Il tuo riepilogo** · <t:1796110200:f>
        Non c'è nulla che aspetti te.
        _`/riepilogo disiscriviti` per non ricevere più questi messaggi._
        ");
    }
}
