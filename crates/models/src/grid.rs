//! Grids: tables of named columns that plot traces refer to.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Extra, File};

/// A grid as `/v2/grids/{fid}` and `POST /v2/grids` return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grid {
    /// The metadata every file has.
    #[serde(flatten)]
    pub file: File,
    /// The columns' names and uids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cols: Option<Vec<ColumnInfo>>,
}

impl Grid {
    /// A grid around a file object, with no column list.
    pub fn new(file: File) -> Self {
        Self { file, cols: None }
    }
}

/// A column's name and uid, and its data where the endpoint sends it (`/col`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnInfo {
    /// The header name.
    pub name: String,
    /// The uid that `*src` references use.
    pub uid: String,
    /// The values, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<serde_json::Value>>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ColumnInfo {
    /// A column's name and uid.
    pub fn new(name: impl Into<String>, uid: impl Into<String>) -> Self {
        Self { name: name.into(), uid: uid.into(), data: None, extra: Extra::new() }
    }
}

/// The answer of the column endpoints: `{"cols": [{name, uid, ...}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnList {
    /// The columns.
    pub cols: Vec<ColumnInfo>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ColumnList {
    /// A list of columns.
    pub fn new(cols: Vec<ColumnInfo>) -> Self {
        Self { cols, extra: Extra::new() }
    }
}

/// A grid's data, keyed by column name: `{"cols": {"x": {"data": [...], "order": 0, "uid": "..."}}}`.
///
/// Grid content answers carry a `uid` per column; the `data` of a grid create leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GridContent {
    /// Columns by header name.
    pub cols: BTreeMap<String, Column>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GridContent {
    /// Content from columns given in order.
    pub fn from_columns(
        columns: impl IntoIterator<Item = (String, Vec<serde_json::Value>)>,
    ) -> Self {
        let cols = columns
            .into_iter()
            .enumerate()
            .map(|(order, (name, data))| (name, Column::new(data, order as u32)))
            .collect();
        Self { cols, extra: Extra::new() }
    }

    /// The columns sorted by their `order`, with their names.
    pub fn ordered(&self) -> Vec<(&str, &Column)> {
        let mut columns: Vec<_> =
            self.cols.iter().map(|(name, col)| (name.as_str(), col)).collect();
        columns.sort_by_key(|(name, col)| (col.order, *name));
        columns
    }
}

/// The text of a grid or figure value in a table cell: a string as it is, nothing for `null` or
/// a missing value, and any other value as its JSON.
pub fn cell_text(value: Option<&serde_json::Value>) -> Cow<'_, str> {
    match value {
        None | Some(serde_json::Value::Null) => Cow::Borrowed(""),
        Some(serde_json::Value::String(text)) => Cow::Borrowed(text),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

/// One column of [`GridContent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Column {
    /// The values.
    pub data: Vec<serde_json::Value>,
    /// The column's position, from 0.
    pub order: u32,
    /// The column uid (absent in create bodies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Fields not described here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Column {
    /// A column without a uid.
    pub fn new(data: Vec<serde_json::Value>, order: u32) -> Self {
        Self { data, order, uid: None, extra: Extra::new() }
    }
}
