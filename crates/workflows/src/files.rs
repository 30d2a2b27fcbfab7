//! Moving a file into a folder named the ways people name folders: `home`, a fid, or a path.

use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, files, folders};
use chart_studio_bulk::normalise_path;
use chart_studio_models::{Fid, File, FileType, HOME_FOLDER};

use crate::Error;

/// Moves `fid` into `folder` (`home`, `/`, a folder's fid or its path in `owner`'s account).
pub async fn move_to(client: &Client, owner: &str, fid: Fid, folder: &str) -> Result<File, Error> {
    let parent = folder_number(client, owner, folder).await?;
    Ok(client.send(&files::Update::patch(fid, FileUpdate::default().parent(parent))).await?)
}

/// The parent number of a folder given as `home`, a fid or a path.
async fn folder_number(client: &Client, owner: &str, folder: &str) -> Result<i64, Error> {
    let path = normalise_path(folder);
    if matches!(path.as_str(), "" | "home" | "-1") {
        return Ok(HOME_FOLDER);
    }
    let number = |fid: &Fid| {
        i64::try_from(fid.idlocal())
            .map_err(|_| Error::Refused(format!("{fid}: folder number too large")))
    };
    if let Ok(fid) = path.parse::<Fid>() {
        if fid.owner() != owner {
            return Err(Error::Refused(format!(
                "{fid} belongs to {}; files can only move into your own folders",
                fid.owner()
            )));
        }
        return number(&fid);
    }
    match client.send(&folders::Lookup::new(&path)).await {
        Ok(found) if found.file.filetype == FileType::Folder => number(&found.file.fid),
        Ok(found) => {
            Err(Error::Refused(format!("{path} is a {}, not a folder", found.file.filetype)))
        }
        Err(err) if err.status() == Some(http::StatusCode::NOT_FOUND) => {
            Err(Error::Refused(format!(
                "there is no folder {path:?}; create it with `chart-studio folders create {path}`"
            )))
        }
        Err(err) => Err(err.into()),
    }
}
