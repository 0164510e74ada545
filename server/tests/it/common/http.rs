//! Plain HTTP against a real server serving a built app (`dist`): for the
//! tests of the pages' headers (CSP, framing) and files.

use super::test_config;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use switchboard_server::storage::sqlite::SqliteStorage;
use switchboard_server::{Driver, app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server on 127.0.0.1 with `test_config(extra)`, serving `dist`, and its
/// SQLite file inside `dist`.
pub async fn serve_dist(extra: &str, dist: &Path) -> SocketAddr {
    let storage = Arc::new(SqliteStorage::open(&dist.join("test.db")).unwrap());
    let state = Driver::start(test_config(extra), storage).unwrap();
    let options = switchboard_server::serve_options(state.config());
    let router = app(state, Some(dist));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(switchboard_server::serve(listener, router, options, std::future::pending()));
    addr
}

/// `(status line, lower-cased headers, body)` of a GET.
pub async fn get(addr: SocketAddr, path: &str) -> (String, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// The value of header `name` (lower case), if present.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// `(status line, lower-cased headers, body)` of a GET with extra headers.
pub async fn get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}
