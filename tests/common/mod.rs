//! Shared fixtures for the integration tests: two client companies, their
//! people and a small set of routing rules.
#![allow(dead_code)]

use std::sync::Arc;

use jiff::Timestamp;
use ponte::app::engine::{Op, Request, Rules};
use ponte::domain::{
    Actor, Category, CategoryRule, ClientKey, ClientRouting, ClientScope, Event, EventKind,
    NewTask, PersonId, Priority, Role, Side, SideChoice, TaskId, Who,
};

pub const ACME: &str = "ACME";
pub const BRIGHT: &str = "BRIGHT";

pub fn key(k: &str) -> ClientKey {
    ClientKey::new(k).unwrap()
}

pub fn start() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn rule(name: &str, keywords: &[&str], owner: Side, priority: Priority) -> CategoryRule {
    CategoryRule {
        category: Category::new(name).unwrap(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        owner,
        priority,
        needs_approval: false,
        actions: Vec::new(),
    }
}

pub fn routing() -> ClientRouting {
    ClientRouting {
        categories: vec![
            rule("network", &["vpn", "wifi", "rete"], Side::Msp, Priority::P2),
            rule(
                "printers",
                &["printer", "stampante"],
                Side::Internal,
                Priority::P4,
            ),
        ],
        default_side: Side::Internal,
        default_priority: Priority::P3,
        critical: Vec::new(),
    }
}

pub fn rules() -> Arc<Rules> {
    Arc::new([(key(ACME), routing()), (key(BRIGHT), routing())].into())
}

fn person(id: u64, side: Side, roles: &[Role], clients: ClientScope) -> Actor {
    Actor {
        person: PersonId(id),
        side,
        roles: roles.iter().copied().chain([Role::Requester]).collect(),
        clients,
    }
}

/// An employee of a client.
pub fn employee(id: u64, client: &str) -> Actor {
    person(id, Side::Internal, &[], ClientScope::Only(key(client)))
}

pub fn it_tech(id: u64, client: &str) -> Actor {
    person(
        id,
        Side::Internal,
        &[Role::ItTechnician],
        ClientScope::Only(key(client)),
    )
}

pub fn it_manager(id: u64, client: &str) -> Actor {
    person(
        id,
        Side::Internal,
        &[Role::ItManager],
        ClientScope::Only(key(client)),
    )
}

/// An MSP engineer serving every client.
pub fn msp_engineer(id: u64) -> Actor {
    person(id, Side::Msp, &[Role::MspEngineer], ClientScope::All)
}

pub fn create(actor: &Actor, client: &str, title: &str) -> Request {
    Request::by(
        actor.clone(),
        Op::Create {
            client: key(client),
            new: NewTask {
                title: title.into(),
                to: SideChoice::Auto,
                ..Default::default()
            },
        },
    )
}

/// Stamps decided events: consecutive seqs after `version`, one time, one author.
pub fn stamp(
    id: &TaskId,
    version: u32,
    kinds: Vec<EventKind>,
    at: Timestamp,
    by: &Actor,
) -> Vec<Event> {
    kinds
        .into_iter()
        .zip(version + 1..)
        .map(|(kind, seq)| Event {
            task: id.clone(),
            seq,
            at,
            by: Who::Person(by.person),
            kind,
        })
        .collect()
}

/// SplitMix64: a small deterministic generator, so a failing seed replays.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every key and value of the tree `name` of a plain sled database.
pub fn tree_contents(db: &sled::Db, name: &str) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    db.open_tree(name)
        .unwrap()
        .iter()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

/// The task id (`ACME-12`) a confirmation names, if any.
pub fn acme_task_id_in(text: &str) -> Option<String> {
    let start = text.find("ACME-")?;
    let digits: String = text[start + 5..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("ACME-{digits}"))
}

/// Waits until a `ponte run` child has a new gateway session on `emulator`
/// (more identifies and resumes than `before`), panicking with its log if it
/// exits first or never connects. `what` names the moment in messages.
pub async fn wait_for_session(
    emulator: &ponte::emulator::Emulator,
    child: &mut std::process::Child,
    log: &std::path::Path,
    before: u64,
    what: &str,
) {
    for _ in 0..1200 {
        let stats = emulator.gateway_stats();
        if stats.identifies + stats.resumes > before {
            // Give serenity a moment to handle READY and GUILD_CREATE.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what}: ponte run exited with {status}; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: the bot never connected");
}
