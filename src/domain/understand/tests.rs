//! Requests as people write them, and what Ponte should understand.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::domain::routing::CategoryRule;

/// The categories of `config/ponte.example.toml`, in its order, with its
/// actions.
pub(super) fn routing() -> ClientRouting {
    let mut routing = categories();
    // As in the example configuration: installing is software, whatever
    // it is installed on.
    for rule in &mut routing.categories {
        if rule.category.as_str() == "software" {
            rule.actions = ["install", "installa", "installare", "installazione"]
                .map(str::to_owned)
                .to_vec();
        }
    }
    routing
}

/// The categories of the example configuration, without its actions.
fn categories() -> ClientRouting {
    let rule = |name: &str, kws: &[&str], owner, priority| CategoryRule {
        category: Category::new(name).unwrap(),
        keywords: kws.iter().map(|k| k.to_string()).collect(),
        owner,
        priority,
        needs_approval: false,
        actions: Vec::new(),
    };
    use Priority::*;
    use Side::*;
    ClientRouting {
        categories: vec![
            rule(
                "security",
                &[
                    "security",
                    "sicurezza",
                    "phishing",
                    "malware",
                    "virus",
                    "antivirus",
                    "ransomware",
                    "cryptolocker",
                    "hacked",
                    "breach",
                    "violazione",
                    "suspicious",
                    "sospetto",
                    "sospetta",
                ],
                Internal,
                P2,
            ),
            rule(
                "network",
                &[
                    "network",
                    "rete",
                    "vpn",
                    "wifi",
                    "wi-fi",
                    "internet",
                    "firewall",
                    "router",
                    "switch",
                    "connection",
                    "connessione",
                ],
                Msp,
                P2,
            ),
            rule(
                "backup",
                &[
                    "backup",
                    "restore",
                    "ripristino",
                    "ripristinare",
                    "recover",
                    "recupero",
                    "deleted file",
                    "file cancellato",
                    "file cancellati",
                    "snapshot",
                ],
                Msp,
                P2,
            ),
            rule(
                "servers",
                &[
                    "server",
                    "nas",
                    "virtual machine",
                    "macchina virtuale",
                    "vm",
                    "domain controller",
                    "storage",
                ],
                Msp,
                P2,
            ),
            rule(
                "cloud-email",
                &[
                    "email",
                    "e-mail",
                    "mail",
                    "posta",
                    "mailbox",
                    "casella",
                    "outlook",
                    "microsoft 365",
                    "office 365",
                    "sharepoint",
                    "onedrive",
                    "calendar",
                    "calendario",
                ],
                Msp,
                P3,
            ),
            rule(
                "accounts",
                &[
                    "account",
                    "password",
                    "login",
                    "accesso",
                    "credenziali",
                    "mfa",
                    "2fa",
                    "new user",
                    "nuovo utente",
                    "locked out",
                    "utente bloccato",
                    "permission",
                    "permessi",
                ],
                Internal,
                P3,
            ),
            rule(
                "workstations",
                &[
                    "laptop",
                    "portatile",
                    "portatili",
                    "pc",
                    "computer",
                    "desktop",
                    "workstation",
                    "notebook",
                    "monitor",
                    "keyboard",
                    "tastiera",
                    "mouse",
                ],
                Internal,
                P3,
            ),
            rule(
                "printers",
                &[
                    "printer",
                    "stampante",
                    "stampanti",
                    "print",
                    "stampa",
                    "scanner",
                    "stampare",
                    "scan",
                    "scansione",
                    "toner",
                ],
                Internal,
                P4,
            ),
            rule(
                "software",
                &[
                    "software",
                    "install",
                    "installare",
                    "installazione",
                    "license",
                    "licenza",
                    "licenze",
                    "update",
                    "aggiornamento",
                    "application",
                    "applicazione",
                    "app",
                ],
                Internal,
                P4,
            ),
            rule(
                "phones",
                &[
                    "phone",
                    "telefono",
                    "telefoni",
                    "voip",
                    "centralino",
                    "switchboard",
                    "interno telefonico",
                    "meeting room",
                    "sala riunioni",
                    "projector",
                    "proiettore",
                    "videoconference",
                    "videoconferenza",
                ],
                Msp,
                P3,
            ),
        ],
        default_side: Internal,
        default_priority: P3,
        critical: Vec::new(),
    }
}

pub(super) fn rome() -> TimeZone {
    TimeZone::get("Europe/Rome").unwrap()
}

/// Friday 27 November 2026, 09:00 in Rome.
fn now() -> Timestamp {
    local("2026-11-27T09:00")
}

/// A local time in Rome.
pub(super) fn local(s: &str) -> Timestamp {
    rome().to_timestamp(s.parse::<DateTime>().unwrap()).unwrap()
}

fn draft(text: &str) -> Draft {
    understand(text, &routing(), &rome(), now())
}

/// text, priority, due (local, Rome), side (`auto`, `msp`, `internal`), category
type Case = (
    &'static str,
    Priority,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

#[rustfmt::skip]
const CASES: &[Case] = {
    use Priority::*;
    &[
    // English
    ("The VPN is down in Milan, nobody can work", P1, None, "auto", Some("network")),
    ("URGENT: the whole office has no internet", P1, None, "auto", Some("network")),
    ("My laptop won't turn on", P3, None, "auto", Some("workstations")),
    ("Outage: email is not working for all users", P1, None, "auto", Some("cloud-email")),
    ("Can you install Zoom on my PC by Friday?", P4, Some("2026-12-04T18:00"), "auto", Some("software")),
    ("Please reset my password, no rush", P4, None, "auto", Some("accounts")),
    ("printer on floor 2 is jammed again", P4, None, "auto", Some("printers")),
    ("Phishing email received by everyone in accounting, urgent", P2, None, "auto", Some("security")),
    ("ASAP: new user account for Marco Rossi starting tomorrow", P2, Some("2026-11-28T18:00"), "auto", Some("accounts")),
    ("The file server is offline, ask the provider", P2, None, "msp", Some("servers")),
    ("internal IT: please add Giulia to the finance shared folder permissions", P3, None, "internal", Some("accounts")),
    ("Backup failed last night on NAS-01, critical", P2, None, "auto", Some("backup")),
    ("Wifi keeps dropping in meeting room B", P2, None, "auto", Some("network")),
    ("Need a second monitor for the new hire, end of week is fine", P3, Some("2026-11-27T18:00"), "auto", Some("workstations")),
    ("Outlook crashes every time I open a calendar invite", P3, None, "auto", Some("cloud-email")),
    ("Everyone on the 3rd floor is locked out, can't work", P1, None, "auto", Some("accounts")),
    ("Not urgent: can you update Acrobat on the reception PC next week?", P4, Some("2026-11-30T09:00"), "auto", Some("workstations")),
    ("The MSP should check the firewall rules before Monday", P2, Some("2026-11-30T18:00"), "msp", Some("network")),
    ("Our IT needs to approve the antivirus exclusion for the ERP", P2, None, "internal", Some("security")),
    ("in 2 hours we have a board meeting and the projector is not working", P2, Some("2026-11-27T11:00"), "auto", Some("phones")),
    ("ransomware warning on my computer!!", P1, None, "auto", Some("security")),
    ("VPN is down for me only", P3, None, "auto", Some("network")),
    ("Restore the deleted file from yesterday's snapshot please, due 12/3", P2, Some("2027-03-12T18:00"), "auto", Some("backup")),
    ("The website is down, all users affected, P1", P1, None, "auto", None),
    ("Need 5 new laptops for the interns by 2026-12-03", P3, Some("2026-12-03T18:00"), "auto", Some("workstations")),
    ("Printer toner low on the 2nd floor, whenever you can", P4, None, "auto", Some("printers")),
    ("Teams calls keep dropping for the whole office since Monday", P3, None, "auto", None),
    ("Please set up the meeting room phone tomorrow morning", P3, Some("2026-11-28T09:00"), "auto", Some("phones")),
    ("Laptop stolen on the train, need it wiped ASAP", P2, None, "auto", Some("workstations")),
    ("Internet is down at the Turin site, whole office is stuck", P1, None, "auto", Some("network")),
    ("Mailbox full, can't send email", P3, None, "auto", Some("cloud-email")),
    ("Could you ask the MSP to renew the SSL certificate in 3 days?", P3, Some("2026-11-30T18:00"), "msp", None),
    ("urgnet!! the Wi-Fi in the warehouse is donw", P2, None, "auto", Some("network")),
    ("Criticall: domain controller not replicating", P2, None, "auto", Some("servers")),
    ("Hi everyone, the scanner on floor 1 stopped working", P2, None, "auto", Some("printers")),
    ("Slow down the backup schedule to weekly, not urgent", P4, None, "auto", Some("backup")),
    ("The shared drive is down and nobody in sales can work", P1, None, "auto", None),
    ("Printer down on my desk", P3, None, "auto", Some("printers")),
    ("Add a mailbox for HR by end of day", P3, Some("2026-11-27T18:00"), "auto", Some("cloud-email")),
    ("Install the VPN client on my laptop for the trip on 3 December", P4, Some("2026-12-03T18:00"), "auto", Some("software")),
    ("2FA not working, I can't log in", P3, None, "auto", Some("accounts")),
    ("Can internal IT look at the new user's permissions? Thanks", P3, None, "internal", Some("accounts")),
    ("Thanks everyone, quick question: how do I map the shared printer?", P4, None, "auto", Some("printers")),
    ("EOD please: onboarding laptop for Sara", P3, Some("2026-11-27T18:00"), "auto", Some("workstations")),
    ("by Monday: license renewal for Adobe", P4, Some("2026-11-30T18:00"), "auto", Some("software")),
    ("Everything is down!!! NOBODY CAN WORK", P1, None, "auto", None),
    ("wifi down, just me", P3, None, "auto", Some("network")),
    ("Server down, P3 is fine", P3, None, "auto", Some("servers")),
    ("Dec 24: shut down the old file server", P2, Some("2026-12-24T18:00"), "auto", Some("servers")),
    ("My mailbox was hacked, everyone got spam from me", P2, None, "auto", Some("security")),
    ("The day after tomorrow the new VM must be ready", P2, Some("2026-11-29T18:00"), "auto", Some("servers")),
    ("Projector in the boardroom: need it working by 1st of January", P3, Some("2027-01-01T18:00"), "auto", Some("phones")),
    ("Keyboard missing keys, for the MSP please", P3, None, "msp", Some("workstations")),
    ("need a VPN account within 30 minutes, the auditor is here", P2, Some("2026-11-27T09:30"), "auto", Some("network")),
    ("SharePoint site for the Q1 project, deadline 25/11", P3, Some("2027-11-25T18:00"), "auto", Some("cloud-email")),
    ("The router at the warehouse is dead, nobody can print", P2, None, "auto", Some("network")),
    // Italian
    ("La VPN non funziona, nessuno riesce a lavorare", P1, None, "auto", Some("network")),
    ("URGENTE: il server è fermo", P2, None, "auto", Some("servers")),
    ("Il mio pc non si accende", P3, None, "auto", Some("workstations")),
    ("La stampante del secondo piano è bloccata", P2, None, "auto", Some("printers")),
    ("Ciao a tutti, internet non va in tutto l'ufficio", P1, None, "auto", Some("network")),
    ("Mi serve una nuova licenza di Office entro venerdì", P4, Some("2026-12-04T18:00"), "auto", Some("software")),
    ("Per favore resettate la password di Marco, con calma", P4, None, "auto", Some("accounts")),
    ("Backup fallito stanotte sul NAS, chiedete al fornitore", P2, None, "msp", Some("backup")),
    ("Il nostro IT deve approvare l'accesso alla cartella", P3, None, "internal", Some("accounts")),
    ("Email di phishing arrivata a tutti in amministrazione", P2, None, "auto", Some("security")),
    ("Domani arriva un nuovo collega: serve un portatile e un account", P3, Some("2026-11-28T18:00"), "auto", Some("accounts")),
    ("Il centralino è giù da stamattina, nessuno riceve chiamate", P1, None, "auto", Some("phones")),
    ("Urgente!! Il sito aziendale non è raggiungibile", P2, None, "auto", None),
    ("Installare Chrome sul pc di Laura la settimana prossima", P4, Some("2026-11-30T09:00"), "auto", Some("software")),
    ("la rete wifi è lenta in sala riunioni", P2, None, "auto", Some("network")),
    ("Non è urgente, ma il mouse di Paolo è rotto", P4, None, "auto", Some("workstations")),
    ("Bloccatto tutto, non riesco a entrare in Outlook", P3, None, "auto", Some("cloud-email")),
    ("Serve ripristinare un file cancellato dal NAS entro il 3 dicembre", P2, Some("2026-12-03T18:00"), "auto", Some("backup")),
    ("Tutti i giorni la VPN cade alle 10", P2, None, "auto", Some("network")),
    ("Il proiettore della sala grande non funziona, riunione tra 2 ore", P2, Some("2026-11-27T11:00"), "auto", Some("phones")),
    ("Per l'MSP: aggiornare il firmware del firewall in giornata", P2, Some("2026-11-27T18:00"), "msp", Some("network")),
    ("Casella di posta piena, subito per favore", P2, None, "auto", Some("cloud-email")),
    ("Perche il portatile è così lento? Nessuna fretta", P4, None, "auto", Some("workstations")),
    ("Il telefono di Anna non squilla da lunedì", P3, None, "auto", Some("phones")),
    ("Antivirus scaduto su tutti i pc, critico", P2, None, "auto", Some("security")),
    ("Nuovo utente per Giulia entro il 12/12", P3, Some("2026-12-12T18:00"), "auto", Some("accounts")),
    ("Il NAS è offline, per favore controlli l'IT interno", P2, None, "internal", Some("servers")),
    ("La stampante non stampa a colori, quando potete", P4, None, "auto", Some("printers")),
    ("Dopodomani arriva il nuovo server, va installato", P2, Some("2026-11-29T18:00"), "auto", Some("servers")),
    ("Fra 3 giorni scade la licenza antivirus", P2, Some("2026-11-30T18:00"), "auto", Some("security")),
    ("Ho cliccato su un link sospetto, aiuto", P2, None, "auto", Some("security")),
    ("Il PC della reception è in tilt, subito!", P2, None, "auto", Some("workstations")),
    ("Tutto l'ufficio è senza internet", P1, None, "auto", Some("network")),
    ("La connessione è fermaa in magazzino", P2, None, "auto", Some("network")),
    ("Entro fine giornata serve il report dei backup", P2, Some("2026-11-27T18:00"), "auto", Some("backup")),
    ("Venerdì 4 dicembre trasloco: spostare i telefoni", P3, Some("2026-12-04T18:00"), "auto", Some("phones")),
    ("priorità 1: ERP fermo per tutta l'azienda", P1, None, "auto", None),
    ("entro lunedì prossimo aggiornare tutte le licenze", P4, Some("2026-11-30T18:00"), "auto", Some("software")),
    ("Vorrei un monitor più grande, 24/7 uso il pc", P3, None, "auto", Some("workstations")),
    ("Salve, mi serve accesso alla sala riunioni per il 1° dicembre", P3, Some("2026-12-01T18:00"), "auto", Some("accounts")),
    ("ciao, il pc di Marco fa un rumore strano", P3, None, "auto", Some("workstations")),
    ("PERCHÉ LA POSTA NON FUNZIONA??? tutti bloccati", P1, None, "auto", Some("cloud-email")),
    ("domani mattina serve il portatile per il cliente", P3, Some("2026-11-28T09:00"), "auto", Some("workstations")),
    ("Il firewall blocca il gestionale, il fornitore deve sistemarlo entro martedì", P2, Some("2026-12-01T18:00"), "msp", Some("network")),
    ("Stampanti ferme in tutto il piano", P1, None, "auto", Some("printers")),
    // Mixed languages
    ("P2 - lo scanner in contabilità è lento", P2, None, "auto", Some("printers")),
    ("the msp should look at the VPN, but internal IT owns the firewall", P2, None, "auto", Some("network")),
    ("Meeting room TV non funziona, urgent please", P2, None, "auto", Some("phones")),
    ]
};

fn side_name(side: SideChoice) -> &'static str {
    match side {
        SideChoice::Auto => "auto",
        SideChoice::To(Side::Msp) => "msp",
        SideChoice::To(Side::Internal) => "internal",
    }
}

#[test]
fn real_requests_are_understood() {
    assert!(CASES.len() >= 80, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for (text, priority, due, side, category) in CASES {
        let d = draft(text);
        let got = (
            d.priority,
            d.due,
            side_name(d.side),
            d.category.as_ref().map(|c| c.as_str().to_owned()),
        );
        let want = (
            *priority,
            due.map(local),
            *side,
            category.map(str::to_owned),
        );
        if got != want {
            failures.push(format!(
                "{text:?}\n   got  {got:?}\n   want {want:?}\n   why  {:?}",
                d.reasons
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_guess_has_a_reason() {
    for (text, ..) in CASES {
        let d = draft(text);
        let priority_reasons = d
            .reasons
            .iter()
            .filter(|r| match r {
                Reason::PriorityCue { priority, .. }
                | Reason::Scope { priority, .. }
                | Reason::CategoryPriority { priority, .. }
                | Reason::DefaultPriority { priority } => {
                    assert_eq!(*priority, d.priority, "{text}");
                    true
                }
                _ => false,
            })
            .count();
        assert!(priority_reasons >= 1, "{text}: {:?}", d.reasons);
        let due_reasons = d
            .reasons
            .iter()
            .filter(|r| matches!(r, Reason::DueCue { due, .. } if Some(*due) == d.due))
            .count();
        assert_eq!(due_reasons, usize::from(d.due.is_some()), "{text}");
        let category_reasons = d
            .reasons
            .iter()
            .filter(|r| matches!(r, Reason::Category(RouteReason::Keyword { category, .. }) if Some(category) == d.category.as_ref()))
            .count();
        assert_eq!(
            category_reasons,
            usize::from(d.category.is_some()),
            "{text}"
        );
        assert_eq!(d.details, *text);
        assert!(
            !d.title.is_empty() && d.title.chars().count() <= TITLE_LIMIT,
            "{text}"
        );
    }
}

fn cat(name: &str) -> Category {
    Category::new(name).unwrap()
}

#[test]
fn an_outage_for_everyone_says_both_why_and_who() {
    let d = draft("La VPN non funziona, nessuno riesce a lavorare");
    assert_eq!(d.title, "La VPN non funziona, nessuno riesce a lavorare");
    assert_eq!(
        d.reasons,
        [
            Reason::Category(RouteReason::Keyword {
                category: cat("network"),
                keyword: "vpn".into(),
                owner: Side::Msp,
            }),
            Reason::PriorityCue {
                cue: "non funziona".into(),
                typed: "non funziona".into(),
                kind: CueKind::Outage,
                priority: Priority::P1,
            },
            Reason::Scope {
                phrase: "nessuno riesce".into(),
                scope: Scope::WholeOffice,
                priority: Priority::P1,
            },
        ]
    );
}

#[test]
fn typos_are_tolerated_in_long_cue_words_and_the_reason_shows_them() {
    let d = draft("urgnet!! the Wi-Fi in the warehouse is donw");
    assert!(d.reasons.contains(&Reason::PriorityCue {
        cue: "urgent".into(),
        typed: "urgnet".into(),
        kind: CueKind::Urgent,
        priority: Priority::P2,
    }));
    assert_eq!(d.title, "The Wi-Fi in the warehouse is donw");

    let d = draft("Bloccatto tutto, non riesco a entrare in Outlook");
    assert_eq!(
        d.reasons[1..],
        [
            Reason::PriorityCue {
                cue: "bloccato".into(),
                typed: "Bloccatto".into(),
                kind: CueKind::Outage,
                priority: Priority::P3,
            },
            Reason::Scope {
                phrase: "non riesco".into(),
                scope: Scope::OnePerson,
                priority: Priority::P3,
            },
        ]
    );
    // Short words need to be exact: `dowm` is not `down`.
    assert_eq!(draft("the wiki is dowm").priority, Priority::P3);
}

#[test]
fn accents_are_optional() {
    for text in [
        "Il server è giù, entro venerdì",
        "Il server e giu, entro venerdi",
        "IL SERVER È GIÙ, ENTRO VENERDÌ",
    ] {
        let d = draft(text);
        assert_eq!(d.priority, Priority::P2, "{text}");
        assert_eq!(d.due, Some(local("2026-12-04T18:00")), "{text}");
    }
}

#[test]
fn due_and_side_reasons_quote_the_text() {
    let d = draft("Serve ripristinare un file cancellato dal NAS entro il 3 dicembre, per l'MSP");
    assert!(d.reasons.contains(&Reason::DueCue {
        phrase: "entro il 3 dicembre".into(),
        due: local("2026-12-03T18:00"),
    }));
    assert!(d.reasons.contains(&Reason::SideHint {
        phrase: "per l'MSP".into(),
        side: Side::Msp,
    }));
    let d = draft("the msp should look at the VPN, but internal IT owns the firewall");
    assert!(d.reasons.contains(&Reason::SideConflict {
        msp: "the msp should".into(),
        internal: "internal IT".into(),
    }));
}

#[test]
fn no_cue_and_no_category_is_the_clients_default() {
    let d = draft("Can I get a second chair?");
    assert_eq!(d.priority, Priority::P3);
    assert_eq!(
        d.reasons,
        [Reason::DefaultPriority {
            priority: Priority::P3
        }]
    );
    let d = draft("toner please");
    assert_eq!(
        d.reasons,
        [
            Reason::Category(RouteReason::Keyword {
                category: cat("printers"),
                keyword: "toner".into(),
                owner: Side::Internal,
            }),
            Reason::CategoryPriority {
                category: cat("printers"),
                priority: Priority::P4,
            },
        ]
    );
}

#[test]
fn the_first_mention_that_is_not_the_bot_is_the_assignee() {
    let text = "<@111> can you look at the Outlook issue for <@!222> today?";
    let d = draft(text);
    assert_eq!(d.assignee, Some(111));
    assert_eq!(d.title, "Can you look at the Outlook issue for today?");
    assert!(d.reasons.contains(&Reason::Mention { user: 111 }));
    let d = understand_for_bot(text, Some(111), &routing(), &rome(), now());
    assert_eq!(d.assignee, Some(222));
    assert_eq!(d.due, Some(local("2026-11-27T18:00")));
    assert_eq!(draft("<@&333> printer jam @everyone").assignee, None);
}

#[test]
fn titles_are_short_and_clean() {
    for (text, title) in [
        (
            "URGENT: the VPN is down. Nobody can work",
            "The VPN is down",
        ),
        (
            "Ciao a tutti, la stampante del 2° piano non stampa!",
            "La stampante del 2° piano non stampa",
        ),
        (
            "<@123> Hi all!\nCan someone reset my password please?",
            "Can someone reset my password",
        ),
        (
            "urgente!!! il NAS non risponde\nGrazie",
            "Il NAS non risponde",
        ),
        (
            "Buongiorno ragazzi, serve un nuovo account, grazie",
            "Serve un nuovo account",
        ),
        (
            "Critical update failed on PC-12",
            "Critical update failed on PC-12",
        ),
    ] {
        assert_eq!(draft(text).title, title, "{text}");
    }
    let long = "Il portatile di Marco si spegne da solo ogni volta che apre il gestionale e perde tutto il lavoro non salvato della mattina";
    let t = draft(long).title;
    assert!(t.chars().count() <= TITLE_LIMIT, "{t}");
    assert_eq!(
        t,
        "Il portatile di Marco si spegne da solo ogni volta che apre il gestionale e perde tutto il lavoro…"
    );
}

#[test]
fn end_of_day_after_six_is_tomorrows() {
    let late = local("2026-11-27T18:30");
    let d = understand("serve entro oggi", &routing(), &rome(), late);
    assert_eq!(d.due, Some(local("2026-11-28T18:00")));
}

#[test]
fn dates_in_the_past_are_ignored_and_dates_without_year_roll_over() {
    assert_eq!(draft("the certificate expired on 2026-11-01").due, None);
    assert_eq!(
        draft("rinnovo il 26/11").due,
        Some(local("2027-11-26T18:00"))
    );
    assert_eq!(
        draft("rinnovo il 27/11").due,
        Some(local("2026-11-27T18:00"))
    );
    assert_eq!(draft("since Monday the VPN is slow").due, None);
    assert_eq!(draft("lunedì scorso il NAS si è riavviato").due, None);
}

#[test]
fn due_times_hold_across_the_dst_change() {
    let tz = rome();
    // Friday 23 October 2026, 09:00 summer time; clocks go back on Sunday 25.
    let friday = "2026-10-23T07:00:00Z".parse().unwrap();
    let due = |text| understand(text, &routing(), &tz, friday).due.unwrap();
    assert_eq!(due("next week"), "2026-10-26T08:00:00Z".parse().unwrap()); // 09:00 CET
    assert_eq!(due("domani"), "2026-10-24T16:00:00Z".parse().unwrap()); // 18:00 CEST
    assert_eq!(
        due("entro venerdì"),
        "2026-10-30T17:00:00Z".parse().unwrap()
    ); // 18:00 CET
    // Sunday 28 March 2027, 00:30 winter time; at 02:00 clocks jump to 03:00.
    let night = "2027-03-27T23:30:00Z".parse().unwrap();
    let due = |text| understand(text, &routing(), &tz, night).due.unwrap();
    let two_hours = due("fra 2 ore");
    assert_eq!(two_hours, "2027-03-28T01:30:00Z".parse().unwrap());
    assert_eq!(
        tz.to_datetime(two_hours).time(),
        jiff::civil::time(3, 30, 0, 0)
    );
    assert_eq!(due("oggi"), "2027-03-28T16:00:00Z".parse().unwrap()); // 18:00 CEST
}

#[test]
fn the_draft_serializes_for_the_cli() {
    let d = draft("<@42> VPN down for everyone, entro domani");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["priority"], "P1");
    assert_eq!(json["side"], "auto");
    assert_eq!(json["assignee"], 42);
    assert_eq!(json["due"], "2026-11-28T17:00:00Z");
    assert_eq!(json["reasons"][0]["guess"], "category");
    assert_eq!(json["reasons"][0]["rule"], "keyword");
    assert_eq!(json["reasons"][1]["guess"], "priority_cue");
    assert_eq!(json["reasons"][1]["kind"], "outage");
}

fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{200B}".to_owned()),
        Just("\u{200D}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{2067}".to_owned()),
        Just("\u{FEFF}".to_owned()),
        Just("مرحبا".to_owned()),
        Just("שלום".to_owned()),
        Just("👩‍💻".to_owned()),
        Just("é".to_owned()),
        Just("e\u{301}".to_owned()),
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just(".".to_owned()),
        Just("urgent".to_owned()),
        Just("ciao a tutti".to_owned()),
        Just("<@".to_owned()),
        Just("<@123>".to_owned()),
        Just(">".to_owned()),
        Just("12/3".to_owned()),
        Just("fra 2 ore".to_owned()),
        Just("99999999999999999999999".to_owned()),
        any::<char>().prop_map(String::from),
        "[a-zà-ü]{1,12}",
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(piece, 0..400).prop_map(|p| p.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn understand_never_panics_and_titles_stay_short(text in tricky()) {
        let d = understand_for_bot(&text, Some(123), &routing(), &rome(), now());
        prop_assert!(d.title.chars().count() <= TITLE_LIMIT, "{:?}", d.title);
        let hidden = ['\u{200B}', '\u{202E}'];
        prop_assert!(!d.title.contains(hidden), "{:?}", d.title);
        prop_assert_eq!(&d.details, &text);
        prop_assert!(d.due.is_none_or(|due| due > now()));
        prop_assert_ne!(d.assignee, Some(123));
    }

    #[test]
    fn very_long_texts_are_fine(word in "[a-zA-Zà-ü\u{200B}\u{202E}]{1,30}", n in 100usize..2000) {
        let text = format!("{word} ").repeat(n);
        let d = understand(&text, &routing(), &rome(), now());
        prop_assert!(d.title.chars().count() <= TITLE_LIMIT);
        prop_assert!(d.title.is_empty() || d.title.ends_with('…') || d.title.chars().count() < TITLE_LIMIT);
    }
}
