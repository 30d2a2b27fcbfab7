//! Shared helpers: a server on 127.0.0.1 with two accounts, and clients over real HTTP.

#![allow(dead_code, reason = "each test binary uses a different part")]
#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use chart_studio_api::{Client, Config, Credentials};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_server::{ServerConfig, ServerHandle};

pub(crate) const ALICE: (&str, &str) = ("alice", "alice-test-key");
pub(crate) const BOB: (&str, &str) = ("bob", "bob-test-key");

/// A server with alice and bob (and any `config` tweaks).
pub(crate) async fn server_with(config: ServerConfig) -> ServerHandle {
    let users =
        vec![(ALICE.0.to_owned(), ALICE.1.to_owned()), (BOB.0.to_owned(), BOB.1.to_owned())];
    chart_studio_server::start(ServerConfig { users, ..config }).await.expect("the server starts")
}

pub(crate) async fn server() -> ServerHandle {
    server_with(ServerConfig::default()).await
}

/// A client of `server`, as `who` or anonymous.
pub(crate) fn client(server: &ServerHandle, who: Option<(&str, &str)>) -> Client {
    let creds = who.map(|(user, key)| Credentials::new(user, key));
    let config = Config::new(server.url(), creds, false).expect("a valid config");
    Client::new(HttpTransport::new(&HttpSettings::default()).expect("a transport"), config)
}

/// The status of a failed call.
pub(crate) fn status<T: std::fmt::Debug>(result: Result<T, chart_studio_api::Error>) -> u16 {
    result.expect_err("the call should fail").status().map_or(0, |s| s.as_u16())
}

/// A running `chart-studio-server` process, killed when dropped.
pub(crate) struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `chart-studio-server` binary on a free port with `args`; returns it, its address
/// and its second line (where data is kept).
pub(crate) fn start_with_note<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Running, String, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let note = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (Running(child), url, note)
}

/// [`start_with_note`] without the note.
pub(crate) fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Running, String) {
    let (server, url, _) = start_with_note(args);
    (server, url)
}

/// One request over plain HTTP/1.1 (a `Host` header given in `headers` replaces the server's);
/// the answer's status, head and body (bytes that are not UTF-8 read as U+FFFD).
pub(crate) fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let (status, head, body) = http_bytes(url, method, path, headers, body);
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

/// [`http`], with the body as bytes (a chunked one put together).
pub(crate) fn http_bytes(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = answer[split + 4..].to_vec();
    if header(&head, "transfer-encoding")
        .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

/// The body of a chunked answer.
pub(crate) fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&bytes[line_end + 2..line_end + 2 + size]);
        bytes = &bytes[line_end + 2 + size + 2..];
    }
}

/// A header's value in an answer's head.
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
