//! Real peers on loopback for alert tests: an HTTP webhook receiver (axum on
//! port 0) and a minimal SMTP server that stores what it is sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the webhook answers the next request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// This status with a 5 MB body (a receiver that talks too much).
    Loud(u16),
    /// Never answers (longer than any client timeout in the tests).
    Hang,
}

#[derive(Default)]
struct HookState {
    script: VecDeque<Answer>,
    requests: Vec<serde_json::Value>,
    accepted: Vec<serde_json::Value>,
}

#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    state: Arc<Mutex<HookState>>,
}

impl Webhook {
    /// Answers from `script` in turn, then 200.
    pub async fn start(script: &[Answer]) -> Webhook {
        let state = Arc::new(Mutex::new(HookState {
            script: script.iter().copied().collect(),
            ..Default::default()
        }));
        let app = axum::Router::new()
            .route("/webhookb2/{token}", axum::routing::post(hook))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/webhookb2/secret-token",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Webhook { url, state }
    }

    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    pub fn accepted(&self) -> Vec<serde_json::Value> {
        self.state.lock().unwrap().accepted.clone()
    }
}

async fn hook(
    State(state): State<Arc<Mutex<HookState>>>,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, String) {
    let answer = {
        let mut s = state.lock().unwrap();
        s.requests.push(body.clone());
        let answer = s.script.pop_front().unwrap_or(Answer::Status(200));
        if let Answer::Status(200) = answer {
            s.accepted.push(body);
        }
        answer
    };
    match answer {
        Answer::Status(code) => (StatusCode::from_u16(code).unwrap(), String::new()),
        Answer::Loud(code) => (
            StatusCode::from_u16(code).unwrap(),
            "slow down ".repeat(500_000),
        ),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (StatusCode::OK, String::new())
        }
    }
}

/// A message the SMTP server received.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
pub struct Smtp {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Smtp {
    pub async fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(socket, store).await;
                });
            }
        });
        Smtp { url, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 receiver.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-receiver.test\r\n250 8BITMIME\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 receiver.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(&line);
            }
            store.lock().unwrap().push(Mail {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}
