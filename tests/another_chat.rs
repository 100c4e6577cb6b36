//! The app with no Discord at all, as the next adapter (a web page, another
//! chat) would use it: requests go in through the `Desk` trait, and the
//! outbox delivers through a `Chat` of this test's own, a notebook that
//! writes down every post, edit, thread and DM. Nothing of serenity, the
//! emulator or `ponte::discord` is used here.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::deliver::{Chat, ChatSink, Edit};
use ponte::app::desk::request::{Interaction, OptionValue, Origin};
use ponte::app::desk::{Bot, Desk, ThreadMessage};
use ponte::app::engine::Ledger;
use ponte::app::outbox::{Deliverer, DeliveryError};
use ponte::app::reply::{Answer, Reply};
use ponte::config::Config;
use ponte::domain::TaskId;
use ponte::i18n::Messages;
use ponte::notify::pager::{PagerClient, Pagers};
use ponte::sandbox::cast;
use ponte::store::SledStore;

/// Wednesday 25 November 2026, 10:00 in Rome: business hours.
fn now() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

const SARA: u64 = 9001;
const MSP_ENGINEER: u64 = 9022;

/// Something the chat was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Done {
    Post {
        channel: u64,
        message: u64,
        text: String,
        key: String,
    },
    Thread {
        from: u64,
        name: String,
    },
    Edit {
        message: u64,
    },
}

/// A chat that writes everything down. Message ids count up from 1; a
/// thread has its message's id, as in Discord. `refuse_posts` makes every
/// post fail, like a chat that is down.
#[derive(Clone, Default)]
struct Notebook {
    done: Arc<Mutex<Vec<Done>>>,
    keys: Arc<Mutex<BTreeMap<String, u64>>>,
    refuse_posts: Arc<std::sync::atomic::AtomicBool>,
}

impl Notebook {
    fn done(&self) -> Vec<Done> {
        self.done.lock().unwrap().clone()
    }

    fn posts_in(&self, channel: u64) -> Vec<String> {
        self.done()
            .into_iter()
            .filter_map(|d| match d {
                Done::Post {
                    channel: c, text, ..
                } if c == channel => Some(text),
                _ => None,
            })
            .collect()
    }

    fn thread_of(&self, card: u64) -> Option<u64> {
        self.done().into_iter().find_map(|d| match d {
            Done::Thread { from, .. } if from == card => Some(from),
            _ => None,
        })
    }
}

/// A reply as one text: its content and its cards' titles, descriptions and
/// fields.
fn text_of(reply: &Reply) -> String {
    let mut text = reply.content.clone();
    for card in &reply.cards {
        text.push('\n');
        text.push_str(&card.title);
        text.push('\n');
        text.push_str(&card.description);
        for field in &card.fields {
            text.push_str(&format!("\n{}: {}", field.name, field.value));
        }
    }
    text
}

impl Chat for Notebook {
    async fn post(&self, channel: u64, reply: &Reply, key: &str) -> Result<u64, DeliveryError> {
        if self.refuse_posts.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliveryError::transient("the chat is down"));
        }
        // A post repeated with its key shows nothing twice.
        let mut keys = self.keys.lock().unwrap();
        if let Some(&message) = keys.get(key) {
            return Ok(message);
        }
        let mut done = self.done.lock().unwrap();
        let message = done.len() as u64 + 1;
        keys.insert(key.to_owned(), message);
        done.push(Done::Post {
            channel,
            message,
            text: text_of(reply),
            key: key.to_owned(),
        });
        Ok(message)
    }

    async fn edit(&self, _channel: u64, message: u64, _edit: &Edit) -> Result<(), DeliveryError> {
        self.done.lock().unwrap().push(Done::Edit { message });
        Ok(())
    }

    async fn start_thread(
        &self,
        _channel: u64,
        message: u64,
        name: &str,
    ) -> Result<u64, DeliveryError> {
        self.done.lock().unwrap().push(Done::Thread {
            from: message,
            name: name.to_owned(),
        });
        Ok(message)
    }

    async fn server_of(&self, channel: u64) -> Result<Option<u64>, DeliveryError> {
        let server = cast::CHANNELS
            .iter()
            .find(|(_, id, _)| *id == channel)
            .map(|(guild, _, _)| *guild);
        Ok(server)
    }

    async fn direct(&self, person: u64) -> Result<u64, DeliveryError> {
        Ok(5_000_000 + person)
    }
}

struct World {
    desk: Bot<SledStore>,
    outbox: Deliverer<SledStore, ChatSink<SledStore, Notebook>>,
    chat: Notebook,
    clock: Arc<ManualClock>,
}

fn world() -> World {
    let config = Arc::new(Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap());
    let clock = Arc::new(ManualClock::new(now()));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let ledger = Ledger::start(store.clone(), Arc::new(config.rules()), clock.clone()).unwrap();
    let messages = Arc::new(Messages::load().unwrap());
    let chat = Notebook::default();
    let sink = ChatSink {
        chat: chat.clone(),
        ledger: ledger.clone(),
        config: config.clone(),
        messages: messages.clone(),
        pagers: Arc::new(Pagers::new(PagerClient::new(config.oncall(), |_| None))),
    };
    World {
        desk: Bot {
            me: Arc::new(std::sync::OnceLock::new()),
            config,
            ledger,
            messages,
            clock: clock.clone() as Arc<dyn Clock>,
        },
        outbox: Deliverer::new(store, sink, clock.clone()),
        chat,
        clock,
    }
}

fn in_requests(user: u64, id: u64) -> Origin {
    Origin {
        interaction_id: id,
        user,
        guild: Some(cast::ACME_GUILD),
        channel: cast::ACME_REQUESTS,
        roles: Vec::new(),
        locale: "en-US".into(),
        resolved: Vec::new(),
        memberships: Vec::new(),
    }
}

fn request(title: &str) -> Interaction {
    Interaction::Slash {
        name: "request".into(),
        subcommand: None,
        options: vec![("title".into(), OptionValue::Text(title.into()))],
    }
}

/// What an adapter does: hand the desk what someone did, get the answer.
async fn ask(desk: &impl Desk, origin: &Origin, interaction: &Interaction) -> Answer {
    desk.handle(origin, interaction).await
}

fn said(thread: u64, message: u64, author: &str, content: &str) -> ThreadMessage {
    ThreadMessage {
        thread,
        message,
        author: author.into(),
        content: content.into(),
        attachments: Vec::new(),
        edit: false,
    }
}

#[tokio::test]
async fn a_request_through_the_desk_is_posted_through_any_chat() {
    let w = world();
    let answer = ask(
        &w.desk,
        &in_requests(SARA, 1),
        &request("The printer on floor 2 jams"),
    )
    .await;
    let Answer::Reply(reply) = answer else {
        panic!("a request is answered with a reply: {answer:?}");
    };
    assert!(text_of(&reply).contains("ACME-1"), "{reply:?}");

    let pass = w.outbox.pass().await.unwrap();
    assert_eq!(pass.failed, 0);
    // The card in the client's requests channel, its thread, and the same
    // card on the MSP's own server (the bridge), each with a thread.
    let cards = w.chat.posts_in(cast::ACME_REQUESTS);
    assert!(
        cards
            .iter()
            .any(|c| c.contains("ACME-1") && c.contains("The printer on floor 2 jams")),
        "{cards:?}"
    );
    let done = w.chat.done();
    let threads: Vec<&Done> = done
        .iter()
        .filter(|d| matches!(d, Done::Thread { .. }))
        .collect();
    assert_eq!(threads.len(), 2, "a thread per side: {done:#?}");
    assert!(
        threads
            .iter()
            .all(|t| matches!(t, Done::Thread { name, .. } if name.starts_with("ACME-1"))),
        "{threads:?}"
    );
    assert!(
        w.chat
            .posts_in(cast::MSP_ACME)
            .iter()
            .any(|c| c.contains("ACME-1")),
        "the mirrored card: {done:#?}"
    );
    // Every post names its delivery; no key twice.
    let keys: Vec<String> = done
        .iter()
        .filter_map(|d| match d {
            Done::Post { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");

    // Nothing is left to deliver, and a second pass posts nothing.
    let again = w.outbox.pass().await.unwrap();
    assert_eq!((again.delivered, again.failed), (0, 0));
    assert_eq!(w.chat.done(), done);
}

#[tokio::test]
async fn shared_words_cross_the_bridge_and_notes_stay_on_their_side() {
    let w = world();
    ask(
        &w.desk,
        &in_requests(SARA, 1),
        &request("VPN drops in Milan"),
    )
    .await;
    w.outbox.pass().await.unwrap();
    let card_of = |channel: u64| {
        w.chat.done().into_iter().find_map(|d| match d {
            Done::Post {
                channel: c,
                message,
                text,
                ..
            } if c == channel && text.contains("ACME-1") => Some(message),
            _ => None,
        })
    };
    let acme_thread = w
        .chat
        .thread_of(card_of(cast::ACME_REQUESTS).unwrap())
        .unwrap();
    let msp_thread = w.chat.thread_of(card_of(cast::MSP_ACME).unwrap()).unwrap();
    let task: TaskId = "ACME-1".parse().unwrap();

    // The MSP engineer writes in the MSP's thread: once to the company, once
    // an internal note.
    let engineer = Origin {
        guild: Some(cast::MSP_GUILD),
        channel: msp_thread,
        roles: vec![cast::MSP_ENGINEER_ROLE],
        ..in_requests(MSP_ENGINEER, 2)
    };
    w.desk
        .thread_message(
            &engineer,
            task.clone(),
            said(msp_thread, 900_001, "Mike", "Restarting the tunnel now"),
        )
        .await;
    w.desk
        .thread_message(
            &engineer,
            task,
            said(
                msp_thread,
                900_002,
                "Mike",
                "// their firewall config is a mess",
            ),
        )
        .await;
    let pass = w.outbox.pass().await.unwrap();
    assert_eq!(pass.failed, 0);

    let company_sees = w.chat.posts_in(acme_thread).join("\n");
    assert!(
        company_sees.contains("Restarting the tunnel now"),
        "{company_sees}"
    );
    assert!(
        !company_sees.contains("firewall"),
        "an MSP note crossed to the company: {company_sees}"
    );
    let all = format!("{:?}", w.chat.done());
    assert!(!all.contains("firewall config"), "a note was posted: {all}");
}

#[tokio::test]
async fn a_chat_that_is_down_delays_the_card_and_loses_nothing() {
    let w = world();
    w.chat
        .refuse_posts
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let answer = ask(
        &w.desk,
        &in_requests(SARA, 1),
        &request("Laptop will not boot"),
    )
    .await;
    assert!(matches!(answer, Answer::Reply(_)), "{answer:?}");
    let pass = w.outbox.pass().await.unwrap();
    assert!(pass.failed >= 1, "{pass:?}");
    assert!(w.chat.done().is_empty());

    // The chat is back; once the retry is due, the card goes out.
    w.chat
        .refuse_posts
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let mut delivered = 0;
    for _ in 0..20 {
        w.clock.advance(jiff::SignedDuration::from_mins(10));
        delivered += w.outbox.pass().await.unwrap().delivered;
        if !w.chat.posts_in(cast::ACME_REQUESTS).is_empty() {
            break;
        }
    }
    assert!(delivered >= 1);
    assert!(
        w.chat
            .posts_in(cast::ACME_REQUESTS)
            .iter()
            .any(|c| c.contains("Laptop will not boot")),
        "{:?}",
        w.chat.done()
    );
}
