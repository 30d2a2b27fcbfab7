//! Bulk runs: a plan is journaled, executed, and later resumed or undone from its journal.

use std::future::Future;
use std::path::{Path, PathBuf};

use chart_studio_bulk::{
    BackupDir, Engine, Failure, Importing, Journal, JournalState, Op, OpKind, Outcome, PlanFile,
    Progress, Report, Run, RunHeader, Stop, execute,
};

use futures_util::future::{Either, select};

use crate::Error;

/// The account and server a run works on.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// The API's address.
    pub api: &'a str,
    /// The username.
    pub user: &'a str,
}

/// A run ready to execute: its journal (held by this run) and its backup folder.
#[derive(Debug)]
pub struct Prepared {
    /// The journal, holding the plan.
    pub journal: Journal,
    /// What the run is.
    pub header: RunHeader,
    /// Where backups or exports go.
    pub backups: Option<BackupDir>,
    /// For an import run: the folder it reads, and what is imported so far.
    pub importing: Option<Importing>,
    /// Whether the run continues an earlier one.
    pub resumed: bool,
}

fn local(what: String, err: impl std::fmt::Display) -> Error {
    Error::Run(Failure::Local(format!("{what}: {err}")))
}

fn unreadable_plan(err: std::io::Error) -> Error {
    local("could not read the plan".to_owned(), err)
}

/// Starts run `command` of `plan`: opens the backup folder `dir` (a folder that is not a
/// backup is refused, before anything is written) and creates the journal at `journal`.
pub fn prepare(
    account: Account<'_>,
    command: &str,
    journal: &Path,
    dir: Option<PathBuf>,
    plan: &mut PlanFile,
) -> Result<Prepared, Error> {
    let (backups, importing) = folders(dir.as_deref(), plan.ops().map_err(unreadable_plan)?)?;
    let header = RunHeader {
        version: 1,
        command: command.to_owned(),
        api: account.api.to_owned(),
        user: account.user.to_owned(),
        dir,
        plan: None,
    };
    let journal = Journal::create(journal, &header, plan)
        .map_err(|err| local(format!("could not create the journal {}", journal.display()), err))?;
    Ok(Prepared { journal, header, backups, importing, resumed: false })
}

/// The run's folder: read by an import, added to by exports and backed-up deletes.
fn folders(
    dir: Option<&Path>,
    ops: impl Iterator<Item = std::io::Result<Op>>,
) -> Result<(Option<BackupDir>, Option<Importing>), Error> {
    let Some(dir) = dir else { return Ok((None, None)) };
    let (mut imports, mut backed_up) = (Vec::new(), Vec::new());
    for op in ops {
        let op = op.map_err(unreadable_plan)?;
        if matches!(op.kind, OpKind::Import { .. }) {
            imports.push(op.fid);
        } else if op.backs_up() {
            backed_up.push(op.fid);
        }
    }
    if !imports.is_empty() {
        return Ok((None, Some(Importing::new(dir.to_owned(), imports))));
    }
    Ok((Some(BackupDir::open(dir)?.with_companions(backed_up)), None))
}

/// Reads the journal at `path`, which must be a run of `account`.
pub fn read(account: Account<'_>, path: &Path) -> Result<JournalState, Error> {
    let state = Journal::load(path).map_err(|err| Error::Run(Failure::Local(err)))?;
    if state.header.user != account.user || state.header.api != account.api {
        return Err(Error::Refused(format!(
            "{} is a run of {} at {}, not of {} at {}; use the same account and server",
            path.display(),
            state.header.user,
            state.header.api,
            account.user,
            account.api
        )));
    }
    Ok(state)
}

/// Takes the journal at `path` to continue or undo its run: held, so that no other run can use
/// it meanwhile, then read (its plan must match its seal).
pub fn take(account: Account<'_>, path: &Path) -> Result<(Prepared, JournalState), Error> {
    let journal = Journal::open(path)
        .map_err(|err| local(format!("could not open {}", path.display()), err))?;
    let state = read(account, path)?;
    let ops = || {
        state
            .ops()
            .map_err(|err| Error::Run(Failure::Local(err)))
            .map(|ops| ops.map(|op| op.map_err(std::io::Error::other)))
    };
    let (backups, importing) = folders(state.header.dir.as_deref(), ops()?)?;
    if let Some(backups) = &backups {
        for outcome in state.outcomes.values() {
            if let Outcome::Done { written: Some(entry), .. } = outcome {
                backups.remember(&entry.fid);
            }
        }
    }
    if let Some(importing) = &importing {
        for op in ops()? {
            let op = op.map_err(unreadable_plan)?;
            if let Some(Outcome::Done { imported: Some(imported), .. }) = state.outcomes.get(&op.id)
            {
                importing.remember(&op.fid, imported);
            }
        }
    }
    let prepared =
        Prepared { journal, header: state.header.clone(), backups, importing, resumed: true };
    Ok((prepared, state))
}

/// Executes the operations of a prepared run for which `pending` holds (all of a new run; see
/// [`JournalState::is_pending`] for a resumed one) through `engine`. When `interrupted`
/// resolves (Ctrl-C), the run stops: requests in flight finish and are journaled, the rest is
/// left for a resume.
pub async fn run(
    engine: &Engine,
    prepared: &Prepared,
    pending: impl Fn(u64) -> bool,
    progress: &dyn Progress,
    interrupted: impl Future<Output = ()>,
) -> Report {
    let run = Run {
        engine,
        journal: &prepared.journal,
        progress,
        backups: prepared.backups.as_ref(),
        importing: prepared.importing.as_ref(),
        resumed: prepared.resumed,
    };
    let stop = std::pin::pin!(async {
        interrupted.await;
        engine.stop(Stop::Interrupted);
    });
    match select(std::pin::pin!(execute(&run, pending)), stop).await {
        Either::Left((report, _)) => report,
        Either::Right(((), execution)) => execution.await,
    }
}

/// Where a past run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Every operation finished (or was skipped).
    Done,
    /// Some operations are still to do: `bulk resume` continues it.
    Resumable,
    /// Its undo ran to the end.
    Undone,
    /// Its journal does not read.
    Unreadable,
}

/// A run as its journal tells it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PastRun {
    /// The journal.
    pub journal: PathBuf,
    /// The command, such as `share private`, or why the journal does not read.
    pub command: String,
    /// The account, `user@api`.
    pub account: String,
    /// Operations planned.
    pub planned: u64,
    /// Operations that took effect.
    pub done: u64,
    /// Operations whose last try failed.
    pub failed: u64,
    /// Operations still to do.
    pub pending: u64,
    /// Where it stands.
    pub state: RunState,
}

/// The runs whose journals are in `dir` (the `.jsonl` files), in name order, which is the
/// order they started in for journals named by `bulk` (`COMMAND-TIME.jsonl`). A run whose
/// undo finished is `undone`; a missing folder holds no runs.
pub fn past_runs(dir: &Path) -> Result<Vec<PastRun>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(local(format!("could not read {}", dir.display()), err)),
    };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    journals.sort();
    let mut runs: Vec<PastRun> = journals.iter().map(|path| past_run(path)).collect();
    // An undo's journal is named after the run it undoes: `RUN.undo-TIME.jsonl`.
    let undone: Vec<PathBuf> = runs
        .iter()
        .filter(|run| run.state == RunState::Done)
        .filter_map(|run| {
            let name = run.journal.file_name()?.to_str()?;
            let (undone, _) = name.split_once(".undo-")?;
            Some(run.journal.with_file_name(format!("{undone}.jsonl")))
        })
        .collect();
    for run in &mut runs {
        if run.state == RunState::Done && undone.contains(&run.journal) {
            run.state = RunState::Undone;
        }
    }
    Ok(runs)
}

/// One journal's run.
fn past_run(path: &Path) -> PastRun {
    match Journal::load(path) {
        Ok(state) => {
            let count = |failed: bool| {
                state
                    .outcomes
                    .values()
                    .filter(|outcome| match outcome {
                        Outcome::Failed { .. } => failed,
                        Outcome::Done { .. } => !failed,
                        _ => false,
                    })
                    .count() as u64
            };
            let pending = state.pending();
            PastRun {
                journal: path.to_owned(),
                command: state.header.command.clone(),
                account: format!("{}@{}", state.header.user, state.header.api),
                planned: state.planned,
                done: count(false),
                failed: count(true),
                pending,
                state: if pending == 0 { RunState::Done } else { RunState::Resumable },
            }
        }
        Err(why) => PastRun {
            journal: path.to_owned(),
            command: why,
            account: String::new(),
            planned: 0,
            done: 0,
            failed: 0,
            pending: 0,
            state: RunState::Unreadable,
        },
    }
}
