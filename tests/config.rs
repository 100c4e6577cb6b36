//! The configuration as an operator meets it: the example file, and the
//! answers `ponte check-config` gives for common mistakes.

use std::path::Path;

use ponte::config::{Config, ConfigErrors, Lang};
use ponte::domain::{ApprovalWhy, Category, ClientKey, RouteInput, RouteReason, Side, SideChoice};

const EXAMPLE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/ponte.example.toml");
const EXAMPLE: &str = include_str!("../config/ponte.example.toml");

/// The example with each `from` replaced by its `to`; each `from` must be in
/// the example exactly once.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = EXAMPLE.to_owned();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` should be in the text once"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

fn errors(text: &str) -> ConfigErrors {
    match Config::from_toml_str(text, "ponte.toml") {
        Ok(_) => panic!("the configuration should be refused"),
        Err(e) => e,
    }
}

fn example() -> Config {
    Config::from_toml_str(EXAMPLE, "ponte.example.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The 1-based line of the first `needle` at or after the first `after`.
fn line_of(text: &str, after: &str, needle: &str) -> usize {
    let start = text.find(after).expect("`after` in text");
    let at = start + text[start..].find(needle).expect("needle in text");
    text[..at].matches('\n').count() + 1
}

fn key(k: &str) -> ClientKey {
    ClientKey::new(k).unwrap()
}

fn cat(name: &str) -> Category {
    Category::new(name).unwrap()
}

#[test]
fn the_example_loads_and_reads_as_documented() {
    let config = Config::load(Path::new(EXAMPLE_PATH)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.msp().name, "Nordhaven IT Services");
    assert_eq!(config.categories().len(), 10);
    let acme = config.client(&key("ACME")).unwrap();
    assert_eq!(acme.name, "Acme Manufacturing");
    assert_eq!(acme.language, Lang::It);
    assert_eq!(acme.time_zone.iana_name(), Some("Europe/Rome"));
    let bright = config.client_by_guild(1198991878389891072).unwrap();
    assert_eq!(bright.key, key("BRIGHT"));
    assert_eq!(bright.time_zone.iana_name(), Some("Europe/London"));
    assert!(
        config.client_by_guild(1085128205926531072).is_none(),
        "the MSP's server is no client"
    );
    assert!(config.client(&key("NOPE")).is_none());
    // data_dir is relative to the configuration file's folder.
    let summary = config
        .summary()
        .replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
    insta::assert_snapshot!(summary, @"
    MSP: Nordhaven IT Services (language en)
      own server 1085128205926531072
      queue channel 1085128210276024321, engineer role 1085128214625517570, lead role 1085128218975010819
      lead's digest: 08:00 on Mon, Tue, Wed, Thu, Fri (Europe/Berlin), to channel 1085128210276024321
    Data: <repo>/config/ponte-data (cache 16 MB); default language en
    Routing: the first category with a keyword in the request wins; * marks a client's override.
    The MSP needs the IT manager's approval on categories marked yes and on those internal IT owns.

    Client ACME: Acme Manufacturing
      server 1148173150060675072, language it, time zone Europe/Rome
      business hours: Mon 08:30-12:30, 14:00-18:00; Tue 08:30-12:30, 14:00-18:00; Wed 08:30-12:30, 14:00-18:00; Thu 08:30-12:30, 14:00-18:00; Fri 08:30-12:30, 14:00-17:00
      holidays: 2026-12-08, 2026-12-25, 2026-12-26, 2027-01-01, 2027-01-06
      SLA (first response/resolution): P1 30m/4h 24/7, P2 1h/8h, P3 4h/24h, P4 8h/40h; warning at 75%
      digest: 08:30 on working days; internal in 1148173175536877570, msp in 1085128223324504068
      channels: requests 1148173162798776321, internal IT 1148173175536877570, MSP 1085128223324504068
      roles: IT manager 1148173188274978819, IT technician 1148173201013080068, MSP engineer -, MSP lead -
      when no keyword matches: internal, P3
      routing:
        category      owner      priority  approval  keywords
        security      internal   P2        -         security, sicurezza, phishing, malware, virus,
                                                     antivirus, ransomware, hacked, breach, violazione,
                                                     suspicious, sospetto, sospetta, cryptolocker
        network       internal*  P2        -         network, rete, vpn, wifi, wi-fi, internet,
                                                     firewall, router, switch, connection, connessione
        backup        msp        P2        yes*      backup, restore, ripristino, ripristinare, recover,
                                                     recupero, deleted file, file cancellato,
                                                     file cancellati, snapshot
        servers       msp        P2        yes       server, nas, virtual machine, macchina virtuale,
                                                     vm, domain controller, storage
        cloud-email   msp        P3        -         email, e-mail, mail, posta, mailbox, casella,
                                                     outlook, microsoft 365, office 365, sharepoint,
                                                     onedrive, calendar, calendario
        accounts      internal   P3        -         account, password, login, accesso, credenziali,
                                                     mfa, 2fa, new user, nuovo utente, locked out,
                                                     utente bloccato, permission, permessi
        workstations  internal   P3        -         laptop, portatile, portatili, pc, computer,
                                                     desktop, workstation, notebook, monitor, keyboard,
                                                     tastiera, mouse
        printers      msp*       P4        -         printer, stampante, stampanti, print, stampa,
                                                     scanner, toner, stampare, scan, scansione
        software      internal   P4        -         software, install, installare, installazione,
                                                     license, licenza, licenze, update, aggiornamento,
                                                     application, applicazione, app
        phones        msp        P3        -         phone, telefono, telefoni, voip, centralino,
                                                     switchboard, interno telefonico, meeting room,
                                                     sala riunioni, projector, proiettore,
                                                     videoconference, videoconferenza
      monitoring:
        alerts `prometheus`: POST /clients/ACME/alerts/prometheus
          alertmanager format, bearer auth with the secret in PONTE_ACME_PROMETHEUS_SECRET, to msp
          at most 600 requests a minute; more than 5 new alerts of a group a minute fold into one task
        heartbeat `erp-sync`: POST /clients/ACME/heartbeat/erp-sync
          bearer auth with the secret in PONTE_ACME_ERP_SYNC_SECRET; every 24h with 1h of grace
          a missed beat opens a P1 task, to msp

    Client BRIGHT: Brightline Logistics
      server 1198991878389891072, language en, time zone Europe/London
      business hours: Mon 09:00-18:00; Tue 09:00-18:00; Wed 09:00-18:00; Thu 09:00-18:00; Fri 09:00-18:00
      SLA (first response/resolution): P1 30m/4h 24/7, P2 2h/8h, P3 4h/24h, P4 8h/40h; warning at 75%
      digest: 08:30 on working days; internal in 1198991895477485570, msp in 1198991904021282819
      channels: requests 1198991886933688321, internal IT 1198991895477485570, MSP 1198991904021282819
      roles: IT manager 1198991912565080068, IT technician 1198991921108877317, MSP engineer 1198991929652674566, MSP lead -
      when no keyword matches: internal, P3
      routing:
        category      owner      priority  approval  keywords
        security      internal   P2        -         security, sicurezza, phishing, malware, virus,
                                                     antivirus, ransomware, hacked, breach, violazione,
                                                     suspicious, sospetto, sospetta, cryptolocker
        network       msp        P2        -         network, rete, vpn, wifi, wi-fi, internet,
                                                     firewall, router, switch, connection, connessione
        backup        msp        P2        -         backup, restore, ripristino, ripristinare, recover,
                                                     recupero, deleted file, file cancellato,
                                                     file cancellati, snapshot
        servers       msp        P2        yes       server, nas, virtual machine, macchina virtuale,
                                                     vm, domain controller, storage
        cloud-email   msp        P3        -         email, e-mail, mail, posta, mailbox, casella,
                                                     outlook, microsoft 365, office 365, sharepoint,
                                                     onedrive, calendar, calendario
        accounts      msp*       P3        yes*      account, password, login, accesso, credenziali,
                                                     mfa, 2fa, new user, nuovo utente, locked out,
                                                     utente bloccato, permission, permessi
        workstations  msp*       P3        -         laptop, portatile, portatili, pc, computer,
                                                     desktop, workstation, notebook, monitor, keyboard,
                                                     tastiera, mouse
        printers      internal   P4        -         printer, stampante, stampanti, print, stampa,
                                                     scanner, toner, stampare, scan, scansione
        software      internal   P4        -         software, install, installare, installazione,
                                                     license, licenza, licenze, update, aggiornamento,
                                                     application, applicazione, app
        phones        msp        P3        -         phone, telefono, telefoni, voip, centralino,
                                                     switchboard, interno telefonico, meeting room,
                                                     sala riunioni, projector, proiettore,
                                                     videoconference, videoconferenza

    On call:
      schedule `msp-primary` (msp): first shift 2026-11-02 09:00 local time (Europe/Rome), shifts of 1w, members 9021, 9022
      schedule `msp-secondary` (msp): first shift 2026-11-02 09:00 local time (Europe/Rome), shifts of 1w, members 9022, 9021
      escalation P1 for every client, at any hour:
        after 0 min: on call in `msp-primary`
        after 10 min: on call in `msp-secondary`
        after 30 min: role 1085128218975010819
      escalation P2 for every client, from the next business opening:
        after 0 min: on call in `msp-primary`
        after 30 min: on call in `msp-secondary`
      /task escalate: at most 2 per task, 15 min apart

    Inbound: off ([inbound] is not set): the integrations and heartbeat monitors above receive nothing
    ");
}

#[test]
fn a_typo_in_a_key_names_the_client_the_field_and_the_line() {
    let text = edited(&[(
        "guild_id = 1148173150060675072",
        "gild_id = 1148173150060675072",
    )]);
    let err = errors(&text);
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].path, "clients[0].gild_id");
    assert_eq!(
        err.problems[0].line,
        Some(line_of(&text, "[[clients]]", "gild_id"))
    );
    insta::assert_snapshot!(err, @"ponte.toml:179: clients[0].gild_id: unknown field `gild_id`: did you mean `guild_id`?");
}

#[test]
fn typos_in_several_clients_are_all_reported() {
    let text = edited(&[
        (
            "it_technician = 1148173201013080068",
            "it_tecnician = 1148173201013080068",
        ),
        (
            "time_zone = \"Europe/London\"",
            "timezone = \"Europe/London\"",
        ),
        ("needs_approval = true", "needs_aproval = true"),
    ]);
    insta::assert_snapshot!(errors(&text), @"
    ponte.toml:106: categories[3].needs_aproval: unknown field `needs_aproval`: did you mean `needs_approval`?
    ponte.toml:199: clients[0].roles.it_tecnician: unknown field `it_tecnician`: did you mean `it_technician`?
    ponte.toml:283: clients[1].timezone: unknown field `timezone`: did you mean `time_zone`?
    ");
}

#[test]
fn a_missing_guild_id_names_the_client_and_its_table() {
    let text = edited(&[("guild_id = 1198991878389891072\n", "")]);
    let err = errors(&text);
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].path, "clients[1].guild_id");
    assert_eq!(
        err.problems[0].line,
        Some(line_of(&text, "name = \"Brightline Logistics\"", "") - 1),
        "the line of the client's [[clients]] header"
    );
    insta::assert_snapshot!(err, @"ponte.toml:279: clients[1].guild_id: missing: the id of the company's Discord server");
}

#[test]
fn a_client_name_used_twice_is_refused_ignoring_case() {
    let text = edited(&[(
        "name = \"Brightline Logistics\"",
        "name = \"ACME manufacturing\"",
    )]);
    let err = errors(&text);
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].path, "clients[1].name");
    insta::assert_snapshot!(err, @"ponte.toml:280: clients[1].name: `ACME manufacturing` is already the name at clients[0].name (line 171): client names must differ, ignoring case");
}

#[test]
fn every_problem_of_meaning_is_reported_at_once() {
    let text = edited(&[
        ("cache_capacity_mb = 16", "cache_capacity_mb = 0"),
        ("name = \"servers\"", "name = \"backup\""),
        (
            "\"app\",\n]\nowner = \"internal\"\npriority = \"P4\"",
            "\"app\",\n]\nowner = \"it\"\npriority = \"P5\"",
        ),
        ("key = \"BRIGHT\"", "key = \"ACME\""),
        ("time_zone = \"Europe/Rome\"", "time_zone = \"Europe/Roma\""),
        ("language = \"it\"", "language = \"fr\""),
        ("guild_id = 1198991878389891072", "guild_id = 0"),
        (
            "requests = 1198991886933688321",
            "requests = 1148173162798776321",
        ),
        (
            "it_owns = [\"network\"]",
            "it_owns = [\"network\", \"netwrok\", \"printers\"]",
        ),
        (
            "keywords = [\n    \"printer\"",
            "keywords = [\n    \"print\"",
        ),
    ]);
    insta::assert_snapshot!(errors(&text), @r#"
    ponte.toml:22: ponte.cache_capacity_mb: 0 is out of range: use 1 to 4096 (megabytes)
    ponte.toml:99: categories[3].name: category `backup` is already defined at categories[2].name (line 90)
    ponte.toml:140: categories[7].keywords[3]: `print` is listed twice
    ponte.toml:152: categories[8].owner: unknown side `it`: use "internal" (the company's IT) or "msp"
    ponte.toml:153: categories[8].priority: `P5` is not a priority; use P1, P2, P3 or P4
    ponte.toml:176: clients[0].language: unknown language `fr`: use "en" (English) or "it" (Italian)
    ponte.toml:178: clients[0].time_zone: unknown time zone `Europe/Roma`: use an IANA name such as "Europe/Rome" or "Europe/London"
    ponte.toml:244: clients[0].territory.it_owns[1]: unknown category `netwrok`; the categories are: security, network, backup, cloud-email, accounts, workstations, printers, software, phones
    ponte.toml:245: clients[0].territory.msp_handles[0]: `printers` is also in clients[0].territory.it_owns[2] (line 244): a category has one owner
    ponte.toml:281: clients[1].key: `ACME` is already the key at clients[0].key (line 175): each client needs its own key
    ponte.toml:284: clients[1].guild_id: 0 is not a Discord id: copy the id in Discord with Developer Mode on (right click, Copy ID)
    ponte.toml:288: clients[1].channels.requests: channel 1148173162798776321 is already clients[0].channels.requests (line 190): each channel serves one purpose
    "#);
}

#[test]
fn a_token_in_the_file_is_refused_with_where_secrets_go() {
    let text = edited(&[(
        "name = \"Nordhaven IT Services\"",
        "name = \"Nordhaven IT Services\"\ntoken = \"MTA4NTEy.secret.value\"",
    )]);
    let err = errors(&text);
    assert_eq!(err.problems[0].path, "msp.token");
    assert!(
        !err.to_string().contains("secret.value"),
        "the secret is not echoed"
    );
    insta::assert_snapshot!(err, @"ponte.toml:33: msp.token: unknown field `token`: secrets never go in the configuration file; remove `token` and set the DISCORD_TOKEN environment variable instead");

    let err = errors(&format!(
        "discord_token = \"MTA4NTEy.secret.value\"\n{EXAMPLE}"
    ));
    insta::assert_snapshot!(err, @"ponte.toml:1: discord_token: unknown field `discord_token`: secrets never go in the configuration file; remove `discord_token` and set the DISCORD_TOKEN environment variable instead");
}

#[test]
fn routing_applies_each_clients_territory() {
    let config = example();
    let acme = config.routing(&key("ACME")).unwrap();
    let bright = config.routing(&key("BRIGHT")).unwrap();
    let ask = |text| RouteInput {
        text,
        ..Default::default()
    };

    // Acme owns its network; elsewhere the MSP does.
    let d = acme
        .route(Side::Internal, &ask("la VPN non funziona"))
        .unwrap();
    assert_eq!(d.side, Side::Internal);
    assert_eq!(
        d.reason,
        RouteReason::Keyword {
            category: cat("network"),
            keyword: "vpn".into(),
            owner: Side::Internal
        }
    );
    assert_eq!(
        bright
            .route(Side::Internal, &ask("the VPN is down"))
            .unwrap()
            .side,
        Side::Msp
    );

    // ... so asking the MSP for it needs the IT manager's approval.
    let to_msp = RouteInput {
        to: SideChoice::To(Side::Msp),
        ..ask("rete lenta")
    };
    assert_eq!(
        acme.route(Side::Internal, &to_msp).unwrap().approval,
        Some(ApprovalWhy::ItTerritory {
            category: cat("network")
        })
    );

    // The MSP handles Acme's printers, not Brightline's.
    assert_eq!(
        acme.route(Side::Internal, &ask("la stampante è inceppata"))
            .unwrap()
            .side,
        Side::Msp
    );
    assert_eq!(
        bright
            .route(Side::Internal, &ask("printer jammed"))
            .unwrap()
            .side,
        Side::Internal
    );

    // Backup needs approval at Acme only.
    let d = acme
        .route(Side::Internal, &ask("ripristino di un file"))
        .unwrap();
    assert_eq!(
        (d.side, d.approval),
        (
            Side::Msp,
            Some(ApprovalWhy::CategoryNeedsApproval {
                category: cat("backup")
            })
        )
    );
    assert_eq!(
        bright
            .route(Side::Internal, &ask("restore a file"))
            .unwrap()
            .approval,
        None
    );

    // Brightline's accounts go to the MSP, with approval.
    let d = bright
        .route(Side::Internal, &ask("new user for the warehouse"))
        .unwrap();
    assert_eq!(d.side, Side::Msp);
    assert_eq!(
        d.approval,
        Some(ApprovalWhy::CategoryNeedsApproval {
            category: cat("accounts")
        })
    );

    // Categories keep their global order and priorities everywhere.
    let names = |r: &ponte::domain::ClientRouting| {
        r.categories
            .iter()
            .map(|c| c.category.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(acme), names(bright));
    assert_eq!(
        names(acme),
        config
            .categories()
            .iter()
            .map(|c| c.category.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn where_the_msp_works_each_client() {
    let config = example();
    // Acme's MSP channel is in the MSP's server; Brightline's in its own.
    assert_eq!(
        config.msp_channel(&key("ACME")).map(|c| c.get()),
        Some(1085128223324504068)
    );
    assert_eq!(
        config.msp_channel(&key("BRIGHT")).map(|c| c.get()),
        Some(1198991904021282819)
    );
    // Without one, the MSP's queue.
    let text = edited(&[("msp = 1085128223324504068\n", "")]);
    let config = Config::from_toml_str(&text, "t").unwrap();
    assert_eq!(
        config.msp_channel(&key("ACME")).map(|c| c.get()),
        Some(1085128210276024321)
    );
}

#[test]
fn a_file_that_cannot_be_read_is_named() {
    let err = Config::load(Path::new("/nonexistent/ponte.toml")).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/ponte.toml: cannot read the file: "),
        "{err}"
    );
}

#[test]
fn a_syntax_error_gives_its_line() {
    let text = edited(&[("key = \"ACME\"", "key = ACME")]);
    let err = errors(&text);
    assert_eq!(err.problems[0].line, Some(line_of(&text, "", "key = ACME")));
    insta::assert_snapshot!(err, @"ponte.toml:175: string values must be quoted, expected literal string");
}

// ---- [ponte].health_addr (issue 8) ----

#[test]
fn health_addr_is_optional_and_checked() {
    // The example sets one, so the Docker image's health check works.
    assert_eq!(
        example().health_addr(),
        Some("127.0.0.1:9464".parse().unwrap())
    );
    let none = edited(&[("health_addr = \"127.0.0.1:9464\"\n", "")]);
    let config = Config::from_toml_str(&none, "ponte.toml").unwrap();
    assert_eq!(config.health_addr(), None);
    for (bad, says) in [
        ("localhost", "is not an address and port"),
        ("127.0.0.1:0", "the port is 0"),
        ("127.0.0.1:99999", "is not an address and port"),
    ] {
        let text = edited(&[(
            "health_addr = \"127.0.0.1:9464\"",
            &format!("health_addr = \"{bad}\""),
        )]);
        let shown = errors(&text).to_string();
        assert!(shown.contains("ponte.health_addr: "), "{shown}");
        assert!(shown.contains(says), "{shown}");
        assert!(shown.contains("ponte.toml:28:"), "{shown}");
    }
}

#[test]
fn data_dir_is_relative_to_the_config_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("etc");
    std::fs::create_dir(&nested).unwrap();
    let path = nested.join("ponte.toml");
    let example = std::fs::read_to_string(EXAMPLE_PATH).unwrap();
    std::fs::write(&path, &example).unwrap();
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.data_dir(), nested.join("ponte-data"));
    // An absolute one stays as it is.
    let text = example.replace("data_dir = \"./ponte-data\"", "data_dir = \"/srv/ponte\"");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.data_dir(), Path::new("/srv/ponte"));
}

#[test]
fn an_endless_or_huge_config_file_is_refused_without_reading_it_all() {
    let errors = Config::load(Path::new("/dev/zero")).expect_err("refused");
    let shown = errors.to_string();
    assert!(shown.contains("larger than 1024 KiB"), "{shown}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    std::fs::write(&path, "#".repeat(2 * 1024 * 1024)).unwrap();
    let shown = Config::load(&path).expect_err("refused").to_string();
    assert!(shown.contains("larger than"), "{shown}");
}

#[test]
fn the_discord_deadline_is_bounded() {
    let example = include_str!("../config/ponte.example.toml");
    let text = example.replacen("[ponte]\n", "[ponte]\ndiscord_timeout_seconds = 0\n", 1);
    let err = ponte::config::Config::from_toml_str(&text, "ponte.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ponte.discord_timeout_seconds: 0 is out of range"),
        "{err}"
    );
    let text = example.replacen("[ponte]\n", "[ponte]\ndiscord_timeout_seconds = 5\n", 1);
    let config = ponte::config::Config::from_toml_str(&text, "ponte.toml").unwrap();
    assert_eq!(config.discord_timeout(), std::time::Duration::from_secs(5));
}
