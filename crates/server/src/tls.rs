//! HTTPS: a certificate and key in PEM files (rustls, no OpenSSL), or a self-signed certificate
//! made for the listen address. Connections are accepted in the background and their TLS
//! handshakes run side by side, so a slow or broken client delays nobody. The files are read
//! again on SIGHUP, so a renewed certificate needs no restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::serve::{Admitted, Gate, accept_admitted};

/// The certificate (chain) and private key files, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate, then any intermediates.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Reads the files into a rustls configuration.
fn load(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("could not read the certificate {}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate", files.cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no certificate", files.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("{} is not a PEM private key", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not go together")?;
    Ok(Arc::new(config))
}

/// Makes a self-signed certificate for `hosts` (names or IP addresses) and writes it, with its
/// key (mode 0600), into `dir` (created 0700 when missing). Both files are created anew, never
/// through a link: a file already there is an error.
pub fn self_signed(dir: &Path, hosts: &[String]) -> Result<TlsFiles> {
    let made = rcgen::generate_simple_self_signed(hosts.to_vec())
        .context("could not make a self-signed certificate")?;
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let files = TlsFiles { cert: dir.join(CERT_FILE), key: dir.join(KEY_FILE) };
    write_new(&files.cert, made.cert.pem().as_bytes(), 0o644)?;
    write_new(&files.key, made.signing_key.serialize_pem().as_bytes(), 0o600)?;
    Ok(files)
}

/// The self-signed certificate kept in `dir` by an earlier run (clients trust it already), or
/// a new one when there is none. Only regular files are taken; one file without the other is
/// an error rather than a guess.
pub fn kept_self_signed(dir: &Path, hosts: &[String]) -> Result<TlsFiles> {
    let files = TlsFiles { cert: dir.join(CERT_FILE), key: dir.join(KEY_FILE) };
    let regular = |path: &Path| -> Result<Option<()>> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_file() => Ok(Some(())),
            Ok(_) => anyhow::bail!("{} is not a regular file; remove it", path.display()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
        }
    };
    match (regular(&files.cert)?, regular(&files.key)?) {
        (Some(()), Some(())) => Ok(files),
        (None, None) => self_signed(dir, hosts),
        _ => anyhow::bail!(
            "{} holds only one of {CERT_FILE} and {KEY_FILE}; remove it to make a new pair",
            dir.display()
        ),
    }
}

/// The file names of a self-signed certificate and its key.
const CERT_FILE: &str = "server-cert.pem";
const KEY_FILE: &str = "server-key.pem";

/// Creates `path` (which must not exist, not even as a link) with `mode` and writes `bytes`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file =
        options.open(path).with_context(|| format!("could not create {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .with_context(|| format!("could not write {}", path.display()))
}

/// A listener that hands out connections whose TLS handshake is done.
#[derive(Debug)]
pub(crate) struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(Admitted<TlsStream<TcpStream>>, SocketAddr)>,
}

impl TlsListener {
    /// Serves TLS on `tcp` with the certificate in `files`, read again on SIGHUP; connections
    /// pass the gate before their handshake.
    pub(crate) fn new(tcp: TcpListener, files: TlsFiles, gate: Arc<Gate>) -> Result<Self> {
        let config = Arc::new(RwLock::new(load(&files)?));
        reload_on_hangup(files, Arc::clone(&config))?;
        let addr = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer, permit) = accept_admitted(&tcp, &gate).await;
                let acceptor = TlsAcceptor::from(
                    config.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
                );
                let sender = sender.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((Admitted::new(tls, permit), peer)).await;
                        }
                        Ok(Err(err)) => tracing::info!(%peer, error = %err, "TLS handshake failed"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { addr, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Admitted<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The acceptor task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

/// Reads the certificate and key again on each SIGHUP; a failed read keeps the current ones.
fn reload_on_hangup(files: TlsFiles, config: Arc<RwLock<Arc<rustls::ServerConfig>>>) -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).context("could not listen for SIGHUP")?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match load(&files) {
                    Ok(fresh) => {
                        *config.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
                        tracing::info!(cert = %files.cert.display(), "certificate reloaded");
                    }
                    Err(err) => tracing::error!(
                        error = %format!("{err:#}"),
                        "could not reload the certificate; the current one stays"
                    ),
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop((files, config));
    Ok(())
}
