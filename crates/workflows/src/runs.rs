//! Bulk runs: a plan is journaled, executed, and later resumed or undone from its journal.
//! [`launch`] and [`resume`] are each one call for a front end: it gives the plan, a
//! confirmation callback and a progress sink, and gets the outcome back.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chart_studio_api::Client;
use chart_studio_bulk::{
    BackupDir, Engine, EngineConfig, Failure, Importing, Journal, JournalState, Op, OpKind,
    Outcome, PlanFile, PlanSummary, Progress, Report, Run, RunHeader, Stop, TokioClock, execute,
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

/// How many requests a run keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// At most this many (fewer while the server throttles).
    Fixed(usize),
    /// As many as the server answers without slowing down or throttling, found as the run
    /// goes, up to [`MAX_AUTO_JOBS`].
    Auto,
}

impl std::fmt::Display for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "{n}"),
            Self::Auto => f.write_str("auto"),
        }
    }
}

/// The most requests [`Jobs::Auto`] keeps in flight.
pub const MAX_AUTO_JOBS: usize = 64;

/// An engine over `client` that keeps `jobs` requests in flight, at most `rate` a second.
pub fn engine(client: &Client, jobs: Jobs, rate: Option<f64>) -> Engine {
    let (jobs, auto) = match jobs {
        Jobs::Fixed(jobs) => (jobs.max(1), false),
        Jobs::Auto => (MAX_AUTO_JOBS, true),
    };
    let config = EngineConfig { jobs, auto, rate, ..EngineConfig::default() };
    Engine::new(client.clone(), Arc::new(TokioClock::default()), config)
}

/// Where journals go unless the caller names one: the user's state folder
/// (`$XDG_STATE_HOME/chart-studio/runs`, by default `~/.local/state/chart-studio/runs`; the
/// local data folder where a system has no state folder), never the folder a command ran in.
pub fn runs_dir() -> PathBuf {
    dirs::state_dir().or_else(dirs::data_local_dir).map_or_else(
        || PathBuf::from("chart-studio-runs"),
        |dir| dir.join("chart-studio").join("runs"),
    )
}

/// A timestamp for file names: `YYYYMMDD-HHMMSS-PID`.
fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        std::process::id()
    )
}

/// Where a run's files go: its journal, and the folder its plan is written in while it is
/// made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPaths {
    /// The journal.
    pub journal: PathBuf,
    /// Where the plan is written while it is made: beside the journal, or the temporary
    /// folder for a dry run, which leaves nothing behind.
    pub scratch: PathBuf,
}

impl RunPaths {
    /// For a run of `command`: the `journal` given, or `COMMAND-TIME.jsonl` in [`runs_dir`].
    /// The journal's folder is made (readable by the owner only) unless this is a dry run.
    pub fn new(command: &str, journal: Option<PathBuf>, dry_run: bool) -> Result<Self, Error> {
        let given = journal.is_some();
        let journal = journal.unwrap_or_else(|| {
            runs_dir().join(format!("{}-{}.jsonl", command.replace(' ', "-"), stamp()))
        });
        Self::at(journal, given, dry_run)
    }

    /// For the undo of the run whose journal is `of`: the `journal` given, or
    /// `RUN.undo-TIME.jsonl` beside it (which [`past_runs`] reads as its undo).
    pub fn undo_of(of: &Path, journal: Option<PathBuf>, dry_run: bool) -> Result<Self, Error> {
        let given = journal.is_some();
        let journal =
            journal.unwrap_or_else(|| of.with_extension(format!("undo-{}.jsonl", stamp())));
        Self::at(journal, given, dry_run)
    }

    fn at(journal: PathBuf, given: bool, dry_run: bool) -> Result<Self, Error> {
        if dry_run {
            return Ok(Self { journal, scratch: std::env::temp_dir() });
        }
        let dir = journal
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        chart_studio_bulk::create_private_dir(&dir).map_err(|err| {
            let how = if given {
                "give --journal a file in a folder you can write"
            } else {
                "set XDG_STATE_HOME to a folder you can write, or give --journal FILE"
            };
            Error::Refused(format!(
                "could not make the folder {} for the run's journal ({err}); {how}",
                dir.display()
            ))
        })?;
        Ok(Self { journal, scratch: dir })
    }
}

/// A run to start: who and where, what it is called, its journal and folder, and its pace.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The account and server.
    pub account: Account<'a>,
    /// The client its engine sends through.
    pub client: &'a Client,
    /// The command, such as `share private`.
    pub command: &'a str,
    /// The journal to create.
    pub journal: &'a Path,
    /// Where backups or exports go, or where an import reads.
    pub dir: Option<PathBuf>,
    /// Requests in flight.
    pub jobs: Jobs,
    /// Requests per second, at most.
    pub rate: Option<f64>,
}

/// What became of a run.
#[derive(Debug)]
pub enum Ran {
    /// Nothing to do: every planned operation is a skip (the summary says why).
    Nothing(PlanSummary),
    /// It ran, to the end or until stopped.
    Ran {
        /// Its journal (held until this is dropped) and folders.
        prepared: Box<Prepared>,
        /// What it did.
        report: Report,
        /// Whether it could change what is on the server (so that it can be undone).
        changes_state: bool,
    },
}

/// Runs `plan` as `launch` says. `confirm` is given the plan's summary first and may refuse
/// (its error is returned, and nothing is journaled or sent); once it agrees it hands back the
/// future that interrupts the run (Ctrl-C, listened to from then on, so that it still ends
/// the program at a prompt). Then the plan is journaled and executed, shown through
/// `progress`, until it is done or interrupted, which stops it cleanly for a resume.
pub async fn launch<E, I>(
    launch: Launch<'_>,
    mut plan: PlanFile,
    confirm: impl FnOnce(&PlanSummary) -> Result<I, E>,
    progress: &dyn Progress,
) -> Result<Ran, E>
where
    E: From<Error>,
    I: Future<Output = ()>,
{
    if plan.summary().active() == 0 {
        return Ok(Ran::Nothing(plan.summary().clone()));
    }
    let interrupted = confirm(plan.summary())?;
    let changes_state = plan.summary().changes_state;
    let prepared = prepare(launch.account, launch.command, launch.journal, launch.dir, &mut plan)?;
    drop(plan);
    let engine = engine(launch.client, launch.jobs, launch.rate);
    let report = run(&engine, &prepared, |_| true, progress, interrupted).await;
    Ok(Ran::Ran { prepared: Box::new(prepared), report, changes_state })
}

/// What a resume did.
#[derive(Debug)]
pub enum Resumed {
    /// Every operation of the run had finished already.
    Finished {
        /// The run's command.
        command: String,
    },
    /// The operations left ran, to the end or until stopped.
    Ran {
        /// The run's command.
        command: String,
        /// Its journal (held until this is dropped) and folders.
        prepared: Box<Prepared>,
        /// What this resume did.
        report: Report,
    },
}

/// Resumes the run whose journal is `path` (a run of `account`): `starting` is told the
/// command, the operations left and the operations planned before the rest runs through
/// `client` at `jobs` requests in flight, shown through `progress`, until done or
/// `interrupted`.
pub async fn resume(
    (account, client): (Account<'_>, &Client),
    path: &Path,
    jobs: Jobs,
    starting: impl FnOnce(&str, u64, u64),
    progress: &dyn Progress,
    interrupted: impl Future<Output = ()>,
) -> Result<Resumed, Error> {
    let (prepared, state) = take(account, path)?;
    let command = state.header.command.clone();
    let pending = state.pending();
    if pending == 0 {
        return Ok(Resumed::Finished { command });
    }
    starting(&command, pending, state.planned);
    let engine = engine(client, jobs, None);
    let report = run(&engine, &prepared, |id| state.is_pending(id), progress, interrupted).await;
    Ok(Resumed::Ran { command, prepared: Box::new(prepared), report })
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
