//! `auth status` and `auth login`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chart_studio_api::{Credentials, users};

use crate::cli::AuthCommand;
use crate::exit::{NoCredentials, UsageError};
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(command: AuthCommand, settings: &Settings, out: Output) -> Result<()> {
    match command {
        AuthCommand::Status => status(settings, out).await,
        AuthCommand::Login { username, no_verify } => {
            login(settings, out, username, no_verify).await
        }
    }
}

async fn status(settings: &Settings, out: Output) -> Result<()> {
    let described = settings.describe();
    let client = settings.client()?;
    let api = client.config().api_base().to_string();
    let user = match settings.credentials() {
        Some(_) => Some(client.send(&users::Current {}).await),
        None => None,
    };
    if out.json {
        let values: BTreeMap<&str, serde_json::Value> = described
            .iter()
            .map(|(key, value, source)| {
                (*key, serde_json::json!({"value": value, "source": source}))
            })
            .collect();
        let user_json = match &user {
            Some(Ok(user)) => serde_json::to_value(user)?,
            _ => serde_json::Value::Null,
        };
        out.json(&serde_json::json!({"profile": settings.profile, "api": api, "settings": values, "user": user_json}))?;
    } else {
        let rows: Vec<Vec<String>> = described
            .into_iter()
            .map(|(key, value, source)| vec![key.to_owned(), value, source])
            .collect();
        out.rows(&["SETTING", "VALUE", "SOURCE"], &rows)?;
    }
    match user {
        None => Err(NoCredentials.into()),
        Some(Err(err)) => {
            let what = if err.as_api().is_some_and(chart_studio_api::ApiError::is_auth) {
                format!("the credentials were not accepted by {api}")
            } else {
                format!("the credentials could not be checked: {api} did not answer as expected")
            };
            Err(anyhow::Error::new(err).context(what))
        }
        Some(Ok(user)) => {
            if !out.json {
                out.line(&format!("Logged in to {api} as {}", user.username))?;
            }
            Ok(())
        }
    }
}

async fn login(settings: &Settings, out: Output, username: String, no_verify: bool) -> Result<()> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut stderr = std::io::stderr().lock();
        write!(stderr, "Paste the API key for {username} and press Enter: ")?;
        stderr.flush()?;
    }
    let mut key = String::new();
    stdin.lock().read_line(&mut key).context("could not read the API key from stdin")?;
    let key = key.trim();
    if key.is_empty() {
        return Err(UsageError("no API key on stdin: pipe it in, e.g. `chart-studio auth login --username NAME < key.txt`".to_owned()).into());
    }
    if key.chars().all(|c| c == '•' || c == '*') {
        bail!(
            "that is the masked key shown on the settings page, not the key itself; copy the key after revealing it"
        );
    }
    let creds = Credentials::new(&username, key);
    if !no_verify {
        let client = settings.client_as(Some(creds.clone()))?;
        let user = client
            .send(&users::Current {})
            .await
            .context("the server did not accept this username and key")?;
        if user.username != username {
            bail!("the key belongs to {:?}, not {username:?}", user.username);
        }
    }
    let dir = dirs::home_dir()
        .context("no home folder to write ~/.plotly/.credentials to")?
        .join(".plotly");
    let path = dir.join(".credentials");
    write_credentials(&path, &creds)?;
    out.line(&format!(
        "Saved the credentials of {username} to {} (readable only by you)",
        path.display()
    ))
}

/// Merges the credentials into the Python-client JSON file, written atomically with mode 0600.
fn write_credentials(path: &Path, creds: &Credentials) -> Result<()> {
    let mut object = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            .with_context(|| {
                format!("{} is not a JSON object; fix or remove it", path.display())
            })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(err) => return Err(err).with_context(|| format!("could not read {}", path.display())),
    };
    object.insert("username".to_owned(), creds.username.clone().into());
    object.insert("api_key".to_owned(), creds.api_key.expose().into());
    super::config::write_private(path, &serde_json::to_string_pretty(&object)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_merged_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".plotly/.credentials");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"username": "old", "api_key": "old", "proxy_username": "p"}"#)
            .unwrap();
        write_credentials(&path, &Credentials::new("alice", "k3y")).unwrap();
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            saved,
            serde_json::json!({"username": "alice", "api_key": "k3y", "proxy_username": "p"})
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
