//! Writing the settings files: a key of the active profile in our TOML file (`config set`,
//! `config unset`), and the credentials in the Python client's `.credentials` file (`auth
//! login`, `auth logout`). Every file is replaced atomically and readable only by its owner:
//! they may hold a key or a proxy password.

use std::path::{Path, PathBuf};

use chart_studio_api::Credentials;
use chart_studio_sharing::{Layer as SharingLayer, Sharing, resolve};
use serde::Serialize;

use super::{Error, KEYS, PROFILE_KEYS, Result, Settings};

/// What `set` or `unset` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingWritten {
    /// The profile written.
    pub profile: String,
    /// Our TOML file.
    pub path: PathBuf,
    /// Whether the file changed (`unset` of a key that is not there changes nothing).
    pub changed: bool,
}

/// What `save_login` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSaved {
    /// The credentials file.
    pub path: PathBuf,
    /// The server settings kept in the profile because they were given as flags: (setting,
    /// value, profile).
    pub kept: Vec<(&'static str, String, String)>,
}

/// What `logout` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDone {
    /// The credentials file.
    pub path: PathBuf,
    /// The user whose credentials were removed, if the file named one.
    pub username: Option<String>,
    /// Whether anything was removed.
    pub removed: bool,
}

/// The server settings `save_login` keeps when they were given as flags (as `gh auth login
/// --hostname` keeps the host): the next command then reaches the same server.
const LOGIN_KEEPS: [&str; 3] = ["api_domain", "web_domain", "ca_bundle"];

impl Settings {
    /// Writes `key = value` into the active profile of our TOML file (`default` when none is
    /// active), or removes the key when `value` is `None`, keeping the rest of the file as it
    /// is. An unknown setting, a value of the wrong kind and a value that contradicts another
    /// setting of the profile are refused, with nothing written.
    pub fn set(&self, key: &str, value: Option<&str>) -> Result<SettingWritten> {
        let path = self.config_file.clone().ok_or_else(|| {
            Error::Invalid("no config file location (no home folder?)".to_owned())
        })?;
        let profile = self.profile.clone().unwrap_or_else(|| "default".to_owned());
        let changed = set_in_profile(&path, &profile, key, value)?;
        Ok(SettingWritten { profile, path, changed })
    }

    /// The Python client's credentials file.
    pub fn credentials_file(&self) -> Result<PathBuf> {
        let dir = self.plotly_dir.clone().ok_or_else(|| {
            Error::Invalid("no home folder (or PLOTLY_DIR) to keep the credentials in".to_owned())
        })?;
        Ok(dir.join(".credentials"))
    }

    /// Saves `credentials` into the Python client's credentials file (other entries, such as
    /// the proxy's, stay), and keeps in the profile the server settings given as flags.
    pub fn save_login(&self, credentials: &Credentials) -> Result<LoginSaved> {
        let path = self.credentials_file()?;
        let mut object = read_credentials(&path)?;
        object.insert("username".to_owned(), credentials.username.clone().into());
        object.insert("api_key".to_owned(), credentials.api_key.expose().into());
        write_private(&path, &json_text(&object)?)?;
        let mut kept = Vec::new();
        for key in LOGIN_KEEPS {
            let given = self.origin(key).is_some_and(|origin| origin.starts_with("flag "));
            if let (true, Some(value)) = (given, self.text(key)) {
                let written = self.set(key, Some(&value))?;
                kept.push((key, value, written.profile));
            }
        }
        Ok(LoginSaved { path, kept })
    }

    /// Removes the username and key from the credentials file; proxy entries stay.
    pub fn logout(&self) -> Result<LogoutDone> {
        let path = self.credentials_file()?;
        let mut object = read_credentials(&path)?;
        let username = object.remove("username").and_then(|v| v.as_str().map(str::to_owned));
        let removed = object.remove("api_key").is_some() || username.is_some();
        if removed {
            write_private(&path, &json_text(&object)?)?;
        }
        Ok(LogoutDone { path, username, removed })
    }
}

fn unknown(key: &str) -> Error {
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    Error::Usage(format!("unknown setting {key:?}; settings: {}", known.join(", ")))
}

/// Writes `key = value` into `[profiles.PROFILE]` of `path` (removes it when `value` is
/// `None`). Returns whether anything changed.
fn set_in_profile(path: &Path, profile: &str, key: &str, value: Option<&str>) -> Result<bool> {
    if !PROFILE_KEYS.contains(&key) {
        if key == "api_key" {
            return Err(Error::Usage(
                "the API key is not kept in the config file; use `chart-studio auth login`"
                    .to_owned(),
            ));
        }
        return Err(unknown(key));
    }
    let item = value.map(|value| typed(key, value)).transpose()?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(Error::read(path, err)),
    };
    let not_toml = |err| Error::Invalid(format!("{} is not valid TOML: {err}", path.display()));
    let mut document: toml_edit::DocumentMut = text.parse().map_err(not_toml)?;
    let profiles = document.entry("profiles").or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        toml_edit::Item::Table(table)
    });
    let Some(profiles) = profiles.as_table_mut() else {
        return Err(Error::Invalid(format!("{}: `profiles` is not a table", path.display())));
    };
    let section = profiles.entry(profile).or_insert_with(toml_edit::table);
    let Some(section) = section.as_table_mut() else {
        return Err(Error::Invalid(format!(
            "{}: profiles.{profile} is not a table",
            path.display()
        )));
    };
    match item {
        Some(item) => {
            section.insert(key, item);
        }
        None => {
            if section.remove(key).is_none() {
                return Ok(false);
            }
        }
    }
    let origin = format!("profile {profile:?} of {}", path.display());
    let layer = SharingLayer {
        sharing: section
            .get("sharing")
            .and_then(|v| v.as_str())
            .map(|v| (v.to_owned(), origin.clone())),
        world_readable: section
            .get("world_readable")
            .and_then(|v| v.as_bool())
            .map(|v| (v, origin.clone())),
    };
    resolve(&[layer]).map_err(|err| Error::Usage(format!("not saved: {err}")))?;
    write_private(path, &document.to_string())?;
    Ok(true)
}

/// A setting's value as TOML: checked modes and booleans, text otherwise.
fn typed(key: &str, value: &str) -> Result<toml_edit::Item> {
    Ok(match key {
        "sharing" => toml_edit::value(
            value.parse::<Sharing>().map_err(|err| Error::Usage(err.to_string()))?.as_str(),
        ),
        "proxy_authorization" | "ssl_verification" | "allow_insecure_http" | "world_readable" => {
            toml_edit::value(
                value
                    .parse::<bool>()
                    .map_err(|_| Error::Usage(format!("{key} must be true or false")))?,
            )
        }
        "timeout" | "connect_timeout" => toml_edit::value(
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                .ok_or_else(|| {
                    Error::Usage(format!("{key} must be a number of seconds above 0"))
                })?,
        ),
        _ => toml_edit::value(value),
    })
}

/// The credentials file as a JSON object (empty when missing).
fn read_credentials(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|_| {
            Error::Invalid(format!("{} is not a JSON object; fix or remove it", path.display()))
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::Map::new()),
        Err(err) => Err(Error::read(path, err)),
    }
}

/// The credentials file's text; a map that does not serialise is an error, never an empty file.
fn json_text(object: &serde_json::Map<String, serde_json::Value>) -> Result<String> {
    serde_json::to_string_pretty(object)
        .map_err(|err| Error::Invalid(format!("could not write the credentials: {err}")))
}

/// Writes a file readable only by its owner, atomically.
fn write_private(path: &Path, contents: &str) -> Result<()> {
    let failed = |source| Error::File { action: "write", path: path.to_owned(), source };
    let dir = path.parent().ok_or_else(|| failed(std::io::ErrorKind::InvalidInput.into()))?;
    std::fs::create_dir_all(dir).map_err(failed)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&temp)?;
        #[cfg(unix)]
        std::fs::set_permissions(&temp, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        std::io::Write::write_all(&mut file, contents.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    written.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart-studio/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "# my settings\nprofile = \"work\"\n\n[profiles.work]\napi_domain = \"https://x.example\"\n").unwrap();
        set_in_profile(&path, "work", "sharing", Some("Private")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my settings\n"), "{text}");
        assert!(
            text.contains("api_domain = \"https://x.example\"\nsharing = \"private\""),
            "{text}"
        );
        let refused = set_in_profile(&path, "work", "sharing", Some("everyone")).unwrap_err();
        assert!(
            matches!(refused, Error::Usage(_))
                && refused.to_string().contains("not a sharing mode")
        );
        assert!(set_in_profile(&path, "work", "api_key", Some("k")).is_err());
        assert!(set_in_profile(&path, "work", "ssl_verification", Some("maybe")).is_err());
        set_in_profile(&path, "fresh", "ssl_verification", Some("false")).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("[profiles.fresh]\nssl_verification = false")
        );
    }

    #[test]
    fn contradictions_are_refused_and_unset_removes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        set_in_profile(&path, "p", "sharing", Some("private")).unwrap();
        let err = set_in_profile(&path, "p", "world_readable", Some("true")).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, Error::Usage(_))
                && text.contains("sharing")
                && text.contains("world_readable"),
            "{text}"
        );
        assert!(!std::fs::read_to_string(&path).unwrap().contains("world_readable"));
        set_in_profile(&path, "p", "world_readable", Some("false")).unwrap();
        assert!(set_in_profile(&path, "p", "world_readable", None).unwrap());
        assert!(
            !set_in_profile(&path, "p", "world_readable", None).unwrap(),
            "nothing left to remove"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("sharing = \"private\"") && !text.contains("world_readable"),
            "{text}"
        );
    }

    #[test]
    fn credentials_are_merged_and_private_and_logout_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let plotly = dir.path().join(".plotly");
        std::fs::create_dir_all(&plotly).unwrap();
        let path = plotly.join(".credentials");
        std::fs::write(&path, r#"{"username": "old", "api_key": "old", "proxy_username": "p"}"#)
            .unwrap();
        let inputs = super::super::Inputs { plotly_dir: Some(plotly), ..Default::default() };
        let settings = Settings::load(&inputs).unwrap();
        let saved = settings.save_login(&Credentials::new("alice", "k3y")).unwrap();
        assert_eq!((saved.path.clone(), saved.kept.len()), (path.clone(), 0));
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"username": "alice", "api_key": "k3y", "proxy_username": "p"})
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let done = settings.logout().unwrap();
        assert_eq!((done.username.as_deref(), done.removed), (Some("alice"), true));
        let left: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(left, serde_json::json!({"proxy_username": "p"}));
        assert!(!settings.logout().unwrap().removed, "nothing left to remove");
    }
}
