//! The plans of bulk runs, from a selection to the operations a run journals and executes, and
//! how a finished run is undone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chart_studio_bulk::{
    DeleteRules, Engine, Failure, FidSet, Filter, FolderTree, JournalState, Op, OpKind, PlanFile,
    PlanWriter, Selected, Spill, delete_ops, export_ops, grids_of, listed, restore_ops, select,
    select_fids, trash_ops, undo_ops, with_subtrees,
};
use chart_studio_models::{Fid, File, FileType};
use chart_studio_sharing::{Diagnostic, Observed, Sharing, Step, grid_step, selected_step};
use futures_util::{StreamExt, TryStreamExt, stream};

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
    /// the account's plots. The listing streams: each selected file is planned as it comes;
    /// what the grids' rules need of the others is kept in a compact index, and the grids that
    /// may follow their plots wait on disk.
    pub async fn share(
        &self,
        selection: &Selection,
        mode: Sharing,
        include_grids: bool,
    ) -> Result<(PlanFile, Vec<Diagnostic>), Error> {
        let unwritable = |err| self.unwritable(err);
        let mut plan = PlanWriter::new_in(self.scratch).map_err(unwritable)?;
        let mut aside: Spill<File> = Spill::new_in(self.scratch).map_err(unwritable)?;
        let mut diagnostics = Vec::new();
        let mut index = ShareIndex::default();
        let add = |plan: &mut PlanWriter, file: &File, step: Option<Step>| {
            let Some(step) = step else { return Ok(()) };
            let kind = OpKind::Update { request: step.request, undo: step.undo };
            plan.push(Op::of(0, step.phase, file, kind)).map_err(unwritable)
        };
        let named = match selection {
            Selection::Named(fids) => select_fids(self.engine, self.me, fids).await?,
            Selection::Matching(_) => Vec::new(),
        };
        for chosen in &named {
            index.selected.insert(&chosen.file.fid);
            let step = selected_step(self.me, &chosen.file, mode, &mut diagnostics);
            add(&mut plan, &chosen.file, step)?;
        }
        let engine = self.engine;
        let mut listing = std::pin::pin!(
            listed(engine, self.me, false)
                .await?
                .map_ok(|listed| async move {
                    let grids = match listed.file.filetype {
                        FileType::Plot if include_grids => grids_of(engine, &listed.file).await?,
                        _ => BTreeSet::new(),
                    };
                    Ok((listed, grids))
                })
                .try_buffer_unordered(engine.jobs())
        );
        while let Some((listed, grids)) = listing.try_next().await? {
            let file = &listed.file;
            if file.filetype == FileType::Plot {
                index.add_plot(file, grids);
            }
            let chosen = match selection {
                Selection::Matching(filter) => filter.accepts(file, &listed.path),
                Selection::Named(_) => false,
            };
            if chosen {
                index.selected.insert(&file.fid);
                add(&mut plan, file, selected_step(self.me, file, mode, &mut diagnostics))?;
            } else if file.filetype == FileType::Grid && !index.selected.contains(&file.fid) {
                aside.push(file).map_err(unwritable)?;
            }
        }
        let mut followers = index.grids_following();
        for grid in aside.read().map_err(unwritable)? {
            let grid = grid.map_err(unwritable)?;
            let Some((plots, others)) = followers.remove(&grid.fid) else { continue };
            let found = (&grid.fid, Some(&grid));
            let step = grid_step(self.me, found, plots, others, mode, &mut diagnostics);
            add(&mut plan, &grid, step)?;
        }
        // Grids the selected plots use that the listing does not show.
        for (grid, (plots, others)) in followers {
            grid_step(self.me, (&grid, None), plots, others, mode, &mut diagnostics);
        }
        Ok((plan.finish().map_err(unwritable)?, diagnostics))
    }

    /// The delete's operations: the selection with everything inside its folders (files in the
    /// trash included, since a folder's permanent delete removes them too), and the grids'
    /// users found in the figures of the plots that stay. See [`delete_ops`] for what is kept.
    /// The account's listing waits on disk; only its folders are held.
    pub async fn delete(
        &self,
        selection: &Selection,
        force: bool,
        backup: bool,
    ) -> Result<PlanFile, Error> {
        let unwritable = |err| self.unwritable(err);
        let named = match selection {
            Selection::Named(fids) => select_fids(self.engine, self.me, fids).await?,
            Selection::Matching(_) => Vec::new(),
        };
        let named_fids: BTreeSet<Fid> = named.iter().map(|s| s.file.fid.clone()).collect();
        // The account, each file marked chosen or not, named files first.
        let mut account: Spill<(Selected, bool)> =
            Spill::new_in(self.scratch).map_err(unwritable)?;
        let mut tree = FolderTree::default();
        for chosen in named {
            tree.add(&chosen.file, true);
            account.push(&(chosen, true)).map_err(unwritable)?;
        }
        let mut rules = DeleteRules { force, backup, ..DeleteRules::default() };
        let live = listed(self.engine, self.me, false).await?;
        let trash = match listed(self.engine, self.me, true).await {
            Ok(trash) => Some(trash),
            Err(err) => {
                rules.folders_refused = Some(refused_for(&err));
                None
            }
        };
        let mut live = std::pin::pin!(live);
        while let Some(listed) = live.try_next().await? {
            if named_fids.contains(&listed.file.fid) {
                continue;
            }
            let chosen = match selection {
                Selection::Matching(filter) => filter.accepts(&listed.file, &listed.path),
                Selection::Named(_) => false,
            };
            tree.add(&listed.file, chosen);
            account.push(&(listed, chosen)).map_err(unwritable)?;
        }
        if let Some(trash) = trash {
            let mut trash = std::pin::pin!(trash);
            loop {
                match trash.try_next().await {
                    Ok(Some(listed)) => {
                        tree.add(&listed.file, false);
                        account.push(&(listed, false)).map_err(unwritable)?;
                    }
                    Ok(None) => break,
                    Err(err) => {
                        rules.folders_refused = Some(refused_for(&err));
                        break;
                    }
                }
            }
        }
        // The selection, and the grids in it.
        let mut chosen: Spill<Selected> = Spill::new_in(self.scratch).map_err(unwritable)?;
        let mut grids = FidSet::default();
        let mut seen = FidSet::default();
        for entry in account.read().map_err(unwritable)? {
            let (listed, was_chosen) = entry.map_err(unwritable)?;
            let selected = was_chosen || tree.inside_chosen(&listed.file);
            if selected && seen.insert(&listed.file.fid) {
                if listed.file.filetype == FileType::Grid {
                    grids.insert(&listed.file.fid);
                }
                chosen.push(&listed).map_err(unwritable)?;
            }
        }
        drop(seen);
        if !grids.is_empty() {
            rules.grid_users = self.grid_users_staying(&mut account, &tree, &grids).await?;
        }
        let mut plan = PlanWriter::new_in(self.scratch).map_err(unwritable)?;
        delete_ops(&mut chosen, &rules, &mut plan).map_err(unwritable)?;
        plan.finish().map_err(unwritable)
    }

    /// For each of `grids`, the plots of `account` that stay (neither chosen nor inside a
    /// chosen folder) and use it, read from their figures `--jobs` at a time.
    async fn grid_users_staying(
        &self,
        account: &mut Spill<(Selected, bool)>,
        tree: &FolderTree,
        grids: &FidSet,
    ) -> Result<BTreeMap<Fid, BTreeSet<Fid>>, Error> {
        let unwritable = |err| self.unwritable(err);
        let staying = account.read().map_err(unwritable)?.filter_map(|entry| match entry {
            Ok((listed, chosen)) => (listed.file.filetype == FileType::Plot
                && !chosen
                && !tree.inside_chosen(&listed.file))
            .then_some(Ok(listed.file)),
            Err(err) => Some(Err(err)),
        });
        let engine = self.engine;
        let mut read = std::pin::pin!(
            stream::iter(staying)
                .map(|plot| async move {
                    let plot = plot.map_err(unwritable)?;
                    let uses = grids_of(engine, &plot).await?;
                    Ok::<_, Error>((plot.fid, uses))
                })
                .buffer_unordered(engine.jobs())
        );
        let mut users: BTreeMap<Fid, BTreeSet<Fid>> = BTreeMap::new();
        while let Some(found) = read.next().await {
            let (plot, uses) = found?;
            for grid in uses.into_iter().filter(|grid| grids.contains(grid)) {
                users.entry(grid).or_default().insert(plot.clone());
            }
        }
        Ok(users)
    }
}

/// Why folders are not deleted when the trash cannot be listed.
fn refused_for(err: &Failure) -> String {
    format!(
        "the trash could not be listed ({err}), so what the folder holds there could not be backed up"
    )
}

/// The selected plots that use a grid, and the others with their modes.
type GridUsers = (Vec<Fid>, Vec<(Fid, Observed)>);

/// What the sharing rules for grids need to know of every plot of the account, kept compact
/// while the listing streams.
#[derive(Debug, Default)]
struct ShareIndex {
    /// The selected files.
    selected: FidSet,
    /// Each plot's mode, for the plots that use grids.
    modes: BTreeMap<Fid, Observed>,
    /// For each grid, the plots that use it.
    users: BTreeMap<Fid, Vec<Fid>>,
}

impl ShareIndex {
    fn add_plot(&mut self, plot: &File, grids: BTreeSet<Fid>) {
        if grids.is_empty() {
            return;
        }
        self.modes.insert(plot.fid.clone(), Sharing::of(plot));
        for grid in grids {
            self.users.entry(grid).or_default().push(plot.fid.clone());
        }
    }

    /// The grids that may follow selected plots, each with those plots and the other
    /// plots that use it (with their modes); selected grids are planned on their own.
    fn grids_following(&self) -> BTreeMap<Fid, GridUsers> {
        self.users
            .iter()
            .filter(|(grid, _)| !self.selected.contains(grid))
            .filter_map(|(grid, users)| {
                let (mut plots, others): (Vec<&Fid>, Vec<&Fid>) =
                    users.iter().partition(|plot| self.selected.contains(plot));
                if plots.is_empty() {
                    return None;
                }
                plots.sort();
                let mode_of =
                    |plot: &Fid| self.modes.get(plot).copied().unwrap_or(Observed::Unknown);
                let others = others.into_iter().map(|plot| (plot.clone(), mode_of(plot))).collect();
                Some((grid.clone(), (plots.into_iter().cloned().collect(), others)))
            })
            .collect()
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
