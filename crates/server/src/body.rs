//! Request bodies: JSON, or form-encoded (older scripts PATCH `world_readable=False` as a form),
//! with a size limit and a nesting-depth limit that answer 413 and 400.

use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use crate::failure::Failure;
use crate::state::Shared;
use crate::store::{Body, NewFile};

/// A request body as a JSON object (empty when there is no body), with the nesting limit that
/// JSON held in its strings must keep too.
#[derive(Debug, Clone, Default)]
pub(crate) struct Payload {
    fields: Map<String, Value>,
    max_depth: usize,
}

impl FromRequest<Shared> for Payload {
    type Rejection = Failure;

    async fn from_request(request: Request, app: &Shared) -> Result<Self, Self::Rejection> {
        let limits = app.limits;
        let is_form = match BodyType::of(request.headers()) {
            BodyType::Json => false,
            BodyType::Form => true,
            BodyType::Other(media) => return Err(Failure::UnsupportedMedia(media)),
        };
        let bytes = tokio::time::timeout(
            limits.body_timeout,
            read_limited(request.into_body(), limits.max_body_bytes),
        )
        .await
        .map_err(|_| Failure::TimedOut(limits.body_timeout.as_secs()))??;
        let max_depth = limits.max_json_depth;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self { fields: Map::new(), max_depth });
        }
        if is_form {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|err| Failure::bad(format!("Form parse error - {err}")))?;
            let fields = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            return Ok(Self { fields, max_depth });
        }
        check_depth(&bytes, 0, max_depth)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(fields)) => Ok(Self { fields, max_depth }),
            Ok(_) => Err(Failure::bad("The request body must be a JSON object.")),
            Err(err) => Err(Failure::bad(format!("JSON parse error - {err}"))),
        }
    }
}

/// What a body is, by its `Content-Type`.
enum BodyType {
    /// JSON: `application/json`, a `+json` type, or no type at all (scripts that send none).
    Json,
    /// A form, as older scripts send updates.
    Form,
    /// Anything else, such as `text/plain` that a browser may send to another site without
    /// asking: refused.
    Other(String),
}

impl BodyType {
    fn of(headers: &http::HeaderMap) -> Self {
        let Some(value) = headers.get(http::header::CONTENT_TYPE) else { return Self::Json };
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let media = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match media.as_str() {
            "application/json" => Self::Json,
            "application/x-www-form-urlencoded" => Self::Form,
            _ if media.starts_with("application/") && media.ends_with("+json") => Self::Json,
            _ => Self::Other(text),
        }
    }
}

/// Refuses JSON text that, placed `above` levels deep, would nest deeper than `max` levels.
fn check_depth(text: &[u8], above: usize, max: usize) -> Result<(), Failure> {
    if above + nesting_depth(text) > max {
        return Err(Failure::bad(format!("JSON nested deeper than {max} levels")));
    }
    Ok(())
}

/// How much of a body over the limit is read (and dropped) before the 413 goes out: like a web
/// server's lingering close, it lets a client that is still sending see the answer instead of
/// a broken connection.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// The body, if it is at most `max` bytes; a larger one is drained (up to [`LINGER_BYTES`]
/// more) and refused with 413.
async fn read_limited(body: axum::body::Body, max: usize) -> Result<Vec<u8>, Failure> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Failure::bad("The request body could not be read."))?;
        total = total.saturating_add(chunk.len());
        if total <= max {
            bytes.extend_from_slice(&chunk);
        } else if total > max.saturating_add(LINGER_BYTES) {
            break;
        }
    }
    if total > max {
        return Err(Failure::TooLarge(max));
    }
    Ok(bytes)
}

/// The deepest nesting of arrays and objects, counted without parsing (strings are skipped).
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl Payload {
    /// A body of these fields (a form, or a test's JSON).
    #[cfg(test)]
    pub(crate) fn of(fields: Map<String, Value>, max_depth: usize) -> Self {
        Self { fields, max_depth }
    }

    /// A field's value, unless absent or `null`.
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|value| !value.is_null())
    }

    /// The fields every create takes (`filename`, `parent`, `parent_path`, `world_readable`,
    /// `share_key_enabled`; new files are public unless asked otherwise) around `body`.
    pub(crate) fn new_file(&self, body: Body) -> Result<NewFile, Failure> {
        Ok(NewFile {
            filename: self.text("filename")?,
            parent: self.integer("parent")?,
            parent_path: self.text("parent_path")?,
            world_readable: self.flag("world_readable")?.unwrap_or(true),
            share_key_enabled: self.flag("share_key_enabled")?.unwrap_or(false),
            metadata: None,
            body,
            idlocal: None,
        })
    }

    /// A text field.
    pub(crate) fn text(&self, name: &str) -> Result<Option<String>, Failure> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(Failure::bad_field(name, format!("{name} must be a string"))),
        }
    }

    /// A boolean field; the strings `true` / `false` (any case) and `1` / `0` are accepted too.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::String(text)) => match text.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(Failure::bad_field(
                    name,
                    format!("{name} must be true or false, not {text:?}"),
                )),
            },
            Some(_) => Err(Failure::bad_field(name, format!("{name} must be true or false"))),
        }
    }

    /// An integer field; numeric strings are accepted too.
    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>, Failure> {
        let invalid = || Failure::bad_field(name, format!("{name} must be a whole number"));
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => number.as_i64().map(Some).ok_or_else(invalid),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// A number field; numeric strings are accepted too.
    pub(crate) fn number(&self, name: &str) -> Result<Option<f64>, Failure> {
        let invalid = || Failure::bad_field(name, format!("{name} must be a number"));
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => number.as_f64().map(Some).ok_or_else(invalid),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| invalid()),
            Some(_) => Err(invalid()),
        }
    }

    /// A field that may be JSON or a string holding JSON (grid `data`, column `cols`). JSON in a
    /// string counts as if it stood in the string's place, so it keeps the body's nesting limit
    /// and whatever is stored from it reads back.
    pub(crate) fn json_or_text(&self, name: &str) -> Result<Option<Value>, Failure> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => {
                check_depth(text.as_bytes(), 1, self.max_depth)
                    .map_err(|err| Failure::bad_field(name, err.to_string()))?;
                serde_json::from_str(text).map(Some).map_err(|err| {
                    Failure::bad_field(name, format!("{name} is a string that is not JSON: {err}"))
                })
            }
            Some(value) => Ok(Some(value.clone())),
        }
    }

    /// A dashboard's or presentation's document: a string holding a JSON object, as the
    /// service takes it (reference section 5: `content` is a JSON string), within the depth
    /// limit; kept as sent.
    pub(crate) fn document(&self, name: &str) -> Result<Option<String>, Failure> {
        let refused =
            || Failure::bad_field(name, format!("{name} must be a string holding a JSON object"));
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => match self.json_or_text(name)? {
                Some(Value::Object(_)) => Ok(Some(text.clone())),
                _ => Err(refused()),
            },
            Some(_) => Err(refused()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(br#"{"a": [[1]], "b": "[[[[[\"]"}"#), 3);
        assert_eq!(nesting_depth(b"1"), 0);
    }

    #[test]
    fn json_in_a_string_keeps_the_nesting_limit() {
        let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        let fields = serde_json::json!({"at": deep(9), "over": deep(10)});
        let payload = Payload::of(fields.as_object().unwrap().clone(), 10);
        assert!(payload.json_or_text("at").unwrap().is_some());
        let err = payload.json_or_text("over").unwrap_err();
        assert!(err.to_string().contains("deeper than 10 levels"), "{err}");
    }

    #[test]
    fn python_style_booleans() {
        let fields = serde_json::from_str(r#"{"a": "False", "b": true, "c": "yes"}"#).unwrap();
        let payload = Payload::of(fields, 100);
        assert_eq!(payload.flag("a").unwrap(), Some(false));
        assert_eq!(payload.flag("b").unwrap(), Some(true));
        assert!(payload.flag("c").is_err());
        assert_eq!(payload.flag("d").unwrap(), None);
    }
}
