//! `/v2/dashboards`: the requester's dashboards, creating one, and the shared file operations.

/// `GET /v2/dashboards`: the requester's own dashboards.
pub type List = crate::documents::List<crate::Dashboards>;
/// `POST /v2/dashboards`.
pub type Create = crate::documents::Create<crate::Dashboards>;

crate::common::collection_endpoints!(Dashboards, "dashboards");
