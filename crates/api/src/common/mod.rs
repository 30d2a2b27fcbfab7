//! Endpoints that every file collection (`files`, `plots`, `grids`, `folders`, `dashboards`,
//! `spectacle-presentations`) shares: retrieve,
//! content, update, trash, restore, permanent delete and lookup. Each is generic over a
//! [`Collection`]; the collection modules name them, e.g. [`crate::plots::Trash`] is `Trash<Plots>`.

mod content;
mod lookup;
mod permanent_delete;
mod retrieve;
mod trash;
mod update;

use std::fmt::Debug;

use serde::{Serialize, de::DeserializeOwned};

pub use content::Content;
pub use lookup::Lookup;
pub use permanent_delete::PermanentDelete;
pub use retrieve::Retrieve;
pub use trash::{Restore, Trash};
pub use update::{FileUpdate, Update};

/// A collection of files under `/v2/{segment}`.
pub trait Collection: Clone + Debug + Default + Send + Sync + 'static {
    /// The path segment, such as `plots`.
    const SEGMENT: &'static str;
    /// The model a file of this collection parses into.
    type Object: DeserializeOwned + Serialize + Debug + Send + 'static;
    /// What `/content` parses into.
    type Content: DeserializeOwned + Serialize + Debug + Send + 'static;
}

/// `/v2/files`: any kind of file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Files;
/// `/v2/plots`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plots;
/// `/v2/grids`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grids;
/// `/v2/folders`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folders;
/// `/v2/dashboards`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dashboards;
/// `/v2/spectacle-presentations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presentations;

impl Collection for Files {
    const SEGMENT: &'static str = "files";
    type Object = chart_studio_models::File;
    type Content = serde_json::Value;
}
impl Collection for Plots {
    const SEGMENT: &'static str = "plots";
    type Object = chart_studio_models::Plot;
    type Content = serde_json::Value;
}
impl Collection for Grids {
    const SEGMENT: &'static str = "grids";
    type Object = chart_studio_models::Grid;
    type Content = chart_studio_models::GridContent;
}
impl Collection for Folders {
    const SEGMENT: &'static str = "folders";
    type Object = chart_studio_models::Folder;
    type Content = serde_json::Value;
}
impl Collection for Dashboards {
    const SEGMENT: &'static str = "dashboards";
    type Object = chart_studio_models::Document;
    type Content = serde_json::Value;
}
impl Collection for Presentations {
    const SEGMENT: &'static str = "spectacle-presentations";
    type Object = chart_studio_models::Document;
    type Content = serde_json::Value;
}

/// `/v2/{collection}/{fid}` plus an optional action segment.
pub(crate) fn file_path<C: Collection>(
    fid: &chart_studio_models::Fid,
    action: Option<&str>,
) -> String {
    let base = format!("/v2/{}/{}", C::SEGMENT, crate::query::segment(&fid.to_string()));
    match action {
        Some(action) => format!("{base}/{action}"),
        None => base,
    }
}

/// The builder methods every create body shares, for a body with `filename`, `parent_path`,
/// `world_readable` and `share_key_enabled` fields: `placement_builders!(PlotCreate, "plot");`.
macro_rules! placement_builders {
    ($body:ty, $what:literal) => {
        impl $body {
            #[doc = concat!("Names the ", $what, ".")]
            pub fn filename(mut self, name: impl Into<String>) -> Self {
                self.filename = Some(name.into());
                self
            }

            #[doc = concat!("Puts the ", $what, " in the folder at `path`, created when missing.")]
            pub fn parent_path(mut self, path: impl Into<String>) -> Self {
                self.parent_path = Some(path.into());
                self
            }

            /// Sets `world_readable` and `share_key_enabled`.
            pub fn sharing(mut self, world_readable: bool, share_key_enabled: bool) -> Self {
                self.world_readable = Some(world_readable);
                self.share_key_enabled = Some(share_key_enabled);
                self
            }
        }
    };
}
pub(crate) use placement_builders;

/// Names the shared endpoints for one collection, e.g. `pub type Trash = common::Trash<Plots>;`.
macro_rules! collection_endpoints {
    ($collection:ident, $segment:literal) => {
        #[doc = concat!("`GET /v2/", $segment, "/{fid}`: metadata.")]
        pub type Retrieve = $crate::common::Retrieve<$crate::$collection>;
        #[doc = concat!("`GET /v2/", $segment, "/{fid}/content`.")]
        pub type Content = $crate::common::Content<$crate::$collection>;
        #[doc = concat!("`PUT` / `PATCH /v2/", $segment, "/{fid}`: writable metadata.")]
        pub type Update = $crate::common::Update<$crate::$collection>;
        #[doc = concat!("`POST /v2/", $segment, "/{fid}/trash`.")]
        pub type Trash = $crate::common::Trash<$crate::$collection>;
        #[doc = concat!("`POST /v2/", $segment, "/{fid}/restore`.")]
        pub type Restore = $crate::common::Restore<$crate::$collection>;
        #[doc = concat!("`DELETE /v2/", $segment, "/{fid}/permanent_delete`.")]
        pub type PermanentDelete = $crate::common::PermanentDelete<$crate::$collection>;
        #[doc = concat!("`GET /v2/", $segment, "/lookup?path=`.")]
        pub type Lookup = $crate::common::Lookup<$crate::$collection>;
    };
}
pub(crate) use collection_endpoints;

#[cfg(test)]
pub(crate) mod tests {
    use crate::{Config, Endpoint, build_request};

    /// Builds `endpoint` against a test server and returns (method, path and query, body).
    pub(crate) fn built<E: Endpoint>(endpoint: &E) -> (String, String, String) {
        let config = Config::new("https://api.example.com", None, false).unwrap();
        let request = build_request(endpoint, &config).unwrap();
        let target =
            request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
        let body = String::from_utf8(request.body().to_vec()).unwrap();
        (request.method().to_string(), target, body)
    }
}
