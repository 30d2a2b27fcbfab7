//! `cargo xtask fixtures [--dir PATH]`: the fixture checker over a directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chart_studio_api::test_util::Fixture;

use crate::say;

pub(crate) fn run(dir: &Path) -> Result<()> {
    let files =
        json_files(dir).with_context(|| format!("could not read fixtures in {}", dir.display()))?;
    if files.is_empty() {
        bail!("no fixture (*.json) found in {}", dir.display());
    }
    let mut failed = 0;
    for path in &files {
        let shown = path.strip_prefix(dir).unwrap_or(path).display();
        let outcome = std::fs::read_to_string(path)
            .map_err(|err| err.to_string())
            .and_then(|text| Fixture::from_json(&text))
            .and_then(|fixture| fixture.check());
        if let Err(problem) = outcome {
            failed += 1;
            say(&format!("FAIL {shown}: {problem}"));
        }
    }
    say(&format!("fixtures: {} passed, {failed} failed", files.len() - failed));
    if failed > 0 {
        bail!("{failed} fixture(s) failed");
    }
    Ok(())
}

fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(json_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
