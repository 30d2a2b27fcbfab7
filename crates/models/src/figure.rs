//! Walking a figure's traces: which attributes hold raw data arrays and which hold `*src`
//! column references. Shared by the server (which refuses raw data in a plot create) and by the
//! clients that move raw data into grids.
//!
//! Without Plotly's plot schema, an attribute counts as data when its value is an array that is
//! not an array of objects, except the few attributes whose arrays are settings rather than data
//! (`range`, `domain`, `colorscale`, `selectedpoints` and their kin).

use serde_json::Value;

/// Attributes whose array values are settings, not data (their whole subtree is skipped).
const SETTING_ARRAYS: [&str; 7] = [
    "range",
    "domain",
    "colorscale",
    "selectedpoints",
    "constraintrange",
    "tickformatstops",
    "visible",
];

/// One attribute of a trace: its dotted path inside the trace (`marker.color`, `dimensions.0.values`) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceAttribute<'a> {
    /// The dotted path of the attribute inside its trace.
    pub path: String,
    /// The attribute's value.
    pub value: &'a Value,
}

/// Why a figure cannot make a plot: the Python client refuses the same before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    /// No `data` list.
    #[error(
        "the figure has no `data` list of traces; a figure looks like {{\"data\": [{{\"type\": \"scatter\", \"y\": [1, 2]}}], \"layout\": {{}}}}"
    )]
    NoData,
    /// An empty `data` list: the plot would be a blank page.
    #[error("the figure's `data` list is empty; a plot needs at least one trace")]
    Empty,
    /// Bare values where the traces go, such as `[1, 2, 3]`.
    #[error(
        "the figure holds values ({0}) where its traces go; put them in a trace: {{\"data\": [{{\"type\": \"scatter\", \"y\": [1, 2, 3]}}]}}"
    )]
    Values(String),
    /// A trace that is not an object.
    #[error(
        "data.{index} is {found}, not a trace (an object such as {{\"type\": \"bar\", \"y\": [1, 2]}})"
    )]
    NotATrace {
        /// Its place in `data`.
        index: usize,
        /// What it is instead.
        found: &'static str,
    },
}

/// Checks that `figure` has traces to draw: a non-empty `data` list of objects.
///
/// ```
/// use chart_studio_models::{FigureError, check_traces};
/// use serde_json::json;
///
/// assert_eq!(check_traces(&json!({"data": [{"y": [1]}]})), Ok(()));
/// assert_eq!(check_traces(&json!({"data": []})), Err(FigureError::Empty));
/// assert!(matches!(check_traces(&json!({"data": [1, 2, 3]})), Err(FigureError::Values(_))));
/// ```
pub fn check_traces(figure: &Value) -> Result<(), FigureError> {
    let data = figure.get("data").and_then(Value::as_array).ok_or(FigureError::NoData)?;
    if data.is_empty() {
        return Err(FigureError::Empty);
    }
    let kind = |value: &Value| match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    if data.iter().all(|value| !value.is_object()) {
        let shown: Vec<String> = data.iter().take(3).map(Value::to_string).collect();
        let more = if data.len() > 3 { ", …" } else { "" };
        return Err(FigureError::Values(format!("[{}{more}]", shown.join(", "))));
    }
    match data.iter().position(|value| !value.is_object()) {
        Some(index) => Err(FigureError::NotATrace { index, found: kind(&data[index]) }),
        None => Ok(()),
    }
}

/// Every trace of `figure`, with its path (`data.0`, `frames.2.data.1`).
pub fn traces(figure: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    if let Some(data) = figure.get("data").and_then(Value::as_array) {
        found.extend(data.iter().enumerate().map(|(i, trace)| (format!("data.{i}"), trace)));
    }
    if let Some(frames) = figure.get("frames").and_then(Value::as_array) {
        for (f, frame) in frames.iter().enumerate() {
            if let Some(data) = frame.get("data").and_then(Value::as_array) {
                found.extend(
                    data.iter()
                        .enumerate()
                        .map(|(i, trace)| (format!("frames.{f}.data.{i}"), trace)),
                );
            }
        }
    }
    found
}

/// The attributes of `trace` that hold raw data arrays.
pub fn data_arrays(trace: &Value) -> Vec<TraceAttribute<'_>> {
    let mut found = Vec::new();
    walk(trace, "", &mut |path, key, value| {
        if !key.ends_with("src") && value.as_array().is_some_and(|items| !items.is_empty()) {
            found.push(TraceAttribute { path: path.to_owned(), value });
        }
    });
    found
}

/// The `*src` attributes of `trace` (their values should be column references).
pub fn source_refs(trace: &Value) -> Vec<TraceAttribute<'_>> {
    let mut found = Vec::new();
    walk(trace, "", &mut |path, key, value| {
        if key.ends_with("src") && key.len() > 3 {
            found.push(TraceAttribute { path: path.to_owned(), value });
        }
    });
    found
}

/// The column references of every trace of `figure`: the one answer to "which grid columns
/// does this plot use", for sharing plans, deletes, exports, imports and the server alike.
pub fn column_refs(figure: &Value) -> Vec<crate::ColumnRef> {
    traces(figure)
        .into_iter()
        .flat_map(|(_, trace)| source_refs(trace))
        .filter_map(|attribute| attribute.value.as_str()?.parse().ok())
        .collect()
}

/// The grids `figure` uses.
///
/// ```
/// let figure = serde_json::json!({
///     "data": [{"xsrc": "alice:7:a1b2c3", "ysrc": "alice:7:d4e5f6"}, {"ysrc": "bob:2:0f0f0f"}],
/// });
/// let grids: Vec<String> =
///     chart_studio_models::referenced_grids(&figure).iter().map(ToString::to_string).collect();
/// assert_eq!(grids, ["alice:7", "bob:2"]);
/// ```
pub fn referenced_grids(figure: &Value) -> std::collections::BTreeSet<crate::Fid> {
    column_refs(figure).into_iter().map(|reference| reference.grid).collect()
}

/// Every raw data array of every trace, as (path in the figure such as `data.0.marker.color`,
/// values), in figure order: the columns a grid must hold for the figure to use references.
/// The paths are the column names the Python client gives them.
pub fn data_columns(figure: &Value) -> Vec<(String, Vec<Value>)> {
    traces(figure)
        .into_iter()
        .flat_map(|(trace_path, trace)| {
            data_arrays(trace).into_iter().map(move |attribute| {
                (
                    format!("{trace_path}.{}", attribute.path),
                    attribute.value.as_array().cloned().unwrap_or_default(),
                )
            })
        })
        .collect()
}

/// Replaces the raw data at `path` (from [`data_columns`]) by the `*src` reference `reference`.
pub fn use_reference(figure: &mut Value, path: &str, reference: &str) -> bool {
    let key = format!("{}src", path.rsplit('.').next().unwrap_or(path));
    replace_attribute(figure, path, &key, Value::String(reference.to_owned()))
}

/// The value at a dotted path, where a number indexes an array, such as `data.0.marker`.
pub fn value_at_mut<'a>(root: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut current = root;
    for part in path.split('.') {
        current = match current {
            Value::Array(items) => items.get_mut(part.parse::<usize>().ok()?)?,
            other => other.get_mut(part)?,
        };
    }
    Some(current)
}

/// Replaces the attribute at `path` (such as `data.0.marker.color`) by a sibling named
/// `new_key` holding `value`: raw data becomes a `*src` reference, or the other way round.
/// Returns whether the attribute was found.
pub fn replace_attribute(figure: &mut Value, path: &str, new_key: &str, value: Value) -> bool {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (value_at_mut(figure, parent), key),
        None => (Some(figure), path),
    };
    let Some(Value::Object(object)) = parent else { return false };
    if object.remove(key).is_none() {
        return false;
    }
    object.insert(new_key.to_owned(), value);
    true
}

/// Cleans a figure as the Python client's `get_figure` does before handing it to users: legacy
/// `histogramx` / `histogramy` traces become `histogram`, `bardir` becomes `orientation` (with
/// x and y data swapped where the old direction meant it), and `stream` settings, which hold
/// private streaming tokens, are removed from every trace.
pub fn clean_legacy(figure: &mut Value) {
    let Some(data) = figure.get_mut("data").and_then(Value::as_array_mut) else { return };
    for trace in data.iter_mut().filter_map(Value::as_object_mut) {
        clean_legacy_trace(trace);
        trace.remove("stream");
    }
}

/// The trace fixes of [`clean_legacy`]; like the Python client, they apply only to traces with
/// a `type`.
fn clean_legacy_trace(trace: &mut serde_json::Map<String, Value>) {
    let Some(kind) = trace.get("type").and_then(Value::as_str).map(str::to_owned) else { return };
    if kind == "histogramy"
        && !trace.contains_key("ybins")
        && let Some(bins) = trace.remove("xbins")
    {
        trace.insert("ybins".to_owned(), bins);
    }
    if kind == "histogramx" || kind == "histogramy" {
        trace.insert("type".to_owned(), Value::String("histogram".to_owned()));
    }
    let Some(orientation) = trace.remove("bardir") else { return };
    let horizontal = orientation == "h";
    let vertical = orientation == "v";
    trace.insert("orientation".to_owned(), orientation);
    match trace.get("type").and_then(Value::as_str) {
        Some("bar") if horizontal => swap_xy(trace),
        Some("histogram") => {
            if trace.contains_key("x") && !trace.contains_key("y") {
                if horizontal {
                    swap_xy(trace);
                }
                trace.remove("orientation");
            }
            if trace.contains_key("y") && !trace.contains_key("x") {
                if vertical {
                    swap_xy(trace);
                }
                trace.remove("orientation");
            }
        }
        _ => {}
    }
}

/// Swaps a trace's x and y attributes and transposes a rectangular `z`.
fn swap_xy(trace: &mut serde_json::Map<String, Value>) {
    const PAIRS: [(&str, &str); 7] = [
        ("x", "y"),
        ("x0", "y0"),
        ("dx", "dy"),
        ("xbins", "ybins"),
        ("nbinsx", "nbinsy"),
        ("autobinx", "autobiny"),
        ("error_x", "error_y"),
    ];
    for (a, b) in PAIRS {
        let first = trace.remove(a).filter(|v| !v.is_null());
        let second = trace.remove(b).filter(|v| !v.is_null());
        if let Some(value) = first {
            trace.insert(b.to_owned(), value);
        }
        if let Some(value) = second {
            trace.insert(a.to_owned(), value);
        }
    }
    let rows: Option<Vec<Vec<Value>>> = trace.get("z").and_then(Value::as_array).and_then(|rows| {
        rows.iter().map(|row| row.as_array().cloned()).collect::<Option<Vec<_>>>()
    });
    if let Some(rows) = rows
        && let Some(width) = rows.first().map(Vec::len)
        && rows.iter().all(|row| row.len() == width)
    {
        let columns: Vec<Value> = (0..width)
            .map(|c| Value::Array(rows.iter().map(|row| row[c].clone()).collect()))
            .collect();
        trace.insert("z".to_owned(), Value::Array(columns));
    }
}

/// Calls `visit(path, key, value)` for every leaf attribute (scalars and data arrays).
fn walk<'a>(value: &'a Value, prefix: &str, visit: &mut dyn FnMut(&str, &str, &'a Value)) {
    let Value::Object(map) = value else { return };
    for (key, child) in map {
        if SETTING_ARRAYS.contains(&key.as_str()) {
            continue;
        }
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match child {
            Value::Object(_) => walk(child, &path, visit),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}.{i}"), visit);
                }
            }
            _ => visit(&path, key, child),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nested_data_and_skips_settings() {
        let trace = json!({
            "type": "scatter", "x": [1, 2], "y": [3, 4], "uid": "a",
            "marker": {"color": ["red", "blue"], "colorscale": [[0, "red"], [1, "blue"]], "size": 4},
            "domain": {"x": [0, 0.5]},
            "dimensions": [{"values": [1, 2], "range": [0, 3]}],
            "error_y": {"array": [0.1, 0.2]},
            "textsrc": "alice:1:abc"
        });
        let mut paths: Vec<String> = data_arrays(&trace).into_iter().map(|a| a.path).collect();
        paths.sort();
        assert_eq!(paths, ["dimensions.0.values", "error_y.array", "marker.color", "x", "y"]);
        let refs: Vec<String> = source_refs(&trace).into_iter().map(|a| a.path).collect();
        assert_eq!(refs, ["textsrc"]);
    }

    #[test]
    fn paths_with_indexes() {
        let mut value = json!({"data": [{"marker": {"colorsrc": "a:1:b"}}], "frames": [{"data": [{}, {"x": 1}]}]});
        assert_eq!(value_at_mut(&mut value, "data.0.marker").unwrap()["colorsrc"], "a:1:b");
        assert_eq!(value_at_mut(&mut value, "frames.0.data.1").unwrap()["x"], 1);
        assert!(value_at_mut(&mut value, "data.3").is_none());
    }

    #[test]
    fn columns_of_a_figure_and_their_references() {
        let mut figure =
            json!({"data": [{"x": [1, 2], "marker": {"color": ["a", "b"]}}, {"ysrc": "a:1:b"}]});
        let columns = data_columns(&figure);
        let paths: Vec<&str> = columns.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["data.0.marker.color", "data.0.x"]);
        assert!(use_reference(&mut figure, "data.0.x", "g:1:u1"));
        assert_eq!(figure["data"][0]["xsrc"], "g:1:u1");
        assert!(figure["data"][0].get("x").is_none());
    }

    #[test]
    fn replacing_attributes_both_ways() {
        let mut figure = json!({"data": [{"marker": {"color": [1, 2]}, "y": [3]}]});
        assert!(replace_attribute(&mut figure, "data.0.marker.color", "colorsrc", json!("a:1:b")));
        assert_eq!(figure["data"][0]["marker"], json!({"colorsrc": "a:1:b"}));
        assert!(replace_attribute(&mut figure, "data.0.marker.colorsrc", "color", json!([1, 2])));
        assert_eq!(figure["data"][0]["marker"], json!({"color": [1, 2]}));
        assert!(!replace_attribute(&mut figure, "data.0.nope", "x", json!(1)));
    }

    #[test]
    fn legacy_figures_are_cleaned_as_the_python_client_cleans_them() {
        let mut figure = json!({"data": [
            {"type": "histogramy", "xbins": {"size": 1}, "y": [1, 2], "stream": {"token": "t0k3n"}},
            {"type": "bar", "bardir": "h", "x": [1, 2], "y": ["a", "b"], "z": [[1, 2], [3, 4], [5, 6]]},
            {"type": "histogramx", "bardir": "h", "x": [3, 4]},
            {"type": "histogram", "bardir": "v", "y": [5]},
            {"x": [1], "bardir": "h", "stream": {"token": "s"}},
        ]});
        clean_legacy(&mut figure);
        assert_eq!(
            figure["data"],
            json!([
                {"type": "histogram", "ybins": {"size": 1}, "y": [1, 2]},
                {"type": "bar", "orientation": "h", "y": [1, 2], "x": ["a", "b"], "z": [[1, 3, 5], [2, 4, 6]]},
                {"type": "histogram", "y": [3, 4]},
                {"type": "histogram", "x": [5]},
                {"x": [1], "bardir": "h"},
            ])
        );
    }

    #[test]
    fn traces_of_data_and_frames() {
        let figure = json!({"data": [{"x": [1]}], "frames": [{"data": [{"y": [2]}, {"y": [3]}]}], "layout": {"xaxis": {"range": [0, 1]}}});
        let paths: Vec<String> = traces(&figure).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["data.0", "frames.0.data.0", "frames.0.data.1"]);
    }

    #[test]
    fn the_captured_figures_hold_only_references() {
        let fixture: Value =
            serde_json::from_str(include_str!("../../../fixtures/plots/list/captured_page.json"))
                .unwrap();
        for plot in fixture["response"]["body"]["results"].as_array().unwrap() {
            for (_, trace) in traces(&plot["figure"]) {
                assert!(data_arrays(trace).is_empty(), "{}: {trace}", plot["fid"]);
            }
        }
    }
}
