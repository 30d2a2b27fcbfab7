//! The error body of the v2 API: `{"errors": [{code, message, path, field}], "detail": ...}`.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// The JSON body the server sends with an error status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The individual errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
    /// The Django REST Framework summary, usually the same text as the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of [`ErrorBody::errors`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorItem {
    /// A machine-readable code such as `UNKNOWN`.
    pub code: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
    /// The JSON path of the offending value, when the server names one.
    pub path: Option<serde_json::Value>,
    /// The offending request field, when the server names one.
    pub field: Option<String>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ErrorBody {
    /// A body with one error message, as the server writes it.
    pub fn message(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            errors: vec![ErrorItem {
                code: Some("UNKNOWN".to_owned()),
                message: Some(text.clone()),
                ..ErrorItem::default()
            }],
            detail: Some(serde_json::Value::String(text)),
            extra: Extra::new(),
        }
    }

    /// The non-empty messages, falling back to `detail` when `errors` holds none.
    pub fn messages(&self) -> Vec<String> {
        let messages: Vec<String> = self
            .errors
            .iter()
            .filter_map(|item| item.message.as_deref())
            .filter(|text| !text.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if !messages.is_empty() {
            return messages;
        }
        match &self.detail {
            Some(serde_json::Value::String(text)) if !text.trim().is_empty() => vec![text.clone()],
            Some(serde_json::Value::Null) | None => Vec::new(),
            Some(other) => vec![other.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_throttle_body_round_trips() {
        let raw = r#"{"errors":[{"code":"UNKNOWN","message":"Request was throttled. Expected available in 5.0 seconds.","path":null,"field":null}],"detail":"Request was throttled. Expected available in 5.0 seconds."}"#;
        let body: ErrorBody = crate::from_json_slice(raw.as_bytes()).unwrap();
        assert_eq!(body.messages(), ["Request was throttled. Expected available in 5.0 seconds."]);
        let back = serde_json::to_value(&body).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(raw).unwrap());
    }

    #[test]
    fn detail_is_the_fallback() {
        let body: ErrorBody = serde_json::from_str(r#"{"detail":"Not found."}"#).unwrap();
        assert_eq!(body.messages(), ["Not found."]);
        let body: ErrorBody = serde_json::from_str(r#"{"errors":[{"message":""}]}"#).unwrap();
        assert!(body.messages().is_empty());
    }
}
