//! `cargo xtask ci compat`: scripts written for the real service, run unchanged (but for the
//! address) against the local server: Plotly's request-based doc snippets and the official
//! Python client `chart_studio`, installed into a virtual environment under `target/`. The
//! server keeps its data (`--data`); after each script it is killed (`kill -9`) and restarted,
//! and every file the script left must still be there, with the same fid, name and sharing.
//! The official client runs once more against two servers on one PostgreSQL database behind a
//! round-robin balancer (its requests alternate between them), one of them killed halfway.

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
        .filter(|name| !name.starts_with('_') && (name.ends_with(".py") || name.ends_with(".R")))
        .collect();
    names.sort();
    // Every Python script over HTTP, the official Python client once more over HTTPS, trusting
    // the certificate the server made (as REQUESTS_CA_BUNDLE tells `requests`), and R's plotly
    // package, which speaks HTTPS only, trusting it through CS_CA.
    let mut runs: Vec<(&str, bool)> =
        names.iter().map(|name| (name.as_str(), name.ends_with(".R"))).collect();
    runs.push(("chart_studio_client.py", true));
    let runs_count = runs.len();
    let mut failed = 0;
    for (name, tls) in runs {
        let label = if tls { format!("{name} over HTTPS") } else { name.to_owned() };
        let home = tempdir(&root, &format!("{name}{}", if tls { "-tls" } else { "" }))?;
        let data = home.join("data").to_string_lossy().into_owned();
        let mut args = vec!["--user", ACCOUNTS[0], "--user", ACCOUNTS[1], "--data", &data];
        if tls {
            args.push("--tls-self-signed");
        }
        let mut server = server::start(&bin, &args)?;
        let ca = tls.then(|| home.join("data/tls/server-cert.pem"));
        let checkpoint = home.join("checkpoint");
        let mut command =
            if name.ends_with(".R") { Command::new("Rscript") } else { Command::new(&python) };
        command
            .arg(scripts.join(name))
            .env("CS_API", &server.url)
            .env("CS_CHECKPOINT", &checkpoint)
            .env("HOME", &home);
        if let Some(ca) = &ca {
            command.env("REQUESTS_CA_BUNDLE", ca).env("CS_CA", ca);
        }
        // A script that reaches its checkpoint gets a kill -9 and a restart of its server, on
        // the same address and data, in the middle of its flow.
        let status =
            run_script(command, &checkpoint, &label, || restart(&bin, &args, &mut server))?;
        if !status.success() {
            failed += 1;
            say(&format!("FAIL {label} ({status})"));
            continue;
        }
        let before = files(&server.url, ca.as_deref())?;
        drop(server); // SIGKILL
        let restarted = server::start(&bin, &args)?;
        if files(&restarted.url, ca.as_deref())? == before {
            say(&format!("{label}: {} file(s) intact after a kill -9 and a restart", before.len()));
        } else {
            failed += 1;
            say(&format!("FAIL {label}: the files differ after a kill -9 and a restart"));
        }
    }
    match two_servers_on_postgresql(&bin, &python, &scripts.join("chart_studio_client.py")) {
        Ok(count) => say(&format!(
            "chart_studio_client.py over two servers on PostgreSQL: {count} file(s) intact after a kill -9 of one"
        )),
        Err(err) => {
            failed += 1;
            say(&format!("FAIL chart_studio_client.py over two servers on PostgreSQL: {err:#}"));
        }
    }
    let runs_count = runs_count + 1;
    say(&format!("compat: {} passed, {failed} failed", runs_count - failed));
    if failed > 0 {
        bail!("{failed} compatibility script(s) failed");
    }
    Ok(())
}

/// Runs `command` (a script) until it exits; when it reaches its checkpoint, `at_checkpoint`
/// (which kills and restarts a server) runs and the script is told to go on.
fn run_script(
    mut command: Command,
    checkpoint: &Path,
    label: &str,
    mut at_checkpoint: impl FnMut() -> Result<()>,
) -> Result<std::process::ExitStatus> {
    let mut script = command.spawn().with_context(|| {
        format!("could not run {label} (R scripts need Rscript and the r-cran-plotly package)")
    })?;
    loop {
        if let Some(status) = script.try_wait()? {
            return Ok(status);
        }
        if checkpoint.exists() && !checkpoint.with_extension("done").exists() {
            at_checkpoint()?;
            std::fs::write(checkpoint.with_extension("done"), "")?;
        }
        #[allow(clippy::disallowed_methods, reason = "polling a child process and a file")]
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Kills `server` (SIGKILL) and starts it again with `args` on the same address.
fn restart(bin: &Path, args: &[&str], server: &mut server::Server) -> Result<()> {
    let address = server.url.split("://").nth(1).unwrap_or_default().to_owned();
    server.kill();
    let mut again = args.to_vec();
    again.extend(["--listen", &address]);
    *server = server::start(bin, &again)?;
    Ok(())
}

/// The official client's flow through a round-robin balancer in front of two servers on one
/// PostgreSQL database (a cluster of its own), with a kill -9 and a restart of one of them at
/// the checkpoint; then both are killed and one started alone must list the same files.
/// Returns how many files the flow left.
fn two_servers_on_postgresql(bin: &Path, python: &Path, script: &Path) -> Result<usize> {
    let cluster = chart_studio_server::pg_cluster::TempCluster::start()?;
    let url = cluster.url().expose().to_owned();
    let mut balancer = Balancer::bind()?;
    let web = balancer.url.clone();
    // Links the servers hand out point at the balancer, as an admin sets them behind one.
    let args =
        ["--user", ACCOUNTS[0], "--user", ACCOUNTS[1], "--database", &url, "--web-domain", &web];
    let mut first = server::start(bin, &args)?;
    let second = server::start(bin, &args)?;
    let address = |server: &server::Server| server.url.trim_start_matches("http://").to_owned();
    balancer.serve([address(&first), address(&second)]);
    let home = tempdir(&project_root(), "chart_studio_client.py-postgresql")?;
    let checkpoint = home.join("checkpoint");
    let mut command = Command::new(python);
    command
        .arg(script)
        .env("CS_API", &balancer.url)
        .env("CS_CHECKPOINT", &checkpoint)
        .env("HOME", &home);
    let status = run_script(command, &checkpoint, "the flow on PostgreSQL", || {
        restart(bin, &args, &mut first)
    })?;
    if !status.success() {
        bail!("the script failed ({status})");
    }
    let [one, two] = balancer.connections();
    if one.min(two) * 3 < one + two {
        bail!("the requests did not alternate between the servers ({one} and {two} connections)");
    }
    let before = files(&balancer.url, None)?;
    let (served_by_first, served_by_second) = (files(&first.url, None)?, files(&second.url, None)?);
    if served_by_first != before || served_by_second != before {
        bail!("the two servers list different files");
    }
    drop((first, second, balancer)); // SIGKILL both
    let alone = server::start(bin, &args)?;
    if files(&alone.url, None)? != before {
        bail!("the files differ after a kill -9 of both servers and a restart");
    }
    Ok(before.len())
}

/// A round-robin TCP balancer on a free loopback port: each new connection goes to the next
/// backend in turn (the official client opens one per request). Stops when dropped.
struct Balancer {
    url: String,
    /// Connections sent to each backend.
    sent: std::sync::Arc<[std::sync::atomic::AtomicUsize; 2]>,
    /// Until it is served.
    listener: Option<tokio::net::TcpListener>,
    runtime: tokio::runtime::Runtime,
}

impl Balancer {
    /// Takes a free port; nothing is served until [`Balancer::serve`].
    fn bind() -> Result<Self> {
        let runtime = tokio::runtime::Runtime::new()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let sent = std::sync::Arc::new([0, 0].map(std::sync::atomic::AtomicUsize::new));
        Ok(Self { url, sent, listener: Some(listener), runtime })
    }

    /// Sends each new connection to the next of `backends` in turn.
    fn serve(&mut self, backends: [String; 2]) {
        let Some(listener) = self.listener.take() else { return };
        let counted = std::sync::Arc::clone(&self.sent);
        self.runtime.spawn(async move {
            let mut next = 0usize;
            while let Ok((mut inbound, _)) = listener.accept().await {
                let turn = next % backends.len();
                next += 1;
                counted[turn].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let backend = backends[turn].clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    }

    /// Connections sent to each backend so far.
    fn connections(&self) -> [usize; 2] {
        [0, 1].map(|turn| self.sent[turn].load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The scripts' accounts, as `--user` takes them.
const ACCOUNTS: [&str; 2] = ["compat:compat-key", "pyuser:pyuser-key"];

/// Every file of the scripts' accounts, trash included: fid, name, type, sharing and share key.
fn files(url: &str, ca: Option<&Path>) -> Result<Vec<String>> {
    use chart_studio_api::{Client, Config, Credentials, folders};
    use futures_util::TryStreamExt;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut found = Vec::new();
    for account in ACCOUNTS {
        let (user, key) = account.split_once(':').context("NAME:KEY")?;
        let config = Config::new(url, Some(Credentials::new(user, key)), false)?;
        let mut settings = chart_studio_http::HttpSettings::default();
        settings.ca_bundle = ca.map(Path::to_owned);
        let transport = chart_studio_http::HttpTransport::new(&settings)?;
        let client = Client::new(transport, config);
        for trashed in [false, true] {
            let listing = async {
                if trashed {
                    let first = folders::Trashed {
                        user: Some(user.to_owned()),
                        page_size: Some(500),
                        page: None,
                    };
                    client.items(first).try_collect::<Vec<_>>().await
                } else {
                    let first = folders::All {
                        user: Some(user.to_owned()),
                        filetype: None,
                        page_size: Some(500),
                        page: None,
                    };
                    client.items(first).try_collect::<Vec<_>>().await
                }
            };
            for file in runtime.block_on(listing)? {
                found.push(format!(
                    "{} {:?} {} {:?} {:?} {:?} trashed={trashed}",
                    file.fid,
                    file.filename,
                    file.filetype,
                    file.world_readable,
                    file.share_key_enabled,
                    file.share_key()
                ));
            }
        }
    }
    found.sort();
    Ok(found)
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
