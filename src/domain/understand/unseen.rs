//! Requests Ponte's rules were not written from (issue 19): Italian and
//! English as people write them in chat (typos, no accents, shouting), in
//! two parts. [`TUNE`] is what the rules were tuned on; [`HELD_BACK`] was
//! written first and never tuned on: it measures how well the rules carry
//! to text they never saw. A case is right when its priority, due time and
//! category all are. `cargo test --lib unseen -- --nocapture` prints the
//! figures; the floors below keep them from sliding back.

use super::tests::{local, rome};
use super::*;

/// text, priority, due (local, Rome), side (`auto`, `msp`, `internal`), category
type Case = (
    &'static str,
    Priority,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

/// Tuned on.
#[rustfmt::skip]
pub(super) const TUNE: &[Case] = {
    use Priority::*;
    &[
    ("la sede di milano e offline", P1, None, "auto", None),
    ("tutta la filiale di verona e ferma", P1, None, "auto", None),
    ("intera filiale senza rete", P1, None, "auto", Some("network")),
    ("the whole branch is down", P1, None, "auto", None),
    ("our entire site lost power and network", P1, None, "auto", Some("network")),
    ("all stores are offline", P1, None, "auto", None),
    ("tutti i negozi sono offline", P1, None, "auto", None),
    ("the shop is down", P1, None, "auto", None),
    ("e-commerce down!!!", P1, None, "auto", None),
    ("il sito e-commerce non funziona", P1, None, "auto", None),
    ("customers can't place orders on the website", P1, None, "auto", None),
    ("i clienti non riescono a pagare", P1, None, "auto", None),
    ("customers affected, checkout broken", P1, None, "auto", None),
    ("RANSOMWARE on accounting pc", P1, None, "auto", Some("security")),
    ("ransomware alert", P1, None, "auto", Some("security")),
    ("file criptati sul nas, chiedono un riscatto", P1, None, "auto", Some("servers")),
    ("all our files are encrypted and there is a ransom note", P1, None, "auto", None),
    ("cryptolocker sul server", P1, None, "auto", Some("security")),
    ("attacco hacker in corso", P1, None, "auto", None),
    ("we are under a cyber attack", P1, None, "auto", None),
    ("data leak, customer data exposed", P1, None, "auto", None),
    ("non funziona piu niente", P1, None, "auto", None),
    ("non va niente!!", P1, None, "auto", None),
    ("nothing is working", P1, None, "auto", None),
    ("everything is down", P1, None, "auto", None),
    ("tutto fermo", P1, None, "auto", None),
    ("e tutto bloccato", P1, None, "auto", None),
    ("il centralino e giu", P1, None, "auto", Some("phones")),
    ("centralino fermo", P1, None, "auto", Some("phones")),
    ("the switchboard is down", P1, None, "auto", Some("phones")),
    ("switchboard takes no calls", P1, None, "auto", Some("phones")),
    ("il gestionale e bloccato", P1, None, "auto", None),
    ("erp not working", P1, None, "auto", None),
    ("the ERP is offline", P1, None, "auto", None),
    ("fumo dal server", P1, None, "auto", Some("servers")),
    ("there is smoke from the printer", P1, None, "auto", Some("printers")),
    ("fire alarm in the server room, sparks from the rack", P1, None, "auto", Some("servers")),
    ("scintille dalla presa del pc", P1, None, "auto", Some("workstations")),
    ("odore di bruciato in sala server", P1, None, "auto", Some("servers")),
    ("burning smell from the UPS", P1, None, "auto", None),
    ("sala server allagata", P1, None, "auto", Some("servers")),
    ("water leak in the server room", P1, None, "auto", Some("servers")),
    ("a colleague got an electric shock from the docking station", P1, None, "auto", None),
    ("nessuno riesce a stampare in amministrazione", P2, None, "auto", Some("printers")),
    ("nobody can print", P2, None, "auto", Some("printers")),
    ("no one can scan", P2, None, "auto", Some("printers")),
    ("nessuno riesce a mandare mail", P2, None, "auto", Some("cloud-email")),
    ("serve il monitor questo weekend", P3, Some("2026-11-27T18:00"), "auto", Some("workstations")),
    ("nel weekend va aggiornato il firewall", P2, Some("2026-11-27T18:00"), "auto", Some("network")),
    ("by the weekend we need the new laptop", P3, Some("2026-11-27T18:00"), "auto", Some("workstations")),
    ("this weekend please patch the servers", P2, Some("2026-11-27T18:00"), "auto", Some("servers")),
    ("entro il weekend serve la vpn per luca", P2, Some("2026-11-27T18:00"), "auto", Some("network")),
    ("next monday the new hire needs an account", P3, Some("2026-11-30T18:00"), "auto", Some("accounts")),
    ("lunedi prossimo arriva il nuovo collega, serve un pc", P3, Some("2026-11-30T18:00"), "auto", Some("workstations")),
    ("da lunedi serve l'account per giulia", P3, Some("2026-11-30T09:00"), "auto", Some("accounts")),
    ("from monday marco needs vpn access", P2, Some("2026-11-30T09:00"), "auto", Some("network")),
    ("a partire da lunedi serve la licenza", P4, Some("2026-11-30T09:00"), "auto", Some("software")),
    ("la stampante non va da lunedi", P2, None, "auto", Some("printers")),
    ("the vpn has been down since monday", P2, None, "auto", Some("network")),
    ("entro fine mese rinnovare le licenze", P4, Some("2026-11-30T18:00"), "auto", Some("software")),
    ("fine mese scade il certificato", P3, Some("2026-11-30T18:00"), "auto", None),
    ("by the end of the month new phones for sales", P3, Some("2026-11-30T18:00"), "auto", Some("phones")),
    ("end of month: archive old mailboxes", P3, Some("2026-11-30T18:00"), "auto", Some("cloud-email")),
    ("entro la fine del mese serve il nuovo nas", P2, Some("2026-11-30T18:00"), "auto", Some("servers")),
    ("please set up the laptop by 12/14", P3, Some("2026-12-14T18:00"), "auto", Some("workstations")),
    ("need 3 accounts by 12/20/2026", P3, Some("2026-12-20T18:00"), "auto", Some("accounts")),
    ("serve entro il 14/12 il nuovo portatile", P3, Some("2026-12-14T18:00"), "auto", Some("workstations")),
    ("consegna monitor il 20/12/2026", P3, Some("2026-12-20T18:00"), "auto", Some("workstations")),
    ("installare office sul portatile nuovo", P4, None, "auto", Some("software")),
    ("install chrome on my pc please", P4, None, "auto", Some("software")),
    ("please install the printer driver on my laptop", P4, None, "auto", Some("software")),
    ("installazione autocad sul pc di progettazione", P4, None, "auto", Some("software")),
    ("aggiornamento windows sul computer di paolo", P4, None, "auto", Some("software")),
    ("update acrobat on the reception pc", P4, None, "auto", Some("software")),
    ("il pc di anna non si accende", P3, None, "auto", Some("workstations")),
    ("my laptop screen is cracked", P3, None, "auto", Some("workstations")),
    ("VPN DOWN!!!!", P2, None, "auto", Some("network")),
    ("vpn giu per tutti", P1, None, "auto", Some("network")),
    ("internet non va in tutto il magazzino", P1, None, "auto", Some("network")),
    ("whole warehouse lost wifi", P1, None, "auto", Some("network")),
    ("tutto il magazzino e fermo", P1, None, "auto", None),
    ("the entire plant cannot work", P1, None, "auto", None),
    ("intero stabilimento senza rete", P1, None, "auto", Some("network")),
    ("reparto produzione fermo, nessuno lavora", P1, None, "auto", None),
    ("mail di phishing ricevuta", P2, None, "auto", Some("security")),
    ("suspicious email in my inbox", P2, None, "auto", Some("security")),
    ("ho cliccato su un link strano, ho paura di un virus", P2, None, "auto", Some("security")),
    ("new user for the sales team, no rush", P4, None, "auto", Some("accounts")),
    ("nuovo utente per marketing, quando potete", P4, None, "auto", Some("accounts")),
    ("teams non parte sul mio pc", P3, None, "auto", Some("workstations")),
    ("outlook non si apre", P2, None, "auto", Some("cloud-email")),
    ("la posta non arriva a nessuno", P1, None, "auto", Some("cloud-email")),
    ("email down for everyone", P1, None, "auto", Some("cloud-email")),
    ("the server is down", P2, None, "auto", Some("servers")),
    ("server giu", P2, None, "auto", Some("servers")),
    ("backup non fatto stanotte", P2, None, "auto", Some("backup")),
    ("recover deleted file from the share", P2, None, "auto", Some("backup")),
    ("telefono della reception muto", P3, None, "auto", Some("phones")),
    ("projector in room 3 not working, meeting in 1 hour", P2, Some("2026-11-27T10:00"), "auto", Some("phones")),
    ("tastiera nuova per me, grazie", P3, None, "auto", Some("workstations")),
    ("URGENTISSIMO!!! stampante bloccata", P2, None, "auto", Some("printers")),
    ("urgnte la vpn non va", P2, None, "auto", Some("network")),
    ("nessuno in ufficio riesce a collegarsi alla vpn", P1, None, "auto", Some("network")),
    ("the whole floor can't connect to wifi", P1, None, "auto", Some("network")),
    ("everyone in the office lost internet", P1, None, "auto", Some("network")),
    ("licenza office scaduta per tutti", P2, None, "auto", Some("software")),
    ("Hi all, quick one: need a new mouse", P3, None, "auto", Some("workstations")),
    ("ciao a tutti, mi serve una tastiera", P3, None, "auto", Some("workstations")),
    ("2FA app not working on my new phone", P3, None, "auto", Some("accounts")),
    ("accesso negato alla cartella hr, serve entro domani", P3, Some("2026-11-28T18:00"), "auto", Some("accounts")),
    ]
};

/// Never tuned on: written before any rule changed, then only measured.
#[rustfmt::skip]
pub(super) const HELD_BACK: &[Case] = {
    use Priority::*;
    &[
    ("la filiale di bergamo e completamente offline", P1, None, "auto", None),
    ("WHOLE SITE IS DOWN IN LEEDS!!!", P1, None, "auto", None),
    ("the online shop is down, customers cant pay", P1, None, "auto", None),
    ("il negozio online non carica, i clienti non riescono a ordinare", P1, None, "auto", None),
    ("ransomware!!! tutti i file del server sono criptati", P1, None, "auto", Some("security")),
    ("we think we got hit by ransomware, files renamed .locked", P1, None, "auto", Some("security")),
    ("non funziona niente", P1, None, "auto", None),
    ("nothing works since 9am", P1, None, "auto", None),
    ("il centralino non prende chiamate", P1, None, "auto", Some("phones")),
    ("switchboard not taking calls, customers complaining", P1, None, "auto", Some("phones")),
    ("c'e odore di bruciato dal rack in sala server", P1, None, "auto", Some("servers")),
    ("smoke coming out of the UPS in the server room", P1, None, "auto", Some("servers")),
    ("nessuno riesce a stampare", P2, None, "auto", Some("printers")),
    ("nobody can print on the 2nd floor", P2, None, "auto", Some("printers")),
    ("mi serve il portatile nuovo per questo weekend", P3, Some("2026-11-27T18:00"), "auto", Some("workstations")),
    ("need the new starter account from monday", P3, Some("2026-11-30T09:00"), "auto", Some("accounts")),
    ("il nuovo collega inizia da lunedi, serve account", P3, Some("2026-11-30T09:00"), "auto", Some("accounts")),
    ("rinnovo licenze antivirus entro fine mese", P2, Some("2026-11-30T18:00"), "auto", Some("security")),
    ("please renew the adobe licenses by end of month", P4, Some("2026-11-30T18:00"), "auto", Some("software")),
    ("migrate the shared mailbox by 12/15", P3, Some("2026-12-15T18:00"), "auto", Some("cloud-email")),
    ("spostare la casella condivisa entro il 15/12", P3, Some("2026-12-15T18:00"), "auto", Some("cloud-email")),
    ("installa teams sul pc di marco", P4, None, "auto", Some("software")),
    ("can u install zoom on the reception pc", P4, None, "auto", Some("software")),
    ("l'erp e fermo, la produzione non puo spedire", P1, None, "auto", None),
    ("ERP is down at all plants", P1, None, "auto", None),
    ("mouse rotto, nessuna fretta", P4, None, "auto", Some("workstations")),
    ("wifi lenta in magazzino", P2, None, "auto", Some("network")),
    ("la vpn mi butta fuori ogni 5 minuti", P2, None, "auto", Some("network")),
    ("my outlook keeps asking for the password", P3, None, "auto", Some("cloud-email")),
    ("password scaduta non riesco a entrare", P3, None, "auto", Some("accounts")),
    ("tutta la sede di torino e senza internet", P1, None, "auto", Some("network")),
    ("entire branch has no network since the storm", P1, None, "auto", Some("network")),
    ("cavi scoperti sotto la scrivania, qualcuno ha preso la scossa", P1, None, "auto", None),
    ("water leaking onto the server rack!!", P1, None, "auto", Some("servers")),
    ("data breach: customer list posted online", P1, None, "auto", Some("security")),
    ("ho ricevuto una mail di phishing, non ho cliccato", P2, None, "auto", Some("security")),
    ("toner finito stampante amministrazione", P4, None, "auto", Some("printers")),
    ("serve un monitor in piu per anna entro venerdi prossimo", P3, Some("2026-12-04T18:00"), "auto", Some("workstations")),
    ("new laptop for the intern next monday please", P3, Some("2026-11-30T18:00"), "auto", Some("workstations")),
    ("aggiornare office su tutti i pc entro fine mese", P4, Some("2026-11-30T18:00"), "auto", Some("software")),
    ("il sito e-commerce e giu, perdiamo ordini", P1, None, "auto", None),
    ("le casse del negozio non funzionano, i clienti aspettano", P1, None, "auto", None),
    ("the whole warehouse is offline, trucks waiting", P1, None, "auto", None),
    ("backup del nas fallito 3 notti di fila", P2, None, "auto", Some("backup")),
    ("restore a deleted file from friday please", P2, None, "auto", Some("backup")),
    ("il proiettore in sala riunioni non si accende", P2, None, "auto", Some("phones")),
    ("URGENTE il gestionale non parte per nessuno", P1, None, "auto", None),
    ("can't login to the vm, just me", P3, None, "auto", Some("servers")),
    ("printer jammed again lol", P4, None, "auto", Some("printers")),
    ("serve accesso alla cartella progetti per luca, con calma", P4, None, "auto", Some("accounts")),
    ("firewall bloccato, tutti gli uffici senza connessione", P1, None, "auto", Some("network")),
    ("pls reset my password asap", P2, None, "auto", Some("accounts")),
    ]
};

/// The example configuration's rules, and the business-critical systems a
/// client would name (the words of the tuned part only).
fn routing() -> ClientRouting {
    let mut routing = super::tests::routing();
    routing.critical = [
        "shop",
        "e-commerce",
        "centralino",
        "switchboard",
        "gestionale",
        "erp",
    ]
    .map(str::to_owned)
    .to_vec();
    routing
}

/// Friday 27 November 2026, 09:00 in Rome.
fn now() -> Timestamp {
    local("2026-11-27T09:00")
}

/// The cases of `cases` understood wrongly, described.
fn misses(cases: &[Case]) -> Vec<String> {
    let routing = routing();
    cases
        .iter()
        .filter_map(|(text, priority, due, _side, category)| {
            let d = understand(text, &routing, &rome(), now());
            let got = (
                d.priority,
                d.due,
                d.category.as_ref().map(|c| c.as_str().to_owned()),
            );
            let want = (*priority, due.map(local), category.map(str::to_owned));
            (got != want).then(|| format!("{text:?}\n   got  {got:?}\n   want {want:?}"))
        })
        .collect()
}

fn share(cases: &[Case]) -> (f64, Vec<String>) {
    let missed = misses(cases);
    let right = cases.len() - missed.len();
    (right as f64 / cases.len() as f64, missed)
}

#[test]
fn unseen_requests_are_understood() {
    assert!(TUNE.len() + HELD_BACK.len() >= 150);
    let (tuned, tune_missed) = share(TUNE);
    let (held, held_missed) = share(HELD_BACK);
    println!(
        "understanding: tuned part {:.1}% of {}, held-back part {:.1}% of {}",
        tuned * 100.0,
        TUNE.len(),
        held * 100.0,
        HELD_BACK.len()
    );
    if std::env::var_os("PONTE_SHOW_HELD_BACK").is_some() {
        println!("held-back misses:\n{}", held_missed.join("\n"));
    }
    println!("tuned misses:\n{}", tune_missed.join("\n"));
    assert!(
        tuned >= TUNE_FLOOR,
        "tuned part: {}",
        tune_missed.join("\n")
    );
    assert!(
        held >= HELD_FLOOR,
        "held-back part: {}",
        held_missed.join("\n")
    );
}

/// The figures as last measured, rounded down: a change that understands
/// less fails here.
const TUNE_FLOOR: f64 = 0.96;
const HELD_FLOOR: f64 = 0.92;
