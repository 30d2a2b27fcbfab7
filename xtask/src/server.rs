//! Starting the `chart-studio-server` binary and the other workspace binaries for xtask tasks.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{cargo, project_root, run_command};

/// A running server process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Server {
    /// Kills the process (SIGKILL) and waits for it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Builds the CLI and the server (debug profile) and returns the folder of the binaries.
pub(crate) fn build_binaries() -> Result<PathBuf> {
    run_command(
        &cargo(),
        &["build", "--quiet", "-p", "chart-studio-cli", "-p", "chart-studio-server"],
        &[],
    )?;
    Ok(project_root().join("target").join("debug"))
}

/// Starts the server on a free loopback port with `args` and waits for its address.
pub(crate) fn start(bin: &std::path::Path, args: &[&str]) -> Result<Server> {
    let listen =
        if args.contains(&"--listen") { &[][..] } else { &["--listen", "127.0.0.1:0"][..] };
    let mut child = Command::new(bin.join("chart-studio-server"))
        .args(listen)
        .args(args)
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("could not start chart-studio-server")?;
    let stdout = child.stdout.take().context("no server stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).context("could not read the server's address")?;
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        bail!("unexpected first line from the server: {line:?}");
    };
    Ok(Server { url: url.to_owned(), child })
}
