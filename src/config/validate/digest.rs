//! Checks of `[clients.sla]`, `[clients.digest]` and `[msp.digest]`.

use jiff::SignedDuration;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;

use super::super::digest::{
    DEFAULT_DIGEST_TIME, DigestConfig, DigestSchedule, LeadDigest, LeadTarget, default_targets,
};
use super::super::error::Path;
use super::super::ids::RawId;
use super::super::raw::{RawDigest, RawLeadDigest, RawSla};
use super::super::{ChannelId, ClientChannels};
use super::Checker;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::sla::SlaTargets;
use crate::domain::{Priority, Side};

/// The longest target accepted: a year.
const TARGET_MAX_HOURS: i64 = 24 * 366;

impl Checker<'_, '_, '_> {
    /// SLA targets; each priority left out keeps its default.
    pub(super) fn sla(&mut self, raw: Option<RawSla>, path: &Path) -> Option<SlaTargets> {
        let mut targets = default_targets();
        let Some(raw) = raw else {
            return Some(targets);
        };
        let mut ok = true;
        for (key, table, into) in [
            (
                "first_response",
                raw.first_response,
                &mut targets.first_response,
            ),
            ("resolution", raw.resolution, &mut targets.resolution),
        ] {
            let Some(table) = table else { continue };
            let values = [table.p1, table.p2, table.p3, table.p4];
            for (i, value) in values.into_iter().enumerate() {
                let Some(text) = value else { continue };
                let at = path.key(key).key(Priority::ALL[i].as_str());
                match parse_target(&text) {
                    Ok(d) => into[i] = d,
                    Err(why) => {
                        self.problem(&at, why);
                        ok = false;
                    }
                }
            }
        }
        if let Some(list) = raw.around_the_clock {
            targets.around_the_clock = [false; 4];
            for (j, text) in list.iter().enumerate() {
                match text.trim().parse::<Priority>() {
                    Ok(p) => targets.around_the_clock[p as usize] = true,
                    Err(_) => {
                        let shown: String = text.chars().take(20).collect();
                        self.problem(
                            &path.key("around_the_clock").index(j),
                            format!("`{shown}` is not a priority: use \"P1\" to \"P4\""),
                        );
                        ok = false;
                    }
                }
            }
        }
        if let Some(percent) = raw.warn_at_percent {
            match u32::try_from(percent) {
                Ok(p @ 1..=99) => targets.at_risk_percent = p,
                _ => {
                    self.problem(
                        &path.key("warn_at_percent"),
                        format!("{percent} is out of range: a warning comes at 1 to 99 percent of a target (default 75)"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(targets)
    }

    /// A client's digest settings.
    pub(super) fn digest(
        &mut self,
        raw: Option<RawDigest>,
        path: &Path,
        channels: Option<&ClientChannels>,
    ) -> Option<DigestConfig> {
        let raw = raw.unwrap_or_default();
        let schedule = self.digest_schedule(raw.time, raw.days, path);
        let internal_channel =
            self.digest_channel(raw.internal_channel, &path.key("internal_channel"));
        let msp_channel = self.digest_channel(raw.msp_channel, &path.key("msp_channel"));
        let has_internal = channels.map(|c| c.internal_it.is_some());
        let sides = match raw.sides {
            None => {
                let mut sides = Vec::new();
                if has_internal == Some(true) || matches!(internal_channel, Some(Some(_))) {
                    sides.push(Side::Internal);
                }
                sides.push(Side::Msp);
                Some(sides)
            }
            Some(list) => {
                let mut sides = Vec::new();
                let mut ok = true;
                for (j, text) in list.iter().enumerate() {
                    let at = path.key("sides").index(j);
                    match text.trim() {
                        "internal" => {
                            if has_internal == Some(false) && matches!(internal_channel, Some(None))
                            {
                                self.problem(&at, "internal IT has no channel for its digest: set channels.internal_it or digest.internal_channel");
                                ok = false;
                            }
                            sides.push(Side::Internal);
                        }
                        "msp" => sides.push(Side::Msp),
                        other => {
                            let shown: String = other.chars().take(20).collect();
                            self.problem(
                                &at,
                                format!("`{shown}` is not a side: use \"internal\" or \"msp\""),
                            );
                            ok = false;
                        }
                    }
                }
                sides.dedup();
                ok.then_some(sides)
            }
        };
        Some(DigestConfig {
            schedule: schedule?,
            sides: sides?,
            internal_channel: internal_channel?,
            msp_channel: msp_channel?,
        })
    }

    /// `[msp.digest]`: the MSP lead's digest, to a channel or a person.
    pub(super) fn lead_digest(
        &mut self,
        raw: Option<RawLeadDigest>,
        path: &Path,
    ) -> Option<Option<LeadDigest>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let schedule = self.digest_schedule(raw.time, raw.days, path);
        let tz_path = path.key("time_zone");
        let tz = match raw.time_zone {
            None => Some(TimeZone::UTC),
            Some(name) => {
                match TimeZone::get(name.trim()) {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        let shown: String = name.chars().take(40).collect();
                        self.problem(&tz_path, format!("unknown time zone `{shown}`: use an IANA name such as \"Europe/Rome\""));
                        None
                    }
                }
            }
        };
        let target = match (raw.channel_id, raw.user_id) {
            (Some(_), Some(_)) => {
                self.problem(
                    &path.key("user_id"),
                    "give either channel_id (a channel) or user_id (a direct message), not both",
                );
                None
            }
            (None, None) => {
                self.problem(path, "missing channel_id or user_id: where the MSP lead's digest goes (a channel, or a direct message to this person)");
                None
            }
            (Some(id), None) => self
                .nonzero(id, &path.key("channel_id"))
                .map(|id| LeadTarget::Channel(ChannelId::from(id))),
            (None, Some(id)) => self
                .nonzero(id, &path.key("user_id"))
                .map(|id| LeadTarget::User(id.get())),
        };
        let day = (Time::constant(9, 0, 0, 0), Time::constant(18, 0, 0, 0));
        let calendar = BusinessCalendar::weekdays(tz?, &[day], Default::default()).ok()?;
        Some(Some(LeadDigest {
            schedule: schedule?,
            calendar,
            target: target?,
        }))
    }

    fn digest_schedule(
        &mut self,
        time: Option<String>,
        days: Option<Vec<String>>,
        path: &Path,
    ) -> Option<DigestSchedule> {
        let time = match time {
            None => Some(DEFAULT_DIGEST_TIME),
            Some(text) => match parse_clock(&text) {
                Some(t) => Some(t),
                None => {
                    let shown: String = text.chars().take(20).collect();
                    self.problem(
                        &path.key("time"),
                        format!("`{shown}` is not a time of day: write it as \"08:30\""),
                    );
                    None
                }
            },
        };
        let days = match days {
            None => Some(None),
            Some(list) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (j, text) in list.iter().enumerate() {
                    match parse_weekday(text) {
                        Some(d) if !out.contains(&d) => out.push(d),
                        Some(_) => {}
                        None => {
                            let shown: String = text.chars().take(20).collect();
                            self.problem(&path.key("days").index(j), format!("`{shown}` is not a weekday: write \"monday\" to \"sunday\" (or \"mon\" to \"sun\")"));
                            ok = false;
                        }
                    }
                }
                if ok && out.is_empty() {
                    self.problem(&path.key("days"), "no days: list the weekdays the digest goes out, or leave `days` out for the working days");
                    ok = false;
                }
                ok.then_some(Some(out))
            }
        };
        Some(DigestSchedule {
            time: time?,
            days: days?,
        })
    }

    /// `Some(None)` when absent, `Some(Some(id))` when valid. A digest may
    /// share a channel with another purpose, so only the id is checked.
    fn digest_channel(&mut self, raw: Option<RawId>, path: &Path) -> Option<Option<ChannelId>> {
        match raw {
            None => Some(None),
            Some(raw) => self.nonzero(raw, path).map(|id| Some(ChannelId::from(id))),
        }
    }
}

/// A target like "30m", "4h", "2h 30m" (business time; no days, whose
/// length depends on the opening hours).
fn parse_target(text: &str) -> Result<SignedDuration, String> {
    let shown: String = text.chars().take(20).collect();
    let bad = || {
        format!(
            "`{shown}` is not a duration: write business time like \"30m\", \"4h\" or \"1h 30m\" (no days: write \"16h\" for two working days of eight hours)"
        )
    };
    let d: SignedDuration = text.trim().parse().map_err(|_| bad())?;
    if d <= SignedDuration::ZERO {
        return Err(format!(
            "`{shown}` is not a target: it must be more than zero"
        ));
    }
    if d > SignedDuration::from_hours(TARGET_MAX_HOURS) {
        return Err(format!(
            "`{shown}` is too long: at most {TARGET_MAX_HOURS}h"
        ));
    }
    Ok(d)
}

fn parse_clock(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    use Weekday::*;
    let t = text.trim().to_lowercase();
    let day = match t.get(..3)? {
        "mon" | "lun" => Monday,
        "tue" | "mar" => Tuesday,
        "wed" | "mer" => Wednesday,
        "thu" | "gio" => Thursday,
        "fri" | "ven" => Friday,
        "sat" | "sab" => Saturday,
        "sun" | "dom" => Sunday,
        _ => return None,
    };
    Some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_times_and_days_parse_what_people_write() {
        assert_eq!(parse_target("30m"), Ok(SignedDuration::from_mins(30)));
        assert_eq!(parse_target("1h 30m"), Ok(SignedDuration::from_mins(90)));
        assert!(parse_target("2d").is_err());
        assert!(parse_target("0m").is_err());
        assert_eq!(parse_clock("08:30"), Some(Time::constant(8, 30, 0, 0)));
        assert_eq!(parse_clock("8:05"), Some(Time::constant(8, 5, 0, 0)));
        assert_eq!(parse_clock("24:00"), None);
        assert_eq!(parse_clock("830"), None);
        assert_eq!(parse_weekday("Monday"), Some(Weekday::Monday));
        assert_eq!(parse_weekday("ven"), Some(Weekday::Friday));
        assert_eq!(parse_weekday("x"), None);
    }
}
