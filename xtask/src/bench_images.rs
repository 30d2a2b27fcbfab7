//! `cargo xtask bench --only images` (and the whole bench; `--quick` in CI): the server binary's
//! image renderer, warm, against Plotly's own exporter Kaleido (the latest 1.x from PyPI, with
//! its persistent server, on the same Chromium) in the same run. Latency p50/p95 of a simple
//! scatter as PNG and SVG and of a 100,000-point scatter as PNG, images per second at 1, 2 and
//! 8 requests in flight, a cached image, one render worker against two, and the memory of the
//! server with its browser. Results go to `target/bench/images.json` and, for a full run, to
//! the README's image table.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_api::images::{self, ImageFormat};
use chart_studio_api::raw::Raw;
use chart_studio_api::{Client, Config, Credentials};
use chart_studio_http::{HttpSettings, HttpTransport};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{cargo, project_root, run_command, say, server};

const USER: (&str, &str) = ("bench", "bench-images-key");
/// Kaleido's versions: the latest 1.x.
const KALEIDO: &str = "kaleido>=1,<2";

/// How many of each measurement.
#[derive(Debug, Clone, Copy)]
struct Counts {
    simple: usize,
    large: usize,
    throughput: usize,
    hits: usize,
}

const FULL: Counts = Counts { simple: 60, large: 6, throughput: 48, hits: 60 };
const QUICK: Counts = Counts { simple: 12, large: 2, throughput: 16, hits: 12 };

/// One latency measurement, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Latency {
    p50: f64,
    p95: f64,
}

/// `images.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    quick: bool,
    png: Latency,
    svg: Latency,
    large_png: Latency,
    cache_hit: Latency,
    /// Images per second with 1, 2 and 8 requests in flight (two render workers).
    per_second: [f64; 3],
    /// Images per second with 8 requests in flight and one render worker.
    one_worker_per_second: f64,
    /// Memory of the server and its browser with two warm pages: summed PSS and RSS, MiB.
    pss_mib: f64,
    rss_mib: f64,
    /// Summed PSS at the end, after the 100,000-point renders and the rest, MiB.
    after_pss_mib: f64,
    kaleido_version: String,
    kaleido_png: Latency,
    kaleido_svg: Latency,
    kaleido_large_png: Latency,
    targets: Vec<(String, bool)>,
}

fn simple() -> Value {
    json!({"data": [{"type": "scatter", "x": [1, 2, 3, 4], "y": [10, 15, 13, 17]}], "layout": {"title": {"text": "simple"}}})
}

/// A scatter of 100,000 points, the same for both exporters.
fn large() -> Value {
    let x: Vec<f64> = (0..100_000).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|x| (x / 1000.0).sin()).collect();
    json!({"data": [{"type": "scatter", "mode": "markers", "x": x, "y": y}], "layout": {}})
}

fn run(quick: bool) -> Result<Report> {
    let counts = if quick { QUICK } else { FULL };
    run_command(&cargo(), &["build", "--release", "--quiet", "-p", "chart-studio-server"], &[])?;
    let bin = project_root().join("target/release");
    let browser = chart_studio_server::find_chromium(None).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let user = format!("{}:{}", USER.0, USER.1);

    let two = server::start(&bin, &["--user", &user, "--render-workers", "2"])?;
    let measured = runtime.block_on(async {
        let client = client(&two.url)?;
        warm(&client).await?;
        let png = latency(&client, &simple(), ImageFormat::Png, counts.simple).await?;
        let svg = latency(&client, &simple(), ImageFormat::Svg, counts.simple).await?;
        let warm_memory = memory(two.pid())?;
        let mut per_second = [0.0; 3];
        for (slot, jobs) in per_second.iter_mut().zip([1, 2, 8]) {
            *slot = throughput(&client, jobs, counts.throughput).await?;
        }
        let cache_hit = cache_hits(&client, &two.url, counts.hits).await?;
        // Last: a page that drew one of these is replaced, and would be missing meanwhile.
        let large_png = latency(&client, &large(), ImageFormat::Png, counts.large).await?;
        // Kaleido draws with the same plotly.js.
        let plotly_js = get(&two.url, "/static/plotly.min.js").await?;
        std::fs::create_dir_all(project_root().join("target/bench"))?;
        std::fs::write(plotly_js_path(), plotly_js)?;
        Ok::<_, anyhow::Error>((png, svg, large_png, per_second, cache_hit, warm_memory))
    })?;
    let (after_pss_mib, _) = memory(two.pid())?;
    drop(two);
    let one = server::start(&bin, &["--user", &user, "--render-workers", "1"])?;
    let one_worker_per_second = runtime.block_on(async {
        let client = client(&one.url)?;
        warm(&client).await?;
        throughput(&client, 8, counts.throughput).await
    })?;
    drop(one);

    let kaleido = kaleido(&browser, counts)?;
    let (png, svg, large_png, per_second, cache_hit, (pss_mib, rss_mib)) = measured;
    let mut report = Report {
        quick,
        png,
        svg,
        large_png,
        cache_hit,
        per_second,
        one_worker_per_second,
        pss_mib,
        rss_mib,
        after_pss_mib,
        kaleido_version: kaleido.version,
        kaleido_png: kaleido.png,
        kaleido_svg: kaleido.svg,
        kaleido_large_png: kaleido.large_png,
        targets: Vec::new(),
    };
    let scaling = report.per_second[2] / report.one_worker_per_second;
    report.targets = vec![
        (
            format!(
                "simple PNG p50 ≤ 50 ms and at most half of Kaleido's ({:.1} ms)",
                report.kaleido_png.p50
            ),
            report.png.p50 <= 50.0 && report.png.p50 <= report.kaleido_png.p50 / 2.0,
        ),
        ("SVG p50 ≤ 30 ms".to_owned(), report.svg.p50 <= 30.0),
        ("a cached image p50 ≤ 5 ms".to_owned(), report.cache_hit.p50 <= 5.0),
        (format!("2 workers give ≥ 1.6× the images/s of 1 ({scaling:.2}×)"), scaling >= 1.6),
        (
            format!("server and browser below 400 MB with 2 warm pages ({pss_mib:.0} MiB PSS)"),
            pss_mib < 400.0,
        ),
    ];
    Ok(report)
}

fn client(url: &str) -> Result<Client> {
    let config = Config::new(url, Some(Credentials::new(USER.0, USER.1)), false)?;
    Ok(Client::new(HttpTransport::new(&HttpSettings::default())?, config))
}

/// Waits for the renderer (the first image waits for it) and draws a few of each format.
async fn warm(client: &Client) -> Result<()> {
    for _ in 0..4 {
        for format in [ImageFormat::Png, ImageFormat::Svg] {
            client.send(&images::Create::new(simple(), format)).await?;
        }
    }
    Ok(())
}

/// `count` sequential renders of `figure` as `format`.
async fn latency(
    client: &Client,
    figure: &Value,
    format: ImageFormat,
    count: usize,
) -> Result<Latency> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let image = client.send(&images::Create::new(figure.clone(), format)).await?;
        times.push(started.elapsed());
        if image.bytes.is_empty() {
            bail!("an empty {format} image");
        }
    }
    Ok(percentiles(&times))
}

/// Images per second with `jobs` requests in flight, over `count` images.
async fn throughput(client: &Client, jobs: usize, count: usize) -> Result<f64> {
    let started = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(0..count)
        .map(|_| async {
            let request = images::Create::new(simple(), ImageFormat::Png);
            client.send(&request).await
        })
        .buffer_unordered(jobs)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// A stored plot's `.png`, drawn once, then fetched `count` times from the cache.
async fn cache_hits(client: &Client, url: &str, count: usize) -> Result<Latency> {
    let mut create = Raw::new("POST", "grids");
    create.body = Some(
        json!({"data": {"cols": {"x": {"data": [1, 2, 3], "order": 0}, "y": {"data": [2, 1, 3], "order": 1}}}}),
    );
    let grid: Value = client.send(&create).await?;
    let fid = grid["file"]["fid"].as_str().context("grid fid")?;
    let uid = |i: usize| grid["file"]["cols"][i]["uid"].as_str().unwrap_or_default().to_owned();
    let mut plot = Raw::new("POST", "plots");
    plot.body = Some(
        json!({"figure": {"data": [{"type": "scatter", "xsrc": format!("{fid}:{}", uid(0)), "ysrc": format!("{fid}:{}", uid(1))}]}}),
    );
    let plot: Value = client.send(&plot).await?;
    let idlocal =
        plot["file"]["fid"].as_str().and_then(|f| f.rsplit(':').next()).context("plot fid")?;
    let path = format!("/~{}/{idlocal}.png", USER.0);
    get(url, &path).await?;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        get(url, &path).await?;
        times.push(started.elapsed());
    }
    Ok(percentiles(&times))
}

/// The body of a GET of `path` on the server at `url`, which must answer 200.
async fn get(url: &str, path: &str) -> Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        bail!("{path} answered {}", String::from_utf8_lossy(&answer[..answer.len().min(40)]));
    }
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |at| at + 4);
    Ok(answer[body..].to_vec())
}

/// Where the server's plotly.js is written for Kaleido.
fn plotly_js_path() -> std::path::PathBuf {
    project_root().join("target/bench/plotly.min.js")
}

fn percentiles(times: &[Duration]) -> Latency {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |p: usize| ms.get(ms.len().saturating_sub(1) * p / 100).copied().unwrap_or_default();
    Latency { p50: at(50), p95: at(95) }
}

/// The summed PSS and RSS, in MiB, of process `pid` and all its descendants (the browser's
/// processes among them).
fn memory(pid: u32) -> Result<(f64, f64)> {
    let mut family = vec![pid];
    let mut index = 0;
    while index < family.len() {
        let parent = family[index];
        for entry in std::fs::read_dir("/proc")?.filter_map(Result::ok) {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // The parent's pid is the second field after the command's closing parenthesis.
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
            if ppid.and_then(|p| p.parse::<u32>().ok()) == Some(parent) && !family.contains(&child)
            {
                family.push(child);
            }
        }
        index += 1;
    }
    let (mut pss, mut rss) = (0.0, 0.0);
    for pid in family {
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
                .unwrap_or_default()
        };
        pss += field("Pss:");
        rss += field("Rss:");
    }
    Ok((pss / 1024.0, rss / 1024.0))
}

/// What Kaleido measured.
#[derive(Debug, Deserialize)]
struct KaleidoReport {
    version: String,
    png: Latency,
    svg: Latency,
    large_png: Latency,
}

/// Kaleido from PyPI in a virtual environment under `target/`, with its persistent server on
/// `browser`, drawing the same figures.
fn kaleido(browser: &Path, counts: Counts) -> Result<KaleidoReport> {
    let venv = project_root().join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run_command("python3", &["-m", "venv", &venv.to_string_lossy()], &[])?;
    }
    run_command(
        &python.to_string_lossy(),
        &["-m", "pip", "install", "--quiet", "--disable-pip-version-check", KALEIDO],
        &[],
    )?;
    let figures = project_root().join("target/bench/kaleido-figures.json");
    std::fs::create_dir_all(figures.parent().context("bench folder")?)?;
    std::fs::write(&figures, json!({"simple": simple(), "large": large()}).to_string())?;
    say("kaleido: the same figures, with its persistent server");
    let output = Command::new(&python)
        .arg("-c")
        .arg(KALEIDO_SCRIPT)
        .arg(&figures)
        .arg(counts.simple.to_string())
        .arg(counts.large.to_string())
        .arg(plotly_js_path())
        .env("BROWSER_PATH", browser)
        .output()
        .context("could not run Kaleido")?;
    if !output.status.success() {
        bail!("Kaleido failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("Kaleido said: {}", String::from_utf8_lossy(&output.stdout)))
}

/// Times Kaleido as its users run it for speed: `start_sync_server`, then `calc_fig_sync`.
const KALEIDO_SCRIPT: &str = r#"
import json, statistics, sys, time
from importlib.metadata import version
import kaleido

figures = json.load(open(sys.argv[1]))
simple_count, large_count = int(sys.argv[2]), int(sys.argv[3])
kaleido.start_sync_server(silence_warnings=True, plotlyjs=sys.argv[4], mathjax=False)

def latency(figure, fmt, count):
    for _ in range(3):
        kaleido.calc_fig_sync(figures["simple"], opts={"format": fmt, "width": 700, "height": 500})
    times = []
    for _ in range(count):
        started = time.perf_counter()
        kaleido.calc_fig_sync(figure, opts={"format": fmt, "width": 700, "height": 500})
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": times[(len(times) - 1) * 50 // 100], "p95": times[(len(times) - 1) * 95 // 100]}

report = {
    "version": version("kaleido"),
    "png": latency(figures["simple"], "png", simple_count),
    "svg": latency(figures["simple"], "svg", simple_count),
    "large_png": latency(figures["large"], "png", large_count),
}
kaleido.stop_sync_server()
print(json.dumps(report))
"#;

/// The README's image table.
fn table(report: &Report) -> String {
    let row = |what: &str, ours: Latency, theirs: Option<Latency>| {
        let theirs = theirs.map_or_else(String::new, |l| format!("{:.1} | {:.1}", l.p50, l.p95));
        let theirs = if theirs.is_empty() { " | ".to_owned() } else { theirs };
        format!("| {what} | {:.1} | {:.1} | {theirs} |", ours.p50, ours.p95)
    };
    let mut lines = vec![
        format!(
            "Images (`cargo xtask bench --only images`, 2 cores, the server binary with 2 warm pages; Kaleido {} with its persistent server on the same Chromium, in the same run). Milliseconds as a client sees them:",
            report.kaleido_version
        ),
        String::new(),
        "| image | p50 | p95 | Kaleido p50 | Kaleido p95 |".to_owned(),
        "|---|---:|---:|---:|---:|".to_owned(),
        row("simple scatter, PNG", report.png, Some(report.kaleido_png)),
        row("simple scatter, SVG", report.svg, Some(report.kaleido_svg)),
        row("100,000-point scatter, PNG", report.large_png, Some(report.kaleido_large_png)),
        row("a stored plot's `.png`, cached", report.cache_hit, None),
        String::new(),
        format!(
            "Images per second (simple PNG): {:.1} with 1 request in flight, {:.1} with 2, {:.1} with 8; {:.1} with 8 and one render worker. Memory of the server and its browser with 2 warm pages: {:.0} MiB (PSS; {:.0} MiB RSS summed over its processes, which share pages); {:.0} MiB at the end of the run, after the 100,000-point images (a page that drew a figure over 1 MiB is replaced; pages collect their garbage every 30 images).",
            report.per_second[0],
            report.per_second[1],
            report.per_second[2],
            report.one_worker_per_second,
            report.pss_mib,
            report.rss_mib,
            report.after_pss_mib
        ),
        String::new(),
    ];
    for (target, met) in &report.targets {
        lines.push(format!("- {}: {target}", if *met { "met" } else { "**missed**" }));
    }
    lines.join("\n")
}

/// Measures, writes `images.json`, and returns the table.
pub(crate) fn measure(quick: bool) -> Result<String> {
    let report = run(quick)?;
    let dir = project_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(if quick { "images-quick.json" } else { "images.json" });
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    say(&format!("written to {}", path.display()));
    Ok(table(&report))
}
