//! The file object shared by plots, grids, folders, dashboards and presentations.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Extra, Fid, User};

/// What kind of file a [`File`] is. Unknown kinds are kept as they were sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileType {
    /// A chart (`plot`).
    Plot,
    /// A data grid (`grid`).
    Grid,
    /// A folder (`fold`).
    Folder,
    /// A dashboard (`dashboard`).
    Dashboard,
    /// A slide deck (`spectacle_presentation`).
    Presentation,
    /// Any other value, kept verbatim.
    Other(String),
}

impl FileType {
    /// The API's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Plot => "plot",
            Self::Grid => "grid",
            Self::Folder => "fold",
            Self::Dashboard => "dashboard",
            Self::Presentation => "spectacle_presentation",
            Self::Other(other) => other,
        }
    }

    /// Parses the API's spelling; anything unknown becomes [`FileType::Other`].
    pub fn from_api(text: &str) -> Self {
        match text {
            "plot" => Self::Plot,
            "grid" => Self::Grid,
            "fold" => Self::Folder,
            "dashboard" => Self::Dashboard,
            "spectacle_presentation" => Self::Presentation,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The collection under `/v2/` that serves this kind of file (`plots`, `grids`, ...).
    pub fn collection(&self) -> &str {
        match self {
            Self::Plot => "plots",
            Self::Grid => "grids",
            Self::Folder => "folders",
            Self::Dashboard => "dashboards",
            Self::Presentation => "spectacle-presentations",
            Self::Other(_) => "files",
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FileType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FileType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_api(&String::deserialize(deserializer)?))
    }
}

/// A counted list, as `comments`, `stars` and `collaborators` are sent: `{"results": [...], "count": n}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Counted<T> {
    /// The entries.
    pub results: Vec<T>,
    /// How many entries there are in all.
    pub count: u64,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Default for Counted<T> {
    fn default() -> Self {
        Self { results: Vec::new(), count: 0, extra: Extra::new() }
    }
}

/// The metadata every Chart Studio file has.
///
/// `share_key`, `share_key_enabled` and `deleted` are admin fields: only the owner sees them, so
/// they are `None` (and absent when serialized) for everyone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct File {
    /// The file id, `username:idlocal`.
    pub fid: Fid,
    /// The file's name inside its folder.
    pub filename: String,
    /// What kind of file this is.
    pub filetype: FileType,
    /// The owner's username.
    #[serde(default)]
    pub owner: Option<String>,
    /// The idlocal of the containing folder; [`crate::HOME_FOLDER`] (-1) for the home folder.
    #[serde(default)]
    pub parent: Option<i64>,
    /// Whether the file sits in a folder.
    #[serde(default)]
    pub parented: Option<bool>,
    /// Whether anyone may read the file (public).
    #[serde(default)]
    pub world_readable: Option<bool>,
    /// Whether the secret link is on (admin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_key_enabled: Option<bool>,
    /// The secret that grants read access through `?share_key=` (admin only): `None` when the
    /// field was not sent (not the owner), `Some(None)` when it was sent as `null`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub share_key: Option<Option<String>>,
    /// Whether the file is in the trash (admin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// The title, often empty.
    #[serde(default)]
    pub title: Option<String>,
    /// How often the file was viewed.
    #[serde(default)]
    pub views: Option<u64>,
    /// When the file was created (ISO-8601, kept as sent).
    #[serde(default)]
    pub creation_time: Option<String>,
    /// When the file was last changed (ISO-8601, kept as sent).
    #[serde(default)]
    pub date_modified: Option<String>,
    /// The browser address of the file.
    #[serde(default)]
    pub web_url: Option<String>,
    /// The embeddable address of the file.
    #[serde(default)]
    pub embed_url: Option<String>,
    /// The address used by the web app's organizer.
    #[serde(default)]
    pub organize_view_url: Option<String>,
    /// A thumbnail address.
    #[serde(default)]
    pub img_url: Option<String>,
    /// Image addresses by size name.
    #[serde(default)]
    pub image_urls: Option<BTreeMap<String, String>>,
    /// API addresses of this file by collection name (`files`, `plots`, `parent`, ...).
    #[serde(default)]
    pub api_urls: Option<BTreeMap<String, String>>,
    /// A text preview.
    #[serde(default)]
    pub preview: Option<String>,
    /// Files this file refers to.
    #[serde(default)]
    pub references: Option<Vec<serde_json::Value>>,
    /// Files that refer to this file.
    #[serde(default)]
    pub referencers: Option<Vec<serde_json::Value>>,
    /// Comments (not sent by every endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Counted<serde_json::Value>>,
    /// Stars (not sent by every endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stars: Option<Counted<serde_json::Value>>,
    /// Users the file is shared with for editing.
    #[serde(default)]
    pub collaborators: Option<Counted<User>>,
    /// How many folders a folder holds.
    #[serde(default)]
    pub subfolder_count: Option<u64>,
    /// Refresh interval of live files.
    #[serde(default)]
    pub refresh_interval: Option<serde_json::Value>,
    /// `read`, `write` or `admin`: what the requester may do with the file.
    #[serde(default)]
    pub current_user_permission: Option<String>,
    /// Whether the file is a theme.
    #[serde(default)]
    pub is_theme: Option<bool>,
    /// Whether the file is a template.
    #[serde(default)]
    pub is_template: Option<bool>,
    /// The owner's public profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Reads a field that was sent, even as `null`, as `Some`, so that absent and `null` stay apart.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl File {
    /// The secret-link key, when the requester may see it and one is set.
    pub fn share_key(&self) -> Option<&str> {
        self.share_key.as_ref().and_then(Option::as_deref)
    }

    /// A file object with only the identifying fields set, as a server would start one.
    pub fn new(fid: Fid, filename: impl Into<String>, filetype: FileType) -> Self {
        Self {
            owner: Some(fid.owner().to_owned()),
            fid,
            filename: filename.into(),
            filetype,
            parent: None,
            parented: None,
            world_readable: None,
            share_key_enabled: None,
            share_key: None,
            deleted: None,
            title: None,
            views: None,
            creation_time: None,
            date_modified: None,
            web_url: None,
            embed_url: None,
            organize_view_url: None,
            img_url: None,
            image_urls: None,
            api_urls: None,
            preview: None,
            references: None,
            referencers: None,
            comments: None,
            stars: None,
            collaborators: None,
            subfolder_count: None,
            refresh_interval: None,
            current_user_permission: None,
            is_theme: None,
            is_template: None,
            user: None,
            extra: Extra::new(),
        }
    }
}

/// The wrapper that create endpoints answer with: `{"file": {...}}`. A bare file object is read
/// as well, as the Python client reads it (`response.get("file", response)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Created<T> {
    /// The created file.
    pub file: T,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Created<T> {
    /// Wraps a created file.
    pub fn new(file: T) -> Self {
        Self { file, extra: Extra::new() }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Created<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Extra::deserialize(deserializer)?;
        let wrapped = object.get("file").is_some_and(serde_json::Value::is_object);
        let (file, extra) = match object.remove("file") {
            Some(file) if wrapped => (file, object),
            other => {
                if let Some(value) = other {
                    object.insert("file".to_owned(), value);
                }
                (serde_json::Value::Object(object), Extra::new())
            }
        };
        let file = T::deserialize(file).map_err(serde::de::Error::custom)?;
        Ok(Self { file, extra })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_answers_with_and_without_the_file_wrapper() {
        let wrapped: Created<File> = serde_json::from_str(
            r#"{"file": {"fid": "a:1", "filename": "f", "filetype": "plot"}, "cols": 1}"#,
        )
        .unwrap();
        let bare: Created<File> =
            serde_json::from_str(r#"{"fid": "a:1", "filename": "f", "filetype": "plot"}"#).unwrap();
        assert_eq!(wrapped.file, bare.file);
        assert_eq!(wrapped.extra["cols"], 1);
        assert!(serde_json::from_str::<Created<File>>(r#"{"file": "a:1"}"#).is_err());
    }

    #[test]
    fn unknown_filetypes_are_kept() {
        let kinds: Vec<FileType> = serde_json::from_str(
            r#"["plot","grid","fold","dashboard","spectacle_presentation","jupyter_notebook"]"#,
        )
        .unwrap();
        assert_eq!(kinds[2], FileType::Folder);
        assert_eq!(kinds[5], FileType::Other("jupyter_notebook".to_owned()));
        assert_eq!(
            serde_json::to_string(&kinds).unwrap(),
            r#"["plot","grid","fold","dashboard","spectacle_presentation","jupyter_notebook"]"#
        );
    }

    #[test]
    fn admin_fields_are_absent_unless_sent() {
        let raw = serde_json::json!({"fid": "a:1", "filename": "f", "filetype": "grid", "share_key": "k", "zzz": [1]});
        let file: File = serde_json::from_value(raw).unwrap();
        assert_eq!(file.share_key(), Some("k"));
        assert_eq!(file.extra["zzz"], serde_json::json!([1]));
        let back = serde_json::to_value(&file).unwrap();
        assert_eq!(back["share_key"], "k");
        assert!(back.get("share_key_enabled").is_none());
        assert_eq!(back["zzz"], serde_json::json!([1]));
    }

    #[test]
    fn a_null_share_key_stays_apart_from_an_absent_one() {
        let sent: File = serde_json::from_value(serde_json::json!({"fid": "a:1", "filename": "f", "filetype": "plot", "share_key": null})).unwrap();
        assert_eq!(sent.share_key, Some(None));
        assert_eq!(serde_json::to_value(&sent).unwrap()["share_key"], serde_json::Value::Null);
        let absent: File = serde_json::from_value(
            serde_json::json!({"fid": "a:1", "filename": "f", "filetype": "plot"}),
        )
        .unwrap();
        assert_eq!(absent.share_key, None);
        assert!(serde_json::to_value(&absent).unwrap().get("share_key").is_none());
    }
}
