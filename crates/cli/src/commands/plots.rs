//! `plots list | feed | create | content`.

use anyhow::Result;
use chart_studio_api::{Client, Paginated, plots};
use chart_studio_models::{CursorPage, Plot, clean_legacy};
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
        PlotsCommand::Create { figure, filename, sharing, if_exists, open } => {
            let args =
                super::create::CreateArgs { figure: &figure, filename, sharing, if_exists, open };
            super::create::run(args, settings, &out).await
        }
        PlotsCommand::Content { fid, inline_data, share_key } => {
            let printer = out.of::<serde_json::Value>()?;
            let mut request = plots::Content::new(fid.file.fid(&client).await?);
            request.share_key = share_key;
            if inline_data {
                request = request.inline_data(true);
            }
            let mut figure = client.send(&request).await?;
            clean_legacy(&mut figure);
            printer.print(&figure)
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
    let printer = out.of::<Vec<Plot>>()?;
    let limit = if limit == 0 { usize::MAX } else { limit };
    let plots: Vec<Plot> = client.items(first).take(limit).try_collect().await?;
    printer.print(&plots)
}
