//! The journal: an append-only JSONL file, one record per line, each flushed to disk (fsync)
//! before the run goes on. It holds the run's header, every planned operation, and each
//! operation's outcome, so a run killed at any point (kill -9 included) can resume without
//! repeating finished work, and can be undone.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::{Op, Outcome};

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

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl Journal {
    /// Starts a new journal at `path` (it must not exist) holding the header and every planned
    /// operation. It appears whole or not at all: it is written aside, flushed, then renamed.
    pub fn create(path: &Path, header: &RunHeader, ops: &[Op]) -> std::io::Result<Self> {
        if path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists already", path.display()),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let temp = path.with_extension("jsonl.tmp");
        {
            let mut file = std::io::BufWriter::new(File::create(&temp)?);
            writeln!(file, "{}", serde_json::to_string(&Record::Run(header.clone()))?)?;
            for op in ops {
                writeln!(file, "{}", serde_json::to_string(&Record::Op(Box::new(op.clone())))?)?;
            }
            file.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        }
        std::fs::rename(&temp, path)?;
        Self::open(path)
    }

    /// Opens an existing journal to append to it. A last line cut short by a crash is cut off
    /// first (its operation had not finished, so it is redone), so new records start on a line
    /// of their own.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let contents = std::fs::read(path)?;
        if !contents.is_empty() && !contents.ends_with(b"\n") {
            let keep = contents.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Self { path: path.to_owned(), file: Arc::new(Mutex::new(file)) })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and flushes it to disk.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        write_line(&self.file, &serde_json::to_string(record)?)
    }

    /// [`Journal::append`] on a blocking thread, so that other requests go on while the disk
    /// flushes; returns once the record is on disk.
    pub async fn record(&self, record: &Record) -> std::io::Result<()> {
        let line = serde_json::to_string(record)?;
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || write_line(&file, &line))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Reads a journal. A last line cut short by a crash is ignored; any other bad line is an error.
    pub fn load(path: &Path) -> Result<JournalState, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("could not read {}: {err}", path.display()))?;
        let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        let mut header = None;
        let mut ops = Vec::new();
        let mut outcomes = BTreeMap::new();
        for (index, line) in lines.iter().enumerate() {
            let record: Record = match serde_json::from_str(line) {
                Ok(record) => record,
                Err(_) if index + 1 == lines.len() && !text.ends_with('\n') => break,
                Err(err) => return Err(format!("{} line {}: {err}", path.display(), index + 1)),
            };
            match record {
                Record::Run(run) => header = Some(run),
                Record::Op(op) => ops.push(*op),
                Record::Outcome { op, outcome } => {
                    outcomes.insert(op, outcome);
                }
            }
        }
        let header = header
            .ok_or_else(|| format!("{} has no run header; is it a journal?", path.display()))?;
        Ok(JournalState { header, ops, outcomes })
    }
}

fn write_line(file: &Mutex<File>, line: &str) -> std::io::Result<()> {
    let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    writeln!(file, "{line}")?;
    file.sync_data()
}

/// What a journal says.
#[derive(Debug, Clone)]
pub struct JournalState {
    /// The run.
    pub header: RunHeader,
    /// Every planned operation, in order.
    pub ops: Vec<Op>,
    /// The last outcome of each operation that has one.
    pub outcomes: BTreeMap<u64, Outcome>,
}

impl JournalState {
    /// The operations still to do: no outcome yet, or failed.
    pub fn pending(&self) -> Vec<Op> {
        self.ops
            .iter()
            .filter(|op| {
                !matches!(
                    self.outcomes.get(&op.id),
                    Some(Outcome::Done { .. } | Outcome::Skipped { .. })
                )
            })
            .cloned()
            .collect()
    }

    /// The operations that finished.
    pub fn done(&self) -> Vec<Op> {
        self.ops
            .iter()
            .filter(|op| matches!(self.outcomes.get(&op.id), Some(Outcome::Done { .. })))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpKind;
    use chart_studio_models::FileType;

    fn op(id: u64) -> Op {
        Op {
            id,
            phase: 0,
            fid: format!("a:{id}").parse().unwrap(),
            filetype: FileType::Plot,
            filename: "f".to_owned(),
            created: None,
            kind: OpKind::Trash,
        }
    }

    fn header() -> RunHeader {
        RunHeader {
            version: 1,
            command: "trash".to_owned(),
            api: "http://x".to_owned(),
            user: "a".to_owned(),
            dir: None,
        }
    }

    #[test]
    fn records_survive_a_reload_and_a_cut_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        let journal = Journal::create(&path, &header(), &[op(0), op(1), op(2)]).unwrap();
        journal
            .append(&Record::Outcome { op: 0, outcome: Outcome::Done { detail: None } })
            .unwrap();
        journal
            .append(&Record::Outcome { op: 1, outcome: Outcome::Failed { reason: "x".to_owned() } })
            .unwrap();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        write!(file, "{{\"record\":\"outcome\",\"op\":2,\"res").unwrap();
        let state = Journal::load(&path).unwrap();
        assert_eq!(state.header, header());
        assert_eq!(state.ops.len(), 3);
        let pending: Vec<u64> = state.pending().iter().map(|op| op.id).collect();
        assert_eq!(pending, [1, 2], "failed ops and ops without an outcome are redone");
        assert!(
            Journal::create(&path, &header(), &[]).is_err(),
            "an existing journal is never overwritten"
        );

        let reopened = Journal::open(&path).unwrap();
        reopened
            .append(&Record::Outcome { op: 2, outcome: Outcome::Done { detail: None } })
            .unwrap();
        let state = Journal::load(&path).unwrap();
        assert_eq!(state.outcomes.len(), 3, "the cut line is gone and the new record reads back");
        assert!(state.pending().iter().map(|op| op.id).eq([1]));
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        std::fs::write(
            &path,
            format!(
                "{}\nnot json\n{}\n",
                serde_json::to_string(&Record::Run(header())).unwrap(),
                serde_json::to_string(&Record::Op(Box::new(op(0)))).unwrap()
            ),
        )
        .unwrap();
        assert!(Journal::load(&path).unwrap_err().contains("line 2"));
        std::fs::write(&path, "").unwrap();
        assert!(Journal::load(&path).unwrap_err().contains("no run header"));
    }
}
