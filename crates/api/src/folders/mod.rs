//! `/v2/folders`: creating folders, listing a user's files, and the shared file operations.

mod all;
mod create;
mod home;
mod trashed;

pub use all::All;
pub use create::Create;
pub use home::Home;
pub use trashed::Trashed;

crate::common::collection_endpoints!(Folders, "folders");

/// A folder's children come a page at a time; [`crate::Client::items`] follows them all.
impl crate::Paginated for Retrieve {}
