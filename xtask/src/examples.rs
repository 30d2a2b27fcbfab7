//! `cargo xtask examples`: runs each example of the workflows crate against a local server
//! with public plots, and checks what it did.

use anyhow::{Context, Result, bail};
use chart_studio_api::{Client, Config, Credentials, files, folders};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_models::FileType;
use chart_studio_server::{ServerConfig, ServerHandle};
use futures_util::TryStreamExt;

use crate::{cargo, project_root, say};

const USER: (&str, &str) = ("examples", "examples-key");

pub(crate) fn run() -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(chart_studio_server::start(ServerConfig {
        users: vec![(USER.0.to_owned(), USER.1.to_owned())],
        ..ServerConfig::default()
    }))?;
    server.add_plots(USER.0, 3, "reports", true)?;
    server.add_plots(USER.0, 2, "", true)?;
    let client = Client::new(
        HttpTransport::new(&HttpSettings::default())?,
        Config::new(server.url(), Some(Credentials::new(USER.0, USER.1)), false)?,
    );
    let listed = || -> Result<Vec<chart_studio_models::File>> {
        let all = folders::All { user: Some(USER.0.to_owned()), ..Default::default() };
        Ok(runtime.block_on(client.items(all).try_collect())?)
    };

    example(&server, "make_all_private", &[])?;
    let public: Vec<String> = listed()?
        .into_iter()
        .filter(|f| f.filetype != FileType::Folder && f.world_readable != Some(false))
        .map(|f| f.fid.to_string())
        .collect();
    if !public.is_empty() {
        bail!("make_all_private left {public:?} public");
    }

    example(&server, "create_secret_plot", &[])?;
    for path in ["examples/sales", "examples/sales_grid"] {
        let file = runtime.block_on(client.send(&files::Lookup::new(path)))?;
        if file.world_readable != Some(false) || file.share_key_enabled != Some(true) {
            bail!("create_secret_plot left {path} ({}) not secret", file.fid);
        }
    }

    let dir = project_root().join("target/examples/backup");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("jsonl"));
    example(&server, "backup_account", &[dir.to_str().context("path")?])?;
    let manifest = manifest_entries(&dir)?;
    let files = listed()?.len();
    if manifest != files {
        bail!("backup_account wrote {manifest} file(s), the account has {files}");
    }

    let charts = project_root().join("target/examples/charts");
    let _ = std::fs::remove_dir_all(&charts);
    example(&server, "export_images", &[charts.to_str().context("path")?])?;
    let plots = listed()?.into_iter().filter(|f| f.filetype == FileType::Plot).count();
    let pngs = std::fs::read_dir(&charts)?
        .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
        .filter(|bytes| bytes.starts_with(b"\x89PNG"))
        .count();
    if pngs != plots || plots == 0 {
        bail!("export_images drew {pngs} PNG(s) for {plots} plot(s)");
    }
    runtime.block_on(server.stop())?;
    say("examples: all four did what they say");
    Ok(())
}

/// Lines after the header of a backup's manifest: one per verified file.
fn manifest_entries(dir: &std::path::Path) -> Result<usize> {
    let text = std::fs::read_to_string(dir.join("manifest.jsonl"))
        .with_context(|| format!("no manifest in {}", dir.display()))?;
    Ok(text.lines().count().saturating_sub(1))
}

/// Runs one example against `server` as the examples' account.
fn example(server: &ServerHandle, name: &str, args: &[&str]) -> Result<()> {
    say(&format!("$ cargo run --example {name} {}", args.join(" ")));
    let output = std::process::Command::new(cargo())
        .args(["run", "--quiet", "-p", "chart-studio-workflows", "--example", name, "--"])
        .args(args)
        .env("PLOTLY_USERNAME", USER.0)
        .env("PLOTLY_API_KEY", USER.1)
        .env("PLOTLY_API_DOMAIN", server.url())
        .output()
        .with_context(|| format!("could not run the example {name}"))?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        say(&format!("  {line}"));
    }
    if !output.status.success() {
        bail!("the example {name} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}
