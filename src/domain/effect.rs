//! Effects: what has to happen outside Ponte because of a change (a chat
//! message, later pages, digests and relays). They are recorded in the
//! store's outbox in the same transaction as the change, then delivered by
//! workers that retry; each has a key that makes its delivery idempotent.
//!
//! The kinds: `Announce` (events posted in the task's thread), `AskApproval` (the IT
//! manager's card), `Relay`/`RelayEdit` (across the bridge), `Page`, `PagerUpdate`,
//! `Handover`, and the digests (`Digest`, `LeadDigest`, `PersonalDigest`).
//! [`Effect::key`] names each once (`relay:ACME-42:7`, a page's key, a digest's mark).
//! [`effects_of`] derives a change's effects from its events alone;
//! [`effects_with_history`] adds the pager updates, which need the earlier history
//! (see `pager_sync`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::escalation::Target;
use super::event::{Event, EventKind};
use super::ids::PersonId;
use super::ids::TaskId;
use super::task::{Task, Visibility};
use super::{ClientKey, Side};
use jiff::civil::Date;

/// The once-only key of a side's digest of a client on a local date,
/// `digest:ACME:internal:2026-11-28`; it is also the digest's mark.
pub fn digest_key(client: &ClientKey, side: Side, date: Date) -> String {
    format!("{}{date}", digest_prefix(client, side))
}

/// The prefix of [`digest_key`] for one client and side.
pub fn digest_prefix(client: &ClientKey, side: Side) -> String {
    format!("digest:{client}:{side}:")
}

/// The once-only key of the MSP lead's digest on a date.
pub fn lead_digest_key(date: Date) -> String {
    format!("{LEAD_DIGEST_PREFIX}{date}")
}

/// The once-only key of a person's own digest on a local date,
/// `digest:person:42:2026-11-30`; it is also the digest's mark.
pub fn personal_digest_key(person: PersonId, date: Date) -> String {
    format!("{}{date}", personal_digest_prefix(person))
}

/// The prefix of [`personal_digest_key`] for one person.
pub fn personal_digest_prefix(person: PersonId) -> String {
    format!("digest:person:{}:", person.0)
}

/// The prefix of [`lead_digest_key`].
pub const LEAD_DIGEST_PREFIX: &str = "digest-lead:";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Show events `first..=last` of a task in the chat: refresh its card
    /// and post them in its thread (each side sees what it may see).
    Announce { task: TaskId, first: u32, last: u32 },
    /// Ask the client's IT manager to approve or refuse: a card with
    /// Approve and Refuse buttons, for the approval request at event `seq`.
    AskApproval { task: TaskId, seq: u32 },
    /// Copy the message of event `seq` (a shared `said`) into the thread
    /// across the bridge, with its author's name and side.
    Relay { task: TaskId, seq: u32 },
    /// Edit the relayed copy as event `seq` (a shared `said_edited`) says.
    RelayEdit { task: TaskId, seq: u32 },
    /// Page someone for an escalation step (issue 5): a DM to a person, a
    /// post in a channel or to a role, or an outside pager. `key` is the
    /// page's key (`page:ACME-42@1:r0:s2`), recorded in the task's history
    /// by the `paged` event written with this effect.
    Page {
        task: TaskId,
        key: String,
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<PersonId>,
        #[serde(default)]
        late: bool,
    },
    /// Post the handover of an on-call schedule (issue 5): who hands over
    /// to whom at `at`, and the open urgent tasks.
    Handover {
        schedule: String,
        at: Timestamp,
        from: Option<PersonId>,
        to: PersonId,
        tasks: Vec<TaskId>,
    },
    /// Tell an outside pager that a task it was paged for was acknowledged
    /// or resolved (gaps; PagerDuty's `acknowledge`/`resolve` with the
    /// task id as dedup key). `seq` is the event that caused it.
    PagerUpdate {
        task: TaskId,
        pager: String,
        action: super::pager_sync::PagerAction,
        seq: u32,
    },
    /// Post a side's digest of a client for `date` (its local day), due at
    /// `due`, covering what happened since `since` (the previous digest);
    /// `late` when it was recorded after its time (Ponte was down).
    Digest {
        client: ClientKey,
        side: Side,
        date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    },
    /// Post the MSP lead's digest across all clients (see `Digest`).
    LeadDigest {
        date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    },
    /// Send a subscribed person their own digest by direct message (issue
    /// 6, `/digest subscribe`): what waits on them, of `client` only for a
    /// client's person (`None`: every client, for the MSP's people), in
    /// their language (`lang`, a code like `it`). See `Digest`.
    PersonalDigest {
        person: PersonId,
        side: Side,
        client: Option<ClientKey>,
        lang: String,
        date: Date,
        due: Timestamp,
        since: Option<Timestamp>,
        late: bool,
    },
}

impl Effect {
    /// The idempotency key: delivering two effects with one key is delivering one.
    pub fn key(&self) -> String {
        match self {
            Effect::Announce { task, first, last } => format!("announce:{task}:{first}-{last}"),
            Effect::AskApproval { task, seq } => format!("approval:{task}:{seq}"),
            Effect::Relay { task, seq } => format!("relay:{task}:{seq}"),
            Effect::RelayEdit { task, seq } => format!("relay-edit:{task}:{seq}"),
            Effect::Page { key, .. } => key.clone(),
            Effect::Handover { schedule, at, .. } => {
                format!("handover:{schedule}:{}", at.as_second())
            }
            Effect::PagerUpdate {
                task,
                pager,
                action,
                seq,
            } => format!("pager-{}:{task}:{pager}:{seq}", action.as_str()),
            Effect::Digest {
                client, side, date, ..
            } => digest_key(client, *side, *date),
            Effect::LeadDigest { date, .. } => lead_digest_key(*date),
            Effect::PersonalDigest { person, date, .. } => personal_digest_key(*person, *date),
        }
    }

    /// The task this effect is about, if it is about one. Effects of one
    /// task are delivered in order; others in their own lane.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Effect::Announce { task, .. } => Some(task),
            Effect::AskApproval { task, .. }
            | Effect::Relay { task, .. }
            | Effect::RelayEdit { task, .. } => Some(task),
            Effect::Page { task, .. } => Some(task),
            Effect::Handover { .. } => None,
            Effect::PagerUpdate { task, .. } => Some(task),
            Effect::Digest { .. } | Effect::LeadDigest { .. } => None,
            Effect::PersonalDigest { .. } => None,
        }
    }
}

/// The effects of appending `events` to `task` (the task already folded).
pub fn effects_of(task: &Task, events: &[Event]) -> Vec<Effect> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    // The bridge: what people write in a thread is already in that thread;
    // shared messages are copied across, internal notes never are.
    let bridged = |e: &Event| match &e.kind {
        EventKind::Said {
            thread, visibility, ..
        } if *visibility == Visibility::Shared && task.other_thread(*thread).is_some() => {
            Some(Effect::Relay {
                task: task.id.clone(),
                seq: e.seq,
            })
        }
        EventKind::SaidEdited { visibility, .. }
            if *visibility == Visibility::Shared && task.mirror.thread.is_some() =>
        {
            Some(Effect::RelayEdit {
                task: task.id.clone(),
                seq: e.seq,
            })
        }
        _ => None,
    };
    // Linking a task to its chat messages is the adapter's own bookkeeping,
    // and what people say is relayed, not announced.
    // Monitoring's repeats, most folds of a storm and the partial
    // resolutions of one are history, not news: a storm of a thousand alerts
    // posts a handful of lines, not a thousand (see [`quiet_alert`]).
    if events.iter().all(|e| {
        matches!(
            e.kind,
            EventKind::ChatLinked { .. }
                | EventKind::Mirrored { .. }
                | EventKind::Relayed { .. }
                | EventKind::PageDelivered { .. }
                | EventKind::Said { .. }
                | EventKind::SaidEdited { .. }
        ) || quiet_alert(&e.kind)
    }) {
        return events.iter().filter_map(bridged).collect();
    }
    let mut effects = vec![Effect::Announce {
        task: task.id.clone(),
        first: first.seq,
        last: last.seq,
    }];
    // After the announcement, so the task's card and thread exist when the
    // IT manager's card points to them.
    effects.extend(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::ApprovalRequested { .. }))
            .map(|e| Effect::AskApproval {
                task: task.id.clone(),
                seq: e.seq,
            }),
    );
    // Each page recorded is delivered, in the same transaction's outbox.
    effects.extend(events.iter().filter_map(|e| match &e.kind {
        EventKind::Paged {
            key,
            target,
            to,
            late,
            ..
        } => Some(Effect::Page {
            task: task.id.clone(),
            key: key.clone(),
            target: target.clone(),
            to: *to,
            late: *late,
        }),
        EventKind::Escalated {
            key, target, to, ..
        } => Some(Effect::Page {
            task: task.id.clone(),
            key: key.clone(),
            target: target.clone(),
            to: *to,
            late: false,
        }),
        _ => None,
    }));
    effects
}

/// Whether a monitoring event is told only in the history: a repeat, a
/// partial resolution, and a fold unless its count is 1, 2 or 5 times a
/// power of ten (so a storm's thread says 1, 2, 5, 10, 20, 50, ... alerts).
pub fn quiet_alert(kind: &EventKind) -> bool {
    match kind {
        EventKind::AlertRepeated { .. } => true,
        EventKind::AlertResolved { firing, .. } => *firing > 0,
        EventKind::AlertFolded { count, .. } => {
            let mut n = *count;
            while n >= 10 && n % 10 == 0 {
                n /= 10;
            }
            !matches!(n, 1 | 2 | 5)
        }
        _ => false,
    }
}

/// [`effects_of`], and the outside pagers' acknowledge/resolve updates
/// derived from the task's earlier events (`history`, before `events`).
pub fn effects_with_history(task: &Task, history: &[Event], events: &[Event]) -> Vec<Effect> {
    let mut effects = effects_of(task, events);
    effects.extend(super::pager_sync::pager_updates(history, events));
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChatRef, ClientKey, PersonId, Priority, Side, Who};

    fn event(seq: u32, kind: EventKind) -> Event {
        Event {
            task: TaskId::new(ClientKey::new("ACME").unwrap(), 1),
            seq,
            at: "2026-11-27T09:00:00Z".parse().unwrap(),
            by: Who::Person(PersonId(1)),
            kind,
        }
    }

    fn said(seq: u32, thread: u64, visibility: Visibility) -> Event {
        event(
            seq,
            EventKind::Said {
                author: "Giulia".into(),
                side: Side::Internal,
                thread,
                message: 100 + u64::from(seq),
                body: "hello".into(),
                visibility,
                attachments: Vec::new(),
            },
        )
    }

    /// A task with its thread 10 and, with `mirrored`, a mirror thread 20.
    fn task(mirrored: bool) -> Task {
        let mut events = vec![event(
            1,
            EventKind::Created {
                title: "t".into(),
                details: String::new(),
                requester: PersonId(1),
                asking_side: Side::Internal,
                priority: Priority::P3,
                due: None,
            },
        )];
        let chat = |c| ChatRef {
            channel: Some(c),
            thread: Some(c),
            message: Some(c),
        };
        events.push(event(2, EventKind::ChatLinked { chat: chat(10) }));
        if mirrored {
            events.push(event(3, EventKind::Mirrored { chat: chat(20) }));
        }
        Task::fold(&events).unwrap()
    }

    #[test]
    fn shared_messages_cross_the_bridge_and_notes_never_do() {
        let t = task(true);
        let shared = said(4, 10, Visibility::Shared);
        assert_eq!(
            effects_of(&t, std::slice::from_ref(&shared)),
            [Effect::Relay {
                task: t.id.clone(),
                seq: 4
            }]
        );
        for side in [Side::Internal, Side::Msp] {
            for thread in [10, 20] {
                let note = said(4, thread, Visibility::Side(side));
                assert!(effects_of(&t, &[note]).is_empty());
            }
        }
        let edited_note = event(
            5,
            EventKind::SaidEdited {
                message: 104,
                body: "secret".into(),
                visibility: Visibility::Side(Side::Msp),
            },
        );
        assert!(effects_of(&t, &[edited_note]).is_empty());
        // Without a mirror both sides read one thread: nothing to copy.
        assert!(effects_of(&task(false), &[shared]).is_empty());
        // Bookkeeping announces nothing.
        assert!(effects_of(&t, &[event(5, EventKind::Relayed { source: 1, copy: 2 })]).is_empty());
    }
}
