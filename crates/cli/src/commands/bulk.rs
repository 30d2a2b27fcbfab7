//! `bulk share | trash | restore | delete | export | import | resume | undo | plan`: select, plan,
//! show the plan, confirm, then run it through the bulk engine with a journal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chart_studio_api::{Client, files};
use chart_studio_bulk::{
    BackupDir, DeleteRules, Engine, EngineConfig, Filter, Imported, Journal, JournalState, Op,
    OpKind, Outcome, PlotGrids, Progress, Report, Run, RunHeader, Selected, Stop, TokioClock,
    delete_ops, execute, export_ops, grid_users, import, plot_grids, restore_ops, select,
    select_fids, trash_ops, undo_ops, with_subtrees,
};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_sharing::{Observed, PlanInput, Sharing, plan};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::username;
use crate::cli::{BulkCommand, FileTypeArg, FilterArgs, RunArgs, file_ref};
use crate::exit::{PartialFailure, RunStopped, UsageError};
use crate::output::{Output, file_link};
use crate::settings::Settings;

/// Files shown in a plan before a confirmation.
const SHOWN: usize = 10;

pub(super) async fn run(command: BulkCommand, settings: &Settings, out: Output) -> Result<()> {
    let me = username(settings)?;
    let client = settings.client()?;
    let lister = engine(&client, 1, None);
    let ctx = Ctx { api: client.config().api_base().to_string(), client, me, out, lister };
    match command {
        BulkCommand::Share { mode, filter, no_grids, run } => {
            let mode = Sharing::from(mode);
            let everything = list(&ctx, false).await?;
            let chosen = choose(&ctx, &filter, &everything).await?;
            let ops = share_ops(&ctx, &everything, &chosen, mode, !no_grids, run.jobs).await?;
            launch(&ctx, &format!("share {mode}"), ops, &run, None).await
        }
        BulkCommand::Trash { filter, run } => {
            let everything = list(&ctx, false).await?;
            let chosen = with_subtrees(choose(&ctx, &filter, &everything).await?, &everything);
            launch(&ctx, "trash", trash_ops(&chosen), &run, None).await
        }
        BulkCommand::Restore { filter, run } => {
            let trash = list(&ctx, true).await?;
            let chosen = with_subtrees(choose(&ctx, &filter, &trash).await?, &trash);
            launch(&ctx, "restore", restore_ops(&chosen), &run, None).await
        }
        BulkCommand::Delete { filter, force, no_backup, backup_dir, run } => {
            let journal = journal_path(&run, "delete");
            let dir = (!no_backup)
                .then(|| backup_dir.unwrap_or_else(|| journal.with_extension("backup")));
            let ops = delete_plan(&ctx, &filter, force, dir.is_some(), run.jobs).await?;
            launch(&ctx, "delete", ops, &RunArgs { journal: Some(journal), ..run }, dir).await
        }
        BulkCommand::Export { dir, filter, run } => {
            let everything = list(&ctx, false).await?;
            let chosen = with_subtrees(choose(&ctx, &filter, &everything).await?, &everything);
            launch(&ctx, "export", export_ops(&chosen), &run, Some(dir)).await
        }
        BulkCommand::Import { dir, jobs } => {
            let engine = engine(&ctx.client, jobs, None);
            let imported = import(&engine, &dir, None).await?;
            show_import(&ctx, &imported)
        }
        BulkCommand::Resume { journal, jobs } => resume(&ctx, &journal, jobs).await,
        BulkCommand::Undo { of, run } => undo(&ctx, &of, run).await,
        BulkCommand::Plan { journal } => show_journal(&ctx, &journal),
    }
}

/// What every bulk command needs.
struct Ctx {
    client: Client,
    me: String,
    api: String,
    out: Output,
    /// Lists and reads files for selections, with retries.
    lister: Engine,
}

fn engine(client: &Client, jobs: usize, rate: Option<f64>) -> Engine {
    let config = EngineConfig { jobs: jobs.max(1), rate, ..EngineConfig::default() };
    Engine::new(client.clone(), Arc::new(TokioClock::default()), config)
}

/// A timestamp for file names.
fn stamp() -> String {
    let now = OffsetDateTime::now_utc();
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

fn journal_path(run: &RunArgs, command: &str) -> PathBuf {
    run.journal.clone().unwrap_or_else(|| {
        PathBuf::from("chart-studio-runs").join(format!("{command}-{}.jsonl", stamp()))
    })
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
        filetypes: args.filetype.iter().map(|kind| file_type(*kind)).collect(),
        folder: args.folder.clone(),
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

fn file_type(kind: FileTypeArg) -> FileType {
    match kind {
        FileTypeArg::Plot => FileType::Plot,
        FileTypeArg::Grid => FileType::Grid,
        FileTypeArg::Fold => FileType::Folder,
        FileTypeArg::Dashboard => FileType::Dashboard,
    }
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
            file_ref(line).map(|file| file.fid).map_err(|err| {
                UsageError(format!("{} line {}: {err}", path.display(), number + 1)).into()
            })
        })
        .collect()
}

/// Every file of the account, or every file in its trash.
async fn list(ctx: &Ctx, trashed: bool) -> Result<Vec<Selected>> {
    Ok(select(&ctx.lister, &ctx.me, &Filter::default(), trashed).await?)
}

/// The files the options choose from `listed`, or those named in `--fids`.
async fn choose(ctx: &Ctx, args: &FilterArgs, listed: &[Selected]) -> Result<Vec<Selected>> {
    if let Some(path) = &args.fids {
        return Ok(select_fids(&ctx.lister, &ctx.me, &read_fids(path)?).await?);
    }
    let filter = filter_of(args)?;
    Ok(listed.iter().filter(|s| filter.accepts(&s.file, &s.path)).cloned().collect())
}

/// The sharing engine's plan as operations, each with the update that undoes it. A plot's
/// grids, and the other plots using them, are found in the figures of the account's plots.
async fn share_ops(
    ctx: &Ctx,
    everything: &[Selected],
    chosen: &[Selected],
    mode: Sharing,
    include_grids: bool,
    jobs: usize,
) -> Result<Vec<Op>> {
    let mut grids_of = PlotGrids::new();
    if include_grids {
        let reader = engine(&ctx.client, jobs, None);
        grids_of = plot_grids(&reader, everything.iter().map(|s| &s.file)).await?;
    }
    let mode_of: BTreeMap<&Fid, Observed> =
        everything.iter().map(|s| (&s.file.fid, Sharing::of(&s.file))).collect();
    let grid_users = grid_users(&grids_of)
        .into_iter()
        .map(|(grid, plots)| {
            let users = plots
                .into_iter()
                .map(|plot| {
                    let mode = mode_of.get(&plot).copied().unwrap_or(Observed::Unknown);
                    (plot, mode)
                })
                .collect();
            (grid, users)
        })
        .collect();
    let input = PlanInput {
        me: ctx.me.clone(),
        files: chosen
            .iter()
            .map(|s| (s.file.clone(), grids_of.get(&s.file.fid).cloned()))
            .collect(),
        grids: everything
            .iter()
            .filter(|s| s.file.filetype == FileType::Grid)
            .map(|s| (s.file.fid.clone(), s.file.clone()))
            .collect(),
        grid_users,
        include_grids,
    };
    let (plan, diagnostics) = plan(&input, mode);
    if !ctx.out.json {
        let mut stderr = std::io::stderr().lock();
        let shown = diagnostics
            .iter()
            .filter(|d| !matches!(d, chart_studio_sharing::Diagnostic::AlreadyInMode { .. }));
        for diagnostic in shown {
            writeln!(stderr, "note: {diagnostic}")?;
        }
    }
    let by_fid: BTreeMap<&Fid, &File> =
        everything.iter().chain(chosen).map(|s| (&s.file.fid, &s.file)).collect();
    Ok(plan
        .steps
        .into_iter()
        .enumerate()
        .filter_map(|(id, step)| {
            let file = by_fid.get(&step.fid).copied()?;
            Some(Op::of(
                id as u64,
                step.phase,
                file,
                OpKind::Update { request: step.request, undo: step.undo },
            ))
        })
        .collect())
}

/// The delete's operations: the chosen files with everything inside chosen folders (files in
/// the trash included, since a folder's permanent delete removes them too), and the grids'
/// users found in the figures of the plots that stay.
async fn delete_plan(
    ctx: &Ctx,
    filter: &FilterArgs,
    force: bool,
    backup: bool,
    jobs: usize,
) -> Result<Vec<Op>> {
    let mut account = list(ctx, false).await?;
    let chosen = choose(ctx, filter, &account).await?;
    let mut rules = DeleteRules { force, backup, ..DeleteRules::default() };
    match list(ctx, true).await {
        Ok(trash) => account.extend(trash),
        Err(err) => {
            rules.folders_refused = Some(format!(
                "the trash could not be listed ({err:#}), so what the folder holds there could not be backed up"
            ));
        }
    }
    let selection = with_subtrees(chosen, &account);
    let selected: BTreeSet<&Fid> = selection.iter().map(|s| &s.file.fid).collect();
    if selection.iter().any(|s| s.file.filetype == FileType::Grid) {
        let reader = engine(&ctx.client, jobs, None);
        let staying = account.iter().map(|s| &s.file).filter(|f| !selected.contains(&f.fid));
        rules.grid_users = grid_users(&plot_grids(&reader, staying).await?);
    }
    Ok(delete_ops(&selection, &rules))
}

/// Shows the plan, asks, journals it and runs it.
async fn launch(
    ctx: &Ctx,
    command: &str,
    ops: Vec<Op>,
    run: &RunArgs,
    dir: Option<PathBuf>,
) -> Result<()> {
    if run.dry_run {
        return ctx.out.json(&serde_json::json!({"command": command, "api": ctx.api, "user": ctx.me, "dir": dir, "operations": ops}));
    }
    let active = ops.iter().filter(|op| !matches!(op.kind, OpKind::Skip { .. })).count();
    if active == 0 {
        let mut stderr = std::io::stderr().lock();
        for op in &ops {
            if let OpKind::Skip { reason } = &op.kind {
                writeln!(stderr, "skipped {}: {reason}", op.fid)?;
            }
        }
        return ctx
            .out
            .line(&format!("Nothing to {command}: no file matches, or every match is skipped"));
    }
    show_plan(command, &ops)?;
    confirm(run.yes, command, active)?;
    // A folder that is not a backup is refused before anything is journaled or changed.
    let backups = dir.as_deref().map(BackupDir::open).transpose()?;
    let path = journal_path(run, &command.replace(' ', "-"));
    let header = RunHeader {
        version: 1,
        command: command.to_owned(),
        api: ctx.api.clone(),
        user: ctx.me.clone(),
        dir,
        plan: None,
    };
    let journal = Journal::create(&path, &header, &ops)
        .with_context(|| format!("could not create the journal {}", path.display()))?;
    writeln!(
        std::io::stderr().lock(),
        "journal: {} (resume with `chart-studio bulk resume {}`)",
        path.display(),
        path.display()
    )?;
    let engine = engine(&ctx.client, run.jobs, run.rate);
    let run = Run {
        engine: &engine,
        journal: &journal,
        progress: &Bar::new(ctx.out.json),
        backups: backups.as_ref(),
        resumed: false,
    };
    let report = execute_interruptibly(&run, ops).await;
    finish(ctx, &journal, backups.as_ref(), &report)
}

/// Runs `ops`; Ctrl-C stops the run: requests in flight finish and are journaled.
async fn execute_interruptibly(run: &Run<'_>, ops: Vec<Op>) -> Report {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            run.engine.stop(Stop::Interrupted);
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        report = execute(run, ops) => report,
        () = interrupt => unreachable!("the interrupt future never ends"),
    }
}

/// Counts by action and type, and the first files, on stderr.
fn show_plan(command: &str, ops: &[Op]) -> Result<()> {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for op in ops {
        *counts.entry((op.kind.name().to_owned(), op.filetype.to_string())).or_default() += 1;
    }
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "Plan for `{command}`:")?;
    for ((action, kind), count) in &counts {
        writeln!(stderr, "  {action:<8} {count:>6} {kind}")?;
    }
    for op in ops.iter().take(SHOWN) {
        writeln!(stderr, "    {} {} {:?}", op.kind.name(), op.fid, op.filename)?;
    }
    if ops.len() > SHOWN {
        writeln!(stderr, "    … and {} more", ops.len() - SHOWN)?;
    }
    Ok(())
}

/// `--yes`, or a typed `yes` on a terminal.
fn confirm(yes: bool, command: &str, count: usize) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(UsageError(format!("refusing to {command} {count} file(s) without confirmation; pass --yes, or --dry-run to see the plan")).into());
    }
    write!(std::io::stderr().lock(), "{command} {count} file(s)? Type yes to go on: ")?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

/// Prints the summary and picks the exit code.
fn finish(
    ctx: &Ctx,
    journal: &Journal,
    backups: Option<&BackupDir>,
    report: &Report,
) -> Result<()> {
    if let Some(backups) = backups {
        writeln!(std::io::stderr().lock(), "backups: {}", backups.path().display())?;
    }
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({"journal": journal.path(), "report": report}))?;
    } else {
        let rows: Vec<Vec<String>> = report
            .actions
            .iter()
            .map(|(action, c)| {
                vec![
                    action.clone(),
                    c.done.to_string(),
                    c.skipped.to_string(),
                    c.failed.to_string(),
                    c.not_started.to_string(),
                ]
            })
            .collect();
        ctx.out.rows(&["ACTION", "DONE", "SKIPPED", "FAILED", "NOT STARTED"], &rows)?;
        let mut stderr = std::io::stderr().lock();
        for (fid, reason) in &report.skipped {
            writeln!(stderr, "skipped {fid}: {reason}")?;
        }
        for (fid, action, reason) in &report.failures {
            writeln!(stderr, "failed {action} {fid}: {reason}")?;
        }
    }
    if let Some(why) = &report.stopped {
        return Err(RunStopped { why: why.clone(), journal: journal.path().to_owned() }.into());
    }
    if report.has_failures() {
        return Err(PartialFailure {
            failed: report.totals().failed,
            journal: journal.path().to_owned(),
        }
        .into());
    }
    Ok(())
}

/// Takes a journal of this account on this server: locked (no other run may use it) and read.
fn take(ctx: &Ctx, path: &Path) -> Result<(Journal, JournalState)> {
    let journal =
        Journal::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let state = load(ctx, path)?;
    Ok((journal, state))
}

/// Reads a journal of this account on this server.
fn load(ctx: &Ctx, path: &Path) -> Result<JournalState> {
    let state = Journal::load(path).map_err(anyhow::Error::msg)?;
    if state.header.user != ctx.me || state.header.api != ctx.api {
        bail!(
            "{} is a run of {} at {}, not of {} at {}; use the same account and server",
            path.display(),
            state.header.user,
            state.header.api,
            ctx.me,
            ctx.api
        );
    }
    Ok(state)
}

async fn resume(ctx: &Ctx, path: &Path, jobs: usize) -> Result<()> {
    let (journal, state) = take(ctx, path)?;
    let pending = state.pending();
    if pending.is_empty() {
        return ctx.out.line(&format!(
            "Nothing left to do: every operation of `{}` finished",
            state.header.command
        ));
    }
    writeln!(
        std::io::stderr().lock(),
        "resuming `{}`: {} of {} operations left",
        state.header.command,
        pending.len(),
        state.ops.len()
    )?;
    let backups = state.header.dir.as_deref().map(BackupDir::open).transpose()?;
    let engine = engine(&ctx.client, jobs, None);
    let run = Run {
        engine: &engine,
        journal: &journal,
        progress: &Bar::new(ctx.out.json),
        backups: backups.as_ref(),
        resumed: true,
    };
    let report = execute_interruptibly(&run, pending).await;
    finish(ctx, &journal, backups.as_ref(), &report)
}

/// Undoes a run, holding its journal so that it cannot be resumed meanwhile: sharing changes
/// and trash are reverted through a new run; the files a delete removed are imported from its
/// backup.
async fn undo(ctx: &Ctx, of: &Path, run: RunArgs) -> Result<()> {
    let (_held, state) = take(ctx, of)?;
    let deleted: BTreeSet<Fid> = state
        .done()
        .into_iter()
        .filter(|op| matches!(op.kind, OpKind::Delete { .. }))
        .map(|op| op.fid)
        .collect();
    if !deleted.is_empty() {
        let Some(dir) = state.header.dir.as_deref() else {
            bail!(
                "{} deleted {} file(s) without backups; they cannot be re-created",
                of.display(),
                deleted.len()
            );
        };
        if run.dry_run {
            return ctx.out.json(&serde_json::json!({"import": dir, "files": deleted}));
        }
        confirm(run.yes, &format!("re-create from {}", dir.display()), deleted.len())?;
        let engine = engine(&ctx.client, run.jobs, run.rate);
        let imported = import(&engine, dir, Some(&deleted)).await?;
        return show_import(ctx, &imported);
    }
    let ops = undo_ops(&state.done());
    let undo_journal =
        run.journal.clone().unwrap_or_else(|| of.with_extension(format!("undo-{}.jsonl", stamp())));
    let reissued: Vec<Fid> =
        ops.iter().filter(|op| reissues_link(op)).map(|op| op.fid.clone()).collect();
    if !reissued.is_empty() {
        writeln!(
            std::io::stderr().lock(),
            "note: {} file(s) become secret again; the server issues new secret links (the old ones stay dead)",
            reissued.len()
        )?;
    }
    let command = format!("undo of {}", state.header.command);
    let dry_run = run.dry_run;
    launch(ctx, &command, ops, &RunArgs { journal: Some(undo_journal), ..run }, None).await?;
    if !dry_run {
        for fid in reissued {
            let file = ctx.client.send(&files::Retrieve::new(fid.clone())).await?;
            writeln!(std::io::stderr().lock(), "new secret link of {fid}: {}", file_link(&file))?;
        }
    }
    Ok(())
}

/// Whether an operation turns a file's secret link on, so that the server issues a new key.
fn reissues_link(op: &Op) -> bool {
    matches!(&op.kind, OpKind::Update { request, .. } if request.changes.share_key_enabled == Some(true))
}

/// The import's summary: each file with its new fid, then conflicts and skips.
fn show_import(ctx: &Ctx, imported: &Imported) -> Result<()> {
    if ctx.out.json {
        return ctx.out.json(imported);
    }
    let rows: Vec<Vec<String>> = imported
        .fids
        .iter()
        .map(|(old, new)| {
            let how = if imported.reused.contains(old) { "unchanged" } else { "created" };
            vec![old.to_string(), new.to_string(), how.to_owned()]
        })
        .collect();
    ctx.out.rows(&["OLD", "NEW", ""], &rows)?;
    let mut stderr = std::io::stderr().lock();
    for conflict in &imported.conflicts {
        writeln!(
            stderr,
            "conflict: {} not imported: {} holds {} with other content; left as it is",
            conflict.fid, conflict.path, conflict.found
        )?;
    }
    for (fid, why) in &imported.skipped {
        writeln!(stderr, "note: {fid} skipped: {why}")?;
    }
    Ok(())
}

fn show_journal(ctx: &Ctx, path: &Path) -> Result<()> {
    let state = load(ctx, path)?;
    if ctx.out.json {
        let ops: Vec<serde_json::Value> = state
            .ops
            .iter()
            .map(|op| serde_json::json!({"op": op, "outcome": state.outcomes.get(&op.id)}))
            .collect();
        return ctx.out.json(&serde_json::json!({"run": state.header, "operations": ops}));
    }
    let rows: Vec<Vec<String>> = state
        .ops
        .iter()
        .map(|op| {
            let outcome = match state.outcomes.get(&op.id) {
                None => "pending".to_owned(),
                Some(Outcome::Done { already_gone: true, .. }) => "done (already gone)".to_owned(),
                Some(Outcome::Done { .. }) => "done".to_owned(),
                Some(Outcome::Skipped { reason }) => format!("skipped: {reason}"),
                Some(Outcome::Failed { reason }) => format!("failed: {reason}"),
            };
            vec![
                op.id.to_string(),
                op.phase.to_string(),
                op.kind.name().to_owned(),
                op.fid.to_string(),
                op.filename.clone(),
                outcome,
            ]
        })
        .collect();
    ctx.out.rows(&["OP", "PHASE", "ACTION", "FID", "NAME", "STATE"], &rows)
}

/// A progress bar on stderr, shown only on a terminal (and never with --json).
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(json: bool) -> Self {
        let visible = !json && std::io::stderr().is_terminal();
        let bar =
            if visible { indicatif::ProgressBar::new(0) } else { indicatif::ProgressBar::hidden() };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}",
        ) {
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
