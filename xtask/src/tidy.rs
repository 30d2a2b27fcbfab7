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
    // The server reads the export format (`restore`) from the bulk crate.
    ("chart-studio-server", &["chart-studio-models", "chart-studio-sharing", "chart-studio-bulk"]),
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
    for package in packages {
        let manifest = std::path::Path::new(package["manifest_path"].as_str().unwrap_or_default());
        let src = manifest.with_file_name("src");
        if src.is_dir() {
            problems.extend(module_cycles(&src)?);
        }
    }
    Ok(problems)
}

/// The top modules of the crate whose root is `root` (test-only ones left out), and the names
/// its root re-exports (`pub use module::{Name, ...}`), each with the module that defines it.
fn crate_modules(root: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut modules = BTreeSet::new();
    let mut test_only = false;
    for line in root.lines().map(str::trim) {
        let declared = ["mod ", "pub mod ", "pub(crate) mod "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix)?.strip_suffix(';'));
        match declared {
            Some(name) if !test_only => {
                modules.insert(name.to_owned());
            }
            _ => {}
        }
        test_only = line.starts_with("#[cfg(test)]");
    }
    let mut reexports = BTreeMap::new();
    for statement in root.split("pub use ").skip(1) {
        let statement = statement.split(';').next().unwrap_or_default();
        let Some((module, items)) = statement.split_once("::") else { continue };
        let module = module.trim();
        if !modules.contains(module) {
            continue;
        }
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim();
            let name = item.rsplit(" as ").next().unwrap_or(item);
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            if !name.is_empty() {
                reexports.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    (modules, reexports)
}

/// The cycles among the top modules of a crate's `src` (by their `crate::NAME` paths, a name
/// the crate root re-exports counting as its module; test code and the root left out): each
/// module should build on the ones below it.
fn module_cycles(src: &std::path::Path) -> Result<Vec<String>> {
    let root = ["lib.rs", "main.rs"]
        .iter()
        .filter_map(|name| std::fs::read_to_string(src.join(name)).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let (modules, reexports) = crate_modules(&root);
    let module_of = |name: &str| -> Option<String> {
        if modules.contains(name) { Some(name.to_owned()) } else { reexports.get(name).cloned() }
    };
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src)? {
        let relative = file.strip_prefix(src)?.with_extension("");
        let module =
            relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned());
        let Some(module) = module.filter(|m| modules.contains(m)) else {
            continue;
        };
        let text = std::fs::read_to_string(&file)?;
        // Code only: test modules and comments (doc links are no dependency) left out.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(rest) => rest
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|item| item.trim().split("::").next().unwrap_or_default())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default(),
                ],
            };
            found.extend(names.into_iter().filter_map(module_of));
        }
        found.retain(|name| *name != module);
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
