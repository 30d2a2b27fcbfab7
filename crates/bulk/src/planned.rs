//! Plans on disk: a run's operations are written to an unnamed temporary file as they are
//! planned, and read back one at a time, so that a plan of any size is never held in memory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use chart_studio_models::Fid;

use crate::op::{Op, OpKind};
use crate::record::{PlanSeal, Record, Sealing};

/// How many operations a [`PlanSummary`] keeps, to show the start of a plan.
pub const FIRST_SHOWN: usize = 10;

/// A plan in brief: enough to show it and ask before it runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSummary {
    /// The number of operations.
    pub ops: u64,
    /// Operations by action and file type.
    pub counts: BTreeMap<(String, String), u64>,
    /// The first operations ([`FIRST_SHOWN`] at most), in order.
    pub first: Vec<Op>,
    /// Each file left alone, with why.
    pub skipped: Vec<(Fid, String)>,
    /// Whether any operation changes or removes what is on the server.
    pub changes_state: bool,
}

impl PlanSummary {
    /// Operations that do something (not skips).
    pub fn active(&self) -> u64 {
        self.ops - self.skipped.len() as u64
    }
}

/// A plan being written. Operations are numbered in the order they are added.
#[derive(Debug)]
pub struct PlanWriter {
    file: BufWriter<File>,
    sealing: Sealing,
    summary: PlanSummary,
}

impl PlanWriter {
    /// A new, empty plan, in an unnamed file in `dir` (readable by the owner only, removed when
    /// the plan is dropped).
    pub fn new_in(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: BufWriter::new(crate::files::private_temp_file(dir)?),
            sealing: PlanSeal::start(),
            summary: PlanSummary::default(),
        })
    }

    /// Adds `op`, numbered next.
    pub fn push(&mut self, mut op: Op) -> std::io::Result<()> {
        op.id = self.summary.ops;
        let summary = &mut self.summary;
        *summary.counts.entry((op.kind.name().to_owned(), op.filetype.to_string())).or_default() +=
            1;
        summary.changes_state |= op.kind.changes_state();
        if let OpKind::Skip { reason } = &op.kind {
            summary.skipped.push((op.fid.clone(), reason.clone()));
        }
        summary.ops += 1;
        if summary.first.len() < FIRST_SHOWN {
            summary.first.push(op.clone());
        }
        let line = serde_json::to_string(&Record::Op(Box::new(op)))?;
        self.sealing.add(&line);
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")
    }

    /// The plan, complete.
    pub fn finish(self) -> std::io::Result<PlanFile> {
        let file = self.file.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        Ok(PlanFile { file, seal: self.sealing.finish(), summary: self.summary })
    }
}

/// A complete plan, on disk.
#[derive(Debug)]
pub struct PlanFile {
    file: File,
    seal: PlanSeal,
    summary: PlanSummary,
}

impl PlanFile {
    /// A plan of `ops`, in `dir`, numbered in order.
    pub fn of(dir: &Path, ops: impl IntoIterator<Item = Op>) -> std::io::Result<Self> {
        let mut writer = PlanWriter::new_in(dir)?;
        for op in ops {
            writer.push(op)?;
        }
        writer.finish()
    }

    /// The plan in brief.
    pub fn summary(&self) -> &PlanSummary {
        &self.summary
    }

    /// The size and checksum of its lines.
    pub(crate) fn seal(&self) -> &PlanSeal {
        &self.seal
    }

    /// Its journal lines, from the start.
    pub(crate) fn lines(&mut self) -> std::io::Result<&mut File> {
        self.file.seek(SeekFrom::Start(0))?;
        Ok(&mut self.file)
    }

    /// Its operations, read back in order.
    pub fn ops(&mut self) -> std::io::Result<impl Iterator<Item = std::io::Result<Op>> + '_> {
        Ok(BufReader::new(self.lines()?).lines().filter_map(|line| {
            match line.and_then(|line| Ok(serde_json::from_str::<Record>(&line)?)) {
                Ok(Record::Op(op)) => Some(Ok(*op)),
                Ok(_) => None,
                Err(err) => Some(Err(err)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chart_studio_models::FileType;

    fn op(fid: &str, kind: OpKind) -> Op {
        Op {
            id: 99,
            phase: 0,
            fid: fid.parse().unwrap(),
            filetype: FileType::Plot,
            filename: "f".to_owned(),
            created: None,
            kind,
        }
    }

    #[test]
    fn a_plan_reads_back_numbered_and_in_brief() {
        let dir = tempfile::tempdir().unwrap();
        let ops = (0..25).map(|i| {
            let kind =
                if i == 3 { OpKind::Skip { reason: "kept".to_owned() } } else { OpKind::Trash };
            op(&format!("a:{i}"), kind)
        });
        let mut plan = PlanFile::of(dir.path(), ops).unwrap();
        let read: Vec<Op> = plan.ops().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(read.len(), 25);
        assert!(read.iter().enumerate().all(|(i, op)| op.id == i as u64), "numbered in order");
        let summary = plan.summary();
        assert_eq!((summary.ops, summary.active(), summary.first.len()), (25, 24, FIRST_SHOWN));
        assert_eq!(summary.first[..], read[..FIRST_SHOWN]);
        assert_eq!(summary.skipped, [("a:3".parse().unwrap(), "kept".to_owned())]);
        assert_eq!(summary.counts[&("trash".to_owned(), "plot".to_owned())], 24);
        assert!(summary.changes_state);
        assert_eq!(plan.ops().unwrap().count(), 25, "read again from the start");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file left behind");
    }
}
