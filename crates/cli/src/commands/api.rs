//! `api METHOD PATH`: any call, printed as JSON, in the spirit of `gh api`.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chart_studio_api::Page;
use chart_studio_api::raw::Raw;
use futures_util::TryStreamExt;

use crate::cli::ApiArgs;
use crate::exit::UsageError;
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(args: ApiArgs, settings: &Settings, out: Output) -> Result<()> {
    let printer = out.of::<serde_json::Value>()?;
    let client = settings.client()?;
    let method = args.method.to_ascii_uppercase();
    let is_get = method == "GET";
    if args.paginate && !is_get {
        return Err(UsageError("--paginate works with GET only".to_owned()).into());
    }
    let path = relative_path(&args.path, client.config().api_base())?;
    let mut request = Raw::new(&method, path);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .filter(|(name, _)| !name.trim().is_empty())
            .ok_or_else(|| UsageError(format!("header {header:?} must look like 'Name: value'")))?;
        request.headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
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
        let first = client.send(&request).await?;
        if !is_page(&first) {
            // Not a list: the answer as it is.
            return printer.print(&first);
        }
        let next = first.next_link().map(str::to_owned);
        let mut items = first.into_items();
        if let Some(next) = next {
            let rest = Raw {
                path: relative_path(&next, client.config().api_base())?,
                params: Vec::new(),
                ..request
            };
            items.extend(client.items(rest).try_collect::<Vec<_>>().await?);
        }
        return printer.print(&serde_json::Value::Array(items));
    }
    match client.send(&request).await? {
        serde_json::Value::String(text) if !printer.json() => {
            writeln!(std::io::stdout().lock(), "{text}")?;
            Ok(())
        }
        serde_json::Value::Null if !printer.json() => Ok(()),
        value => printer.print(&value),
    }
}

/// Whether an answer is one page of a list (`results`, or a folder's `children.results`).
fn is_page(answer: &serde_json::Value) -> bool {
    answer
        .get("results")
        .or_else(|| answer.get("children")?.get("results"))
        .is_some_and(serde_json::Value::is_array)
}

/// `path` relative to the API base: a path as given, or a full URL on the configured API
/// server with the base's path taken off. A URL on another server is refused, since the
/// credentials would go with it.
fn relative_path(path: &str, base: &url::Url) -> Result<String> {
    if !path.contains("://") {
        return Ok(path.to_owned());
    }
    let url =
        url::Url::parse(path).map_err(|err| UsageError(format!("{path:?} is not a URL: {err}")))?;
    let same_server = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    let base_path = base.path().trim_end_matches('/');
    let rest =
        url.path().strip_prefix(base_path).filter(|rest| rest.is_empty() || rest.starts_with('/'));
    match rest {
        Some(rest) if same_server => Ok(match url.query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_owned(),
        }),
        _ => Err(UsageError(format!(
            "{path} is not on the configured API server {base}; give a path such as /v2/files/alice:3, or pass --api-domain"
        ))
        .into()),
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

    #[test]
    fn full_urls_only_on_the_api_server() {
        let base = url::Url::parse("https://plotly.example.com/api").unwrap();
        let path = |p: &str| relative_path(p, &base).map_err(|err| err.to_string());
        assert_eq!(path("files/a:1").unwrap(), "files/a:1");
        assert_eq!(
            path("https://plotly.example.com/api/v2/files?page=2").unwrap(),
            "/v2/files?page=2"
        );
        assert_eq!(path("https://plotly.example.com:443/api/v2/").unwrap(), "/v2/");
        for other in [
            "https://evil.example.com/api/v2/files",
            "http://plotly.example.com/api/v2/files",
            "https://plotly.example.com/apix/v2/files",
            "https://plotly.example.com:8443/api/v2/files",
        ] {
            assert!(
                path(other).unwrap_err().contains("not on the configured API server"),
                "{other}"
            );
        }
    }
}
