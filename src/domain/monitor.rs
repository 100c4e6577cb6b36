//! Monitoring (issue 20): alerts from monitoring systems and missed
//! heartbeats, as tasks.
//!
//! An alert is identified by its fingerprint within its source (a client's
//! integration, or `heartbeat` for the heartbeat monitors). While the task an
//! alert opened is open, the same fingerprint firing again is a repeat
//! (`alert_repeated`), not a new task. Alerts of one group key arriving
//! faster than a storm threshold fold into one task with a count
//! (`alert_folded`). A resolved alert records `alert_resolved`; when it was
//! the last alert firing on a task nobody touched, the task is resolved with
//! it, otherwise the event is the note that says so.
//!
//! This module is pure: the application layer keeps the fingerprint and
//! group indexes in the store and asks [`storm`] and [`resolve`] what to do.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::event::EventKind;
use super::task::{Status, Task};

/// How far back a storm is counted: "many alerts in a minute".
pub const STORM_WINDOW: SignedDuration = SignedDuration::from_secs(60);

/// The longest fingerprint, group key, source or label text kept; longer
/// ones are refused by the adapters with this limit.
pub const KEY_MAX: usize = 200;

/// The source of heartbeat monitors' alerts (no integration may take this
/// name).
pub const HEARTBEAT_SOURCE: &str = "heartbeat";

/// The task an alert opens carries this: where it came from and how to find
/// it again (the `alert_fired` event).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertOrigin {
    /// The integration's name (`prometheus`), or `heartbeat`.
    pub source: String,
    pub fingerprint: String,
    /// The group key alerts of a storm fold by.
    pub group: String,
    /// The severity as the monitoring system wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// A link to the alert in the monitoring system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The task opened for a storm of this group: alerts after it fold in.
    #[serde(default)]
    pub storm: bool,
}

/// What an alert does to the task it belongs to (`Command::Alert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertChange {
    /// The same alert fired again while the task is open.
    Repeated { source: String, fingerprint: String },
    /// Another alert of the storm's group: the task now counts `count`
    /// alerts folded into it.
    Folded {
        source: String,
        fingerprint: String,
        title: String,
        count: u32,
    },
    /// An alert of the task resolved; `firing` alerts of it still fire.
    /// `even_if_touched`: the task resolves with its last alert though
    /// somebody acted on it (a heartbeat monitor checking in again: what
    /// the task was about is over, as GoAlert and Grafana OnCall close it).
    Resolved {
        source: String,
        fingerprint: String,
        firing: u32,
        even_if_touched: bool,
    },
}

/// Whether nobody has acted on `task` since an alert opened it: no claim,
/// assignment, acknowledgement, response, comment or status change. Only
/// then does a resolved alert resolve its task.
pub fn untouched(task: &Task) -> bool {
    task.status == Status::New
        && task.assignee.is_none()
        && task.facts.acknowledged.is_empty()
        && task.facts.responded.iter().all(Option::is_none)
        && task.facts.last_shared.is_none()
        && task.facts.last_note.iter().all(Option::is_none)
}

/// The events of `change` on `task`.
pub fn decide(task: &Task, change: &AlertChange) -> Vec<EventKind> {
    match change.clone() {
        AlertChange::Repeated {
            source,
            fingerprint,
        } => vec![EventKind::AlertRepeated {
            source,
            fingerprint,
        }],
        AlertChange::Folded {
            source,
            fingerprint,
            title,
            count,
        } => vec![EventKind::AlertFolded {
            source,
            fingerprint,
            title,
            count,
        }],
        AlertChange::Resolved {
            source,
            fingerprint,
            firing,
            even_if_touched,
        } => {
            let resolves = resolve(task, firing, even_if_touched);
            let mut events = vec![EventKind::AlertResolved {
                source,
                fingerprint,
                firing,
                resolves_task: resolves,
            }];
            if resolves {
                events.push(EventKind::StatusChanged {
                    from: task.status,
                    to: Status::Resolved,
                    reason: None,
                });
            }
            events
        }
    }
}

/// Whether a resolved alert resolves its task: the last one firing, on a
/// task nobody touched (unless `even_if_touched`) that can still move to
/// resolved.
pub fn resolve(task: &Task, firing: u32, even_if_touched: bool) -> bool {
    firing == 0 && (even_if_touched || untouched(task)) && task.status.can_move_to(Status::Resolved)
}

/// The arrivals of a group's new alerts within the storm window, oldest
/// first, kept by the application per group key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupWindow {
    /// When each of the latest new alerts of the group opened a task.
    #[serde(default)]
    pub recent: Vec<Timestamp>,
}

impl GroupWindow {
    /// Forgets arrivals older than the storm window.
    pub fn prune(&mut self, now: Timestamp) {
        self.recent
            .retain(|at| now.duration_since(*at) < STORM_WINDOW);
    }

    /// Whether a new alert at `now` is part of a storm: `threshold` alerts of
    /// the group already opened tasks within the window. `threshold` 0
    /// never storms.
    pub fn storm(&mut self, now: Timestamp, threshold: u32) -> bool {
        self.prune(now);
        threshold > 0 && self.recent.len() >= threshold as usize
    }

    /// Records a new alert's task at `now`; keeps no more than `threshold`
    /// arrivals (older ones cannot matter).
    pub fn opened(&mut self, now: Timestamp, threshold: u32) {
        self.recent.push(now);
        let keep = threshold.max(1) as usize;
        if self.recent.len() > keep {
            let extra = self.recent.len() - keep;
            self.recent.drain(..extra);
        }
    }
}

/// A heartbeat monitor's state, kept by the application per monitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beats {
    /// The last beat, if any (a monitor is inactive until its first beat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Timestamp>,
    /// The beat whose expiry opened a task: one task per expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_after: Option<Timestamp>,
}

/// Beats closer together than this are one beat: a system that beats in a
/// loop costs no write per beat. Far below the shortest interval (10 s).
pub const BEAT_COALESCE: SignedDuration = SignedDuration::from_secs(1);

/// Whether a beat at `now` adds nothing to `beats`: the last beat is less
/// than [`BEAT_COALESCE`] ago and opened no task (a missed-beat task comes
/// at least an interval after its beat, and the next beat must resolve it).
pub fn coalesces(beats: &Beats, now: Timestamp) -> bool {
    beats.last.is_some_and(|last| {
        beats.expired_after != Some(last) && {
            let since = now.duration_since(last);
            since >= SignedDuration::ZERO && since < BEAT_COALESCE
        }
    })
}

/// When a monitor's beat is missed: `interval` and `grace` after the later of
/// its last beat and `since` (when Ponte started watching: beats cannot
/// arrive while Ponte is down). `None` for a monitor that never beat, or
/// whose missed beat already opened its task.
pub fn expiry(
    beats: &Beats,
    since: Timestamp,
    interval: SignedDuration,
    grace: SignedDuration,
) -> Option<Timestamp> {
    let last = beats.last?;
    if beats.expired_after == Some(last) {
        return None;
    }
    last.max(since)
        .checked_add(interval)
        .and_then(|t| t.checked_add(grace))
        .ok()
}

/// What a task's history says of its alerts: where it came from, which of
/// them still fire (source, fingerprint) and how many folded in. `ponte
/// import` rebuilds the application's alert lookups from it, so an alert
/// that fires again after an import is a repeat on its open task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertHistory {
    /// The alert that opened the task, if one did.
    pub origin: Option<AlertOrigin>,
    /// The alerts firing on the task at the end of its history.
    pub firing: std::collections::BTreeSet<(String, String)>,
    /// How many alerts folded into it (a storm task).
    pub folded: u32,
}

/// The [`AlertHistory`] of a task's `events`.
pub fn history<'a>(events: impl IntoIterator<Item = &'a super::event::Event>) -> AlertHistory {
    let mut h = AlertHistory::default();
    for event in events {
        match &event.kind {
            EventKind::AlertFired {
                source,
                fingerprint,
                group,
                severity,
                link,
                storm,
            } => {
                h.origin = Some(AlertOrigin {
                    source: source.clone(),
                    fingerprint: fingerprint.clone(),
                    group: group.clone(),
                    severity: severity.clone(),
                    link: link.clone(),
                    storm: *storm,
                });
                h.firing.insert((source.clone(), fingerprint.clone()));
            }
            EventKind::AlertRepeated {
                source,
                fingerprint,
            } => {
                h.firing.insert((source.clone(), fingerprint.clone()));
            }
            EventKind::AlertFolded {
                source,
                fingerprint,
                count,
                ..
            } => {
                h.firing.insert((source.clone(), fingerprint.clone()));
                h.folded = h.folded.max(*count);
            }
            EventKind::AlertResolved {
                source,
                fingerprint,
                ..
            } => {
                h.firing.remove(&(source.clone(), fingerprint.clone()));
            }
            _ => {}
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn a_storm_starts_after_threshold_alerts_within_a_minute() {
        let mut w = GroupWindow::default();
        for s in 0..3 {
            assert!(!w.storm(at(s), 3), "alert {s} is not a storm yet");
            w.opened(at(s), 3);
        }
        assert!(w.storm(at(10), 3), "the fourth within a minute is");
        // A minute after the first, the window has room again.
        assert!(!w.storm(at(61), 3));
        assert_eq!(w.recent.len(), 1);
        // Threshold 0: never a storm, and the window stays small.
        let mut w = GroupWindow::default();
        for s in 0..100 {
            assert!(!w.storm(at(s), 0));
            w.opened(at(s), 0);
        }
        assert_eq!(w.recent.len(), 1);
    }

    #[test]
    fn a_history_says_which_alerts_still_fire_on_a_task() {
        use super::super::event::Event;
        use super::super::{ClientKey, TaskId, Who};
        let task = TaskId::new(ClientKey::new("ACME").unwrap(), 7);
        let event = |seq: u32, kind: EventKind| Event {
            task: task.clone(),
            seq,
            at: at(i64::from(seq)),
            by: Who::Ponte,
            kind,
        };
        let fp = |f: &str| ("prometheus".to_owned(), f.to_owned());
        let events = [
            event(
                1,
                EventKind::AlertFired {
                    source: "prometheus".into(),
                    fingerprint: "a".into(),
                    group: "db".into(),
                    severity: None,
                    link: None,
                    storm: true,
                },
            ),
            event(
                2,
                EventKind::AlertFolded {
                    source: "prometheus".into(),
                    fingerprint: "b".into(),
                    title: "B".into(),
                    count: 1,
                },
            ),
            event(
                3,
                EventKind::AlertFolded {
                    source: "prometheus".into(),
                    fingerprint: "c".into(),
                    title: "C".into(),
                    count: 2,
                },
            ),
            event(
                4,
                EventKind::AlertResolved {
                    source: "prometheus".into(),
                    fingerprint: "a".into(),
                    firing: 2,
                    resolves_task: false,
                },
            ),
            event(
                5,
                EventKind::AlertRepeated {
                    source: "prometheus".into(),
                    fingerprint: "b".into(),
                },
            ),
        ];
        let h = history(&events);
        assert_eq!(
            h.origin.as_ref().map(|o| (o.storm, o.group.as_str())),
            Some((true, "db"))
        );
        assert_eq!(h.firing.into_iter().collect::<Vec<_>>(), [fp("b"), fp("c")]);
        assert_eq!(h.folded, 2);
        assert_eq!(history(&events[..0]), AlertHistory::default());
    }

    #[test]
    fn beats_within_a_second_of_the_last_are_one_beat() {
        let beat = Beats {
            last: Some(at(0)),
            expired_after: None,
        };
        assert!(coalesces(&beat, at(0)));
        assert!(coalesces(
            &beat,
            at(0).checked_add(SignedDuration::from_millis(999)).unwrap()
        ));
        assert!(!coalesces(&beat, at(1)));
        assert!(!coalesces(&Beats::default(), at(0)), "a first beat counts");
        // A clock that went back is no reason to drop a beat.
        assert!(!coalesces(&beat, at(-1)));
        // The beat whose expiry opened a task: the next beat resolves it.
        let expired = Beats {
            last: Some(at(0)),
            expired_after: Some(at(0)),
        };
        assert!(!coalesces(&expired, at(0)));
    }

    #[test]
    fn an_expiry_counts_from_the_last_beat_or_from_the_start_and_fires_once() {
        let interval = SignedDuration::from_mins(5);
        let grace = SignedDuration::from_mins(1);
        let never = Beats::default();
        assert_eq!(expiry(&never, at(0), interval, grace), None);
        let beat = Beats {
            last: Some(at(0)),
            expired_after: None,
        };
        assert_eq!(expiry(&beat, at(0), interval, grace), Some(at(360)));
        // Ponte started after the beat: the monitor gets a full period.
        assert_eq!(expiry(&beat, at(1000), interval, grace), Some(at(1360)));
        let expired = Beats {
            last: Some(at(0)),
            expired_after: Some(at(0)),
        };
        assert_eq!(expiry(&expired, at(0), interval, grace), None);
    }
}
