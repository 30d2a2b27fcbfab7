//! Planning: the updates that bring files, and the grids their plots use, to one mode.

use std::collections::{BTreeMap, BTreeSet};

use chart_studio_api::common::FileUpdate;
use chart_studio_api::files;
use chart_studio_models::{Fid, File, FileType};
use serde::{Deserialize, Serialize};

use crate::{Observed, Sharing};

/// What the planner is given.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// The requester: only their files are changed.
    pub me: String,
    /// The selected files, with the grids each plot's figure uses
    /// ([`chart_studio_models::referenced_grids`]; listings leave `references` empty, so the
    /// figure is the only source). `None` for files that are not plots.
    pub files: Vec<(File, Option<BTreeSet<Fid>>)>,
    /// The metadata of the grids the selected plots use, as far as it could be read.
    pub grids: BTreeMap<Fid, File>,
    /// For each such grid, the other plots known to use it (found in their figures), with their
    /// modes.
    pub grid_users: BTreeMap<Fid, BTreeMap<Fid, Observed>>,
    /// Change the grids of the selected plots too (the default), so that a link shows its data.
    pub include_grids: bool,
}

/// Why a file is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "plots")]
pub enum Reason {
    /// It was selected.
    Selected,
    /// It is the grid of these selected plots.
    GridOf(Vec<Fid>),
}

/// One update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The file.
    pub fid: Fid,
    /// Its kind.
    pub filetype: FileType,
    /// Its name.
    pub filename: String,
    /// Its mode now.
    pub from: Observed,
    /// Its mode after the update.
    pub to: Sharing,
    /// Why it is changed.
    pub reason: Reason,
    /// The exact request: `PATCH /v2/files/{fid}` with JSON booleans.
    pub request: files::Update,
    /// The request that puts the file back as it was: its former mode, sent as booleans. When
    /// the former mode is unknown it repeats `request`. Undoing a move away from secret
    /// enables the link again, and the server issues a new key: the old link stays dead.
    pub undo: files::Update,
    /// Steps of phase 0 all finish before those of phase 1 start (see [`Plan`]).
    pub phase: u8,
}

/// The ordered updates. Opening up (public, secret) changes grids before their plots, so a plot
/// never shows without its data; closing down (private) changes plots first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The mode everything moves to.
    pub target: Sharing,
    /// The updates, in the order to send them.
    pub steps: Vec<Step>,
}

/// Something the plan leaves out, or that the user should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Diagnostic {
    /// Nothing to do for this file.
    AlreadyInMode {
        /// The file.
        fid: Fid,
        /// Its (target) mode.
        mode: Sharing,
    },
    /// Only the owner can change a file's sharing.
    NotOwned {
        /// The file.
        fid: Fid,
        /// Its owner.
        owner: String,
    },
    /// The owner-only fields were not visible, so the current mode is unknown; updated anyway.
    AdminFieldsHidden {
        /// The file.
        fid: Fid,
    },
    /// A plot refers to a grid that could not be read; the grid is left alone.
    GridUnreadable {
        /// The grid.
        grid: Fid,
        /// The selected plots using it.
        plots: Vec<Fid>,
    },
    /// Other plots use the grid in another mode; changing it would change what they show, so
    /// it is left alone.
    GridSharedAcrossModes {
        /// The grid.
        grid: Fid,
        /// The other plots and their modes.
        others: Vec<(Fid, Observed)>,
    },
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AlreadyInMode { fid, mode } => write!(f, "{fid} is already {mode}"),
            Self::NotOwned { fid, owner } => {
                write!(f, "{fid} belongs to {owner}; only its owner can change its sharing")
            }
            Self::AdminFieldsHidden { fid } => {
                write!(
                    f,
                    "{fid}: the owner-only sharing fields were not visible; its current mode is unknown"
                )
            }
            Self::GridUnreadable { grid, plots } => {
                write!(
                    f,
                    "grid {grid} (used by {}) could not be read; it was left as it is",
                    join(plots)
                )
            }
            Self::GridSharedAcrossModes { grid, others } => {
                let others: Vec<String> =
                    others.iter().map(|(fid, mode)| format!("{fid} ({mode})")).collect();
                write!(f, "grid {grid} is also used by {}; it was left as it is", others.join(", "))
            }
        }
    }
}

fn join(fids: &[Fid]) -> String {
    fids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The fids a `references` or `referencers` field lists (as strings, or objects with a `fid`).
pub fn listed_fids(list: Option<&Vec<serde_json::Value>>) -> BTreeSet<Fid> {
    list.into_iter()
        .flatten()
        .filter_map(|value| value.as_str().or_else(|| value.get("fid")?.as_str())?.parse().ok())
        .collect()
}

/// The request that puts `fid` in `mode`.
fn update_to(fid: &Fid, mode: Sharing) -> files::Update {
    let (world_readable, share_key_enabled) = mode.fields();
    files::Update::patch(
        fid.clone(),
        FileUpdate::default().sharing(world_readable, share_key_enabled),
    )
}

fn step(file: &File, to: Sharing, reason: Reason) -> Step {
    let from = Sharing::of(file);
    let request = update_to(&file.fid, to);
    let undo = match from {
        Observed::Known(before) => update_to(&file.fid, before),
        Observed::Unknown => request.clone(),
    };
    // Grids open before their plots and close after them.
    let phase = u8::from(matches!(reason, Reason::GridOf(_)) == (to == Sharing::Private));
    Step {
        fid: file.fid.clone(),
        filetype: file.filetype.clone(),
        filename: file.filename.clone(),
        from,
        to,
        reason,
        request,
        undo,
        phase,
    }
}

/// The step that brings selected `file` to `target`, if one is needed; what the user should
/// know about it goes to `diagnostics`. The rule for each selected file, on its own.
pub fn selected_step(
    me: &str,
    file: &File,
    target: Sharing,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Step> {
    if file.fid.owner() != me {
        diagnostics.push(Diagnostic::NotOwned {
            fid: file.fid.clone(),
            owner: file.fid.owner().to_owned(),
        });
        return None;
    }
    match Sharing::of(file) {
        Observed::Known(mode) if mode == target => {
            diagnostics.push(Diagnostic::AlreadyInMode { fid: file.fid.clone(), mode });
            None
        }
        observed => {
            if observed == Observed::Unknown {
                diagnostics.push(Diagnostic::AdminFieldsHidden { fid: file.fid.clone() });
            }
            Some(step(file, target, Reason::Selected))
        }
    }
}

/// The step that brings `grid` (`None`: it could not be read) along with the selected `plots`
/// that use it, if one is needed. `others` are the other plots known to use it, with their
/// modes: a grid that one of them shows in another mode is left alone.
pub fn grid_step(
    me: &str,
    (fid, grid): (&Fid, Option<&File>),
    plots: Vec<Fid>,
    others: impl IntoIterator<Item = (Fid, Observed)>,
    target: Sharing,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Step> {
    let Some(file) = grid else {
        diagnostics.push(Diagnostic::GridUnreadable { grid: fid.clone(), plots });
        return None;
    };
    if fid.owner() != me {
        diagnostics.push(Diagnostic::NotOwned { owner: fid.owner().to_owned(), fid: fid.clone() });
        return None;
    }
    let others: Vec<(Fid, Observed)> =
        others.into_iter().filter(|(_, mode)| *mode != Observed::Known(target)).collect();
    if !others.is_empty() {
        diagnostics.push(Diagnostic::GridSharedAcrossModes { grid: fid.clone(), others });
        return None;
    }
    (Sharing::of(file) != Observed::Known(target))
        .then(|| step(file, target, Reason::GridOf(plots)))
}

/// Plans the move of `input`'s files to `target`.
pub fn plan(input: &PlanInput, target: Sharing) -> (Plan, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut selected_steps = Vec::new();
    let selected: BTreeSet<&Fid> = input.files.iter().map(|(file, _)| &file.fid).collect();
    let mut grid_plots: BTreeMap<Fid, Vec<Fid>> = BTreeMap::new();
    for (file, grids) in &input.files {
        selected_steps.extend(selected_step(&input.me, file, target, &mut diagnostics));
        if input.include_grids && file.fid.owner() == input.me {
            for grid in grids.iter().flatten() {
                if !selected.contains(grid) {
                    grid_plots.entry(grid.clone()).or_default().push(file.fid.clone());
                }
            }
        }
    }
    let mut grid_steps = Vec::new();
    for (grid, plots) in grid_plots {
        let others = input
            .grid_users
            .get(&grid)
            .into_iter()
            .flatten()
            .filter(|(plot, _)| !selected.contains(plot))
            .map(|(plot, mode)| (plot.clone(), *mode));
        let file = input.grids.get(&grid);
        grid_steps.extend(grid_step(
            &input.me,
            (&grid, file),
            plots,
            others,
            target,
            &mut diagnostics,
        ));
    }
    let steps = if target == Sharing::Private {
        selected_steps.into_iter().chain(grid_steps).collect()
    } else {
        grid_steps.into_iter().chain(selected_steps).collect()
    };
    (Plan { target, steps }, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(fid: &str, kind: FileType, mode: Option<Sharing>) -> File {
        let mut file = File::new(fid.parse().unwrap(), fid.replace(':', "-"), kind);
        if let Some(mode) = mode {
            let (world_readable, share_key_enabled) = mode.fields();
            file.world_readable = Some(world_readable);
            file.share_key_enabled = Some(share_key_enabled);
        }
        file
    }

    fn plot(fid: &str, mode: Sharing, grid: &str) -> (File, Option<BTreeSet<Fid>>) {
        let figure =
            json!({"data": [{"xsrc": format!("{grid}:a1"), "ysrc": format!("{grid}:b2")}]});
        (
            file(fid, FileType::Plot, Some(mode)),
            Some(chart_studio_models::referenced_grids(&figure)),
        )
    }

    fn fids(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(|s| s.fid.to_string()).collect()
    }

    #[test]
    fn opening_up_changes_grids_first_and_closing_down_plots_first() {
        let input = PlanInput {
            me: "me".to_owned(),
            files: vec![plot("me:2", Sharing::Private, "me:1")],
            grids: BTreeMap::from([(
                "me:1".parse().unwrap(),
                file("me:1", FileType::Grid, Some(Sharing::Private)),
            )]),
            include_grids: true,
            ..PlanInput::default()
        };
        let (secret, diagnostics) = plan(&input, Sharing::Secret);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(fids(&secret), ["me:1", "me:2"]);
        assert_eq!(secret.steps[0].reason, Reason::GridOf(vec!["me:2".parse().unwrap()]));
        let body = serde_json::to_value(&secret.steps[1].request.changes).unwrap();
        assert_eq!(body, json!({"world_readable": false, "share_key_enabled": true}));

        let mut public = input.clone();
        public.files = vec![plot("me:2", Sharing::Public, "me:1")];
        public
            .grids
            .insert("me:1".parse().unwrap(), file("me:1", FileType::Grid, Some(Sharing::Public)));
        let (private, _) = plan(&public, Sharing::Private);
        assert_eq!(fids(&private), ["me:2", "me:1"]);
        assert_eq!(private.steps[0].from, Observed::Known(Sharing::Public));
    }

    #[test]
    fn listing_references_are_never_trusted() {
        let mut plot = file("me:2", FileType::Plot, Some(Sharing::Private));
        plot.references = Some(vec![json!("me:1")]);
        let input = PlanInput {
            me: "me".to_owned(),
            files: vec![(plot, Some(BTreeSet::new()))],
            grids: BTreeMap::from([(
                "me:1".parse().unwrap(),
                file("me:1", FileType::Grid, Some(Sharing::Private)),
            )]),
            include_grids: true,
            ..PlanInput::default()
        };
        assert_eq!(fids(&plan(&input, Sharing::Public).0), ["me:2"], "only the figure names grids");
    }

    #[test]
    fn steps_carry_their_phase_and_undo() {
        let input = PlanInput {
            me: "me".to_owned(),
            files: vec![plot("me:2", Sharing::Secret, "me:1")],
            grids: BTreeMap::from([(
                "me:1".parse().unwrap(),
                file("me:1", FileType::Grid, Some(Sharing::Public)),
            )]),
            include_grids: true,
            ..PlanInput::default()
        };
        let (private, _) = plan(&input, Sharing::Private);
        let phases: Vec<u8> = private.steps.iter().map(|s| s.phase).collect();
        assert_eq!(phases, [0, 1], "plots close first");
        assert_eq!(private.steps[0].undo, update_to(&"me:2".parse().unwrap(), Sharing::Secret));
        assert_eq!(private.steps[1].undo, update_to(&"me:1".parse().unwrap(), Sharing::Public));
        let (public, _) = plan(&input, Sharing::Public);
        assert_eq!(
            public.steps.iter().map(|s| s.phase).collect::<Vec<_>>(),
            [1],
            "plots open after grids"
        );
    }

    #[test]
    fn no_grids_leaves_grids_alone() {
        let input = PlanInput {
            me: "me".to_owned(),
            files: vec![plot("me:2", Sharing::Private, "me:1")],
            grids: BTreeMap::from([(
                "me:1".parse().unwrap(),
                file("me:1", FileType::Grid, Some(Sharing::Private)),
            )]),
            include_grids: false,
            ..PlanInput::default()
        };
        assert_eq!(fids(&plan(&input, Sharing::Public).0), ["me:2"]);
    }

    #[test]
    fn diagnostics() {
        let shared_grid: Fid = "me:1".parse().unwrap();
        let input = PlanInput {
            me: "me".to_owned(),
            files: vec![
                plot("me:2", Sharing::Public, "me:1"),
                plot("me:3", Sharing::Private, "me:1"),
                (file("me:4", FileType::Grid, Some(Sharing::Public)), None),
                (file("other:5", FileType::Plot, Some(Sharing::Private)), None),
                (file("me:6", FileType::Plot, None), None),
                plot("me:7", Sharing::Private, "me:40"),
                plot("me:8", Sharing::Private, "other:9"),
            ],
            grids: BTreeMap::from([
                (shared_grid.clone(), file("me:1", FileType::Grid, Some(Sharing::Private))),
                (
                    "other:9".parse().unwrap(),
                    file("other:9", FileType::Grid, Some(Sharing::Public)),
                ),
            ]),
            grid_users: BTreeMap::from([(
                shared_grid.clone(),
                BTreeMap::from([
                    ("me:2".parse().unwrap(), Observed::Known(Sharing::Public)),
                    ("me:10".parse().unwrap(), Observed::Known(Sharing::Private)),
                ]),
            )]),
            include_grids: true,
        };
        let (plan, diagnostics) = plan(&input, Sharing::Public);
        assert_eq!(fids(&plan), ["me:3", "me:6", "me:7", "me:8"]);
        let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "me:2 is already public",
                "me:4 is already public",
                "other:5 belongs to other; only its owner can change its sharing",
                "me:6: the owner-only sharing fields were not visible; its current mode is unknown",
                "grid me:1 is also used by me:10 (private); it was left as it is",
                "grid me:40 (used by me:7) could not be read; it was left as it is",
                "other:9 belongs to other; only its owner can change its sharing",
            ]
        );
    }

    #[test]
    fn the_same_input_gives_the_same_plan() {
        let input = PlanInput {
            me: "me".to_owned(),
            files: (0..20)
                .rev()
                .map(|i| plot(&format!("me:{}", 100 + i), Sharing::Private, &format!("me:{i}")))
                .collect(),
            grids: (0..20)
                .map(|i| {
                    (
                        format!("me:{i}").parse().unwrap(),
                        file(&format!("me:{i}"), FileType::Grid, Some(Sharing::Private)),
                    )
                })
                .collect(),
            include_grids: true,
            ..PlanInput::default()
        };
        let first = plan(&input, Sharing::Secret);
        assert_eq!(first, plan(&input, Sharing::Secret));
        assert_eq!(first.0.steps.len(), 40);
    }
}
