//! Digests of a realistic morning, built with the real domain (`decide`).
//! `world()` is shared with the rendering tests.

use jiff::civil::{DateTime, date, time};
use jiff::tz::TimeZone;

use super::*;
use crate::domain::event::numbered;
use crate::domain::routing::tests::rules;
use crate::domain::{
    Actor, ClientScope, Command, NewTask, Role, SideChoice, Visibility, decide, decide_create,
};

pub(crate) fn rome() -> TimeZone {
    TimeZone::get("Europe/Rome").unwrap()
}

/// A wall-clock time in Rome, `2026-12-01T09:00`.
pub(crate) fn local(s: &str) -> Timestamp {
    rome().to_timestamp(s.parse::<DateTime>().unwrap()).unwrap()
}

pub(crate) fn office() -> BusinessCalendar {
    BusinessCalendar::weekdays(
        rome(),
        &[
            (time(8, 30, 0, 0), time(12, 30, 0, 0)),
            (time(13, 30, 0, 0), time(18, 0, 0, 0)),
        ],
        [date(2026, 12, 8)].into(),
    )
    .unwrap()
}

pub(crate) fn targets() -> SlaTargets {
    let h = SignedDuration::from_hours;
    SlaTargets {
        first_response: [SignedDuration::from_mins(30), h(1), h(4), h(8)],
        resolution: [h(4), h(8), h(17), h(40)],
        around_the_clock: [true, false, false, false],
        at_risk_percent: 75,
    }
}

fn key(k: &str) -> ClientKey {
    ClientKey::new(k).unwrap()
}

fn actor(client: &ClientKey, id: u64, side: Side, role: Role) -> Actor {
    Actor {
        person: PersonId(id),
        side,
        roles: [Role::Requester, role].into_iter().collect(),
        clients: ClientScope::Only(client.clone()),
    }
}

/// The people of a client: 1 requester, 3 IT technician, 4 IT manager,
/// 5 MSP engineer (ids offset per client).
pub(crate) struct Cast {
    pub requester: Actor,
    pub tech: Actor,
    pub manager: Actor,
    pub msp: Actor,
}

impl Cast {
    pub(crate) fn of(client: &ClientKey, offset: u64) -> Cast {
        Cast {
            requester: Actor::employee(PersonId(offset + 1), client.clone()),
            tech: actor(client, offset + 3, Side::Internal, Role::ItTechnician),
            manager: actor(client, offset + 4, Side::Internal, Role::ItManager),
            msp: actor(client, offset + 5, Side::Msp, Role::MspEngineer),
        }
    }
}

/// A task's history, grown one command at a time.
pub(crate) struct Story(pub Tracked);

impl Story {
    pub(crate) fn create(
        client: &ClientKey,
        number: u64,
        by: &Actor,
        title: &str,
        to: SideChoice,
        priority: Priority,
        at: Timestamp,
    ) -> Story {
        let new = NewTask {
            title: title.into(),
            to,
            priority: Some(priority),
            ..NewTask::default()
        };
        let kinds = decide_create(by, client, &new, &rules(), at).unwrap();
        let id = TaskId::new(client.clone(), number);
        let events = numbered(&id, 1, at, by.person, kinds);
        let task = Task::fold(&events).unwrap();
        Story(Tracked { task, events })
    }

    pub(crate) fn run(mut self, by: &Actor, command: Command, at: Timestamp) -> Story {
        let kinds = decide(&self.0.task, by, &command, &rules(), at)
            .unwrap_or_else(|e| panic!("{} refused: {e}", command.name()));
        let first = self.0.task.version + 1;
        for event in numbered(&self.0.task.id, first, at, by.person, kinds) {
            self.0.task.apply(&event).unwrap();
            self.0.events.push(event);
        }
        self
    }
}

fn status(to: Status) -> Command {
    Command::SetStatus { to, reason: None }
}

fn note(body: &str, side: Side) -> Command {
    Command::Comment {
        body: body.into(),
        visibility: Visibility::Side(side),
    }
}

fn comment(body: &str) -> Command {
    Command::Comment {
        body: body.into(),
        visibility: Visibility::Shared,
    }
}

/// The digest time: Tuesday 1 December 2026, 08:30 in Rome; the last one
/// was on Monday at 08:30.
pub(crate) fn now() -> Timestamp {
    local("2026-12-01T08:30")
}

pub(crate) fn since() -> Timestamp {
    local("2026-11-30T08:30")
}

/// ACME's tasks on the morning of 1 December.
pub(crate) fn acme_tasks() -> Vec<Tracked> {
    let acme = key("ACME");
    let c = Cast::of(&acme, 0);
    let msp = SideChoice::To(Side::Msp);
    let internal = SideChoice::To(Side::Internal);
    vec![
        // Old, still the MSP's move, resolution breached long ago.
        Story::create(
            &acme,
            3,
            &c.requester,
            "VPN drops every hour in Milan",
            msp,
            Priority::P2,
            local("2026-11-26T10:00"),
        )
        .run(&c.msp, Command::Claim, local("2026-11-26T10:20"))
        .run(
            &c.msp,
            comment("Collecting logs from the firewall"),
            local("2026-11-26T11:00"),
        )
        .run(
            &c.msp,
            note("Probably the ISP again; do not tell them yet", Side::Msp),
            local("2026-11-26T11:05"),
        )
        .0,
        // Waiting on the requester.
        Story::create(
            &acme,
            5,
            &c.requester,
            "Outlook asks for the password every morning",
            msp,
            Priority::P3,
            local("2026-11-27T09:00"),
        )
        .run(&c.msp, Command::Claim, local("2026-11-27T09:30"))
        .run(
            &c.msp,
            status(Status::WaitingOnRequester),
            local("2026-11-27T10:00"),
        )
        .0,
        // Internal IT's move, with its own internal note.
        Story::create(
            &acme,
            6,
            &c.requester,
            "New laptop for Giulia in accounting",
            internal,
            Priority::P3,
            local("2026-11-30T09:15"),
        )
        .run(&c.tech, Command::Claim, local("2026-11-30T09:40"))
        .run(
            &c.tech,
            note(
                "Budget approved by the CFO; order the 14-inch model",
                Side::Internal,
            ),
            local("2026-11-30T10:00"),
        )
        .0,
        // The MSP waits on internal IT.
        Story::create(
            &acme,
            7,
            &c.tech,
            "Backup of the file server failed",
            msp,
            Priority::P2,
            local("2026-11-30T11:00"),
        )
        .run(&c.msp, Command::Claim, local("2026-11-30T11:10"))
        .run(
            &c.msp,
            status(Status::WaitingOnOtherSide),
            local("2026-11-30T11:30"),
        )
        .0,
        // New yesterday, nobody picked it up: first response breached.
        Story::create(
            &acme,
            8,
            &c.requester,
            "Projector in room B flickers",
            msp,
            Priority::P3,
            local("2026-11-30T13:45"),
        )
        .0,
        // Closed since the last digest.
        Story::create(
            &acme,
            4,
            &c.requester,
            "Wi-Fi password for the guest network",
            internal,
            Priority::P4,
            local("2026-11-28T09:00"),
        )
        .run(&c.tech, Command::Claim, local("2026-11-30T09:00"))
        .run(&c.tech, status(Status::Resolved), local("2026-11-30T09:05"))
        .0,
        // Closed before the last digest: not in it.
        Story::create(
            &acme,
            2,
            &c.requester,
            "Mouse not working",
            internal,
            Priority::P4,
            local("2026-11-20T09:00"),
        )
        .run(&c.tech, Command::Claim, local("2026-11-20T09:10"))
        .run(&c.tech, status(Status::Resolved), local("2026-11-20T09:20"))
        .0,
        // An urgent one this night, acknowledged by the MSP on call.
        Story::create(
            &acme,
            9,
            &c.tech,
            "Website down",
            msp,
            Priority::P1,
            local("2026-12-01T06:50"),
        )
        .run(&c.msp, Command::Acknowledge, local("2026-12-01T07:00"))
        .run(&c.msp, Command::Claim, local("2026-12-01T07:05"))
        .0,
    ]
}

/// BETA's tasks on the same morning.
pub(crate) fn beta_tasks() -> Vec<Tracked> {
    let beta = key("BETA");
    let c = Cast::of(&beta, 100);
    let msp = SideChoice::To(Side::Msp);
    vec![
        Story::create(
            &beta,
            1,
            &c.requester,
            "Server room too hot",
            msp,
            Priority::P2,
            local("2026-11-30T16:00"),
        )
        .run(&c.msp, Command::Claim, local("2026-11-30T16:30"))
        .0,
        Story::create(
            &beta,
            2,
            &c.requester,
            "Restore a deleted folder",
            msp,
            Priority::P3,
            local("2026-11-30T17:00"),
        )
        .run(&c.msp, Command::Claim, local("2026-11-30T17:10"))
        .run(&c.msp, status(Status::Resolved), local("2026-11-30T17:40"))
        .0,
    ]
}

/// The digest as the store's snapshots give it (the histories are not
/// read: the snapshot's facts stand in for them).
pub(crate) fn digest_of(client: &str, side: Side, tasks: &[Tracked]) -> Digest {
    let client = key(client);
    let spec = DigestSpec {
        client: &client,
        side,
        reader: crate::domain::Audience::Staff(side),
        since: Some(since()),
        now: now(),
        targets: &targets(),
        calendar: &office(),
    };
    build(&spec, tasks.iter().map(|t| &t.task))
}

fn ids(lines: &[Line]) -> Vec<String> {
    lines.iter().map(|l| l.id.to_string()).collect()
}

#[test]
fn the_msp_digest_sorts_the_morning_into_its_sections() {
    let tasks = acme_tasks();
    let d = digest_of("ACME", Side::Msp, &tasks);
    assert_eq!(ids(&d.new), ["ACME-7", "ACME-8", "ACME-9"]);
    assert_eq!(
        ids(&d.closed),
        Vec::<String>::new(),
        "the closed ones were internal IT's"
    );
    let groups: Vec<(Holder, Vec<String>)> = d.open.iter().map(|(h, l)| (*h, ids(l))).collect();
    assert_eq!(
        groups,
        vec![
            (
                Holder::Side(Side::Msp),
                vec!["ACME-9".into(), "ACME-3".into(), "ACME-8".into()]
            ),
            (Holder::Side(Side::Internal), vec!["ACME-7".into()]),
            (Holder::Requester, vec!["ACME-5".into()]),
        ]
    );
    // ACME-3: 8h of resolution used long ago; ACME-8: 4h first response
    // (from 13:45 yesterday) reached at 17:45.
    let breached: Vec<(String, bool)> = d
        .breached
        .iter()
        .map(|s| (s.line.id.to_string(), s.first_response))
        .collect();
    assert_eq!(
        breached,
        [("ACME-3".to_owned(), false), ("ACME-8".to_owned(), true)]
    );
    assert_eq!(d.breached[1].breach_at, Some(local("2026-11-30T17:45")));
    assert_eq!(ids(&d.escalations), ["ACME-9"]);
    // Waiting on the MSP: its engineer (5) for ACME-3 and ACME-9, nobody yet for ACME-8.
    let waiting: Vec<(Option<u64>, Vec<String>)> = d
        .waiting_on
        .iter()
        .map(|(p, ids)| {
            (
                p.map(|p| p.0),
                ids.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    assert_eq!(
        waiting,
        vec![
            (None, vec!["ACME-8".to_owned()]),
            (Some(5), vec!["ACME-3".to_owned(), "ACME-9".to_owned()]),
        ]
    );
}

#[test]
fn the_internal_digest_names_who_waits_and_what_closed() {
    let tasks = acme_tasks();
    let d = digest_of("ACME", Side::Internal, &tasks);
    assert_eq!(ids(&d.closed), ["ACME-4"]);
    assert_eq!(ids(&d.new), ["ACME-6", "ACME-7", "ACME-8", "ACME-9"]);
    let first = &d.open[0];
    assert_eq!(first.0, Holder::Side(Side::Internal));
    assert_eq!(ids(&first.1), ["ACME-7", "ACME-6"]);
    // Internal IT owes: ACME-7 to the MSP (nobody of internal IT named yet),
    // ACME-6 through its technician (3); and it waits on the requester (1)
    // for ACME-5, which the company asked for. The MSP's engineer who
    // claimed ACME-7 is never named in internal IT's list.
    let people: Vec<(Option<u64>, usize)> = d
        .waiting_on
        .iter()
        .map(|(p, ids)| (p.map(|p| p.0), ids.len()))
        .collect();
    assert_eq!(people, [(None, 1), (Some(1), 1), (Some(3), 1)]);
}

#[test]
fn a_digest_never_carries_an_internal_note_of_the_other_side() {
    let tasks = acme_tasks();
    let texts = |d: &Digest| {
        let mut all: Vec<String> = Vec::new();
        for (_, lines) in &d.open {
            all.extend(lines.iter().filter_map(|l| l.last_comment.clone()));
        }
        for l in d.new.iter().chain(&d.closed) {
            all.extend(l.last_comment.clone());
        }
        all
    };
    let msp = texts(&digest_of("ACME", Side::Msp, &tasks));
    let internal = texts(&digest_of("ACME", Side::Internal, &tasks));
    assert!(msp.iter().any(|t| t.contains("ISP again")), "{msp:?}");
    assert!(!msp.iter().any(|t| t.contains("Budget")), "{msp:?}");
    assert!(
        internal.iter().any(|t| t.contains("Budget")),
        "{internal:?}"
    );
    assert!(
        !internal.iter().any(|t| t.contains("ISP again")),
        "{internal:?}"
    );
    // Internal IT sees the MSP's last shared comment instead.
    assert!(
        internal.iter().any(|t| t.contains("Collecting logs")),
        "{internal:?}"
    );
}

#[test]
fn another_clients_tasks_stay_out_and_an_empty_day_is_empty() {
    let mut tasks = acme_tasks();
    tasks.extend(beta_tasks());
    let beta = digest_of("BETA", Side::Msp, &tasks);
    assert!(
        beta.open
            .iter()
            .flat_map(|(_, l)| l)
            .all(|l| l.id.client().as_str() == "BETA")
    );
    assert_eq!(ids(&beta.closed), ["BETA-2"]);
    let empty = digest_of("ACME", Side::Msp, &[]);
    assert!(empty.is_empty());
    assert_eq!(empty.open_count(), 0);
}

#[test]
fn a_pending_approval_is_waiting_for_the_company() {
    let acme = key("ACME");
    let c = Cast::of(&acme, 0);
    // "server" needs approval before the MSP acts.
    let story = Story::create(
        &acme,
        1,
        &c.requester,
        "Reboot the file server",
        SideChoice::Auto,
        Priority::P3,
        local("2026-11-30T15:00"),
    );
    assert!(matches!(story.0.task.approval, Approval::Pending { .. }));
    let tasks = vec![story.0];
    let internal = digest_of("ACME", Side::Internal, &tasks);
    assert_eq!(ids(&internal.approvals), ["ACME-1"]);
    assert_eq!(internal.open[0].0, Holder::Side(Side::Internal));
    let msp = digest_of("ACME", Side::Msp, &tasks);
    assert_eq!(ids(&msp.approvals), ["ACME-1"]);
    let _ = c.manager;
}

/// Issue 6: the digest's "at risk" and "breached" are the clocks the SLA
/// timer alerts (`sla_warned` / `sla_breached`): on the realistic morning,
/// for each side, the digest's lines are exactly the alerts due now.
#[test]
fn at_risk_and_breached_agree_with_the_sla_alerts() {
    use crate::domain::sla::{AlertLevel, SlaClock, sla_alerts};
    let tasks = acme_tasks();
    for side in Side::ALL {
        let digest = digest_of("ACME", side, &tasks);
        let listed = |lines: &[SlaLine]| {
            let mut v: Vec<(String, bool)> = lines
                .iter()
                .map(|l| (l.line.id.to_string(), l.first_response))
                .collect();
            v.sort();
            v
        };
        let alerted = |level: AlertLevel| {
            let mut v: Vec<(String, bool)> = tasks
                .iter()
                .flat_map(|t| {
                    sla_alerts(&t.events, &targets(), &office(), now())
                        .due
                        .into_iter()
                        .filter(|a| a.side == side && a.level == level)
                        .map(|a| (t.task.id.to_string(), a.clock == SlaClock::FirstResponse))
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            listed(&digest.breached),
            alerted(AlertLevel::Breach),
            "{side}"
        );
        assert_eq!(
            listed(&digest.at_risk),
            alerted(AlertLevel::Warning),
            "{side}"
        );
        assert!(
            !digest.breached.is_empty() || !digest.at_risk.is_empty(),
            "{side}: nothing to compare"
        );
    }
}
