//! The checks of `[[oncall]]`, `[[escalation]]`, `[[pagers]]` and
//! `[escalate]`.

use std::collections::HashSet;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span};

use super::super::error::Path;
use super::super::oncall::{
    EscalateLimits, OnCallConfig, OnCallSchedule, PagerConfig, PagerKind, PolicyRule,
};
use super::super::raw::{RawEscalate, RawPager, RawPolicy, RawSchedule, RawStep};
use super::Checker;
use crate::domain::escalation::{Policy, Step, Target};
use crate::domain::oncall::{Rotation, Schedule};
use crate::domain::{ClientKey, PersonId, Priority, Side};

/// Everything the on-call part needs from the rest of the file.
pub(super) struct Raw {
    pub schedules: Vec<RawSchedule>,
    pub policies: Vec<RawPolicy>,
    pub pagers: Vec<RawPager>,
    pub escalate: Option<RawEscalate>,
}

impl Checker<'_, '_, '_> {
    pub(super) fn oncall(&mut self, raw: Raw, clients: &[ClientKey]) -> Option<OnCallConfig> {
        let schedules = self.schedules(raw.schedules);
        let pagers = self.pagers(raw.pagers);
        let schedule_names: Vec<String> = schedules
            .iter()
            .flatten()
            .map(|s| s.schedule.name().to_owned())
            .collect();
        let pager_names: Vec<String> = pagers.iter().flatten().map(|p| p.name.clone()).collect();
        let policies = self.policies(raw.policies, clients, &schedule_names, &pager_names);
        let escalate = self.escalate(raw.escalate);
        Some(OnCallConfig {
            schedules: schedules?,
            policies: policies?,
            pagers: pagers?,
            escalate: escalate?,
        })
    }

    fn schedules(&mut self, raws: Vec<RawSchedule>) -> Option<Vec<OnCallSchedule>> {
        let list = Path::root().key("oncall");
        let mut names: HashSet<String> = HashSet::new();
        let mut out = Some(Vec::new());
        for (i, raw) in raws.into_iter().enumerate() {
            let path = list.index(i);
            let one = self.schedule(raw, &path, &mut names);
            match (one, out.as_mut()) {
                (Some(s), Some(out)) => out.push(s),
                _ => out = None,
            }
        }
        out
    }

    fn schedule(
        &mut self,
        raw: RawSchedule,
        path: &Path,
        names: &mut HashSet<String>,
    ) -> Option<OnCallSchedule> {
        let name_path = path.key("name");
        let name = self
            .required(
                raw.name,
                &name_path,
                "the schedule's name, e.g. \"msp-primary\"",
            )
            .map(|n| n.trim().to_owned());
        let name = match name {
            Some(n) if n.is_empty() || n.len() > 40 => {
                self.problem(&name_path, "give a name of 1 to 40 characters");
                None
            }
            Some(n) if !names.insert(n.clone()) => {
                self.problem(
                    &name_path,
                    format!("`{n}` is already the name of a schedule: schedule names must differ"),
                );
                None
            }
            other => other,
        };
        let side = self.side(raw.side, &path.key("side"), Some(Side::Msp));
        let tz_path = path.key("time_zone");
        let tz = self
            .required(
                raw.time_zone,
                &tz_path,
                "the rotation's time zone, an IANA name such as \"Europe/Rome\"",
            )
            .and_then(|n| match TimeZone::get(n.trim()) {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let shown: String = n.chars().take(40).collect();
                    self.problem(
                        &tz_path,
                        format!(
                            "unknown time zone `{shown}`: use an IANA name such as \"Europe/Rome\""
                        ),
                    );
                    None
                }
            });
        let members_path = path.key("members");
        let members = self
            .required(
                raw.members,
                &members_path,
                "the Discord user ids of the people taking turns, in order",
            )
            .and_then(|ids| {
                if ids.is_empty() {
                    self.problem(&members_path, "empty: list at least one person");
                    return None;
                }
                let mut ok = true;
                let mut people = Vec::new();
                for (j, id) in ids.into_iter().enumerate() {
                    match self.nonzero(id, &members_path.index(j)) {
                        Some(id) => people.push(PersonId(id.get())),
                        None => ok = false,
                    }
                }
                ok.then_some(people)
            });
        let start_path = path.key("start");
        let start = self
            .required(
                raw.start,
                &start_path,
                "the date of the first shift, e.g. \"2026-11-02\"",
            )
            .and_then(|s| match s.trim().parse::<Date>() {
                Ok(d) => Some(d),
                Err(_) => {
                    let shown: String = s.chars().take(40).collect();
                    self.problem(
                        &start_path,
                        format!("`{shown}` is not a date: write it as \"2026-11-02\""),
                    );
                    None
                }
            });
        let handover_path = path.key("handover");
        let handover = match raw.handover {
            None => Some(Time::constant(9, 0, 0, 0)),
            Some(s) => match s.trim().parse::<Time>() {
                Ok(t) => Some(t),
                Err(_) => {
                    let shown: String = s.chars().take(40).collect();
                    self.problem(
                        &handover_path,
                        format!("`{shown}` is not a time of day: write it as \"09:00\""),
                    );
                    None
                }
            },
        };
        let shift_path = path.key("shift");
        let shift = self
            .required(
                raw.shift,
                &shift_path,
                "the shift length, e.g. \"1w\", \"7d\" or \"12h\"",
            )
            .and_then(|s| match s.trim().parse::<Span>() {
                Ok(span) => Some(span),
                Err(_) => {
                    let shown: String = s.chars().take(40).collect();
                    self.problem(
                        &shift_path,
                        format!("`{shown}` is not a length: write it as \"1w\", \"7d\" or \"12h\""),
                    );
                    None
                }
            });
        let (name, side, tz, members, start, handover, shift) =
            (name?, side?, tz?, members?, start?, handover?, shift?);
        let rotation = Rotation::new(name, members, start.to_datetime(handover), shift, tz)
            .map_err(|e| self.problem(&shift_path, e.to_string()))
            .ok()?;
        let schedule = Schedule::new(rotation, Vec::new())
            .map_err(|e| self.problem(path, e.to_string()))
            .ok()?;
        Some(OnCallSchedule { side, schedule })
    }

    fn pagers(&mut self, raws: Vec<RawPager>) -> Option<Vec<PagerConfig>> {
        let list = Path::root().key("pagers");
        let mut names: HashSet<String> = HashSet::new();
        let mut out = Some(Vec::new());
        for (i, raw) in raws.into_iter().enumerate() {
            let path = list.index(i);
            let one = self.pager(raw, &path, &mut names);
            match (one, out.as_mut()) {
                (Some(p), Some(out)) => out.push(p),
                _ => out = None,
            }
        }
        out
    }

    fn pager(
        &mut self,
        raw: RawPager,
        path: &Path,
        names: &mut HashSet<String>,
    ) -> Option<PagerConfig> {
        let name_path = path.key("name");
        let name = self
            .required(raw.name, &name_path, "the pager's name, e.g. \"pagerduty\"")
            .map(|n| n.trim().to_owned());
        let name = match name {
            Some(n) if !names.insert(n.clone()) => {
                self.problem(
                    &name_path,
                    format!("`{n}` is already the name of a pager: pager names must differ"),
                );
                None
            }
            other => other,
        };
        let url_path = path.key("url");
        let url = self
            .required(raw.url, &url_path, "the URL pages are sent to")
            .and_then(|u| {
                let u = u.trim().to_owned();
                // Secrets travel in the request: https only, except to this
                // machine (a local relay, the tests).
                if u.starts_with("https://") || (u.starts_with("http://") && is_loopback_url(&u)) {
                    Some(u)
                } else if u.starts_with("http://") {
                    self.problem(
                        &url_path,
                        "pages carry secrets: use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)",
                    );
                    None
                } else {
                    self.problem(&url_path, "write the full URL, starting with https://");
                    None
                }
            });
        let env_var = |checker: &mut Self, value: Option<String>, path: &Path, what: &str| {
            checker.env_var(value, path, what, "PONTE_PAGERDUTY_KEY")
        };
        let kind_path = path.key("kind");
        let kind = match self
            .required(raw.kind, &kind_path, "\"pagerduty\" or \"webhook\"")
            .as_deref()
        {
            Some("pagerduty") => {
                if raw.secret_env.is_some() {
                    self.problem(
                        &path.key("secret_env"),
                        "a PagerDuty pager takes `routing_key_env`, not `secret_env`",
                    );
                }
                env_var(
                    self,
                    raw.routing_key_env,
                    &path.key("routing_key_env"),
                    "the environment variable holding the PagerDuty routing key",
                )
                .map(|routing_key_env| PagerKind::PagerDuty { routing_key_env })
            }
            Some("webhook") => {
                if raw.routing_key_env.is_some() {
                    self.problem(
                        &path.key("routing_key_env"),
                        "a webhook pager takes `secret_env`, not `routing_key_env`",
                    );
                }
                env_var(
                    self,
                    raw.secret_env,
                    &path.key("secret_env"),
                    "the environment variable holding the webhook's signing secret",
                )
                .map(|secret_env| PagerKind::Webhook { secret_env })
            }
            Some(other) => {
                let shown: String = other.chars().take(20).collect();
                self.problem(
                    &kind_path,
                    format!("unknown pager kind `{shown}`: use \"pagerduty\" or \"webhook\""),
                );
                None
            }
            None => None,
        };
        let max_attempts = match raw.max_attempts {
            None => Some(OnCallConfig::DEFAULT_MAX_ATTEMPTS),
            Some(n) => match u32::try_from(n) {
                Ok(n) if (1..=100).contains(&n) => Some(n),
                _ => {
                    self.problem(
                        &path.key("max_attempts"),
                        format!("{n} is out of range: use 1 to 100"),
                    );
                    None
                }
            },
        };
        let timeout = match raw.timeout_seconds {
            None => Some(std::time::Duration::from_secs(10)),
            Some(n) => match u64::try_from(n) {
                Ok(n) if (1..=120).contains(&n) => Some(std::time::Duration::from_secs(n)),
                _ => {
                    self.problem(
                        &path.key("timeout_seconds"),
                        format!("{n} is out of range: use 1 to 120 (seconds one call may take)"),
                    );
                    None
                }
            },
        };
        Some(PagerConfig {
            name: name?,
            kind: kind?,
            url: url?,
            max_attempts: max_attempts?,
            timeout: timeout?,
        })
    }

    fn policies(
        &mut self,
        raws: Vec<RawPolicy>,
        clients: &[ClientKey],
        schedules: &[String],
        pagers: &[String],
    ) -> Option<Vec<PolicyRule>> {
        let list = Path::root().key("escalation");
        let mut seen: HashSet<(Option<ClientKey>, Priority)> = HashSet::new();
        let mut out = Some(Vec::new());
        for (i, raw) in raws.into_iter().enumerate() {
            let path = list.index(i);
            let one = self.policy(raw, &path, clients, schedules, pagers, &mut seen);
            match (one, out.as_mut()) {
                (Some(p), Some(out)) => out.push(p),
                _ => out = None,
            }
        }
        out
    }

    fn policy(
        &mut self,
        raw: RawPolicy,
        path: &Path,
        clients: &[ClientKey],
        schedules: &[String],
        pagers: &[String],
        seen: &mut HashSet<(Option<ClientKey>, Priority)>,
    ) -> Option<PolicyRule> {
        let client_path = path.key("client");
        let client = match raw.client {
            None => Some(None),
            Some(key) => match ClientKey::new(key.trim()) {
                Ok(k) if clients.contains(&k) => Some(Some(k)),
                _ => {
                    let shown: String = key.chars().take(20).collect();
                    self.problem(
                        &client_path,
                        format!("`{shown}` is not the key of a client in [[clients]]"),
                    );
                    None
                }
            },
        };
        let priority_path = path.key("priority");
        let priority = self.priority(raw.priority, &priority_path, None);
        if let (Some(client), Some(priority)) = (&client, priority) {
            if !seen.insert((client.clone(), priority)) {
                let whom = client
                    .as_ref()
                    .map_or("every client".to_owned(), |c| format!("client {c}"));
                self.problem(
                    &priority_path,
                    format!("{whom} already has a policy for {priority}: give one per client and priority"),
                );
            }
        }
        let out_of_hours = match (priority, raw.out_of_hours) {
            (Some(Priority::P1), Some(false)) => {
                self.problem(
                    &path.key("out_of_hours"),
                    "P1 always pages, at any hour: remove `out_of_hours = false`",
                );
                None
            }
            (Some(Priority::P1), _) => Some(true),
            (_, v) => Some(v.unwrap_or(false)),
        };
        let repeat = match raw.repeat {
            None => Some(0),
            Some(n) => match u32::try_from(n) {
                Ok(n) if n <= 10 => Some(n),
                _ => {
                    self.problem(
                        &path.key("repeat"),
                        format!("{n} is out of range: use 0 to 10"),
                    );
                    None
                }
            },
        };
        let repeat_after = self.minutes(
            raw.repeat_after_minutes.unwrap_or(30),
            &path.key("repeat_after_minutes"),
        );
        let steps_path = path.key("steps");
        if raw.steps.is_empty() {
            self.problem(
                &steps_path,
                "no steps: add [[escalation.steps]] tables, e.g. after_minutes = 0 and oncall = \"msp-primary\"",
            );
        }
        let mut steps = Some(Vec::new());
        for (j, step) in raw.steps.into_iter().enumerate() {
            let one = self.step(step, &steps_path.index(j), schedules, pagers);
            match (one, steps.as_mut()) {
                (Some(s), Some(out)) => out.push(s),
                _ => steps = None,
            }
        }
        let policy = Policy {
            steps: steps?,
            repeat: repeat?,
            repeat_after: repeat_after?,
        };
        if let Err(e) = policy.validate() {
            self.problem(&steps_path, format!("{e}: list the steps by their minute"));
            return None;
        }
        // Issue 6: paging on an SLA warning only matters when the policy
        // does not page at once.
        let on_sla_warning = raw.on_sla_warning.unwrap_or(false);
        if on_sla_warning && policy.steps.first().is_some_and(|s| s.after.is_zero()) {
            self.problem(
                &path.key("on_sla_warning"),
                "the first step already pages at minute 0: remove `on_sla_warning = true`, or start the steps later",
            );
            return None;
        }
        Some(PolicyRule {
            client: client?,
            priority: priority?,
            out_of_hours: out_of_hours?,
            policy,
            on_sla_warning,
        })
    }

    fn minutes(&mut self, n: i64, path: &Path) -> Option<SignedDuration> {
        if (0..=7 * 24 * 60).contains(&n) {
            Some(SignedDuration::from_mins(n))
        } else {
            self.problem(
                path,
                format!("{n} is out of range: use 0 to 10080 minutes (a week)"),
            );
            None
        }
    }

    fn step(
        &mut self,
        raw: RawStep,
        path: &Path,
        schedules: &[String],
        pagers: &[String],
    ) -> Option<Step> {
        let after = self.required(
            raw.after_minutes,
            &path.key("after_minutes"),
            "the minute of this step, counted from when the task started to wait",
        );
        let after = after.and_then(|n| self.minutes(n, &path.key("after_minutes")));
        let given = [
            raw.oncall.is_some(),
            raw.person.is_some(),
            raw.role.is_some(),
            raw.channel.is_some(),
            raw.pager.is_some(),
        ]
        .into_iter()
        .filter(|g| *g)
        .count();
        if given != 1 {
            self.problem(
                path,
                "give exactly one target: `oncall`, `person`, `role`, `channel` or `pager`",
            );
            return None;
        }
        let target = if let Some(name) = raw.oncall {
            let name = name.trim().to_owned();
            if schedules.contains(&name) {
                Some(Target::OnCall(name))
            } else {
                self.problem(
                    &path.key("oncall"),
                    format!("no [[oncall]] schedule is named `{name}`"),
                );
                None
            }
        } else if let Some(name) = raw.pager {
            let name = name.trim().to_owned();
            if pagers.contains(&name) {
                Some(Target::Pager(name))
            } else {
                self.problem(
                    &path.key("pager"),
                    format!("no [[pagers]] entry is named `{name}`"),
                );
                None
            }
        } else if let Some(id) = raw.person {
            self.nonzero(id, &path.key("person"))
                .map(|id| Target::Person(PersonId(id.get())))
        } else if let Some(id) = raw.role {
            self.nonzero(id, &path.key("role"))
                .map(|id| Target::Role(id.get()))
        } else if let Some(id) = raw.channel {
            self.nonzero(id, &path.key("channel"))
                .map(|id| Target::Channel(id.get()))
        } else {
            None
        };
        Some(Step {
            after: after?,
            target: target?,
        })
    }

    fn escalate(&mut self, raw: Option<RawEscalate>) -> Option<EscalateLimits> {
        let path = Path::root().key("escalate");
        let default = EscalateLimits::default();
        let Some(raw) = raw else {
            return Some(default);
        };
        let max = match raw.max_per_task {
            None => Some(default.max_per_task),
            Some(n) => match u32::try_from(n) {
                Ok(n) if (1..=10).contains(&n) => Some(n),
                _ => {
                    self.problem(
                        &path.key("max_per_task"),
                        format!("{n} is out of range: use 1 to 10"),
                    );
                    None
                }
            },
        };
        let interval = match raw.min_interval_minutes {
            None => Some(default.min_interval),
            Some(n) => self.minutes(n, &path.key("min_interval_minutes")),
        };
        Some(EscalateLimits {
            max_per_task: max?,
            min_interval: interval?,
        })
    }
}

/// Whether `url` (`http://host[:port]/...`) names this machine.
pub(super) fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => rest.rsplit_once(':').map_or(rest, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
