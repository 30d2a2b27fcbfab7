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
