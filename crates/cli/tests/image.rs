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

/// `bulk export --images` draws each plot beside its figure, in the manifest with its
/// checksum; a plot whose picture fails is reported and its figure still exported; an import
/// of the folder leaves the pictures alone.
#[test]
fn bulk_export_draws_each_plot_beside_its_figure() {
    // Long enough that an ordinary plot draws in time on a loaded machine; the endless one,
    // about 10 s per axis, never does.
    let renderer = chart_studio_server::RendererConfig {
        timeout: std::time::Duration::from_secs(10),
        ..Default::default()
    };
    let images = chart_studio_server::ImageConfig { renderer, ..Default::default() };
    let server =
        Server::start_with(chart_studio_server::ServerConfig { images, ..Default::default() });
    let plots = server.handle().add_plots("cli", 2, "charts", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    // Four subplots whose eight axes are ticked every nanometre of a unit range.
    let mut figure = serde_json::json!({
        "data": [],
        "layout": {"grid": {"rows": 2, "columns": 2, "pattern": "independent"}}
    });
    for n in ["", "2", "3", "4"] {
        let trace = serde_json::json!({
            "type": "scatter", "x": [0, 1], "y": [0, 1],
            "xaxis": format!("x{n}"), "yaxis": format!("y{n}")
        });
        figure["data"].as_array_mut().unwrap().push(trace);
        for axis in ["xaxis", "yaxis"] {
            figure["layout"][format!("{axis}{n}")] =
                serde_json::json!({"tickmode": "linear", "dtick": 1e-9});
        }
    }
    std::fs::write(home.path().join("endless.json"), figure.to_string()).unwrap();
    let made = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "create", "endless.json", "--filename", "charts/endless"],
    );
    let endless = made["fid"].as_str().unwrap().to_owned();

    let export = run(
        &server,
        home.path(),
        CLI,
        &["--json", "bulk", "export", "out", "--folder", "charts", "--images", "png,svg"],
        "",
    );
    assert_eq!(code(&export), 3, "the endless plot's pictures fail: {}", stderr(&export));
    let report: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let failures = report["failures"].to_string();
    assert!(failures.contains(&endless) && failures.contains("longer than 10 s"), "{failures}");
    let images =
        report["actions"].as_array().unwrap().iter().find(|a| a["action"] == "image").unwrap();
    assert_eq!(
        (images["done"].as_u64(), images["failed"].as_u64()),
        (Some(4), Some(2)),
        "{report}"
    );

    let out = home.path().join("out");
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    assert!(manifest.starts_with(r#"{"format":"chart-studio-backup","version":5,"#));
    let entries: Vec<serde_json::Value> =
        manifest.lines().skip(1).map(|line| serde_json::from_str(line).unwrap()).collect();
    for plot in &plots {
        let idlocal = plot.rsplit(':').next().unwrap();
        for (format, magic) in [("png", &b"\x89PNG"[..]), ("svg", &b"<svg"[..])] {
            let file = format!("files/cli/{idlocal}.{format}");
            let bytes = std::fs::read(out.join(&file)).unwrap();
            assert!(bytes.starts_with(magic), "{file}");
            let entry = entries.iter().find(|e| e["file"] == file.as_str()).unwrap();
            assert_eq!(entry["image"], format);
            assert_eq!(entry["bytes"].as_u64(), Some(bytes.len() as u64));
        }
    }
    // Every file matches its checksum.
    chart_studio_bulk::read_manifest(&out).unwrap();
    let endless_idlocal = endless.rsplit(':').next().unwrap();
    assert!(
        out.join(format!("files/cli/{endless_idlocal}.json")).is_file(),
        "its figure is exported"
    );

    // Another account imports the folder: files, not pictures.
    let other = Some(("other", "other-key"));
    let import = run(&server, home.path(), other, &["--json", "bulk", "import", "out"], "");
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    let imported: serde_json::Value = serde_json::from_slice(&import.stdout).unwrap();
    let documents = entries.iter().filter(|e| e.get("image").is_none()).count();
    assert_eq!(imported["files"].as_array().unwrap().len(), documents, "{imported}");
}
