//! The summary of a run: done, skipped and failed per action, with the reason of each failure.

use std::collections::BTreeMap;

use chart_studio_models::Fid;
use serde::Serialize;

use crate::engine::Stop;
use crate::op::{Op, Outcome};

/// Counts of one action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActionCounts {
    /// Took effect.
    pub done: u64,
    /// Left alone on purpose.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Not started because the run stopped (quota, interruption, journal).
    pub not_started: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Counts per action (`update`, `trash`, `delete`, ...).
    pub actions: BTreeMap<String, ActionCounts>,
    /// Each failure: the file, the action and why.
    pub failures: Vec<(Fid, String, String)>,
    /// Each skip: the file and why.
    pub skipped: Vec<(Fid, String)>,
    /// Why the run stopped before its end, if it did; resume it to finish.
    pub stopped: Option<Stop>,
}

impl Report {
    /// Counts one operation's outcome (`None`: not started).
    pub fn record(&mut self, op: &Op, outcome: Option<&Outcome>) {
        let counts = self.actions.entry(op.kind.name().to_owned()).or_default();
        match outcome {
            Some(Outcome::Done { .. }) => counts.done += 1,
            Some(Outcome::Skipped { reason }) => {
                counts.skipped += 1;
                self.skipped.push((op.fid.clone(), reason.clone()));
            }
            Some(Outcome::Conflict { conflict }) => {
                counts.skipped += 1;
                self.skipped.push((
                    op.fid.clone(),
                    format!(
                        "not imported: {} holds {} with other content; left as it is",
                        conflict.path, conflict.found
                    ),
                ));
            }
            Some(Outcome::Failed { reason }) => {
                counts.failed += 1;
                self.failures.push((op.fid.clone(), op.kind.name().to_owned(), reason.clone()));
            }
            None => counts.not_started += 1,
        }
    }

    /// Whether any operation failed.
    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Totals over all actions.
    pub fn totals(&self) -> ActionCounts {
        self.actions.values().fold(ActionCounts::default(), |sum, c| ActionCounts {
            done: sum.done + c.done,
            skipped: sum.skipped + c.skipped,
            failed: sum.failed + c.failed,
            not_started: sum.not_started + c.not_started,
        })
    }
}
