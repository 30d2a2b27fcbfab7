//! `share FID... MODE` and `share show FID`: plan with the sharing engine, apply the updates,
//! read every file back, and report files whose mode did not take.

use std::io::Write;

use anyhow::{Result, bail};
use chart_studio_bulk::TokioClock;
use chart_studio_models::{Fid, FileType};
use chart_studio_sharing::{Diagnostic, Observed, Sharing};
use chart_studio_workflows::share::{self, SharingView};
use serde::Serialize;

use super::username;
use crate::cli::{ShareArgs, ShareCommand, file_ref};
use crate::exit::UsageError;
use crate::output::{Human, Output, Render, cell};
use crate::settings::Settings;

/// `share`: each file whose mode changes (a plot's grids included), planned or done.
#[derive(Debug, Serialize)]
pub(crate) struct ShareReport {
    /// The mode asked for.
    mode: Sharing,
    /// Only planned (`--dry-run`): nothing was changed.
    dry_run: bool,
    /// The changes, in the order they are made.
    changes: Vec<ShareChange>,
    /// What the planner noticed: files already in the mode, grids left as they are, ...
    notes: Vec<Diagnostic>,
}

/// One file's change.
#[derive(Debug, Serialize)]
pub(crate) struct ShareChange {
    /// The file.
    fid: Fid,
    /// Its type.
    filetype: FileType,
    /// Its name.
    filename: String,
    /// Its mode before.
    from: Observed,
    /// Its mode after.
    to: Sharing,
    /// The update sent (`PATCH /v2/files/FID` with these changes).
    request: chart_studio_api::files::Update,
    /// `planned`, `done`, or `not done` (the server shows another mode, or refused).
    result: &'static str,
    /// The mode the server shows afterwards (not for a plan).
    observed: Option<Observed>,
    /// The file's link afterwards: the secret link of a secret file (not for a plan).
    link: Option<String>,
    /// Why the change failed, if it did.
    error: Option<String>,
}

impl Render for ShareReport {
    const FIELDS: &'static [&'static str] = &["mode", "dry_run", "changes", "notes"];

    fn human(&self) -> Human {
        let rows = self
            .changes
            .iter()
            .map(|change| {
                let result = match (&change.observed, &change.error) {
                    (_, Some(error)) => format!("{}: {error}", change.result),
                    (Some(observed), None) if change.result == "not done" => {
                        format!("not done: the server says {observed}")
                    }
                    _ => change.result.to_owned(),
                };
                vec![
                    change.fid.to_string(),
                    change.filename.clone(),
                    format!("{} -> {}", change.from, change.to),
                    result,
                    cell(change.link.as_ref()),
                ]
            })
            .collect();
        Human::Table {
            headers: &["FID", "NAME", "CHANGE", "RESULT", "LINK"],
            rows,
            empty: Some(format!("Nothing to change: everything is already {}", self.mode)),
        }
    }
}

/// `share show`: FIELD / VALUE rows, one per grid of a plot too.
impl Render for SharingView {
    const FIELDS: &'static [&'static str] =
        &["fid", "filename", "sharing", "who_can_see", "link", "grids"];

    fn human(&self) -> Human {
        let mut rows = vec![
            vec!["fid".to_owned(), self.fid.to_string()],
            vec!["filename".to_owned(), self.filename.clone()],
            vec!["sharing".to_owned(), self.sharing.to_string()],
            vec!["who can see it".to_owned(), self.who_can_see.to_owned()],
            vec!["link".to_owned(), self.link.clone()],
        ];
        rows.extend(self.grids.iter().map(|(grid, mode)| {
            let mode = mode.map_or_else(|| "not readable by you".to_owned(), |m| m.to_string());
            vec![format!("grid {grid}"), mode]
        }));
        Human::Table { headers: &["FIELD", "VALUE"], rows, empty: None }
    }
}

pub(super) async fn run(args: ShareArgs, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    if let Some(ShareCommand::Show { file }) = args.command {
        let printer = out.of::<SharingView>()?;
        let fid = file.fid(&client).await?;
        return printer.print(&share::describe(&client, &fid, file.share_key).await?);
    }
    let (mode, targets) = match mode_and_files(&args.args)? {
        Wanted::Show(file) => {
            // `share FILE` alone shows who can see it, as `share show FILE` does.
            let printer = out.of::<SharingView>()?;
            let file = file_ref(file).map_err(UsageError)?;
            let fid = file.fid(&client).await?;
            return printer.print(&share::describe(&client, &fid, file.share_key).await?);
        }
        Wanted::Change { mode, files, old_order } => {
            if old_order && !out.json {
                writeln!(
                    std::io::stderr().lock(),
                    "note: the mode comes first now, as in bulk share: share {mode} FILE..."
                )?;
            }
            (mode, files)
        }
    };
    let printer = out.of::<ShareReport>()?;
    let me = username(settings)?;
    let mut fids = Vec::new();
    for text in targets {
        fids.push(file_ref(text).map_err(UsageError)?.fid(&client).await?);
    }
    let (plan, notes) = share::plan_change(&client, &me, &fids, mode, !args.no_grids).await?;
    if !printer.json() {
        let mut stderr = std::io::stderr().lock();
        for note in &notes {
            writeln!(stderr, "note: {note}")?;
        }
    }
    let planned = plan.steps.iter().map(|step| ShareChange {
        fid: step.fid.clone(),
        filetype: step.filetype.clone(),
        filename: step.filename.clone(),
        from: step.from,
        to: step.to,
        request: step.request.clone(),
        result: "planned",
        observed: None,
        link: None,
        error: None,
    });
    if args.dry_run {
        let changes = named_first(planned.collect(), &fids);
        return printer.print(&ShareReport { mode, dry_run: true, changes, notes });
    }
    let results = share::apply(&client, &TokioClock::default(), &plan).await;
    let changes: Vec<ShareChange> = planned
        .zip(results)
        .map(|(change, applied)| ShareChange {
            result: if applied.reached { "done" } else { "not done" },
            observed: Some(applied.observed),
            link: Some(applied.url),
            error: applied.error,
            ..change
        })
        .collect();
    let changes = named_first(changes, &fids);
    let drifted: Vec<String> = changes
        .iter()
        .filter(|change| change.result != "done")
        .map(|change| {
            let why = change.error.clone().unwrap_or_else(|| {
                format!("the server says {}", change.observed.unwrap_or(Observed::Unknown))
            });
            format!("{} ({why})", change.fid)
        })
        .collect();
    printer.print(&ShareReport { mode, dry_run: false, changes, notes })?;
    if !drifted.is_empty() {
        bail!("{} file(s) did not become {mode}: {}", drifted.len(), drifted.join("; "));
    }
    Ok(())
}

/// What `share ARGS...` asks for.
enum Wanted<'a> {
    /// Who can see one file.
    Show(&'a str),
    /// A change of mode for some files; `old_order` when the mode came last.
    Change { mode: Sharing, files: &'a [String], old_order: bool },
}

/// The mode comes first, as in `bulk share`; the old order (files, then the mode) still works.
fn mode_and_files(args: &[String]) -> Result<Wanted<'_>> {
    let mode = |text: &String| text.parse::<Sharing>().ok();
    match args {
        [] => {
            Err(UsageError("give a mode and files: share public|private|secret FILE...".to_owned())
                .into())
        }
        [file] if mode(file).is_none() => Ok(Wanted::Show(file)),
        [only] => {
            Err(UsageError(format!("which files should become {only}? share {only} FILE..."))
                .into())
        }
        [first, files @ ..] if mode(first).is_some() => Ok(Wanted::Change {
            mode: mode(first).unwrap_or(Sharing::Private),
            files,
            old_order: false,
        }),
        [files @ .., last] if mode(last).is_some() => Ok(Wanted::Change {
            mode: mode(last).unwrap_or(Sharing::Private),
            files,
            old_order: true,
        }),
        _ => Err(UsageError("give the mode first: share public|private|secret FILE...".to_owned())
            .into()),
    }
}

/// The changes with the files the user named first, in their order, then the files that follow
/// them (a plot's grids), so that `.changes[0]` is the first file named.
fn named_first(mut changes: Vec<ShareChange>, named: &[Fid]) -> Vec<ShareChange> {
    changes.sort_by_key(|change| {
        named.iter().position(|fid| *fid == change.fid).unwrap_or(usize::MAX)
    });
    changes
}
