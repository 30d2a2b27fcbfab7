//! The plans of bulk runs, from a selection to the operations a run journals and executes, and
//! how a finished run is undone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chart_studio_bulk::{
    DeleteRules, Engine, Failure, FidSet, Filter, FolderTree, JournalState, Op, OpKind, PlanFile,
    PlanWriter, Selected, Spill, delete_ops, export_ops, grids_of, listed, restore_ops,
    select_fids, trash_ops, undo_ops,
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

impl Selection {
    /// Whether the filter chooses `listed` as it streams by (named files are read on their own,
    /// see [`Planner::named`]).
    fn matches(&self, listed: &Selected) -> bool {
        match self {
            Self::Matching(filter) => filter.accepts(&listed.file, &listed.path),
            Self::Named(_) => false,
        }
    }
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
    fn unwritable(&self, err: std::io::Error) -> Error {
        Error::Run(Failure::Local(format!(
            "could not write the plan in {}: {err}",
            self.scratch.display()
        )))
    }

    /// A new plan, made by `make` from the selection set aside.
    fn plan(
        &self,
        gathered: &mut Gathered,
        make: impl FnOnce(&mut Spill<Selected>, &mut PlanWriter) -> std::io::Result<()>,
    ) -> Result<PlanFile, Error> {
        let unwritable = |err| self.unwritable(err);
        let mut plan = PlanWriter::new_in(self.scratch).map_err(unwritable)?;
        make(&mut gathered.selection, &mut plan).map_err(unwritable)?;
        plan.finish().map_err(unwritable)
    }

    /// Refuses, before anything is sent, the named files of other accounts: only a file's
    /// owner can `action` it, so a run could only fail on them.
    fn mine_only(&self, selection: &Selection, action: &str) -> Result<(), Error> {
        let Selection::Named(fids) = selection else { return Ok(()) };
        let theirs: Vec<String> = fids
            .iter()
            .filter(|fid| fid.owner() != self.me)
            .map(|fid| format!("{fid} belongs to {}; only its owner can {action} it", fid.owner()))
            .collect();
        if theirs.is_empty() {
            return Ok(());
        }
        Err(Error::Refused(format!("{}; nothing was changed", theirs.join("; "))))
    }

    /// Trash the selection (each file inside a chosen folder gets its own operation).
    pub async fn trash(&self, selection: &Selection) -> Result<PlanFile, Error> {
        self.mine_only(selection, "trash")?;
        let mut gathered = self.gather(selection, Source::Live).await?;
        self.plan(&mut gathered, trash_ops)
    }

    /// Restore the selection, chosen from the trash.
    pub async fn restore(&self, selection: &Selection) -> Result<PlanFile, Error> {
        self.mine_only(selection, "restore")?;
        let mut gathered = self.gather(selection, Source::Trash).await?;
        self.plan(&mut gathered, restore_ops)
    }

    /// Export the selection, with a picture of each plot in each of `images`' formats.
    pub async fn export(
        &self,
        selection: &Selection,
        images: &[chart_studio_api::images::ImageFormat],
    ) -> Result<PlanFile, Error> {
        let mut gathered = self.gather(selection, Source::Live).await?;
        self.plan(&mut gathered, |selection, plan| export_ops(selection, plan, images))
    }

    /// The files `selection` names, read one by one (none for a filter).
    async fn named(&self, selection: &Selection) -> Result<Vec<Selected>, Error> {
        Ok(match selection {
            Selection::Named(fids) => select_fids(self.engine, self.me, fids).await?,
            Selection::Matching(_) => Vec::new(),
        })
    }

    /// The files `selection` chooses from the listings `source` names, with everything inside
    /// the chosen folders, set aside on disk as the listings stream; only folders are held.
    async fn gather(&self, selection: &Selection, source: Source) -> Result<Gathered, Error> {
        let unwritable = |err| self.unwritable(err);
        let named = self.named(selection).await?;
        let named_fids: FidSet = named.iter().map(|s| s.file.fid.clone()).collect();
        let mut gathered = Gathered {
            account: Spill::new_in(self.scratch).map_err(unwritable)?,
            tree: FolderTree::default(),
            selection: Spill::new_in(self.scratch).map_err(unwritable)?,
            trash_unlisted: None,
        };
        for chosen in named {
            gathered.add(chosen, true).map_err(unwritable)?;
        }
        let chosen_from = listed(self.engine, self.me, source == Source::Trash).await?;
        let also_trash = match source {
            Source::LiveAndTrash => match listed(self.engine, self.me, true).await {
                Ok(trash) => Some(trash),
                Err(err) => {
                    gathered.trash_unlisted = Some(err);
                    None
                }
            },
            Source::Live | Source::Trash => None,
        };
        let mut chosen_from = std::pin::pin!(chosen_from);
        while let Some(listed) = chosen_from.try_next().await? {
            if named_fids.contains(&listed.file.fid) {
                continue;
            }
            let chosen = selection.matches(&listed);
            gathered.add(listed, chosen).map_err(unwritable)?;
        }
        if let Some(trash) = also_trash {
            let mut trash = std::pin::pin!(trash);
            loop {
                match trash.try_next().await {
                    Ok(Some(listed)) => gathered.add(listed, false).map_err(unwritable)?,
                    Ok(None) => break,
                    Err(err) => {
                        gathered.trash_unlisted = Some(err);
                        break;
                    }
                }
            }
        }
        let mut seen = FidSet::default();
        for entry in gathered.account.read().map_err(unwritable)? {
            let (listed, chosen) = entry.map_err(unwritable)?;
            if (chosen || gathered.tree.inside_chosen(&listed.file))
                && seen.insert(&listed.file.fid)
            {
                gathered.selection.push(&listed).map_err(unwritable)?;
            }
        }
        Ok(gathered)
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
        let named = self.named(selection).await?;
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
            if selection.matches(&listed) {
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
        self.mine_only(selection, "delete")?;
        let unwritable = |err| self.unwritable(err);
        let mut gathered = self.gather(selection, Source::LiveAndTrash).await?;
        let mut rules = DeleteRules {
            force,
            backup,
            folders_refused: gathered.trash_unlisted.as_ref().map(|err| format!(
                "the trash could not be listed ({err}), so what the folder holds there could not be backed up"
            )),
            ..DeleteRules::default()
        };
        let mut grids = FidSet::default();
        for selected in gathered.selection.read().map_err(unwritable)? {
            let selected = selected.map_err(unwritable)?;
            if selected.file.filetype == FileType::Grid {
                grids.insert(&selected.file.fid);
            }
        }
        if !grids.is_empty() {
            rules.grid_users = self.grid_users_staying(&mut gathered, &grids).await?;
        }
        self.plan(&mut gathered, |selection, plan| delete_ops(selection, &rules, plan))
    }

    /// For each of `grids`, the plots of `account` that stay (neither chosen nor inside a
    /// chosen folder) and use it, read from their figures `--jobs` at a time.
    async fn grid_users_staying(
        &self,
        gathered: &mut Gathered,
        grids: &FidSet,
    ) -> Result<BTreeMap<Fid, BTreeSet<Fid>>, Error> {
        let unwritable = |err| self.unwritable(err);
        let tree = &gathered.tree;
        let staying =
            gathered.account.read().map_err(unwritable)?.filter_map(|entry| match entry {
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

/// The listings a run's files are chosen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The live files.
    Live,
    /// The files in the trash.
    Trash,
    /// The live files; a chosen folder's files in the trash come with it.
    LiveAndTrash,
}

/// An account's files and a selection from them, set aside on disk.
struct Gathered {
    /// Every listed file, and whether it was chosen.
    account: Spill<(Selected, bool)>,
    /// The account's folders, and which were chosen.
    tree: FolderTree,
    /// The chosen files with everything inside the chosen folders, each once.
    selection: Spill<Selected>,
    /// Why the trash could not be listed, if it could not.
    trash_unlisted: Option<Failure>,
}

impl Gathered {
    fn add(&mut self, listed: Selected, chosen: bool) -> std::io::Result<()> {
        self.tree.add(&listed.file, chosen);
        self.account.push(&(listed, chosen))
    }
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

/// The secret links of `fids` as the server shows them now: after an undo makes files secret
/// again, the server has issued new keys, and these are the links that work.
pub async fn secret_links(
    client: &chart_studio_api::Client,
    fids: &[Fid],
) -> Result<Vec<(Fid, String)>, Error> {
    let mut links = Vec::new();
    for fid in fids {
        let file = client.send(&chart_studio_api::files::Retrieve::new(fid.clone())).await?;
        links.push((fid.clone(), chart_studio_sharing::file_link(&file)));
    }
    Ok(links)
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

/// What an operation changes, in words, from → to: `public → private`, `folder → trash`,
/// `backed up, then deleted for good`.
pub fn change(kind: &OpKind) -> String {
    let at = |path: &str| if path.is_empty() { "home".to_owned() } else { path.to_owned() };
    match kind {
        OpKind::Update { request, undo } => {
            let changes = &request.changes;
            match (Sharing::set_by(&undo.changes), Sharing::set_by(changes)) {
                (Some(from), Some(to)) if from != to => format!("{from} → {to}"),
                (_, Some(to)) => format!("→ {to}"),
                _ => match (&changes.filename, &changes.parent_path) {
                    (Some(name), _) => format!("renamed → {name}"),
                    (None, Some(path)) => format!("moved → {}", at(path)),
                    (None, None) => "metadata updated".to_owned(),
                },
            }
        }
        OpKind::Trash => "folder → trash".to_owned(),
        OpKind::Restore => "trash → folder".to_owned(),
        OpKind::Delete { backup: true, .. } => "backed up, then deleted for good".to_owned(),
        OpKind::Delete { backup: false, .. } => "deleted for good, no backup".to_owned(),
        OpKind::Backup { folder, .. } => format!("backed up (goes with folder {folder})"),
        OpKind::Export { path, .. } => format!("copied from {}", at(path)),
        OpKind::Image { format, .. } => format!("drawn as {format}"),
        OpKind::Import { entry, on_conflict } => {
            let over = match on_conflict {
                chart_studio_bulk::OnConflict::Skip => "",
                chart_studio_bulk::OnConflict::Overwrite => ", over what is there",
            };
            format!("backup → {}{over}", at(&entry.path))
        }
        OpKind::Skip { reason } => format!("left alone: {reason}"),
    }
}

/// How to undo the run `state` describes.
pub fn undo(state: &JournalState) -> Result<Undo, Error> {
    let done = state.done().map_err(|err| Error::Run(Failure::Local(err)))?;
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
