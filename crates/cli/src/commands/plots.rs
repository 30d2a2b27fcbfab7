//! `plots list | feed | content`.

use anyhow::Result;
use chart_studio_api::{Client, Paginated, plots};
use chart_studio_models::{CursorPage, Plot};
use futures_util::{StreamExt, TryStreamExt};

use crate::cli::{PlotsCommand, ViewOrder};
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(command: PlotsCommand, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    match command {
        PlotsCommand::List { order, min_quality, max_quality, limit } => {
            let list = plots::List { order_by: order.map(order_by), min_quality, max_quality };
            print_plots(&client, &out, list, limit).await
        }
        PlotsCommand::Feed { order, limit } => {
            print_plots(&client, &out, plots::Feed { order_by: order.map(order_by) }, limit).await
        }
        PlotsCommand::Create { figure, filename, sharing, open } => {
            let args = super::create::CreateArgs { figure: &figure, filename, sharing, open };
            super::create::run(args, settings, &out).await
        }
        PlotsCommand::Content { fid, inline_data, share_key } => {
            let mut request = plots::Content::new(fid.fid);
            request.share_key = share_key;
            if inline_data {
                request = request.inline_data(true);
            }
            out.json(&client.send(&request).await?)
        }
    }
}

fn order_by(order: ViewOrder) -> String {
    match order {
        ViewOrder::MostViewed => "-views".to_owned(),
        ViewOrder::LeastViewed => "views".to_owned(),
    }
}

async fn print_plots<E>(client: &Client, out: &Output, first: E, limit: usize) -> Result<()>
where
    E: Paginated<Output = CursorPage<Plot>>,
{
    let limit = if limit == 0 { usize::MAX } else { limit };
    let plots: Vec<Plot> = client.items(first).take(limit).try_collect().await?;
    if out.json {
        return out.json(&plots);
    }
    let rows: Vec<Vec<String>> = plots
        .iter()
        .map(|plot| {
            let file = &plot.file;
            vec![
                file.fid.to_string(),
                file.filename.clone(),
                file.views.map(|v| v.to_string()).unwrap_or_default(),
                file.creation_time.clone().unwrap_or_default(),
                file.web_url.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.rows(&["FID", "NAME", "VIEWS", "CREATED", "URL"], &rows)
}
