//! `ponte check-store` reads personal digest subscriptions back (issue 6):
//! a store with valid subscription changes is intact; a change that does not
//! read, or a person's changes with a gap, make it damaged.

use std::process::{Command as Process, Output};

use ponte::domain::{ClientKey, PersonId, Side};
use ponte::i18n::Lang;
use ponte::store::{Mark, SledStore, Store, StoreOptions};

fn ponte(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .env_remove("PONTE_CONFIG")
        .env_remove("PONTE_DATA_DIR")
        .env_remove("DISCORD_TOKEN")
        .output()
        .expect("the ponte binary runs")
}

#[test]
fn check_store_reads_subscriptions_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let at = "2026-11-30T07:00:00Z".parse().unwrap();
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let acme = ClientKey::new("ACME").unwrap();
        let want = Some((Side::Internal, Some(acme), Lang::It));
        ponte::app::personal_digests::set(&store, PersonId(7), want.clone(), at).unwrap();
        ponte::app::personal_digests::set(&store, PersonId(7), None, at).unwrap();
        ponte::app::personal_digests::set(&store, PersonId(8), want, at).unwrap();
        store.flush().unwrap();
    }
    let path = data.to_string_lossy().into_owned();
    let out = ponte(&["check-store", "--data-dir", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let store = SledStore::open(&StoreOptions::new(&data)).unwrap();
        let mark = Mark {
            key: "digest-sub:9:00000002:msp:-:en".into(),
            at,
        };
        store.commit_mark(&mark, &[]).unwrap();
        store.flush().unwrap();
    }
    let out = ponte(&["check-store", "--data-dir", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("person 9"), "{stderr}");
}
