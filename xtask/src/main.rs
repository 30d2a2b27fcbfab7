//! Project automation, run as `cargo xtask <task>`.

mod bench;
mod bench_images;
mod bench_server;
mod ci;
mod compat;
mod demo;
mod examples;
mod fixtures;
mod hostile;
mod man;
mod server;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

/// Project automation for the chart-studio workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Args {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Everything CI checks: fmt, clippy, tests, fixtures, compat, docs, man pages, examples,
    /// the quick bench, packaging, cargo-deny.
    Ci {
        /// Run only this step.
        #[arg(value_enum)]
        step: Option<ci::Step>,
    },
    /// Benchmarks against the local server: bulk runs timed against their ideal (from the
    /// requests the server answered) and the sequential loops, `--jobs auto` against a
    /// rate-limited server, and peak memory; writes target/bench/bench.json and the README's table.
    Bench {
        /// Small accounts, a minute or two (CI runs this); the README is left alone.
        #[arg(long)]
        quick: bool,
        /// Only this group of runs; the results go to target/bench/GROUP.json and the README is
        /// left alone.
        #[arg(long, value_enum, value_name = "GROUP")]
        only: Option<bench::Group>,
    },
    /// Start the local server with sample data and take a tour of the CLI against it.
    Demo,
    /// Check the architecture's invariants: dependency directions, lints, no printing in libraries.
    Tidy,
    /// Run the workflows crate's examples against a local server and check what they did.
    Examples,
    /// Write a man page for every command (default: target/man).
    Man {
        /// Where to write them.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Check every fixture: rebuild its request, parse its response, check the round trip.
    Fixtures {
        /// A directory of fixtures kept elsewhere, in the same format.
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr, reason = "xtask reports to the developer")]
            {
                eprintln!("error: {err:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let root = project_root();
    std::env::set_current_dir(&root).with_context(|| format!("cd {}", root.display()))?;
    match args.task {
        Task::Ci { step } => ci::run(step),
        Task::Demo => demo::run(),
        Task::Bench { quick, only } => bench::run(quick, only),
        Task::Tidy => tidy::run(),
        Task::Examples => examples::run(),
        Task::Man { dir } => man::run(&dir.unwrap_or_else(|| root.join("target").join("man"))),
        Task::Fixtures { dir } => fixtures::run(&dir.unwrap_or_else(|| root.join("fixtures"))),
    }
}

/// The workspace root (xtask lives one level below it).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs `program args...`, echoing it, and fails when it fails.
fn run_command(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    say(&format!("$ {program} {}", args.join(" ")));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Prints a progress line for the developer.
fn say(text: &str) {
    #[allow(clippy::print_stdout, reason = "xtask reports to the developer")]
    {
        println!("{text}");
    }
}

/// The cargo that runs this xtask.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
