//! Printing: a table on a terminal, tab-separated lines when piped, JSON with `--json`.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use chart_studio_models::File;
use chart_studio_sharing::{Observed, Sharing};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// Print JSON.
    pub json: bool,
    /// Standard output is a terminal.
    pub tty: bool,
}

impl Output {
    /// The mode for this process.
    pub(crate) fn detect(json: bool) -> Self {
        Self { json, tty: std::io::stdout().is_terminal() }
    }

    /// Prints `value` as pretty JSON.
    pub(crate) fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, value)?;
        writeln!(stdout)?;
        Ok(())
    }

    /// Prints rows: a table with headers on a terminal, tab-separated lines otherwise.
    pub(crate) fn rows(&self, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.tty {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(headers.to_vec());
            for row in rows {
                table.add_row(row.clone());
            }
            writeln!(stdout, "{table}")?;
        } else {
            for row in rows {
                let cells: Vec<String> =
                    row.iter().map(|cell| cell.replace(['\t', '\n'], " ")).collect();
                writeln!(stdout, "{}", cells.join("\t"))?;
            }
        }
        Ok(())
    }

    /// Prints one line of text.
    pub(crate) fn line(&self, text: &str) -> Result<()> {
        writeln!(std::io::stdout().lock(), "{text}")?;
        Ok(())
    }
}

pub(crate) use chart_studio_sharing::file_link;

/// The columns of a file listing.
pub(crate) const FILE_HEADERS: [&str; 5] = ["FID", "TYPE", "SHARING", "NAME", "MODIFIED"];

/// One row of a file listing.
pub(crate) fn file_row(file: &File) -> Vec<String> {
    vec![
        file.fid.to_string(),
        file.filetype.to_string(),
        Sharing::of(file).to_string(),
        file.filename.clone(),
        file.date_modified.clone().unwrap_or_default(),
    ]
}

/// A file's main metadata as key/value rows.
pub(crate) fn file_details(file: &File) -> Vec<Vec<String>> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let number = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    let mut rows = vec![
        ("fid", file.fid.to_string()),
        ("filename", file.filename.clone()),
        ("filetype", file.filetype.to_string()),
        ("owner", text(&file.owner)),
        ("parent", number(file.parent)),
        ("sharing", Sharing::of(file).to_string()),
        ("in trash", file.deleted.map(|d| d.to_string()).unwrap_or_else(|| "unknown".to_owned())),
        ("views", file.views.map(|v| v.to_string()).unwrap_or_default()),
        ("created", text(&file.creation_time)),
        ("modified", text(&file.date_modified)),
        ("web_url", text(&file.web_url)),
    ];
    if Sharing::of(file) == Observed::Known(Sharing::Secret) {
        rows.push(("secret link", file_link(file)));
    }
    rows.into_iter().map(|(key, value)| vec![key.to_owned(), value]).collect()
}
