//! The CLI against the server over HTTPS: trusted through `--ca-bundle`, refused with a message
//! that says how to trust it otherwise.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{CLI, Server, code, run, stderr};

#[test]
fn https_needs_the_certificate_trusted_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = ["localhost".to_owned(), "127.0.0.1".to_owned()];
    let tls = chart_studio_server::self_signed(dir.path(), &hosts).unwrap();
    let server = Server::start_with(chart_studio_server::ServerConfig {
        tls: Some(tls.clone()),
        ..chart_studio_server::ServerConfig::default()
    });
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let home = tempfile::tempdir().unwrap();
    let ca = tls.cert.to_str().unwrap();
    let trusted = run(&server, home.path(), CLI, &["--ca-bundle", ca, "auth", "status"], "");
    assert_eq!(code(&trusted), 0, "{}", stderr(&trusted));

    let refused = run(&server, home.path(), CLI, &["auth", "status"], "");
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    let text = stderr(&refused);
    assert!(text.contains("certificate is not trusted") && text.contains("--ca-bundle"), "{text}");
    let listed = run(&server, home.path(), CLI, &["folders", "ls"], "");
    assert!(stderr(&listed).contains("--ca-bundle"), "{}", stderr(&listed));
}
