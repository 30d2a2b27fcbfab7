//! `grids get FID`: a grid's data as CSV, or JSON with `--json`.

use anyhow::Result;
use chart_studio_api::grids;
use chart_studio_models::{GridContent, cell_text};

use crate::cli::GridsCommand;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;

/// `grids get`: the columns by name (`{"cols": {NAME: {"data": [...], "order": N, "uid": ...}}}`);
/// without `--json`, a CSV.
impl Render for GridContent {
    const FIELDS: &'static [&'static str] = &["cols"];

    fn human(&self) -> Human {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let text = write_csv(&mut writer, self)
            .and_then(|()| Ok(writer.into_inner()?))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        Human::Text(text.unwrap_or_else(|err| format!("could not write the CSV: {err}")))
    }
}

pub(super) async fn run(command: GridsCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        GridsCommand::Get { file } => {
            let printer = out.of::<GridContent>()?;
            let mut request = grids::Content::new(file.fid(&client).await?);
            request.share_key = file.share_key;
            printer.print(&client.send(&request).await?)
        }
    }
}

/// A header of column names in column order, then one row per index; short columns leave cells empty.
fn write_csv<W: std::io::Write>(writer: &mut csv::Writer<W>, content: &GridContent) -> Result<()> {
    let columns = content.ordered();
    writer.write_record(columns.iter().map(|(name, _)| *name))?;
    let rows = columns.iter().map(|(_, column)| column.data.len()).max().unwrap_or(0);
    for row in 0..rows {
        writer.write_record(
            columns.iter().map(|(_, column)| cell_text(column.data.get(row)).into_owned()),
        )?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_in_column_order_with_ragged_columns() {
        let content = GridContent::from_columns([
            ("b, quoted".to_owned(), vec![json!("x"), json!(null), json!(3)]),
            ("a".to_owned(), vec![json!(1.5)]),
        ]);
        let mut writer = csv::Writer::from_writer(Vec::new());
        write_csv(&mut writer, &content).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text, "\"b, quoted\",a\nx,1.5\n,\n3,\n");
    }
}
