//! `POST /v2/folders`: create a folder, and the folders on the way (`mkdir -p`).

use chart_studio_models::{Created, Folder};
use serde::{Deserialize, Serialize};

/// Creates a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Create {
    /// `/`-separated path from the home folder; a single name when `parent` is set.
    pub path: String,
    /// The idlocal of the folder to create it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
}

impl Create {
    /// Creates the folder at `path`, with any missing folders on the way.
    pub fn new(path: impl Into<String>) -> Self {
        Self { path: path.into(), parent: None }
    }
}

crate::endpoint::create_endpoint!(Create => Created<Folder>, "/v2/folders", |request| request);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(
            built(&Create::new("a/b")),
            ("POST".into(), "/v2/folders".into(), r#"{"path":"a/b"}"#.into())
        );
        let nested = Create { path: "c".to_owned(), parent: Some(84) };
        assert_eq!(built(&nested).2, r#"{"path":"c","parent":84}"#);
    }
}
