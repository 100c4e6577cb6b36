//! Two clients never see each other's work: a seeded random sequence of
//! requests, comments, internal notes, claims, handoffs, cross-client
//! attempts and listings by people of Acme, Brightline and the MSP, played
//! through the real bot in the emulator. Every title, comment, note and
//! reason carries a marker word unique to its client; afterwards no channel,
//! thread or DM of the other client's server (nor the MSP's channel for the
//! other client) shows it, and no answer any of the other client's people
//! got (lists, `/mine`, `/task show`, refusals) does either.

mod common;
use common::Rng;

use jiff::Timestamp;
use ponte::config::Config;
use ponte::sandbox::cast::{self, Person};
use ponte::sandbox::runner::Sandbox;
use ponte::sandbox::script::parse_line;
use ponte::store::{SledStore, Store};

const ACME_MARK: &str = "zanzaracme";
const BRIGHT_MARK: &str = "quokkabright";

#[derive(Clone, Copy, PartialEq)]
enum Client {
    Acme,
    Bright,
}

impl Client {
    fn mark(self) -> &'static str {
        match self {
            Client::Acme => ACME_MARK,
            Client::Bright => BRIGHT_MARK,
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Client::Acme => "ACME",
            Client::Bright => "BRIGHT",
        }
    }
    fn other(self) -> Client {
        match self {
            Client::Acme => Client::Bright,
            Client::Bright => Client::Acme,
        }
    }
    /// Its people: employees and internal IT.
    fn people(self) -> &'static [&'static str] {
        match self {
            Client::Acme => &["giulia", "marco", "sara"],
            Client::Bright => &["alice", "ben", "carol"],
        }
    }
    /// Who works its tasks: internal IT and the MSP, each where they work
    /// for this client.
    fn workers(self) -> &'static [(&'static str, Option<&'static str>)] {
        match self {
            Client::Acme => &[("marco", None), ("sara", None), ("paolo", Some("acme"))],
            Client::Bright => &[("ben", None), ("carol", None), ("mike", Some("nordhaven"))],
        }
    }
    fn employee(self) -> &'static str {
        self.people()[0]
    }
}

struct Run {
    sandbox: Sandbox,
    log: Vec<String>,
    created: [usize; 2],
}

fn slot(c: Client) -> usize {
    match c {
        Client::Acme => 0,
        Client::Bright => 1,
    }
}

impl Run {
    async fn act(&mut self, who: &str, channel: Option<&str>, line: &str) -> String {
        self.line(&format!("as {who}")).await;
        if let Some(channel) = channel {
            self.line(&format!("in #{channel}")).await;
        }
        self.line(line).await
    }

    async fn line(&mut self, line: &str) -> String {
        let step = parse_line(line)
            .unwrap_or_else(|e| panic!("bad step {line:?}: {e}"))
            .unwrap_or_else(|| panic!("empty step {line:?}"));
        self.log.push(format!("{}> {line}", self.sandbox.me().name));
        match self.sandbox.step(&step).await {
            Ok(shown) => {
                self.log.push(shown.clone());
                shown
            }
            Err(failure) => panic!(
                "{line:?} failed: {failure}\n--- what happened ---\n{}",
                self.log.join("\n")
            ),
        }
    }

    /// What the client's people were told must not show the other's words.
    fn assert_clean(&self, client: Client, shown: &str, what: &str) {
        let foreign = client.other().mark();
        assert!(
            !shown.to_lowercase().contains(foreign),
            "{what}: a person of {} was shown {foreign:?}:\n{shown}\n--- what happened ---\n{}",
            client.prefix(),
            self.log.join("\n")
        );
    }

    /// One random thing somebody does.
    async fn random_step(&mut self, rng: &mut Rng, n: usize) {
        let client = if rng.below(2) == 0 {
            Client::Acme
        } else {
            Client::Bright
        };
        let mark = client.mark();
        let created = self.created[slot(client)];
        let task = format!("{}-{}", client.prefix(), 1 + rng.below(created.max(1)));
        let (worker, channel) = *rng.pick(client.workers());
        let (who, channel, line, told) = match rng.below(9) {
            0 | 1 if created < 6 || rng.below(3) == 0 => {
                self.created[slot(client)] += 1;
                let title = if rng.below(2) == 0 {
                    format!("Printer {mark} step {n} jams")
                } else {
                    format!("VPN {mark} step {n} is down")
                };
                let who = *rng.pick(client.people());
                (
                    who,
                    None,
                    format!("/request title:\"{title}\""),
                    Some(client),
                )
            }
            _ if created == 0 => return,
            2 => {
                let who = *rng.pick(client.people());
                (
                    who,
                    None,
                    format!("/task comment id:{task} text:\"comment {mark} {n}\""),
                    Some(client),
                )
            }
            3 => (
                worker,
                channel,
                format!("/task note id:{task} text:\"note {mark} {n}\""),
                None,
            ),
            4 | 5 => (worker, channel, format!("/task claim id:{task}"), None),
            6 => (
                worker,
                channel,
                format!("/task handoff id:{task} reason:\"reason {mark} {n}\""),
                None,
            ),
            7 => {
                // Somebody of the other client reaches for this task.
                let other = client.other();
                let who = *rng.pick(other.people());
                let line = match rng.below(3) {
                    0 => format!("/task show id:{task}"),
                    1 => format!("/task claim id:{task}"),
                    _ => format!("/task comment id:{task} text:\"peek {} {n}\"", other.mark()),
                };
                (who, None, line, Some(other))
            }
            _ => {
                let who = *rng.pick(client.people());
                let line = *rng.pick(&["/task list", "/mine"]);
                (who, None, line.to_owned(), Some(client))
            }
        };
        let shown = self.act(who, channel, &line).await;
        let reader = told.or_else(|| {
            [Client::Acme, Client::Bright]
                .into_iter()
                .find(|c| c.people().contains(&who))
        });
        if let Some(reader) = reader {
            self.assert_clean(reader, &shown, &line);
        }
    }

    /// Nothing of one client is anywhere the other's people can read.
    fn assert_separated(&self) {
        let emulator = &self.sandbox.emulator;
        let places = |client: Client| -> Vec<u64> {
            // The client's server (with the MSP's channel there), and the
            // MSP's channel for this client in the MSP's own server.
            let (guild, msp_channel) = match client {
                Client::Acme => (cast::ACME_GUILD, Some(cast::MSP_ACME)),
                Client::Bright => (cast::BRIGHT_GUILD, None),
            };
            let mut channels: Vec<u64> = cast::CHANNELS
                .iter()
                .filter(|(g, _, _)| *g == guild)
                .map(|(_, c, _)| *c)
                .chain(msp_channel)
                .collect();
            let threads: Vec<u64> = channels
                .iter()
                .flat_map(|c| emulator.threads(*c))
                .map(|(t, _)| t)
                .collect();
            channels.extend(threads);
            let people: Vec<&Person> = client
                .people()
                .iter()
                .filter_map(|p| cast::person(p))
                .collect();
            channels.extend(people.iter().filter_map(|p| emulator.dm_channel(p.id)));
            channels
        };
        for client in [Client::Acme, Client::Bright] {
            let foreign = client.other().mark();
            let mut seen = 0;
            for channel in places(client) {
                for message in emulator.messages(channel) {
                    let text = ponte::sandbox::runner::describe(&message).to_lowercase();
                    if text.contains(client.mark()) {
                        seen += 1;
                    }
                    assert!(
                        !text.contains(foreign),
                        "{} channel {channel} shows {foreign:?}: {text}\n--- what happened ---\n{}",
                        client.prefix(),
                        self.log.join("\n")
                    );
                }
            }
            // The check looked where the client's own words are.
            if self.created[slot(client)] > 0 {
                assert!(seen > 0, "no {} message was found at all", client.prefix());
            }
        }
    }
}

// Digests, reports and exports (guard): what is read out of the store
// about one client carries nothing of the other.
impl Run {
    async fn assert_records_separated(&mut self) {
        // `/digest preview` by each of the client's people, and by the MSP
        // where it works for the client: through the real bot.
        for client in [Client::Acme, Client::Bright] {
            let mut own = 0;
            let readers = client
                .people()
                .iter()
                .map(|p| (*p, None))
                .chain(
                    client
                        .workers()
                        .iter()
                        .filter(|(_, c)| c.is_some())
                        .copied(),
                )
                .collect::<Vec<_>>();
            for (who, channel) in readers {
                let shown = self.act(who, channel, "/digest preview").await;
                self.assert_clean(client, &shown, "/digest preview");
                own += usize::from(shown.to_lowercase().contains(client.mark()));
            }
            assert!(
                own > 0,
                "no digest preview of {} shows its own work",
                client.prefix()
            );
        }
        let (store, config) = self.sandbox.store_and_config().expect("the bot runs");
        let now = self.sandbox.now();
        let log = self.log.join("\n");
        tokio::task::spawn_blocking(move || records_separated(&store, &config, now, &log))
            .await
            .expect("the records check panicked");
    }
}

/// The digests of both sides (as they would be posted), `ponte report`
/// (text, CSV, JSON) and `ponte export --client` of each client.
fn records_separated(store: &SledStore, config: &Config, now: Timestamp, log: &str) {
    use ponte::domain::{ClientKey, Side};
    let messages = ponte::i18n::Messages::load().unwrap();
    let date = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let (from, to) = (date.yesterday().unwrap(), date.tomorrow().unwrap());
    for client in [Client::Acme, Client::Bright] {
        let key = ClientKey::new(client.prefix()).unwrap();
        let foreign = client.other().mark();
        let foreign_id = format!("{}-", client.other().prefix());
        let clean = |what: &str, text: &str| {
            let text = text.to_lowercase();
            assert!(
                !text.contains(foreign) && !text.contains(&foreign_id.to_lowercase()),
                "{what} of {} shows the other client: {text}\n--- what happened ---\n{log}",
                client.prefix()
            );
        };
        // The digests, for both sides, in both languages.
        for side in [Side::Internal, Side::Msp] {
            let digest = ponte::app::digests::client_digest(store, config, &key, side, None, now)
                .unwrap()
                .expect("a configured client");
            for lang in [ponte::i18n::Lang::En, ponte::i18n::Lang::It] {
                let renderer = ponte::app::reply::render::Renderer {
                    messages: &messages,
                    lang,
                };
                let text = renderer.digest(&digest, client.prefix(), None).join("\n");
                clean("the digest", &text);
                assert!(
                    text.to_lowercase().contains(client.mark()),
                    "the {side:?} digest of {} shows none of its work: {text}",
                    client.prefix()
                );
            }
        }
        // The per-client export: only its own tasks, all of them.
        let mut export = Vec::new();
        let counts = ponte::app::transfer::export_client(store, Some(&key), &mut export).unwrap();
        let export = String::from_utf8(export).unwrap();
        clean("the export", &export);
        assert!(
            export.contains(client.mark()),
            "the export lacks its own work"
        );
        let mut own_tasks = 0;
        store
            .for_each_task(&mut |t| {
                own_tasks += u64::from(t.id.client() == &key);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            counts.tasks, own_tasks,
            "the export has every task of the client"
        );
        // The report: nothing of the other client in any format, and the
        // same as the report of a store holding only this client's export
        // (so no task of the other client is counted).
        let conf = config.client(&key).unwrap();
        let report = ponte::app::report::client_report(store, conf, from, to, now).unwrap();
        let json = ponte::app::report::json(&report, client.prefix(), from, to);
        for (what, text) in [
            ("the report", ponte::app::report::text(&report)),
            ("the CSV report", ponte::app::report::csv(&report)),
            ("the JSON report", json.clone()),
        ] {
            clean(what, &text);
        }
        let alone = SledStore::open_temporary().unwrap();
        ponte::app::transfer::import(&alone, &mut export.as_bytes()).unwrap();
        assert_eq!(alone.check_integrity().unwrap(), Vec::<String>::new());
        let report_alone = ponte::app::report::client_report(&alone, conf, from, to, now).unwrap();
        assert_eq!(
            json,
            ponte::app::report::json(&report_alone, client.prefix(), from, to),
            "the report of {} counts something that is not its own",
            client.prefix()
        );
        assert!(
            !report.rows.is_empty(),
            "the report of {} is empty",
            client.prefix()
        );
    }
}

/// Runs `play` on a fresh sandbox (Friday 27 November 2026, 09:00 UTC).
fn on_sandbox<F: std::future::Future<Output = ()>>(first: String, play: impl FnOnce(Run) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let start: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let sandbox = Sandbox::start(None, start)
            .await
            .unwrap_or_else(|f| panic!("cannot start the sandbox: {f}"));
        play(Run {
            sandbox,
            log: vec![first],
            created: [0, 0],
        })
        .await;
    });
}

fn play(seed: u64, steps: usize) {
    on_sandbox(format!("seed {seed}"), |mut run| async move {
        let mut rng = Rng(seed);
        // Both clients have something from the start.
        for client in [Client::Acme, Client::Bright] {
            run.created[slot(client)] += 1;
            let line = format!("/request title:\"VPN {} opening is down\"", client.mark());
            let shown = run.act(client.employee(), None, &line).await;
            run.assert_clean(client, &shown, &line);
        }
        for n in 0..steps {
            run.random_step(&mut rng, n).await;
        }
        // Everyone of both clients lists what they can see.
        for client in [Client::Acme, Client::Bright] {
            for who in client.people() {
                for line in ["/task list", "/mine"] {
                    let shown = run.act(who, None, line).await;
                    run.assert_clean(client, &shown, line);
                }
            }
        }
        run.line("expect no violations").await;
        run.assert_separated();
        run.assert_records_separated().await;
        run.sandbox.stop().await;
    });
}

#[test]
fn two_clients_never_see_each_other() {
    let seeds: Vec<u64> = match std::env::var("PONTE_ISOLATION_SEED") {
        Ok(s) => vec![s.parse().expect("PONTE_ISOLATION_SEED is a number")],
        Err(_) => vec![0x5EED_0001, 0x5EED_0002, 0x5EED_0003],
    };
    for seed in seeds {
        play(seed, 60);
    }
}

// Requesters (guard): a side's internal notes reach that side's staff only.
// An employee is of the company but not its IT staff: no note of either
// side reaches them anywhere -- `/task show`, lists, `/mine`, `/digest
// preview`, their thread, their DMs (personal digest), the digests and
// exports read as a requester. Each check also looks where the note must
// be (the staff's own view), so a check that looks nowhere fails.

const IT_NOTE: &str = "notaitmarmotta";
const MSP_NOTE: &str = "notamspfenicottero";
const SHARED: &str = "condivisoairone";

/// Fails when `text`, shown to a requester, carries a note marker.
fn requester_clean(text: &str, what: &str, log: &str) {
    let lower = text.to_lowercase();
    for marker in [IT_NOTE, MSP_NOTE] {
        assert!(
            !lower.contains(marker),
            "{what}: a requester was shown the internal note {marker:?}:\n{text}\n--- what happened ---\n{log}"
        );
    }
}

#[test]
fn a_planted_note_in_a_requesters_view_fails_the_check() {
    for marker in [IT_NOTE, MSP_NOTE] {
        let planted = format!("ACME-1 · 🔒 sara (nota interna): {marker}");
        let caught = std::panic::catch_unwind(|| requester_clean(&planted, "planted", ""));
        assert!(caught.is_err(), "a planted {marker} was not caught");
    }
    requester_clean(&format!("ACME-1 · {SHARED}"), "shared", "");
}

#[test]
fn requesters_never_read_internal_notes() {
    on_sandbox("requesters".to_owned(), |mut run| async move {
        let employee = "giulia";
        run.act(employee, None, "/digest subscribe").await;
        run.act(
            employee,
            None,
            "/request title:\"La stampante del secondo piano non stampa\" to:internal",
        )
        .await;
        run.act(
            "sara",
            None,
            &format!("/task note id:ACME-1 text:\"{IT_NOTE} utente difficile\""),
        )
        .await;
        run.act(
            "paolo",
            Some("acme"),
            &format!("/task note id:ACME-1 text:\"{MSP_NOTE} da fatturare\""),
        )
        .await;
        run.act(
            "sara",
            None,
            &format!("/task comment id:ACME-1 text:\"{SHARED}\""),
        )
        .await;
        run.act(
            "paolo",
            Some("acme"),
            &format!("/task note id:ACME-1 text:\"{MSP_NOTE} bis\""),
        )
        .await;
        // Waiting on the requester: her personal digest lists the task.
        run.act(
            "sara",
            None,
            "/task status id:ACME-1 status:waiting_on_requester reason:\"Quale stampante?\"",
        )
        .await;
        let log = |run: &Run| run.log.join("\n");
        // The staff see their own side's note: the markers are where a
        // leak would come from.
        let it = run.act("sara", None, "/task show id:ACME-1").await;
        assert!(
            it.contains(IT_NOTE),
            "internal IT does not see its note: {it}"
        );
        assert!(
            !it.contains(MSP_NOTE),
            "internal IT sees the MSP's note: {it}"
        );
        let msp = run.act("paolo", Some("acme"), "/task show id:ACME-1").await;
        assert!(
            msp.contains(MSP_NOTE),
            "the MSP does not see its note: {msp}"
        );
        assert!(
            !msp.contains(IT_NOTE),
            "the MSP sees internal IT's note: {msp}"
        );
        let it_digest = run.act("sara", None, "/digest preview").await;
        assert!(
            it_digest.contains(IT_NOTE) || it_digest.contains(SHARED),
            "internal IT's digest shows no comment: {it_digest}"
        );
        // The requester, everywhere they ask.
        for line in [
            "/task show id:ACME-1",
            "/mine",
            "/task list",
            "/digest preview",
        ] {
            let shown = run.act(employee, None, line).await;
            requester_clean(&shown, line, &log(&run));
        }
        let shown = run.act(employee, None, "/task show id:ACME-1").await;
        assert!(
            shown.contains(SHARED),
            "the requester does not see the shared comment: {shown}"
        );
        // Monday morning (the sandbox starts on a Friday): the side digests
        // and the personal digest were posted.
        run.line("advance 71h").await;
        run.line("expect no violations").await;
        let emulator = &run.sandbox.emulator;
        let giulia = cast::person(employee).unwrap();
        let mut places = vec![cast::ACME_REQUESTS];
        places.extend(
            emulator
                .threads(cast::ACME_REQUESTS)
                .into_iter()
                .map(|(t, _)| t),
        );
        let dm = emulator.dm_channel(giulia.id);
        assert!(dm.is_some(), "the requester got no personal digest");
        places.extend(dm);
        let mut read = 0;
        for channel in places {
            for message in emulator.messages(channel) {
                let text = ponte::sandbox::runner::describe(&message);
                read += usize::from(text.contains(SHARED));
                requester_clean(&text, &format!("channel {channel}"), &log(&run));
            }
        }
        assert!(read > 0, "the requester's places hold no shared comment");
        // The records, read as a requester, and the client's export.
        let (store, config) = run.sandbox.store_and_config().expect("the bot runs");
        let now = run.sandbox.now();
        let log = log(&run);
        tokio::task::spawn_blocking(move || requester_records_clean(&store, &config, now, &log))
            .await
            .expect("the records check panicked");
        run.sandbox.stop().await;
    });
}

fn requester_records_clean(store: &SledStore, config: &Config, now: Timestamp, log: &str) {
    use ponte::domain::{Audience, ClientKey, PersonId, Side};
    let key = ClientKey::new("ACME").unwrap();
    let messages = ponte::i18n::Messages::load().unwrap();
    let renderer = ponte::app::reply::render::Renderer {
        messages: &messages,
        lang: ponte::i18n::Lang::It,
    };
    for side in Side::ALL {
        let digest = ponte::app::digests::client_digest_as(
            store,
            config,
            &key,
            side,
            Audience::Requesters,
            None,
            now,
        )
        .unwrap()
        .unwrap();
        let text = renderer.digest(&digest, "ACME", None).join("\n");
        requester_clean(&text, "a digest read by a requester", log);
    }
    let giulia = cast::person("giulia").unwrap();
    let personal = ponte::app::personal_digests::build(
        store,
        config,
        PersonId(giulia.id),
        Side::Internal,
        Some(&key),
        now,
    )
    .unwrap();
    requester_clean(&format!("{personal:?}"), "the personal digest", log);
    let export = |reader| {
        let mut out = Vec::new();
        ponte::app::transfer::export_for(store, Some(&key), reader, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    requester_clean(
        &export(Some(Audience::Requesters)),
        "the requesters' export",
        log,
    );
    let company = export(Some(Audience::Staff(Side::Internal)));
    assert!(
        company.contains(IT_NOTE),
        "the company's export lost its own note"
    );
    assert!(
        !company.contains(MSP_NOTE),
        "the company's export carries the MSP's note"
    );
    let everything = export(None);
    assert!(everything.contains(IT_NOTE) && everything.contains(MSP_NOTE));
}
