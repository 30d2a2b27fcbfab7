//! `/v2/grids`: creating grids, their columns and rows, and the shared file operations.

mod col;
mod create;
mod destroy;
mod row;

pub use col::{ColumnsAppend, ColumnsDelete, ColumnsGet, ColumnsReplace, NewColumn};
pub use create::{Create, GridCreate};
pub use destroy::Destroy;
pub use row::AppendRows;

crate::common::collection_endpoints!(Grids, "grids");
