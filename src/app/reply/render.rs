//! The [`Renderer`]: what Ponte shows, in one language, as the reply
//! model of [`crate::app::reply`]: task cards, history lines, lists, pages
//! and replies. Every text comes from the Fluent files and is fitted to the
//! model's limits.

use jiff::Timestamp;

use crate::domain::error::Arg;
use crate::domain::{
    Approval, ApprovalWhy, Audience, Event, EventKind, RouteReason, Side, Status, Task, Visibility,
    Who,
};
use crate::i18n::{Lang, Messages};

pub use super::{Button, ButtonStyle, Card, Field, Reply, fit, limits};
use crate::app::desk::parse::{ApprovalButton, ButtonAction};

/// Renders in one language.
pub struct Renderer<'a> {
    pub messages: &'a Messages,
    pub lang: Lang,
}

fn text(s: impl Into<String>) -> Arg {
    Arg::Text(s.into())
}

fn mention(person: u64) -> String {
    // Person 0 is no Discord user (ids are never 0): Ponte itself, the
    // requester of the tasks monitoring opens.
    if person == 0 {
        return "Ponte".to_owned();
    }
    super::markup::person(person)
}

fn who(by: Who) -> String {
    match by {
        Who::Person(p) => mention(p.0),
        Who::Ponte => "Ponte".to_owned(),
    }
}

/// A Discord timestamp: every reader sees it in their own time zone.
/// The Fluent id naming an SLA clock (issue 6).
fn sla_clock_id(clock: crate::domain::sla::SlaClock) -> &'static str {
    match clock {
        crate::domain::sla::SlaClock::FirstResponse => "sla-clock-first-response",
        crate::domain::sla::SlaClock::Resolution => "sla-clock-resolution",
    }
}

/// A whole number of minutes as `2h`, `30m`, `1h30m`.
pub fn minutes_text(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

fn when(at: Timestamp) -> String {
    super::markup::time(at)
}

impl Renderer<'_> {
    fn t(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.messages.text(self.lang, id, args)
    }

    fn cut_note(&self) -> String {
        self.t("text-cut", &[])
    }

    pub fn fit(&self, s: &str, max: usize) -> String {
        fit(s, max, &self.cut_note())
    }

    pub fn side(&self, side: Side) -> String {
        self.t(&format!("side-{side}"), &[])
    }

    pub fn status(&self, status: Status) -> String {
        self.t(&format!("status-{status}"), &[])
    }

    pub fn whose_move(&self, task: &Task) -> String {
        match (task.whose_move(), task.status) {
            (Some(side), _) => self.side(side),
            (None, Status::WaitingOnRequester) => self.t("card-move-requester", &[]),
            (None, _) => self.t("card-move-nobody", &[]),
        }
    }

    pub fn reason(&self, reason: &RouteReason) -> String {
        match reason {
            RouteReason::Requested { side } => {
                self.t("route-requested", &[("side", Arg::Side(*side))])
            }
            RouteReason::Keyword {
                category,
                keyword,
                owner,
            } => self.t(
                "route-keyword",
                &[
                    ("keyword", text(keyword)),
                    ("category", text(category.as_str())),
                    ("side", Arg::Side(*owner)),
                ],
            ),
            RouteReason::Category { category, owner } => self.t(
                "route-category",
                &[
                    ("category", text(category.as_str())),
                    ("side", Arg::Side(*owner)),
                ],
            ),
            RouteReason::FromMsp => self.t("route-from-msp", &[]),
            RouteReason::Default { side } => self.t("route-default", &[("side", Arg::Side(*side))]),
            RouteReason::Monitoring { source, side } => self.t(
                "route-monitoring",
                &[("source", text(source)), ("side", Arg::Side(*side))],
            ),
        }
    }

    fn approval_why(&self, why: &ApprovalWhy) -> String {
        match why {
            ApprovalWhy::CategoryNeedsApproval { category } => self.t(
                "approval-why-category",
                &[("category", text(category.as_str()))],
            ),
            ApprovalWhy::ItTerritory { category } => self.t(
                "approval-why-territory",
                &[("category", text(category.as_str()))],
            ),
            ApprovalWhy::MspProposal => self.t("approval-why-proposal", &[]),
        }
    }

    fn approval(&self, approval: &Approval) -> Option<String> {
        match approval {
            Approval::NotNeeded => None,
            Approval::Pending { .. } => Some(self.t("card-approval-pending", &[])),
            Approval::Granted { by, .. } => {
                Some(self.t("card-approval-granted", &[("by", text(who(*by)))]))
            }
            Approval::Refused { by, reason, .. } => Some(self.t(
                "card-approval-refused",
                &[("by", text(who(*by))), ("reason", text(reason))],
            )),
        }
    }

    /// The buttons a task's card offers in its current state.
    pub fn buttons(&self, task: &Task) -> Vec<Button> {
        let mut buttons = Vec::new();
        let mut add = |action: ButtonAction, id: &str, style| {
            buttons.push(Button {
                label: fit(&self.t(id, &[]), limits::BUTTON_LABEL, "…"),
                custom_id: action.custom_id(&task.id),
                style,
            })
        };
        if task.status == Status::New {
            add(ButtonAction::Claim, "button-claim", ButtonStyle::Primary);
        }
        if task.status.is_open() {
            add(
                ButtonAction::Resolve,
                "button-resolve",
                ButtonStyle::Success,
            );
        }
        if task.status == Status::Resolved {
            add(
                ButtonAction::Reopen,
                "button-reopen",
                ButtonStyle::Secondary,
            );
        }
        buttons
    }

    /// A task's card: the facts both sides read.
    pub fn card(&self, task: &Task) -> Card {
        let field = |name: &str, value: String| Field {
            name: self.t(name, &[]),
            value: self.fit(&value, limits::FIELD_VALUE),
            inline: true,
        };
        let mut fields = vec![
            field("card-status", self.status(task.status)),
            field("card-whose-move", self.whose_move(task)),
            field("card-priority", task.priority.to_string()),
            field(
                "card-category",
                task.category
                    .as_ref()
                    .map_or_else(|| self.t("card-none", &[]), |c| c.to_string()),
            ),
            field(
                "card-assignee",
                task.assignee
                    .map_or_else(|| self.t("card-nobody-yet", &[]), |p| mention(p.0)),
            ),
            field("card-requester", mention(task.requester.0)),
        ];
        if let Some(due) = task.due {
            fields.push(field("card-due", when(due)));
        }
        if let Some(reason) = &task.route {
            fields.push(Field {
                inline: false,
                ..field("card-routing", self.reason(reason))
            });
        }
        if let Some(approval) = self.approval(&task.approval) {
            fields.push(Field {
                inline: false,
                ..field("card-approval", approval)
            });
        }
        Card {
            title: self.fit(
                &format!("{} · {}", task.id, task.title),
                limits::EMBED_TITLE,
            ),
            description: self.fit(&task.details, limits::EMBED_DESCRIPTION - 200),
            fields,
            color: color(task.status),
        }
    }

    /// The message that carries a task's card.
    pub fn card_message(&self, task: &Task) -> Reply {
        Reply {
            content: String::new(),
            cards: vec![self.card(task)],
            buttons: self.buttons(task),
            ephemeral: false,
            ping: Vec::new(),
            ping_roles: Vec::new(),
            file: None,
        }
    }

    /// The name of a task's thread.
    pub fn thread_name(&self, task: &Task) -> String {
        fit(
            &format!("{} {}", task.id, task.title),
            limits::THREAD_NAME,
            "…",
        )
    }

    fn reason_suffix(&self, reason: &Option<String>) -> String {
        match reason {
            Some(r) => format!(" {}", self.t("event-reason", &[("reason", text(r))])),
            None => String::new(),
        }
    }

    /// The message of a page (issue 5): who is paged for what, the task's
    /// card, and the buttons to acknowledge, resolve or snooze it.
    pub fn page_message(&self, task: &Task, late: bool, ping: Option<u64>) -> Reply {
        let id = if late { "page-text-late" } else { "page-text" };
        let content = self.t(
            id,
            &[
                ("task", text(task.id.to_string())),
                ("priority", text(task.priority.as_str())),
                ("title", text(self.fit(&task.title, 200))),
            ],
        );
        let content = match ping {
            Some(p) => format!("{} {content}", mention(p)),
            None => content,
        };
        Reply {
            content: fit(&content, limits::CONTENT, "…"),
            cards: vec![self.card(task)],
            buttons: self.page_buttons(task, false),
            ephemeral: false,
            ping: ping.into_iter().collect(),
            ping_roles: Vec::new(),
            file: None,
        }
    }

    /// A delivered page as the task is now (issue 19): its card, and only
    /// the buttons that still apply: none once the task is finished,
    /// Resolve once somebody acknowledged or picked it up. An edit: the
    /// page's text stays.
    pub fn page_now(&self, task: &Task, acknowledged: bool) -> Reply {
        Reply {
            cards: vec![self.card(task)],
            buttons: self.page_buttons(task, acknowledged),
            ..Reply::default()
        }
    }

    fn page_buttons(&self, task: &Task, acknowledged: bool) -> Vec<Button> {
        if task.status.is_final() || task.status == crate::domain::Status::Resolved {
            return Vec::new();
        }
        let picked_up =
            acknowledged || task.assignee.is_some() || task.status != crate::domain::Status::New;
        let mut buttons = Vec::new();
        for (action, label, style) in [
            (
                ButtonAction::Acknowledge,
                "button-acknowledge",
                ButtonStyle::Primary,
            ),
            (
                ButtonAction::Resolve,
                "button-resolve",
                ButtonStyle::Success,
            ),
            (
                ButtonAction::Snooze,
                "button-snooze",
                ButtonStyle::Secondary,
            ),
        ] {
            if picked_up && action != ButtonAction::Resolve {
                continue;
            }
            buttons.push(Button {
                label: fit(&self.t(label, &[]), limits::BUTTON_LABEL, "…"),
                custom_id: action.custom_id(&task.id),
                style,
            });
        }
        buttons
    }

    /// `/oncall now`: who is on call in each schedule, and until when.
    pub fn on_call_now(
        &self,
        schedules: &[crate::config::oncall::OnCallSchedule],
        now: Timestamp,
    ) -> String {
        if schedules.is_empty() {
            return self.t("oncall-none", &[]);
        }
        let mut lines = vec![self.t("oncall-now-title", &[])];
        for s in schedules {
            let who = s.schedule.on_call(now);
            lines.push(self.t(
                "oncall-now-line",
                &[
                    ("schedule", text(s.schedule.name())),
                    ("who", text(mention(who.person.0))),
                    ("until", text(when(who.until))),
                ],
            ));
        }
        fit(&lines.join("\n"), limits::CONTENT, "…")
    }

    /// `/oncall schedule`: the shifts of the next two weeks, per schedule.
    pub fn on_call_schedule(
        &self,
        schedules: &[crate::config::oncall::OnCallSchedule],
        now: Timestamp,
    ) -> String {
        if schedules.is_empty() {
            return self.t("oncall-none", &[]);
        }
        let to = now
            .checked_add(jiff::SignedDuration::from_hours(14 * 24))
            .unwrap_or(now);
        let mut lines = vec![self.t("oncall-schedule-title", &[])];
        for s in schedules {
            lines.push(format!("**{}**", s.schedule.name()));
            for shift in s.schedule.shifts(now, to) {
                lines.push(self.t(
                    "oncall-shift-line",
                    &[
                        ("who", text(mention(shift.person.0))),
                        ("from", text(when(shift.start))),
                        ("to", text(when(shift.end))),
                    ],
                ));
            }
        }
        fit(&lines.join("\n"), limits::CONTENT, "…")
    }

    /// A shift's handover: who takes over from whom, and the open urgent
    /// tasks. Pings the person taking over.
    pub fn handover(
        &self,
        schedule: &str,
        from: Option<crate::domain::PersonId>,
        to: crate::domain::PersonId,
        tasks: &[crate::domain::TaskId],
    ) -> Reply {
        let mut lines = vec![self.t(
            "handover-title",
            &[
                ("schedule", text(schedule)),
                ("to", text(mention(to.0))),
                (
                    "from",
                    text(from.map_or_else(|| "-".to_owned(), |p| mention(p.0))),
                ),
            ],
        )];
        if tasks.is_empty() {
            lines.push(self.t("handover-no-tasks", &[]));
        } else {
            let ids: Vec<String> = tasks.iter().map(ToString::to_string).collect();
            lines.push(self.t("handover-tasks", &[("tasks", text(ids.join(", ")))]));
        }
        Reply {
            content: fit(&lines.join("\n"), limits::CONTENT, "…"),
            ping: vec![to.0],
            ..Reply::default()
        }
    }

    /// Whom a page reached, in words (mentions are shown, never pinged
    /// from history).
    pub fn page_target(
        &self,
        target: &crate::domain::escalation::Target,
        to: Option<crate::domain::PersonId>,
    ) -> String {
        use crate::domain::escalation::Target;
        match (target, to) {
            (Target::OnCall(name), Some(p)) => self.t(
                "page-target-oncall",
                &[("who", text(mention(p.0))), ("schedule", text(name))],
            ),
            (Target::OnCall(name), None) => {
                self.t("page-target-nobody", &[("schedule", text(name))])
            }
            (Target::Person(p), _) => mention(p.0),
            (Target::Role(r), _) => super::markup::role(*r),
            (Target::Channel(c), _) => super::markup::channel(*c),
            (Target::Pager(name), _) => self.t("page-target-pager", &[("pager", text(name))]),
        }
    }

    /// One line of history, or `None` for bookkeeping nobody needs to read.
    pub fn event_line(&self, event: &Event) -> Option<String> {
        let by = text(who(event.by));
        let line = match &event.kind {
            EventKind::Created {
                title, requester, ..
            } => self.t(
                "event-created",
                &[("who", text(mention(requester.0))), ("title", text(title))],
            ),
            EventKind::Routed { side, reason, .. } => self.t(
                "event-routed",
                &[
                    ("side", Arg::Side(*side)),
                    ("reason", text(self.reason(reason))),
                ],
            ),
            EventKind::Claimed { by: claimer } => {
                self.t("event-claimed", &[("who", text(mention(claimer.0)))])
            }
            EventKind::Unclaimed => self.t("event-unclaimed", &[("who", by)]),
            EventKind::Assigned { to } => self.t(
                "event-assigned",
                &[("who", by), ("to", text(mention(to.0)))],
            ),
            EventKind::Commented { body, visibility } => {
                let id = match visibility {
                    Visibility::Shared => "event-commented",
                    Visibility::Side(_) => "event-noted",
                };
                self.t(id, &[("who", by), ("body", text(body))])
            }
            EventKind::StatusChanged { from, to, reason } => {
                self.t(
                    "event-status-changed",
                    &[
                        ("who", by),
                        ("from", Arg::Status(*from)),
                        ("to", Arg::Status(*to)),
                    ],
                ) + &self.reason_suffix(reason)
            }
            EventKind::PriorityChanged { from, to } => self.t(
                "event-priority-changed",
                &[
                    ("who", by),
                    ("from", text(from.as_str())),
                    ("to", text(to.as_str())),
                ],
            ),
            EventKind::DueChanged { to, .. } => self.t(
                "event-due-changed",
                &[
                    ("who", by),
                    ("due", text(to.map_or_else(|| "-".to_owned(), when))),
                ],
            ),
            EventKind::Retitled { to, .. } => {
                self.t("event-retitled", &[("who", by), ("title", text(to))])
            }
            EventKind::HandedOff { to, reason, .. } => {
                self.t("event-handed-off", &[("who", by), ("side", Arg::Side(*to))])
                    + &self.reason_suffix(reason)
            }
            EventKind::ApprovalRequested { why } => self.t(
                "event-approval-requested",
                &[("why", text(self.approval_why(why)))],
            ),
            EventKind::ApprovalGranted => self.t("event-approval-granted", &[("who", by)]),
            EventKind::ApprovalRefused { reason } => self.t(
                "event-approval-refused",
                &[("who", by), ("reason", text(reason))],
            ),
            EventKind::Reopened { reason } => {
                self.t("event-reopened", &[("who", by)]) + &self.reason_suffix(reason)
            }
            EventKind::ChatLinked { .. } => return None,
            EventKind::Acknowledged => self.t("event-acknowledged", &[("who", by)]),
            EventKind::Said {
                author,
                side,
                body,
                visibility,
                attachments,
                ..
            } => {
                let id = match visibility {
                    Visibility::Shared => "event-said",
                    Visibility::Side(_) => "event-said-note",
                };
                let mut line = self.t(
                    id,
                    &[
                        ("author", text(author)),
                        ("side", Arg::Side(*side)),
                        ("body", text(body)),
                    ],
                );
                for a in crate::domain::bridge::attachment_lines(attachments) {
                    line.push('\n');
                    line.push_str(&a);
                }
                line
            }
            EventKind::SaidEdited { body, .. } => {
                self.t("event-said-edited", &[("who", by), ("body", text(body))])
            }
            EventKind::Mirrored { .. }
            | EventKind::Relayed { .. }
            | EventKind::PageDelivered { .. } => return None,
            EventKind::ReporterAdded { person } => {
                self.t("event-reporter-added", &[("who", text(mention(person.0)))])
            }
            EventKind::Paged {
                step,
                target,
                to,
                late,
                ..
            } => {
                let id = if *late {
                    "event-paged-late"
                } else {
                    "event-paged"
                };
                self.t(
                    id,
                    &[
                        ("target", text(self.page_target(target, *to))),
                        ("step", text((step + 1).to_string())),
                    ],
                )
            }
            EventKind::Escalated {
                reason, target, to, ..
            } => self.t(
                "event-escalated",
                &[
                    ("who", by),
                    ("reason", text(reason)),
                    ("target", text(self.page_target(target, *to))),
                ],
            ),
            EventKind::PageFailed { reason, .. } => {
                self.t("event-page-failed", &[("reason", text(reason))])
            }
            EventKind::AlertFired {
                source,
                severity,
                link,
                storm,
                group,
                ..
            } => {
                let mut line = self.t(
                    if *storm {
                        "event-alert-storm"
                    } else {
                        "event-alert-fired"
                    },
                    &[
                        ("source", text(source)),
                        ("severity", text(severity.as_deref().unwrap_or("-"))),
                        ("group", text(group)),
                    ],
                );
                // In angle brackets: a link without a preview (the adapter
                // kept only http(s) links with no spaces or brackets).
                if let Some(link) = link {
                    line.push_str(&format!(" <{link}>"));
                }
                line
            }
            EventKind::AlertRepeated { source, .. } => {
                self.t("event-alert-repeated", &[("source", text(source))])
            }
            EventKind::AlertFolded { title, count, .. } => self.t(
                "event-alert-folded",
                &[("count", text(count.to_string())), ("title", text(title))],
            ),
            EventKind::AlertResolved {
                source,
                fingerprint,
                firing,
                resolves_task,
            } => {
                let heartbeat = source == crate::domain::monitor::HEARTBEAT_SOURCE;
                let id = match (heartbeat, *resolves_task, *firing > 0) {
                    (true, true, _) => "event-heartbeat-resolved-task",
                    (true, false, _) => "event-heartbeat-resolved",
                    (false, true, _) => "event-alert-resolved-task",
                    (false, false, true) => "event-alert-resolved-some",
                    (false, false, false) => "event-alert-resolved",
                };
                self.t(
                    id,
                    &[
                        ("source", text(source)),
                        ("name", text(fingerprint)),
                        ("firing", text(firing.to_string())),
                    ],
                )
            }
            EventKind::Snoozed { until } => self.t(
                "event-snoozed",
                &[("who", by), ("until", text(when(*until)))],
            ),
            EventKind::SlaWarned {
                side,
                clock,
                percent,
                target_minutes,
                breach_at,
            } => {
                let mut line = self.t(
                    "event-sla-warned",
                    &[
                        ("side", Arg::Side(*side)),
                        ("clock", text(self.t(sla_clock_id(*clock), &[]))),
                        ("percent", text(percent.to_string())),
                        ("target", text(minutes_text(*target_minutes))),
                    ],
                );
                if let Some(at) = breach_at {
                    line.push(' ');
                    line.push_str(&self.t("event-sla-breach-at", &[("when", text(when(*at)))]));
                }
                line
            }
            EventKind::SlaBreached {
                side,
                clock,
                target_minutes,
                ..
            } => self.t(
                "event-sla-breached",
                &[
                    ("side", Arg::Side(*side)),
                    ("clock", text(self.t(sla_clock_id(*clock), &[]))),
                    ("target", text(minutes_text(*target_minutes))),
                ],
            ),
        };
        Some(line)
    }

    /// History lines for `audience`, fitted into messages of at most 2000
    /// characters without cutting a line in two (a single over-long line is
    /// cut with a note).
    pub fn history(&self, events: &[Event], audience: Audience) -> Vec<String> {
        let lines = events
            .iter()
            .filter(|e| e.kind.visibility().visible_to(audience))
            .filter_map(|e| self.event_line(e))
            .map(|l| self.fit(&l, limits::CONTENT));
        pack(lines, limits::CONTENT)
    }

    /// One task as a line of a list: id, title, priority, status, whose move.
    pub fn list_line(&self, t: &Task) -> String {
        let line = self.t(
            "list-line",
            &[
                ("id", text(t.id.to_string())),
                ("title", text(t.title.clone())),
                ("priority", text(t.priority.as_str())),
                ("status", Arg::Status(t.status)),
                ("move", text(self.whose_move(t))),
            ],
        );
        self.fit(&line, 400)
    }

    /// `/mine`: one card, a field per section (its message id and tasks),
    /// each within a field's limit with a note of how many more there are.
    pub fn mine(&self, sections: &[(&str, &[Task])]) -> Card {
        let fields = sections
            .iter()
            .map(|(id, tasks)| {
                let name = self.t(id, &[("count", Arg::Number(tasks.len() as i64))]);
                let mut value = String::new();
                for (shown, task) in tasks.iter().enumerate() {
                    let line = self.list_line(task);
                    let more = self.t(
                        "mine-more",
                        &[("count", Arg::Number((tasks.len() - shown) as i64))],
                    );
                    let room = limits::FIELD_VALUE - more.chars().count() - 2;
                    if value.chars().count() + line.chars().count() + 1 > room {
                        value.push_str(&more);
                        break;
                    }
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(&line);
                }
                if value.is_empty() {
                    value = self.t("list-empty", &[]);
                }
                Field {
                    name: self.fit(&name, limits::FIELD_NAME),
                    value,
                    inline: false,
                }
            })
            .collect();
        Card {
            title: self.fit(&self.t("mine-title", &[]), limits::EMBED_TITLE),
            description: String::new(),
            fields,
            color: 0x5865F2,
        }
    }

    /// A list of tasks, one line each, split into cards within limits.
    pub fn task_list(&self, title: &str, tasks: &[Task]) -> Vec<Card> {
        if tasks.is_empty() {
            return vec![Card {
                title: self.fit(title, limits::EMBED_TITLE),
                description: self.t("list-empty", &[]),
                fields: Vec::new(),
                color: 0x5865F2,
            }];
        }
        let lines = tasks.iter().map(|t| self.list_line(t));
        let pages = pack(lines, limits::EMBED_DESCRIPTION - 96);
        let total = pages.len();
        pages
            .into_iter()
            .take(5)
            .enumerate()
            .map(|(i, description)| Card {
                title: if total > 1 {
                    self.fit(&format!("{title} ({}/{total})", i + 1), limits::EMBED_TITLE)
                } else {
                    self.fit(title, limits::EMBED_TITLE)
                },
                description,
                fields: Vec::new(),
                color: 0x5865F2,
            })
            .collect()
    }
}

// The company's territory: the card that asks the IT manager to decide.
impl Renderer<'_> {
    /// The card the IT manager decides on: what is asked and why, where the
    /// task's conversation is, and Approve / Refuse while it is pending.
    pub fn approval_card(
        &self,
        task: &Task,
        why: Option<&ApprovalWhy>,
        thread: Option<u64>,
    ) -> Reply {
        let field = |name: &str, value: String, inline: bool| Field {
            name: self.t(name, &[]),
            value: self.fit(&value, limits::FIELD_VALUE),
            inline,
        };
        let mut fields = vec![
            field("card-requester", mention(task.requester.0), true),
            field("card-priority", task.priority.to_string(), true),
            field(
                "card-category",
                task.category
                    .as_ref()
                    .map_or_else(|| self.t("card-none", &[]), |c| c.to_string()),
                true,
            ),
        ];
        if let Some(why) = why {
            fields.push(field("approval-card-why", self.approval_why(why), false));
        }
        if let Some(state) = self.approval(&task.approval) {
            fields.push(field("card-approval", state, false));
        }
        let pending = matches!(task.approval, Approval::Pending { .. });
        let mut buttons = Vec::new();
        if pending && task.status.is_open() {
            for (action, label, style) in [
                (
                    ApprovalButton::Approve,
                    "button-approve",
                    ButtonStyle::Success,
                ),
                (
                    ApprovalButton::Refuse,
                    "button-refuse",
                    ButtonStyle::Secondary,
                ),
            ] {
                buttons.push(Button {
                    label: fit(&self.t(label, &[]), limits::BUTTON_LABEL, "…"),
                    custom_id: action.custom_id(&task.id),
                    style,
                });
            }
        }
        let content = match (thread, pending) {
            (Some(thread), true) => self.t(
                "approval-card-intro-thread",
                &[("thread", text(super::markup::channel(thread)))],
            ),
            (None, true) => self.t("approval-card-intro", &[]),
            (_, false) => self.t("approval-card-decided", &[]),
        };
        Reply {
            content,
            cards: vec![Card {
                title: self.fit(
                    &format!("{} · {}", task.id, task.title),
                    limits::EMBED_TITLE,
                ),
                description: self.fit(&task.details, limits::EMBED_DESCRIPTION - 200),
                fields,
                color: 0xE67E22,
            }],
            buttons,
            ephemeral: false,
            ping: Vec::new(),
            ping_roles: Vec::new(),
            file: None,
        }
    }
}

// The bridge: how a message reads in the thread across.
impl Renderer<'_> {
    /// The copy of a message in the other thread: author, side, text, and
    /// attachments as links; `edited` marks the copy of an edit.
    pub fn relayed(
        &self,
        author: &str,
        side: Side,
        body: &str,
        attachments: &[crate::domain::Attachment],
        edited: bool,
    ) -> String {
        let id = if edited { "relay-edited" } else { "relay-line" };
        let mut out = self.t(
            id,
            &[
                ("author", text(author)),
                ("side", Arg::Side(side)),
                ("body", text(body)),
            ],
        );
        for a in crate::domain::bridge::attachment_lines(attachments) {
            out.push('\n');
            out.push_str(&a);
        }
        self.fit(&out, limits::CONTENT)
    }
}

/// Packs lines into chunks of at most `max` characters, never splitting a line.
pub fn pack(lines: impl IntoIterator<Item = String>, max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for line in lines {
        let n = line.chars().count();
        if len > 0 && len + 1 + n > max {
            chunks.push(std::mem::take(&mut current));
            len = 0;
        }
        if len > 0 {
            current.push('\n');
            len += 1;
        }
        current.push_str(&line);
        len += n;
    }
    if len > 0 {
        chunks.push(current);
    }
    chunks
}

fn color(status: Status) -> u32 {
    match status {
        Status::New => 0x3498DB,
        Status::Claimed | Status::InProgress => 0xF1C40F,
        Status::WaitingOnRequester | Status::WaitingOnOtherSide => 0x95A5A6,
        Status::Resolved => 0x2ECC71,
        Status::Closed => 0x1F8B4C,
        Status::Cancelled => 0x607D8B,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, ClientKey, PersonId, Priority, RouteReason, Side, TaskId, Who};

    fn task() -> Task {
        let id = TaskId::new(ClientKey::new("ACME").unwrap(), 42);
        let at: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let mut events = vec![
            Event {
                task: id.clone(),
                seq: 1,
                at,
                by: Who::Person(PersonId(1)),
                kind: EventKind::Created {
                    title: "VPN down in Milan".into(),
                    details: "Nobody can connect since 8:00".into(),
                    requester: PersonId(1),
                    asking_side: Side::Internal,
                    priority: Priority::P2,
                    due: None,
                },
            },
            Event {
                task: id.clone(),
                seq: 2,
                at,
                by: Who::Person(PersonId(1)),
                kind: EventKind::Routed {
                    side: Side::Msp,
                    category: Some(Category::new("network").unwrap()),
                    reason: RouteReason::Keyword {
                        category: Category::new("network").unwrap(),
                        keyword: "vpn".into(),
                        owner: Side::Msp,
                    },
                },
            },
        ];
        events.push(Event {
            task: id,
            seq: 3,
            at,
            by: Who::Person(PersonId(5)),
            kind: EventKind::Claimed { by: PersonId(5) },
        });
        Task::fold(&events).unwrap()
    }

    fn renderer(messages: &Messages, lang: Lang) -> Renderer<'_> {
        Renderer { messages, lang }
    }

    #[test]
    fn a_card_shows_the_facts_in_each_language() {
        let messages = Messages::load().unwrap();
        let card = renderer(&messages, Lang::En).card(&task());
        let rendered: Vec<String> = card
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.value))
            .collect();
        insta::assert_snapshot!(format!("{}\n{}\n{}", card.title, card.description, rendered.join("\n")), @r"
        ACME-42 · VPN down in Milan
        Nobody can connect since 8:00
        Status: claimed
        Whose move: the MSP
        Priority: P2
        Category: network
        Assignee: <@5>
        Requester: <@1>
        Why it went there: “vpn” means network, which the MSP handles
        ");
        let card = renderer(&messages, Lang::It).card(&task());
        assert_eq!(card.fields[1].name, "A chi tocca");
        assert_eq!(card.fields[1].value, "MSP");
    }

    #[test]
    fn buttons_follow_the_state() {
        let messages = Messages::load().unwrap();
        let r = renderer(&messages, Lang::En);
        let labels = |t: &Task| {
            r.buttons(t)
                .into_iter()
                .map(|b| b.label)
                .collect::<Vec<_>>()
        };
        let mut t = task();
        assert_eq!(labels(&t), ["Resolve"]);
        t.status = Status::New;
        assert_eq!(labels(&t), ["Claim", "Resolve"]);
        t.status = Status::Resolved;
        assert_eq!(labels(&t), ["Reopen"]);
        t.status = Status::Closed;
        assert!(labels(&t).is_empty());
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_with_a_note() {
        let long = "è".repeat(300);
        let cut = fit(&long, 256, "… (cut)");
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with("… (cut)"));
        assert_eq!(fit("short", 256, "…"), "short");
        let messages = Messages::load().unwrap();
        let mut t = task();
        t.title = "x".repeat(200);
        let r = renderer(&messages, Lang::En);
        assert!(r.card(&t).title.chars().count() <= limits::EMBED_TITLE);
        assert_eq!(r.thread_name(&t).chars().count(), limits::THREAD_NAME);
    }

    #[test]
    fn history_is_packed_without_splitting_lines() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("line {i} {}", "x".repeat(50)))
            .collect();
        let chunks = pack(lines.clone(), limits::CONTENT);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.chars().count() <= limits::CONTENT));
        assert_eq!(chunks.join("\n"), lines.join("\n"));
    }

    #[test]
    fn internal_notes_are_only_in_their_sides_history() {
        let messages = Messages::load().unwrap();
        let r = renderer(&messages, Lang::En);
        let t = task();
        let note = Event {
            task: t.id.clone(),
            seq: 4,
            at: t.updated_at,
            by: Who::Person(PersonId(5)),
            kind: EventKind::Commented {
                body: "customer is slow to answer".into(),
                visibility: Visibility::Side(Side::Msp),
            },
        };
        let msp = Audience::Staff(Side::Msp);
        assert!(r.history(std::slice::from_ref(&note), msp)[0].contains("internal note"));
        assert!(
            r.history(std::slice::from_ref(&note), Audience::Staff(Side::Internal))
                .is_empty()
        );
        assert!(r.history(&[note], Audience::Requesters).is_empty());
    }
}
