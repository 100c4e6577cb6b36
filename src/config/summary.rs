//! The human-readable account of a configuration, for `ponte check-config`.

use std::fmt::{Display, Write};

use super::{ClientConfig, Config};
use crate::domain::Category;
use crate::domain::calendar::BusinessCalendar;

pub(super) fn render(config: &Config) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_config(&mut out, config);
    out
}

fn write_config(out: &mut String, config: &Config) -> std::fmt::Result {
    let msp = config.msp();
    writeln!(out, "MSP: {} (language {})", msp.name, msp.language)?;
    match &msp.server {
        Some(server) => {
            writeln!(out, "  own server {}", server.guild_id)?;
            writeln!(
                out,
                "  queue channel {}, engineer role {}, lead role {}",
                server.queue_channel, server.engineer_role, server.lead_role
            )?;
        }
        None => writeln!(out, "  no server of its own: works in each client's server")?,
    }
    if let Some(lead) = &msp.digest {
        let to = match lead.target {
            super::LeadTarget::Channel(c) => format!("channel {c}"),
            super::LeadTarget::User(u) => format!("a direct message to {u}"),
        };
        writeln!(
            out,
            "  lead's digest: {} ({}), to {to}",
            schedule_text(&lead.schedule),
            lead.calendar.tz().iana_name().unwrap_or("UTC")
        )?;
    }
    writeln!(
        out,
        "Data: {} (cache {} MB); default language {}",
        config.data_dir().display(),
        config.cache_capacity_mb(),
        config.language()
    )?;
    writeln!(
        out,
        "Routing: the first category with a keyword in the request wins; * marks a client's override."
    )?;
    writeln!(
        out,
        "The MSP needs the IT manager's approval on categories marked yes and on those internal IT owns."
    )?;
    for client in config.clients() {
        writeln!(out)?;
        write_client(out, config, client)?;
    }
    write_oncall(out, config.oncall())?;
    write_inbound(out, config)?;
    write_heartbeat_out(out, config)?;
    Ok(())
}

/// The heartbeat out, if set, and when `/healthz` calls the timers stuck.
fn write_heartbeat_out(out: &mut String, config: &Config) -> std::fmt::Result {
    use super::monitoring::{PingMethod, PingUrl};
    let Some(h) = config.heartbeat_out() else {
        return Ok(());
    };
    let url = match &h.url {
        PingUrl::Url(url) => url.clone(),
        PingUrl::Env(var) => format!("the URL in {var}"),
    };
    let method = match h.method {
        PingMethod::Get => "GET",
        PingMethod::Post => "POST",
    };
    writeln!(out)?;
    writeln!(
        out,
        "Heartbeat out: {method} {url} every {} s (deadline {} s), only while the writer, the timers and the gateway work",
        h.every.as_secs(),
        h.timeout.as_secs()
    )?;
    writeln!(
        out,
        "  /healthz fails when the timers have not run for {} s",
        config.timers_stale().as_secs()
    )
}

/// The alert listener, if set, or a warning when monitoring is configured
/// without it.
fn write_inbound(out: &mut String, config: &Config) -> std::fmt::Result {
    let monitored = config
        .clients()
        .iter()
        .any(|c| !c.integrations.is_empty() || !c.heartbeats.is_empty());
    match config.inbound() {
        Some(inbound) => {
            writeln!(out)?;
            writeln!(
                out,
                "Inbound: alerts and heartbeats on {} (bodies up to {} KiB)",
                inbound.addr,
                inbound.max_body_bytes / 1024
            )
        }
        None if monitored => {
            writeln!(out)?;
            writeln!(
                out,
                "Inbound: off ([inbound] is not set): the integrations and heartbeat monitors above receive nothing"
            )
        }
        None => Ok(()),
    }
}

/// A client's alert integrations and heartbeat monitors.
fn write_monitoring(out: &mut String, client: &ClientConfig) -> std::fmt::Result {
    if client.integrations.is_empty() && client.heartbeats.is_empty() {
        return Ok(());
    }
    let to = |to: crate::domain::SideChoice| match to {
        crate::domain::SideChoice::Auto => "routed by the rules".to_owned(),
        crate::domain::SideChoice::To(side) => format!("to {side}"),
    };
    writeln!(out, "  monitoring:")?;
    for i in &client.integrations {
        let storm = match i.storm_threshold {
            0 => "storms never fold".to_owned(),
            n => format!("more than {n} new alerts of a group a minute fold into one task"),
        };
        writeln!(
            out,
            "    alerts `{}`: POST /clients/{}/alerts/{}",
            i.name, client.key, i.name
        )?;
        writeln!(
            out,
            "      {} format, {} auth with the secret in {}, {}",
            i.format.as_str(),
            i.auth.as_str(),
            i.secret_env,
            to(i.to)
        )?;
        writeln!(
            out,
            "      at most {} requests a minute; {storm}",
            i.rate_per_minute
        )?;
    }
    for m in &client.heartbeats {
        writeln!(
            out,
            "    heartbeat `{}`: POST /clients/{}/heartbeat/{}",
            m.name, client.key, m.name
        )?;
        writeln!(
            out,
            "      {} auth with the secret in {}; every {:#} with {:#} of grace",
            m.auth.as_str(),
            m.secret_env,
            m.interval,
            m.grace
        )?;
        writeln!(
            out,
            "      a missed beat opens a {} task, {}",
            m.priority,
            to(m.to)
        )?;
    }
    Ok(())
}

fn write_oncall(out: &mut String, oncall: &super::oncall::OnCallConfig) -> std::fmt::Result {
    use super::oncall::{PagerKind, describe_target};
    if oncall.schedules.is_empty() && oncall.policies.is_empty() && oncall.pagers.is_empty() {
        // Nothing configured: nobody is paged, and nothing to say.
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "On call:")?;
    for s in &oncall.schedules {
        let r = s.schedule.rotation();
        let members: Vec<String> = r.members().iter().map(|m| m.to_string()).collect();
        writeln!(
            out,
            "  schedule `{}` ({}): first shift {} local time ({}), shifts of {:#}, members {}",
            r.name(),
            s.side,
            r.start().strftime("%Y-%m-%d %H:%M"),
            r.tz().iana_name().unwrap_or("(unnamed)"),
            r.shift(),
            members.join(", ")
        )?;
    }
    for p in &oncall.policies {
        let whom = p
            .client
            .as_ref()
            .map_or("every client".to_owned(), |c| format!("client {c}"));
        let hours = if p.out_of_hours {
            "at any hour"
        } else {
            "from the next business opening"
        };
        writeln!(out, "  escalation {} for {whom}, {hours}:", p.priority)?;
        if p.on_sla_warning {
            writeln!(
                out,
                "    an SLA warning of a task never paged: the first step at once"
            )?;
        }
        for step in &p.policy.steps {
            writeln!(
                out,
                "    after {} min: {}",
                step.after.as_mins(),
                describe_target(&step.target)
            )?;
        }
        if p.policy.repeat > 0 {
            writeln!(
                out,
                "    then {} more round(s), {} min after the last step",
                p.policy.repeat,
                p.policy.repeat_after.as_mins()
            )?;
        }
    }
    for p in &oncall.pagers {
        let (kind, var) = match &p.kind {
            PagerKind::PagerDuty { routing_key_env } => ("PagerDuty Events v2", routing_key_env),
            PagerKind::Webhook { secret_env } => ("signed webhook", secret_env),
        };
        writeln!(
            out,
            "  pager `{}`: {kind} at {}, secret from ${var}, channel fallback after {} attempts",
            p.name, p.url, p.max_attempts
        )?;
    }
    writeln!(
        out,
        "  /task escalate: at most {} per task, {} min apart",
        oncall.escalate.max_per_task,
        oncall.escalate.min_interval.as_mins()
    )
}

fn write_client(out: &mut String, config: &Config, client: &ClientConfig) -> std::fmt::Result {
    writeln!(out, "Client {}: {}", client.key, client.name)?;
    writeln!(
        out,
        "  server {}, language {}, time zone {}",
        client.guild_id,
        client.language,
        client.time_zone.iana_name().unwrap_or("(unnamed)")
    )?;
    write_hours(out, &client.calendar)?;
    write_sla_and_digest(out, config, client)?;
    let msp_channel = match (client.channels.msp, config.msp_channel(&client.key)) {
        (Some(own), _) => own.to_string(),
        (None, Some(queue)) => format!("{queue} (the MSP's queue)"),
        (None, None) => "-".to_owned(),
    };
    writeln!(
        out,
        "  channels: requests {}, internal IT {}, MSP {}",
        client.channels.requests,
        or_dash(client.channels.internal_it),
        msp_channel
    )?;
    writeln!(
        out,
        "  roles: IT manager {}, IT technician {}, MSP engineer {}, MSP lead {}",
        client.roles.it_manager,
        client.roles.it_technician,
        or_dash(client.roles.msp_engineer),
        or_dash(client.roles.msp_lead)
    )?;
    let routing = &client.routing;
    writeln!(
        out,
        "  when no keyword matches: {}, {}",
        routing.default_side, routing.default_priority
    )?;
    let overridden = |c: &Category, list: &[Category]| if list.contains(c) { "*" } else { "" };
    let t = &client.territory;
    writeln!(out, "  routing:")?;
    let width = routing
        .categories
        .iter()
        .map(|r| r.category.as_str().len())
        .chain(["category".len()])
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "    {:width$}  {:9}  {:8}  {:8}  keywords",
        "category", "owner", "priority", "approval"
    )?;
    for rule in &routing.categories {
        let c = &rule.category;
        let owner_mark = match (overridden(c, &t.it_owns), overridden(c, &t.msp_handles)) {
            ("*", _) | (_, "*") => "*",
            _ => "",
        };
        let approval = if rule.needs_approval { "yes" } else { "-" };
        let columns = format!(
            "    {:width$}  {:9}  {:8}  {:8}  ",
            c.as_str(),
            format!("{}{owner_mark}", rule.owner),
            rule.priority.as_str(),
            format!("{approval}{}", overridden(c, &t.needs_approval)),
        );
        write_wrapped(out, &columns, &rule.keywords)?;
    }
    if routing.categories.is_empty() {
        writeln!(out, "    (no categories)")?;
    }
    write_monitoring(out, client)
}

/// The longest line of the routing table, in characters.
const WIDTH: usize = 100;

/// Writes `columns` and then the keywords, comma-separated, wrapping them
/// under their column so that lines stay within [`WIDTH`].
fn write_wrapped(out: &mut String, columns: &str, keywords: &[String]) -> std::fmt::Result {
    let indent = columns.chars().count();
    let mut line = columns.to_owned();
    let mut len = indent;
    for (i, keyword) in keywords.iter().enumerate() {
        let piece = if i + 1 < keywords.len() {
            format!("{keyword},")
        } else {
            keyword.clone()
        };
        let piece_len = piece.chars().count();
        if len > indent && len + 1 + piece_len > WIDTH {
            writeln!(out, "{line}")?;
            line = " ".repeat(indent);
            len = indent;
        }
        if len > indent {
            line.push(' ');
            len += 1;
        }
        line.push_str(&piece);
        len += piece_len;
    }
    writeln!(out, "{line}")
}

fn or_dash(value: Option<impl Display>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn write_hours(out: &mut String, calendar: &BusinessCalendar) -> std::fmt::Result {
    use jiff::civil::Weekday::*;
    let days = [
        (Monday, "Mon"),
        (Tuesday, "Tue"),
        (Wednesday, "Wed"),
        (Thursday, "Thu"),
        (Friday, "Fri"),
        (Saturday, "Sat"),
        (Sunday, "Sun"),
    ];
    let shown: Vec<String> = days
        .iter()
        .filter(|(day, _)| !calendar.hours(*day).is_empty())
        .map(|(day, name)| {
            let ranges: Vec<String> = calendar
                .hours(*day)
                .iter()
                .map(|r| {
                    let end = if r.end == jiff::civil::Time::midnight() {
                        "24:00".to_owned()
                    } else {
                        r.end.strftime("%H:%M").to_string()
                    };
                    format!("{}-{end}", r.start.strftime("%H:%M"))
                })
                .collect();
            format!("{name} {}", ranges.join(", "))
        })
        .collect();
    writeln!(out, "  business hours: {}", shown.join("; "))?;
    if !calendar.holidays().is_empty() {
        let holidays: Vec<String> = calendar
            .holidays()
            .iter()
            .map(ToString::to_string)
            .collect();
        writeln!(out, "  holidays: {}", holidays.join(", "))?;
    }
    Ok(())
}

fn schedule_text(schedule: &super::DigestSchedule) -> String {
    let days = match &schedule.days {
        None => "working days".to_owned(),
        Some(days) => days
            .iter()
            .map(|d| format!("{d:?}").chars().take(3).collect::<String>())
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("{} on {days}", schedule.time.strftime("%H:%M"))
}

fn write_sla_and_digest(
    out: &mut String,
    config: &Config,
    client: &ClientConfig,
) -> std::fmt::Result {
    use crate::domain::Priority;
    let sla = &client.sla;
    let targets: Vec<String> = Priority::ALL
        .iter()
        .map(|&p| {
            let around = if sla.is_around_the_clock(p) {
                " 24/7"
            } else {
                ""
            };
            format!(
                "{} {:#}/{:#}{around}",
                p.as_str(),
                sla.first_response_for(p),
                sla.resolution_for(p)
            )
        })
        .collect();
    writeln!(
        out,
        "  SLA (first response/resolution): {}; warning at {}%",
        targets.join(", "),
        sla.at_risk_percent
    )?;
    let sides: Vec<String> = client
        .digest
        .sides
        .iter()
        .map(|&side| {
            format!(
                "{side} in {}",
                or_dash(config.digest_channel(&client.key, side))
            )
        })
        .collect();
    writeln!(
        out,
        "  digest: {}; {}",
        schedule_text(&client.digest.schedule),
        if sides.is_empty() {
            "no side".to_owned()
        } else {
            sides.join(", ")
        }
    )
}
