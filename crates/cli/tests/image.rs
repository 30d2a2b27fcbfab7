//! `chart-studio image`: figures and stored plots drawn by the local server's renderer (a real
//! headless Chromium; `.ci/run` installs it), written to files or piped.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{CLI, Server, code, json_as, run, stderr};

#[test]
fn figures_and_plots_are_drawn_to_files_and_pipes() {
    let server = Server::start();
    let plots = server.handle().add_plots("cli", 1, "", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("figure.json"), r#"[{"type": "bar", "y": [1, 3, 2]}]"#)
        .unwrap();

    let written = json_as(&server, home.path(), CLI, &["image", "figure.json", "-o", "chart.svg"]);
    assert_eq!(written["format"], "svg");
    let svg = std::fs::read_to_string(home.path().join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert_eq!(written["bytes"].as_u64().unwrap() as usize, svg.len());

    // A stored private plot of the user, with its data, at a size and scale; piped: the bytes.
    let piped = run(
        &server,
        home.path(),
        CLI,
        &["image", &plots[0], "--width", "200", "--height", "100", "--scale", "2"],
        "",
    );
    assert_eq!(code(&piped), 0, "{}", stderr(&piped));
    assert!(piped.stdout.starts_with(b"\x89PNG"));
    let width = u32::from_be_bytes(piped.stdout[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(piped.stdout[20..24].try_into().unwrap());
    assert_eq!((width, height), (400, 200));

    // The extension names the format; --format wins over it.
    let jpeg = run(&server, home.path(), CLI, &["image", &plots[0], "-o", "chart.JPG"], "");
    assert_eq!(code(&jpeg), 0, "{}", stderr(&jpeg));
    assert!(std::fs::read(home.path().join("chart.JPG")).unwrap().starts_with(b"\xff\xd8"));
    let pdf = run(
        &server,
        home.path(),
        CLI,
        &["image", "figure.json", "-o", "chart.bin", "--format", "pdf"],
        "",
    );
    assert_eq!(code(&pdf), 0, "{}", stderr(&pdf));
    assert!(std::fs::read(home.path().join("chart.bin")).unwrap().starts_with(b"%PDF"));
}

#[test]
fn what_cannot_be_drawn_is_refused_and_writes_nothing() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let unknown = run(&server, home.path(), CLI, &["image", "figure.json", "-o", "chart.gif"], "");
    assert_eq!(code(&unknown), 2, "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("--format"), "{}", stderr(&unknown));
    let neither = run(&server, home.path(), CLI, &["image", "no such thing", "-o", "x.png"], "");
    assert_eq!(code(&neither), 2, "{}", stderr(&neither));
    assert!(stderr(&neither).contains("neither a figure file nor"), "{}", stderr(&neither));
    let missing = run(&server, home.path(), CLI, &["image", "cli:999", "-o", "x.png"], "");
    assert_eq!(code(&missing), 1, "{}", stderr(&missing));
    assert!(!home.path().join("x.png").exists(), "nothing is written for a failure");
}
