//! `bulk share | trash | restore | delete | export | import | resume | undo | plan`: select, plan,
//! show the plan, confirm, then run it through the bulk engine with a journal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Client, files};
use chart_studio_bulk::{
    Engine, EngineConfig, Filter, Journal, ManifestEntry, Op, OpKind, Outcome, Progress, Report,
    Run, RunHeader, Selected, TokioClock, execute, import, select, select_fids, undo_ops,
    write_manifest,
};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_sharing::{Observed, PlanInput, Reason, Sharing, listed_fids, plan};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::username;
use crate::cli::{BulkCommand, FileTypeArg, FilterArgs, RunArgs, file_ref};
use crate::exit::{PartialFailure, QuotaStopped, UsageError};
use crate::output::Output;
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
            let everything = select(&ctx.lister, &ctx.me, &Filter::default(), false).await?;
            let chosen = choose(&ctx, &filter, &everything).await?;
            let ops = share_ops(&ctx, &everything, &chosen, mode, !no_grids)?;
            launch(&ctx, &format!("share {mode}"), ops, &run, None).await
        }
        BulkCommand::Trash { filter, run } => {
            let chosen = selection(&ctx, &filter, false).await?;
            launch(&ctx, "trash", simple_ops(&chosen, |_| OpKind::Trash), &run, None).await
        }
        BulkCommand::Restore { filter, run } => {
            let chosen = selection(&ctx, &filter, true).await?;
            launch(&ctx, "restore", simple_ops(&chosen, |_| OpKind::Restore), &run, None).await
        }
        BulkCommand::Delete { filter, force, no_backup, backup_dir, run } => {
            let chosen = selection(&ctx, &filter, false).await?;
            let journal = journal_path(&run, "delete");
            let dir = (!no_backup)
                .then(|| backup_dir.unwrap_or_else(|| journal.with_extension("backup")));
            let ops = delete_ops(&chosen, force, dir.is_some());
            launch(&ctx, "delete", ops, &RunArgs { journal: Some(journal), ..run }, dir).await
        }
        BulkCommand::Export { dir, filter, run } => {
            let chosen = selection(&ctx, &filter, false).await?;
            let ops = simple_ops(&chosen, |selected| OpKind::Export {
                path: selected.path.clone(),
                meta: Some(Box::new(selected.file.clone())),
            });
            launch(&ctx, "export", ops, &run, Some(dir)).await
        }
        BulkCommand::Import { dir, jobs } => {
            let engine = engine(&ctx.client, jobs, None);
            let imported = import(&engine, &dir).await?;
            if ctx.out.json {
                return ctx.out.json(&imported);
            }
            let rows: Vec<Vec<String>> = imported
                .fids
                .iter()
                .map(|(old, new)| {
                    let how = if imported.reused.contains(old) { "reused" } else { "created" };
                    vec![old.to_string(), new.to_string(), how.to_owned()]
                })
                .collect();
            ctx.out.rows(&["OLD", "NEW", ""], &rows)?;
            let mut stderr = std::io::stderr().lock();
            for (fid, why) in &imported.skipped {
                writeln!(stderr, "note: {fid} skipped: {why}")?;
            }
            Ok(())
        }
        BulkCommand::Resume { journal, jobs } => resume(&ctx, &journal, jobs).await,
        BulkCommand::Undo { of, run } => {
            let state = load(&ctx, &of)?;
            let ops = undo_ops(&state.done());
            let undo_journal = run
                .journal
                .clone()
                .unwrap_or_else(|| of.with_extension(format!("undo-{}.jsonl", stamp())));
            let command = format!("undo of {}", state.header.command);
            launch(&ctx, &command, ops, &RunArgs { journal: Some(undo_journal), ..run }, None).await
        }
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

/// The selected files: listed and filtered, or named in `--fids`.
async fn selection(ctx: &Ctx, args: &FilterArgs, trashed: bool) -> Result<Vec<Selected>> {
    match &args.fids {
        Some(path) => Ok(select_fids(&ctx.lister, &ctx.me, &read_fids(path)?).await?),
        None => Ok(select(&ctx.lister, &ctx.me, &filter_of(args)?, trashed).await?),
    }
}

/// Like [`selection`], but choosing from files already listed.
async fn choose(ctx: &Ctx, args: &FilterArgs, everything: &[Selected]) -> Result<Vec<Selected>> {
    if args.fids.is_some() {
        return selection(ctx, args, false).await;
    }
    let filter = filter_of(args)?;
    Ok(everything.iter().filter(|s| filter.accepts(&s.file, &s.path)).cloned().collect())
}

fn simple_ops(chosen: &[Selected], kind: impl Fn(&Selected) -> OpKind) -> Vec<Op> {
    chosen
        .iter()
        .enumerate()
        .map(|(id, selected)| Op {
            id: id as u64,
            phase: 0,
            fid: selected.file.fid.clone(),
            filetype: selected.file.filetype.clone(),
            filename: selected.file.filename.clone(),
            kind: kind(selected),
        })
        .collect()
}

/// The sharing engine's plan as operations: each update with the update that undoes it.
fn share_ops(
    ctx: &Ctx,
    everything: &[Selected],
    chosen: &[Selected],
    mode: Sharing,
    include_grids: bool,
) -> Result<Vec<Op>> {
    let by_fid: BTreeMap<&Fid, &File> = everything.iter().map(|s| (&s.file.fid, &s.file)).collect();
    let grids: BTreeMap<Fid, File> = everything
        .iter()
        .filter(|s| s.file.filetype == FileType::Grid)
        .map(|s| (s.file.fid.clone(), s.file.clone()))
        .collect();
    let grid_users = grids
        .iter()
        .map(|(fid, grid)| {
            let users = listed_fids(grid.referencers.as_ref())
                .into_iter()
                .map(|plot| {
                    let mode =
                        by_fid.get(&plot).map_or(Observed::Unknown, |file| Sharing::of(file));
                    (plot, mode)
                })
                .collect();
            (fid.clone(), users)
        })
        .collect();
    let input = PlanInput {
        me: ctx.me.clone(),
        files: chosen.iter().map(|s| (s.file.clone(), None)).collect(),
        grids,
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
    let first_is_grids = mode != Sharing::Private;
    Ok(plan
        .steps
        .into_iter()
        .enumerate()
        .map(|(id, step)| {
            let is_grid = matches!(step.reason, Reason::GridOf(_));
            let undo = match step.from {
                Observed::Known(before) => {
                    let (world_readable, share_key_enabled) = before.fields();
                    files::Update::patch(
                        step.fid.clone(),
                        FileUpdate::default().sharing(world_readable, share_key_enabled),
                    )
                }
                Observed::Unknown => step.request.clone(),
            };
            Op {
                id: id as u64,
                phase: u8::from(is_grid != first_is_grids),
                fid: step.fid,
                filetype: step.filetype,
                filename: step.filename,
                kind: OpKind::Update { request: step.request, undo },
            }
        })
        .collect())
}

/// Plots (and other files) first, then grids, then folders. A grid that a plot outside the
/// selection still uses is skipped, unless `force`.
fn delete_ops(chosen: &[Selected], force: bool, backup: bool) -> Vec<Op> {
    let selected: BTreeSet<&Fid> = chosen.iter().map(|s| &s.file.fid).collect();
    simple_ops(chosen, |s| {
        let users: Vec<String> = listed_fids(s.file.referencers.as_ref())
            .into_iter()
            .filter(|plot| !selected.contains(plot))
            .map(|plot| plot.to_string())
            .collect();
        if s.file.filetype == FileType::Grid && !users.is_empty() && !force {
            return OpKind::Skip {
                reason: format!("still used by {}; --force deletes it anyway", users.join(", ")),
            };
        }
        OpKind::Delete {
            backup,
            path: s.path.clone(),
            meta: backup.then(|| Box::new(s.file.clone())),
        }
    })
    .into_iter()
    .map(|op| {
        let phase = match op.filetype {
            FileType::Grid => 1,
            FileType::Folder => 2,
            _ => 0,
        };
        Op { phase, ..op }
    })
    .collect()
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
    let path = journal_path(run, &command.replace(' ', "-"));
    let header = RunHeader {
        version: 1,
        command: command.to_owned(),
        api: ctx.api.clone(),
        user: ctx.me.clone(),
        dir: dir.clone(),
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
    let report = execute(
        &Run { engine: &engine, journal: &journal, progress: &Bar::new(ctx.out.json), dir },
        ops,
    )
    .await;
    finish(ctx, &journal, &header, &report)
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

/// Writes the manifest of exports and backups, prints the summary, and picks the exit code.
fn finish(ctx: &Ctx, journal: &Journal, header: &RunHeader, report: &Report) -> Result<()> {
    let state = Journal::load(journal.path()).map_err(anyhow::Error::msg)?;
    if let Some(dir) = &header.dir {
        let entries: Vec<ManifestEntry> = state
            .outcomes
            .values()
            .filter_map(|outcome| match outcome {
                Outcome::Done { detail: Some(detail) } => {
                    serde_json::from_value(detail.clone()).ok()
                }
                _ => None,
            })
            .collect();
        if !entries.is_empty() {
            let manifest = write_manifest(dir, &header.api, &header.user, entries)?;
            writeln!(std::io::stderr().lock(), "manifest: {}", manifest.display())?;
        }
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
    if report.stopped_by_quota {
        return Err(QuotaStopped(journal.path().to_owned()).into());
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

/// Reads a journal of this account on this server.
fn load(ctx: &Ctx, path: &Path) -> Result<chart_studio_bulk::JournalState> {
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
    let state = load(ctx, path)?;
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
    let journal =
        Journal::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let engine = engine(&ctx.client, jobs, None);
    let run = Run {
        engine: &engine,
        journal: &journal,
        progress: &Bar::new(ctx.out.json),
        dir: state.header.dir.clone(),
    };
    let report = execute(&run, pending).await;
    finish(ctx, &journal, &state.header, &report)
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
