//! The plans of bulk runs, from a selection to the operations a run journals and executes, and
//! how a finished run is undone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chart_studio_bulk::{
    DeleteRules, Engine, Failure, Filter, JournalState, Op, OpKind, PlanFile, PlotGrids, Selected,
    delete_ops, export_ops, grid_users, plot_grids, restore_ops, select, select_fids, trash_ops,
    undo_ops, with_subtrees,
};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_sharing::{Diagnostic, Observed, PlanInput, Sharing, plan};

use crate::Error;

/// Which files a run works on.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The files the filter accepts.
    Matching(Filter),
    /// Exactly these files.
    Named(Vec<Fid>),
}

/// Plans runs over `me`'s files, reading through `engine` (`--jobs` at a time), and writes
/// each plan to disk as it is made.
#[derive(Debug, Clone, Copy)]
pub struct Planner<'a> {
    /// Reads the listings and figures.
    pub engine: &'a Engine,
    /// The account.
    pub me: &'a str,
    /// Where plans are written while they are made (unnamed files, gone once dropped), such as
    /// the folder of the run's journal.
    pub scratch: &'a Path,
}

impl Planner<'_> {
    /// A plan of `ops`.
    fn planned(&self, ops: Vec<Op>) -> Result<PlanFile, Error> {
        PlanFile::of(self.scratch, ops).map_err(|err| self.unwritable(err))
    }

    fn unwritable(&self, err: std::io::Error) -> Error {
        Error::Run(Failure::Local(format!(
            "could not write the plan in {}: {err}",
            self.scratch.display()
        )))
    }

    /// Every file of the account, or every file in its trash.
    pub async fn list(&self, trashed: bool) -> Result<Vec<Selected>, Error> {
        Ok(select(self.engine, self.me, &Filter::default(), trashed).await?)
    }

    /// The files `selection` chooses from `listed`.
    async fn choose(
        &self,
        selection: &Selection,
        listed: &[Selected],
    ) -> Result<Vec<Selected>, Error> {
        match selection {
            Selection::Named(fids) => Ok(select_fids(self.engine, self.me, fids).await?),
            Selection::Matching(filter) => {
                Ok(listed.iter().filter(|s| filter.accepts(&s.file, &s.path)).cloned().collect())
            }
        }
    }

    /// `selection` with everything inside its folders, from the live files or the trash.
    async fn with_contents(
        &self,
        selection: &Selection,
        trashed: bool,
    ) -> Result<Vec<Selected>, Error> {
        let listed = self.list(trashed).await?;
        Ok(with_subtrees(self.choose(selection, &listed).await?, &listed))
    }

    /// Trash the selection (each file inside a chosen folder gets its own operation).
    pub async fn trash(&self, selection: &Selection) -> Result<PlanFile, Error> {
        self.planned(trash_ops(&self.with_contents(selection, false).await?))
    }

    /// Restore the selection, chosen from the trash.
    pub async fn restore(&self, selection: &Selection) -> Result<PlanFile, Error> {
        self.planned(restore_ops(&self.with_contents(selection, true).await?))
    }

    /// Export the selection.
    pub async fn export(&self, selection: &Selection) -> Result<PlanFile, Error> {
        self.planned(export_ops(&self.with_contents(selection, false).await?))
    }

    /// The sharing engine's plan as operations, each with the update that undoes it, and its
    /// diagnostics. A plot's grids, and the other plots using them, are found in the figures of
    /// the account's plots.
    pub async fn share(
        &self,
        selection: &Selection,
        mode: Sharing,
        include_grids: bool,
    ) -> Result<(PlanFile, Vec<Diagnostic>), Error> {
        let everything = self.list(false).await?;
        let chosen = self.choose(selection, &everything).await?;
        let mut grids_of = PlotGrids::new();
        if include_grids {
            grids_of = plot_grids(self.engine, everything.iter().map(|s| &s.file)).await?;
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
            me: self.me.to_owned(),
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
        let by_fid: BTreeMap<&Fid, &File> =
            everything.iter().chain(&chosen).map(|s| (&s.file.fid, &s.file)).collect();
        let ops = plan
            .steps
            .into_iter()
            .enumerate()
            .filter_map(|(id, step)| {
                let file = by_fid.get(&step.fid).copied()?;
                let kind = OpKind::Update { request: step.request, undo: step.undo };
                Some(Op::of(id as u64, step.phase, file, kind))
            })
            .collect();
        Ok((self.planned(ops)?, diagnostics))
    }

    /// The delete's operations: the selection with everything inside its folders (files in the
    /// trash included, since a folder's permanent delete removes them too), and the grids'
    /// users found in the figures of the plots that stay. See [`delete_ops`] for what is kept.
    pub async fn delete(
        &self,
        selection: &Selection,
        force: bool,
        backup: bool,
    ) -> Result<PlanFile, Error> {
        let mut account = self.list(false).await?;
        let chosen = self.choose(selection, &account).await?;
        let mut rules = DeleteRules { force, backup, ..DeleteRules::default() };
        match self.list(true).await {
            Ok(trash) => account.extend(trash),
            Err(err) => {
                rules.folders_refused = Some(format!(
                    "the trash could not be listed ({err}), so what the folder holds there could not be backed up"
                ));
            }
        }
        let selection = with_subtrees(chosen, &account);
        let selected: BTreeSet<&Fid> = selection.iter().map(|s| &s.file.fid).collect();
        if selection.iter().any(|s| s.file.filetype == FileType::Grid) {
            let staying = account.iter().map(|s| &s.file).filter(|f| !selected.contains(&f.fid));
            rules.grid_users = grid_users(&plot_grids(self.engine, staying).await?);
        }
        self.planned(delete_ops(&selection, &rules))
    }
}

/// How a finished run is undone.
#[derive(Debug, Clone)]
pub enum Undo {
    /// The run deleted files: import them from its backup folder.
    Reimport {
        /// The backup folder.
        dir: PathBuf,
        /// The files to re-create.
        fids: BTreeSet<Fid>,
    },
    /// Revert sharing changes and trash with a new run.
    Revert {
        /// The new run's operations.
        ops: Vec<Op>,
        /// The files it makes secret again: the server gives them new secret links.
        relinked: Vec<Fid>,
    },
}

/// How to undo the run `state` describes.
pub fn undo(state: &JournalState) -> Result<Undo, Error> {
    let done = state.done();
    let mut deleted: BTreeSet<Fid> = done
        .iter()
        .filter(|op| matches!(op.kind, OpKind::Delete { .. }))
        .map(|op| op.fid.clone())
        .collect();
    // Files backed up to go with their folder went when the folder did.
    let with_folders: Vec<Fid> = done
        .iter()
        .filter(|op| matches!(&op.kind, OpKind::Backup { folder, .. } if deleted.contains(folder)))
        .map(|op| op.fid.clone())
        .collect();
    deleted.extend(with_folders);
    if !deleted.is_empty() {
        let Some(dir) = state.header.dir.clone() else {
            return Err(Error::Refused(format!(
                "the run deleted {} file(s) without backups; they cannot be re-created",
                deleted.len()
            )));
        };
        return Ok(Undo::Reimport { dir, fids: deleted });
    }
    let ops = undo_ops(&done);
    let relinked = ops
        .iter()
        .filter(|op| {
            matches!(&op.kind, OpKind::Update { request, .. } if request.changes.share_key_enabled == Some(true))
        })
        .map(|op| op.fid.clone())
        .collect();
    Ok(Undo::Revert { ops, relinked })
}
