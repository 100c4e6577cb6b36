//! Two clients never see each other's work: a seeded random sequence of
//! requests, comments, internal notes, claims, handoffs, cross-client
//! attempts and listings by people of Acme, Brightline and the MSP, played
//! through the real bot in the emulator. Every title, comment, note and
//! reason carries a marker word unique to its client; afterwards no channel,
//! thread or DM of the other client's server (nor the MSP's channel for the
//! other client) shows it, and no answer any of the other client's people
//! got (lists, `/mine`, `/task show`, refusals) does either.

use jiff::Timestamp;
use ponte::sandbox::cast::{self, Person};
use ponte::sandbox::runner::Sandbox;
use ponte::sandbox::script::parse_line;

const ACME_MARK: &str = "zanzaracme";
const BRIGHT_MARK: &str = "quokkabright";

/// SplitMix64: a small deterministic generator, so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

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

fn play(seed: u64, steps: usize) {
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
        let mut run = Run {
            sandbox,
            log: vec![format!("seed {seed}")],
            created: [0, 0],
        };
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
