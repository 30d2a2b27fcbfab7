//! Query-string encoding: `None` is left out, booleans are `true` / `false`, `0` is sent.

use serde::Serialize;

use crate::BuildError;

/// Encodes `params` (a struct whose `Option` fields skip `None`) as a query string.
pub(crate) fn encode<T: Serialize>(params: &T) -> Result<Option<String>, BuildError> {
    let query =
        serde_urlencoded::to_string(params).map_err(|err| BuildError::Query(err.to_string()))?;
    Ok((!query.is_empty()).then_some(query))
}

/// Percent-encodes one path segment.
pub(crate) fn segment(text: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b':')
        .remove(b'@');
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Params {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        c: Option<String>,
    }

    #[test]
    fn none_is_omitted_false_and_zero_are_sent() {
        let q = encode(&Params { a: Some(false), b: Some(0), c: None }).unwrap();
        assert_eq!(q.as_deref(), Some("a=false&b=0"));
        assert_eq!(encode(&Params { a: None, b: None, c: None }).unwrap(), None);
        let q = encode(&Params { a: Some(true), b: None, c: Some("a b/c&d".to_owned()) }).unwrap();
        assert_eq!(q.as_deref(), Some("a=true&c=a+b%2Fc%26d"));
    }

    #[test]
    fn segments_keep_fid_characters() {
        assert_eq!(segment("tim.lichtenberg:686"), "tim.lichtenberg:686");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }
}
