//! `api METHOD PATH`: any call, printed as JSON, in the spirit of `gh api`.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use chart_studio_api::raw::Raw;
use futures_util::TryStreamExt;

use crate::cli::ApiArgs;
use crate::exit::UsageError;
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(args: ApiArgs, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    let method = args.method.to_ascii_uppercase();
    let is_get = method == "GET";
    if args.paginate && !is_get {
        return Err(UsageError("--paginate works with GET only".to_owned()).into());
    }
    let mut request = Raw::new(&method, &args.path);
    let mut fields = serde_json::Map::new();
    for field in &args.raw_fields {
        let (key, value) = split_field(field)?;
        fields.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    }
    for field in &args.fields {
        let (key, value) = split_field(field)?;
        fields.insert(key.to_owned(), typed_value(value)?);
    }
    if is_get {
        for (key, value) in fields {
            let text = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            request.params.push((key, text));
        }
    } else if let Some(input) = &args.input {
        request.body = Some(read_json(input)?);
    } else if !fields.is_empty() {
        request.body = Some(serde_json::Value::Object(fields));
    }
    if args.paginate {
        let items: Vec<serde_json::Value> = client.items(request).try_collect().await?;
        return out.json(&items);
    }
    match client.send(&request).await? {
        serde_json::Value::String(text) => out.line(&text),
        serde_json::Value::Null => Ok(()),
        value => out.json(&value),
    }
}

fn split_field(field: &str) -> Result<(&str, &str)> {
    field
        .split_once('=')
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| UsageError(format!("field {field:?} must look like key=value")).into())
}

/// `-F` values: `true`, `false`, `null`, numbers and `@file` become typed JSON; anything else a string.
fn typed_value(text: &str) -> Result<serde_json::Value> {
    if let Some(path) = text.strip_prefix('@') {
        let path = Path::new(path);
        let content = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
        return Ok(serde_json::from_str(&content).unwrap_or(serde_json::Value::String(content)));
    }
    Ok(match text {
        "true" => true.into(),
        "false" => false.into(),
        "null" => serde_json::Value::Null,
        _ => text
            .parse::<i64>()
            .map(Into::into)
            .or_else(|_| text.parse::<f64>().map(Into::into))
            .unwrap_or_else(|_| text.into()),
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).context("could not read the body from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_fields() {
        assert_eq!(typed_value("true").unwrap(), serde_json::json!(true));
        assert_eq!(typed_value("null").unwrap(), serde_json::Value::Null);
        assert_eq!(typed_value("12").unwrap(), serde_json::json!(12));
        assert_eq!(typed_value("1.5").unwrap(), serde_json::json!(1.5));
        assert_eq!(typed_value("alice").unwrap(), serde_json::json!("alice"));
        assert!(split_field("novalue").is_err());
        assert_eq!(split_field("a=b=c").unwrap(), ("a", "b=c"));
    }
}
