//! `cargo xtask ci compat`: scripts written for the real service, run unchanged (but for the
//! address) against the local server: Plotly's request-based doc snippets and the official
//! Python client `chart_studio`, installed into a virtual environment under `target/`. The
//! server keeps its data (`--data`); after each script it is killed (`kill -9`) and restarted,
//! and every file the script left must still be there, with the same fid, name and sharing.

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
        let mut script = command.spawn().with_context(|| {
            format!("could not run {label} (R scripts need Rscript and the r-cran-plotly package)")
        })?;
        // A script that reaches its checkpoint gets a kill -9 and a restart of its server, on
        // the same address and data, in the middle of its flow.
        let status = loop {
            if let Some(status) = script.try_wait()? {
                break status;
            }
            if checkpoint.exists() && !checkpoint.with_extension("done").exists() {
                let address = server.url.split("://").nth(1).unwrap_or_default().to_owned();
                drop(server); // SIGKILL
                let mut again = args.to_vec();
                again.extend(["--listen", &address]);
                server = server::start(&bin, &again)?;
                std::fs::write(checkpoint.with_extension("done"), "")?;
            }
            #[allow(clippy::disallowed_methods, reason = "polling a child process and a file")]
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
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
    say(&format!("compat: {} passed, {failed} failed", runs_count - failed));
    if failed > 0 {
        bail!("{failed} compatibility script(s) failed");
    }
    Ok(())
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
