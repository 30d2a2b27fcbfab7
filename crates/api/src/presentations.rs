//! `/v2/spectacle-presentations`: the requester's presentations, creating one, and the shared
//! file operations.

/// `GET /v2/spectacle-presentations`: the requester's own presentations.
pub type List = crate::documents::List<crate::Presentations>;
/// `POST /v2/spectacle-presentations`.
pub type Create = crate::documents::Create<crate::Presentations>;

crate::common::collection_endpoints!(Presentations, "spectacle-presentations");
