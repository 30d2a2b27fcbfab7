//! `cargo xtask bench --only server` (and the whole bench; `--quick` in CI): the server binary
//! alone, without a browser. Answers per second to GET file, a listing page of 100, creating a
//! plot and PATCHing sharing, with 16 requests in flight, on in-memory SQLite, SQLite on disk
//! and PostgreSQL (a cluster of its own on a unix socket) in the same run; then the server's
//! memory and restart time against the size of its data, on data folders filled directly
//! (through the store's rules, not the API); then how long small answers wait while large
//! grids are read. Results go to `target/bench/server.json` and, for a full run, to the
//! README's server table and its chart, `docs/server-memory.svg`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_api::raw::Raw;
use chart_studio_api::{Client, Config, Credentials};
use chart_studio_http::{HttpSettings, HttpTransport};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{cargo, project_root, run_command, say, server};

const USER: (&str, &str) = ("bench", "bench-server-key");
/// Accounts creating plots at once in the PostgreSQL runs of one and two processes (a team).
const TEAM: usize = 8;
/// Requests in flight in the throughput runs.
const IN_FLIGHT: usize = 16;
/// Rows of the grids beside the plots in the file-count sweep (as in the measure).
const SMALL_GRID_ROWS: usize = 100;
/// Rows of the grids of the large-data point: two number columns, about 1.6 MB of JSON.
const LARGE_GRID_ROWS: usize = 100_000;

/// How much of each measurement.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Seconds of each throughput run.
    seconds: f64,
    /// Files in the data folder at each point of the sweep.
    files: &'static [usize],
    /// Grids of [`LARGE_GRID_ROWS`] rows (each with its plot) at the last large-data point
    /// (the others have a quarter and a half of them).
    large_grids: usize,
    /// Grid contents read after each start.
    reads: usize,
}

const FULL: Sizes =
    Sizes { seconds: 5.0, files: &[10_000, 100_000, 1_000_000], large_grids: 1_300, reads: 200 };
const QUICK: Sizes = Sizes { seconds: 1.0, files: &[10_000, 40_000], large_grids: 40, reads: 40 };

/// Answers per second of one engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Throughput {
    engine: String,
    get_file: f64,
    listing: f64,
    create: f64,
    share: f64,
}

/// One point of the size sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SizePoint {
    /// Rows of each grid (each grid has a plot).
    grid_rows: usize,
    files: usize,
    /// Grid data stored, MB of JSON.
    grid_mb: f64,
    /// The database file, MB.
    database_mb: f64,
    /// From starting the process to its first answer.
    restart_seconds: f64,
    /// Resident memory after the first answer, MB.
    rss_mb: f64,
    /// Resident memory after reading grid contents, MB.
    rss_after_reads_mb: f64,
    /// The most resident memory the process had, MB.
    peak_mb: f64,
}

/// Small answers while another client reads large grids, with no content cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stall {
    /// 99th percentile of a small GET alone, ms.
    quiet_p99_ms: f64,
    /// 99th percentile of a small GET while large grids are read, ms.
    loaded_p99_ms: f64,
    /// The slowest small GET while large grids are read, ms.
    loaded_max_ms: f64,
    /// Median time of one large grid's content read, ms.
    large_read_ms: f64,
    /// Large grid contents read during the loaded run.
    large_reads: usize,
}

/// The ratios the targets hold, each the median of the ratios of one turn's measures.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Ratios {
    /// GET file on disk against in memory.
    disk_get: f64,
    /// A listing page on disk against in memory.
    disk_listing: f64,
    /// Team creates through two processes against one.
    team: f64,
}

/// `server.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    quick: bool,
    throughput: Vec<Throughput>,
    /// Plots created per second by [`TEAM`] accounts through one server process on
    /// PostgreSQL, then through two on one database.
    team_creates: (f64, f64),
    ratios: Ratios,
    sizes: Vec<SizePoint>,
    stall: Stall,
    targets: Vec<(String, bool)>,
}

/// Runs the measurements and returns the README's table.
pub(crate) fn measure(quick: bool) -> Result<String> {
    let sizes = if quick { QUICK } else { FULL };
    run_command(&cargo(), &["build", "--release", "--quiet", "-p", "chart-studio-server"], &[])?;
    let bin = project_root().join("target/release");
    let runtime = tokio::runtime::Runtime::new()?;
    let scratch = project_root().join("target/bench/server");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;

    let cluster = chart_studio_server::pg_cluster::TempCluster::start()?;
    let postgres = vec!["--database".to_owned(), cluster.url().expose().to_owned()];
    let engines = [
        ("in-memory SQLite", vec![]),
        ("SQLite on disk", vec!["--data".to_owned(), path_arg(&scratch.join("api"))?]),
        ("PostgreSQL", postgres.clone()),
    ];
    let mut running = Vec::new();
    let mut prepared = Vec::new();
    for (engine, storage) in engines {
        let mut args = base_args();
        args.extend(storage);
        let server = server::start(&bin, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
        prepared.push(runtime.block_on(Prepared::new(&server.url, engine))?);
        running.push(server);
    }
    let round = sizes.seconds / ROUNDS as f64;
    let mut measured = Vec::new();
    for measure in [Measure::GetFile, Measure::Listing, Measure::Create, Measure::Share] {
        let rates = runtime.block_on(in_turns(prepared.len(), |target, turn| {
            prepared[target].rate(measure, round, turn)
        }))?;
        measured.push(rates);
    }
    let throughput: Vec<Throughput> = prepared
        .iter()
        .enumerate()
        .map(|(n, target)| Throughput {
            engine: target.engine.clone(),
            get_file: measured[0].median(n),
            listing: measured[1].median(n),
            create: measured[2].median(n),
            share: measured[3].median(n),
        })
        .collect();
    for measured in &throughput {
        say(&format!("{measured:?}"));
    }
    drop(running);

    // Two processes on one PostgreSQL database; creates by a team, sent to the first only,
    // or to both in turn.
    let mut args = base_args();
    args.extend(postgres);
    for member in 0..TEAM {
        args.extend(["--user".to_owned(), format!("team{member}:team-key-{member}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let servers = [server::start(&bin, &args)?, server::start(&bin, &args)?];
    // A client per account and server: in the run through `processes` of them, request `n`
    // goes to server `n % processes` as account `n / processes % TEAM`, so each account's
    // creates reach every server.
    let mut clients = Vec::new();
    for member in 0..TEAM {
        let (name, key) = (format!("team{member}"), format!("team-key-{member}"));
        for running in &servers {
            clients.push(client_of(&running.url, &name, &key)?);
        }
    }
    let team = runtime.block_on(in_turns(2, |way, turn| {
        let (clients, processes) = (&clients, way + 1);
        rate(round, move |index| {
            let member = index / processes % TEAM;
            let client = &clients[member * 2 + index % processes];
            // Named past the files of every other run.
            let name = (1 + turn * 2 + way) * 1_000_000 + index;
            async move { create_plot(client, name).await.map(drop) }
        })
    }))?;
    let team_creates = (team.median(0), team.median(1));
    say(&format!("creates by {TEAM} accounts through one and two processes: {team_creates:?}"));
    let ratios = Ratios {
        disk_get: measured[0].ratio(1, 0),
        disk_listing: measured[1].ratio(1, 0),
        team: team.ratio(1, 0),
    };
    say(&format!("{ratios:?}"));
    drop(servers);

    let mut points = Vec::new();
    let sweep = scratch.join("sweep");
    let mut stored = 0;
    for &files in sizes.files {
        let pairs = (files - stored) / 2;
        chart_studio_server::fill::fill(&sweep, USER.0, USER.1, pairs, SMALL_GRID_ROWS)?;
        stored += pairs * 2;
        let grid_mb = grid_mb(stored / 2, SMALL_GRID_ROWS);
        let at = (SMALL_GRID_ROWS, stored, grid_mb);
        points.push(runtime.block_on(restart(&bin, &sweep, at, sizes.reads))?);
        say(&format!("{:?}", points.last()));
    }
    let large = scratch.join("large");
    let mut grids = 0;
    for step in [4, 2, 1] {
        let more = sizes.large_grids / step - grids;
        chart_studio_server::fill::fill(&large, USER.0, USER.1, more, LARGE_GRID_ROWS)?;
        grids += more;
        let grid_mb = grid_mb(grids, LARGE_GRID_ROWS);
        let at = (LARGE_GRID_ROWS, grids * 2, grid_mb);
        points.push(runtime.block_on(restart(&bin, &large, at, sizes.reads))?);
        say(&format!("{:?}", points.last()));
    }
    let stall = runtime.block_on(stall(&bin, &large, sizes.seconds))?;
    say(&format!("{stall:?}"));
    std::fs::remove_dir_all(&scratch)?;

    let report = Report {
        quick,
        targets: targets(ratios, team_creates.1, &points, &stall),
        throughput,
        team_creates,
        ratios,
        sizes: points,
        stall,
    };
    let path = project_root().join("target/bench/server.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    say(&format!("written to {}", path.display()));
    if !quick {
        chart(&report.sizes, &project_root().join("docs/server-memory.svg"))?;
    }
    Ok(table(&report))
}

/// The arguments of every server of the bench: the account, no browser.
fn base_args() -> Vec<String> {
    let user = format!("{}:{}", USER.0, USER.1);
    ["--user", &user, "--chromium", "/nonexistent/no-images-in-this-bench"]
        .map(str::to_owned)
        .to_vec()
}

fn path_arg(path: &Path) -> Result<String> {
    path.to_str().map(str::to_owned).context("a non-UTF-8 path")
}

/// MB of stored JSON of `grids` grids of `rows` rows, measured on one.
fn grid_mb(grids: usize, rows: usize) -> f64 {
    let column = |scale: f64| (0..rows).map(|row| json!(row as f64 * scale)).collect::<Vec<_>>();
    let one = json!([column(1.0), column(0.5)]).to_string().len();
    (grids * one) as f64 / 1e6
}

fn client(url: &str) -> Result<Client> {
    client_of(url, USER.0, USER.1)
}

fn client_of(url: &str, username: &str, api_key: &str) -> Result<Client> {
    let config = Config::new(url, Some(Credentials::new(username, api_key)), false)?;
    Ok(Client::new(HttpTransport::new(&HttpSettings::default())?, config))
}

/// Each measure is taken in this many turns, the engines (or ways) taking each turn one after
/// the other, in the opposite order every other turn: a machine whose speed drifts during the
/// run drifts for all of them alike, and none is always measured first.
const ROUNDS: usize = 6;

/// The rates of `count` measures taken in [`ROUNDS`] turns.
struct Turns(Vec<Vec<f64>>);

impl Turns {
    /// The median rate of measure `n`.
    fn median(&self, n: usize) -> f64 {
        percentile(&self.0[n], 0.5)
    }

    /// Measure `a` against measure `b`: the median of their ratios turn by turn, each ratio
    /// taken on the same state of the machine.
    fn ratio(&self, a: usize, b: usize) -> f64 {
        let ratios: Vec<f64> = self.0[a].iter().zip(&self.0[b]).map(|(a, b)| a / b).collect();
        percentile(&ratios, 0.5)
    }
}

/// Takes each of `count` measures, `measure(n, turn)`, in [`ROUNDS`] turns.
async fn in_turns<F, R>(count: usize, measure: F) -> Result<Turns>
where
    F: Fn(usize, usize) -> R,
    R: Future<Output = Result<f64>>,
{
    let mut taken = vec![Vec::new(); count];
    for turn in 0..ROUNDS {
        for step in 0..count {
            let n = if turn % 2 == 0 { step } else { count - 1 - step };
            taken[n].push(measure(n, turn).await?);
        }
    }
    Ok(Turns(taken))
}

/// What the throughput runs measure.
#[derive(Debug, Clone, Copy)]
enum Measure {
    GetFile,
    Listing,
    Create,
    Share,
}

/// A server with 100 grids and their plots, for a listing page of 100 and files to read.
struct Prepared {
    engine: String,
    client: Client,
    plots: Vec<String>,
}

impl Prepared {
    /// Fills the empty server at `url`.
    async fn new(url: &str, engine: &str) -> Result<Self> {
        let client = client(url)?;
        let mut plots = Vec::new();
        for index in 0..100 {
            plots.push(create_plot(&client, index).await?);
        }
        Ok(Self { engine: engine.to_owned(), client, plots })
    }

    /// Answers per second to `measure` for `seconds`, in turn `turn`.
    async fn rate(&self, measure: Measure, seconds: f64, turn: usize) -> Result<f64> {
        let client = &self.client;
        match measure {
            Measure::GetFile => {
                rate(seconds, |_| send(client, Raw::new("GET", format!("files/{}", self.plots[0]))))
                    .await
            }
            Measure::Listing => {
                let listing = || Raw::new("GET", "folders/home?page=1&page_size=100");
                rate(seconds, |_| send(client, listing())).await
            }
            Measure::Create => {
                // Named past the files of the other turns.
                let first = (turn + 1) * 1_000_000;
                rate(
                    seconds,
                    |index| async move { create_plot(client, first + index).await.map(drop) },
                )
                .await
            }
            Measure::Share => {
                rate(seconds, |index| {
                    let file = &self.plots[index % self.plots.len()];
                    let mut request = Raw::new("PATCH", format!("files/{file}"));
                    request.body = Some(json!({"world_readable": index % 2 == 0}));
                    send(client, request)
                })
                .await
            }
        }
    }
}

/// Sends `request`, whose answer must be a success.
async fn send(client: &Client, request: Raw) -> Result<()> {
    client.send(&request).await?;
    Ok(())
}

/// A small grid and a plot drawn from it, both named by `index` (as clients name their files;
/// the server's `untitled N` names cost a search of the folder); the plot's fid.
async fn create_plot(client: &Client, index: usize) -> Result<String> {
    let mut grid = Raw::new("POST", "grids");
    grid.body = Some(json!({
        "filename": format!("grid {index}"),
        "data": {"cols": {"x": {"data": [1, 2, 3], "order": 0}, "y": {"data": [index, 1, 3], "order": 1}}},
    }));
    let grid: Value = client.send(&grid).await?;
    let fid = grid["file"]["fid"].as_str().context("grid fid")?;
    let uid = |i: usize| grid["file"]["cols"][i]["uid"].as_str().unwrap_or_default().to_owned();
    let mut plot = Raw::new("POST", "plots");
    plot.body = Some(json!({"filename": format!("plot {index}"), "figure": {"data": [{
        "type": "scatter", "xsrc": format!("{fid}:{}", uid(0)), "ysrc": format!("{fid}:{}", uid(1)),
    }]}}));
    let plot: Value = client.send(&plot).await?;
    Ok(plot["file"]["fid"].as_str().context("plot fid")?.to_owned())
}

/// Answers per second to `request(n)` with [`IN_FLIGHT`] in flight for `seconds`.
async fn rate<F, R>(seconds: f64, request: F) -> Result<f64>
where
    F: Fn(usize) -> R,
    R: Future<Output = Result<()>>,
{
    use futures_util::StreamExt;
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut answered = 0usize;
    let mut next = 0usize;
    let mut flying = futures_util::stream::FuturesUnordered::new();
    while next < IN_FLIGHT {
        flying.push(request(next));
        next += 1;
    }
    while let Some(done) = flying.next().await {
        done?;
        answered += 1;
        if Instant::now() < until {
            flying.push(request(next));
            next += 1;
        }
    }
    Ok(answered as f64 / started.elapsed().as_secs_f64())
}

/// Starts the server on `data` (`files` files, grids of `grid_rows` rows, `grid_mb` of grid
/// data), times its first answer, reads `reads` grid contents and measures its memory.
async fn restart(
    bin: &Path,
    data: &Path,
    (grid_rows, files, grid_mb): (usize, usize, f64),
    reads: usize,
) -> Result<SizePoint> {
    let database_mb = std::fs::metadata(data.join("chart-studio.sqlite3"))?.len() as f64 / 1e6;
    let mut args = base_args();
    args.extend(["--data".to_owned(), path_arg(data)?]);
    let started = Instant::now();
    let running = server::start(bin, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let client = client(&running.url)?;
    client.send(&Raw::new("GET", format!("files/{}:1", USER.0))).await?;
    let restart_seconds = started.elapsed().as_secs_f64();
    let rss_mb = status_mb(running.pid(), "VmRSS:")?;
    let grids = files / 2;
    for read in 0..reads.min(grids) {
        // Grids sit at even idlocals, spread over the whole folder.
        let idlocal = (read * grids / reads.min(grids)) * 2;
        let content: Value =
            client.send(&Raw::new("GET", format!("grids/{}:{idlocal}/content", USER.0))).await?;
        if content["cols"].as_object().is_none_or(serde_json::Map::is_empty) {
            bail!("grid {idlocal} came back without columns");
        }
    }
    Ok(SizePoint {
        grid_rows,
        files,
        grid_mb,
        database_mb,
        restart_seconds,
        rss_mb,
        rss_after_reads_mb: status_mb(running.pid(), "VmRSS:")?,
        peak_mb: status_mb(running.pid(), "VmHWM:")?,
    })
}

/// Starts the server on `data` (large grids) without a content cache and times small GETs,
/// alone for `seconds`, then for as long again while another task reads large grid contents
/// one after the other.
async fn stall(bin: &Path, data: &Path, seconds: f64) -> Result<Stall> {
    let mut args = base_args();
    args.extend(["--data".to_owned(), path_arg(data)?, "--cache-mb".to_owned(), "0".to_owned()]);
    let running = server::start(bin, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let client = std::sync::Arc::new(client(&running.url)?);
    let small = Raw::new("GET", format!("files/{}:1", USER.0));
    let small_gets = |until: Instant| {
        let (client, small) = (std::sync::Arc::clone(&client), small.clone());
        async move {
            let mut waits = Vec::new();
            while Instant::now() < until {
                let sent = Instant::now();
                send(&client, small.clone()).await?;
                waits.push(sent.elapsed().as_secs_f64() * 1e3);
            }
            anyhow::Ok(waits)
        }
    };
    let quiet = small_gets(Instant::now() + Duration::from_secs_f64(seconds)).await?;
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let reader = tokio::spawn({
        let client = std::sync::Arc::clone(&client);
        let large = Raw::new("GET", format!("grids/{}:0/content", USER.0));
        async move {
            let mut reads = Vec::new();
            while Instant::now() < until {
                let sent = Instant::now();
                send(&client, large.clone()).await?;
                reads.push(sent.elapsed().as_secs_f64() * 1e3);
            }
            anyhow::Ok(reads)
        }
    });
    let loaded = small_gets(until).await?;
    let reads = reader.await??;
    if reads.is_empty() || quiet.is_empty() || loaded.is_empty() {
        bail!("the stall run made no requests");
    }
    Ok(Stall {
        quiet_p99_ms: percentile(&quiet, 0.99),
        loaded_p99_ms: percentile(&loaded, 0.99),
        loaded_max_ms: percentile(&loaded, 1.0),
        large_read_ms: percentile(&reads, 0.5),
        large_reads: reads.len(),
    })
}

/// The `q` quantile (0 to 1) of `values`, which is not empty.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// A memory field of `/proc/PID/status`, in MB.
fn status_mb(pid: u32, field: &str) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb * 1024.0 / 1e6)
}

fn targets(
    ratios: Ratios,
    two_processes: f64,
    points: &[SizePoint],
    stall: &Stall,
) -> Vec<(String, bool)> {
    let Ratios { disk_get: get_ratio, disk_listing: listing_ratio, team: two_ratio } = ratios;
    let most_rss = points.iter().map(|p| p.peak_mb).fold(0.0, f64::max);
    let slowest = points.iter().map(|p| p.restart_seconds).fold(0.0, f64::max);
    vec![
        (format!("peak RSS below 300 MB at every size ({most_rss:.0} MB)"), most_rss < 300.0),
        (
            format!("restart to first answer under 1 s at every size ({slowest:.2} s)"),
            slowest < 1.0,
        ),
        (
            format!("GET file on disk ≥ 80% of in memory ({:.0}%)", get_ratio * 100.0),
            get_ratio >= 0.8,
        ),
        (
            format!("listing page on disk ≥ 80% of in memory ({:.0}%)", listing_ratio * 100.0),
            listing_ratio >= 0.8,
        ),
        (
            format!(
                "small GET p99 while large grids are read below one large read: no small answer waits for a large one ({:.1} ms, {:.1} ms)",
                stall.loaded_p99_ms, stall.large_read_ms
            ),
            stall.loaded_p99_ms < stall.large_read_ms,
        ),
        (
            format!(
                "creates by {TEAM} accounts through two processes on PostgreSQL ≥ 1.5× one ({two_processes:.0}/s, {two_ratio:.2}×)"
            ),
            two_ratio >= 1.5,
        ),
    ]
}

/// The README's server table.
fn table(report: &Report) -> String {
    let mut out = String::from(
        "| engine | GET file /s | listing page of 100 /s | create plot /s | PATCH sharing /s |\n|---|---:|---:|---:|---:|\n",
    );
    for t in &report.throughput {
        out.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            t.engine, t.get_file, t.listing, t.create, t.share
        ));
    }
    let (one, two) = report.team_creates;
    out.push_str(&format!(
        "| PostgreSQL, {TEAM} accounts creating, one process | | | {one:.0} | |\n"
    ));
    out.push_str(&format!(
        "| PostgreSQL, {TEAM} accounts creating, two processes | | | {two:.0} | |\n"
    ));
    out.push_str(
        "\n| files | rows per grid | grid data | database | restart to first answer | RSS | RSS after reading grids | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for p in &report.sizes {
        out.push_str(&format!(
            "| {} | {} | {:.0} MB | {:.0} MB | {:.2} s | {:.0} MB | {:.0} MB | {:.0} MB |\n",
            p.files,
            p.grid_rows,
            p.grid_mb,
            p.database_mb,
            p.restart_seconds,
            p.rss_mb,
            p.rss_after_reads_mb,
            p.peak_mb
        ));
    }
    let stall = &report.stall;
    out.push_str(&format!(
        "\nSmall GET file while another client reads {}-row grids one after the other (no \
         content cache): p99 {:.1} ms (alone: {:.1} ms), slowest {:.1} ms; one large read \
         takes {:.1} ms (median of {}).\n\n",
        LARGE_GRID_ROWS,
        stall.loaded_p99_ms,
        stall.quiet_p99_ms,
        stall.loaded_max_ms,
        stall.large_read_ms,
        stall.large_reads
    ));
    for (target, met) in &report.targets {
        out.push_str(&format!("- {} {target}\n", if *met { "met:" } else { "**missed**:" }));
    }
    out
}

/// Peak RSS against the database's size, as an SVG line chart: one line for many small files,
/// one for large grids.
fn chart(points: &[SizePoint], path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let most_db = points.iter().map(|p| p.database_mb).fold(1.0, f64::max) * 1.1;
    let most_rss = points.iter().map(|p| p.peak_mb).fold(300.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (640, 360)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("chart-studio-server: peak memory against data size", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..most_db, 0.0..most_rss)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("database size (MB)")
        .y_desc("peak RSS (MB)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let series = [
        ("plots with 100-row grids", SMALL_GRID_ROWS, BLUE),
        ("plots with 100,000-row grids", LARGE_GRID_ROWS, RGBColor(0, 140, 0)),
    ];
    for (label, rows, color) in series {
        let points = points.iter().filter(|p| p.grid_rows == rows);
        let line: Vec<(f64, f64)> = points.map(|p| (p.database_mb, p.peak_mb)).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        chart
            .draw_series(line.into_iter().map(|at| Circle::new(at, 4, color.filled())))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    chart
        .draw_series(LineSeries::new([(0.0, 300.0), (most_db, 300.0)], RED))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label("target: 300 MB")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(grid_rows: usize, files: usize, database_mb: f64, peak_mb: f64) -> SizePoint {
        SizePoint {
            grid_rows,
            files,
            grid_mb: 0.0,
            database_mb,
            restart_seconds: 0.1,
            rss_mb: peak_mb,
            rss_after_reads_mb: peak_mb,
            peak_mb,
        }
    }

    #[test]
    fn the_chart_draws_a_line_per_kind_of_data_and_the_target() {
        let points = [
            point(SMALL_GRID_ROWS, 10_000, 11.0, 45.0),
            point(SMALL_GRID_ROWS, 100_000, 107.0, 156.0),
            point(LARGE_GRID_ROWS, 650, 510.0, 120.0),
            point(LARGE_GRID_ROWS, 2_600, 2_040.0, 134.0),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        chart(&points, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for label in ["plots with 100-row grids", "plots with 100,000-row grids", "target: 300 MB"]
        {
            assert!(svg.contains(label), "{label} is missing");
        }
        assert_eq!(svg.matches("<circle").count(), points.len(), "a dot per point");
    }
}
