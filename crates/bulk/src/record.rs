//! The lines of a journal: the run's header (with the plan's seal), planned operations and
//! their outcomes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::op::{Op, Outcome};

/// What the run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// Journal format version, 1.
    pub version: u32,
    /// The command, such as `share private` or `delete`.
    pub command: String,
    /// The API the run talks to.
    pub api: String,
    /// The account.
    pub user: String,
    /// Where backups or exports go, if anywhere.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// The plan's size and checksum, set when the journal is created; a journal whose plan no
    /// longer matches is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSeal>,
}

/// How many operations the plan has, and the SHA-256 of their journal lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSeal {
    /// The number of operations.
    pub ops: u64,
    /// The SHA-256, in hex, of the operations' lines, each ended by a newline.
    pub sha256: String,
}

impl PlanSeal {
    pub(crate) fn start() -> Sealing {
        Sealing { hasher: Sha256::new(), ops: 0 }
    }
}

/// A [`PlanSeal`] being computed, one line at a time.
#[derive(Debug)]
pub(crate) struct Sealing {
    hasher: Sha256,
    ops: u64,
}

impl Sealing {
    pub(crate) fn add(&mut self, line: &str) {
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        self.ops += 1;
    }

    pub(crate) fn finish(self) -> PlanSeal {
        let sha256 = self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        PlanSeal { ops: self.ops, sha256 }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The first line.
    Run(RunHeader),
    /// A planned operation (all are written before any is run).
    Op(Box<Op>),
    /// What happened to operation `op`.
    Outcome {
        /// The operation's id.
        op: u64,
        /// What happened.
        #[serde(flatten)]
        outcome: Outcome,
    },
}
