//! `chart-studio`: a command-line client for Plotly Chart Studio servers.
//!
//! Only this crate prints and picks exit codes; the library crates return values and errors.

#![allow(
    rustdoc::bare_urls,
    reason = "doc comments double as --help text, where markdown is not rendered"
)]

mod cli;
mod commands;
mod exit;
mod output;
mod settings;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, GlobalArgs};
use crate::output::Output;
use crate::settings::{Inputs, Settings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => exit::exit(exit::OK),
        Err(err) => {
            let code = exit::code(&err);
            if code != exit::OK {
                let mut stderr = std::io::stderr().lock();
                let _ = writeln!(stderr, "error: {err:#}");
                if let Some(hint) = exit::hint(&err) {
                    let _ = writeln!(stderr, "hint: {hint}");
                }
            }
            exit::exit(code)
        }
    }
}

/// Logs to stderr; `-v` raises our crates' level, `RUST_LOG` overrides everything.
fn init_logging(verbose: u8) {
    let (ours, others) = match verbose {
        0 => ("warn", "warn"),
        1 => ("info", "warn"),
        2 => ("debug", "info"),
        _ => ("trace", "debug"),
    };
    let directives =
        format!("{others},chart_studio={ours},chart_studio_api={ours},chart_studio_http={ours}");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(&inputs(&cli.global))?;
    let out = Output::detect(cli.global.json);
    commands::run(cli.command, &settings, out).await
}

/// Gathers the layer inputs from the process: files, environment and flags.
fn inputs(global: &GlobalArgs) -> Inputs {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let home = dirs::home_dir();
    let config_file = env
        .get("CHART_STUDIO_CONFIG")
        .map(Into::into)
        .or_else(|| dirs::config_dir().map(|dir| dir.join("chart-studio").join("config.toml")));
    let mut flags: Vec<(&'static str, config::ValueKind)> = Vec::new();
    let mut text = |key: &'static str, value: &Option<String>| {
        if let Some(value) = value {
            flags.push((key, value.clone().into()));
        }
    };
    text("api_domain", &global.api_domain);
    text("web_domain", &global.web_domain);
    text("username", &global.username);
    text("proxy", &global.proxy);
    text("ca_bundle", &global.ca_bundle.as_ref().map(|p| p.display().to_string()));
    if let Some(seconds) = global.timeout {
        flags.push(("timeout", seconds.into()));
    }
    if global.insecure_skip_tls_verify {
        flags.push(("ssl_verification", false.into()));
    }
    if global.allow_insecure_http {
        flags.push(("allow_insecure_http", true.into()));
    }
    Inputs {
        plotly_dir: home.map(|h| h.join(".plotly")),
        config_file,
        profile: global.profile.clone(),
        env,
        flags,
    }
}
