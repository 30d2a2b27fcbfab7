//! Planning: from selected files to the operations of a run.
//!
//! Two facts of the service shape every plan. A folder is trashed and deleted with everything
//! inside it, so a selected folder stands for its whole subtree, and every file in it is planned,
//! shown and backed up like a file selected by name. Listings leave `references` and
//! `referencers` empty, so which grids a plot uses is read from its figure.

use std::collections::{BTreeMap, BTreeSet};

use chart_studio_api::plots;
use chart_studio_models::{Fid, File, FileType, referenced_grids};

use crate::engine::{Engine, Failure, is_not_found};
use crate::op::{Op, OpKind, Subtree};
use crate::planned::PlanWriter;
use crate::select::{Selected, file_path};
use crate::spill::Spill;

/// The grids `plot` uses: from the figure a listing carried, else by reading the plot's
/// content. A plot that is gone uses nothing.
pub async fn grids_of(engine: &Engine, plot: &File) -> Result<BTreeSet<Fid>, Failure> {
    if let Some(figure) = plot.extra.get("figure").filter(|figure| figure.is_object()) {
        return Ok(referenced_grids(figure));
    }
    match engine.send(&plots::Content::new(plot.fid.clone())).await {
        Ok(figure) => Ok(referenced_grids(&figure)),
        Err(Failure::Request(err)) if is_not_found(&err) => Ok(BTreeSet::new()),
        Err(err) => Err(err),
    }
}

/// How deep a file lies: 0 at home.
fn depth(selected: &Selected) -> usize {
    if selected.path.is_empty() { 0 } else { selected.path.matches('/').count() + 1 }
}

/// The folders of an account and which were chosen: what tells whether a file lies inside a
/// chosen folder, at any depth. Only folders are kept.
#[derive(Debug, Default)]
pub struct FolderTree {
    parent_of: BTreeMap<u64, i64>,
    chosen: BTreeSet<u64>,
}

impl FolderTree {
    /// Notes `file` of the account, `chosen` or not (only folders count).
    pub fn add(&mut self, file: &File, chosen: bool) {
        if file.filetype == FileType::Folder {
            let id = file.fid.idlocal();
            self.parent_of.insert(id, file.parent.unwrap_or(chart_studio_models::HOME_FOLDER));
            if chosen {
                self.chosen.insert(id);
            }
        }
    }

    /// Whether any folder was chosen.
    pub fn has_chosen(&self) -> bool {
        !self.chosen.is_empty()
    }

    /// Whether `file` lies inside a chosen folder.
    pub fn inside_chosen(&self, file: &File) -> bool {
        let mut current = file.parent;
        for _ in 0..=self.parent_of.len() {
            let Some(folder) = current.and_then(|id| u64::try_from(id).ok()) else { return false };
            if self.chosen.contains(&folder) {
                return true;
            }
            current = self.parent_of.get(&folder).copied();
        }
        false
    }
}

/// One operation per selected file, in order; `kind_and_phase` says which.
fn each(
    selection: &mut Spill<Selected>,
    plan: &mut PlanWriter,
    mut kind_and_phase: impl FnMut(&Selected) -> (OpKind, u8),
) -> std::io::Result<()> {
    for selected in selection.read()? {
        let selected = selected?;
        let (kind, phase) = kind_and_phase(&selected);
        plan.push(Op::of(0, phase, &selected.file, kind))?;
    }
    Ok(())
}

/// The phase of a folder whose contents must go first: the deepest folders first, after the
/// phases before `first`.
fn folder_phase(first: u8, selected: &Selected, deepest: usize) -> u8 {
    let from_bottom = deepest.saturating_sub(depth(selected));
    first.saturating_add(u8::try_from(from_bottom).unwrap_or(u8::MAX - first))
}

/// The depth of the deepest folder.
fn deepest_folder(selection: &mut Spill<Selected>) -> std::io::Result<usize> {
    let mut deepest = 0;
    for selected in selection.read()? {
        let selected = selected?;
        if selected.file.filetype == FileType::Folder {
            deepest = deepest.max(depth(&selected));
        }
    }
    Ok(deepest)
}

/// Trash: files first, then folders from the deepest up (each file gets its own operation, so
/// the plan and the summary show everything a folder takes with it, and undo restores it).
pub fn trash_ops(selection: &mut Spill<Selected>, plan: &mut PlanWriter) -> std::io::Result<()> {
    let deepest = deepest_folder(selection)?;
    each(selection, plan, |s| match s.file.filetype {
        FileType::Folder => (OpKind::Trash, folder_phase(1, s, deepest)),
        _ => (OpKind::Trash, 0),
    })
}

/// Restore: folders from the top down (a file restored into a folder still in the trash would
/// stay out of sight), then files.
pub fn restore_ops(selection: &mut Spill<Selected>, plan: &mut PlanWriter) -> std::io::Result<()> {
    let deepest = deepest_folder(selection)?;
    let folders = u8::try_from(deepest + 1).unwrap_or(u8::MAX);
    each(selection, plan, |s| match s.file.filetype {
        FileType::Folder => (OpKind::Restore, u8::try_from(depth(s)).unwrap_or(u8::MAX)),
        _ => (OpKind::Restore, folders),
    })
}

/// Export: every file, then a picture of each plot in each of `images`' formats.
pub fn export_ops(
    selection: &mut Spill<Selected>,
    plan: &mut PlanWriter,
    images: &[chart_studio_api::images::ImageFormat],
) -> std::io::Result<()> {
    for selected in selection.read()? {
        let s = selected?;
        let export = OpKind::Export { path: s.path.clone(), meta: Some(Box::new(s.file.clone())) };
        plan.push(Op::of(0, 0, &s.file, export))?;
        if s.file.filetype == FileType::Plot {
            for format in images {
                let image = OpKind::Image { path: s.path.clone(), format: *format };
                plan.push(Op::of(0, 1, &s.file, image))?;
            }
        }
    }
    Ok(())
}

/// Whether a backup of this kind of file can re-create it.
pub fn restorable(filetype: &FileType) -> bool {
    matches!(
        filetype,
        FileType::Plot
            | FileType::Grid
            | FileType::Folder
            | FileType::Dashboard
            | FileType::Presentation
    )
}

/// What a delete must respect.
#[derive(Debug, Clone, Default)]
pub struct DeleteRules {
    /// For each selected grid, the plots outside the selection known to use it (from their
    /// figures).
    pub grid_users: BTreeMap<Fid, BTreeSet<Fid>>,
    /// Delete grids that plots outside the selection still use.
    pub force: bool,
    /// Back each file up (and verify the backup) before deleting it.
    pub backup: bool,
    /// Why folders cannot be deleted at all, if so (such as a trash that could not be listed).
    pub folders_refused: Option<String>,
}

impl DeleteRules {
    /// Why `selected` must be left alone on its own, if so.
    fn kept_reason(&self, selected: &Selected) -> Option<String> {
        let file = &selected.file;
        if !restorable(&file.filetype) {
            return Some(format!(
                "refused: a {} cannot be re-created from a backup, so it is never deleted for good",
                file.filetype
            ));
        }
        if file.filetype == FileType::Folder {
            return self.folders_refused.clone();
        }
        let users: Vec<String> =
            self.grid_users.get(&file.fid).into_iter().flatten().map(ToString::to_string).collect();
        (file.filetype == FileType::Grid && !users.is_empty() && !self.force)
            .then(|| format!("still used by {}; --force deletes it anyway", users.join(", ")))
    }
}

/// Whether a file in folder `path` lies in folder `folder` (a path), at any depth.
fn lies_in(path: &str, folder: &str) -> bool {
    path == folder || path.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
}

/// Delete: plots (and other files) first, then grids, then folders from the deepest up. With
/// backups, a folder whose whole subtree goes is deleted in one step once every file inside is
/// backed up (the server deletes a folder with what it holds). Left alone, with the reason:
/// files a backup cannot re-create, grids that plots outside the selection use (unless
/// `force`), and any folder holding a file that is left alone, since deleting the folder would
/// delete that file with it.
///
/// The selection is read from disk three times; only its folders, the files left alone and
/// the files of folders deleted whole are held in memory.
pub fn delete_ops(
    selection: &mut Spill<Selected>,
    rules: &DeleteRules,
    plan: &mut PlanWriter,
) -> std::io::Result<()> {
    let mut kept: BTreeMap<Fid, (String, String)> = BTreeMap::new();
    let mut folder_paths: BTreeMap<String, Fid> = BTreeMap::new();
    let mut deepest = 0;
    for selected in selection.read()? {
        let s = selected?;
        if s.file.filetype == FileType::Folder {
            deepest = deepest.max(depth(&s));
            folder_paths.insert(file_path(&s.path, &s.file.filename), s.file.fid.clone());
        }
        if let Some(reason) = rules.kept_reason(&s) {
            kept.insert(s.file.fid, (reason, s.path));
        }
    }
    // A folder holding a kept file (at any depth) is kept too.
    let mut holding: BTreeMap<&Fid, Vec<String>> = BTreeMap::new();
    for (fid, (_, at)) in &kept {
        for (path, folder) in &folder_paths {
            if lies_in(at, path) {
                holding.entry(folder).or_default().push(fid.to_string());
            }
        }
    }
    // With backups, a folder deleted with everything in it goes in one trash and one delete,
    // after every file inside is backed up: the outermost such folders, by path.
    let deleted: Vec<(&str, &Fid)> = folder_paths
        .iter()
        .filter(|(_, fid)| rules.backup && !kept.contains_key(*fid) && !holding.contains_key(*fid))
        .map(|(path, fid)| (path.as_str(), fid))
        .collect();
    let whole: Vec<(&str, &Fid)> = deleted
        .iter()
        .filter(|(path, _)| {
            !deleted.iter().any(|(outer, _)| *outer != *path && lies_in(path, outer))
        })
        .copied()
        .collect();
    let whole_folder_of = |s: &Selected| -> Option<&Fid> {
        whole.iter().find(|(path, _)| lies_in(&s.path, path)).map(|(_, fid)| *fid)
    };
    let mut inside: BTreeMap<&Fid, Subtree> = BTreeMap::new();
    if !whole.is_empty() {
        for selected in selection.read()? {
            let s = selected?;
            if let Some(folder) = whole_folder_of(&s) {
                let subtree = inside.entry(folder).or_default();
                let set = if s.file.filetype == FileType::Folder {
                    &mut subtree.folders
                } else {
                    &mut subtree.files
                };
                set.insert(&s.file.fid);
            }
        }
    }
    for selected in selection.read()? {
        let s = selected?;
        let phase = match s.file.filetype {
            FileType::Folder => folder_phase(2, &s, deepest),
            FileType::Grid => 1,
            _ => 0,
        };
        let reason = kept.get(&s.file.fid).map(|(reason, _)| reason.clone()).or_else(|| {
            holding.get(&s.file.fid).map(|files| {
                format!(
                    "holds files that are kept ({}); deleting the folder would delete them",
                    files.join(", ")
                )
            })
        });
        let meta = rules.backup.then(|| Box::new(s.file.clone()));
        let (kind, phase) = match (reason, whole_folder_of(&s)) {
            (Some(reason), _) => (OpKind::Skip { reason }, phase),
            (None, Some(folder)) => {
                (OpKind::Backup { path: s.path.clone(), meta, folder: folder.clone() }, 0)
            }
            (None, None) => (
                OpKind::Delete {
                    backup: rules.backup,
                    path: s.path.clone(),
                    meta,
                    subtree: inside.remove(&s.file.fid),
                },
                phase,
            ),
        };
        plan.push(Op::of(0, phase, &s.file, kind))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FidSet;

    fn at(fid: &str, kind: FileType, parent: i64, path: &str) -> Selected {
        let mut file = File::new(fid.parse().unwrap(), fid.replace(':', "_"), kind);
        file.parent = Some(parent);
        Selected { file, path: path.to_owned() }
    }

    /// home: folder a:0 "a_0" holding plot a:1, grid a:2 and folder a:3 "a_3", which holds
    /// app a:4 (a kind no backup re-creates) and plot a:5; plot a:6 at home uses grid a:2.
    fn account() -> Vec<Selected> {
        vec![
            at("a:0", FileType::Folder, -1, ""),
            at("a:1", FileType::Plot, 0, "a_0"),
            at("a:2", FileType::Grid, 0, "a_0"),
            at("a:3", FileType::Folder, 0, "a_0"),
            at("a:4", FileType::Other("dash_app".to_owned()), 3, "a_0/a_3"),
            at("a:5", FileType::Plot, 3, "a_0/a_3"),
            at("a:6", FileType::Plot, -1, ""),
        ]
    }

    fn delete(selection: &[Selected], rules: &DeleteRules) -> Vec<Op> {
        planned(selection, |spill, plan| delete_ops(spill, rules, plan))
    }

    fn plan(ops: &[Op]) -> Vec<(String, &'static str, u8)> {
        ops.iter().map(|op| (op.fid.to_string(), op.kind.name(), op.phase)).collect()
    }

    /// The fids inside the chosen folders of `all`.
    fn inside(all: &[Selected], chosen: &[usize]) -> Vec<String> {
        let mut tree = FolderTree::default();
        for (index, selected) in all.iter().enumerate() {
            tree.add(&selected.file, chosen.contains(&index));
        }
        all.iter().filter(|s| tree.inside_chosen(&s.file)).map(|s| s.file.fid.to_string()).collect()
    }

    #[test]
    fn a_folder_stands_for_its_subtree() {
        let all = account();
        assert_eq!(inside(&all, &[3]), ["a:4", "a:5"]);
        assert_eq!(inside(&all, &[0]), ["a:1", "a:2", "a:3", "a:4", "a:5"], "at any depth");
        assert!(inside(&all, &[6]).is_empty(), "a plot holds nothing");
    }

    /// The operations `make` plans for `selection`, spilled as a run spills it.
    fn planned(
        selection: &[Selected],
        make: impl FnOnce(&mut Spill<Selected>, &mut PlanWriter) -> std::io::Result<()>,
    ) -> Vec<Op> {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new_in(dir.path()).unwrap();
        for selected in selection {
            spill.push(selected).unwrap();
        }
        let mut plan = PlanWriter::new_in(dir.path()).unwrap();
        make(&mut spill, &mut plan).unwrap();
        plan.finish().unwrap().ops().unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn delete_keeps_what_cannot_come_back_and_the_folders_holding_it() {
        let all = account();
        let selection = all[..6].to_vec();
        let users =
            BTreeMap::from([("a:2".parse().unwrap(), BTreeSet::from(["a:6".parse().unwrap()]))]);
        let rules = DeleteRules { grid_users: users, backup: true, ..DeleteRules::default() };
        let ops = delete(&selection, &rules);
        assert_eq!(
            plan(&ops),
            [
                ("a:0".to_owned(), "skip", 3),
                ("a:1".to_owned(), "delete", 0),
                ("a:2".to_owned(), "skip", 1),
                ("a:3".to_owned(), "skip", 2),
                ("a:4".to_owned(), "skip", 0),
                ("a:5".to_owned(), "delete", 0),
            ]
        );
        let reason = |i: usize| match &ops[i].kind {
            OpKind::Skip { reason } => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason(2).contains("still used by a:6"), "{}", reason(2));
        assert!(reason(4).starts_with("refused: a dash_app"), "{}", reason(4));
        assert!(reason(3).contains("a:4"), "{}", reason(3));
        assert!(reason(0).contains("a:2") && reason(0).contains("a:4"), "{}", reason(0));

        let forced = DeleteRules { force: true, ..rules.clone() };
        let mut without_app = selection.clone();
        without_app.retain(|s| !matches!(s.file.filetype, FileType::Other(_)));
        let ops = delete(&without_app, &forced);
        assert_eq!(
            plan(&ops),
            [
                ("a:0".to_owned(), "delete", 3),
                ("a:1".to_owned(), "backup", 0),
                ("a:2".to_owned(), "backup", 0),
                ("a:3".to_owned(), "backup", 0),
                ("a:5".to_owned(), "backup", 0),
            ],
            "a folder that goes whole is deleted once, after its files are backed up"
        );
        let OpKind::Delete { subtree: Some(subtree), .. } = &ops[0].kind else {
            panic!("{:?}", ops[0].kind)
        };
        let names = |set: &FidSet| set.iter().map(|fid| fid.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&subtree.files), ["a:1", "a:2", "a:5"]);
        assert_eq!(names(&subtree.folders), ["a:3"]);
        let no_backup = DeleteRules { backup: false, ..forced.clone() };
        let ops = delete(&without_app, &no_backup);
        assert!(ops.iter().all(|op| op.kind.name() == "delete"), "{:?}", plan(&ops));
        let refused = DeleteRules { folders_refused: Some("no trash".to_owned()), ..forced };
        let ops = delete(&without_app, &refused);
        assert_eq!(ops.iter().filter(|op| op.kind.name() == "skip").count(), 2);
    }

    #[test]
    fn trash_and_restore_order_folders() {
        let all = account();
        let trash = planned(&all, trash_ops);
        let trash: Vec<_> = plan(&trash).into_iter().map(|(f, _, p)| (f, p)).collect();
        assert_eq!(trash[0], ("a:0".to_owned(), 2), "the top folder goes last");
        assert_eq!(trash[3], ("a:3".to_owned(), 1));
        assert_eq!(trash[1].1, 0);
        let restore = planned(&all, restore_ops);
        assert_eq!((restore[0].phase, restore[3].phase, restore[1].phase), (0, 1, 2));
    }
}
