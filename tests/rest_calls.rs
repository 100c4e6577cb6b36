//! Fewer calls (issue 17): what the gateway already told costs no REST
//! read. Messages people write in channels and threads, and Ponte's own
//! card edits, are matched to tasks from the gateway's channel and thread
//! events, with no GET of the channel or the message each time.

use ponte::sandbox::runner::Sandbox;
use ponte::sandbox::script::parse_script;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_and_card_edits_cost_no_rest_reads() {
    let start = "2026-11-27T09:00:00Z".parse().unwrap();
    let mut sandbox = Sandbox::start(None, start).await.unwrap();
    let script = r#"
as alice
/request title:"VPN down at the Leeds depot"
say "anyone else seeing slow wifi?"
say "never mind, it is back"
in thread BRIGHT-1
say "it drops every five minutes"
as mike
click Claim on BRIGHT-1
in thread BRIGHT-1
say "looking at it now"
"#;
    for line in parse_script(script).unwrap() {
        sandbox.step(&line.step).await.unwrap();
    }
    sandbox.settle().await.unwrap();
    let reads: Vec<String> = sandbox
        .emulator
        .exchanges()
        .iter()
        .filter(|e| e.method == "GET")
        .filter(|e| {
            matches!(
                e.route.as_deref(),
                Some("/channels/{channel_id}" | "/channels/{channel_id}/messages/{message_id}")
            )
        })
        .map(|e| e.path.clone())
        .collect();
    // At most the server of the card's channel, read once for the bridge.
    assert!(
        reads.len() <= 2,
        "REST reads of what the gateway told: {reads:?}"
    );
    sandbox.stop().await;
}
