//! One understanding path: `/request`, a mention, a DM, "Track as task" and
//! `ponte triage` make the same draft of the same words. Each way of asking
//! is played through the real handler (`Bot`), the draft confirmed where
//! there is one, and the created task's priority, side, category and due
//! time compared with what `ponte triage` understands
//! (`ponte::domain::understand::understand`, which the command prints).

use std::sync::Arc;

use jiff::Timestamp;
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::desk::Bot;
use ponte::app::desk::parse::TRACK_AS_TASK;
use ponte::app::desk::request::{Interaction, OptionValue, Origin, TargetMessage};
use ponte::app::engine::Ledger;
use ponte::app::reply::Answer;
use ponte::config::Config;
use ponte::domain::understand::understand;
use ponte::domain::{ClientKey, Priority, Side, TaskId};
use ponte::i18n::Messages;
use ponte::sandbox::cast;
use ponte::store::SledStore;

/// Wednesday 25 November 2026, 10:00 in Rome.
fn now() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

const GIULIA: u64 = 9001;
const BOT: u64 = 4242;

const TEXTS: &[&str] = &[
    "La VPN non funziona, nessuno in ufficio riesce a lavorare",
    "la stampante del secondo piano non stampa, con calma",
    "Il mio pc non si accende",
    "urgente: il server dei file è bloccato",
    "Mi serve Excel installato sul portatile entro venerdì",
    "la posta è lenta da stamattina",
];

async fn bot() -> Bot<SledStore> {
    let config = Arc::new(Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap());
    let clock = Arc::new(ManualClock::new(now()));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let ledger = Ledger::start(store, Arc::new(config.rules()), clock.clone()).unwrap();
    let me = Arc::new(std::sync::OnceLock::new());
    me.set(BOT).unwrap();
    Bot {
        me,
        config,
        ledger,
        messages: Arc::new(Messages::load().unwrap()),
        clock: clock as Arc<dyn Clock>,
    }
}

fn origin(id: u64, guild: Option<u64>, channel: u64) -> Origin {
    Origin {
        interaction_id: id,
        user: GIULIA,
        guild,
        channel,
        roles: Vec::new(),
        locale: "it".into(),
        resolved: Vec::new(),
        memberships: vec![(cast::ACME_GUILD, Vec::new())],
    }
}

fn message(id: u64, channel: u64, content: String) -> TargetMessage {
    TargetMessage {
        id,
        channel,
        author: GIULIA,
        content,
        sent_at: now().as_second() - 30,
    }
}

/// What a created task says, to compare.
type Made = (Priority, Side, Option<String>, Option<Timestamp>);

async fn made(bot: &Bot<SledStore>, n: u64) -> Made {
    let id = TaskId::new(ClientKey::new("ACME").unwrap(), n);
    let (task, _) = bot
        .ledger
        .history(id.clone())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} exists"));
    let category = task.category.map(|c| c.to_string());
    (task.priority, task.handling_side, category, task.due)
}

/// Presses Create on a draft's buttons.
async fn confirm(
    bot: &Bot<SledStore>,
    o: &Origin,
    buttons: &[ponte::app::reply::Button],
    source: &TargetMessage,
) {
    let create = buttons
        .iter()
        .find(|b| b.custom_id.contains("create"))
        .unwrap_or_else(|| panic!("no Create button in {buttons:?}"));
    let click = Interaction::Button {
        custom_id: create.custom_id.clone(),
        source: Some(source.clone()),
    };
    let answer = bot.handle_typed(o, &click).await;
    assert!(answer.is_ok(), "Create failed: {answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_of_asking_understands_the_same_words_alike() {
    let config = Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap();
    let acme = ClientKey::new("ACME").unwrap();
    let client = config.client(&acme).unwrap();
    for (i, text) in TEXTS.iter().enumerate() {
        let bot = bot().await;
        let base = 1_000 * (i as u64 + 1);
        // `/request title:TEXT`.
        let request = Interaction::Slash {
            name: "request".into(),
            subcommand: None,
            options: vec![("title".into(), OptionValue::Text((*text).into()))],
        };
        let requests = cast::ACME_REQUESTS;
        let o = origin(base, Some(cast::ACME_GUILD), requests);
        assert!(bot.handle_typed(&o, &request).await.is_ok());
        // A mention in the requests channel.
        let mention = message(base + 1, requests, format!("<@{BOT}> {text}"));
        let o = origin(base + 2, Some(cast::ACME_GUILD), requests);
        let preview = bot.mention(&o, &mention).await;
        confirm(&bot, &o, &preview.buttons, &mention).await;
        // A direct message.
        let dm_channel = 55_001;
        let dm = message(base + 3, dm_channel, (*text).to_owned());
        let o = origin(base + 4, None, dm_channel);
        let preview = bot.mention(&o, &dm).await;
        confirm(&bot, &o, &preview.buttons, &dm).await;
        // "Track as task" on a message someone wrote.
        let written = message(base + 5, requests, (*text).to_owned());
        let o = origin(base + 6, Some(cast::ACME_GUILD), requests);
        let track = Interaction::MessageMenu {
            name: TRACK_AS_TASK.into(),
            target: written.clone(),
        };
        let Ok(Answer::Reply(preview)) = bot.handle_typed(&o, &track).await else {
            panic!("Track as task gave no draft for {text:?}");
        };
        let o = origin(base + 7, Some(cast::ACME_GUILD), requests);
        confirm(&bot, &o, &preview.buttons, &written).await;
        // `ponte triage`.
        let triage = understand(text, &client.routing, &client.time_zone, now());
        let expected = (
            triage.priority,
            triage.category.as_ref().map(|c| c.to_string()),
            triage.due,
        );
        let ways = ["/request", "mention", "DM", "Track as task"];
        for (n, way) in (1..).zip(ways) {
            let (priority, side, category, due) = made(&bot, n).await;
            assert_eq!(
                (priority, category, due),
                expected,
                "{way} understood {text:?} unlike ponte triage"
            );
            let first = made(&bot, 1).await.1;
            assert_eq!(side, first, "{way} sent {text:?} elsewhere than /request");
        }
    }
}
