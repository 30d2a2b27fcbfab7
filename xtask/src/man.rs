//! `cargo xtask man [--dir DIR]`: a man page for `chart-studio` and for every subcommand,
//! generated from the CLI's own command tree (so a new command gets its page).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::say;

pub(crate) fn run(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let command = chart_studio_cli::command();
    clap_mangen::generate_to(command.clone(), dir)
        .with_context(|| format!("could not write man pages to {}", dir.display()))?;
    let mut expected = Vec::new();
    page_names(&command, "chart-studio", &mut expected);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|name| {
            std::fs::metadata(dir.join(format!("{name}.1"))).map_or(true, |meta| meta.len() == 0)
        })
        .collect();
    if !missing.is_empty() {
        bail!("no man page for {missing:?}");
    }
    say(&format!("man: {} pages in {}", expected.len(), dir.display()));
    Ok(())
}

/// `chart-studio`, `chart-studio-bulk`, `chart-studio-bulk-share`, ...: one page per command.
fn page_names(command: &clap::Command, name: &str, found: &mut Vec<String>) {
    found.push(name.to_owned());
    for sub in
        command.get_subcommands().filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        page_names(sub, &format!("{name}-{}", sub.get_name()), found);
    }
}
