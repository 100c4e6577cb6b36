//! `/mine`: what concerns the person, in three sections, as in their
//! personal digest (`crate::domain::digest::personal`):
//! - **your move**: assigned to them while it is their side's move, and
//!   their own requests waiting on their answer;
//! - **your requests**: the other open tasks they asked for;
//! - **assigned to you**: assigned to them, waiting on someone else.
//!
//! Their clients' open tasks are read a page at a time (requests have no
//! index of their own), and only theirs are kept.

use crate::app::engine::PonteError;
use crate::app::reply::{Answer, Reply};
use crate::domain::sla::Holder;
use crate::domain::{ClientKey, Task};
use crate::i18n::Lang;
use crate::store::{self, Pages, Store};

use super::bot::Bot;
use super::identity::Resolved;

/// The three sections of `/mine`.
#[derive(Debug, Default)]
pub struct Mine {
    pub your_move: Vec<Task>,
    pub your_requests: Vec<Task>,
    pub assigned: Vec<Task>,
}

impl Mine {
    /// Sorts `task` into its section for `who`, or leaves it out.
    pub fn add(&mut self, who: &crate::domain::Actor, task: Task) {
        let assigned = task.assignee == Some(who.person);
        let asked = task.requester == who.person;
        let holder = Holder::of(&task);
        let my_move = (assigned && holder == Holder::Side(task.handling_side))
            || (asked && holder == Holder::Requester);
        if my_move {
            self.your_move.push(task);
        } else if asked {
            self.your_requests.push(task);
        } else if assigned {
            self.assigned.push(task);
        }
    }
}

impl<S: Store> Bot<S> {
    pub(super) async fn mine(&self, lang: Lang, who: &Resolved) -> Result<Answer, PonteError> {
        let clients: Vec<ClientKey> = match &who.client {
            Some(c) => vec![c.clone()],
            None => self
                .config
                .clients()
                .iter()
                .map(|c| c.key.clone())
                .filter(|k| who.actor.serves(k))
                .collect(),
        };
        let mut mine = Mine::default();
        for client in &clients {
            let mut pages = Pages::open(client, store::PAGE);
            while let Some(page) = self.ledger.next_page(who.actor.clone(), &mut pages).await? {
                for task in page {
                    mine.add(&who.actor, task);
                }
            }
        }
        let card = self.renderer(lang).mine(&[
            ("mine-your-move", &mine.your_move),
            ("mine-your-requests", &mine.your_requests),
            ("mine-assigned", &mine.assigned),
        ]);
        Ok(Answer::Reply(Reply {
            cards: vec![card],
            ephemeral: true,
            ..Reply::default()
        }))
    }
}

/// The MSP's queue channel: `/task list` there lists every client's open
/// tasks that are a side's move (the MSP's unless `side:` says otherwise).
impl<S: Store> Bot<S> {
    /// Whether this is the MSP's staff in the MSP's queue channel.
    pub(super) fn in_msp_queue(&self, origin: &super::request::Origin, who: &Resolved) -> bool {
        let queue = self.config.msp().server.map(|s| s.queue_channel.get());
        queue == Some(origin.channel) && who.actor.works_for(crate::domain::Side::Msp)
    }

    pub(super) async fn queue_list(
        &self,
        lang: Lang,
        who: &Resolved,
        side: crate::domain::Side,
    ) -> Result<Answer, PonteError> {
        let mut tasks = Vec::new();
        for client in self.config.clients() {
            if !who.actor.serves(&client.key) {
                continue;
            }
            let mut pages = Pages::open(&client.key, store::PAGE);
            while let Some(page) = self.ledger.next_page(who.actor.clone(), &mut pages).await? {
                tasks.extend(page.into_iter().filter(|t| t.whose_move() == Some(side)));
            }
        }
        // The most urgent first, then the oldest.
        tasks.sort_by_key(|t| (t.priority, t.created_at));
        let r = self.renderer(lang);
        let title = self.messages.text(
            lang,
            "queue-list-title",
            &[("side", crate::domain::error::Arg::Side(side))],
        );
        Ok(Answer::Reply(Reply {
            cards: r.task_list(&title, &tasks),
            ephemeral: true,
            ..Reply::default()
        }))
    }
}
