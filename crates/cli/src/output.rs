//! The output contract. Every command's result is one typed value that implements [`Render`];
//! it is printed as a table with headers on a terminal, as tab-separated rows in the same
//! columns (no header) when piped, or with `--json` as exactly one JSON document: all of it,
//! only the fields asked for (`--json=FIELD,...`), or filtered by `--jq EXPR`.

use std::io::{IsTerminal, Write};
use std::marker::PhantomData;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::Value;

use crate::exit::{FieldList, UsageError};

/// How a value shows without `--json`.
#[derive(Debug)]
pub(crate) enum Human {
    /// Rows under column headers; `empty` is said on stderr when there are no rows.
    Table {
        /// The column headers; the TSV columns are the same, in the same order.
        headers: &'static [&'static str],
        /// The rows.
        rows: Vec<Vec<String>>,
        /// Said when there are no rows.
        empty: Option<String>,
    },
    /// A sentence on a terminal; piped, the one row `row`.
    Sentence {
        /// What happened, for people.
        text: String,
        /// The same, for scripts.
        row: Vec<String>,
    },
    /// Text printed as it is on a terminal and piped: a CSV, a figure, a script.
    Text(String),
}

/// A command's result.
pub(crate) trait Render: Serialize {
    /// The JSON fields `--json=FIELD,...` may select (for a list, each item's); empty when the
    /// document has no fixed fields (a figure, a raw API answer).
    const FIELDS: &'static [&'static str];

    /// How it shows without `--json`.
    fn human(&self) -> Human;
}

/// An item of a list result: one row of the table, one object of the JSON array.
pub(crate) trait Row: Serialize {
    /// The JSON fields of the item.
    const FIELDS: &'static [&'static str];
    /// The table's columns.
    const HEADERS: &'static [&'static str];

    /// The row's cells, one per header.
    fn cells(&self) -> Vec<String>;
}

impl<T: Row> Render for Vec<T> {
    const FIELDS: &'static [&'static str] = T::FIELDS;

    fn human(&self) -> Human {
        Human::Table {
            headers: T::HEADERS,
            rows: self.iter().map(Row::cells).collect(),
            empty: None,
        }
    }
}

/// A JSON document with no fixed fields, printed as pretty JSON in every mode.
impl Render for Value {
    const FIELDS: &'static [&'static str] = &[];

    fn human(&self) -> Human {
        Human::Text(serde_json::to_string_pretty(self).unwrap_or_default())
    }
}

/// The `--json` and `--jq` flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonArgs {
    /// `--json` (None: not given; Some(None): every field; Some(Some(list)): those fields).
    pub json: Option<Option<String>>,
    /// `--jq EXPR` (implies `--json`).
    pub jq: Option<String>,
}

/// Where and how results are printed.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// `--json` (or `--jq`) was given.
    pub json: bool,
    /// The fields asked for; `Some(empty)` asks for the list of fields.
    fields: Option<Vec<String>>,
    /// The `--jq` expression.
    jq: Option<String>,
    /// Standard output is a terminal.
    pub tty: bool,
}

impl Output {
    /// The mode for this process; a `--jq` expression that does not compile is a usage error.
    pub(crate) fn new(args: JsonArgs) -> Result<Self> {
        if let Some(expr) = &args.jq {
            crate::jq::check(expr).map_err(|err| UsageError(err.to_string()))?;
        }
        let fields = args.json.clone().flatten().map(|list| {
            list.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect()
        });
        Ok(Self {
            json: args.json.is_some() || args.jq.is_some(),
            fields,
            jq: args.jq,
            // CHART_STUDIO_FORCE_TTY prints as on a terminal, as gh's GH_FORCE_TTY does.
            tty: std::io::stdout().is_terminal()
                || std::env::var_os("CHART_STUDIO_FORCE_TTY").is_some_and(|v| !v.is_empty()),
        })
    }

    /// A printer for results of type `T`, made before the command does anything: fields that
    /// `T` does not have are a usage error (which lists the fields it has), and so is
    /// `--json=` with no fields.
    pub(crate) fn of<T: Render>(&self) -> Result<Printer<T>> {
        if let Some(fields) = &self.fields {
            let problem = if fields.is_empty() {
                Some("name the fields after --json=".to_owned())
            } else {
                fields
                    .iter()
                    .find(|f| !T::FIELDS.is_empty() && !T::FIELDS.contains(&f.as_str()))
                    .map(|unknown| format!("unknown JSON field {unknown:?}"))
            };
            if let Some(problem) = problem {
                return Err(FieldList { problem, fields: T::FIELDS }.into());
            }
        }
        Ok(Printer { out: self.clone(), kind: PhantomData })
    }
}

/// Prints results of one type; made by [`Output::of`].
#[derive(Debug)]
pub(crate) struct Printer<T> {
    out: Output,
    kind: PhantomData<fn(&T)>,
}

impl<T: Render> Printer<T> {
    /// Whether this prints JSON.
    pub(crate) fn json(&self) -> bool {
        self.out.json
    }

    /// Whether standard output is a terminal (and this prints no JSON).
    pub(crate) fn tty(&self) -> bool {
        self.out.tty && !self.out.json
    }

    /// Prints `value` in the chosen mode.
    pub(crate) fn print(&self, value: &T) -> Result<()> {
        if self.out.json {
            return self.print_json(serde_json::to_value(value)?);
        }
        let mut stdout = std::io::stdout().lock();
        match value.human() {
            Human::Text(text) => {
                write!(stdout, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(stdout)?;
                }
            }
            Human::Sentence { text, row } => {
                if self.out.tty {
                    writeln!(stdout, "{text}")?;
                } else {
                    write_tsv(&mut stdout, &row)?;
                }
            }
            Human::Table { headers, rows, empty } => {
                if rows.is_empty() {
                    if let Some(empty) = empty {
                        writeln!(std::io::stderr().lock(), "{empty}")?;
                    }
                } else if !self.out.tty {
                    for row in &rows {
                        write_tsv(&mut stdout, row)?;
                    }
                } else {
                    let mut table = Table::new();
                    table.load_preset(UTF8_FULL_CONDENSED).set_header(headers.to_vec());
                    for row in rows {
                        table.add_row(row);
                    }
                    writeln!(stdout, "{table}")?;
                }
            }
        }
        Ok(())
    }

    fn print_json(&self, mut value: Value) -> Result<()> {
        if let Some(fields) = &self.out.fields {
            value = select(value, fields);
        }
        let mut stdout = std::io::stdout().lock();
        match &self.out.jq {
            Some(expr) => {
                for line in crate::jq::run(expr, &value)? {
                    writeln!(stdout, "{line}")?;
                }
            }
            None => {
                serde_json::to_writer_pretty(&mut stdout, &value)?;
                writeln!(stdout)?;
            }
        }
        Ok(())
    }
}

impl<T: Row> Printer<Vec<T>> {
    /// Prints one item as it arrives, when piped without `--json` (a listing that streams);
    /// returns `false` (printing nothing) in every other mode, where the whole list is printed.
    pub(crate) fn stream(&self, item: &T) -> Result<bool> {
        if self.out.json || self.out.tty {
            return Ok(false);
        }
        write_tsv(&mut std::io::stdout().lock(), &item.cells())?;
        Ok(true)
    }
}

/// One tab-separated line; tabs and line breaks inside cells become spaces.
fn write_tsv(out: &mut impl Write, row: &[String]) -> Result<()> {
    let cells: Vec<String> = row.iter().map(|cell| cell.replace(['\t', '\n', '\r'], " ")).collect();
    writeln!(out, "{}", cells.join("\t"))?;
    Ok(())
}

/// Keeps only `fields` of an object, or of each object of an array.
fn select(value: Value, fields: &[String]) -> Value {
    match value {
        Value::Object(mut object) => Value::Object(
            fields.iter().filter_map(|f| object.remove(f).map(|v| (f.clone(), v))).collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|item| select(item, fields)).collect())
        }
        other => other,
    }
}

/// An optional value as a cell: empty when absent.
pub(crate) fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_fields_of_objects_and_lists() {
        let fields = ["fid".to_owned(), "views".to_owned()];
        assert_eq!(
            select(json!({"fid": "a:1", "views": 2, "x": 1}), &fields),
            json!({"fid": "a:1", "views": 2})
        );
        assert_eq!(
            select(json!([{"fid": "a:1", "x": 1}, {"views": 0}]), &fields),
            json!([{"fid": "a:1"}, {"views": 0}])
        );
    }

    #[derive(Debug, Serialize)]
    struct Item {
        fid: String,
    }

    impl Row for Item {
        const FIELDS: &'static [&'static str] = &["fid"];
        const HEADERS: &'static [&'static str] = &["FID"];
        fn cells(&self) -> Vec<String> {
            vec![self.fid.clone()]
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_usage_errors_that_list_the_fields() {
        let out = |json: Option<&str>| {
            Output::new(JsonArgs { json: Some(json.map(str::to_owned)), jq: None }).unwrap()
        };
        assert!(out(None).of::<Vec<Item>>().is_ok());
        assert!(out(Some("fid")).of::<Vec<Item>>().is_ok());
        let err = out(Some("fid,nope")).of::<Vec<Item>>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown JSON field \"nope\"; the fields are (--json=FIELD,...):\n  fid"
        );
        assert!(err.is::<FieldList>());
        let err = out(Some("")).of::<Vec<Item>>().unwrap_err();
        assert!(err.to_string().ends_with("(--json=FIELD,...):\n  fid"), "{err}");
        assert!(out(Some("anything")).of::<Value>().is_ok(), "free-form JSON takes any field");
    }
}
