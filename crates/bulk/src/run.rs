//! Running operations: how each runs, phase by phase, and how a run is undone.

use std::collections::BTreeMap;

use chart_studio_api::{files, folders};
use chart_studio_models::{Fid, File, FileType};
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::backup::{BackupDir, Verified};
use crate::engine::{Engine, Failure, Progress, Stop, is_not_found};
use crate::import::{Importing, import_one};
use crate::journal::Journal;
use crate::op::{Op, OpKind, Outcome, Subtree};
use crate::record::Record;
use crate::report::Report;

/// Everything an operation needs while it runs.
pub struct Run<'a> {
    /// Sends the requests.
    pub engine: &'a Engine,
    /// Records every outcome.
    pub journal: &'a Journal,
    /// Shows progress.
    pub progress: &'a dyn Progress,
    /// Where backups and exports are written.
    pub backups: Option<&'a BackupDir>,
    /// What an import run reads, and has imported so far.
    pub importing: Option<&'a Importing>,
    /// A resumed run: before each destructive step the file is checked to still be the one
    /// planned, since a fid can be reused.
    pub resumed: bool,
}

impl std::fmt::Debug for Run<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("journal", &self.journal.path())
            .field("backups", &self.backups.map(BackupDir::path))
            .field("resumed", &self.resumed)
            .finish_non_exhaustive()
    }
}

/// Runs the operations of the run's journal for which `pending` holds, phase by phase, with
/// the engine's concurrency inside a phase, journaling every outcome. Operations are read from
/// the journal as they start, so only those in flight are held. Operations not started because
/// the run stopped (see [`Stop`]) get no outcome, so a resumed run does them.
pub async fn execute(run: &Run<'_>, pending: impl Fn(u64) -> bool) -> Report {
    let mut report = Report::default();
    let path = run.journal.path();
    let mut phases: BTreeMap<u8, u64> = BTreeMap::new();
    let counted = crate::journal::read_ops(path).and_then(|ops| {
        for op in ops {
            let op = op.map_err(std::io::Error::other)?;
            if pending(op.id) {
                *phases.entry(op.phase).or_default() += 1;
            }
        }
        Ok(())
    });
    if let Err(err) = counted {
        report.stopped = Some(Stop::Journal(err.to_string()));
        return report;
    }
    run.progress.start(phases.values().sum());
    for phase in phases.into_keys() {
        let ops = match crate::journal::read_ops(path) {
            Ok(ops) => ops,
            Err(err) => {
                run.engine.stop(Stop::Journal(err.to_string()));
                break;
            }
        };
        let this_phase = ops.filter_map(|op| match op {
            Ok(op) => (op.phase == phase && pending(op.id)).then_some(op),
            Err(err) => {
                run.engine.stop(Stop::Journal(err));
                None
            }
        });
        stream::iter(this_phase)
            .map(|op| async move {
                let outcome = run_one(run, &op).await;
                (op, outcome)
            })
            .buffer_unordered(run.engine.jobs())
            .for_each(|(op, outcome)| {
                report.record(&op, outcome.as_ref());
                std::future::ready(())
            })
            .await;
        if run.engine.is_stopped() {
            break;
        }
    }
    report.stopped = run.engine.stopped();
    run.progress.finish();
    report
}

/// Runs one operation and journals its outcome (none when the run was stopped before it).
async fn run_one(run: &Run<'_>, op: &Op) -> Option<Outcome> {
    let outcome = match perform(run, op).await {
        Ok(outcome) => outcome,
        Err(Failure::Stopped) => return None,
        Err(err) => Outcome::Failed { reason: err.to_string() },
    };
    if let Err(err) =
        run.journal.record(&Record::Outcome { op: op.id, outcome: outcome.clone() }).await
    {
        let why = format!("could not write {}: {err}", run.journal.path().display());
        tracing::error!(%why, "stopping the run");
        run.engine.stop(Stop::Journal(why));
    }
    run.progress.advance(&op.fid.to_string());
    Some(outcome)
}

fn done() -> Outcome {
    Outcome::Done { written: None, already_gone: false, imported: None }
}

fn gone() -> Outcome {
    Outcome::Done { written: None, already_gone: true, imported: None }
}

/// Maps "not found" to the outcome a file that is gone already gets.
fn or_gone<T>(result: Result<T, Failure>) -> Result<Option<T>, Failure> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Failure::Request(err)) if is_not_found(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The file as the server has it now, or why the operation must leave it alone: gone, or no
/// longer the file that was planned (same fid, other name or creation time).
async fn still_planned(engine: &Engine, op: &Op) -> Result<Result<File, Outcome>, Failure> {
    let Some(file) = or_gone(engine.send(&files::Retrieve::new(op.fid.clone())).await)? else {
        return Ok(Err(gone()));
    };
    let created_differs = op.created.is_some() && file.creation_time != op.created;
    if file.filename != op.filename || created_differs {
        return Ok(Err(Outcome::Skipped {
            reason: format!(
                "{} now names another file ({:?}, created {}), not the planned {:?}; left alone",
                op.fid,
                file.filename,
                file.creation_time.as_deref().unwrap_or("at an unknown time"),
                op.filename
            ),
        }));
    }
    Ok(Ok(file))
}

async fn perform(run: &Run<'_>, op: &Op) -> Result<Outcome, Failure> {
    let engine = run.engine;
    let backups = || run.backups.ok_or_else(|| Failure::Local("no backup folder given".to_owned()));
    match &op.kind {
        OpKind::Update { request, .. } => engine.send(request).await.map(|_| done()),
        OpKind::Restore => engine.send(&files::Restore::new(op.fid.clone())).await.map(|_| done()),
        OpKind::Skip { reason } => Ok(Outcome::Skipped { reason: reason.clone() }),
        OpKind::Import { entry, on_conflict } => {
            let importing = run
                .importing
                .ok_or_else(|| Failure::Local("no folder to import from".to_owned()))?;
            import_one(engine, importing, entry, *on_conflict).await
        }
        OpKind::Export { path, meta } | OpKind::Backup { path, meta, .. } => {
            let Verified(entry) =
                backups()?.write(engine, &op.fid, &op.filetype, path, meta.as_deref()).await?;
            Ok(Outcome::Done { written: Some(entry), already_gone: false, imported: None })
        }
        OpKind::Image { path, format } => {
            let plot = File::new(op.fid.clone(), op.filename.clone(), op.filetype.clone());
            let Verified(entry) = backups()?.write_image(engine, &plot, path, *format).await?;
            Ok(Outcome::Done { written: Some(entry), already_gone: false, imported: None })
        }
        OpKind::Trash => {
            if run.resumed
                && let Err(outcome) = still_planned(engine, op).await?
            {
                return Ok(outcome);
            }
            Ok(or_gone(engine.send(&files::Trash::new(op.fid.clone())).await)?
                .map_or_else(gone, |_| done()))
        }
        OpKind::Delete { backup, path, meta, subtree } => {
            let mut current = meta.as_deref().cloned();
            if run.resumed {
                match still_planned(engine, op).await? {
                    Ok(file) => current = Some(file),
                    Err(outcome) => return Ok(outcome),
                }
            }
            let mut written = None;
            if *backup {
                match or_gone(
                    backups()?.write(engine, &op.fid, &op.filetype, path, current.as_ref()).await,
                ) {
                    Ok(Some(Verified(entry))) => written = Some(entry),
                    Ok(None) => return Ok(gone()),
                    Err(Failure::Stopped) => return Err(Failure::Stopped),
                    Err(err) => {
                        return Err(Failure::Local(format!(
                            "not deleted: the backup failed: {err}"
                        )));
                    }
                }
            }
            if op.filetype == FileType::Folder {
                let planned = subtree.clone().unwrap_or_default();
                match check_subtree(run, &op.fid, planned, *backup).await? {
                    Some(()) => {}
                    None => return Ok(gone()),
                }
            }
            let outcome = Outcome::Done { written, already_gone: false, imported: None };
            if or_gone(engine.send(&files::Trash::new(op.fid.clone())).await)?.is_none() {
                return Ok(outcome);
            }
            or_gone(engine.send(&files::PermanentDelete::new(op.fid.clone())).await)?;
            Ok(outcome)
        }
    }
}

/// Checks what the server shows inside folder `fid` and its planned folders (listed at once,
/// with the engine's concurrency, each child checked as its page arrives): only the planned
/// files and folders, each file with a verified backup from this run when `backup`. `None`
/// when the folder is gone.
async fn check_subtree(
    run: &Run<'_>,
    fid: &Fid,
    planned: Subtree,
    backup: bool,
) -> Result<Option<()>, Failure> {
    let planned = &planned;
    let check = move |child: &File| {
        let is_folder = child.filetype == FileType::Folder;
        let known = if is_folder { &planned.folders } else { &planned.files };
        if !known.contains(&child.fid) {
            return Err(Failure::Local(format!(
                "not deleted: the folder holds {} ({:?}), which this run did not plan; deleting the folder would delete it",
                child.fid, child.filename
            )));
        }
        if backup && !is_folder && !run.backups.is_some_and(|b| b.has_verified(&child.fid)) {
            return Err(Failure::Local(format!(
                "not deleted: {} ({:?}) inside it has no verified backup",
                child.fid, child.filename
            )));
        }
        Ok(())
    };
    let gone: Vec<bool> = stream::iter(
        std::iter::once((true, fid.clone())).chain(planned.folders.iter().map(|f| (false, f))),
    )
    .map(|(top, folder)| async move {
        let mut children = std::pin::pin!(run.engine.items(folders::Retrieve::new(folder)));
        loop {
            match or_gone(children.try_next().await)? {
                Some(Some(child)) => check(&child)?,
                Some(None) => return Ok::<_, Failure>(false),
                None => return Ok(top),
            }
        }
    })
    .buffer_unordered(run.engine.jobs())
    .try_collect()
    .await?;
    Ok((!gone.contains(&true)).then_some(()))
}

/// The operations that undo the finished ones of a run: updates are reverted, trashed files
/// restored (and restored ones trashed), in reverse phase order. Deletes cannot be undone; their
/// backups can be imported.
pub fn undo_ops(done: &[Op]) -> Vec<Op> {
    let last_phase = done.iter().map(|op| op.phase).max().unwrap_or(0);
    done.iter()
        .filter_map(|op| {
            let kind = match &op.kind {
                OpKind::Update { request, undo } => {
                    OpKind::Update { request: undo.clone(), undo: request.clone() }
                }
                OpKind::Trash => OpKind::Restore,
                OpKind::Restore => OpKind::Trash,
                OpKind::Delete { .. }
                | OpKind::Backup { .. }
                | OpKind::Export { .. }
                | OpKind::Image { .. }
                | OpKind::Import { .. }
                | OpKind::Skip { .. } => return None,
            };
            Some(Op { kind, phase: last_phase - op.phase, ..op.clone() })
        })
        .enumerate()
        .map(|(id, op)| Op { id: id as u64, ..op })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chart_studio_api::common::FileUpdate;

    fn op(id: u64, phase: u8, kind: OpKind) -> Op {
        Op {
            id,
            phase,
            fid: format!("a:{id}").parse().unwrap(),
            filetype: FileType::Plot,
            filename: "f".to_owned(),
            created: None,
            kind,
        }
    }

    #[test]
    fn ops_round_trip_through_json() {
        let update = OpKind::Update {
            request: files::Update::patch(
                "a:1".parse().unwrap(),
                FileUpdate::default().sharing(false, false),
            ),
            undo: files::Update::patch(
                "a:1".parse().unwrap(),
                FileUpdate::default().sharing(true, false),
            ),
        };
        for kind in [
            update,
            OpKind::Trash,
            OpKind::Delete { backup: true, path: "x/y".to_owned(), meta: None, subtree: None },
            OpKind::Skip { reason: "r".to_owned() },
        ] {
            let op = op(1, 0, kind);
            let text = serde_json::to_string(&Record::Op(Box::new(op.clone()))).unwrap();
            assert_eq!(
                serde_json::from_str::<Record>(&text).unwrap(),
                Record::Op(Box::new(op)),
                "{text}"
            );
        }
        let outcome =
            Record::Outcome { op: 3, outcome: Outcome::Failed { reason: "boom".to_owned() } };
        let text = serde_json::to_string(&outcome).unwrap();
        assert_eq!(text, r#"{"record":"outcome","op":3,"result":"failed","reason":"boom"}"#);
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), outcome);
    }

    #[test]
    fn undo_reverts_updates_and_trash_in_reverse_phases() {
        let forward = files::Update::patch(
            "a:0".parse().unwrap(),
            FileUpdate::default().sharing(false, false),
        );
        let back = files::Update::patch(
            "a:0".parse().unwrap(),
            FileUpdate::default().sharing(true, false),
        );
        let done = [
            op(0, 0, OpKind::Update { request: forward.clone(), undo: back.clone() }),
            op(1, 1, OpKind::Trash),
            op(
                2,
                1,
                OpKind::Delete { backup: true, path: String::new(), meta: None, subtree: None },
            ),
        ];
        let undo = undo_ops(&done);
        assert_eq!(undo.len(), 2);
        assert_eq!(undo[0].kind, OpKind::Update { request: back, undo: forward });
        assert_eq!(undo[0].phase, 1);
        assert_eq!((undo[1].kind.clone(), undo[1].phase, undo[1].id), (OpKind::Restore, 0, 1));
    }
}
