//! A plot's data as CSV (`/~USER/N.csv`), as the web app gave it: a column per data array of
//! each trace, headed by the trace's name (`trace N` when it has none) and the attribute, such
//! as `trace 0 x`; shorter columns end in empty cells. It is written a few rows at a time as it
//! is sent, each grid column read value by value from its stored JSON, so a large plot's data
//! is never decoded whole. Every cell is [`inert`] in a spreadsheet.

use std::borrow::Cow;

use bytes::Bytes;
use chart_studio_models::{cell_text, data_arrays};
use serde_json::Value;

use crate::render::Placeheld;

/// Cells written per piece of the answer (at least a row): each piece is a short step for the
/// worker that sends it, however many columns a figure has.
const CELLS_PER_PIECE: usize = 16_384;

/// The CSV of `plot`'s data, in pieces.
pub(crate) fn plot_csv(plot: &Placeheld) -> CsvPieces {
    let traces = plot.figure.get("data").and_then(Value::as_array);
    let mut header = Vec::new();
    let mut columns = Vec::new();
    for (index, trace) in traces.into_iter().flatten().enumerate() {
        let name = match trace.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => format!("trace {index}"),
        };
        for attribute in data_arrays(trace) {
            let column = match (plot.data_of(attribute.value), attribute.value.as_array()) {
                (Some(json), _) => Column::stored(json.clone()),
                (None, Some(values)) => Some(Column::Inline(values.clone().into_iter())),
                (None, None) => None,
            };
            // Empty arrays are no data, as in the figure itself.
            let Some(column) = column else { continue };
            header.push(format!("{name} {}", attribute.path));
            columns.push(column);
        }
    }
    CsvPieces { header: Some(header), columns, done: false }
}

/// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return, and is not a number) with a `'` before it, as OWASP advises for CSV
/// files: a figure is anyone's text, and the file is opened by whoever downloads it.
fn inert(cell: Cow<'_, str>) -> Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    match formula && cell.trim().parse::<f64>().is_err() {
        true => Cow::Owned(format!("'{cell}")),
        false => cell,
    }
}

/// One column's values, read one at a time.
enum Column {
    /// An array of the figure itself.
    Inline(std::vec::IntoIter<Value>),
    /// A grid column's JSON array, as stored, and where its next value starts.
    Stored { json: Bytes, at: usize },
}

impl Column {
    /// A column read from the JSON array `json`; `None` when it is empty.
    fn stored(json: Bytes) -> Option<Self> {
        let at = json.iter().position(|&byte| byte == b'[').map_or(json.len(), |open| open + 1);
        let first = json[at..].iter().find(|byte| !byte.is_ascii_whitespace());
        first.is_some_and(|&byte| byte != b']').then_some(Self::Stored { json, at })
    }

    /// The next value's cell; `None` past the end (or where stored JSON stops making sense).
    fn next_cell(&mut self) -> Option<String> {
        let value = match self {
            Self::Inline(values) => values.next()?,
            Self::Stored { json, at } => {
                while let Some(b' ' | b'\n' | b'\r' | b'\t' | b',') = json.get(*at) {
                    *at += 1;
                }
                if json.get(*at).is_none_or(|&byte| byte == b']') {
                    return None;
                }
                let mut values = serde_json::Deserializer::from_slice(&json[*at..]).into_iter();
                let value = values.next()?.ok()?;
                *at += values.byte_offset();
                value
            }
        };
        Some(cell_text(Some(&value)).into_owned())
    }
}

/// A plot's CSV, [`CELLS_PER_PIECE`] cells at a time (the header comes with the first).
pub(crate) struct CsvPieces {
    header: Option<Vec<String>>,
    columns: Vec<Column>,
    done: bool,
}

impl Iterator for CsvPieces {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        // Writing to memory cannot fail.
        let mut out = csv::Writer::from_writer(Vec::new());
        if let Some(header) = self.header.take() {
            out.write_record(header.iter().map(|name| inert(name.into()).into_owned())).ok()?;
        }
        for _ in 0..(CELLS_PER_PIECE / self.columns.len().max(1)).max(1) {
            let row: Vec<Option<String>> = self.columns.iter_mut().map(Column::next_cell).collect();
            if row.iter().all(Option::is_none) {
                self.done = true;
                break;
            }
            let cells = row.into_iter().map(|cell| inert(cell.unwrap_or_default().into()));
            out.write_record(cells.map(Cow::into_owned)).ok()?;
        }
        out.into_inner().ok().map(Bytes::from)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::plot_csv;
    use crate::render::Placeheld;

    /// The whole CSV of `figure`, whose `x` of the first trace is the placeholder of `stored`.
    fn csv(figure: Value, stored: Option<String>) -> String {
        let data: BTreeMap<String, Bytes> =
            stored.into_iter().map(|json| ("\u{0}p\u{0}".to_owned(), json.into())).collect();
        let pieces: Vec<Bytes> = plot_csv(&Placeheld { figure, data }).collect();
        String::from_utf8(pieces.concat()).unwrap()
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            "[a-z,\"\n=@ \\-]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 6, 3, |inner| {
            proptest::collection::vec(inner, 0..3).prop_map(Value::from)
        })
    }

    proptest! {
        /// A column read value by value from stored JSON (compact or pretty, of any length
        /// against the other columns) gives the cells the same values give inline.
        #[test]
        fn stored_columns_give_the_cells_of_inline_ones(
            x in proptest::collection::vec(value(), 1..40),
            y in proptest::collection::vec(value(), 1..40),
            pretty in any::<bool>(),
        ) {
            let stored = match pretty {
                true => serde_json::to_string_pretty(&x).unwrap(),
                false => serde_json::to_string(&x).unwrap(),
            };
            let placeheld = json!({"data": [{"name": "t", "x": ["\u{0}p\u{0}"], "y": y}]});
            let inline = json!({"data": [{"name": "t", "x": x, "y": y}]});
            prop_assert_eq!(csv(placeheld, Some(stored)), csv(inline, None));
        }
    }

    /// Rows go on across pieces; empty stored columns are no column, as empty arrays are none.
    #[test]
    fn rows_go_on_across_pieces_and_empty_columns_are_left_out() {
        let x: Vec<u32> = (0..20_000).collect();
        let figure = json!({"data": [{"x": ["\u{0}p\u{0}"], "y": [7]}]});
        let data = [("\u{0}p\u{0}".to_owned(), serde_json::to_string(&x).unwrap().into())];
        let pieces: Vec<Bytes> = plot_csv(&Placeheld { figure, data: data.into() }).collect();
        assert!(pieces.len() > 2, "{} pieces", pieces.len());
        let text = String::from_utf8(pieces.concat()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_001, "a header and a row per value");
        assert_eq!(
            (lines[0], lines[1], lines[2], lines[20_000]),
            ("trace 0 x,trace 0 y", "0,7", "1,", "19999,")
        );
        let empty = json!({"data": [{"x": ["\u{0}p\u{0}"], "y": [1, 2]}]});
        assert_eq!(csv(empty, Some(" [ ] ".to_owned())), "trace 0 y\n1\n2\n");
    }
}
