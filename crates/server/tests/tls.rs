//! The binary over HTTPS: a self-signed certificate it prints, clients that trust it and
//! clients that do not, `Secure` session cookies, and a renewed certificate read on SIGHUP.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{ChildStderr, Command, Stdio};

use chart_studio_api::{Client, Config, Credentials, TransportErrorKind, raw::Raw, users};
use chart_studio_http::{HttpSettings, HttpTransport};
use common::Running;

/// Starts the binary with `args`; returns it, its URL, its stdout lines after the first, and
/// its log lines.
fn start(args: &[&str]) -> (Running, String, Vec<String>, Lines<BufReader<ChildStderr>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--user", "alice:alice-key-1"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    let rest = (0..2).map_while(|_| lines.next()?.ok()).collect();
    let logs = BufReader::new(child.stderr.take().unwrap()).lines();
    (Running(child), url, rest, logs)
}

fn client(url: &str, ca: Option<&Path>) -> Client {
    let mut settings = HttpSettings::default();
    settings.ca_bundle = ca.map(Path::to_owned);
    let config = Config::new(url, Some(Credentials::new("alice", "alice-key-1")), false).unwrap();
    Client::new(HttpTransport::new(&settings).unwrap(), config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_server_is_trusted_through_the_certificate_it_prints() {
    let data = tempfile::tempdir().unwrap();
    let (_server, url, lines, _logs) =
        start(&["--tls-self-signed", "--data", data.path().to_str().unwrap()]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let cert = lines
        .iter()
        .find_map(|line| line.strip_prefix("certificate: "))
        .and_then(|rest| rest.split(" (").next())
        .unwrap_or_else(|| panic!("{lines:?}"))
        .to_owned();
    assert_eq!(Path::new(&cert), data.path().join("tls/server-cert.pem"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = data.path().join("tls/server-key.pem");
        assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let trusted = client(&url, Some(Path::new(&cert)));
    assert_eq!(trusted.send(&users::Current {}).await.unwrap().username, "alice");
    let root = trusted.send(&Raw::new("GET", "/v2/")).await.unwrap();
    assert_eq!(root["files"], format!("{url}/v2/files"));

    let err = client(&url, None).send(&users::Current {}).await.unwrap_err();
    let chart_studio_api::Error::Transport(transport) = &err else { panic!("{err}") };
    assert_eq!(transport.kind(), TransportErrorKind::Certificate, "{err}");

    // Signing in over HTTPS sets a Secure cookie.
    let form = "username=alice&api_key=alice-key-1&next=/";
    let answer = https_post(&url, Path::new(&cert), "/login", form).await;
    let cookie = answer
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

/// One form POST over TLS, trusting `ca`, without following redirects: the answer's head.
async fn https_post(url: &str, ca: &Path, path: &str, form: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = url.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: https://{host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewed_certificate_is_read_on_sighup_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = ["localhost".to_owned(), "127.0.0.1".to_owned()];
    let first = chart_studio_server::self_signed(&dir.path().join("first"), &hosts).unwrap();
    let second = chart_studio_server::self_signed(&dir.path().join("second"), &hosts).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::copy(&first.cert, &cert).unwrap();
    std::fs::copy(&first.key, &key).unwrap();
    let (server, url, _, mut logs) =
        start(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(client(&url, Some(&first.cert)).send(&users::Current {}).await.is_ok());
    assert!(client(&url, Some(&second.cert)).send(&users::Current {}).await.is_err());

    std::fs::copy(&second.cert, &cert).unwrap();
    std::fs::copy(&second.key, &key).unwrap();
    let status = Command::new("kill").args(["-HUP", &server.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let reloaded =
        logs.by_ref().map_while(Result::ok).find(|line| line.contains("certificate reloaded"));
    assert!(reloaded.is_some(), "the server says when it has the new certificate");
    assert!(client(&url, Some(&second.cert)).send(&users::Current {}).await.is_ok());
    assert!(client(&url, Some(&first.cert)).send(&users::Current {}).await.is_err());
}

/// Without a data folder, the certificate and key go into a fresh private folder of the OS's
/// temporary-file API (not a predictable one), and the folder is removed when the server stops.
#[tokio::test(flavor = "multi_thread")]
async fn a_temporary_certificate_lives_in_a_fresh_private_folder_removed_at_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
        .args(["--listen", "127.0.0.1:0", "--user", "alice:alice-key-1", "--tls-self-signed"])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    let cert = (0..2)
        .filter_map(|_| lines.next()?.ok())
        .find_map(|line| Some(line.strip_prefix("certificate: ")?.split(" (").next()?.to_owned()))
        .unwrap();
    let folder = Path::new(&cert).parent().unwrap().to_owned();
    assert_eq!(folder.parent(), Some(tmp.path()), "{cert}");
    assert_ne!(
        folder.file_name().unwrap().to_str().unwrap(),
        format!("chart-studio-server-{}", child.id()),
        "not a name another user could guess"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&folder.join("server-key.pem")), 0o600);
    }
    assert!(client(&url, Some(Path::new(&cert))).send(&users::Current {}).await.is_ok());
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    assert!(!folder.exists(), "the temporary folder is removed at exit");
}

/// A certificate folder holding a link, or one file of the pair, is refused at start: nothing
/// is written through a link and no key is guessed.
#[cfg(unix)]
#[test]
fn planted_links_in_the_certificate_folder_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let victim = data.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let tls = data.path().join("tls");
    std::fs::create_dir(&tls).unwrap();
    std::os::unix::fs::symlink(&victim, tls.join("server-key.pem")).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_chart-studio-server"))
            .args(["--listen", "127.0.0.1:0", "--tls-self-signed"])
            .args(["--data", data.path().to_str().unwrap()])
            .output()
            .unwrap()
    };
    let output = run();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    std::os::unix::fs::symlink(&victim, tls.join("server-cert.pem")).unwrap();
    std::fs::remove_file(tls.join("server-key.pem")).unwrap();
    let output = run();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    std::fs::remove_file(tls.join("server-cert.pem")).unwrap();
    std::fs::write(tls.join("server-cert.pem"), "a certificate without its key").unwrap();
    let output = run();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds only one of"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}
