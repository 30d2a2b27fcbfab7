//! The journal: an append-only JSONL file, one record per line, each flushed to disk (fsync)
//! before the run goes on. It holds the run's header, every planned operation, and each
//! operation's outcome, so a run killed at any point (kill -9 included) can resume without
//! repeating finished work, and can be undone.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::files::{append_line, create_private_dir, end_torn_line, open_append, private_options};
use crate::op::{Op, Outcome};
use crate::planned::PlanFile;
use crate::record::{PlanSeal, Record, RunHeader};

/// An open journal, held exclusively: while it is open, no other run (in this or another
/// process) can resume, undo or append to it.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl Journal {
    /// Starts a new journal at `path` (it must not exist) holding the header, sealed with the
    /// plan's size and checksum, and every planned operation. It appears whole or not at all:
    /// it is written aside (readable by the owner only), flushed, then renamed.
    pub fn create(path: &Path, header: &RunHeader, plan: &mut PlanFile) -> std::io::Result<Self> {
        if path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists already", path.display()),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let header = RunHeader { plan: Some(plan.seal().clone()), ..header.clone() };
        let temp = path.with_extension(format!("jsonl.{}.tmp", std::process::id()));
        {
            let file = private_options().write(true).create_new(true).open(&temp)?;
            let mut writer = std::io::BufWriter::new(file);
            std::io::Write::write_all(
                &mut writer,
                format!("{}\n", serde_json::to_string(&Record::Run(header))?).as_bytes(),
            )?;
            std::io::copy(plan.lines()?, &mut writer)?;
            writer.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        }
        // A hard link never replaces a journal that appeared meanwhile.
        let linked = std::fs::hard_link(&temp, path);
        let _ = std::fs::remove_file(&temp);
        linked?;
        Self::open(path)
    }

    /// Opens an existing journal to append to it, and takes its lock; another run holding it
    /// is an error. A last line cut short by a crash is cut off first (its operation had not
    /// finished, so it is redone), so new records start on a line of their own.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut file = open_append(path)?;
        if let Err(err) = file.try_lock() {
            return Err(match err {
                std::fs::TryLockError::WouldBlock => std::io::Error::new(
                    std::io::ErrorKind::ResourceBusy,
                    format!(
                        "{} is in use by another chart-studio run; wait for it to end",
                        path.display()
                    ),
                ),
                std::fs::TryLockError::Error(err) => err,
            });
        }
        end_torn_line(&mut file, true)?;
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

    /// Reads a journal. A last line cut short by a crash is ignored; any other bad line, and a
    /// plan that does not match its seal, is an error.
    pub fn load(path: &Path) -> Result<JournalState, String> {
        let unreadable = |err| format!("could not read {}: {err}", path.display());
        let mut reader = std::io::BufReader::new(File::open(path).map_err(unreadable)?);
        let mut header = None;
        let mut sealing = PlanSeal::start();
        let mut outcomes = BTreeMap::new();
        let mut line = String::new();
        for number in 1.. {
            line.clear();
            if std::io::BufRead::read_line(&mut reader, &mut line).map_err(unreadable)? == 0
                || !line.ends_with('\n')
            {
                // The end, or a last line a crash cut short.
                break;
            }
            let text = line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(text)
                .map_err(|err| format!("{} line {number}: {err}", path.display()))?;
            match record {
                Record::Run(run) => header = Some(run),
                Record::Op(_) => sealing.add(text),
                Record::Outcome { op, outcome } => {
                    outcomes.insert(op, outcome);
                }
            }
        }
        let header = header
            .ok_or_else(|| format!("{} has no run header; is it a journal?", path.display()))?;
        let found = sealing.finish();
        if let Some(seal) = header.plan.as_ref().filter(|seal| **seal != found) {
            return Err(format!(
                "the plan in {} does not match its checksum ({} of {} operations); the journal is damaged and is not resumed",
                path.display(),
                found.ops,
                seal.ops
            ));
        }
        Ok(JournalState { path: path.to_owned(), header, planned: found.ops, outcomes })
    }
}

/// The planned operations of the journal at `path`, read one at a time, in order.
pub fn read_ops(path: &Path) -> std::io::Result<impl Iterator<Item = Result<Op, String>> + use<>> {
    let lines = std::io::BufRead::lines(std::io::BufReader::new(File::open(path)?));
    let shown = path.display().to_string();
    Ok(lines.enumerate().filter_map(move |(index, line)| {
        let line = match line {
            Ok(line) => line,
            Err(err) => return Some(Err(format!("could not read {shown}: {err}"))),
        };
        // Outcomes follow the plan; only operation lines are parsed.
        if !line.starts_with(OP_LINE) {
            return None;
        }
        Some(match serde_json::from_str(&line) {
            Ok(Record::Op(op)) => Ok(*op),
            Ok(_) => return None,
            Err(err) => Err(format!("{shown} line {}: {err}", index + 1)),
        })
    }))
}

/// How an operation's journal line starts.
const OP_LINE: &str = r#"{"record":"op","#;

fn write_line(file: &Mutex<File>, line: &str) -> std::io::Result<()> {
    let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    append_line(&mut file, line)
}

/// What a journal says. Its operations stay on disk: see [`JournalState::ops`].
#[derive(Debug, Clone)]
pub struct JournalState {
    /// Where it is.
    pub path: PathBuf,
    /// The run.
    pub header: RunHeader,
    /// How many operations it plans.
    pub planned: u64,
    /// The last outcome of each operation that has one.
    pub outcomes: BTreeMap<u64, Outcome>,
}

impl JournalState {
    /// Whether operation `id` is still to do: no outcome yet, or failed.
    pub fn is_pending(&self, id: u64) -> bool {
        !matches!(
            self.outcomes.get(&id),
            Some(Outcome::Done { .. } | Outcome::Skipped { .. } | Outcome::Conflict { .. })
        )
    }

    /// How many operations are still to do.
    pub fn pending(&self) -> u64 {
        let finished = self.outcomes.keys().filter(|id| !self.is_pending(**id)).count();
        self.planned.saturating_sub(finished as u64)
    }

    /// Its planned operations, read from disk one at a time, in order.
    pub fn ops(&self) -> Result<impl Iterator<Item = Result<Op, String>> + use<>, String> {
        read_ops(&self.path).map_err(|err| format!("could not read {}: {err}", self.path.display()))
    }

    /// The operations that finished.
    pub fn done(&self) -> Result<Vec<Op>, String> {
        let mut done = Vec::new();
        for op in self.ops()? {
            let op = op?;
            if matches!(self.outcomes.get(&op.id), Some(Outcome::Done { .. })) {
                done.push(op);
            }
        }
        Ok(done)
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
            plan: None,
        }
    }

    fn create<const N: usize>(path: &Path, ops: [Op; N]) -> std::io::Result<Journal> {
        let mut plan = PlanFile::of(path.parent().unwrap(), ops)?;
        Journal::create(path, &header(), &mut plan)
    }

    #[test]
    fn records_survive_a_reload_and_a_cut_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        let journal = create(&path, [op(0), op(1), op(2)]).unwrap();
        journal
            .append(&Record::Outcome {
                op: 0,
                outcome: Outcome::Done { written: None, already_gone: false, imported: None },
            })
            .unwrap();
        journal
            .append(&Record::Outcome { op: 1, outcome: Outcome::Failed { reason: "x".to_owned() } })
            .unwrap();
        drop(journal);
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut file, br#"{"record":"outcome","op":2,"res"#).unwrap();
        let state = Journal::load(&path).unwrap();
        assert_eq!(state.header, RunHeader { plan: state.header.plan.clone(), ..header() });
        assert_eq!(state.planned, 3);
        let pending: Vec<u64> = (0..3).filter(|id| state.is_pending(*id)).collect();
        assert_eq!(pending, [1, 2], "failed ops and ops without an outcome are redone");
        assert_eq!(state.pending(), 2);
        assert!(create(&path, []).is_err(), "an existing journal is never overwritten");

        let reopened = Journal::open(&path).unwrap();
        reopened
            .append(&Record::Outcome {
                op: 2,
                outcome: Outcome::Done { written: None, already_gone: false, imported: None },
            })
            .unwrap();
        let state = Journal::load(&path).unwrap();
        assert_eq!(state.outcomes.len(), 3, "the cut line is gone and the new record reads back");
        assert_eq!(state.pending(), 1);
        let read: Vec<u64> = read_ops(&path).unwrap().map(|op| op.unwrap().id).collect();
        assert_eq!(read, [0, 1, 2], "the plan reads back alone, past the outcomes");
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

    #[test]
    fn one_run_holds_a_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        let first = create(&path, [op(0)]).unwrap();
        let second = Journal::open(&path).unwrap_err();
        assert_eq!(second.kind(), std::io::ErrorKind::ResourceBusy);
        assert!(second.to_string().contains("in use by another chart-studio run"), "{second}");
        drop(first);
        Journal::open(&path).expect("free again once the first run ends");
    }

    #[test]
    fn a_plan_that_does_not_match_its_seal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        drop(create(&path, [op(0), op(1), op(2)]).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(Journal::load(&path).unwrap().header.plan.unwrap().ops, 3);
        let without_one: Vec<&str> = text.lines().filter(|l| !l.contains("\"a:1\"")).collect();
        std::fs::write(&path, without_one.join("\n") + "\n").unwrap();
        let err = Journal::load(&path).unwrap_err();
        assert!(err.contains("does not match its checksum (2 of 3"), "{err}");
        std::fs::write(&path, text.replace("\"a:2\"", "\"a:9\"")).unwrap();
        assert!(Journal::load(&path).unwrap_err().contains("damaged"));
    }

    #[cfg(unix)]
    #[test]
    fn journals_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs/run.jsonl");
        drop(create(&path, [op(0)]).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(path.parent().unwrap())), (0o600, 0o700));
    }

    proptest::proptest! {
        #[test]
        fn a_damaged_journal_is_read_or_refused_never_a_panic(
            cut in 0usize..2000,
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            at in 0usize..2000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("run.jsonl");
            drop(create(&path, [op(0), op(1)]).unwrap());
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.truncate(cut.min(bytes.len()));
            let at = at.min(bytes.len());
            bytes.splice(at..at, noise);
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(state) = Journal::load(&path) {
                proptest::prop_assert!(state.planned <= 2);
            }
            let _ = Journal::open(&path);
        }
    }
}
