//! `cargo xtask ci [step]`: the one command CI and humans run.

use anyhow::Result;
use clap::ValueEnum;

use crate::{cargo, run_command, say};

/// One CI step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Step {
    /// rustfmt --check.
    Fmt,
    /// The architecture's invariants.
    Tidy,
    /// clippy with warnings denied.
    Clippy,
    /// Every test (unit, fixtures, end to end).
    Test,
    /// The fixture checker.
    Fixtures,
    /// Scripts written for the real service (doc snippets, the Python client) against the server.
    Compat,
    /// The server under a small hostile load while an owner works.
    Hostile,
    /// rustdoc with warnings denied.
    Doc,
    /// A man page for every command.
    Man,
    /// The examples, run against a local server.
    Examples,
    /// The benchmark on small accounts, so that a change that breaks it is caught.
    Bench,
    /// Every library crate packages as it would be published.
    Package,
    /// cargo deny check bans licenses sources.
    Deny,
}

pub(crate) fn run(only: Option<Step>) -> Result<()> {
    let cargo = cargo();
    let steps = [
        Step::Fmt,
        Step::Clippy,
        Step::Test,
        Step::Fixtures,
        Step::Compat,
        Step::Hostile,
        Step::Doc,
        Step::Man,
        Step::Examples,
        Step::Bench,
        Step::Package,
        Step::Deny,
    ];
    for step in steps.into_iter().filter(|step| only.is_none_or(|only| only == *step)) {
        say(&format!("== {step:?}"));
        match step {
            Step::Fmt => run_command(&cargo, &["fmt", "--all", "--", "--check"], &[])?,
            Step::Tidy => crate::tidy::run()?,
            Step::Clippy => run_command(
                &cargo,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--all-features",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )?,
            Step::Test => test(&cargo)?,
            Step::Fixtures => crate::fixtures::run(&crate::project_root().join("fixtures"))?,
            Step::Compat => crate::compat::run()?,
            Step::Hostile => crate::hostile::run()?,
            Step::Doc => run_command(
                &cargo,
                &["doc", "--workspace", "--no-deps", "--all-features"],
                &[("RUSTDOCFLAGS", "-D warnings")],
            )?,
            Step::Man => crate::man::run(&crate::project_root().join("target").join("man"))?,
            Step::Examples => crate::examples::run()?,
            Step::Bench => crate::bench::run(true, None)?,
            // Not built (`--no-verify`) and without a lock file: the crates' path dependencies
            // are not on a registry until they are published.
            Step::Package => run_command(
                &cargo,
                &[
                    "package",
                    "--workspace",
                    "--exclude",
                    "chart-studio-cli",
                    "--exclude",
                    "chart-studio-server",
                    "--exclude",
                    "xtask",
                    "--no-verify",
                    "--exclude-lockfile",
                    "--allow-dirty",
                ],
                &[],
            )?,
            Step::Deny => deny(&cargo)?,
        }
    }
    say("ci: all steps passed");
    Ok(())
}

/// nextest when installed (it is on CI machines), else cargo test. The workspace has no doctests.
fn test(cargo: &str) -> Result<()> {
    let has_nextest = std::process::Command::new(cargo)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_nextest {
        run_command(
            cargo,
            &["nextest", "run", "--workspace", "--all-features", "--no-fail-fast"],
            &[],
        )?;
        run_command(cargo, &["test", "--workspace", "--all-features", "--doc"], &[])
    } else {
        run_command(cargo, &["test", "--workspace", "--all-features", "--no-fail-fast"], &[])
    }
}

/// cargo-deny, installed when missing. The advisories check needs a network and is left out.
fn deny(cargo: &str) -> Result<()> {
    let installed = std::process::Command::new(cargo)
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        run_command(cargo, &["install", "cargo-deny", "--locked"], &[])?;
    }
    run_command(cargo, &["deny", "--all-features", "check", "bans", "licenses", "sources"], &[])
}
