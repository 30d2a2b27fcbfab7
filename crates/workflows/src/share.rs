//! Sharing changes: plan from what the server says, apply in order, read every file back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chart_studio_api::{Client, RetryPolicy, Sleeper, files, plots};
use chart_studio_models::{Fid, File, FileType, referenced_grids};
use chart_studio_sharing::{
    Diagnostic, Observed, Plan, PlanInput, Sharing, file_link, listed_fids, plan,
};
use serde::Serialize;

use crate::Error;

/// A file's metadata, or `None` when it cannot be read (404).
pub(crate) async fn read(client: &Client, fid: &Fid) -> Result<Option<File>, Error> {
    match client.send(&files::Retrieve::new(fid.clone())).await {
        Ok(file) => Ok(Some(file)),
        Err(err) if err.status() == Some(http::StatusCode::NOT_FOUND) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The plan that brings `fids` (and, with `include_grids`, the grids their plots' figures use)
/// to `mode`, with its diagnostics. A selected file of another user is refused, naming its
/// owner: only the owner can change a file's sharing.
pub async fn plan_change(
    client: &Client,
    me: &str,
    fids: &[Fid],
    mode: Sharing,
    include_grids: bool,
) -> Result<(Plan, Vec<Diagnostic>), Error> {
    let input = gather(client, me, fids, include_grids).await?;
    let (plan, diagnostics) = plan(&input, mode);
    let not_mine: Vec<String> = diagnostics
        .iter()
        .filter(|d| matches!(d, Diagnostic::NotOwned { fid, .. } if fids.contains(fid)))
        .map(ToString::to_string)
        .collect();
    if !not_mine.is_empty() {
        return Err(Error::Refused(format!("{}; nothing was changed", not_mine.join("; "))));
    }
    Ok((plan, diagnostics))
}

/// Reads the selected files, the grids their plots' figures use and the other plots that use
/// those grids (as the grids' own pages list them).
async fn gather(
    client: &Client,
    me: &str,
    fids: &[Fid],
    include_grids: bool,
) -> Result<PlanInput, Error> {
    let mut input = PlanInput { me: me.to_owned(), include_grids, ..PlanInput::default() };
    let selected: BTreeSet<&Fid> = fids.iter().collect();
    for fid in fids {
        let file = client.send(&files::Retrieve::new(fid.clone())).await?;
        let grids = match file.filetype {
            FileType::Plot if include_grids => {
                Some(referenced_grids(&client.send(&plots::Content::new(fid.clone())).await?))
            }
            _ => None,
        };
        input.files.push((file, grids));
    }
    if !include_grids {
        return Ok(input);
    }
    let grids: BTreeSet<Fid> =
        input.files.iter().filter_map(|(_, grids)| grids.clone()).flatten().collect();
    for grid in grids.into_iter().filter(|grid| !selected.contains(grid)) {
        let Some(file) = read(client, &grid).await? else { continue };
        let mut users = BTreeMap::new();
        for plot in listed_fids(file.referencers.as_ref())
            .into_iter()
            .filter(|plot| !selected.contains(plot))
        {
            let mode =
                read(client, &plot).await?.map_or(Observed::Unknown, |plot| Sharing::of(&plot));
            users.insert(plot, mode);
        }
        input.grid_users.insert(grid.clone(), users);
        input.grids.insert(grid, file);
    }
    Ok(input)
}

/// What happened to one planned update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The file.
    pub fid: Fid,
    /// Whether the server now shows the target mode.
    pub reached: bool,
    /// The mode the server shows.
    pub observed: Observed,
    /// The file's link afterwards (the secret link of a secret file).
    pub url: String,
    /// Why the update failed, if it did.
    pub error: Option<String>,
}

/// Sends each update in order, then reads the file back until it shows its new mode.
pub async fn apply(client: &Client, clock: &dyn Sleeper, plan: &Plan) -> Vec<Applied> {
    let mut results = Vec::new();
    for step in &plan.steps {
        let applied = match client.send(&step.request).await {
            Ok(_) => verify(client, clock, &step.fid, step.to).await,
            Err(err) => Applied {
                fid: step.fid.clone(),
                reached: false,
                observed: step.from,
                url: String::new(),
                error: Some(err.to_string()),
            },
        };
        results.push(applied);
    }
    results
}

/// How long a read-back polls: the real service sometimes lagged behind an update.
const READ_BACK: RetryPolicy = RetryPolicy {
    max_retries: 6,
    min_delay: Duration::from_millis(100),
    max_delay: Duration::from_secs(2),
};

/// Reads `fid` back until it shows `target`, polling with bounded exponential backoff.
pub async fn verify(client: &Client, clock: &dyn Sleeper, fid: &Fid, target: Sharing) -> Applied {
    let mut delays = READ_BACK.delays();
    loop {
        let (file, error) = match client.send(&files::Retrieve::new(fid.clone())).await {
            Ok(file) if Sharing::of(&file) == Observed::Known(target) => {
                return Applied {
                    fid: fid.clone(),
                    reached: true,
                    observed: Sharing::of(&file),
                    url: file_link(&file),
                    error: None,
                };
            }
            Ok(file) => (Some(file), None),
            Err(err) => (None, Some(err.to_string())),
        };
        let Some(delay) = delays.next() else {
            return Applied {
                fid: fid.clone(),
                reached: false,
                observed: file.as_ref().map_or(Observed::Unknown, Sharing::of),
                url: file.as_ref().map(file_link).unwrap_or_default(),
                error,
            };
        };
        clock.sleep(delay).await;
    }
}

/// A file's sharing, as `share show` tells it.
#[derive(Debug, Clone, Serialize)]
pub struct SharingView {
    /// The file.
    pub fid: Fid,
    /// Its name.
    pub filename: String,
    /// Its mode, as far as the caller can see it.
    pub sharing: Observed,
    /// Who can see it.
    pub who_can_see: &'static str,
    /// The link that opens it (the secret link, for its owner).
    pub link: String,
    /// For a plot, each grid it uses and its mode (`None`: the caller cannot read it).
    pub grids: BTreeMap<Fid, Option<Observed>>,
}

/// The sharing of `fid` (read with `share_key`, for a secret link), and of a plot's grids.
pub async fn describe(
    client: &Client,
    fid: &Fid,
    share_key: Option<String>,
) -> Result<SharingView, Error> {
    let mut request = files::Retrieve::new(fid.clone());
    request.share_key.clone_from(&share_key);
    let meta = client.send(&request).await?;
    let sharing = Sharing::of(&meta);
    let who_can_see = match sharing {
        Observed::Known(Sharing::Public) => "anyone; it is listed publicly",
        Observed::Known(Sharing::Private) => "only the owner (and collaborators)",
        Observed::Known(Sharing::Secret) => "anyone holding the secret link; it is not listed",
        Observed::Unknown => {
            "unknown: only the owner can see the sharing settings of a file that is not public"
        }
    };
    let mut grids = BTreeMap::new();
    if meta.filetype == FileType::Plot {
        let mut content = plots::Content::new(fid.clone());
        content.share_key = share_key;
        for grid in referenced_grids(&client.send(&content).await?) {
            let mode = read(client, &grid).await?.map(|g| Sharing::of(&g));
            grids.insert(grid, mode);
        }
    }
    Ok(SharingView {
        fid: meta.fid.clone(),
        filename: meta.filename.clone(),
        sharing,
        who_can_see,
        link: file_link(&meta),
        grids,
    })
}
