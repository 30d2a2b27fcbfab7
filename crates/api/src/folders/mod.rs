//! `/v2/folders`: creating folders, listing a user's files, and the shared file operations.

mod all;
mod create;
mod home;

pub use all::All;
pub use create::Create;
pub use home::Home;

crate::common::collection_endpoints!(Folders, "folders");
