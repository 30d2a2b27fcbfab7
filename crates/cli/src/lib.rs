//! `chart-studio`: a command-line client for Plotly Chart Studio servers.
//!
//! Only this crate prints and picks exit codes; the library crates return values and errors.
//! It is a library so that tests and `cargo xtask man` can walk its commands; the binary is
//! `src/main.rs`.

#![allow(
    rustdoc::bare_urls,
    reason = "doc comments double as --help text, where markdown is not rendered"
)]

mod cli;
mod commands;
mod exit;
mod jq;
mod output;
mod views;
mod waiting;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, GlobalArgs};
use crate::output::{JsonArgs, Output};
use crate::settings::{Inputs, Settings};
/// The CLI's settings live in the workflows crate, for any program to connect as the CLI does.
pub(crate) use chart_studio_workflows::settings;

/// The command line's definition: every command, flag and help text (for completions, man
/// pages and tests that walk the commands).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the CLI with the process's arguments and environment, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse().map_err(with_listing_tip) {
        Ok(cli) => cli,
        Err(err)
            if err.use_stderr()
                && std::env::args().any(|a| {
                    a == "--json" || a.starts_with("--json=") || a.starts_with("--jq")
                }) =>
        {
            let text = err.to_string();
            let mut message =
                text.lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned();
            for tip in text.lines().filter_map(|line| line.trim().strip_prefix("tip: ")) {
                message.push_str(&format!(" (tip: {tip})"));
            }
            let error = exit::json_error(&message, None, "usage");
            let _ = writeln!(std::io::stderr().lock(), "{error}");
            return exit::exit(exit::USAGE);
        }
        Err(err) => err.exit(),
    };
    init_logging(cli.global.verbose);
    let json = cli.global.json.is_some() || cli.global.jq.is_some();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => exit::exit(exit::OK),
        Err(err) => {
            let verdict = exit::classify(&err);
            if verdict.code != exit::OK {
                let mut stderr = std::io::stderr().lock();
                let message = exit::message(&err);
                let hint = exit::hint(&err);
                // A list of fields is for reading, so it is text even under --json.
                if json && !err.is::<exit::FieldList>() {
                    let message = match hint {
                        Some(hint) => format!("{message} (hint: {hint})"),
                        None => message,
                    };
                    let error = exit::json_error(&message, verdict.status, verdict.kind);
                    let _ = writeln!(stderr, "{error}");
                } else {
                    let _ = writeln!(stderr, "error: {message}");
                    if let Some(hint) = hint {
                        let _ = writeln!(stderr, "hint: {hint}");
                    }
                }
            }
            exit::exit(verdict.code)
        }
    }
}

/// `files ls`, `grids list` and their kin: a tip that files are listed by `folders ls`, as
/// gh suggests the command a mistyped one meant.
fn with_listing_tip(mut err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let listing = matches!(
        err.get(ContextKind::InvalidSubcommand),
        Some(ContextValue::String(word)) if matches!(word.as_str(), "ls" | "list")
    );
    let group = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    if err.kind() == ErrorKind::InvalidSubcommand
        && listing
        && matches!(group.as_deref(), Some("files" | "grids"))
    {
        let tip = "list files with `chart-studio folders ls [PATH]` (`-r` for everything below it)";
        err.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![tip.into()]));
    }
    err
}

/// Whether to colour a stream: `CLICOLOR_FORCE` (not 0) forces it, `NO_COLOR` (not empty)
/// turns it off, otherwise only on a terminal.
fn colour(terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    terminal
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
    let ansi =
        colour(std::io::IsTerminal::is_terminal(&std::io::stderr()), |key| std::env::var(key).ok());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let out = Output::new(JsonArgs { json: cli.global.json.clone(), jq: cli.global.jq.clone() })?;
    let said = waiting::SaidWaits::new(waiting::shown(&out));
    let settings = Settings::load(&inputs(&cli.global))?.waiting_on(std::sync::Arc::new(said));
    for link in cli::file_links(std::env::args().skip(1)) {
        settings.check_link(&link)?;
    }
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
    if let Some(seconds) = global.connect_timeout {
        flags.push(("connect_timeout", seconds.into()));
    }
    if global.insecure_skip_tls_verify {
        flags.push(("ssl_verification", false.into()));
    }
    if global.allow_insecure_http {
        flags.push(("allow_insecure_http", true.into()));
    }
    Inputs {
        plotly_dir: env
            .get("PLOTLY_DIR")
            .filter(|dir| !dir.is_empty())
            .map(Into::into)
            .or_else(|| home.map(|h| h.join(".plotly"))),
        config_file,
        profile: global.profile.clone(),
        env,
        flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_terminal_no_color_and_clicolor_force() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())
        };
        assert!(colour(true, env(&[])));
        assert!(!colour(false, env(&[])));
        assert!(!colour(true, env(&[("NO_COLOR", "1")])));
        assert!(colour(true, env(&[("NO_COLOR", "")])), "an empty NO_COLOR is not set");
        assert!(colour(false, env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])));
        assert!(!colour(false, env(&[("CLICOLOR_FORCE", "0")])));
    }

    /// Every example in every command's help parses as that command.
    #[test]
    fn the_examples_in_the_help_parse() {
        fn walk(command: &clap::Command, found: &mut Vec<String>) {
            if let Some(help) = command.get_after_help() {
                found.extend(
                    help.to_string()
                        .lines()
                        .filter_map(|line| Some(line.trim().strip_prefix("$ ")?.to_owned())),
                );
            }
            for sub in command.get_subcommands() {
                walk(sub, found);
            }
        }
        let mut examples = Vec::new();
        walk(&command(), &mut examples);
        assert!(examples.len() >= 20, "{examples:?}");
        for example in examples {
            let words = shlex::split(&example).unwrap_or_default();
            // What a pipe feeds: the command after the last `|`.
            let words = words.rsplit(|word| word == "|").next().unwrap_or_default();
            assert_eq!(words.first().map(String::as_str), Some("chart-studio"), "{example}");
            if let Err(err) = Cli::try_parse_from(words) {
                panic!("{example}: {err}");
            }
        }
    }
}
