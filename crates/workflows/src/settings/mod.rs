//! The settings the `chart-studio` CLI uses, layered with the `config` crate, for any program
//! that should connect as the CLI does; each value remembers the source it came from.
//!
//! Order, lowest first: defaults < `~/.plotly/.credentials` and `~/.plotly/.config` (the JSON
//! files the Python and R clients write) < our TOML file's profile < environment < flags.
//!
//! This module owns those files: it reads them here and writes them in `write.rs` (`config
//! set`, `auth login`, `auth logout`).

mod write;

pub use write::{LoginSaved, LogoutDone, SettingWritten};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chart_studio_api::{Client, Config, Credentials, RetryPolicy, Sleeper};
use chart_studio_bulk::TokioClock;
use chart_studio_http::{HttpSettings, HttpTransport};
use config::{Map, Source, Value, ValueKind};

/// Why settings could not be read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller asked for something the settings do not allow: an unknown setting, a value
    /// of the wrong kind, a contradiction, a link to another server.
    #[error("{0}")]
    Usage(String),
    /// A settings file or value that cannot be used as it is.
    #[error("{0}")]
    Invalid(String),
    /// A settings file that could not be read or written.
    #[error("could not {action} {}: {source}", .path.display())]
    File {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server's address or the credentials do not make a client.
    #[error("api_domain from {origin}: {source}")]
    Address {
        /// Where the address came from.
        origin: String,
        /// Why it does not do.
        source: chart_studio_api::ConfigError,
    },
    /// HTTP could not be set up (a proxy or certificate file that does not do).
    #[error("could not set up HTTP: {0}")]
    Http(#[from] chart_studio_http::SetupError),
    /// The layers could not be combined.
    #[error("could not combine the configuration layers: {0}")]
    Layers(#[from] config::ConfigError),
}

impl Error {
    fn read(path: &Path, source: std::io::Error) -> Self {
        Self::File { action: "read", path: path.to_owned(), source }
    }
}

/// What reading, using or writing settings gives.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every setting, with what it means.
pub const KEYS: &[(&str, &str)] = &[
    ("username", "the Chart Studio user to act as"),
    ("api_key", "that user's API key"),
    ("api_domain", "the API server, such as https://api.plotly.com"),
    ("web_domain", "the web server that file links point to"),
    ("proxy", "an HTTP proxy for every request (default: HTTP(S)_PROXY / NO_PROXY)"),
    ("proxy_username", "the proxy's user"),
    ("proxy_password", "the proxy's password"),
    ("proxy_authorization", "send Chart Studio credentials in plotly-authorization"),
    ("ca_bundle", "a PEM file of extra certificate authorities to trust"),
    ("ssl_verification", "check TLS certificates"),
    ("allow_insecure_http", "allow credentials over plain http to another machine"),
    ("timeout", "seconds to wait for each answer (default 60)"),
    ("connect_timeout", "seconds to wait for a connection to open (default 10)"),
    ("sharing", "the sharing of new files: public, private or secret"),
    ("world_readable", "deprecated: true for public, false for private"),
];

const SECRET_KEYS: [&str; 2] = ["api_key", "proxy_password"];

/// Whether a setting or environment variable holds a secret, to be shown as `***`.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|key| name.contains(key))
        || name.contains("apikey")
        || name.contains("password")
}

/// A setting's value as it may be shown: `***` for a secret; a URL's password (a proxy's) masked.
fn shown(key: &str, value: &str) -> String {
    if is_secret(key) { "***".to_owned() } else { chart_studio_api::redact_url(value) }
}

/// `key=value` pairs for `Debug`, secrets masked.
fn masked<'a>(pairs: impl Iterator<Item = (&'a str, String)>) -> Vec<String> {
    pairs.map(|(key, value)| format!("{key}={}", shown(key, &value))).collect()
}

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("plotly_dir", &self.plotly_dir)
            .field("config_file", &self.config_file)
            .field("profile", &self.profile)
            .field("env", &masked(self.env.iter().map(|(k, v)| (k.as_str(), v.clone()))))
            .field("flags", &masked(self.flags.iter().map(|(k, v)| (*k, v.to_string()))))
            .finish()
    }
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: Vec<String> = self
            .entries
            .iter()
            .map(|(key, origin, v)| format!("{key}={} ({origin})", shown(key, &v.to_string())))
            .collect();
        f.debug_struct("Layer").field("entries", &entries).finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("values", &masked(self.values.iter().map(|(k, v)| (k.as_str(), v.to_string()))))
            .field("profile", &self.profile)
            .field("config_file", &self.config_file)
            .finish_non_exhaustive()
    }
}

/// Where the files of each layer are, and the values of the upper layers.
#[derive(Default, Clone)]
pub struct Inputs {
    /// The folder of `.credentials` and `.config` (`PLOTLY_DIR`, else `~/.plotly`).
    pub plotly_dir: Option<PathBuf>,
    /// Our TOML configuration file.
    pub config_file: Option<PathBuf>,
    /// The profile asked for with `--profile` or `CHART_STUDIO_PROFILE`.
    pub profile: Option<String>,
    /// The process environment.
    pub env: BTreeMap<String, String>,
    /// Values given as flags, by setting name.
    pub flags: Vec<(&'static str, ValueKind)>,
}

/// One layer of settings, as a `config` source whose values carry their origin.
#[derive(Clone)]
struct Layer {
    entries: Vec<(String, String, ValueKind)>,
}

impl Layer {
    fn new() -> Self {
        Self { entries: Vec::new() }
    }

    fn set(&mut self, key: &str, origin: impl Into<String>, value: ValueKind) {
        self.entries.push((key.to_owned(), origin.into(), value));
    }
}

impl Source for Layer {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self
            .entries
            .iter()
            .map(|(key, origin, value)| {
                (format!("settings.{key}"), Value::new(Some(origin), value.clone()))
            })
            .collect())
    }
}

/// The resolved settings.
#[derive(Clone)]
pub struct Settings {
    values: Map<String, Value>,
    layers: Vec<Layer>,
    /// The profile in effect, if any.
    pub profile: Option<String>,
    /// Our TOML file, where `config set` writes.
    pub config_file: Option<PathBuf>,
    /// The Python client's folder (`PLOTLY_DIR`, else `~/.plotly`), where `auth login` writes.
    pub plotly_dir: Option<PathBuf>,
    /// What a client's retries wait on.
    sleeper: Arc<dyn Sleeper>,
}

impl Settings {
    /// Resolves every layer.
    ///
    /// ```
    /// use chart_studio_workflows::settings::{Inputs, Settings};
    ///
    /// let plotly = tempfile::tempdir()?;
    /// std::fs::write(plotly.path().join(".credentials"), r#"{"username": "alice", "api_key": "k3y"}"#)?;
    /// let inputs = Inputs {
    ///     plotly_dir: Some(plotly.path().to_owned()),
    ///     env: [("PLOTLY_USERNAME".to_owned(), "bob".to_owned())].into(),
    ///     ..Inputs::default()
    /// };
    /// let settings = Settings::load(&inputs)?;
    /// assert_eq!(settings.text("username").as_deref(), Some("bob"), "the environment wins");
    /// let shown = settings.describe();
    /// let key = shown.iter().find(|(name, ..)| *name == "api_key").unwrap();
    /// assert_eq!(key.1, "***", "secrets are never shown");
    /// assert!(key.2.ends_with(".credentials"), "and each value says where it came from");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(inputs: &Inputs) -> Result<Self> {
        let (profile_layer, profile) = profile_layer(inputs)?;
        let mut layers = vec![defaults()];
        if let Some(dir) = &inputs.plotly_dir {
            layers.push(plotly_layer(dir)?);
        }
        layers.push(profile_layer);
        layers.push(env_layer(&inputs.env));
        let mut flags = Layer::new();
        for (key, value) in &inputs.flags {
            flags.set(key, format!("flag --{}", key.replace('_', "-")), value.clone());
        }
        layers.push(flags);
        let builder = layers
            .iter()
            .fold(config::Config::builder(), |builder, layer| builder.add_source(layer.clone()));
        let values = builder.build()?.get_table("settings")?;
        Ok(Self {
            values,
            layers,
            profile,
            config_file: inputs.config_file.clone(),
            plotly_dir: inputs.plotly_dir.clone(),
            sleeper: Arc::new(TokioClock::default()),
        })
    }

    /// The same settings, with clients whose retries wait on `sleeper` (such as one that says
    /// at a terminal that it is waiting).
    pub fn waiting_on(self, sleeper: Arc<dyn Sleeper>) -> Self {
        Self { sleeper, ..self }
    }

    /// The `sharing` and `world_readable` of each layer, lowest first, for the sharing engine.
    pub fn sharing_layers(&self) -> Vec<chart_studio_sharing::Layer> {
        self.layers
            .iter()
            .map(|layer| {
                let mut found = chart_studio_sharing::Layer::default();
                for (key, origin, kind) in &layer.entries {
                    let value = Value::new(Some(origin), kind.clone());
                    match key.as_str() {
                        "sharing" => {
                            found.sharing =
                                value.into_string().ok().map(|text| (text, origin.clone()));
                        }
                        "world_readable" => {
                            found.world_readable =
                                value.into_bool().ok().map(|flag| (flag, origin.clone()));
                        }
                        _ => {}
                    }
                }
                found
            })
            .collect()
    }

    fn value(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|value| !matches!(value.kind, ValueKind::Nil))
    }

    /// A text setting.
    pub fn text(&self, key: &str) -> Option<String> {
        self.value(key)
            .and_then(|value| value.clone().into_string().ok())
            .filter(|text| !text.is_empty())
    }

    /// A boolean setting; `"True"`, `"false"`, `1` and the like are accepted.
    pub fn flag(&self, key: &str) -> Result<Option<bool>> {
        let Some(value) = self.value(key) else { return Ok(None) };
        let origin = value.origin().unwrap_or("?").to_owned();
        value
            .clone()
            .into_bool()
            .map(Some)
            .map_err(|_| Error::Invalid(format!("{key} from {origin} must be true or false")))
    }

    /// A number of seconds, above 0 and at most a day.
    pub fn seconds(&self, key: &str) -> Result<Option<std::time::Duration>> {
        let Some(value) = self.value(key) else { return Ok(None) };
        let origin = value.origin().unwrap_or("?").to_owned();
        let seconds =
            value.clone().into_float().ok().filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0);
        seconds.map(|s| Some(std::time::Duration::from_secs_f64(s))).ok_or_else(|| {
            Error::Invalid(format!("{key} from {origin} must be a number of seconds above 0"))
        })
    }

    /// Where a setting came from.
    pub fn origin(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(Value::origin)
    }

    /// Each known setting with its shown value (secrets as `***`) and origin.
    pub fn describe(&self) -> Vec<(&'static str, String, String)> {
        KEYS.iter()
            .map(|(key, _)| {
                let value = self.text(key).map(|text| shown(key, &text)).unwrap_or_default();
                (*key, value, self.origin(key).unwrap_or("not set").to_owned())
            })
            .collect()
    }

    /// Refuses a file link on a host other than the configured web server (`web_domain`, or
    /// the API server's host when that is unset), as the Python client refuses it: a link from
    /// another server names another server's file.
    pub fn check_link(&self, link: &url::Url) -> Result<()> {
        let configured: Vec<String> = ["web_domain", "api_domain"]
            .iter()
            .filter_map(|key| self.text(key))
            .filter_map(|text| url::Url::parse(&text).ok()?.host_str().map(str::to_owned))
            .collect();
        let host = link.host_str().unwrap_or_default();
        if configured.iter().any(|known| known.eq_ignore_ascii_case(host)) {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{link} is a link to {host}, not to the configured server ({}); set web_domain (or pass --web-domain) to use links from there",
            configured.join(", ")
        )))
    }

    /// The account, when both a username and a key are configured.
    pub fn credentials(&self) -> Option<Credentials> {
        Some(Credentials::new(self.text("username")?, self.text("api_key")?))
    }

    /// A client for the configured server and account.
    pub fn client(&self) -> Result<Client> {
        self.client_as(self.credentials())
    }

    /// A client for the configured server, acting as `credentials`.
    pub fn client_as(&self, credentials: Option<Credentials>) -> Result<Client> {
        let api_domain = self.text("api_domain").unwrap_or_else(|| DEFAULT_API_DOMAIN.to_owned());
        let origin = self.origin("api_domain").unwrap_or("defaults").to_owned();
        self.client_at(&api_domain, &origin, credentials)
    }

    /// A client for the server at `address` (given by `origin`, for messages), with the
    /// configured proxy, certificates and timeouts, acting as `credentials`.
    pub fn client_at(
        &self,
        address: &str,
        origin: &str,
        credentials: Option<Credentials>,
    ) -> Result<Client> {
        let allow_http = self.flag("allow_insecure_http")?.unwrap_or(false);
        let mut config = Config::new(address, credentials, allow_http)
            .map_err(|source| Error::Address { origin: origin.to_owned(), source })?;
        if self.flag("proxy_authorization")?.unwrap_or(false) {
            let proxy = self
                .text("proxy_username")
                .zip(self.text("proxy_password"))
                .map(|(u, p)| Credentials::new(u, p));
            config = config.with_proxy_authorization(proxy);
        }
        let mut http = HttpSettings::default();
        http.proxy = self.text("proxy");
        http.ca_bundle = self.text("ca_bundle").map(PathBuf::from);
        http.verify_tls = self.flag("ssl_verification")?.unwrap_or(true);
        if let Some(seconds) = self.seconds("timeout")? {
            http.timeout = seconds;
        }
        if let Some(seconds) = self.seconds("connect_timeout")? {
            http.connect_timeout = seconds;
        }
        let transport = HttpTransport::new(&http)?;
        let retries = RetryPolicy { max_retries: SINGLE_COMMAND_RETRIES, ..RetryPolicy::default() };
        Ok(Client::new(transport, config).with_retries(retries, self.sleeper.clone()))
    }
}

/// Retries of one request of a single command (about 3 s of backoff, or the server's waits);
/// bulk runs use the engine's larger budget.
const SINGLE_COMMAND_RETRIES: usize = 4;

/// The API server used when nothing else is configured.
pub const DEFAULT_API_DOMAIN: &str = "https://api.plotly.com";

fn defaults() -> Layer {
    let mut layer = Layer::new();
    layer.set("api_domain", "default", DEFAULT_API_DOMAIN.into());
    layer.set("ssl_verification", "default", true.into());
    layer.set("proxy_authorization", "default", false.into());
    layer
}

fn invalid(message: String) -> Error {
    Error::Invalid(message)
}

/// Reads a JSON object file; a missing file is an empty layer, an unreadable one an error.
fn read_json_object(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(serde_json::Map::new()),
        Err(err) => return Err(Error::read(path, err)),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => {
            Err(invalid(format!("{} must hold a JSON object; fix or remove it", path.display())))
        }
        Err(err) => {
            Err(invalid(format!("{} is not valid JSON ({err}); fix or remove it", path.display())))
        }
    }
}

fn json_kind(value: &serde_json::Value) -> Option<ValueKind> {
    match value {
        serde_json::Value::String(text) if text.is_empty() => None,
        serde_json::Value::String(text) => Some(text.clone().into()),
        serde_json::Value::Bool(flag) => Some((*flag).into()),
        serde_json::Value::Number(number) => Some(number.to_string().into()),
        _ => None,
    }
}

/// `~/.plotly/.credentials` and `~/.plotly/.config`, with the Python client's key names.
fn plotly_layer(dir: &Path) -> Result<Layer> {
    const FILES: [(&str, &[(&str, &str)]); 2] = [
        (
            ".credentials",
            &[
                ("username", "username"),
                ("api_key", "api_key"),
                ("proxy_username", "proxy_username"),
                ("proxy_password", "proxy_password"),
            ],
        ),
        (
            ".config",
            &[
                ("plotly_api_domain", "api_domain"),
                ("plotly_domain", "web_domain"),
                ("plotly_ssl_verification", "ssl_verification"),
                ("plotly_proxy_authorization", "proxy_authorization"),
                ("sharing", "sharing"),
                ("world_readable", "world_readable"),
            ],
        ),
    ];
    let mut layer = Layer::new();
    for (name, keys) in FILES {
        let path = dir.join(name);
        let object = read_json_object(&path)?;
        for (file_key, key) in keys {
            if let Some(kind) = object.get(*file_key).and_then(json_kind) {
                layer.set(key, path.display().to_string(), kind);
            }
        }
    }
    Ok(layer)
}

/// Keys a profile may hold.
pub const PROFILE_KEYS: [&str; 14] = [
    "username",
    "api_domain",
    "web_domain",
    "proxy",
    "proxy_username",
    "proxy_password",
    "proxy_authorization",
    "ca_bundle",
    "ssl_verification",
    "allow_insecure_http",
    "timeout",
    "connect_timeout",
    "sharing",
    "world_readable",
];

fn profile_layer(inputs: &Inputs) -> Result<(Layer, Option<String>)> {
    let mut layer = Layer::new();
    let Some(path) = &inputs.config_file else { return Ok((layer, inputs.profile.clone())) };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(profile) = &inputs.profile {
                return Err(invalid(format!(
                    "profile {profile:?} asked for, but {} does not exist",
                    path.display()
                )));
            }
            return Ok((layer, None));
        }
        Err(err) => return Err(Error::read(path, err)),
    };
    let file: toml::Table = text
        .parse()
        .map_err(|err| invalid(format!("{} is not valid TOML: {err}", path.display())))?;
    let profiles = match file.get("profiles") {
        Some(toml::Value::Table(profiles)) => profiles.clone(),
        Some(_) => {
            return Err(invalid(format!(
                "{}: `profiles` must be a table of [profiles.NAME] sections",
                path.display()
            )));
        }
        None => toml::Table::new(),
    };
    let chosen = inputs
        .profile
        .clone()
        .or_else(|| file.get("profile").and_then(|p| p.as_str()).map(str::to_owned));
    let Some(name) =
        chosen.or_else(|| profiles.contains_key("default").then(|| "default".to_owned()))
    else {
        return Ok((layer, None));
    };
    let Some(toml::Value::Table(profile)) = profiles.get(&name) else {
        let known: Vec<&String> = profiles.keys().collect();
        return Err(invalid(format!(
            "{} has no profile {name:?} (profiles: {known:?})",
            path.display()
        )));
    };
    for (key, value) in profile {
        let Some(key) = PROFILE_KEYS.iter().find(|k| *k == key) else {
            return Err(invalid(format!(
                "{}: unknown setting {key:?} in profile {name:?} (known: {})",
                path.display(),
                PROFILE_KEYS.join(", ")
            )));
        };
        let kind = match value {
            toml::Value::String(text) => text.clone().into(),
            toml::Value::Boolean(flag) => (*flag).into(),
            other => {
                return Err(invalid(format!(
                    "{}: {key} in profile {name:?} must be text or true/false, not {other}",
                    path.display()
                )));
            }
        };
        layer.set(key, format!("{} [profiles.{name}]", path.display()), kind);
    }
    Ok((layer, Some(name)))
}

/// Environment variables, in the spellings of the Python, R, Julia and Go clients.
const ENV_KEYS: [(&str, &str); 9] = [
    ("PLOTLY_USERNAME", "username"),
    ("plotly_username", "username"),
    ("PLOTLY_API_KEY", "api_key"),
    ("PLOTLY_APIKEY", "api_key"),
    ("plotly_api_key", "api_key"),
    ("PLOTLY_API_DOMAIN", "api_domain"),
    ("plotly_api_domain", "api_domain"),
    ("PLOTLY_DOMAIN", "web_domain"),
    ("plotly_domain", "web_domain"),
];

fn env_layer(env: &BTreeMap<String, String>) -> Layer {
    let mut layer = Layer::new();
    for (var, key) in ENV_KEYS {
        if let Some(value) = env.get(var).filter(|v| !v.is_empty()) {
            layer.set(key, format!("environment ({var})"), value.clone().into());
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn layers_override_in_order_and_remember_their_source() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            ".credentials",
            r#"{"username": "py-user", "api_key": "py-key", "proxy_username": "", "stream_ids": []}"#,
        );
        write(
            dir.path(),
            ".config",
            r#"{"plotly_api_domain": "https://plotly.corp.example", "plotly_ssl_verification": false, "sharing": "private"}"#,
        );
        let config_file = write(
            dir.path(),
            "config.toml",
            "[profiles.default]\napi_domain = \"https://profile.example\"\n",
        );
        let inputs = Inputs {
            plotly_dir: Some(dir.path().to_owned()),
            config_file: Some(config_file),
            profile: None,
            env: BTreeMap::from([("plotly_username".to_owned(), "r-user".to_owned())]),
            flags: vec![("web_domain", "https://web.example".into())],
        };
        let settings = Settings::load(&inputs).unwrap();
        assert_eq!(settings.text("username").as_deref(), Some("r-user"));
        assert_eq!(settings.origin("username"), Some("environment (plotly_username)"));
        assert_eq!(settings.text("api_key").as_deref(), Some("py-key"));
        assert!(settings.origin("api_key").unwrap().ends_with(".credentials"));
        assert_eq!(settings.text("api_domain").as_deref(), Some("https://profile.example"));
        assert!(settings.origin("api_domain").unwrap().ends_with("config.toml [profiles.default]"));
        assert_eq!(settings.flag("ssl_verification").unwrap(), Some(false));
        assert_eq!(settings.text("web_domain").as_deref(), Some("https://web.example"));
        assert_eq!(settings.origin("web_domain"), Some("flag --web-domain"));
        assert_eq!(settings.text("proxy_username"), None, "empty strings are unset");
        assert_eq!(settings.origin("proxy_authorization"), Some("default"));
        assert_eq!(settings.profile.as_deref(), Some("default"));
        let described = settings.describe();
        let key = described.iter().find(|(k, ..)| *k == "api_key").unwrap();
        assert_eq!(key.1, "***");
    }

    #[test]
    fn unreadable_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".credentials", "{not json");
        let inputs = Inputs { plotly_dir: Some(dir.path().to_owned()), ..Inputs::default() };
        let err = format!("{:#}", Settings::load(&inputs).unwrap_err());
        assert!(err.contains(".credentials is not valid JSON"), "{err}");

        let config_file = write(dir.path(), "bad.toml", "[profiles.x]\napi_domian = \"typo\"\n");
        let inputs = Inputs {
            config_file: Some(config_file),
            profile: Some("x".to_owned()),
            ..Inputs::default()
        };
        let err = format!("{:#}", Settings::load(&inputs).unwrap_err());
        assert!(err.contains("unknown setting \"api_domian\""), "{err}");
    }

    #[test]
    fn a_missing_profile_names_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let config_file =
            write(dir.path(), "c.toml", "[profiles.onprem]\napi_domain = \"https://x.example\"\n");
        let inputs = Inputs {
            config_file: Some(config_file),
            profile: Some("cloud".to_owned()),
            ..Inputs::default()
        };
        let err = format!("{:#}", Settings::load(&inputs).unwrap_err());
        assert!(err.contains("no profile \"cloud\"") && err.contains("onprem"), "{err}");
    }

    #[test]
    fn debug_output_masks_secrets() {
        let inputs = Inputs {
            env: BTreeMap::from([
                ("PLOTLY_API_KEY".to_owned(), "k-e-y-1234".to_owned()),
                ("plotly_api_key".to_owned(), "k-e-y-1234".to_owned()),
            ]),
            flags: vec![("username", "alice".into())],
            ..Inputs::default()
        };
        let settings = Settings::load(&inputs).unwrap();
        for text in
            [format!("{inputs:?}"), format!("{settings:?}"), format!("{:#?}", settings.layers)]
        {
            assert!(!text.contains("k-e-y-1234"), "{text}");
        }
        assert!(format!("{settings:?}").contains("alice"));
    }

    #[test]
    fn booleans_in_python_spelling() {
        let inputs =
            Inputs { flags: vec![("ssl_verification", "False".into())], ..Inputs::default() };
        assert_eq!(Settings::load(&inputs).unwrap().flag("ssl_verification").unwrap(), Some(false));
        let inputs =
            Inputs { flags: vec![("ssl_verification", "maybe".into())], ..Inputs::default() };
        let err =
            Settings::load(&inputs).unwrap().flag("ssl_verification").unwrap_err().to_string();
        assert!(err.contains("flag --ssl-verification"), "{err}");
    }
}
