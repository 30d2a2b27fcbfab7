//! Data-driven suite over `fixtures/`: each file rebuilds its request, compares it with the
//! recorded one, and checks that the recorded response parses and round-trips.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

use std::path::{Path, PathBuf};

use chart_studio_api::test_util::{ENDPOINTS, Fixture};

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"), &mut files);
    files.sort();
    files
}

fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    Fixture::from_json(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn every_fixture_passes() {
    let files = fixture_files();
    assert!(files.len() >= 50, "found only {} fixtures", files.len());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| load(path).check().err().map(|err| format!("{}: {err}", path.display())))
        .collect();
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_endpoint_has_a_fixture() {
    let used: Vec<String> = fixture_files().iter().map(|path| load(path).endpoint).collect();
    let missing: Vec<&&str> =
        ENDPOINTS.iter().filter(|name| !used.iter().any(|u| u == **name)).collect();
    assert!(missing.is_empty(), "endpoints without a fixture: {missing:?}");
}

#[test]
fn fixtures_hold_no_real_looking_credentials() {
    for path in fixture_files() {
        let fixture = load(&path);
        if let Some(key) = &fixture.config.api_key {
            assert!(key.len() < 16, "{}: use an obviously fake api_key", path.display());
        }
    }
}

#[test]
fn a_tampered_fixture_fails() {
    let path =
        fixture_files().into_iter().find(|p| p.ends_with("files/update/rename.json")).unwrap();
    let mut fixture = load(&path);
    fixture.request.body = Some(serde_json::json!({"filename": "other"}));
    assert!(fixture.check().unwrap_err().contains("body"));
    let mut fixture = load(&path);
    fixture.response.body.as_mut().unwrap()["filename"] = serde_json::json!(42);
    assert!(fixture.check().unwrap_err().contains("filename"));
}
