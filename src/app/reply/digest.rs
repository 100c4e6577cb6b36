//! Digests as chat messages: one line per task (never cut in half), packed
//! into as many messages as Discord's 2000 characters require. Text comes
//! from the Fluent files; the reader's side decides which comments show
//! (see `domain::digest`).

use jiff::{SignedDuration, Timestamp};

use super::render::{Renderer, limits, pack};
use crate::domain::digest::{Digest, LeadDigest, Line, SlaLine};
use crate::domain::error::Arg;
use crate::domain::sla::Holder;

/// The longest line of one task, in characters.
const LINE_MAX: usize = 400;

fn text(s: impl Into<String>) -> Arg {
    Arg::Text(s.into())
}

fn count(n: usize) -> Arg {
    Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A Discord timestamp: every reader sees it in their own time zone.
fn when(at: Timestamp) -> String {
    super::markup::time(at)
}

impl Renderer<'_> {
    fn d(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.messages.text(self.lang, id, args)
    }

    /// An age like "3d 4h", "2h 10m" or "5m".
    pub fn age(&self, age: SignedDuration) -> String {
        let mins = age.as_secs().max(0) / 60;
        let (days, hours, minutes) = (mins / 1440, (mins / 60) % 24, mins % 60);
        let n = Arg::Number;
        if days > 0 {
            self.d("digest-age-days", &[("days", n(days)), ("hours", n(hours))])
        } else if hours > 0 {
            self.d(
                "digest-age-hours",
                &[("hours", n(hours)), ("minutes", n(minutes))],
            )
        } else {
            self.d("digest-age-minutes", &[("minutes", n(minutes))])
        }
    }

    fn digest_line(&self, line: &Line) -> String {
        let mut out = self.d(
            "digest-task",
            &[
                ("id", text(line.id.to_string())),
                ("priority", text(line.priority.as_str())),
                ("title", text(line.title.clone())),
                ("status", Arg::Status(line.status)),
                ("age", text(self.age(line.age))),
            ],
        );
        if let Some(assignee) = line.assignee {
            out.push_str(&self.d(
                "digest-task-assignee",
                &[("who", text(super::markup::person(assignee.0)))],
            ));
        }
        if let Some(comment) = &line.last_comment {
            let comment: String = comment.split_whitespace().collect::<Vec<_>>().join(" ");
            let comment = self.fit(&comment, 120);
            out.push_str(&self.d("digest-task-comment", &[("comment", text(comment))]));
        }
        self.fit(&out, LINE_MAX)
    }

    fn sla_line(&self, sla: &SlaLine) -> String {
        let clock = if sla.first_response {
            "digest-sla-first-response"
        } else {
            "digest-sla-resolution"
        };
        let mut out = self.d(
            clock,
            &[
                ("id", text(sla.line.id.to_string())),
                ("title", text(sla.line.title.clone())),
                ("priority", text(sla.line.priority.as_str())),
                ("percent", Arg::Number(i64::from(sla.percent_used))),
            ],
        );
        if let Some(at) = sla.breach_at {
            out.push_str(&self.d("digest-sla-at", &[("when", text(when(at)))]));
        }
        self.fit(&out, LINE_MAX)
    }

    /// The lines of one client's digest, without its title.
    fn digest_body(&self, digest: &Digest) -> Vec<String> {
        let mut lines = Vec::new();
        if digest.is_empty() {
            lines.push(self.d("digest-empty", &[]));
            return lines;
        }
        let section = |lines: &mut Vec<String>, heading: String, items: Vec<String>| {
            if !items.is_empty() {
                lines.push(heading);
                lines.extend(items);
            }
        };
        let tasks = |list: &[Line]| list.iter().map(|l| self.digest_line(l)).collect::<Vec<_>>();
        section(
            &mut lines,
            self.d("digest-new", &[("count", count(digest.new.len()))]),
            tasks(&digest.new),
        );
        section(
            &mut lines,
            self.d("digest-closed", &[("count", count(digest.closed.len()))]),
            tasks(&digest.closed),
        );
        for (holder, list) in &digest.open {
            let heading = match holder {
                Holder::Side(side) if *side == digest.side => {
                    self.d("digest-open-yours", &[("count", count(list.len()))])
                }
                Holder::Side(side) => self.d(
                    "digest-open-side",
                    &[("side", Arg::Side(*side)), ("count", count(list.len()))],
                ),
                Holder::Requester => {
                    self.d("digest-open-requester", &[("count", count(list.len()))])
                }
                Holder::Nobody => continue,
            };
            section(&mut lines, heading, tasks(list));
        }
        let slas = |list: &[SlaLine]| list.iter().map(|s| self.sla_line(s)).collect::<Vec<_>>();
        section(
            &mut lines,
            self.d(
                "digest-breached",
                &[("count", count(digest.breached.len()))],
            ),
            slas(&digest.breached),
        );
        section(
            &mut lines,
            self.d("digest-at-risk", &[("count", count(digest.at_risk.len()))]),
            slas(&digest.at_risk),
        );
        section(
            &mut lines,
            self.d(
                "digest-escalations",
                &[("count", count(digest.escalations.len()))],
            ),
            tasks(&digest.escalations),
        );
        section(
            &mut lines,
            self.d(
                "digest-approvals",
                &[("count", count(digest.approvals.len()))],
            ),
            tasks(&digest.approvals),
        );
        let waiting = digest
            .waiting_on
            .iter()
            .map(|(who, ids)| {
                let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                let ids = ids.join(", ");
                let line = match who {
                    Some(p) => self.d(
                        "digest-waiting-person",
                        &[
                            ("who", text(super::markup::person(p.0))),
                            ("tasks", text(ids)),
                        ],
                    ),
                    None => self.d("digest-waiting-nobody", &[("tasks", text(ids))]),
                };
                self.fit(&line, LINE_MAX)
            })
            .collect();
        section(&mut lines, self.d("digest-waiting", &[]), waiting);
        lines
    }

    /// The messages of one side's digest of a client. `late` is when the
    /// digest was due, if it goes out late (the bot was down then).
    pub fn digest(
        &self,
        digest: &Digest,
        client_name: &str,
        late: Option<Timestamp>,
    ) -> Vec<String> {
        let mut lines = vec![self.d(
            "digest-title",
            &[
                ("client", text(client_name)),
                ("side", Arg::Side(digest.side)),
                ("date", text(when(digest.now))),
            ],
        )];
        if let Some(due) = late {
            lines.push(self.d("digest-late", &[("due", text(when(due)))]));
        }
        lines.extend(self.digest_body(digest));
        pack(lines, limits::CONTENT)
    }

    /// The messages of the MSP lead's digest across all clients; `names`
    /// gives each client's display name by key.
    pub fn lead_digest(
        &self,
        lead: &LeadDigest,
        name_of: impl Fn(&crate::domain::ClientKey) -> String,
        late: Option<Timestamp>,
    ) -> Vec<String> {
        let mut lines = vec![self.d(
            "digest-lead-title",
            &[
                ("count", count(lead.clients.len())),
                ("date", text(when(lead.now))),
            ],
        )];
        if let Some(due) = late {
            lines.push(self.d("digest-late", &[("due", text(when(due)))]));
        }
        for digest in &lead.clients {
            lines.push(self.d(
                "digest-lead-client",
                &[
                    ("client", text(name_of(&digest.client))),
                    ("open", count(digest.open_count())),
                    ("breached", count(digest.breached.len())),
                ],
            ));
            lines.extend(self.digest_body(digest));
        }
        pack(lines, limits::CONTENT)
    }
}

#[cfg(test)]
mod tests;

/// A person's own digest and the chart legend.
mod personal;
