//! Users: `/v2/users/current`, `/v2/users/{username}` and the `user` nested in files.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// A Chart Studio account. Private fields are `None` unless the requester is that user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The username.
    pub username: String,
    /// Profile page address.
    #[serde(default)]
    pub profile_url: Option<String>,
    /// Avatar image address.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Profile background image address.
    #[serde(default)]
    pub background_url: Option<String>,
    /// Free-form biography.
    #[serde(default)]
    pub bio: Option<String>,
    /// Display name.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Personal web site.
    #[serde(default)]
    pub website: Option<String>,
    /// Streaming tokens (private).
    #[serde(default)]
    pub stream_tokens: Option<serde_json::Value>,
    /// Plan id (private).
    #[serde(default)]
    pub feature_set_id: Option<serde_json::Value>,
    /// Web CSRF token (private).
    #[serde(default)]
    pub csrf_token: Option<String>,
    /// When the account was made, `YYYY-MM-DD HH:MM:SS`.
    #[serde(default)]
    pub date_joined: Option<String>,
    /// Mapbox tokens (private).
    #[serde(default)]
    pub mapbox_access_tokens: Option<serde_json::Value>,
    /// Whether the account has a password (private).
    #[serde(default)]
    pub has_password: Option<bool>,
    /// E-mail address (private).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the account is active (private).
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Whether the account is read-only (private).
    #[serde(default)]
    pub readonly: Option<bool>,
    /// Whether the user may create Dash apps (private).
    #[serde(default)]
    pub is_dash_creator: Option<bool>,
    /// Number of Dash apps (private).
    #[serde(default)]
    pub dash_created_count: Option<u64>,
    /// Whether the user may create charts (private).
    #[serde(default)]
    pub is_chart_creator: Option<bool>,
    /// Number of charts (private).
    #[serde(default)]
    pub charts_created_count: Option<u64>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl User {
    /// A user with only the username set.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            profile_url: None,
            avatar_url: None,
            background_url: None,
            bio: None,
            nickname: None,
            website: None,
            stream_tokens: None,
            feature_set_id: None,
            csrf_token: None,
            date_joined: None,
            mapbox_access_tokens: None,
            has_password: None,
            email: None,
            is_active: None,
            readonly: None,
            is_dash_creator: None,
            dash_created_count: None,
            is_chart_creator: None,
            charts_created_count: None,
            extra: Extra::new(),
        }
    }
}
