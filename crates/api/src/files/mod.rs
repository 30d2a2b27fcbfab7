//! `/v2/files`: operations on any kind of file.

crate::common::collection_endpoints!(Files, "files");
