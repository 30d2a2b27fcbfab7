//! `cargo xtask tidy` (also a `#[test]`): the architecture's invariants, checked over
//! `cargo metadata` and the sources.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, project_root, say};

/// The client's library crates, which the CLI and the facade are built from.
const CLIENT_CRATES: &[&str] = &[
    "chart-studio-models",
    "chart-studio-api",
    "chart-studio-http",
    "chart-studio-sharing",
    "chart-studio-bulk",
    "chart-studio-workflows",
];

/// Which workspace crates each crate may depend on (normal and build dependencies). Test code
/// (dev-dependencies) may use any of them, `chart-studio-server` above all.
const ALLOWED: &[(&str, &[&str])] = &[
    ("chart-studio-models", &[]),
    ("chart-studio-api", &["chart-studio-models"]),
    ("chart-studio-http", &["chart-studio-api"]),
    ("chart-studio-sharing", &["chart-studio-models", "chart-studio-api"]),
    ("chart-studio-bulk", &["chart-studio-models", "chart-studio-api"]),
    (
        "chart-studio-workflows",
        &[
            "chart-studio-models",
            "chart-studio-api",
            "chart-studio-http",
            "chart-studio-sharing",
            "chart-studio-bulk",
        ],
    ),
    ("chart-studio-cli", CLIENT_CRATES),
    ("chart-studio-server", &["chart-studio-models", "chart-studio-sharing"]),
    ("chart-studio", CLIENT_CRATES),
    (
        "xtask",
        &[
            "chart-studio-models",
            "chart-studio-api",
            "chart-studio-http",
            "chart-studio-server",
            "chart-studio-cli",
        ],
    ),
];

/// Library sources must not print: only the CLI, the server binary and xtask do.
const NO_PRINTING: &[&str] = &[
    "crates/models/src",
    "crates/api/src",
    "crates/http/src",
    "crates/sharing/src",
    "crates/bulk/src",
    "crates/workflows/src",
];

pub(crate) fn run() -> Result<()> {
    let problems = problems()?;
    for problem in &problems {
        say(&format!("tidy: {problem}"));
    }
    if !problems.is_empty() {
        bail!("{} tidy problem(s)", problems.len());
    }
    say("tidy: dependency directions, lints and printing are in order");
    Ok(())
}

fn problems() -> Result<Vec<String>> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(project_root())
        .output()
        .context("could not run cargo metadata")?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata output")?;
    let packages = metadata["packages"].as_array().context("no packages")?;
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut problems = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        let Some(may) = allowed.get(name) else {
            problems.push(format!("{name} is not in the dependency table of xtask/src/tidy.rs (and the README's code map)"));
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let is_dev = dep["kind"].as_str() == Some("dev");
            if is_dev || !names.contains(dep_name) || may.contains(&dep_name) {
                continue;
            }
            problems.push(format!(
                "{name} depends on {dep_name}, which the architecture does not allow"
            ));
        }
        let manifest = package["manifest_path"].as_str().unwrap_or_default();
        let text = std::fs::read_to_string(manifest).with_context(|| format!("read {manifest}"))?;
        if !text.contains("[lints]\nworkspace = true") {
            problems.push(format!("{manifest} does not opt into the workspace lints"));
        }
    }
    for dir in NO_PRINTING {
        for file in rust_files(&project_root().join(dir))? {
            let text = std::fs::read_to_string(&file)?;
            if ["println!", "eprintln!", "print!(", "eprint!("].iter().any(|m| text.contains(m)) {
                problems
                    .push(format!("{} prints; libraries return values and errors", file.display()));
            }
        }
    }
    problems.extend(module_cycles(&project_root().join("crates/server/src"))?);
    Ok(problems)
}

/// The cycles among the top modules of a crate's `src` (by their `crate::MODULE` paths; test
/// modules and the crate root left out): each module should build on the ones below it.
fn module_cycles(src: &std::path::Path) -> Result<Vec<String>> {
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src)? {
        let relative = file.strip_prefix(src)?.with_extension("");
        let module =
            relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned());
        let Some(module) = module.filter(|m| !["lib", "main", "fuzz"].contains(&m.as_str())) else {
            continue;
        };
        let text = std::fs::read_to_string(&file)?;
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut found = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            if let Some(rest) = rest.strip_prefix('{') {
                let list = rest.split('}').next().unwrap_or_default();
                found.extend(
                    list.split(',')
                        .map(|item| item.trim().split("::").next().unwrap_or_default().to_owned()),
                );
            } else {
                found.insert(
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        found.retain(|name| !name.is_empty() && *name != module);
        uses.entry(module).or_default().extend(found);
    }
    let mut cycles = Vec::new();
    for start in uses.keys() {
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().cloned().unwrap_or_default();
            for next in uses.get(&last).into_iter().flatten() {
                if next == start && path.len() > 1 && path.iter().min() == Some(start) {
                    cycles.push(format!(
                        "{} form a module cycle in {}",
                        path.join(" -> "),
                        src.display()
                    ));
                } else if next == start && path.len() == 1 {
                    continue;
                } else if !path.contains(next) && uses.contains_key(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    Ok(cycles)
}

fn rust_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_architecture_holds() {
        let problems = super::problems().unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
