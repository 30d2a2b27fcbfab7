//! A throwaway PostgreSQL cluster for tests and the bench: `initdb` and `pg_ctl` from the
//! machine's PostgreSQL (Debian's `postgresql` package, or on `PATH`), in a temporary folder,
//! listening on a unix socket only, stopped and removed when dropped. As root, the cluster
//! runs as the `postgres` user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A running cluster.
#[derive(Debug)]
pub struct TempCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// `postgres` when run as root.
    user: Option<String>,
}

impl TempCluster {
    /// Makes and starts a cluster.
    pub fn start() -> Result<Self> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("chart-studio-pg-").tempdir()?;
        let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self")?) == 0;
        let user = root.then(|| "postgres".to_owned());
        if root {
            let id = |flag: &str| -> Result<u32> {
                let out = Command::new("id").args([flag, "postgres"]).output()?;
                if !out.status.success() {
                    bail!("running as root needs a postgres user to run PostgreSQL as");
                }
                Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
            };
            std::os::unix::fs::chown(dir.path(), Some(id("-u")?), Some(id("-g")?))?;
        }
        let cluster = Self { dir, bin, user };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        )?;
        let options = format!("-k {} -c listen_addresses='' -p 5432", cluster.dir.path().display());
        let log = cluster.log();
        cluster.run("pg_ctl", &["-D", &data, "-o", &options, "-l", &log, "-w", "start"])?;
        Ok(cluster)
    }

    /// The connection string of its `postgres` database.
    pub fn url(&self) -> crate::DatabaseUrl {
        let url =
            format!("host={} port=5432 user=postgres dbname=postgres", self.dir.path().display());
        url.parse().unwrap_or_else(|never| match never {})
    }

    /// Restarts the cluster (fast shutdown: every connection is closed), as an admin or a
    /// failover would; returns once it accepts connections again.
    pub fn restart(&self) -> Result<()> {
        let (data, log) = (self.data(), self.log());
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-m", "fast", "-w", "restart"])
    }

    /// The cluster's log file (the server's output goes there, not to the pipes of `run`).
    fn log(&self) -> String {
        self.dir.path().join("log").display().to_string()
    }

    /// The folder of its data.
    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs PostgreSQL's `program` with `args`, as the cluster's user.
    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let path = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("could not run {}", path.display()))?;
        if !out.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

/// The folder of `initdb` and `pg_ctl`: Debian's newest `/usr/lib/postgresql/N/bin`, else the
/// folder of `initdb` on `PATH`.
fn bin_dir() -> Result<PathBuf> {
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").is_file())
        .context("PostgreSQL is not installed (no initdb): apt-get install postgresql")
}
