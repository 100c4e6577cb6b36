//! The gateway: a v10 JSON websocket on `ws://127.0.0.1:PORT`.
//!
//! HELLO → IDENTIFY → READY + GUILD_CREATE per guild; heartbeats are acknowledged;
//! RESUME replays the dispatches after the client's last sequence number and ends
//! with RESUMED. Dispatches are kept per session (not per connection), so whatever
//! happens while the bot is disconnected is replayed when it resumes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as AxumState;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Shared;
use super::state::{Conn, INTENT_GUILDS, INTENT_MESSAGE_CONTENT, Out, Session};

pub(crate) async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| connection(shared, socket))
}

async fn connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let (conn_id, interval) = {
        let mut st = shared.lock();
        st.stats.connections += 1;
        (st.next_id(), st.opts.heartbeat_interval)
    };
    shared.notify();
    let hello = json!({"op": 10, "s": null, "t": null,
        "d": {"heartbeat_interval": interval.as_millis() as u64, "_trace": ["ponte-emulator"]}});
    if socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut identified = false;
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    let result = on_frame(&shared, text.as_str(), conn_id, &tx, &mut identified);
                    shared.notify();
                    if let Err((code, reason)) = result {
                        close(&mut socket, code, reason).await;
                        break;
                    }
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    close(&mut socket, 4002, "Error while decoding payload.".into()).await;
                    break;
                }
                Some(Ok(WsMessage::Close(_))) => {
                    // Let tungstenite flush its reply to the close frame: serenity waits for it.
                    drain(&mut socket).await;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            out = rx.recv() => match out {
                Some(Out::Text(text)) => {
                    if socket.send(WsMessage::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                // Dropping the socket closes the TCP connection without a close frame.
                Some(Out::Abort) | None => break,
            },
            _ = shutdown.changed() => break,
        }
    }
    drop(socket);
    let mut st = shared.lock();
    for session in &mut st.sessions {
        if session.conn.as_ref().is_some_and(|c| c.id == conn_id) {
            session.conn = None;
        }
    }
    drop(st);
    shared.notify();
}

async fn close(socket: &mut WebSocket, code: u16, reason: String) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
    drain(socket).await;
}

/// Reads until the peer's side of the close handshake is done (at most 1 s).
async fn drain(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

type CloseReason = (u16, String);

fn on_frame(
    shared: &Shared,
    text: &str,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Out>,
    identified: &mut bool,
) -> Result<(), CloseReason> {
    let frame: Value = serde_json::from_str(text)
        .map_err(|_| (4002, "Error while decoding payload.".to_string()))?;
    let op = frame["op"]
        .as_u64()
        .ok_or((4002, "Error while decoding payload.".to_string()))?;
    let d = &frame["d"];
    let mut st = shared.lock();
    match op {
        1 => {
            st.stats.heartbeats += 1;
            let _ = tx.send(Out::Text(
                json!({"op": 11, "s": null, "t": null, "d": null}).to_string(),
            ));
            Ok(())
        }
        2 => {
            if *identified {
                return Err((4005, "Already authenticated.".into()));
            }
            let token = d["token"].as_str().unwrap_or("");
            if token.strip_prefix("Bot ").unwrap_or(token) != st.token {
                return Err((4004, "Authentication failed.".into()));
            }
            let intents = d["intents"]
                .as_u64()
                .ok_or((4002, "Error while decoding payload.".to_string()))?;
            if intents & INTENT_MESSAGE_CONTENT != 0 && !st.opts.message_content_granted {
                return Err((4014, "Disallowed intent(s).".into()));
            }
            let shard = match d["shard"].as_array().map(Vec::as_slice) {
                Some([id, total]) => (id.as_u64().unwrap_or(0), total.as_u64().unwrap_or(1)),
                _ => (0, 1),
            };
            if shard.1 == 0 || shard.0 >= shard.1 {
                return Err((4010, "Invalid shard.".into()));
            }
            let session_id = st.random_hex(16);
            st.sessions.push(Session {
                id: session_id.clone(),
                intents,
                shard,
                seq: 0,
                log: Default::default(),
                conn: Some(Conn {
                    id: conn_id,
                    tx: tx.clone(),
                }),
            });
            let index = st.sessions.len() - 1;
            let ready = st.ready_json(&session_id, shard);
            st.dispatch_to(index, "READY", &ready);
            if intents & INTENT_GUILDS != 0 {
                let guilds: Vec<u64> = st.guilds.keys().copied().collect();
                for g in guilds {
                    let d = st.guild_create_json(g, intents);
                    st.dispatch_to(index, "GUILD_CREATE", &d);
                }
            }
            st.stats.identifies += 1;
            *identified = true;
            Ok(())
        }
        6 => {
            let token = d["token"].as_str().unwrap_or("");
            if token.strip_prefix("Bot ").unwrap_or(token) != st.token {
                return Err((4004, "Authentication failed.".into()));
            }
            let session_id = d["session_id"].as_str().unwrap_or("");
            let seq = d["seq"].as_u64().unwrap_or(0);
            let Some(index) = st.sessions.iter().position(|s| s.id == session_id) else {
                st.stats.failed_resumes += 1;
                let _ = tx.send(Out::Text(invalid_session(false)));
                return Ok(());
            };
            let session = &mut st.sessions[index];
            if seq > session.seq {
                return Err((4007, "Invalid seq.".into()));
            }
            let oldest = session.log.front().map_or(session.seq + 1, |(s, _)| *s);
            if oldest > seq + 1 {
                st.stats.failed_resumes += 1;
                let _ = tx.send(Out::Text(invalid_session(false)));
                return Ok(());
            }
            if let Some(old) = session.conn.take() {
                let _ = old.tx.send(Out::Abort);
            }
            for (s, text) in &session.log {
                if *s > seq {
                    let _ = tx.send(Out::Text(text.clone()));
                }
            }
            session.conn = Some(Conn {
                id: conn_id,
                tx: tx.clone(),
            });
            st.dispatch_to(index, "RESUMED", &json!({"_trace": ["ponte-emulator"]}));
            st.stats.resumes += 1;
            *identified = true;
            Ok(())
        }
        3 | 4 | 8 | 31 if *identified => Ok(()),
        3 | 4 | 8 | 31 => Err((4003, "Not authenticated.".into())),
        _ => Err((4001, "Unknown opcode.".into())),
    }
}

pub(crate) fn invalid_session(resumable: bool) -> String {
    json!({"op": 9, "s": null, "t": null, "d": resumable}).to_string()
}

pub(crate) fn reconnect() -> String {
    json!({"op": 7, "s": null, "t": null, "d": null}).to_string()
}
