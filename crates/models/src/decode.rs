//! JSON decoding that names the path of the value that failed.

use serde::de::DeserializeOwned;

/// A JSON document that could not be decoded into the expected model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at `{path}`")]
pub struct DecodeError {
    /// The JSON path of the value that failed, such as `results[3].fid` (`.` for the root).
    pub path: String,
    /// What was wrong with it.
    pub message: String,
}

/// Decodes `bytes` as JSON into `T`, reporting the JSON path of the first failing value.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| DecodeError {
        path: err.path().to_string(),
        message: err.inner().to_string(),
    })?;
    de.end().map_err(|err| DecodeError { path: ".".to_owned(), message: err.to_string() })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::File;

    #[test]
    fn names_the_failing_path() {
        let err = from_json_slice::<crate::CursorPage<File>>(
            br#"{"next":null,"previous":null,"results":[{"fid":"a:1","filename":"x","filetype":"plot"},{"fid":"nope","filename":"y","filetype":"plot"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.path, "results[1].fid");
        assert!(err.message.contains("nope"), "{}", err.message);
    }

    #[test]
    fn rejects_trailing_garbage_and_truncation() {
        assert!(from_json_slice::<serde_json::Value>(b"{} x").is_err());
        let err = from_json_slice::<serde_json::Value>(br#"{"results": [1, 2"#).unwrap_err();
        assert!(err.message.contains("EOF"), "{}", err.message);
    }
}
