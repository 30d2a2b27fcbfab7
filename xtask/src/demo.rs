//! `cargo xtask demo`: starts the local server with sample data and takes a new user on a short
//! tour of the CLI against it.

use std::process::Command;

use anyhow::{Context, Result};

use crate::{say, server};

/// The tour: what each step shows, and the command.
const TOUR: &[(&str, &[&str])] = &[
    ("Who am I, and where does each setting come from?", &["auth", "status"]),
    (
        "The public plots, newest first (the ten captured from Chart Studio Cloud, and one of the demo's)",
        &["plots", "list", "--limit", "5"],
    ),
    ("Every file of the demo account, with its sharing mode", &["folders", "ls"]),
    ("A secret plot: private, but readable by anyone with its link", &["files", "get", "demo:5"]),
    ("A figure with its grid data inlined", &["plots", "content", "demo:3", "--inline-data"]),
    ("Find a file by its folder path", &["files", "lookup", "reports/2024/costs"]),
    ("Rename and move a file", &["files", "rename", "demo:4", "costs (draft)"]),
    ("", &["files", "move", "demo:4", "archive"]),
    ("Trash a file, then restore it", &["files", "trash", "demo:4"]),
    ("", &["files", "restore", "demo:4"]),
    (
        "Share a plot by secret link, then check who can see it (its grid also serves a private plot, so it is left alone)",
        &["share", "demo:3", "secret"],
    ),
    ("", &["share", "show", "demo:3"]),
    ("How much of the account is public, private or secret", &["sharing", "audit"]),
    ("Any endpoint, like `gh api`", &["api", "GET", "users/current"]),
    (
        "Delete for good, backed up first (`bulk undo` brings it back)",
        &["files", "delete", "demo:4", "--yes"],
    ),
    ("Every file again", &["folders", "ls"]),
    (
        "A chart as a picture, drawn by the server (PNG, JPEG, WebP, SVG, PDF or EMF)",
        &["image", "demo:3", "-o", "revenue.png"],
    ),
];

/// Lines of each command's output shown.
const SHOWN_LINES: usize = 16;

pub(crate) fn run() -> Result<()> {
    let bin = server::build_binaries()?;
    let server = server::start(&bin, &["--demo"])?;
    let home = crate::project_root().join("target").join("demo-home");
    std::fs::create_dir_all(&home)
        .with_context(|| format!("could not create {}", home.display()))?;
    let (user, key) = ("demo", "demo-api-key");
    say(&format!(
        "\nA local Chart Studio server is running at {url}.\nThe tour below runs with:\n\n  export PLOTLY_API_DOMAIN={url} PLOTLY_USERNAME={user} PLOTLY_API_KEY={key}\n",
        url = server.url
    ));
    for (what, args) in TOUR {
        if !what.is_empty() {
            say(&format!("\n# {what}"));
        }
        say(&format!(
            "$ chart-studio {}",
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        ));
        // What a person at a terminal sees: tables with headers, not the piped form.
        let output = Command::new(bin.join("chart-studio"))
            .args(*args)
            .current_dir(&home)
            .env("CHART_STUDIO_FORCE_TTY", "1")
            .env("HOME", &home)
            .env("PLOTLY_API_DOMAIN", &server.url)
            .env("PLOTLY_USERNAME", user)
            .env("PLOTLY_API_KEY", key)
            .output()
            .context("could not run chart-studio")?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        for line in lines.iter().take(SHOWN_LINES) {
            say(&format!("  {line}"));
        }
        if lines.len() > SHOWN_LINES {
            say(&format!("  … ({} more lines)", lines.len() - SHOWN_LINES));
        }
        let errors = String::from_utf8_lossy(&output.stderr);
        for note in errors.lines().filter(|line| line.starts_with("note:")) {
            say(&format!("  {note}"));
        }
        if !output.status.success() {
            anyhow::bail!(
                "the tour step `chart-studio {}` failed: {}",
                args.join(" "),
                errors.trim()
            );
        }
    }
    say("\nThat was the tour. `chart-studio --help` lists everything else.");
    say(&format!("\nThe picture: {}", home.join("revenue.png").display()));
    // The tour made the chart secret: its link carries its key.
    let link = Command::new(bin.join("chart-studio"))
        .args(["share", "show", "demo:3", "--jq", ".link"])
        .env("HOME", &home)
        .env("PLOTLY_API_DOMAIN", &server.url)
        .env("PLOTLY_USERNAME", user)
        .env("PLOTLY_API_KEY", key)
        .output()
        .context("could not run chart-studio")?;
    let link = String::from_utf8_lossy(&link.stdout).trim().to_owned();
    let image = link.replacen("/3/?", "/3.png?", 1);
    say(&format!("Open the chart in a browser: {link}\nand as a picture: {image}"));
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        say("The server keeps running so that these links open; press Ctrl-C to stop it.");
        tokio::runtime::Runtime::new()?.block_on(tokio::signal::ctrl_c())?;
        say("\nThe server has stopped.");
    } else {
        say(
            "The server has stopped now that the tour is over; run `cargo xtask demo` on a terminal to keep it up.",
        );
    }
    Ok(())
}

fn quote(arg: &str) -> String {
    if arg.contains(' ') { format!("{arg:?}") } else { arg.to_owned() }
}
