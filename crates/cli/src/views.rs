//! How the API's own types print: a file's details, a file listing, a plot listing.

use chart_studio_models::{File, Plot};
use chart_studio_sharing::{Observed, Sharing, file_link};

use crate::output::{Human, Render, Row, cell};

/// The JSON fields of a file, as the API names them, then `$extra`.
macro_rules! file_fields {
    ($($extra:literal),*) => {
        &[
            "fid",
            "filename",
            "filetype",
            "owner",
            "parent",
            "parented",
            "world_readable",
            "share_key_enabled",
            "share_key",
            "deleted",
            "title",
            "views",
            "creation_time",
            "date_modified",
            "web_url",
            "embed_url",
            "organize_view_url",
            "img_url",
            "image_urls",
            "api_urls",
            "preview",
            "references",
            "referencers",
            "comments",
            "stars",
            "collaborators",
            "subfolder_count",
            "refresh_interval",
            "current_user_permission",
            "is_theme",
            "is_template",
            "user",
            $($extra),*
        ]
    };
}

/// The JSON fields of a file.
pub(crate) const FILE_FIELDS: &[&str] = file_fields!();

/// `files get`, `files lookup`: the file's metadata as FIELD / VALUE rows.
impl Render for File {
    const FIELDS: &'static [&'static str] = FILE_FIELDS;

    fn human(&self) -> Human {
        let mut rows = vec![
            ("fid", self.fid.to_string()),
            ("filename", self.filename.clone()),
            ("filetype", self.filetype.to_string()),
            ("owner", cell(self.owner.as_ref())),
            ("parent", cell(self.parent)),
            ("sharing", Sharing::of(self).to_string()),
            ("in trash", self.deleted.map_or_else(|| "unknown".to_owned(), |d| d.to_string())),
            ("views", cell(self.views)),
            ("created", cell(self.creation_time.as_ref())),
            ("modified", cell(self.date_modified.as_ref())),
            ("web_url", cell(self.web_url.as_ref())),
        ];
        if Sharing::of(self) == Observed::Known(Sharing::Secret) {
            rows.push(("secret link", file_link(self)));
        }
        Human::Table {
            headers: &["FIELD", "VALUE"],
            rows: rows.into_iter().map(|(key, value)| vec![key.to_owned(), value]).collect(),
            empty: None,
        }
    }
}

/// `folders ls`: one file per row.
impl Row for File {
    const FIELDS: &'static [&'static str] = FILE_FIELDS;
    const HEADERS: &'static [&'static str] = &["FID", "TYPE", "SHARING", "NAME", "MODIFIED"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.fid.to_string(),
            self.filetype.to_string(),
            Sharing::of(self).to_string(),
            self.filename.clone(),
            cell(self.date_modified.as_ref()),
        ]
    }
}

/// `folders ls`: a file and its folder's path.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ListedFile {
    /// The file.
    #[serde(flatten)]
    pub file: File,
    /// Its folder's path (`""` for home).
    pub path: String,
}

impl Row for ListedFile {
    const FIELDS: &'static [&'static str] = file_fields!("path");
    const HEADERS: &'static [&'static str] = &["FID", "TYPE", "SHARING", "PATH", "MODIFIED"];

    fn cells(&self) -> Vec<String> {
        let file = &self.file;
        let path = if self.path.is_empty() {
            file.filename.clone()
        } else {
            format!("{}/{}", self.path, file.filename)
        };
        vec![
            file.fid.to_string(),
            file.filetype.to_string(),
            Sharing::of(file).to_string(),
            path,
            cell(file.date_modified.as_ref()),
        ]
    }
}

/// `plots list`, `plots feed`: one plot per row.
impl Row for Plot {
    const FIELDS: &'static [&'static str] =
        file_fields!("figure", "autosize", "caption", "width", "height");
    const HEADERS: &'static [&'static str] = &["FID", "NAME", "VIEWS", "CREATED", "URL"];

    fn cells(&self) -> Vec<String> {
        let file = &self.file;
        vec![
            file.fid.to_string(),
            file.filename.clone(),
            cell(file.views),
            cell(file.creation_time.as_ref()),
            cell(file.web_url.as_ref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_fields_are_the_file_fields_and_the_plot_s_own() {
        assert_eq!(&<Plot as Row>::FIELDS[..FILE_FIELDS.len()], FILE_FIELDS);
    }
}
