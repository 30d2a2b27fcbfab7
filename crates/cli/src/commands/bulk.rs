//! `bulk share | trash | restore | delete | export | import | resume | undo | plan`: select, plan,
//! show the plan, confirm, then run it through the bulk engine with a journal.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chart_studio_api::Client;
use chart_studio_bulk::{Engine, Filter, OnConflict, PlanFile, PlanSummary, Progress, Report};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_sharing::{Diagnostic, Observed, Sharing};
use chart_studio_workflows::plans::{self, Planner, Selection, Undo};
use chart_studio_workflows::runs::{self, Account, Launch, Ran, Resumed, RunPaths};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::run_output::{ImportSummary, JournalView, RunPlan, RunSummary};
use super::username;
use crate::cli::{BulkCommand, FilterArgs, RunArgs};
use crate::exit::{PartialFailure, RunStopped, UsageError};
use crate::output::{Output, Printer};
use crate::settings::Settings;
use crate::waiting::{self, Spinner};

pub(super) async fn run(command: BulkCommand, settings: &Settings, out: Output) -> Result<()> {
    if let BulkCommand::Plan { journal } = &command {
        // A local file: no account or server needed to show it.
        let printer = out.of::<JournalView>()?;
        let state = chart_studio_bulk::Journal::load(journal).map_err(anyhow::Error::msg)?;
        return printer.print(&JournalView::of(state).map_err(anyhow::Error::msg)?);
    }
    if let BulkCommand::Runs { dir } = &command {
        // Local files too.
        let printer = out.of::<Vec<RunRow>>()?;
        let dir = dir.clone().unwrap_or_else(runs::runs_dir);
        let runs = runs::past_runs(&dir)?;
        if runs.is_empty() && !printer.json() {
            writeln!(std::io::stderr().lock(), "No runs in {}", dir.display())?;
        }
        return printer.print(&runs.into_iter().map(RunRow::of).collect());
    }
    let ctx = Ctx::new(settings, out)?;
    match command {
        BulkCommand::Share { mode, filter, no_grids, run } => {
            let mode = Sharing::from(mode);
            let command = format!("share {mode}");
            let paths = RunPaths::new(&command, run.journal.clone(), run.dry_run)?;
            let reader = runs::engine(&ctx.client, run.jobs, None);
            let planning = ctx.planning();
            let (plan, diagnostics) = ctx
                .planner(&reader, &paths.scratch)
                .share(&selection(&filter)?, mode, !no_grids)
                .await?;
            drop(planning);
            if !ctx.out.json {
                let mut stderr = std::io::stderr().lock();
                for diagnostic in
                    diagnostics.iter().filter(|d| !matches!(d, Diagnostic::AlreadyInMode { .. }))
                {
                    writeln!(stderr, "note: {diagnostic}")?;
                }
            }
            launch(&ctx, &command, plan, (&run, &paths), None).await
        }
        BulkCommand::Trash { filter, run } => {
            let paths = RunPaths::new("trash", run.journal.clone(), run.dry_run)?;
            let reader = runs::engine(&ctx.client, run.jobs, None);
            let planning = ctx.planning();
            let plan = ctx.planner(&reader, &paths.scratch).trash(&selection(&filter)?).await?;
            drop(planning);
            launch(&ctx, "trash", plan, (&run, &paths), None).await
        }
        BulkCommand::Restore { filter, run } => {
            let paths = RunPaths::new("restore", run.journal.clone(), run.dry_run)?;
            let reader = runs::engine(&ctx.client, run.jobs, None);
            let planning = ctx.planning();
            let plan = ctx.planner(&reader, &paths.scratch).restore(&selection(&filter)?).await?;
            drop(planning);
            launch(&ctx, "restore", plan, (&run, &paths), None).await
        }
        BulkCommand::Delete { filter, force, no_backup, backup_dir, run } => {
            delete(&ctx, &selection(&filter)?, force, no_backup, backup_dir, run).await
        }
        BulkCommand::Export { dir, images, filter, run } => {
            let paths = RunPaths::new("export", run.journal.clone(), run.dry_run)?;
            let reader = runs::engine(&ctx.client, run.jobs, None);
            let planning = ctx.planning();
            let selection = selection(&filter)?;
            let plan = ctx.planner(&reader, &paths.scratch).export(&selection, &images).await?;
            drop(planning);
            launch(&ctx, "export", plan, (&run, &paths), Some(dir)).await
        }
        BulkCommand::Import { dir, on_conflict, run } => {
            let paths = RunPaths::new("import", run.journal.clone(), run.dry_run)?;
            import_run(&ctx, dir, None, on_conflict.into(), (&run, &paths)).await
        }
        BulkCommand::Resume { journal, jobs } => resume(&ctx, &journal, jobs).await,
        BulkCommand::Undo { of, run } => undo(&ctx, &of, run).await,
        BulkCommand::Plan { .. } | BulkCommand::Runs { .. } => {
            unreachable!("shown above, without an account")
        }
    }
}

/// `files delete FID` is a delete run of one file (a folder with its contents), backed up.
pub(super) async fn delete_one(
    settings: &Settings,
    out: Output,
    fid: Fid,
    yes: bool,
) -> Result<()> {
    let ctx = Ctx::new(settings, out)?;
    let run = RunArgs { jobs: runs::Jobs::Auto, rate: None, yes, dry_run: false, journal: None };
    delete(&ctx, &Selection::Named(vec![fid]), false, false, None, run).await
}

/// Plans a delete and runs it, backing each file up into `backup_dir` (by default beside the
/// journal) unless `no_backup`.
async fn delete(
    ctx: &Ctx,
    selection: &Selection,
    force: bool,
    no_backup: bool,
    backup_dir: Option<PathBuf>,
    run: RunArgs,
) -> Result<()> {
    let paths = RunPaths::new("delete", run.journal.clone(), run.dry_run)?;
    let dir =
        (!no_backup).then(|| backup_dir.unwrap_or_else(|| paths.journal.with_extension("backup")));
    let reader = runs::engine(&ctx.client, run.jobs, None);
    let planning = ctx.planning();
    let plan = ctx.planner(&reader, &paths.scratch).delete(selection, force, dir.is_some()).await?;
    drop(planning);
    launch(ctx, "delete", plan, (&run, &paths), dir).await
}

/// What every bulk command needs.
struct Ctx {
    client: Client,
    me: String,
    api: String,
    out: Output,
}

impl Ctx {
    /// The configured account and its server (credentials required).
    fn new(settings: &Settings, out: Output) -> Result<Self> {
        let me = username(settings)?;
        let client = settings.client()?;
        Ok(Self { api: client.config().api_base().to_string(), client, me, out })
    }

    /// The account and server.
    fn account(&self) -> Account<'_> {
        Account { api: &self.api, user: &self.me }
    }

    /// A spinner while a plan is made (at a terminal).
    fn planning(&self) -> Spinner {
        Spinner::new(
            waiting::shown(&self.out),
            format!("Planning: reading the files of {}", self.me),
        )
    }

    /// Plans runs over the account, reading through `reader` and writing plans in `scratch`.
    fn planner<'a>(&'a self, reader: &'a Engine, scratch: &'a Path) -> Planner<'a> {
        Planner { engine: reader, me: &self.me, scratch }
    }
}

/// The filter the options describe.
fn filter_of(args: &FilterArgs) -> Result<Filter> {
    let time = |name: &str, text: &Option<String>| -> Result<Option<OffsetDateTime>> {
        text.as_deref()
            .map(|text| {
                OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                    UsageError(format!(
                        "--{name} {text:?} is not an RFC 3339 time such as 2024-01-31T00:00:00Z"
                    ))
                    .into()
                })
            })
            .transpose()
    };
    let name = args
        .name
        .as_deref()
        .map(|glob| {
            glob::Pattern::new(glob).map_err(|err| UsageError(format!("--name {glob:?}: {err}")))
        })
        .transpose()?;
    let mode = args.current_sharing.map(Sharing::from);
    Ok(Filter {
        filetypes: args.filetype.iter().map(|kind| FileType::from(*kind)).collect(),
        folder: args.folder.as_deref().map(chart_studio_bulk::normalise_path),
        name,
        created_before: time("created-before", &args.created_before)?,
        created_after: time("created-after", &args.created_after)?,
        modified_before: time("modified-before", &args.modified_before)?,
        modified_after: time("modified-after", &args.modified_after)?,
        min_views: args.min_views,
        max_views: args.max_views,
        matches: mode.map(|mode| {
            Arc::new(move |file: &File| Sharing::of(file) == Observed::Known(mode)) as _
        }),
    })
}

/// The fids listed in a file (or stdin), one per line; blank lines and `#` comments are skipped.
fn read_fids(path: &Path) -> Result<Vec<Fid>> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).context("could not read fids from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
    }
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| {
            crate::cli::fid_or_link(line).map_err(|err| {
                UsageError(format!("{} line {}: {err}", path.display(), number + 1)).into()
            })
        })
        .collect()
}

/// The selection the options describe.
fn selection(args: &FilterArgs) -> Result<Selection> {
    Ok(match &args.fids {
        Some(path) => Selection::Named(read_fids(path)?),
        None => Selection::Matching(filter_of(args)?),
    })
}

/// Shows the plan, asks, journals it and runs it, then prints its summary.
async fn launch(
    ctx: &Ctx,
    command: &str,
    plan: PlanFile,
    (run, paths): (&RunArgs, &RunPaths),
    dir: Option<PathBuf>,
) -> Result<()> {
    if run.dry_run {
        return print_plan(ctx, command, plan, dir);
    }
    let printer = ctx.out.of::<RunSummary>()?;
    match start(ctx, command, plan, (run, paths), dir).await? {
        Ran::Nothing(summary) => {
            show_summary(&printer, &RunSummary::nothing_to_do(command, &summary.skipped))
        }
        Ran::Ran { prepared, report, changes_state } => {
            let dir = prepared.backups.as_ref().map(|backups| backups.path().to_owned());
            let journal = prepared.journal.path().to_owned();
            show_summary(&printer, &RunSummary::of(command, journal.clone(), dir, &report))?;
            if changes_state && report.totals().done > 0 && !printer.json() {
                let journal = journal.display();
                writeln!(std::io::stderr().lock(), "undo with `chart-studio bulk undo {journal}`")?;
            }
            verdict(&report, journal)
        }
    }
}

/// The run of `plan` through the workflow: the plan shown on stderr, a confirmation when it
/// changes what is on the server, the journal named, a progress bar, Ctrl-C listened to.
async fn start(
    ctx: &Ctx,
    command: &str,
    plan: PlanFile,
    (run, paths): (&RunArgs, &RunPaths),
    dir: Option<PathBuf>,
) -> Result<Ran> {
    let shown_dir = dir.clone();
    let confirmed = |summary: &PlanSummary| -> Result<_> {
        show_plan(command, summary, shown_dir.as_deref())?;
        if summary.changes_state {
            confirm(run.yes, command, summary.active())?;
        }
        let interrupted = ctrl_c()?;
        let journal = paths.journal.display();
        writeln!(
            std::io::stderr().lock(),
            "journal: {journal} (resume with `chart-studio bulk resume {journal}`)"
        )?;
        Ok(interrupted)
    };
    let launch = Launch {
        account: ctx.account(),
        client: &ctx.client,
        command,
        journal: &paths.journal,
        dir,
        jobs: run.jobs,
        rate: run.rate,
    };
    runs::launch(launch, plan, confirmed, &Bar::new(ctx.out.json)).await
}

/// `--dry-run`: the plan, and nothing sent that changes anything.
fn print_plan(ctx: &Ctx, command: &str, mut plan: PlanFile, dir: Option<PathBuf>) -> Result<()> {
    let printer = ctx.out.of::<RunPlan>()?;
    let operations = plan.ops()?.collect::<std::io::Result<_>>()?;
    let folder = dir.as_deref().map(|dir| folder_note(command, dir));
    printer.print(&RunPlan {
        command: command.to_owned(),
        api: ctx.api.clone(),
        user: ctx.me.clone(),
        dir,
        operations,
    })?;
    if !printer.json() {
        let mut stderr = std::io::stderr().lock();
        if let Some(folder) = folder {
            writeln!(stderr, "{folder}")?;
        }
        writeln!(stderr, "Dry run: nothing was sent; run it again without --dry-run to do it.")?;
    }
    Ok(())
}

/// What the folder of a run holds, in words.
fn folder_note(command: &str, dir: &Path) -> String {
    let dir = dir.display();
    match command {
        "delete" => format!("Backups go to {dir}"),
        "import" => format!("Files come from {dir}"),
        _ => format!("Files go to {dir}"),
    }
}

/// The exit of a finished run: interrupted or stopped at the quota, some operations failed, or
/// success.
fn verdict(report: &Report, journal: PathBuf) -> Result<()> {
    if let Some(why) = &report.stopped {
        return Err(RunStopped { why: why.clone(), journal }.into());
    }
    if report.has_failures() {
        return Err(PartialFailure { failed: report.totals().failed, journal }.into());
    }
    Ok(())
}

/// Imports a backup or export folder (only the files `only` names, if given) as a journaled
/// run, then prints each file with its new fid.
async fn import_run(
    ctx: &Ctx,
    dir: PathBuf,
    only: Option<&BTreeSet<Fid>>,
    on_conflict: OnConflict,
    (run, paths): (&RunArgs, &RunPaths),
) -> Result<()> {
    let ops = chart_studio_bulk::import_ops(&dir, only, on_conflict)?;
    let plan = PlanFile::of(&paths.scratch, ops)?;
    if run.dry_run {
        return print_plan(ctx, "import", plan, Some(dir));
    }
    let printer = ctx.out.of::<ImportSummary>()?;
    let (journal, report) =
        match start(ctx, "import", plan, (run, paths), Some(dir.clone())).await? {
            Ran::Nothing(_) => {
                return show_import(&printer, ImportSummary::nothing(dir, paths.journal.clone()));
            }
            Ran::Ran { prepared, report, .. } => (prepared.journal.path().to_owned(), report),
        };
    let state = chart_studio_bulk::Journal::load(&journal).map_err(anyhow::Error::msg)?;
    let summary = ImportSummary::of(dir, journal.clone(), &state).map_err(anyhow::Error::msg)?;
    show_import(&printer, summary)?;
    verdict(&report, journal)
}

/// Listens for Ctrl-C from now on: a run takes it over before it says it started, so that a
/// Ctrl-C at any moment after that stops it cleanly instead of killing the process.
fn ctrl_c() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupts =
            signal(SignalKind::interrupt()).context("could not listen for Ctrl-C")?;
        Ok(async move {
            if interrupts.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

/// Counts by action and type, the first files with what changes, and where the run's folder
/// is, on stderr.
fn show_plan(command: &str, summary: &PlanSummary, dir: Option<&Path>) -> Result<()> {
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "Plan for `{command}`:")?;
    for ((action, kind), count) in &summary.counts {
        writeln!(stderr, "  {action:<8} {count:>6} {kind}")?;
    }
    for op in &summary.first {
        let change = plans::change(&op.kind);
        writeln!(stderr, "    {} {} {:?}: {change}", op.kind.name(), op.fid, op.filename)?;
    }
    let more = summary.ops - summary.first.len() as u64;
    if more > 0 {
        writeln!(stderr, "    … and {more} more")?;
    }
    if let Some(dir) = dir {
        writeln!(stderr, "  {}", folder_note(command, dir))?;
    }
    Ok(())
}

/// `--yes`, or a typed `yes` on a terminal.
fn confirm(yes: bool, command: &str, count: u64) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(UsageError(format!("refusing to {command} {count} file(s) without confirmation; pass --yes, or --dry-run to see the plan")).into());
    }
    write!(std::io::stderr().lock(), "{command} {count} file(s)? [y/N] ")?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

/// Prints a run's summary; without `--json`, its skips and failures go to stderr too.
fn show_summary(printer: &Printer<RunSummary>, summary: &RunSummary) -> Result<()> {
    if !printer.json() {
        let mut stderr = std::io::stderr().lock();
        if let Some(dir) = &summary.dir {
            writeln!(stderr, "folder: {}", dir.display())?;
        }
        for skip in &summary.skipped {
            writeln!(stderr, "skipped {}: {}", skip.fid, skip.reason)?;
        }
        for failure in &summary.failures {
            let action = failure.action.as_deref().unwrap_or_default();
            writeln!(stderr, "failed {action} {}: {}", failure.fid, failure.reason)?;
        }
    }
    printer.print(summary)
}

async fn resume(ctx: &Ctx, path: &Path, jobs: runs::Jobs) -> Result<()> {
    let printer = ctx.out.of::<RunSummary>()?;
    let starting = |command: &str, pending: u64, planned: u64| {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "resuming `{command}`: {pending} of {planned} operations left");
    };
    let progress = Bar::new(ctx.out.json);
    let account = (ctx.account(), &ctx.client);
    match runs::resume(account, path, jobs, starting, &progress, ctrl_c()?).await? {
        Resumed::Finished { command } => {
            let nothing = format!("resume: every operation of `{command}` finished");
            show_summary(&printer, &RunSummary::nothing_to_do(&nothing, &[]))
        }
        Resumed::Ran { command, prepared, report } => {
            let dir = prepared.backups.as_ref().map(|backups| backups.path().to_owned());
            let journal = prepared.journal.path().to_owned();
            show_summary(&printer, &RunSummary::of(&command, journal.clone(), dir, &report))?;
            verdict(&report, journal)
        }
    }
}

/// Undoes a run, holding its journal so that it cannot be resumed meanwhile: sharing changes
/// and trash are reverted through a new run; the files a delete removed are imported from its
/// backup.
async fn undo(ctx: &Ctx, of: &Path, run: RunArgs) -> Result<()> {
    let (_held, state) = runs::take(ctx.account(), of)?;
    let paths = RunPaths::undo_of(of, run.journal.clone(), run.dry_run)?;
    match plans::undo(&state)? {
        Undo::Reimport { dir, fids } => {
            import_run(ctx, dir, Some(&fids), OnConflict::Skip, (&run, &paths)).await
        }
        Undo::Revert { ops, relinked } => {
            // Bad --json fields are refused before anything is said or done.
            if run.dry_run {
                ctx.out.of::<RunPlan>()?;
            } else {
                ctx.out.of::<RunSummary>()?;
            }
            if !relinked.is_empty() {
                writeln!(
                    std::io::stderr().lock(),
                    "note: {} file(s) become secret again; the server issues new secret links (the old ones stay dead)",
                    relinked.len()
                )?;
            }
            let command = format!("undo of {}", state.header.command);
            let plan = PlanFile::of(&paths.scratch, ops)?;
            launch(ctx, &command, plan, (&run, &paths), None).await?;
            if !run.dry_run {
                for (fid, link) in plans::secret_links(&ctx.client, &relinked).await? {
                    writeln!(std::io::stderr().lock(), "new secret link of {fid}: {link}")?;
                }
            }
            Ok(())
        }
    }
}

/// Prints an import's summary; without `--json`, its conflicts and skips go to stderr too.
fn show_import(printer: &Printer<ImportSummary>, summary: ImportSummary) -> Result<()> {
    if !printer.json() {
        let mut stderr = std::io::stderr().lock();
        for conflict in &summary.conflicts {
            writeln!(
                stderr,
                "conflict: {} not imported: {} holds {} with other content; left as it is (--on-conflict overwrite replaces it)",
                conflict.fid, conflict.path, conflict.found
            )?;
        }
        for skip in &summary.skipped {
            writeln!(stderr, "note: {} skipped: {}", skip.fid, skip.reason)?;
        }
    }
    printer.print(&summary)
}

/// A progress bar on stderr, shown only on a terminal (and never with --json).
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(json: bool) -> Self {
        let visible = !json && std::io::stderr().is_terminal();
        let bar = if visible {
            waiting::lines().add(indicatif::ProgressBar::new(0))
        } else {
            indicatif::ProgressBar::hidden()
        };
        // Files per second, whole: indicatif's own `{per_sec}` prints four decimals.
        let style =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {rate} eta {eta} {msg}")
                .map(|style| {
                    style.with_key(
                        "rate",
                        |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                            let _ = write!(out, "{:.0}/s", state.per_sec());
                        },
                    )
                });
        if let Ok(style) = style {
            bar.set_style(style);
        }
        Self(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }

    fn advance(&self, label: &str) {
        self.0.set_message(label.to_owned());
        self.0.inc(1);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// `bulk runs`: one past run.
#[derive(Debug, serde::Serialize)]
pub(crate) struct RunRow {
    /// Its journal.
    journal: PathBuf,
    /// The command (or why its journal does not read).
    command: String,
    /// When its journal last changed, RFC 3339.
    modified: Option<String>,
    /// `user@api`.
    account: String,
    /// Operations planned, done, failed and still to do.
    planned: u64,
    done: u64,
    failed: u64,
    pending: u64,
    /// `done`, `resumable`, `undone` or `unreadable`.
    state: runs::RunState,
}

impl RunRow {
    fn of(run: runs::PastRun) -> Self {
        let modified = std::fs::metadata(&run.journal)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|time| OffsetDateTime::from(time).format(&Rfc3339).ok());
        Self {
            journal: run.journal,
            command: run.command,
            modified,
            account: run.account,
            planned: run.planned,
            done: run.done,
            failed: run.failed,
            pending: run.pending,
            state: run.state,
        }
    }
}

impl crate::output::Row for RunRow {
    const FIELDS: &'static [&'static str] = &[
        "journal", "command", "modified", "account", "planned", "done", "failed", "pending",
        "state",
    ];
    const HEADERS: &'static [&'static str] =
        &["JOURNAL", "COMMAND", "MODIFIED", "DONE", "FAILED", "PENDING", "STATE"];

    fn cells(&self) -> Vec<String> {
        let state =
            serde_json::to_value(self.state).ok().and_then(|v| v.as_str().map(str::to_owned));
        vec![
            self.journal.display().to_string(),
            self.command.clone(),
            self.modified.clone().unwrap_or_default(),
            self.done.to_string(),
            self.failed.to_string(),
            self.pending.to_string(),
            state.unwrap_or_default(),
        ]
    }
}
