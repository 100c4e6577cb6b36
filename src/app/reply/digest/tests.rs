//! Snapshots of digests for a realistic morning (see
//! `domain::digest::tests`): one client, the MSP lead across clients, an
//! empty day, and a long day that splits into several messages.

use super::*;
use crate::domain::Side;
use crate::domain::digest::LeadDigest;
use crate::domain::digest::tests::{acme_tasks, beta_tasks, digest_of, local, now};
use crate::i18n::{Lang, Messages};

fn renderer(messages: &Messages, lang: Lang) -> Renderer<'_> {
    Renderer { messages, lang }
}

fn joined(messages: &[String]) -> String {
    messages.join("\n---- next message ----\n")
}

#[test]
fn one_clients_digest_for_each_side() {
    let m = Messages::load().unwrap();
    let tasks = acme_tasks();
    let msp = renderer(&m, Lang::En).digest(
        &digest_of("ACME", Side::Msp, &tasks),
        "Acme Manufacturing",
        None,
    );
    insta::assert_snapshot!(joined(&msp), @"
    **Digest for Acme Manufacturing: the MSP** · <t:1796110200:f>
    **New since the last digest (3)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    • `ACME-8` P3 Projector in room B flickers · new · 18h 45m
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    **Open, your move (3)**
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    • `ACME-3` P2 VPN drops every hour in Milan · claimed · 4d 22h · <@5> · “Probably the ISP again; do not tell them yet”
    • `ACME-8` P3 Projector in room B flickers · new · 18h 45m
    **Open, waiting on internal IT (1)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    **Open, waiting on the requester (1)**
    • `ACME-5` P3 Outlook asks for the password every morning · waiting on the requester · 3d 23h · <@5>
    **SLA breached (2)**
    • `ACME-3` P2 VPN drops every hour in Milan · resolution 300% · target <t:1795768200:f>
    • `ACME-8` P3 Projector in room B flickers · first response 106% · target <t:1796057100:f>
    **Escalations acknowledged (1)**
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    **Approvals waiting (1)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    **Waiting on you**
    not assigned yet: `ACME-8`
    <@5>: `ACME-3`, `ACME-9`
    ");
    let internal = renderer(&m, Lang::It).digest(
        &digest_of("ACME", Side::Internal, &tasks),
        "Acme Manufacturing",
        None,
    );
    insta::assert_snapshot!(joined(&internal), @"
    **Riepilogo di Acme Manufacturing: IT interno** · <t:1796110200:f>
    **Nuove dall'ultimo riepilogo (4)**
    • `ACME-6` P3 New laptop for Giulia in accounting · preso in carico · 23h 15m · <@3> · «Budget approved by the CFO; order the 14-inch model»
    • `ACME-7` P2 Backup of the file server failed · in attesa dell'altra parte · 21h 30m · <@5>
    • `ACME-8` P3 Projector in room B flickers · nuovo · 18h 45m
    • `ACME-9` P1 Website down · preso in carico · 1h 40m · <@5>
    **Chiuse dall'ultimo riepilogo (1)**
    • `ACME-4` P4 Wi-Fi password for the guest network · risolto · 2g 23h · <@3>
    **Aperte, tocca a voi (2)**
    • `ACME-7` P2 Backup of the file server failed · in attesa dell'altra parte · 21h 30m · <@5>
    • `ACME-6` P3 New laptop for Giulia in accounting · preso in carico · 23h 15m · <@3> · «Budget approved by the CFO; order the 14-inch model»
    **Aperte, in attesa dell'altra parte: MSP (3)**
    • `ACME-9` P1 Website down · preso in carico · 1h 40m · <@5>
    • `ACME-3` P2 VPN drops every hour in Milan · preso in carico · 4g 22h · <@5> · «Collecting logs from the firewall»
    • `ACME-8` P3 Projector in room B flickers · nuovo · 18h 45m
    **Aperte, in attesa del richiedente (1)**
    • `ACME-5` P3 Outlook asks for the password every morning · in attesa del richiedente · 3g 23h · <@5>
    **SLA a rischio (1)**
    • `ACME-7` P2 Backup of the file server failed · risoluzione al 75% · scadenza <t:1796117400:f>
    **Escalation prese in carico (1)**
    • `ACME-9` P1 Website down · preso in carico · 1h 40m · <@5>
    **Approvazioni in attesa (1)**
    • `ACME-7` P2 Backup of the file server failed · in attesa dell'altra parte · 21h 30m · <@5>
    **In attesa di voi**
    non ancora assegnate: `ACME-7`
    <@1>: `ACME-5`
    <@3>: `ACME-6`
    ");
    // The other side's internal note is nowhere in either.
    assert!(!msp.concat().contains("Budget"));
    assert!(!internal.concat().contains("ISP again"));
}

#[test]
fn the_msp_leads_digest_covers_every_client() {
    let m = Messages::load().unwrap();
    let mut tasks = acme_tasks();
    tasks.extend(beta_tasks());
    let lead = LeadDigest {
        now: now(),
        clients: vec![
            digest_of("ACME", Side::Msp, &tasks),
            digest_of("BETA", Side::Msp, &tasks),
        ],
    };
    let name = |k: &crate::domain::ClientKey| match k.as_str() {
        "ACME" => "Acme Manufacturing".to_owned(),
        other => other.to_owned(),
    };
    let out = renderer(&m, Lang::En).lead_digest(&lead, name, None);
    insta::assert_snapshot!(joined(&out), @"
    **MSP digest, 2 clients** · <t:1796110200:f>
    __**Acme Manufacturing**__: 5 open, 2 SLA breached
    **New since the last digest (3)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    • `ACME-8` P3 Projector in room B flickers · new · 18h 45m
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    **Open, your move (3)**
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    • `ACME-3` P2 VPN drops every hour in Milan · claimed · 4d 22h · <@5> · “Probably the ISP again; do not tell them yet”
    • `ACME-8` P3 Projector in room B flickers · new · 18h 45m
    **Open, waiting on internal IT (1)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    **Open, waiting on the requester (1)**
    • `ACME-5` P3 Outlook asks for the password every morning · waiting on the requester · 3d 23h · <@5>
    **SLA breached (2)**
    • `ACME-3` P2 VPN drops every hour in Milan · resolution 300% · target <t:1795768200:f>
    • `ACME-8` P3 Projector in room B flickers · first response 106% · target <t:1796057100:f>
    **Escalations acknowledged (1)**
    • `ACME-9` P1 Website down · claimed · 1h 40m · <@5>
    **Approvals waiting (1)**
    • `ACME-7` P2 Backup of the file server failed · waiting on the other side · 21h 30m · <@5>
    **Waiting on you**
    not assigned yet: `ACME-8`
    <@5>: `ACME-3`, `ACME-9`
    __**BETA**__: 1 open, 0 SLA breached
    **New since the last digest (2)**
    • `BETA-1` P2 Server room too hot · claimed · 16h 30m · <@105>
    • `BETA-2` P3 Restore a deleted folder · resolved · 15h 30m · <@105>
    **Closed since the last digest (1)**
    • `BETA-2` P3 Restore a deleted folder · resolved · 15h 30m · <@105>
    **Open, waiting on internal IT (1)**
    • `BETA-1` P2 Server room too hot · claimed · 16h 30m · <@105>
    **Approvals waiting (1)**
    • `BETA-1` P2 Server room too hot · claimed · 16h 30m · <@105>
    ");
}

#[test]
fn an_empty_day_says_so_and_a_late_digest_says_it_is_late() {
    let m = Messages::load().unwrap();
    let empty = digest_of("ACME", Side::Msp, &[]);
    let out = renderer(&m, Lang::En).digest(
        &empty,
        "Acme Manufacturing",
        Some(local("2026-12-01T08:30")),
    );
    insta::assert_snapshot!(joined(&out), @"
    **Digest for Acme Manufacturing: the MSP** · <t:1796110200:f>
    ⏰ Late: this digest was due <t:1796110200:f>, while Ponte was down.
    Nothing new, nothing open.
    ");
    let out = renderer(&m, Lang::It).digest(&empty, "Acme Manufacturing", None);
    insta::assert_snapshot!(joined(&out), @"
    **Riepilogo di Acme Manufacturing: MSP** · <t:1796110200:f>
    Niente di nuovo, niente di aperto.
    ");
}

#[test]
fn a_long_day_splits_between_tasks_within_discords_limit() {
    let m = Messages::load().unwrap();
    let mut digest = digest_of("ACME", Side::Msp, &acme_tasks());
    // Sixty more tasks of the MSP with long titles.
    let template = digest.open[0].1[0].clone();
    for n in 100..160u64 {
        let mut line = template.clone();
        line.id = crate::domain::TaskId::new(template.id.client().clone(), n);
        line.title = format!(
            "Replace the access point in meeting room {n} on the third floor of the east wing"
        );
        digest.open[0].1.push(line);
    }
    let out = renderer(&m, Lang::En).digest(&digest, "Acme Manufacturing", None);
    assert!(out.len() >= 3, "{} messages", out.len());
    for message in &out {
        assert!(message.chars().count() <= limits::CONTENT);
        // Every message ends with a whole line: a task line is never cut.
        for line in message.lines() {
            if line.starts_with("• `ACME-1") {
                assert!(line.contains("third floor of the east wing"), "{line}");
            }
        }
    }
    // Every task appears exactly once, across the messages.
    let all = out.concat();
    for n in 100..160 {
        assert_eq!(all.matches(&format!("`ACME-{n}`")).count(), 1, "ACME-{n}");
    }
    let heads: Vec<&str> = out.iter().map(|m| m.lines().next().unwrap_or("")).collect();
    insta::assert_snapshot!(heads.join("\n"), @"
    **Digest for Acme Manufacturing: the MSP** · <t:1796110200:f>
    • `ACME-111` P1 Replace the access point in meeting room 111 on the third floor of the east wing · claimed · 1h 40m · <@5>
    • `ACME-127` P1 Replace the access point in meeting room 127 on the third floor of the east wing · claimed · 1h 40m · <@5>
    • `ACME-143` P1 Replace the access point in meeting room 143 on the third floor of the east wing · claimed · 1h 40m · <@5>
    • `ACME-159` P1 Replace the access point in meeting room 159 on the third floor of the east wing · claimed · 1h 40m · <@5>
    ");
}
