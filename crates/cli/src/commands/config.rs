//! `config get | set | unset | list`: settings with their sources; `set` and `unset` write the
//! active profile of our TOML file (mode 0600: it may hold a proxy password).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chart_studio_sharing::{Layer, Sharing, resolve};
use serde::Serialize;

use crate::cli::ConfigCommand;
use crate::exit::UsageError;
use crate::output::{Human, Output, Render, Row};
use crate::settings::{KEYS, PROFILE_KEYS, Settings};

/// A setting, its value (secrets as `***`) and where it came from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Setting {
    /// The setting's name.
    key: String,
    /// Its value; empty when not set.
    value: String,
    /// Where the value came from: a file, an environment variable, a flag, `default` or
    /// `not set`.
    source: String,
}

impl Setting {
    /// Every known setting.
    pub(crate) fn all(settings: &Settings) -> Vec<Self> {
        settings
            .describe()
            .into_iter()
            .map(|(key, value, source)| Self { key: key.to_owned(), value, source })
            .collect()
    }
}

impl Row for Setting {
    const FIELDS: &'static [&'static str] = &["key", "value", "source"];
    const HEADERS: &'static [&'static str] = &["SETTING", "VALUE", "SOURCE"];

    fn cells(&self) -> Vec<String> {
        vec![self.key.clone(), self.value.clone(), self.source.clone()]
    }
}

/// `config get`: one row.
impl Render for Setting {
    const FIELDS: &'static [&'static str] = <Self as Row>::FIELDS;

    fn human(&self) -> Human {
        Human::Table { headers: <Self as Row>::HEADERS, rows: vec![self.cells()], empty: None }
    }
}

/// `config set` and `config unset`: what was written where.
#[derive(Debug, Serialize)]
pub(crate) struct SettingSaved {
    /// The setting.
    key: String,
    /// Its new value; `null` after `unset`.
    value: Option<String>,
    /// `set`, `unset`, or `absent` (unset found nothing to remove).
    action: &'static str,
    /// The profile written.
    profile: String,
    /// The config file.
    path: PathBuf,
}

impl Render for SettingSaved {
    const FIELDS: &'static [&'static str] = &["key", "value", "action", "profile", "path"];

    fn human(&self) -> Human {
        let (key, profile, path) = (&self.key, &self.profile, self.path.display());
        let text = match (self.action, &self.value) {
            ("set", Some(value)) => format!("Set {key} = {value} in profile {profile:?} of {path}"),
            ("unset", _) => format!("Removed {key} from profile {profile:?} of {path}"),
            _ => format!("{key} is not set in profile {profile:?} of {path}; nothing removed"),
        };
        let row = vec![
            key.clone(),
            self.value.clone().unwrap_or_default(),
            self.action.to_owned(),
            profile.clone(),
            path.to_string(),
        ];
        Human::Sentence { text, row }
    }
}

pub(super) async fn run(command: ConfigCommand, settings: &Settings, out: Output) -> Result<()> {
    match command {
        ConfigCommand::List => out.of::<Vec<Setting>>()?.print(&Setting::all(settings)),
        ConfigCommand::Get { key } => {
            let printer = out.of::<Setting>()?;
            let Some(setting) = Setting::all(settings).into_iter().find(|s| s.key == key) else {
                return Err(unknown(&key).into());
            };
            printer.print(&setting)
        }
        ConfigCommand::Set { key, value } => {
            let printer = out.of::<SettingSaved>()?;
            let (path, profile) = target(settings)?;
            set(&path, &profile, &key, Some(&value))?;
            printer.print(&SettingSaved { key, value: Some(value), action: "set", profile, path })
        }
        ConfigCommand::Unset { key } => {
            let printer = out.of::<SettingSaved>()?;
            let (path, profile) = target(settings)?;
            let removed = set(&path, &profile, &key, None)?;
            let action = if removed { "unset" } else { "absent" };
            printer.print(&SettingSaved { key, value: None, action, profile, path })
        }
    }
}

/// The config file and the profile that `set` and `unset` write.
pub(super) fn target(settings: &Settings) -> Result<(PathBuf, String)> {
    let path = settings.config_file.clone().context("no config file location (no home folder?)")?;
    Ok((path, settings.profile.clone().unwrap_or_else(|| "default".to_owned())))
}

fn unknown(key: &str) -> UsageError {
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    UsageError(format!("unknown setting {key:?}; settings: {}", known.join(", ")))
}

/// Writes `key = value` into `[profiles.PROFILE]` (removes it when `value` is `None`), keeping
/// the rest of the file as it is. A value that contradicts another setting of the profile is
/// refused. Returns whether anything changed.
pub(super) fn set(path: &Path, profile: &str, key: &str, value: Option<&str>) -> Result<bool> {
    if !PROFILE_KEYS.contains(&key) {
        if key == "api_key" {
            return Err(UsageError(
                "the API key is not kept in the config file; use `chart-studio auth login`"
                    .to_owned(),
            )
            .into());
        }
        return Err(unknown(key).into());
    }
    let item = value.map(|value| typed(key, value)).transpose()?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("could not read {}", path.display())),
    };
    let mut document: toml_edit::DocumentMut =
        text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    let profiles = document.entry("profiles").or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        toml_edit::Item::Table(table)
    });
    let Some(profiles) = profiles.as_table_mut() else {
        bail!("{}: `profiles` is not a table", path.display())
    };
    let section = profiles.entry(profile).or_insert_with(toml_edit::table);
    let Some(section) = section.as_table_mut() else {
        bail!("{}: profiles.{profile} is not a table", path.display())
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
    let layer = Layer {
        sharing: section
            .get("sharing")
            .and_then(|v| v.as_str())
            .map(|v| (v.to_owned(), origin.clone())),
        world_readable: section
            .get("world_readable")
            .and_then(|v| v.as_bool())
            .map(|v| (v, origin.clone())),
    };
    resolve(&[layer]).map_err(|err| UsageError(format!("not saved: {err}")))?;
    write_private(path, &document.to_string())?;
    Ok(true)
}

/// A setting's value as TOML: checked modes and booleans, text otherwise.
fn typed(key: &str, value: &str) -> Result<toml_edit::Item> {
    Ok(match key {
        "sharing" => toml_edit::value(
            value.parse::<Sharing>().map_err(|err| UsageError(err.to_string()))?.as_str(),
        ),
        "proxy_authorization" | "ssl_verification" | "allow_insecure_http" | "world_readable" => {
            toml_edit::value(
                value
                    .parse::<bool>()
                    .map_err(|_| UsageError(format!("{key} must be true or false")))?,
            )
        }
        "timeout" | "connect_timeout" => toml_edit::value(
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                .ok_or_else(|| UsageError(format!("{key} must be a number of seconds above 0")))?,
        ),
        _ => toml_edit::value(value),
    })
}

/// Writes a file readable only by its owner, atomically.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().context("the file has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(&temp).with_context(|| format!("could not write {}", temp.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&temp, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::io::Write::write_all(&mut file, contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path).with_context(|| format!("could not replace {}", path.display()))
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
        set(&path, "work", "sharing", Some("Private")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my settings\n"), "{text}");
        assert!(
            text.contains("api_domain = \"https://x.example\"\nsharing = \"private\""),
            "{text}"
        );
        assert!(
            set(&path, "work", "sharing", Some("everyone"))
                .unwrap_err()
                .to_string()
                .contains("not a sharing mode")
        );
        assert!(set(&path, "work", "api_key", Some("k")).is_err());
        assert!(set(&path, "work", "ssl_verification", Some("maybe")).is_err());
        set(&path, "fresh", "ssl_verification", Some("false")).unwrap();
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
        set(&path, "p", "sharing", Some("private")).unwrap();
        let err = set(&path, "p", "world_readable", Some("true")).unwrap_err();
        let text = err.to_string();
        assert!(
            err.is::<UsageError>() && text.contains("sharing") && text.contains("world_readable"),
            "{text}"
        );
        assert!(!std::fs::read_to_string(&path).unwrap().contains("world_readable"));
        set(&path, "p", "world_readable", Some("false")).unwrap();
        assert!(set(&path, "p", "world_readable", None).unwrap());
        assert!(!set(&path, "p", "world_readable", None).unwrap(), "nothing left to remove");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("sharing = \"private\"") && !text.contains("world_readable"),
            "{text}"
        );
    }
}
