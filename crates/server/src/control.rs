//! One writer per data folder. A running server holds the folder's lock (`server.lock`) and
//! answers account changes on its control socket (`control.sock`, readable by the owner only),
//! so that `chart-studio-server user ...` changes the accounts it serves at once, instead of
//! writing the database behind its back; with no server running, the command takes the lock
//! and changes the database itself. A second server on the same folder is refused.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::state::Shared;
use crate::store::Store;

const LOCK: &str = "server.lock";
const SOCKET: &str = "control.sock";

/// An account change (or the list), as `user` commands ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub(crate) enum Request {
    /// Make an account with a new random key.
    Add { user: String },
    /// Give an account a new random key.
    RotateKey { user: String },
    /// Remove an account and its files.
    Remove { user: String },
    /// Every account.
    List,
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub(crate) enum Answer {
    /// The account's new key, shown once.
    Key { key: String },
    /// The account is gone.
    Removed,
    /// The accounts, by name.
    Accounts { accounts: Vec<AccountSummary> },
    /// Refused, and why.
    Refused { error: String },
}

/// One account, as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// The username.
    pub username: String,
    /// When it was made, as the API shows `date_joined`.
    pub joined: String,
    /// How many files it has (trash included).
    pub files: u64,
}

/// Applies `request` to `store`: the one implementation, in whichever process holds the store.
pub(crate) fn apply(store: &mut Store, request: &Request) -> Answer {
    let missing =
        |user: &str| Answer::Refused { error: format!("there is no account named {user}") };
    match request {
        Request::Add { user } => {
            let key = Store::random_key();
            match store.add_account(user, &key) {
                Ok(()) => Answer::Key { key },
                Err(err) => Answer::Refused { error: err.to_string() },
            }
        }
        Request::RotateKey { user } => {
            let key = Store::random_key();
            if store.set_key(user, &key) { Answer::Key { key } } else { missing(user) }
        }
        Request::Remove { user } => {
            if store.remove_account(user) {
                Answer::Removed
            } else {
                missing(user)
            }
        }
        Request::List => {
            let accounts = store.accounts().map(|account| {
                Ok(AccountSummary {
                    username: account.username.clone(),
                    joined: crate::clock::date_joined(account.date_joined),
                    files: store.file_count(&account.username, None)?,
                })
            });
            match accounts.collect::<Result<_, crate::store::StoreError>>() {
                Ok(accounts) => Answer::Accounts { accounts },
                Err(err) => Answer::Refused { error: err.to_string() },
            }
        }
    }
}

/// The lock of data folder `dir` (made, 0700, if missing), or `None` while a server holds it.
pub(crate) fn try_lock(dir: &Path) -> Result<Option<File>> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let path = dir.join(LOCK);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("could not open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("could not lock {}", path.display()))
        }
    }
}

/// Answers requests on the control socket of data folder `dir` until the task is aborted.
pub(crate) fn serve(app: Shared, dir: &Path) -> Result<tokio::task::JoinHandle<()>> {
    let path = dir.join(SOCKET);
    // A socket left by a server that was killed: this server holds the lock, so it is stale.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .with_context(|| format!("could not listen on {}", path.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let app = app.clone();
            tokio::spawn(async move {
                if let Err(err) = answer(&app, stream).await {
                    tracing::warn!(error = %format!("{err:#}"), "a control request failed");
                }
            });
        }
    }))
}

/// Reads one request line, applies it to the served store, saves it, and writes the answer.
async fn answer(app: &Shared, stream: tokio::net::UnixStream) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let (reader, mut writer) = stream.into_split();
    let mut line = String::new();
    tokio::io::BufReader::new(reader.take(64 * 1024)).read_line(&mut line).await?;
    let answer = match serde_json::from_str::<Request>(&line) {
        Ok(request) => {
            let _writing = app.lock_writes(None).await?;
            let answer = apply(&mut app.store(), &request);
            match app.persist() {
                Ok(()) => answer,
                Err(err) => {
                    Answer::Refused { error: format!("the change could not be saved: {err:#}") }
                }
            }
        }
        Err(err) => Answer::Refused { error: format!("not a control request: {err}") },
    };
    let mut text = serde_json::to_string(&answer)?;
    text.push('\n');
    writer.write_all(text.as_bytes()).await?;
    Ok(())
}

/// Sends `request` to the server running on data folder `dir`.
pub(crate) fn ask(dir: &Path, request: &Request) -> Result<Answer> {
    let path = dir.join(SOCKET);
    let mut stream = std::os::unix::net::UnixStream::connect(&path).with_context(|| {
        format!(
            "a server holds {} but does not answer on {}; stop it, then try again",
            dir.display(),
            path.display()
        )
    })?;
    let mut text = serde_json::to_string(request)?;
    text.push('\n');
    stream.write_all(text.as_bytes())?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    if line.is_empty() {
        bail!("the server on {} closed the control socket without answering", dir.display());
    }
    Ok(serde_json::from_str(&line)?)
}

/// Removes the control socket of data folder `dir` (a stopping server).
pub(crate) fn remove_socket(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(SOCKET));
}
