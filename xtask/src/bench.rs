//! `cargo xtask bench`: bulk runs against the local server with injected latency, each reported
//! as a ratio to its ideal time and to a sequential one-request-at-a-time loop measured in the
//! same run; and the peak memory of streaming a 100,000-file listing.
//!
//! The sequential loops (the scripts of Plotly's docs) run on a sample of the same files, so the
//! benchmark takes minutes rather than a quarter of an hour; their time per file is measured and
//! scaled to the full count.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, Config, Credentials, files, folders};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_server::{Faults, ServerConfig, ServerHandle};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::{cargo, project_root, run_command, say};

/// Injected latency per request.
const LATENCY: Duration = Duration::from_millis(20);
/// Plots (each with a grid) in the bulk runs.
const PLOTS: usize = 2_000;
/// Plots (each with a grid) in the sequential samples.
const SAMPLE: usize = 200;
/// Files in the listing whose memory is measured.
const LISTED_FILES: usize = 100_000;
/// Requests in flight in the bulk runs.
const JOBS: usize = 16;

struct Measure {
    name: String,
    seconds: f64,
    ideal: f64,
    sequential: f64,
}

pub(crate) fn run() -> Result<()> {
    if cfg!(debug_assertions) {
        // The server runs inside this process: measure it optimized, as it would be deployed.
        return run_command(
            &cargo(),
            &["run", "--release", "--quiet", "-p", "xtask", "--", "bench"],
            &[],
        );
    }
    run_command(&cargo(), &["build", "--release", "--quiet", "-p", "chart-studio-cli"], &[])?;
    let cli = project_root().join("target/release/chart-studio");
    let runtime = tokio::runtime::Runtime::new()?;
    let users = ["share", "share-seq", "delete", "delete-seq", "nobackup", "big"]
        .map(|u| (u.to_owned(), format!("{u}-bench-key")));
    let server = runtime.block_on(chart_studio_server::start(ServerConfig {
        users: users.to_vec(),
        ..ServerConfig::default()
    }))?;
    for (user, count) in [
        ("share", PLOTS),
        ("share-seq", SAMPLE),
        ("delete", PLOTS),
        ("delete-seq", SAMPLE),
        ("nobackup", PLOTS),
    ] {
        server.add_plots(user, count, "bench", true)?;
    }
    server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
    let latency = LATENCY.as_secs_f64();
    let files = (2 * PLOTS) as f64;
    let listing = (1 + (2 * PLOTS + 1).div_ceil(500)) as f64;

    let seq_share =
        runtime.block_on(sequential_share(&server, "share-seq"))? / (2 * SAMPLE) as f64 * files;
    let share = timed(
        &cli,
        &server,
        "share",
        &["bulk", "share", "private", "--yes", "--jobs", &JOBS.to_string()],
    )?;
    // The listing; each plot's figure (its grids are read there, not from listing fields); then
    // one update per file.
    let share_ideal = listing * latency + (PLOTS as f64 + files) * latency / JOBS as f64;
    let share_kept = share_with_data(&runtime, &cli, &users[0])?;

    let seq_delete =
        runtime.block_on(sequential_delete(&server, "delete-seq"))? / (2 * SAMPLE) as f64 * files;
    let delete =
        timed(&cli, &server, "delete", &["bulk", "delete", "--yes", "--jobs", &JOBS.to_string()])?;
    // The listing and the trash's; per plot: backup (figure, inlined figure; the metadata comes
    // from the listing), trash, delete; per grid: backup (columns), trash, delete; then the
    // emptied folder on its own: a check that it is empty, trash, delete.
    let delete_requests = PLOTS as f64 * 4.0 + PLOTS as f64 * 3.0;
    let folder_tail = 3.0 * latency;
    let delete_ideal =
        (listing + 1.0) * latency + delete_requests * latency / JOBS as f64 + folder_tail;
    let no_backup = timed(
        &cli,
        &server,
        "nobackup",
        &["bulk", "delete", "--no-backup", "--yes", "--jobs", &JOBS.to_string()],
    )?;
    let no_backup_ideal =
        (listing + 1.0) * latency + files * 2.0 * latency / JOBS as f64 + folder_tail;

    server.set_faults(Faults::default());
    server.add_plots("big", LISTED_FILES / 2, "bench", true)?;
    let peak_kib = peak_memory(&cli, &server, "big")?;
    runtime.block_on(server.stop())?;

    let measures = [
        Measure {
            name: format!("`bulk share private`, {} files, `--jobs {JOBS}`", thousands(2 * PLOTS)),
            seconds: share,
            ideal: share_ideal,
            sequential: seq_share,
        },
        Measure {
            name: format!(
                "the same against a server with `--data` (SQLite), {:.0}% of in memory",
                100.0 * share_kept / share
            ),
            seconds: share_kept,
            ideal: share_ideal,
            sequential: seq_share,
        },
        Measure {
            name: format!(
                "`bulk delete` (backups on), {} files, `--jobs {JOBS}`",
                thousands(2 * PLOTS)
            ),
            seconds: delete,
            ideal: delete_ideal,
            sequential: seq_delete,
        },
        Measure {
            name: format!(
                "`bulk delete --no-backup`, {} files, `--jobs {JOBS}`",
                thousands(2 * PLOTS)
            ),
            seconds: no_backup,
            ideal: no_backup_ideal,
            sequential: seq_delete,
        },
    ];
    let mut table = vec![
        format!(
            "Latest numbers (`cargo xtask bench`, 2 cores, {} ms injected latency per request; the sequential",
            LATENCY.as_millis()
        ),
        format!(
            "loops are the scripts of Plotly's docs, one request at a time, measured on {} files and scaled):",
            2 * SAMPLE
        ),
        String::new(),
        "| run | seconds | ideal (requests × latency / jobs) | / ideal | sequential loop | speed-up |"
            .to_owned(),
        "|---|---:|---:|---:|---:|---:|".to_owned(),
    ];
    for m in &measures {
        table.push(format!(
            "| {} | {:.2} | {:.2} | {:.0}% | {:.1} | {:.1}× |",
            m.name,
            m.seconds,
            m.ideal,
            100.0 * m.seconds / m.ideal,
            m.sequential,
            m.sequential / m.seconds
        ));
    }
    let peak_mib = peak_kib as f64 / 1024.0;
    table.push(format!(
        "| `folders ls` of {} files, piped | peak memory {peak_mib:.1} MiB | | | | |",
        thousands(LISTED_FILES)
    ));
    let table = table.join("\n");
    say(&format!("\n{table}\n"));
    write_readme_numbers(&table)?;
    let report = json!({
        "latency_ms": LATENCY.as_millis(),
        "jobs": JOBS,
        "runs": measures.iter().map(|m| json!({
            "name": m.name, "seconds": m.seconds, "ideal_seconds": m.ideal, "ratio_to_ideal": m.seconds / m.ideal,
            "sequential_seconds": m.sequential, "speedup": m.sequential / m.seconds,
        })).collect::<Vec<_>>(),
        "listing": {"files": LISTED_FILES, "peak_memory_mib": peak_mib},
    });
    let path = project_root().join("target/bench/bench.json");
    std::fs::create_dir_all(path.parent().context("no parent")?)?;
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    say(&format!("\nwritten to {}", path.display()));
    Ok(())
}

/// `bulk share private` against a second server that keeps its data in SQLite (`--data`), with
/// the same files and latency as the in-memory run.
fn share_with_data(
    runtime: &tokio::runtime::Runtime,
    cli: &Path,
    (user, key): &(String, String),
) -> Result<f64> {
    let data = project_root().join("target/bench/data");
    let _ = std::fs::remove_dir_all(&data);
    let server = runtime.block_on(chart_studio_server::start(ServerConfig {
        users: vec![(user.clone(), key.clone())],
        data_dir: Some(data),
        ..ServerConfig::default()
    }))?;
    server.add_plots(user, PLOTS, "bench", true)?;
    server.set_faults(Faults { latency: LATENCY, ..Faults::default() });
    let seconds = timed(
        cli,
        &server,
        user,
        &["bulk", "share", "private", "--yes", "--jobs", &JOBS.to_string()],
    )?;
    runtime.block_on(server.stop())?;
    Ok(seconds)
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

/// Replaces the numbers between the README's bench markers with `table`.
fn write_readme_numbers(table: &str) -> Result<()> {
    const START: &str = "<!-- bench: written by `cargo xtask bench` -->";
    const END: &str = "<!-- /bench -->";
    let path = project_root().join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        bail!("README.md has no {START} ... {END} section");
    };
    let updated = format!("{}{START}\n{table}\n{}", &readme[..start], &readme[end..]);
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

/// The privacy tutorial's loop: list, then PATCH each file, one request at a time. Seconds.
async fn sequential_share(server: &ServerHandle, user: &str) -> Result<f64> {
    let client = client(server, user)?;
    let started = tokio::time::Instant::now();
    for file in all_files(&client, user).await? {
        client
            .send(&files::Update::patch(file.fid, FileUpdate::default().sharing(false, false)))
            .await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// The delete notebook's loop: list, then for each file GET, trash, permanent delete. Seconds.
async fn sequential_delete(server: &ServerHandle, user: &str) -> Result<f64> {
    let client = client(server, user)?;
    let started = tokio::time::Instant::now();
    for file in all_files(&client, user).await? {
        client.send(&files::Retrieve::new(file.fid.clone())).await?;
        client.send(&files::Trash::new(file.fid.clone())).await?;
        client.send(&files::PermanentDelete::new(file.fid)).await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Runs the CLI as `user` in a scratch folder and returns its wall time in seconds.
fn timed(cli: &Path, server: &ServerHandle, user: &str, args: &[&str]) -> Result<f64> {
    let dir = project_root().join("target/bench").join(user);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let started = tokio::time::Instant::now();
    let status = cli_command(cli, server, user, &dir).args(args).stdout(Stdio::null()).status()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("chart-studio {} failed ({status})", args.join(" "));
    }
    Ok(seconds)
}

fn cli_command(cli: &Path, server: &ServerHandle, user: &str, dir: &Path) -> Command {
    let mut command = Command::new(cli);
    command
        .current_dir(dir)
        .env("HOME", dir)
        .env("PLOTLY_API_DOMAIN", server.url())
        .env("PLOTLY_USERNAME", user)
        .env("PLOTLY_API_KEY", format!("{user}-bench-key"));
    command
}

/// Peak resident memory (KiB) of listing every file of `user` piped, measured by GNU time.
fn peak_memory(cli: &Path, server: &ServerHandle, user: &str) -> Result<u64> {
    let dir = project_root().join("target/bench").join(user);
    std::fs::create_dir_all(&dir)?;
    let output = cli_command(Path::new("/usr/bin/time"), server, user, &dir)
        .args(["-f", "%M"])
        .arg(cli)
        .args(["folders", "ls"])
        .stdout(Stdio::null())
        .output()
        .context("could not run /usr/bin/time (install the `time` package)")?;
    if !output.status.success() {
        bail!("listing failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .with_context(|| format!("no peak memory in {text:?}"))
}
