//! `chart-studio-server`: run the local Chart-Studio-compatible server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chart_studio_server::{Faults, ImageConfig, Limits, RendererConfig, ServerConfig, TlsFiles};
use clap::Parser;

/// A local Chart-Studio-compatible v2 API server, for demos, tests and benchmarks.
///
/// The first line on stdout is `listening on http://HOST:PORT` (`https://` with TLS).
#[derive(Debug, Parser)]
#[command(
    args_conflicts_with_subcommands = true,
    name = "chart-studio-server",
    version,
    max_term_width = 100,
    after_help = "Logs go to stderr: one line per request (method, path without its query, status, \
milliseconds, account; never a key or a share key) at the info level. RUST_LOG sets the level, \
e.g. RUST_LOG=warn for errors only, RUST_LOG=debug for more.\n\n\
Ctrl-C or SIGTERM stops accepting requests, lets those in flight finish (10 s at most) and exits. \
GET /healthz answers {\"status\": \"ok\"} while the server runs.\n\n\
It speaks plain HTTP (put it behind a TLS proxy for others), and it does not export images, \
edit dashboards or manage collaborators."
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:9200", value_name = "ADDR")]
    listen: SocketAddr,
    /// An account, `NAME:API_KEY` (repeatable). Without any, the account demo:demo-api-key. The
    /// key shows in the process list (`ps`) to every user of the machine: for real accounts use
    /// `--users FILE`, or `user add` with `--data`.
    #[arg(long = "user", value_name = "NAME:API_KEY")]
    users: Vec<String>,
    /// A TOML or JSON file of accounts: `[[users]] username = "..." api_key = "..."`.
    #[arg(long = "users", value_name = "FILE")]
    users_file: Option<PathBuf>,
    /// Load sample data: the captured public plots with their grids and the demo account's files.
    #[arg(long)]
    demo: bool,
    /// Load every captured `/v2/plots` page (*.json) in this folder.
    #[arg(long, value_name = "DIR")]
    seed: Vec<PathBuf>,
    /// Keep accounts and files in a SQLite database in this folder (created 0700), so they
    /// survive restarts; every change is saved before it is answered. Without it, the database
    /// lives in memory and a restart loses it.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Keep accounts and files in this PostgreSQL database instead (`postgres://USER@HOST/DB`
    /// or `host=/run/postgresql dbname=charts`); tables are made on first use. One server
    /// process uses a database at a time. Give a password through the environment, not the
    /// command line, which every user of the machine sees.
    #[arg(long, value_name = "URL", env = "CHART_STUDIO_DATABASE", hide_env_values = true)]
    database: Option<chart_studio_server::DatabaseUrl>,
    /// MiB of memory for recently read figures, grids and documents; everything else is read
    /// from the database when a request needs it.
    #[arg(long, value_name = "MIB", default_value_t = chart_studio_server::DEFAULT_CACHE_MB)]
    cache_mb: usize,
    /// The host that web links (`web_url`, `embed_url`) point to.
    #[arg(long, value_name = "URL")]
    web_domain: Option<String>,
    /// Latency added to every request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Up to this much more latency, at random.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    jitter_ms: u64,
    /// Fraction of requests answered 500, 502 or 503.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    error_rate: f64,
    /// Fraction of responses cut off halfway.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    drop_rate: f64,
    /// Fraction of requests answered 429 "Request was throttled".
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    throttle_rate: f64,
    /// The wait a throttled answer asks for.
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    throttle_seconds: u64,
    /// Changing requests allowed per user per day before the quota 429.
    #[arg(long, value_name = "N")]
    daily_quota: Option<u64>,
    /// Requests per second allowed per user.
    #[arg(long, value_name = "N")]
    rate_limit: Option<f64>,
    /// Seed of the random faults and generated ids.
    #[arg(long, default_value_t = 0)]
    seed_random: u64,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Deepest JSON nesting accepted, JSON held in strings included (1 to 100: deeper
    /// documents would not read back from storage or in clients).
    #[arg(long, default_value_t = Limits::default().max_json_depth)]
    max_json_depth: usize,
    /// Seconds a connection may take to send a request's head, and may sit idle between
    /// requests, before it is closed.
    #[arg(long, default_value_t = Limits::default().head_timeout.as_secs(), value_name = "SECONDS")]
    head_timeout: u64,
    /// Seconds a request's body may take to arrive (408 after).
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs(), value_name = "SECONDS")]
    body_timeout: u64,
    /// Connections one client address may hold open at once; more are closed at once.
    #[arg(long, default_value_t = Limits::default().max_connections_per_address, value_name = "N")]
    max_connections_per_address: usize,
    /// The browser that draws images (default: chromium-headless-shell, chromium,
    /// chromium-browser or google-chrome on PATH). Without one, images are off and their
    /// routes answer 503 saying so.
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
    /// Browser pages drawing images at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    render_workers: Option<usize>,
    /// Seconds one image may take to draw (400 after; the page is replaced).
    #[arg(long, default_value_t = RendererConfig::default().timeout.as_secs(), value_name = "SECONDS")]
    render_timeout: u64,
    /// The most pixels one image may have (width × height × scale²).
    #[arg(long, default_value_t = ImageConfig::default().max_pixels, value_name = "N")]
    max_image_pixels: u64,
    /// Megabytes of drawn images kept (in the data folder's image-cache/ with --data).
    #[arg(long, default_value_t = ImageConfig::default().cache_bytes / (1024 * 1024), value_name = "MB")]
    image_cache_mb: u64,
    /// Serve HTTPS with this certificate (PEM; any intermediates after it). SIGHUP reads it and
    /// its key again, so a renewed certificate needs no restart.
    #[arg(long, value_name = "FILE", requires = "tls_key", conflicts_with = "tls_self_signed")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made now for the listen address and localhost, written
    /// (its key 0600) into the data folder's `tls/` (kept for later runs), or a fresh private
    /// temporary folder removed at exit; its path is printed
    /// for clients to trust (`chart-studio --ca-bundle PATH`, `REQUESTS_CA_BUNDLE=PATH`).
    #[arg(long)]
    tls_self_signed: bool,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Manage the accounts of a server's data (through the server running on its data folder,
    /// if one is).
    #[command(subcommand)]
    User(UserCommand),
    /// Copy a data folder's database to a new file while the server may be running, as one
    /// consistent snapshot, checked (restore: stop the server, put the copy in an empty data
    /// folder as chart-studio.sqlite3).
    Backup {
        /// The data folder.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The new file to write (never replaced).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Copy a server's accounts and files into an empty database: a data folder's SQLite to
    /// PostgreSQL, back, or to another folder. Both must be stopped. Tells its progress on
    /// stderr, then prints the counts and the checksum found the same in both. A target left by
    /// a copy that stopped is not served until the copy is run again (it starts over).
    Copy {
        /// A data folder, or a PostgreSQL connection string (postgres://... or key=value ...).
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// The same, holding no account yet.
        #[arg(long, value_name = "DIR|URL")]
        to: String,
    },
    /// Put the files of `chart-studio bulk export` folders (one per account, or one with many
    /// owners) into a server's data at their own fids, keeping folders, names, sharing, share
    /// keys, times, views and grid column uids, so that old links keep working. Owners without
    /// an account get one, whose new key is printed once. Everything is checked first: a fid
    /// the data uses for another file, or a name taken in a folder, is listed and nothing is
    /// restored. Files an earlier run restored are left as they are. No server may run on a
    /// data folder.
    Restore {
        /// Export folders; a file in several: the last one's.
        #[arg(required = true, value_name = "EXPORT_DIR")]
        exports: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        /// Check everything and say what would be restored, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Where the server keeps its data, for the `user` verbs and `restore`.
#[derive(Debug, clap::Args)]
struct DataArgs {
    /// The data folder (the `user` verbs go through the server running on it, if one is).
    #[arg(long, value_name = "DIR", required_unless_present = "database")]
    data: Option<PathBuf>,
    /// The server's PostgreSQL database (its --database).
    #[arg(long, value_name = "URL", env = "CHART_STUDIO_DATABASE", hide_env_values = true)]
    database: Option<chart_studio_server::DatabaseUrl>,
}

impl DataArgs {
    fn data(self) -> chart_studio_server::admin::Data {
        chart_studio_server::admin::Data { folder: self.data, database: self.database }
    }
}

/// `user` verbs.
#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Make an account and print its new random API key, once (only its hash is kept).
    Add {
        /// The username.
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the accounts, with when they were made and how many files they have.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Give an account a new random API key and print it; the old key stops working at once.
    RotateKey {
        /// The username.
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Remove an account and every file of theirs, for good.
    Remove {
        /// The username.
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Runs a `user` verb; its output goes to stdout.
fn user(command: UserCommand) -> Result<()> {
    use chart_studio_server::admin;
    let mut stdout = std::io::stdout().lock();
    match command {
        UserCommand::Add { name, data } => {
            let key = admin::add_user(&data.data(), &name)?;
            writeln!(stdout, "{name}\t{key}")?;
            writeln!(std::io::stderr(), "keep the key: it is not shown again")?;
        }
        UserCommand::List { data } => {
            for account in admin::list_users(&data.data())? {
                writeln!(stdout, "{}\t{}\t{}", account.username, account.joined, account.files)?;
            }
        }
        UserCommand::RotateKey { name, data } => {
            let key = admin::rotate_key(&data.data(), &name)?;
            writeln!(stdout, "{name}\t{key}")?;
        }
        UserCommand::Remove { name, data } => {
            admin::remove_user(&data.data(), &name)?;
            writeln!(stdout, "removed {name} and their files")?;
        }
    }
    Ok(())
}

#[derive(Debug, serde::Deserialize)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Debug, serde::Deserialize)]
struct UserEntry {
    username: String,
    api_key: String,
}

fn read_users(path: &PathBuf) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let file: UsersFile = if path.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid users file", path.display()))?
    } else {
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid users file", path.display()))?
    };
    Ok(file.users.into_iter().map(|u| (u.username, u.api_key)).collect())
}

fn images(args: &Args) -> Result<ImageConfig> {
    let defaults = RendererConfig::default();
    let workers = args.render_workers.unwrap_or(defaults.workers);
    if workers == 0 || args.render_timeout == 0 {
        bail!("--render-workers and --render-timeout must be above 0");
    }
    Ok(ImageConfig {
        renderer: RendererConfig {
            chromium: args.chromium.clone(),
            workers,
            timeout: Duration::from_secs(args.render_timeout),
            queue: workers * 8,
            ..defaults
        },
        max_pixels: args.max_image_pixels,
        cache_bytes: args.image_cache_mb.saturating_mul(1024 * 1024),
        // The first image is then as quick as the rest.
        warm: true,
        ..ImageConfig::default()
    })
}

fn rate(name: &str, value: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&value) {
        bail!("--{name} must be between 0 and 1, not {value}");
    }
    Ok(value)
}

/// The server's configuration, and the temporary folder of a self-signed certificate made
/// without `--data` (removed when dropped, at exit).
fn config(args: Args) -> Result<(ServerConfig, Option<tempfile::TempDir>)> {
    let mut users = Vec::new();
    for user in &args.users {
        let (name, key) = user
            .split_once(':')
            .with_context(|| format!("--user {user:?} must be NAME:API_KEY"))?;
        users.push((name.to_owned(), key.to_owned()));
    }
    if let Some(path) = &args.users_file {
        users.extend(read_users(path)?);
    }
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        error_rate: rate("error-rate", args.error_rate)?,
        drop_rate: rate("drop-rate", args.drop_rate)?,
        throttle_rate: rate("throttle-rate", args.throttle_rate)?,
        throttle_wait: Duration::from_secs(args.throttle_seconds),
        daily_quota: args.daily_quota,
        rate_limit: args.rate_limit,
        seed: args.seed_random,
        ..Faults::default()
    };
    let images = images(&args)?;
    let mut temporary = None;
    let tls = match (args.tls_cert, args.tls_key, args.tls_self_signed) {
        (Some(cert), Some(key), _) => Some(TlsFiles { cert, key }),
        (_, _, true) => {
            let mut hosts = vec!["localhost".to_owned(), args.listen.ip().to_string()];
            if args.listen.ip().is_unspecified() {
                hosts.push("127.0.0.1".to_owned());
            }
            Some(match &args.data {
                // Kept for later runs on this data folder, so that clients keep trusting it.
                Some(data) => chart_studio_server::kept_self_signed(&data.join("tls"), &hosts)?,
                // A fresh private folder of the OS's, removed at exit.
                None => {
                    let mut builder = tempfile::Builder::new();
                    builder.prefix("chart-studio-server-");
                    #[cfg(unix)]
                    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
                    let dir = builder
                        .tempdir()
                        .context("could not make a temporary folder for the certificate")?;
                    let files = chart_studio_server::self_signed(dir.path(), &hosts)?;
                    temporary = Some(dir);
                    files
                }
            })
        }
        _ => None,
    };
    let config = ServerConfig {
        images,
        tls,
        listen: args.listen,
        users,
        demo_data: args.demo,
        seed_dirs: args.seed,
        web_domain: args.web_domain,
        faults,
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_json_depth: args.max_json_depth,
            head_timeout: Duration::from_secs(args.head_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
            max_connections_per_address: args.max_connections_per_address,
            ..Limits::default()
        },
        seed: args.seed_random,
        data_dir: args.data,
        database: args.database,
        cache_mb: args.cache_mb,
    };
    Ok((config, temporary))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(mut args: Args) -> Result<()> {
    match args.command.take() {
        Some(Command::User(command)) => return user(command),
        Some(Command::Copy { from, to }) => {
            use chart_studio_server::admin::{Data, copy};
            let progress = |files, bytes: u64| {
                let megabytes = bytes as f64 / 1e6;
                let _ = writeln!(std::io::stderr(), "copied {files} files, {megabytes:.0} MB");
            };
            let done = copy(&Data::parse(&from), &Data::parse(&to), progress)?;
            writeln!(
                std::io::stdout(),
                "copied {} accounts, {} files, {} contents; sha256 {} in both",
                done.accounts,
                done.files,
                done.contents,
                done.checksum
            )?;
            return Ok(());
        }
        Some(Command::Restore { exports, data, dry_run }) => {
            let done = chart_studio_server::restore::restore(&data.data(), &exports, dry_run)?;
            let mut stdout = std::io::stdout().lock();
            for warning in &done.warnings {
                writeln!(std::io::stderr(), "warning: {warning}")?;
            }
            if dry_run {
                for name in &done.new_accounts {
                    writeln!(stdout, "would make the account {name}")?;
                }
            }
            for (name, key) in &done.keys {
                writeln!(stdout, "made the account {name}; its API key (shown once): {key}")?;
            }
            let verb = if dry_run { "would restore" } else { "restored" };
            writeln!(
                stdout,
                "{verb} {} files; {} already there, left as they are",
                done.restored, done.unchanged
            )?;
            return Ok(());
        }
        Some(Command::Backup { data, to }) => {
            let done = chart_studio_server::admin::backup(&data, &to)?;
            let (accounts, files) = (done.accounts, done.files);
            writeln!(std::io::stdout(), "{}\t{accounts} accounts\t{files} files", to.display())?;
            return Ok(());
        }
        None => {}
    }
    // The certificate's temporary folder, if any, lives until the server has stopped.
    let (config, _certificate_folder) = config(args)?;
    let kept = match (&config.database, &config.data_dir) {
        (Some(_), _) => "data: kept in PostgreSQL".to_owned(),
        (None, Some(dir)) => format!("data: kept in {}", dir.display()),
        (None, None) => {
            "data: in memory only, lost when the server stops (--data DIR keeps it)".to_owned()
        }
    };
    let certificate = config.tls.as_ref().map(|tls| tls.cert.clone());
    let browser = chart_studio_server::find_chromium(config.images.renderer.chromium.as_deref());
    let server = chart_studio_server::start(config).await?;
    match &browser {
        Ok(path) => tracing::info!(chromium = %path.display(), "images: on"),
        Err(off) => {
            let _ = writeln!(std::io::stderr(), "{off}");
        }
    }
    {
        // Whoever started the server may stop reading after the first line: it keeps serving.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on {}\n{kept}", server.url());
        if let Some(cert) = certificate {
            let _ = writeln!(
                stdout,
                "certificate: {} (clients trust it with `chart-studio --ca-bundle PATH`, REQUESTS_CA_BUNDLE=PATH, or R's httr::set_config(httr::config(cainfo = PATH)))",
                cert.display()
            );
        }
        let _ = stdout.flush();
    }
    stop_signal().await?;
    server.stop().await
}

/// Ctrl-C, or SIGTERM where there is one.
async fn stop_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("could not wait for SIGTERM")?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("could not wait for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("could not wait for Ctrl-C")
}
