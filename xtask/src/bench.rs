//! `cargo xtask bench [--quick]`: bulk runs against the local server with injected latency.
//!
//! Each run is timed, and the server counts the requests it answered; the ideal time is
//! computed from that count (requests × latency / requests in flight), not assumed. Sequential
//! baselines (the loops of Plotly's docs, one request at a time) are measured in full on the
//! same files. Peak memory is measured with GNU time. Everything goes to
//! `target/bench/bench.json`, and the README's table is generated from that file. `--quick`
//! runs the same steps on small accounts (a minute or two, for CI) and leaves the README alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, Config, Credentials, files, folders};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_server::{Faults, ServerConfig, ServerHandle};
use clap::ValueEnum;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::{cargo, project_root, run_command, say};

/// Injected latency per request.
const LATENCY: Duration = Duration::from_millis(20);
/// Requests in flight in the fixed-concurrency runs.
const JOBS: usize = 16;
/// The rate limit of the `--jobs auto` run, requests per second.
const RATE_LIMIT: f64 = 100.0;

/// How big the accounts are.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Plots (each with a grid) of the share and delete runs.
    plots: usize,
    /// Folders the plots of the folder-organised delete are spread over.
    folders: usize,
    /// Plots (each with a grid) imported.
    imported: usize,
    /// Plots trashed against the rate-limited server (one operation each).
    rate_ops: usize,
    /// Files of the small and the large memory runs.
    memory: [usize; 2],
    /// Files listed by `folders ls`.
    listed: usize,
}

const FULL: Sizes = Sizes {
    plots: 2_000,
    folders: 100,
    imported: 1_000,
    rate_ops: 4_000,
    memory: [20_000, 100_000],
    listed: 100_000,
};

const QUICK: Sizes = Sizes {
    plots: 60,
    folders: 6,
    imported: 30,
    rate_ops: 300,
    memory: [1_000, 4_000],
    listed: 4_000,
};

/// One measured run, as `bench.json` holds it.
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    /// What ran.
    name: String,
    /// Wall time.
    seconds: f64,
    /// Requests the server answered during the run.
    requests: u64,
    /// The ideal time: requests × latency / requests in flight (or requests / rate limit).
    ideal_seconds: Option<f64>,
    /// The sequential loop's time on the same files, measured in full.
    sequential_seconds: Option<f64>,
    /// Peak resident memory of the CLI.
    peak_mib: Option<f64>,
    /// The target, in words, and whether it is met.
    target: Option<String>,
    met: Option<bool>,
}

impl Measured {
    fn timed(name: String, (seconds, requests): (f64, u64)) -> Self {
        Self {
            name,
            seconds,
            requests,
            ideal_seconds: None,
            sequential_seconds: None,
            peak_mib: None,
            target: None,
            met: None,
        }
    }

    fn ideal(mut self, jobs: usize) -> Self {
        self.ideal_seconds = Some(self.requests as f64 * LATENCY.as_secs_f64() / jobs as f64);
        self
    }

    fn target(mut self, target: &str, met: bool) -> Self {
        self.target = Some(target.to_owned());
        self.met = Some(met);
        self
    }
}

/// `bench.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    quick: bool,
    latency_ms: u64,
    jobs: usize,
    runs: Vec<Measured>,
}

/// A group of runs, to measure one alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Group {
    /// Sharing changes against the sequential loop.
    Share,
    /// Deletes with backups, flat and in folders.
    Deletes,
    /// Importing a backup.
    Import,
    /// `--jobs auto` against a rate limit and against latency.
    Auto,
    /// Peak memory of large runs.
    Memory,
    /// Images from the server's renderer, against Kaleido.
    Images,
    /// The server alone: answers per second by engine, memory and restart against data size.
    Server,
}

pub(crate) fn run(quick: bool, only: Option<Group>) -> Result<()> {
    if cfg!(debug_assertions) {
        // The server runs inside this process: measure it optimized, as it would be deployed.
        let mut args = vec!["run", "--release", "--quiet", "-p", "xtask", "--", "bench"];
        if quick {
            args.push("--quick");
        }
        let group = only.and_then(|group| group.to_possible_value());
        if let Some(group) = &group {
            args.extend(["--only", group.get_name()]);
        }
        return run_command(&cargo(), &args, &[]);
    }
    run_command(&cargo(), &["build", "--release", "--quiet", "-p", "chart-studio-cli"], &[])?;
    let sizes = if quick { QUICK } else { FULL };
    let bench = Bench {
        cli: project_root().join("target/release/chart-studio"),
        runtime: tokio::runtime::Runtime::new()?,
    };
    let mut runs = Vec::new();
    let wanted = |group| only.is_none_or(|only| only == group);
    if wanted(Group::Share) {
        runs.extend(bench.share(sizes)?);
    }
    if wanted(Group::Deletes) {
        runs.extend(bench.deletes(sizes)?);
    }
    if wanted(Group::Import) {
        runs.extend(bench.import(sizes)?);
    }
    if wanted(Group::Auto) {
        runs.extend(bench.auto(sizes)?);
    }
    if wanted(Group::Memory) {
        runs.extend(bench.memory(sizes)?);
    }
    if wanted(Group::Images) {
        let table = crate::bench_images::measure(quick)?;
        say(&format!("\n{table}\n"));
        if !quick {
            write_readme_section(IMAGES_MARKERS, &table)?;
        }
        if only == Some(Group::Images) {
            return Ok(());
        }
    }
    if wanted(Group::Server) {
        let table = crate::bench_server::measure(quick)?;
        say(&format!("\n{table}\n"));
        if !quick {
            write_readme_section(SERVER_MARKERS, &table)?;
        }
        if only == Some(Group::Server) {
            return Ok(());
        }
    }
    let report = Report { quick, latency_ms: LATENCY.as_millis() as u64, jobs: JOBS, runs };
    let dir = project_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let name = match only.and_then(|group| group.to_possible_value()) {
        Some(group) => format!("{}.json", group.get_name()),
        None if quick => "quick.json".to_owned(),
        None => "bench.json".to_owned(),
    };
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    say(&format!("written to {}", path.display()));
    let table = table(&serde_json::from_slice(&std::fs::read(&path)?)?);
    say(&format!("\n{table}\n"));
    if !quick && only.is_none() {
        write_readme_section(BULK_MARKERS, &table)?;
    }
    Ok(())
}

struct Bench {
    cli: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    /// A server with `users`, each key `USER-bench-key`.
    fn server(&self, users: &[&str], data: Option<PathBuf>) -> Result<ServerHandle> {
        let users = users.iter().map(|u| ((*u).to_owned(), format!("{u}-bench-key"))).collect();
        self.runtime.block_on(chart_studio_server::start(ServerConfig {
            users,
            data_dir: data,
            ..ServerConfig::default()
        }))
    }

    fn stop(&self, server: ServerHandle) -> Result<()> {
        self.runtime.block_on(server.stop())
    }

    /// Runs the CLI as `user` and returns (seconds, requests the server answered meanwhile).
    fn cli(&self, server: &ServerHandle, user: &str, args: &[&str]) -> Result<(f64, u64)> {
        let dir = scratch(user)?;
        let before = server.requests_served();
        let started = tokio::time::Instant::now();
        let output = cli_command(&self.cli, server, user, &dir).args(args).output()?;
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            bail!(
                "chart-studio {} failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok((seconds, server.requests_served() - before))
    }

    /// Runs a sequential loop and returns its seconds.
    fn sequential(
        &self,
        server: &ServerHandle,
        user: &str,
        each: fn(
            &Client,
            chart_studio_models::File,
        ) -> futures_util::future::BoxFuture<'_, Result<()>>,
    ) -> Result<f64> {
        let client = client(server, user)?;
        self.runtime.block_on(async {
            let started = tokio::time::Instant::now();
            for file in all_files(&client, user).await? {
                each(&client, file).await?;
            }
            Ok(started.elapsed().as_secs_f64())
        })
    }

    fn share(&self, sizes: Sizes) -> Result<Vec<Measured>> {
        let server = self.server(&["share", "share-seq"], None)?;
        server.add_plots("share", sizes.plots, "bench", true)?;
        server.add_plots("share-seq", sizes.plots, "bench", true)?;
        server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
        let files = thousands(2 * sizes.plots);
        let sequential = self.sequential(&server, "share-seq", |client, file| {
            Box::pin(async move {
                let private = FileUpdate::default().sharing(false, false);
                client.send(&files::Update::patch(file.fid, private)).await?;
                Ok(())
            })
        })?;
        let args = ["bulk", "share", "private", "--yes", "--jobs", &JOBS.to_string()];
        let mut share = Measured::timed(
            format!("`bulk share private`, {files} files, `--jobs {JOBS}`"),
            self.cli(&server, "share", &args)?,
        )
        .ideal(JOBS);
        share.sequential_seconds = Some(sequential);
        self.stop(server)?;

        let data = project_root().join("target/bench/data");
        let _ = std::fs::remove_dir_all(&data);
        let server = self.server(&["share"], Some(data))?;
        server.add_plots("share", sizes.plots, "bench", true)?;
        server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
        let mut kept = Measured::timed(
            format!("the same against a server with `--data` (SQLite), {files} files"),
            self.cli(&server, "share", &args)?,
        )
        .ideal(JOBS);
        kept.sequential_seconds = Some(sequential);
        self.stop(server)?;
        Ok(vec![share, kept])
    }

    fn deletes(&self, sizes: Sizes) -> Result<Vec<Measured>> {
        let users = ["flat", "flat-seq", "nobackup", "foldered", "foldered-seq"];
        let server = self.server(&users, None)?;
        for user in ["flat", "flat-seq", "nobackup"] {
            server.add_plots(user, sizes.plots, "bench", true)?;
        }
        let per_folder = sizes.plots / sizes.folders;
        for user in ["foldered", "foldered-seq"] {
            for folder in 0..sizes.folders {
                server.add_plots(user, per_folder, &format!("reports/f{folder}"), true)?;
            }
        }
        server.set_faults(Faults { latency: LATENCY, ..Faults::default() });

        let jobs = JOBS.to_string();
        let files = thousands(2 * sizes.plots);
        let old_loop = delete_loop;
        let flat_seq = self.sequential(&server, "flat-seq", old_loop)?;
        let mut flat = Measured::timed(
            format!("`bulk delete` (backups on), {files} files, `--jobs {JOBS}`"),
            self.cli(&server, "flat", &["bulk", "delete", "--yes", "--jobs", &jobs])?,
        )
        .ideal(JOBS);
        flat.sequential_seconds = Some(flat_seq);
        let mut no_backup = Measured::timed(
            format!("`bulk delete --no-backup`, {files} files, `--jobs {JOBS}`"),
            self.cli(
                &server,
                "nobackup",
                &["bulk", "delete", "--no-backup", "--yes", "--jobs", &jobs],
            )?,
        )
        .ideal(JOBS);
        no_backup.sequential_seconds = Some(flat_seq);
        let foldered_seq = self.sequential(&server, "foldered-seq", old_loop)?;
        let mut foldered = Measured::timed(
            format!(
                "`bulk delete` (backups on), {files} files in {} folders, `--jobs {JOBS}`",
                sizes.folders
            ),
            self.cli(&server, "foldered", &["bulk", "delete", "--yes", "--jobs", &jobs])?,
        )
        .ideal(JOBS);
        foldered.sequential_seconds = Some(foldered_seq);
        let speedup = foldered_seq / foldered.seconds;
        let foldered = foldered.target("at least 18× the sequential loop", speedup >= 18.0);
        self.stop(server)?;
        Ok(vec![flat, no_backup, foldered])
    }

    fn import(&self, sizes: Sizes) -> Result<Vec<Measured>> {
        let server = self.server(&["source", "one", "many"], None)?;
        server.add_plots("source", sizes.imported, "imported", true)?;
        let dir = project_root().join("target/bench/export");
        let _ = std::fs::remove_dir_all(&dir);
        let export = ["bulk", "export", dir.to_str().context("path")?, "--jobs", "16"];
        self.cli(&server, "source", &export)?;
        server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
        let import = |user: &str, jobs: &str| {
            self.cli(
                &server,
                user,
                &["bulk", "import", dir.to_str().unwrap_or_default(), "--jobs", jobs],
            )
        };
        let files = thousands(2 * sizes.imported);
        let one = Measured::timed(
            format!("`bulk import`, {files} files, `--jobs 1`"),
            import("one", "1")?,
        )
        .ideal(1);
        let many = Measured::timed(
            format!("`bulk import`, {files} files, `--jobs {JOBS}`"),
            import("many", &JOBS.to_string())?,
        )
        .ideal(JOBS);
        let ratio = many.seconds / many.ideal_seconds.unwrap_or(f64::INFINITY);
        let speedup = one.seconds / many.seconds;
        let mut many = many.target(
            &format!("at least 10× `--jobs 1` ({speedup:.1}×) and within 130% of ideal"),
            speedup >= 10.0 && ratio <= 1.3,
        );
        many.sequential_seconds = Some(one.seconds);
        self.stop(server)?;
        Ok(vec![one, many])
    }

    fn auto(&self, sizes: Sizes) -> Result<Vec<Measured>> {
        let server = self.server(&["limited", "fixed", "auto"], None)?;
        for user in ["limited", "fixed", "auto"] {
            server.add_plots(user, sizes.rate_ops, "bench", true)?;
        }
        let trash = |user: &str, jobs: &str| -> Result<(f64, u64)> {
            let args = ["bulk", "trash", "--filetype", "plot", "--yes", "--jobs", jobs];
            self.cli(&server, user, &args)
        };
        server.set_faults(Faults { rate_limit: Some(RATE_LIMIT), ..Faults::default() });
        let ops = thousands(sizes.rate_ops);
        let mut limited = Measured::timed(
            format!(
                "`bulk trash --jobs auto`, {ops} operations, server limited to {RATE_LIMIT} requests/s"
            ),
            trash("limited", "auto")?,
        );
        let ideal = limited.requests as f64 / RATE_LIMIT;
        limited.ideal_seconds = Some(ideal);
        let within = limited.seconds <= 1.15 * ideal;
        let limited =
            limited.target("within 115% of requests / rate limit, no operation failed", within);
        server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
        let fixed = Measured::timed(
            format!("`bulk trash --jobs {JOBS}`, {ops} operations"),
            trash("fixed", &JOBS.to_string())?,
        )
        .ideal(JOBS);
        let auto = Measured::timed(
            format!("`bulk trash --jobs auto`, {ops} operations"),
            trash("auto", "auto")?,
        )
        .ideal(JOBS);
        let as_fast = auto.seconds <= fixed.seconds * 1.02;
        let auto = auto.target(
            &format!("at least as fast as `--jobs {JOBS}` ({:.2} s)", fixed.seconds),
            as_fast,
        );
        self.stop(server)?;
        Ok(vec![limited, fixed, auto])
    }

    fn memory(&self, sizes: Sizes) -> Result<Vec<Measured>> {
        let mut runs = Vec::new();
        let mut peaks = Vec::new();
        for files in sizes.memory {
            let server = self.server(&["big"], None)?;
            server.add_plots("big", files / 2, "bench", true)?;
            let (share, peak) =
                self.peak(&server, "big", &["bulk", "share", "private", "--yes"])?;
            let mut share = Measured::timed(
                format!("`bulk share private`, {} files: memory", thousands(files)),
                share,
            );
            share.peak_mib = Some(peak);
            let (delete, delete_peak) = self.peak(&server, "big", &["bulk", "delete", "--yes"])?;
            let mut delete = Measured::timed(
                format!("`bulk delete`, {} files: memory", thousands(files)),
                delete,
            );
            delete.peak_mib = Some(delete_peak);
            peaks.push((peak, delete_peak));
            runs.push(share);
            runs.push(delete);
            self.stop(server)?;
        }
        if let [(small_share, small_delete), (large_share, large_delete)] = peaks[..] {
            let bound = if sizes.memory[1] >= 100_000 { 150.0 } else { f64::INFINITY };
            let growth = (large_share / small_share).max(large_delete / small_delete);
            if let Some(last) = runs.last_mut() {
                last.target = Some(format!(
                    "below 150 MB at 100,000 files, and less than 2× the memory of {} files ({growth:.1}×)",
                    thousands(sizes.memory[0])
                ));
                last.met = Some(large_share.max(large_delete) < bound && growth < 2.0);
            }
        }
        let server = self.server(&["listed"], None)?;
        server.add_plots("listed", sizes.listed / 2, "bench", true)?;
        let (listed, peak) = self.peak(&server, "listed", &["folders", "ls"])?;
        let mut listing = Measured::timed(
            format!("`folders ls` of {} files, piped: memory", thousands(sizes.listed)),
            listed,
        );
        listing.peak_mib = Some(peak);
        runs.push(listing);
        self.stop(server)?;
        Ok(runs)
    }

    /// Runs the CLI under GNU time: (seconds, requests), and its peak resident memory in MiB.
    fn peak(&self, server: &ServerHandle, user: &str, args: &[&str]) -> Result<((f64, u64), f64)> {
        let dir = scratch(user)?;
        let before = server.requests_served();
        let started = tokio::time::Instant::now();
        let output = cli_command(Path::new("/usr/bin/time"), server, user, &dir)
            .args(["-f", "%M"])
            .arg(&self.cli)
            .args(args)
            .stdout(Stdio::null())
            .output()
            .context("could not run /usr/bin/time (install the `time` package)")?;
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            bail!(
                "chart-studio {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let text = String::from_utf8_lossy(&output.stderr);
        let kib: f64 = text
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .with_context(|| format!("no peak memory in {text:?}"))?;
        Ok(((seconds, server.requests_served() - before), kib / 1024.0))
    }
}

/// The README's table, from `bench.json`.
fn table(report: &Report) -> String {
    let mut lines = vec![
        format!(
            "Latest numbers (`cargo xtask bench`, 2 cores, {} ms injected latency per request). The",
            report.latency_ms
        ),
        "ideal is the requests the server answered × the latency / the requests in flight; the".to_owned(),
        "sequential loops are the scripts of Plotly's docs, one request at a time, measured in full on".to_owned(),
        "the same files.".to_owned(),
        String::new(),
        "| run | seconds | requests | ideal | / ideal | sequential | speed-up | peak memory | target |".to_owned(),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|".to_owned(),
    ];
    let number =
        |value: Option<f64>, unit: &str| value.map(|v| format!("{v:.1}{unit}")).unwrap_or_default();
    for run in &report.runs {
        let ratio = run.ideal_seconds.map(|ideal| format!("{:.0}%", 100.0 * run.seconds / ideal));
        let speedup = run.sequential_seconds.map(|seq| seq / run.seconds);
        let target = match (&run.target, run.met) {
            (Some(target), Some(true)) => format!("met: {target}"),
            (Some(target), _) => format!("**missed**: {target}"),
            _ => String::new(),
        };
        lines.push(format!(
            "| {} | {:.2} | {} | {} | {} | {} | {} | {} | {target} |",
            run.name,
            run.seconds,
            thousands(run.requests as usize),
            number(run.ideal_seconds, ""),
            ratio.unwrap_or_default(),
            number(run.sequential_seconds, ""),
            number(speedup, "×"),
            number(run.peak_mib, " MiB"),
        ));
    }
    lines.join("\n")
}

/// `4000` as `4,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The README's markers around the bulk runs' table.
const BULK_MARKERS: (&str, &str) =
    ("<!-- bench: written by `cargo xtask bench` -->", "<!-- /bench -->");
/// The README's markers around the images' table.
const IMAGES_MARKERS: (&str, &str) =
    ("<!-- bench-images: written by `cargo xtask bench` -->", "<!-- /bench-images -->");
const SERVER_MARKERS: (&str, &str) =
    ("<!-- bench-server: written by `cargo xtask bench` -->", "<!-- /bench-server -->");

/// Replaces what stands between the README's `(start, end)` markers with `table`.
fn write_readme_section((start_marker, end_marker): (&str, &str), table: &str) -> Result<()> {
    let path = project_root().join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    let (Some(start), Some(end)) = (readme.find(start_marker), readme.find(end_marker)) else {
        bail!("README.md has no {start_marker} ... {end_marker} section");
    };
    let updated = format!("{}{start_marker}\n{table}\n{}", &readme[..start], &readme[end..]);
    std::fs::write(&path, updated)?;
    say("README.md: numbers updated");
    Ok(())
}

fn client(server: &ServerHandle, user: &str) -> Result<Client> {
    let config = Config::new(
        server.url(),
        Some(Credentials::new(user, format!("{user}-bench-key"))),
        false,
    )?;
    Ok(Client::new(HttpTransport::new(&HttpSettings::default())?, config))
}

/// Every file of `user` but its folders: what the old scripts loop over.
async fn all_files(client: &Client, user: &str) -> Result<Vec<chart_studio_models::File>> {
    let all =
        folders::All { user: Some(user.to_owned()), page_size: Some(500), ..Default::default() };
    let files: Vec<chart_studio_models::File> = client.items(all).try_collect().await?;
    Ok(files.into_iter().filter(|f| f.filetype != chart_studio_models::FileType::Folder).collect())
}

/// The delete notebook's loop, one file: GET, trash, permanent delete.
fn delete_loop(
    client: &Client,
    file: chart_studio_models::File,
) -> futures_util::future::BoxFuture<'_, Result<()>> {
    Box::pin(async move {
        client.send(&files::Retrieve::new(file.fid.clone())).await?;
        client.send(&files::Trash::new(file.fid.clone())).await?;
        client.send(&files::PermanentDelete::new(file.fid)).await?;
        Ok(())
    })
}

/// A fresh folder for one user's runs.
fn scratch(user: &str) -> Result<PathBuf> {
    let dir = project_root().join("target/bench").join(user);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn cli_command(program: &Path, server: &ServerHandle, user: &str, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .stdout(Stdio::null())
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("PLOTLY_API_DOMAIN", server.url())
        .env("PLOTLY_USERNAME", user)
        .env("PLOTLY_API_KEY", format!("{user}-bench-key"));
    command
}
