//! On-call schedules, escalation policies, outside pagers and the limits of
//! `/task escalate`, as configured (issue 5).
//!
//! ```toml
//! [[oncall]]                       # a rotation; "msp" (default) or "internal"
//! name = "msp-primary"
//! side = "msp"
//! time_zone = "Europe/Rome"
//! members = [9021, 9022]           # Discord user ids, in turn order
//! start = "2026-11-02"             # the first member's first shift starts that day
//! handover = "09:00"               # local time of every handover
//! shift = "1w"                     # weeks, days, hours or minutes: "1w", "7d", "12h"
//!
//! [[escalation]]                   # a policy for a priority, for every client
//! priority = "P1"                  #   or, with `client = "ACME"`, for one client
//! out_of_hours = true              # P1 always pages; others default to false
//! repeat = 0                       # more rounds after the first
//! repeat_after_minutes = 30
//! on_sla_warning = false           # true: an SLA warning of a task never paged pages step 1 at once
//! [[escalation.steps]]             # "after N minutes without acknowledgement"
//! after_minutes = 0                # exactly one target:
//! oncall = "msp-primary"           #   oncall, person, role, channel or pager
//!
//! [[pagers]]
//! name = "pagerduty"
//! kind = "pagerduty"               # or "webhook"
//! url = "https://events.pagerduty.com/v2/enqueue"
//! routing_key_env = "PONTE_PAGERDUTY_KEY"  # pagerduty: the routing key's variable
//! # secret_env = "PONTE_WEBHOOK_SECRET"    # webhook: the HMAC secret's variable
//! max_attempts = 5                 # then the MSP channel gets the page, with a warning
//!
//! [escalate]                       # limits of /task escalate
//! max_per_task = 2
//! min_interval_minutes = 15
//! ```
//!
//! Secrets (the PagerDuty routing key, the webhook secret) are never in the
//! file: the file names the environment variables that hold them.
//!
//! As values: [`OnCallConfig`] (the schedules, [`PolicyRule`]s per client and priority,
//! [`PagerConfig`]s, [`EscalateLimits`]); [`OnCallConfig::policy_for`] picks the policy
//! of a client and priority, [`OnCallConfig::paging_rules`] which priorities page and
//! when. Checked in `validate/oncall.rs`.

use jiff::SignedDuration;

use crate::domain::escalation::{PagingRules, Policy, Target};
use crate::domain::oncall::Schedule;
use crate::domain::{ClientKey, Priority, Side};

/// Everything about paging people.
#[derive(Clone, Debug, Default)]
pub struct OnCallConfig {
    pub schedules: Vec<OnCallSchedule>,
    pub policies: Vec<PolicyRule>,
    pub pagers: Vec<PagerConfig>,
    pub escalate: EscalateLimits,
}

/// A schedule and whose it is.
#[derive(Clone, Debug)]
pub struct OnCallSchedule {
    pub side: Side,
    pub schedule: Schedule,
}

/// The policy for one priority, of one client or (`client: None`) of all.
#[derive(Clone, Debug)]
pub struct PolicyRule {
    pub client: Option<ClientKey>,
    pub priority: Priority,
    /// Pages outside the client's business hours (always for P1); otherwise
    /// the policy's clock starts at the next opening.
    pub out_of_hours: bool,
    pub policy: Policy,
    /// Issue 6: an SLA warning of an MSP task that waits for a pick-up and
    /// was never paged pages the policy's first step at once (the SLA
    /// timer records the page with the warning). Default false.
    pub on_sla_warning: bool,
}

/// How an outside pager is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PagerKind {
    /// PagerDuty Events API v2; the routing key is read from this variable.
    PagerDuty { routing_key_env: String },
    /// A JSON webhook signed with HMAC-SHA256; the secret is read from this
    /// variable.
    Webhook { secret_env: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagerConfig {
    pub name: String,
    pub kind: PagerKind,
    pub url: String,
    /// Failed deliveries before the page goes to the MSP channel instead.
    pub max_attempts: u32,
    /// The most one call to the pager may take.
    pub timeout: std::time::Duration,
}

/// How often a task may be escalated by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscalateLimits {
    pub max_per_task: u32,
    pub min_interval: SignedDuration,
}

impl Default for EscalateLimits {
    fn default() -> Self {
        Self {
            max_per_task: 2,
            min_interval: SignedDuration::from_mins(15),
        }
    }
}

impl OnCallConfig {
    /// The default of `[[pagers]].max_attempts`.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

    pub fn schedule(&self, name: &str) -> Option<&OnCallSchedule> {
        self.schedules.iter().find(|s| s.schedule.name() == name)
    }

    pub fn pager(&self, name: &str) -> Option<&PagerConfig> {
        self.pagers.iter().find(|p| p.name == name)
    }

    /// The policy for a client's tasks of `priority`: the client's own, or
    /// else the one for every client.
    pub fn policy_for(&self, client: &ClientKey, priority: Priority) -> Option<&PolicyRule> {
        let of = |c: Option<&ClientKey>| {
            self.policies
                .iter()
                .find(move |p| p.priority == priority && p.client.as_ref() == c)
        };
        of(Some(client)).or_else(|| of(None))
    }

    /// Which of a client's priorities escalate and which page at any hour.
    pub fn paging_rules(&self, client: &ClientKey) -> PagingRules {
        let mut rules = PagingRules {
            escalate: Vec::new(),
            around_the_clock: Vec::new(),
        };
        for priority in Priority::ALL {
            if let Some(rule) = self.policy_for(client, priority) {
                rules.escalate.push(priority);
                if rule.out_of_hours {
                    rules.around_the_clock.push(priority);
                }
            }
        }
        rules
    }
}

/// A target in words, for the summary and logs.
pub fn describe_target(target: &Target) -> String {
    match target {
        Target::OnCall(name) => format!("on call in `{name}`"),
        Target::Person(p) => format!("person {p}"),
        Target::Role(r) => format!("role {r}"),
        Target::Channel(c) => format!("channel {c}"),
        Target::Pager(name) => format!("pager `{name}`"),
    }
}
