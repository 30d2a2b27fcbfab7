//! `config get | set | unset | list`: settings with their sources; `set` and `unset` write the
//! active profile of our TOML file through the settings (mode 0600: it may hold a proxy
//! password).

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ConfigCommand;
use crate::exit::UsageError;
use crate::output::{Human, Output, Render, Row};
use crate::settings::{KEYS, SettingWritten, Settings};

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

impl SettingSaved {
    fn of(
        key: String,
        value: Option<String>,
        action: &'static str,
        written: SettingWritten,
    ) -> Self {
        Self { key, value, action, profile: written.profile, path: written.path }
    }
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
                let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                let known = known.join(", ");
                return Err(
                    UsageError(format!("unknown setting {key:?}; settings: {known}")).into()
                );
            };
            printer.print(&setting)
        }
        ConfigCommand::Set { key, value } => {
            let printer = out.of::<SettingSaved>()?;
            let written = settings.set(&key, Some(&value))?;
            printer.print(&SettingSaved::of(key, Some(value), "set", written))
        }
        ConfigCommand::Unset { key } => {
            let printer = out.of::<SettingSaved>()?;
            let written = settings.set(&key, None)?;
            let action = if written.changed { "unset" } else { "absent" };
            printer.print(&SettingSaved::of(key, None, action, written))
        }
    }
}
