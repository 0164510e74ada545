//! Notified away from the page (issue 16): a waiting customer who gave a
//! push subscription (or an e-mail address) with `notifyMe` and closed the
//! page is told when an agent is reserved for them. Real server, real
//! WebSockets, real SQLite (or PostgreSQL); the push service and the SMTP
//! relay are listeners of the test itself: the push is decrypted with the
//! keys the test made for its subscription, the mail read as the relay got it.

use crate::common::{Client, TestServer, http};
use crate::journey::{Desk, config};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::{Auth, p256};

const WAIT: Duration = Duration::from_secs(10);
const PAGE: &str = "https://shop.example.com/cart?item=7";

/// A browser's subscription keys: its P-256 secret and auth secret.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Self {
        let mut bytes = [0u8; 32];
        let secret = loop {
            getrandom::fill(&mut bytes).expect("randomness");
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).expect("randomness");
        Self { secret, auth }
    }

    fn subscription(&self, endpoint: &str) -> Value {
        let public = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&self.secret.public_key(), false);
        json!({"endpoint": endpoint, "expirationTime": null,
               "keys": {"p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()), "auth": URL_SAFE_NO_PAD.encode(self.auth)}})
    }
}

/// One request as an HTTP server got it.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// A push service of the test's own: takes one request, answers 201.
async fn push_service() -> (String, oneshot::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let endpoint = format!("http://{}/push/abc", listener.local_addr().expect("an address"));
    let (sender, received) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("the server connects");
        let mut stream = BufReader::new(stream);
        let mut request_line = String::new();
        stream.read_line(&mut request_line).await.expect("a request line");
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("a header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .expect("a Content-Length");
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await.expect("the body");
        stream.get_mut().write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n").await.expect("answered");
        let _ = sender.send(Received { request_line: request_line.trim_end().to_owned(), headers, body });
    });
    (endpoint, received)
}

/// An SMTP relay of the test's own: takes one message, returns what DATA carried.
async fn smtp_sink() -> (u16, oneshot::Receiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let (sender, received) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("the server connects");
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        writer.write_all(b"220 sink.test ESMTP\r\n").await.expect("greeting");
        let mut commands = Vec::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.expect("a command") == 0 {
                break;
            }
            let command = line.trim_end().to_owned();
            let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
            commands.push(command);
            let answer: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink.test\r\n",
                "DATA" => {
                    writer.write_all(b"354 go ahead\r\n").await.expect("answered");
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).await.expect("data");
                        if line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    writer.write_all(b"221 bye\r\n").await.expect("answered");
                    break;
                }
                _ => b"250 ok\r\n",
            };
            writer.write_all(answer).await.expect("answered");
        }
        let _ = sender.send((commands, data));
    });
    (port, received)
}

fn push_config(dir: &std::path::Path, extra: &str) -> switchboard_server::config::Config {
    let key_file = dir.join("vapid.key");
    config(&format!(
        "[push]\nkey_file = {:?}\ncontact = \"mailto:ops@shop.test\"\nallow_loopback_http = true\n{extra}",
        key_file.display().to_string()
    ))
}

/// A customer who asked for a chat and gave `notify`; then closed the page.
async fn waiting_then_gone(server: &TestServer, notify: Value) -> (String, Value) {
    let mut customer = server.customer().await;
    let chat = customer.request_chat("chat-delay", json!({"userId": "ana"})).await;
    customer.expect_event("dialog").await;
    let granted = customer.ok(json!({"command": "notifyMe", "data": notify})).await;
    customer.close().await;
    server.wait_for_open_connections(0).await;
    (chat.token, granted["data"].clone())
}

#[tokio::test]
async fn an_away_customer_gets_a_web_push_the_test_decrypts_and_comes_back_to_confirm() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = TestServer::start_with(push_config(dir.path(), "")).await;
    let (endpoint, pushed) = push_service().await;
    let browser = Browser::new();

    let (token, granted) =
        waiting_then_gone(&server, json!({"url": PAGE, "push": browser.subscription(&endpoint)})).await;
    assert_eq!(granted, json!({"by": "push"}));

    // An agent gets ready: the customer is reserved and, away, pushed.
    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let push = tokio::time::timeout(WAIT, pushed).await.expect("a push in time").expect("the push service got it");
    assert_eq!(push.request_line, "POST /push/abc HTTP/1.1");
    assert_eq!(push.header("content-encoding"), Some("aes128gcm"));
    let ttl: u64 = push.header("ttl").and_then(|ttl| ttl.parse().ok()).expect("a TTL");
    assert!(ttl >= 60, "kept at least as long as the customer may confirm: {ttl}");

    // RFC 8292: signed with the key push.js hands browsers, for this origin.
    let (_, _, script) = http::get(server.addr, "/push.js").await;
    let authorization = push.header("authorization").expect("VAPID").to_owned();
    let (jwt, key) =
        authorization.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect("`vapid t=…, k=…`");
    assert!(script.contains(&format!("var key = '{key}';")), "push.js offers the key the pushes are signed with");
    let (status, headers, worker) = http::get(server.addr, "/push-sw.js").await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(http::header(&headers, "content-type"), Some("text/javascript; charset=utf-8"));
    assert!(worker.contains("showNotification") && worker.contains("openWindow"), "the shop's worker imports this");
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(key).expect("base64url")).expect("a P-256 key");
    // web-push-native names the origin without its port (real push services
    // are on 443, where that is the origin; this test's is not).
    let origin = "http://127.0.0.1".to_owned();
    let options = VerificationOptions {
        allowed_audiences: Some(std::collections::HashSet::from([origin])),
        ..VerificationOptions::default()
    };
    let claims = public.verify_token::<NoCustomClaims>(jwt, Some(options)).expect("a valid signature for this origin");
    assert_eq!(claims.subject.as_deref(), Some("mailto:ops@shop.test"));

    // RFC 8291: only this browser can read it.
    let plain = web_push_native::decrypt(push.body, &browser.secret, &Auth::clone_from_slice(&browser.auth))
        .expect("decrypts with the subscription's keys");
    let payload: Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(payload["title"], "An agent is available");
    assert_eq!(payload["url"], PAGE);
    assert!(payload["body"].as_str().is_some_and(|body| !body.is_empty()));

    // The page opens again: the widget resumes, is asked, and confirms in time.
    let mut back = server.customer().await;
    back.ok(json!({"command": "resume", "data": {"token": token}})).await;
    let replayed = back.expect_event("dialog").await;
    assert_eq!(replayed["data"]["_action"], "ConfirmationDialog");
    let notification = back.expect_event("notification").await;
    assert!(notification["data"]["confirmBy"].as_u64().is_some(), "{notification}");
    back.ok(json!({"command": "connect"})).await;
    let dialog = back.expect_event("dialog").await;
    assert_eq!(dialog["data"]["_action"], "StartChat");
}

#[tokio::test]
async fn without_push_an_away_customer_who_gave_an_address_gets_an_email_through_the_relay() {
    let (port, mailed) = smtp_sink().await;
    let server = TestServer::start_with(config(&format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\nfrom = \"Shop support <support@shop.test>\"\n"
    )))
    .await;
    let (_, granted) = waiting_then_gone(&server, json!({"url": PAGE, "email": "ana@example.com"})).await;
    assert_eq!(granted, json!({"by": "email"}));

    let mut alice = Desk::login(&server, "alice").await;
    alice.ready().await;
    let (commands, data) = tokio::time::timeout(WAIT, mailed).await.expect("a mail in time").expect("the relay got it");
    assert!(
        commands.iter().any(|command| command.eq_ignore_ascii_case("MAIL FROM:<support@shop.test>")),
        "{commands:?}"
    );
    assert!(commands.iter().any(|command| command.eq_ignore_ascii_case("RCPT TO:<ana@example.com>")), "{commands:?}");
    assert!(data.contains("Subject: An agent is available"), "{data}");
    assert!(data.contains("To: ana@example.com"), "{data}");
    assert!(data.contains(PAGE), "the mail links the page the chat began on: {data}");
}

#[tokio::test]
async fn notify_me_is_refused_when_it_cannot_be_kept_and_says_why() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = TestServer::start_with(push_config(dir.path(), "")).await;
    let browser = Browser::new();
    let mut customer: Client = server.customer().await;

    // Not before a chat is requested.
    let early = json!({"command": "notifyMe", "data": {"url": PAGE, "email": "ana@example.com"}});
    customer.fails(early.clone(), "not-bound").await;
    customer.request_chat("chat-delay", json!({})).await;

    // E-mail is not configured here; push is, but only to real push services.
    let failure = customer.fails(early, "unsupported").await;
    assert!(failure["failure"]["message"].as_str().is_some_and(|message| message.contains("e-mail")), "{failure}");
    let private = json!({"url": PAGE, "push": browser.subscription("http://10.0.0.1/push")});
    customer.fails(json!({"command": "notifyMe", "data": private}), "invalid-value").await;
    let mut bad_key = browser.subscription("https://push.example.net/x");
    bad_key["keys"]["p256dh"] = json!("BAAA");
    customer.fails(json!({"command": "notifyMe", "data": {"url": PAGE, "push": bad_key}}), "invalid-value").await;
    let script = json!({"url": "javascript:alert(1)", "push": browser.subscription("https://push.example.net/x")});
    customer.fails(json!({"command": "notifyMe", "data": script}), "invalid-value").await;
    // Not a push service of [push] services: the server posts nowhere else.
    let elsewhere = json!({"url": PAGE, "push": browser.subscription("https://push.example.net/x")});
    let failure = customer.fails(json!({"command": "notifyMe", "data": elsewhere}), "invalid-value").await;
    assert!(failure["failure"]["message"].as_str().is_some_and(|message| message.contains("services")), "{failure}");

    // A good one is kept, and the chat goes on as before.
    let good = json!({"url": PAGE, "push": browser.subscription("https://fcm.googleapis.com/fcm/send/x")});
    let granted = customer.ok(json!({"command": "notifyMe", "data": good})).await;
    assert_eq!(granted["data"], json!({"by": "push"}));
}
