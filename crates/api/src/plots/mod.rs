//! `/v2/plots`: the public list, the feed, creating plots, and the shared file operations.

mod create;
mod feed;
mod list;

pub use create::{Create, PlotCreate};
pub use feed::Feed;
pub use list::List;

crate::common::collection_endpoints!(Plots, "plots");
