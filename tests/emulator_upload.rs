//! File uploads through the emulator (issue 6's digest chart): serenity's
//! multipart message creation is accepted when its files and the payload's
//! `attachments` agree, refused (and recorded as a violation) otherwise,
//! and the uploaded bytes can be read back.

use ponte::emulator::{Emulator, GuildSpec, World};
use serde_json::json;
use serenity::all::{ChannelId, CreateAttachment};

const GUILD: u64 = 700_000_000_000_000_001;
const REQUESTS: u64 = 700_000_000_000_000_010;
const ALICE: u64 = 710_000_000_000_000_001;

fn world() -> World {
    World::new().user(ALICE, "alice", "it").guild(
        GuildSpec::new(GUILD, "Acme")
            .text_channel(REQUESTS, "requests")
            .member(ALICE, &[]),
    )
}

fn png() -> Vec<u8> {
    let data = ponte::domain::chart::ChartData::empty(
        &jiff::tz::TimeZone::UTC,
        "2026-12-01T08:30:00Z".parse().unwrap(),
    );
    ponte::app::chart::render_png(&data).unwrap()
}

fn status(err: &serenity::Error) -> u16 {
    match err {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            r.status_code.as_u16()
        }
        other => panic!("not an HTTP refusal: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_png_upload_is_kept_and_wrong_uploads_are_refused() {
    let emu = Emulator::start(world()).await.unwrap();
    let http = emu.http();
    let channel = ChannelId::new(REQUESTS);
    let png = png();
    let body = json!({
        "content": "the chart",
        "allowed_mentions": {"parse": []},
        "attachments": [{"id": 0, "filename": "chart.png"}],
    });
    let sent = http
        .send_message(
            channel,
            vec![CreateAttachment::bytes(png.clone(), "chart.png")],
            &body,
        )
        .await
        .expect("a PNG referred to by its attachment is accepted");
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
    assert_eq!(sent.attachments.len(), 1);
    let attachment = &sent.attachments[0];
    assert_eq!(attachment.filename, "chart.png");
    assert_eq!(attachment.size as usize, png.len());
    assert_eq!(attachment.content_type.as_deref(), Some("image/png"));
    assert_eq!(emu.attachment_bytes(attachment.id.get()), Some(png.clone()));

    // Bytes that are not a PNG, sent as image/png (serenity guesses the type
    // from the name).
    let err = http
        .send_message(
            channel,
            vec![CreateAttachment::bytes(
                b"not a picture".to_vec(),
                "chart.png",
            )],
            &body,
        )
        .await
        .unwrap_err();
    assert_eq!(status(&err), 400);
    let v = emu.take_violations();
    assert_eq!(v.len(), 1);
    assert!(
        v[0].reason.contains("CONTENT_TYPE_MISMATCH") || v[0].reason.contains("PNG"),
        "{}",
        v[0]
    );

    // A file the payload does not refer to.
    let unreferred = json!({"content": "x", "allowed_mentions": {"parse": []}});
    let err = http
        .send_message(
            channel,
            vec![CreateAttachment::bytes(png.clone(), "chart.png")],
            &unreferred,
        )
        .await
        .unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(emu.take_violations().len(), 1);

    // An attachment whose file was not uploaded.
    let err = http
        .send_message(channel, Vec::new(), &body)
        .await
        .unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(emu.take_violations().len(), 1);
    // Nothing refused was posted.
    assert_eq!(emu.messages(REQUESTS).len(), 1);
}
