//! `config get | set | list`: settings with their sources; `set` writes the active profile of
//! our TOML file (mode 0600: it may hold a proxy password).

use std::path::Path;

use anyhow::{Context, Result, bail};
use chart_studio_sharing::Sharing;

use crate::cli::ConfigCommand;
use crate::exit::UsageError;
use crate::output::Output;
use crate::settings::{KEYS, PROFILE_KEYS, Settings};

pub(super) async fn run(command: ConfigCommand, settings: &Settings, out: Output) -> Result<()> {
    match command {
        ConfigCommand::List => {
            let rows: Vec<Vec<String>> = settings
                .describe()
                .into_iter()
                .map(|(key, value, source)| vec![key.to_owned(), value, source])
                .collect();
            if out.json {
                return out.json(&rows);
            }
            out.rows(&["SETTING", "VALUE", "SOURCE"], &rows)
        }
        ConfigCommand::Get { key } => {
            let Some((_, value, source)) =
                settings.describe().into_iter().find(|(k, ..)| *k == key)
            else {
                return Err(unknown(&key).into());
            };
            if out.json {
                return out
                    .json(&serde_json::json!({"key": key, "value": value, "source": source}));
            }
            out.rows(&["SETTING", "VALUE", "SOURCE"], &[vec![key, value, source]])
        }
        ConfigCommand::Set { key, value } => {
            let path = settings
                .config_file
                .clone()
                .context("no config file location (no home folder?)")?;
            let profile = settings.profile.clone().unwrap_or_else(|| "default".to_owned());
            set(&path, &profile, &key, &value)?;
            out.line(&format!("Set {key} = {value} in profile {profile:?} of {}", path.display()))
        }
    }
}

fn unknown(key: &str) -> UsageError {
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    UsageError(format!("unknown setting {key:?}; settings: {}", known.join(", ")))
}

/// Writes `key = value` into `[profiles.PROFILE]`, keeping the rest of the file as it is.
fn set(path: &Path, profile: &str, key: &str, value: &str) -> Result<()> {
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
    let item = match key {
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
        _ => toml_edit::value(value),
    };
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
    section.insert(key, item);
    write_private(path, &document.to_string())
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
        set(&path, "work", "sharing", "Private").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my settings\n"), "{text}");
        assert!(
            text.contains("api_domain = \"https://x.example\"\nsharing = \"private\""),
            "{text}"
        );
        assert!(
            set(&path, "work", "sharing", "everyone")
                .unwrap_err()
                .to_string()
                .contains("not a sharing mode")
        );
        assert!(set(&path, "work", "api_key", "k").is_err());
        assert!(set(&path, "work", "ssl_verification", "maybe").is_err());
        set(&path, "fresh", "ssl_verification", "false").unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("[profiles.fresh]\nssl_verification = false")
        );
    }
}
