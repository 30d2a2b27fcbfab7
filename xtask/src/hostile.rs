//! `cargo xtask ci hostile`: the server binary under a small hostile load for a few seconds,
//! while an account's owner works: connections that send part of a head or nothing and are
//! held open, anonymous listing loops with good and bad cursors, JSON nested deep inside
//! strings, and wrong keys. The owner's requests must stay under 100 ms at the median, and no
//! request may get a 5xx answer. Attackers come from other loopback addresses (127.0.0.2 to
//! 127.0.0.4), as they would from other machines, so that per-address limits apply to them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_api::raw::Raw;
use chart_studio_api::{Client, Config, Credentials};
use chart_studio_http::{HttpSettings, HttpTransport};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::{project_root, say, server};

/// How long the load lasts.
const LOAD: Duration = Duration::from_secs(6);
/// Public plots in the listing the anonymous loops read.
const PLOTS: usize = 400;
/// The owner's median latency must stay below this.
const TARGET: Duration = Duration::from_millis(100);
/// Connections held open at once, more than one address may hold (256).
const SLOW_CONNECTIONS: usize = 300;
/// Anonymous listing loops.
const LISTERS: usize = 8;

const ALICE: (&str, &str) = ("alice", "alice-hostile-key");
const MALLORY: (&str, &str) = ("mallory", "mallory-hostile-key");
/// Where slow connections come from.
const HOLDER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Where wrong keys come from.
const GUESSER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
/// Where listings and deep bodies come from.
const READER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));

pub(crate) fn run() -> Result<()> {
    let bin = server::build_binaries()?;
    let data = project_root().join("target").join("tmp").join("hostile");
    let _ = std::fs::remove_dir_all(&data);
    let users = [format!("{}:{}", ALICE.0, ALICE.1), format!("{}:{}", MALLORY.0, MALLORY.1)];
    let data_arg = data.to_string_lossy().into_owned();
    let server = server::start(
        &bin,
        &["--user", &users[0], "--user", &users[1], "--data", &data_arg, "--head-timeout", "2"],
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(siege(&server.url));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// What the attackers saw.
#[derive(Debug, Default)]
struct Tally {
    requests: AtomicU64,
    listings: AtomicU64,
    server_errors: AtomicU64,
    refused_connections: AtomicU64,
    closed_at_deadline: AtomicU64,
    throttled_keys: AtomicU64,
}

async fn siege(url: &str) -> Result<()> {
    let addr: SocketAddr =
        url.trim_start_matches("http://").parse().context("the server's address")?;
    let alice = client(url, ALICE)?;
    fill(&alice).await?;
    let owner_fid = format!("{}:{}", ALICE.0, PLOTS);
    let quiet = owner_latencies(&alice, &owner_fid, None).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut attackers = Vec::new();
    for n in 0..SLOW_CONNECTIONS {
        attackers.push(tokio::spawn(slow_connection(addr, n, stop.clone(), tally.clone())));
    }
    for n in 0..LISTERS {
        attackers.push(tokio::spawn(lister(addr, n, stop.clone(), tally.clone())));
    }
    attackers.push(tokio::spawn(deep_strings(addr, stop.clone(), tally.clone())));
    attackers.push(tokio::spawn(wrong_keys(addr, stop.clone(), tally.clone())));
    let loaded = owner_latencies(&alice, &owner_fid, Some(LOAD)).await;
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.abort();
    }
    let loaded = loaded?;
    let alive = alice.send(&Raw::new("GET", "plots")).await;

    let (quiet_median, loaded_median) = (percentile(&quiet, 50), percentile(&loaded, 50));
    say(&format!(
        "hostile: the owner's GET file: {:.1} ms median quietly, {:.1} ms median and {:.1} ms p95 \
         under load ({} requests); attackers sent {} requests ({} 5xx; {} anonymous listings \
         answered), {} connections were refused over the per-address cap, {} slow connections were closed at their deadline, \
         {} wrong keys were held off with 429",
        ms(quiet_median),
        ms(loaded_median),
        ms(percentile(&loaded, 95)),
        loaded.len(),
        tally.requests.load(Ordering::Relaxed),
        tally.server_errors.load(Ordering::Relaxed),
        tally.listings.load(Ordering::Relaxed),
        tally.refused_connections.load(Ordering::Relaxed),
        tally.closed_at_deadline.load(Ordering::Relaxed),
        tally.throttled_keys.load(Ordering::Relaxed),
    ));
    if alive.is_err() {
        bail!("the server stopped answering after the load: {alive:?}");
    }
    if tally.server_errors.load(Ordering::Relaxed) > 0 {
        bail!("the hostile load got 5xx answers");
    }
    if loaded_median >= TARGET {
        bail!(
            "the owner's median latency under load is {:.1} ms, above {TARGET:?}",
            ms(loaded_median)
        );
    }
    for (what, count) in [
        ("anonymous listings answered", &tally.listings),
        ("connections refused over the cap", &tally.refused_connections),
        ("slow connections closed at their deadline", &tally.closed_at_deadline),
        ("wrong keys held off", &tally.throttled_keys),
    ] {
        if count.load(Ordering::Relaxed) == 0 {
            bail!("no {what}: the load did not reach that limit");
        }
    }
    say("hostile: met: the owner's median stays below 100 ms and nothing answered 5xx");
    Ok(())
}

fn client(url: &str, (user, key): (&str, &str)) -> Result<Client> {
    let config = Config::new(url, Some(Credentials::new(user, key)), false)?;
    Ok(Client::new(HttpTransport::new(&HttpSettings::default())?, config))
}

/// Public plots of about 30 KB each, as a team's listing holds them; the last one is the
/// owner's.
async fn fill(alice: &Client) -> Result<()> {
    let notes: Vec<Value> = (0..300)
        .map(|i| json!({"text": format!("note {i} {}", "x".repeat(80)), "x": i, "y": i}))
        .collect();
    let made: Vec<Result<Value, _>> = futures_util::stream::iter(0..=PLOTS)
        .map(|n| {
            let mut create = Raw::new("POST", "plots");
            create.body = Some(json!({
                "figure": {"data": [], "layout": {"title": {"text": format!("plot {n}")}, "annotations": notes}},
                "filename": format!("plot {n}"),
                "world_readable": true,
            }));
            async move { alice.send(&create).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for result in made {
        result.context("could not fill the server")?;
    }
    Ok(())
}

/// The owner's GET of one file, again and again: 50 times, or for `load`.
async fn owner_latencies(
    alice: &Client,
    fid: &str,
    load: Option<Duration>,
) -> Result<Vec<Duration>> {
    let started = Instant::now();
    let mut latencies = Vec::new();
    while load.map_or(latencies.len() < 50, |load| started.elapsed() < load) {
        let at = Instant::now();
        alice
            .send(&Raw::new("GET", format!("files/{fid}")))
            .await
            .context("the owner's request")?;
        latencies.push(at.elapsed());
    }
    Ok(latencies)
}

fn percentile(latencies: &[Duration], at: usize) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    sorted.get((sorted.len().saturating_sub(1)) * at / 100).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn connect_from(source: IpAddr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// One request on its own connection from `source`; the answer's status (0: no answer).
async fn request(source: IpAddr, addr: SocketAddr, head: &str, body: &str, tally: &Tally) -> u16 {
    tally.requests.fetch_add(1, Ordering::Relaxed);
    let Ok(mut stream) = connect_from(source, addr).await else { return 0 };
    let text = format!(
        "{head}Host: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(text.as_bytes()).await.is_err() {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    if status >= 500 {
        tally.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    status
}

/// A connection that sends part of a head (or nothing) and waits; once the server closes it,
/// another.
async fn slow_connection(addr: SocketAddr, n: usize, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = connect_from(HOLDER, addr).await else { return };
        let opened = Instant::now();
        if n.is_multiple_of(2) {
            let _ = stream.write_all(b"GET /v2/plots HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
        }
        let mut buffer = [0u8; 64];
        let _ = stream.read(&mut buffer).await;
        if opened.elapsed() < Duration::from_millis(500) {
            tally.refused_connections.fetch_add(1, Ordering::Relaxed);
            // Refused at once: wait a little before the next try, as a real client would.
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            tally.closed_at_deadline.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Anonymous listings, newest first and by views, with cursors good and bad.
async fn lister(addr: SocketAddr, n: usize, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let cursors = ["", "cD0w", "cD05OTk5OTk5OTk5OQ==", "cj0xJnA9MA==", "!!!", "cD0yMDE5LTA2LTE3"];
    let mut round = n;
    while !stop.load(Ordering::Relaxed) {
        let cursor = cursors[round % cursors.len()];
        let order = if round.is_multiple_of(2) { "&order_by=-views" } else { "" };
        let path = format!("/v2/plots?cursor={cursor}{order}");
        if request(READER, addr, &format!("GET {path} HTTP/1.1\r\n"), "", &tally).await == 200 {
            tally.listings.fetch_add(1, Ordering::Relaxed);
        }
        round += 1;
    }
}

/// Figures given as strings holding JSON nested far deeper than the limit, by a valid account.
async fn deep_strings(addr: SocketAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let figure = format!("{{\"data\": [], \"layout\": {{\"x\": {nested}}}}}");
    let body = json!({"figure": figure}).to_string();
    let auth = basic(MALLORY);
    while !stop.load(Ordering::Relaxed) {
        let head = format!(
            "POST /v2/plots HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\n"
        );
        request(READER, addr, &head, &body, &tally).await;
    }
}

/// Guessed keys for alice's account.
async fn wrong_keys(addr: SocketAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut guess = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let auth = basic((ALICE.0, &format!("guess-{guess}")));
        let head = format!("GET /v2/users/current HTTP/1.1\r\nAuthorization: {auth}\r\n");
        if request(GUESSER, addr, &head, "", &tally).await == 429 {
            tally.throttled_keys.fetch_add(1, Ordering::Relaxed);
        }
        guess += 1;
    }
}

fn basic((user, key): (&str, &str)) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}
