//! `share FID... MODE` and `share show FID`: plan with the sharing engine, apply the updates as
//! JSON, read every file back, and report files whose mode did not take.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use anyhow::{Result, bail};
use chart_studio_api::{Client, Error, RetryPolicy, Sleeper, files, plots};
use chart_studio_bulk::TokioClock;
use chart_studio_models::{Fid, File, FileType, referenced_grids};
use chart_studio_sharing::{Diagnostic, Observed, Plan, PlanInput, Sharing, listed_fids, plan};
use serde::Serialize;

use super::username;
use crate::cli::{FileRef, ShareArgs, ShareCommand, file_ref};
use crate::exit::UsageError;
use crate::output::{Output, file_link};
use crate::settings::Settings;

pub(super) async fn run(args: ShareArgs, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    if let Some(ShareCommand::Show { file }) = args.command {
        return show(&client, &out, file).await;
    }
    let me = username(settings)?;
    let Some((mode, targets)) = args.args.split_last() else {
        return Err(UsageError(
            "give the files, then the mode: share FID... public|private|secret".to_owned(),
        )
        .into());
    };
    let mode: Sharing =
        mode.parse().map_err(|err| UsageError(format!("{err} (the mode comes last)")))?;
    let fids = targets
        .iter()
        .map(|text| file_ref(text).map(|file| file.fid))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UsageError)?;
    let input = gather(&client, &me, &fids, !args.no_grids).await?;
    let (plan, diagnostics) = plan(&input, mode);
    let not_mine: Vec<String> = diagnostics
        .iter()
        .filter(|d| matches!(d, Diagnostic::NotOwned { fid, .. } if fids.contains(fid)))
        .map(ToString::to_string)
        .collect();
    if !not_mine.is_empty() {
        bail!("{}; nothing was changed", not_mine.join("; "));
    }
    report_diagnostics(&out, &diagnostics)?;
    if args.dry_run {
        return out.json(&serde_json::json!({"plan": plan, "diagnostics": diagnostics}));
    }
    let results = apply(&client, &plan).await;
    print_results(&out, &plan, &results)?;
    let drifted: Vec<String> = results
        .iter()
        .filter(|r| !r.reached)
        .map(|r| {
            format!(
                "{} ({})",
                r.fid,
                r.error.clone().unwrap_or_else(|| format!("the server says {}", r.observed))
            )
        })
        .collect();
    if !drifted.is_empty() {
        bail!("{} file(s) did not become {mode}: {}", drifted.len(), drifted.join("; "));
    }
    Ok(())
}

/// Reads the selected files, the figures of plots, the grids they use and the other plots
/// that use those grids.
pub(crate) async fn gather(
    client: &Client,
    me: &str,
    fids: &[Fid],
    include_grids: bool,
) -> Result<PlanInput> {
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

/// A file's metadata, or `None` when it cannot be read (404).
async fn read(client: &Client, fid: &Fid) -> Result<Option<File>> {
    match client.send(&files::Retrieve::new(fid.clone())).await {
        Ok(file) => Ok(Some(file)),
        Err(Error::Api(err)) if err.status == http::StatusCode::NOT_FOUND => Ok(None),
        Err(err) => Err(err.into()),
    }
}

fn report_diagnostics(out: &Output, diagnostics: &[Diagnostic]) -> Result<()> {
    if out.json {
        return Ok(());
    }
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        writeln!(stderr, "note: {diagnostic}")?;
    }
    Ok(())
}

/// What happened to one planned update.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Applied {
    /// The file.
    pub fid: Fid,
    /// Whether the server now shows the target mode.
    pub reached: bool,
    /// The mode the server shows.
    pub observed: Observed,
    /// The file's link afterwards.
    pub url: String,
    /// Why the update failed, if it did.
    pub error: Option<String>,
}

/// Sends each update in order, then reads the file back until it shows its new mode, polling
/// with bounded exponential backoff (the real service sometimes lagged behind).
pub(crate) async fn apply(client: &Client, plan: &Plan) -> Vec<Applied> {
    let mut results = Vec::new();
    for step in &plan.steps {
        let applied = match client.send(&step.request).await {
            Ok(_) => verify(client, &step.fid, step.to).await,
            Err(err) => Applied {
                fid: step.fid.clone(),
                reached: false,
                observed: step.from,
                url: String::new(),
                error: Some(format!("{err:#}")),
            },
        };
        results.push(applied);
    }
    results
}

/// Reads `fid` back until it shows `target`, for a few seconds at most (waiting on the
/// injected clock).
pub(crate) async fn verify(client: &Client, fid: &Fid, target: Sharing) -> Applied {
    let clock = TokioClock::default();
    let polling = RetryPolicy {
        max_retries: 6,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
    };
    let mut delays = polling.delays();
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
            Err(err) => (None, Some(format!("{err:#}"))),
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

fn print_results(out: &Output, plan: &Plan, results: &[Applied]) -> Result<()> {
    if out.json {
        return out.json(&serde_json::json!({"plan": plan, "results": results}));
    }
    let rows: Vec<Vec<String>> = plan
        .steps
        .iter()
        .zip(results)
        .map(|(step, result)| {
            let change = format!("{} -> {}", step.from, step.to);
            let state = if result.reached {
                "done".to_owned()
            } else {
                format!("NOT DONE: server says {}", result.observed)
            };
            vec![step.fid.to_string(), step.filename.clone(), change, state, result.url.clone()]
        })
        .collect();
    if rows.is_empty() {
        return out.line(&format!("Nothing to change: everything is already {}", plan.target));
    }
    out.rows(&["FID", "NAME", "CHANGE", "RESULT", "LINK"], &rows)
}

/// `share show`: the mode, the link, who can see it, and the grids behind a plot.
async fn show(client: &Client, out: &Output, file: FileRef) -> Result<()> {
    let mut request = files::Retrieve::new(file.fid.clone());
    request.share_key = file.share_key.clone();
    let meta = client.send(&request).await?;
    let mode = Sharing::of(&meta);
    let audience = match mode {
        Observed::Known(Sharing::Public) => "anyone; it is listed publicly",
        Observed::Known(Sharing::Private) => "only the owner (and collaborators)",
        Observed::Known(Sharing::Secret) => "anyone holding the secret link; it is not listed",
        Observed::Unknown => {
            "unknown: only the owner can see the sharing settings of a file that is not public"
        }
    };
    let mut grids = Vec::new();
    if meta.filetype == FileType::Plot {
        let mut content = plots::Content::new(file.fid.clone());
        content.share_key = file.share_key.clone();
        let figure = client.send(&content).await?;
        for grid in referenced_grids(&figure) {
            let grid_mode = read(client, &grid)
                .await?
                .map_or("not readable by you".to_owned(), |g| Sharing::of(&g).to_string());
            grids.push((grid, grid_mode));
        }
    }
    if out.json {
        let grids: BTreeMap<String, String> =
            grids.into_iter().map(|(fid, mode)| (fid.to_string(), mode)).collect();
        return out.json(&serde_json::json!({
            "fid": meta.fid, "filename": meta.filename, "sharing": mode, "who_can_see": audience,
            "link": file_link(&meta), "grids": grids,
        }));
    }
    let mut rows = vec![
        vec!["fid".to_owned(), meta.fid.to_string()],
        vec!["filename".to_owned(), meta.filename.clone()],
        vec!["sharing".to_owned(), mode.to_string()],
        vec!["who can see it".to_owned(), audience.to_owned()],
        vec!["link".to_owned(), file_link(&meta)],
    ];
    rows.extend(grids.into_iter().map(|(grid, mode)| vec![format!("grid {grid}"), mode]));
    out.rows(&["FIELD", "VALUE"], &rows)
}
