//! A throwaway PostgreSQL cluster for tests and the bench: `initdb` and `pg_ctl` from the
//! machine's PostgreSQL (Debian's `postgresql` package, or on `PATH`), in a temporary folder,
//! listening on a unix socket (and, with TLS, on 127.0.0.1), stopped and removed when dropped. As root, the cluster
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
    /// With TLS: its port on 127.0.0.1.
    tls_port: Option<u16>,
    /// The server's command-line options (its socket, its port, its TLS).
    options: String,
}

/// Files of the cluster's TLS: its certificate authority, its certificate and its key.
const TLS_FILES: [&str; 3] = ["authority.pem", "server.crt", "server.key"];

impl TempCluster {
    /// Makes and starts a cluster.
    pub fn start() -> Result<Self> {
        Self::start_with(false)
    }

    /// Makes and starts a cluster that also listens on a free port of 127.0.0.1 with TLS
    /// required there, its certificate (for `localhost` and 127.0.0.1) signed by an authority
    /// of its own ([`TempCluster::authority`]).
    pub fn start_with_tls() -> Result<Self> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Result<Self> {
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
        let tls_port = if tls { Some(free_port()?) } else { None };
        let mut cluster = Self { dir, bin, user, tls_port, options: String::new() };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        )?;
        cluster.options =
            format!("-k {} -c listen_addresses='' -p 5432", cluster.dir.path().display());
        if let Some(port) = tls_port {
            cluster.make_tls()?;
            // Plain TCP is refused: only TLS connections are let in on 127.0.0.1.
            let hba = Path::new(&data).join("pg_hba.conf");
            std::fs::write(&hba, "local all all trust\nhostssl all all 127.0.0.1/32 trust\n")?;
            let dir = cluster.dir.path().display();
            cluster.options = format!(
                "-k {dir} -c listen_addresses=127.0.0.1 -p {port} -c ssl=on \
                 -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key"
            );
        }
        cluster.start_again()?;
        Ok(cluster)
    }

    /// Stops the cluster (fast shutdown: every connection is closed).
    pub fn stop(&self) -> Result<()> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }

    /// Starts the stopped cluster; returns once it accepts connections.
    pub fn start_again(&self) -> Result<()> {
        let (data, log) = (self.data(), self.log());
        self.run("pg_ctl", &["-D", &data, "-o", &self.options, "-l", &log, "-w", "start"])
    }

    /// The connection string of its `postgres` database.
    pub fn url(&self) -> crate::DatabaseUrl {
        let url =
            format!("host={} port=5432 user=postgres dbname=postgres", self.dir.path().display());
        url.parse().unwrap_or_else(|never| match never {})
    }

    /// The connection string of its `postgres` database over TCP with `sslmode=require`
    /// (`None` without TLS).
    pub fn tls_url(&self) -> Option<crate::DatabaseUrl> {
        let url = format!(
            "host=localhost port={} user=postgres dbname=postgres sslmode=require",
            self.tls_port?
        );
        Some(url.parse().unwrap_or_else(|never| match never {}))
    }

    /// The PEM file of the authority that signed the cluster's certificate.
    pub fn authority(&self) -> PathBuf {
        self.dir.path().join(TLS_FILES[0])
    }

    /// Writes an authority, and a certificate and key for `localhost` and 127.0.0.1 that it
    /// signed, readable by the cluster's user only.
    fn make_tls(&self) -> Result<()> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let authority = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate()?)?;
        let key = rcgen::KeyPair::generate()?;
        let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let cert = rcgen::CertificateParams::new(hosts)?.signed_by(&key, &authority)?;
        let owner = std::fs::metadata(self.dir.path())?;
        for (name, text) in TLS_FILES.iter().zip([authority.pem(), cert.pem(), key.serialize_pem()])
        {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text)?;
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            let (uid, gid) = (
                std::os::unix::fs::MetadataExt::uid(&owner),
                std::os::unix::fs::MetadataExt::gid(&owner),
            );
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
        }
        Ok(())
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

/// A port of 127.0.0.1 free when asked.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
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
