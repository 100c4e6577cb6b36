//! The health port under abuse (issue 18): half-sent requests cannot hold
//! it, a foreign Host is refused on a loopback bind, and `POST /backup`
//! needs the secret, a new absolute directory outside the data directory,
//! runs one at a time and writes files only the bot's user can read.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ponte::ops::health::{self, MAX_CONNECTIONS, Options, Probe};
use ponte::store::{SledStore, Store, StoreOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const SECRET: &str = "a-backup-secret-for-this-test";

/// A bot's store; its backups can be held up until released.
struct Bot {
    store: Arc<SledStore>,
    hold: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    started: Arc<AtomicBool>,
}

impl Probe for Bot {
    fn gateway_connected(&self) -> bool {
        true
    }
    fn store_writable(&self) -> Result<(), String> {
        self.store.probe_write().map_err(|e| e.to_string())
    }
    fn outbox_depth(&self) -> Result<u64, String> {
        Ok(0)
    }
    fn backup(&self, dir: &Path) -> Result<String, String> {
        self.started.store(true, Ordering::SeqCst);
        let hold = self.hold.lock().unwrap().take();
        if let Some(hold) = hold {
            let _ = hold.recv();
        }
        let r = self.store.backup_to(dir).map_err(|e| e.to_string())?;
        Ok(format!("backed up {} tasks\n", r.tasks))
    }
}

struct Server {
    addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    data: PathBuf,
    _dir: tempfile::TempDir,
    outside: tempfile::TempDir,
    hold: Option<std::sync::mpsc::Sender<()>>,
    started: Arc<AtomicBool>,
}

async fn serve(secret: Option<&str>, hold: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Arc::new(SledStore::open(&StoreOptions::new(&data)).unwrap());
    let (release, held) = std::sync::mpsc::channel();
    let started = Arc::new(AtomicBool::new(false));
    let bot = Bot {
        store,
        hold: Mutex::new(hold.then_some(held)),
        started: started.clone(),
    };
    let listener = health::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(health::serve(
        listener,
        Arc::new(bot),
        ponte::ops::metrics::global(),
        Options {
            backup_secret: secret.map(str::to_owned),
        },
        stopped,
    ));
    Server {
        addr,
        stop,
        data,
        _dir: dir,
        outside: tempfile::tempdir().unwrap(),
        hold: hold.then_some(release),
        started,
    }
}

async fn backup(server: &Server, secret: Option<&str>, dir: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/backup", server.addr))
        .timeout(Duration::from_secs(120))
        .json(&serde_json::json!({ "dir": dir }));
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_needs_the_secret_and_a_new_absolute_directory_outside_the_data() {
    // A bot started with no secret makes no backups through the port.
    let off = serve(None, false).await;
    let target = off.outside.path().join("copy");
    let (status, text) = backup(&off, Some(SECRET), target.to_str().unwrap()).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("PONTE_BACKUP_SECRET"), "{text}");
    assert!(!target.exists());

    let server = serve(Some(SECRET), false).await;
    let outside = server.outside.path();
    let target = outside.join("copy");
    for secret in [None, Some("wrong"), Some("a-backup-secret-for-this-tesT")] {
        let (status, text) = backup(&server, secret, target.to_str().unwrap()).await;
        assert_eq!(status, 401, "{secret:?}: {text}");
    }
    assert!(!target.exists());

    // Targets the store refuses, each with its reason.
    std::fs::create_dir(outside.join("exists")).unwrap();
    let inside = server.data.join("copy");
    let dotdot = format!("{}/../escape", outside.join("exists").display());
    for (dir, reason) in [
        ("relative/copy", "not an absolute path"),
        (dotdot.as_str(), "contains `..`"),
        (outside.join("exists").to_str().unwrap(), "already exists"),
        (inside.to_str().unwrap(), "inside the data directory"),
        ("/nonexistent-folder/copy", "create it first"),
    ] {
        let (status, text) = backup(&server, Some(SECRET), dir).await;
        assert_ne!(status, 200, "{dir}");
        assert!(text.contains(reason), "{dir}: {text}");
    }
    assert!(!inside.exists() && !outside.join("escape").exists());

    // A good one: files 0600, folders 0700, a store check-store accepts.
    let (status, text) = backup(&server, Some(SECRET), target.to_str().unwrap()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(mode(&target), 0o700);
    for entry in std::fs::read_dir(&target).unwrap() {
        let path = entry.unwrap().path();
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    let copy = SledStore::open(&StoreOptions::new(&target)).unwrap();
    assert!(copy.check_integrity().unwrap().is_empty());
    server.stop.send(true).unwrap();
    off.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_backup_at_a_time() {
    let mut server = serve(Some(SECRET), true).await;
    let first = server.outside.path().join("first");
    let second = server.outside.path().join("second");
    let running = {
        let (addr, first) = (server.addr, first.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("http://{addr}/backup"))
                .bearer_auth(SECRET)
                .json(&serde_json::json!({ "dir": first }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    // The second is refused while the first is held up.
    for _ in 0..6000 {
        if server.started.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        server.started.load(Ordering::SeqCst),
        "the first backup started"
    );
    let (status, refused) = backup(&server, Some(SECRET), second.to_str().unwrap()).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("already running"), "{refused}");
    drop(server.hold.take());
    assert_eq!(running.await.unwrap(), 200);
    assert!(first.exists() && !second.exists());
    server.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_on_a_loopback_bind() {
    let server = serve(None, false).await;
    let http = reqwest::Client::new();
    for (host, expected) in [
        (format!("localhost:{}", server.addr.port()), 200),
        (server.addr.to_string(), 200),
        ("attacker.example".to_owned(), 421),
        (
            format!("rebind.attacker.example:{}", server.addr.port()),
            421,
        ),
    ] {
        let response = http
            .get(format!("http://{}/healthz", server.addr))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "Host: {host}");
    }
    server.stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_cannot_hold_the_port() {
    let server = serve(None, false).await;
    // Twice the connection limit, each sending half a request and waiting.
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS * 2 {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHo")
            .await
            .unwrap();
        idle.push(stream);
    }
    // The server times each out (READ_TIMEOUT) and serves the next ones,
    // so /healthz answers soon after, and every idle connection is closed.
    let response = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.addr))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("/healthz answers despite the idle connections");
    assert_eq!(response.status().as_u16(), 200);
    for mut stream in idle {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(read.is_ok(), "an idle connection was never closed");
    }
    server.stop.send(true).unwrap();
}
