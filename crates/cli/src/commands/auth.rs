//! `auth status | login | logout`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result};
use chart_studio_api::{Credentials, users};
use chart_studio_models::User;
use serde::Serialize;

use super::config::Setting;
use crate::cli::AuthCommand;
use crate::exit::{NoCredentials, UsageError};
use crate::output::{Human, Output, Render};
use crate::settings::Settings;

/// `auth status`: every setting with its source, and the account the server says the
/// credentials belong to.
#[derive(Debug, Serialize)]
pub(crate) struct AuthStatus {
    /// The profile in effect.
    profile: Option<String>,
    /// The API server.
    api: String,
    /// Every setting (secrets shown as `***`).
    settings: Vec<Setting>,
    /// The account, when the server accepted the credentials.
    user: Option<User>,
}

impl Render for AuthStatus {
    const FIELDS: &'static [&'static str] = &["profile", "api", "settings", "user"];

    fn human(&self) -> Human {
        Human::Table {
            headers: <Setting as crate::output::Row>::HEADERS,
            rows: self.settings.iter().map(crate::output::Row::cells).collect(),
            empty: None,
        }
    }
}

/// `auth login` and `auth logout`: the credentials file written.
#[derive(Debug, Serialize)]
pub(crate) struct CredentialsSaved {
    /// The user saved, or removed.
    username: Option<String>,
    /// `saved`, `removed`, or `none` (there were no credentials to remove).
    action: &'static str,
    /// The file.
    path: std::path::PathBuf,
    /// The server settings given to `auth login` and kept in the profile, so that later
    /// commands reach the same server.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kept: Vec<KeptSetting>,
}

/// A setting `auth login` kept in the profile.
#[derive(Debug, Serialize)]
pub(crate) struct KeptSetting {
    /// The setting.
    key: &'static str,
    /// Its value.
    value: String,
    /// The profile and file.
    profile: String,
}

impl Render for CredentialsSaved {
    const FIELDS: &'static [&'static str] = &["username", "action", "path", "kept"];

    fn human(&self) -> Human {
        let who = self.username.as_deref().unwrap_or("nobody");
        let path = self.path.display();
        let text = match self.action {
            "saved" if !self.kept.is_empty() => {
                let kept: Vec<String> =
                    self.kept.iter().map(|k| format!("{} = {}", k.key, k.value)).collect();
                format!(
                    "Saved the credentials of {who} to {path} (readable only by you), and {} in profile {:?}",
                    kept.join(", "),
                    self.kept[0].profile
                )
            }
            "saved" => format!("Saved the credentials of {who} to {path} (readable only by you)"),
            "removed" => format!("Removed the credentials of {who} from {path}"),
            _ => format!("No credentials in {path}; nothing to remove"),
        };
        Human::Sentence {
            text,
            row: vec![
                self.username.clone().unwrap_or_default(),
                self.action.to_owned(),
                path.to_string(),
            ],
        }
    }
}

pub(super) async fn run(command: AuthCommand, settings: &Settings, out: Output) -> Result<()> {
    match command {
        AuthCommand::Status => status(settings, out).await,
        AuthCommand::Login { username, no_verify } => {
            login(settings, out, username, no_verify).await
        }
        AuthCommand::Logout => logout(settings, &out),
    }
}

async fn status(settings: &Settings, out: Output) -> Result<()> {
    let printer = out.of::<AuthStatus>()?;
    let client = settings.client()?;
    let api = client.config().api_base().to_string();
    let user = match settings.credentials() {
        Some(_) => Some(client.send(&users::Current {}).await),
        None => None,
    };
    let status = AuthStatus {
        profile: settings.profile.clone(),
        api: api.clone(),
        settings: Setting::all(settings),
        user: user.as_ref().and_then(|user| user.as_ref().ok()).cloned(),
    };
    printer.print(&status)?;
    match user {
        None => Err(NoCredentials.into()),
        Some(Err(err)) => {
            let what = if err.as_api().is_some_and(chart_studio_api::ApiError::is_auth) {
                format!("the credentials were not accepted by {api}")
            } else if matches!(&err, chart_studio_api::Error::Transport(t) if t.is_certificate()) {
                format!(
                    "the credentials could not be checked: {api} has a certificate this machine does not trust"
                )
            } else if err.as_api().is_none() {
                format!("the credentials could not be checked: {api} could not be reached")
            } else {
                format!("the credentials could not be checked: {api} did not answer as expected")
            };
            Err(anyhow::Error::new(err).context(what))
        }
        Some(Ok(user)) => {
            if !printer.json() {
                writeln!(std::io::stderr().lock(), "Logged in to {api} as {}", user.username)?;
            }
            Ok(())
        }
    }
}

async fn login(settings: &Settings, out: Output, username: String, no_verify: bool) -> Result<()> {
    let printer = out.of::<CredentialsSaved>()?;
    let stdin = std::io::stdin();
    let key = if stdin.is_terminal() {
        // Not echoed, as gh and Python's getpass read secrets.
        rpassword::prompt_password(format!(
            "Paste the API key for {username} (it is not shown) and press Enter: "
        ))
        .context("could not read the API key")?
    } else {
        let mut key = String::new();
        stdin.lock().read_line(&mut key).context("could not read the API key from stdin")?;
        key
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(UsageError("no API key on stdin: pipe it in, e.g. `chart-studio auth login --username NAME < key.txt`".to_owned()).into());
    }
    let creds = Credentials::new(&username, key);
    let saved = chart_studio_workflows::login::login(settings, &creds, !no_verify).await?;
    let kept = saved
        .kept
        .into_iter()
        .map(|(key, value, profile)| KeptSetting { key, value, profile })
        .collect();
    printer.print(&CredentialsSaved {
        username: Some(username),
        action: "saved",
        path: saved.path,
        kept,
    })
}

/// Removes the username and key from the credentials file; proxy entries stay.
fn logout(settings: &Settings, out: &Output) -> Result<()> {
    let printer = out.of::<CredentialsSaved>()?;
    let done = settings.logout()?;
    let action = if done.removed { "removed" } else { "none" };
    printer.print(&CredentialsSaved {
        username: done.username,
        action,
        path: done.path,
        kept: Vec::new(),
    })
}
