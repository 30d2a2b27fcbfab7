//! `cargo xtask ci compat`: scripts written for the real service, run unchanged (but for the
//! address) against the local server: Plotly's request-based doc snippets and the official
//! Python client `chart_studio`, installed into a virtual environment under `target/`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{project_root, run_command, say, server};

/// The Python packages the scripts need, pinned.
const PACKAGES: [&str; 3] = ["chart_studio==1.1.0", "plotly==5.24.1", "requests==2.34.2"];

pub(crate) fn run() -> Result<()> {
    let root = project_root();
    let venv = root.join("target").join("compat-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run_command("python3", &["-m", "venv", &venv.to_string_lossy()], &[])?;
    }
    let mut install = vec!["-m", "pip", "install", "--quiet", "--disable-pip-version-check"];
    install.extend(PACKAGES);
    run_command(&python.to_string_lossy(), &install, &[])?;

    let bin = server::build_binaries()?;
    let scripts = root.join("crates/server/tests/compat");
    let mut names: Vec<String> = std::fs::read_dir(&scripts)
        .with_context(|| format!("could not list {}", scripts.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".py"))
        .collect();
    names.sort();
    let mut failed = 0;
    for name in &names {
        let server =
            server::start(&bin, &["--user", "compat:compat-key", "--user", "pyuser:pyuser-key"])?;
        let home = tempdir(&root, name)?;
        let status = Command::new(&python)
            .arg(scripts.join(name))
            .env("CS_API", &server.url)
            .env("HOME", &home)
            .status()
            .with_context(|| format!("could not run {name}"))?;
        if !status.success() {
            failed += 1;
            say(&format!("FAIL {name} ({status})"));
        }
    }
    say(&format!("compat: {} passed, {failed} failed", names.len() - failed));
    if failed > 0 {
        bail!("{failed} compatibility script(s) failed");
    }
    Ok(())
}

/// An empty HOME for one script, so the client's ~/.plotly files start fresh.
fn tempdir(root: &Path, name: &str) -> Result<std::path::PathBuf> {
    let dir = root.join("target").join("compat-home").join(name.trim_end_matches(".py"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("could not clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir)
}
