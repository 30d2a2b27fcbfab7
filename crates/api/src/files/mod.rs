//! `/v2/files`: operations on any kind of file.

mod copy;

pub use copy::Copy;

crate::common::collection_endpoints!(Files, "files");
