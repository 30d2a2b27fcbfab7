//! What bulk commands print: a run's summary, a plan (`--dry-run`), an import's summary, and a
//! journal (`bulk plan`).

use std::path::PathBuf;

use chart_studio_bulk::{Conflict, ImportResult, JournalState, Op, Outcome, Report, RunHeader};
use chart_studio_models::Fid;
use serde::Serialize;

use crate::output::{Human, Render};

/// A run's summary: counts per action, and each skip and failure.
#[derive(Debug, Serialize)]
pub(crate) struct RunSummary {
    /// What ran, such as `share private` or `delete`.
    pub command: String,
    /// The run's journal; `null` when there was nothing to do.
    pub journal: Option<PathBuf>,
    /// The backup folder of a delete, or an export's folder.
    pub dir: Option<PathBuf>,
    /// Counts per action.
    pub actions: Vec<ActionCount>,
    /// Each file left alone on purpose, and why.
    pub skipped: Vec<FileReason>,
    /// Each failed operation, and why.
    pub failures: Vec<FileReason>,
    /// Why the run stopped before its end (`quota`, `interrupted`, `journal`), if it did.
    pub stopped: Option<String>,
}

/// How many operations of one action ended how.
#[derive(Debug, Serialize)]
pub(crate) struct ActionCount {
    /// The action: `update`, `trash`, `restore`, `delete`, `export` or `skip`.
    pub action: String,
    /// Took effect.
    pub done: u64,
    /// Left alone on purpose.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Not started because the run stopped.
    pub not_started: u64,
}

/// A file, what was done to it, and why it did not work out.
#[derive(Debug, Serialize)]
pub(crate) struct FileReason {
    /// The file.
    pub fid: Fid,
    /// The action, for failures.
    pub action: Option<String>,
    /// Why.
    pub reason: String,
}

impl RunSummary {
    /// The summary of a run that went through the engine.
    pub(crate) fn of(
        command: &str,
        journal: PathBuf,
        dir: Option<PathBuf>,
        report: &Report,
    ) -> Self {
        Self {
            command: command.to_owned(),
            journal: Some(journal),
            dir,
            actions: report
                .actions
                .iter()
                .map(|(action, c)| ActionCount {
                    action: action.clone(),
                    done: c.done,
                    skipped: c.skipped,
                    failed: c.failed,
                    not_started: c.not_started,
                })
                .collect(),
            skipped: report
                .skipped
                .iter()
                .map(|(fid, reason)| FileReason {
                    fid: fid.clone(),
                    action: None,
                    reason: reason.clone(),
                })
                .collect(),
            failures: report
                .failures
                .iter()
                .map(|(fid, action, reason)| FileReason {
                    fid: fid.clone(),
                    action: Some(action.clone()),
                    reason: reason.clone(),
                })
                .collect(),
            stopped: report.stopped.as_ref().map(|stop| match stop {
                chart_studio_bulk::Stop::Quota => "quota".to_owned(),
                chart_studio_bulk::Stop::Interrupted => "interrupted".to_owned(),
                _ => "journal".to_owned(),
            }),
        }
    }

    /// The summary of a run with nothing to do: every planned operation is one of `skipped`.
    pub(crate) fn nothing_to_do(command: &str, skipped: &[(Fid, String)]) -> Self {
        let skipped = skipped
            .iter()
            .map(|(fid, reason)| FileReason {
                fid: fid.clone(),
                action: None,
                reason: reason.clone(),
            })
            .collect();
        Self {
            command: command.to_owned(),
            journal: None,
            dir: None,
            actions: Vec::new(),
            skipped,
            failures: Vec::new(),
            stopped: None,
        }
    }
}

impl Render for RunSummary {
    const FIELDS: &'static [&'static str] =
        &["command", "journal", "dir", "actions", "skipped", "failures", "stopped"];

    fn human(&self) -> Human {
        Human::Table {
            headers: &["ACTION", "DONE", "SKIPPED", "FAILED", "NOT STARTED"],
            rows: self
                .actions
                .iter()
                .map(|c| {
                    vec![
                        c.action.clone(),
                        c.done.to_string(),
                        c.skipped.to_string(),
                        c.failed.to_string(),
                        c.not_started.to_string(),
                    ]
                })
                .collect(),
            empty: Some(format!(
                "Nothing to {}: no file matches, or every match is skipped",
                self.command
            )),
        }
    }
}

/// A run's plan (`--dry-run`): every operation it would send, in order. Nothing was changed.
#[derive(Debug, Serialize)]
pub(crate) struct RunPlan {
    /// What would run.
    pub command: String,
    /// The API server.
    pub api: String,
    /// The account.
    pub user: String,
    /// The backup folder of a delete, an export's folder, or the folder an import reads.
    pub dir: Option<PathBuf>,
    /// The operations, in order.
    pub operations: Vec<Op>,
}

impl Render for RunPlan {
    const FIELDS: &'static [&'static str] = &["command", "api", "user", "dir", "operations"];

    fn human(&self) -> Human {
        let rows: Vec<Vec<String>> = self
            .operations
            .iter()
            .map(|op| {
                vec![
                    op.id.to_string(),
                    op.kind.name().to_owned(),
                    op.fid.to_string(),
                    op.filetype.to_string(),
                    op.filename.clone(),
                    chart_studio_workflows::plans::change(&op.kind),
                ]
            })
            .collect();

        Human::Table {
            headers: &["OP", "ACTION", "FID", "TYPE", "NAME", "CHANGE"],
            rows,
            empty: Some(format!("Nothing to {}: no file matches", self.command)),
        }
    }
}

/// An import's summary: each file with its fid on this server.
#[derive(Debug, Serialize)]
pub(crate) struct ImportSummary {
    /// The backup or export folder.
    pub dir: PathBuf,
    /// The run's journal.
    pub journal: PathBuf,
    /// Each file imported or found.
    pub files: Vec<ImportedFile>,
    /// Files not imported because their path holds other content.
    pub conflicts: Vec<Conflict>,
    /// Files left out, and why.
    pub skipped: Vec<FileReason>,
    /// Files that failed (a resume tries them again), and why.
    pub failures: Vec<FileReason>,
}

/// One file of an import.
#[derive(Debug, Serialize)]
pub(crate) struct ImportedFile {
    /// Its fid in the backup.
    pub old: Fid,
    /// Its fid on this server.
    pub new: Fid,
    /// `created`, `overwritten` (same fid, the backup's content) or `unchanged` (found with
    /// the same content).
    pub result: ImportResult,
    /// For a dashboard or presentation: the plots it shows that are not in the backup (left
    /// pointing at their old fids).
    pub missing_plots: Vec<Fid>,
}

impl ImportSummary {
    /// The summary of an import with nothing to import.
    pub(crate) fn nothing(dir: PathBuf, journal: PathBuf) -> Self {
        Self {
            dir,
            journal,
            files: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// The summary of the import run whose journal is `state`.
    pub(crate) fn of(dir: PathBuf, journal: PathBuf, state: &JournalState) -> Result<Self, String> {
        let mut summary = Self {
            dir,
            journal,
            files: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
        };
        for op in state.ops()? {
            let op = op?;
            let reason = |reason: &String| FileReason {
                fid: op.fid.clone(),
                action: Some(op.kind.name().to_owned()),
                reason: reason.clone(),
            };
            match state.outcomes.get(&op.id) {
                Some(Outcome::Done { imported: Some(imported), .. }) => {
                    summary.files.push(ImportedFile {
                        old: op.fid.clone(),
                        new: imported.new.clone(),
                        result: imported.result,
                        missing_plots: imported.missing_plots.clone(),
                    });
                }
                Some(Outcome::Conflict { conflict }) => summary.conflicts.push(conflict.clone()),
                Some(Outcome::Skipped { reason: why }) => summary.skipped.push(reason(why)),
                Some(Outcome::Failed { reason: why }) => summary.failures.push(reason(why)),
                Some(Outcome::Done { .. }) | None => {}
            }
        }
        Ok(summary)
    }
}

impl Render for ImportSummary {
    const FIELDS: &'static [&'static str] =
        &["dir", "journal", "files", "conflicts", "skipped", "failures"];

    fn human(&self) -> Human {
        let result = |result: ImportResult| {
            match result {
                ImportResult::Created => "created",
                ImportResult::Unchanged => "unchanged",
                ImportResult::Overwritten => "overwritten",
            }
            .to_owned()
        };
        Human::Table {
            headers: &["OLD", "NEW", "RESULT"],
            rows: self
                .files
                .iter()
                .map(|f| {
                    let mut said = result(f.result);
                    if !f.missing_plots.is_empty() {
                        let fids: Vec<String> =
                            f.missing_plots.iter().map(Fid::to_string).collect();
                        said.push_str(&format!("; shows {}, not in the backup", fids.join(", ")));
                    }
                    vec![f.old.to_string(), f.new.to_string(), said]
                })
                .collect(),
            empty: Some(format!("Nothing imported from {}", self.dir.display())),
        }
    }
}

/// `bulk plan JOURNAL`: a run read from its journal alone.
#[derive(Debug, Serialize)]
pub(crate) struct JournalView {
    /// The run: command, server, account, folder and plan seal.
    pub run: RunHeader,
    /// Each operation with its outcome so far (`null`: not done yet).
    pub operations: Vec<OpState>,
}

/// An operation and its outcome.
#[derive(Debug, Serialize)]
pub(crate) struct OpState {
    /// The operation.
    pub op: Op,
    /// Its outcome, if it has one.
    pub outcome: Option<Outcome>,
}

impl JournalView {
    /// The view of a loaded journal.
    pub(crate) fn of(state: JournalState) -> Result<Self, String> {
        let ops = state.ops()?;
        let mut outcomes = state.outcomes;
        let operations = ops
            .map(|op| {
                let op = op?;
                let outcome = outcomes.remove(&op.id);
                Ok(OpState { op, outcome })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { run: state.header, operations })
    }
}

impl Render for JournalView {
    const FIELDS: &'static [&'static str] = &["run", "operations"];

    fn human(&self) -> Human {
        let rows = self
            .operations
            .iter()
            .map(|OpState { op, outcome }| {
                let state = match outcome {
                    None => "pending".to_owned(),
                    Some(Outcome::Done { already_gone: true, .. }) => {
                        "done (already gone)".to_owned()
                    }
                    Some(Outcome::Done { .. }) => "done".to_owned(),
                    Some(Outcome::Skipped { reason }) => format!("skipped: {reason}"),
                    Some(Outcome::Conflict { conflict }) => {
                        format!("conflict: {} holds {}", conflict.path, conflict.found)
                    }
                    Some(Outcome::Failed { reason }) => format!("failed: {reason}"),
                };
                vec![
                    op.id.to_string(),
                    op.phase.to_string(),
                    op.kind.name().to_owned(),
                    op.fid.to_string(),
                    op.filename.clone(),
                    state,
                ]
            })
            .collect();
        Human::Table {
            headers: &["OP", "PHASE", "ACTION", "FID", "NAME", "STATE"],
            rows,
            empty: None,
        }
    }
}
