//! Local files that hold private data (journals, backups, exports): folders are made 0700 and
//! files 0600, and append-only JSONL files survive a kill at any point.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Creates `dir` and its missing parents, readable by the owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// An unnamed temporary file in `dir` (made if needed), readable by the owner only and gone
/// once closed.
pub(crate) fn private_temp_file(dir: &Path) -> std::io::Result<File> {
    create_private_dir(dir)?;
    tempfile::tempfile_in(dir)
}

/// Options that create files readable by the owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Writes `bytes` to a new private file at `temp`, flushed to disk.
pub(crate) fn write_private(temp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = private_options().write(true).create(true).truncate(true).open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Opens a file to append to it.
pub(crate) fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().append(true).read(true).open(path)
}

/// Ends a last line cut short by a kill, so the next line starts on a line of its own: the
/// journal (held by one run) cuts it off; a shared file (held only while appending) ends it
/// with a newline, and readers skip such cut lines ([`is_cut`]).
pub(crate) fn end_torn_line(file: &mut File, cut_off: bool) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    if !cut_off {
        return append_line(file, "");
    }
    let mut contents = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut contents)?;
    let keep = contents.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    file.set_len(keep as u64)?;
    file.sync_all()
}

/// Whether a line that does not parse was cut short by a kill (rather than damaged).
pub(crate) fn is_cut(line: &str) -> bool {
    !line.trim_end().ends_with('}')
}

/// Appends one line and flushes it to disk.
pub(crate) fn append_line(file: &mut File, line: &str) -> std::io::Result<()> {
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()
}

/// The complete lines of a JSONL text: a last line cut short by a kill (no newline) is left
/// out, blank lines are skipped; each comes with its 1-based line number.
pub(crate) fn complete_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let complete =
        if text.ends_with('\n') { text } else { text.rfind('\n').map_or("", |at| &text[..=at]) };
    complete
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, l)| !l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_dropped_and_appends_start_clean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, "one\n\ntwo\nthr").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(complete_lines(&text).collect::<Vec<_>>(), [(1, "one"), (3, "two")]);
        let mut file = open_append(&path).unwrap();
        end_torn_line(&mut file, true).unwrap();
        append_line(&mut file, "three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n\ntwo\nthree\n");
        std::fs::write(&path, "one\ntw").unwrap();
        let mut file = open_append(&path).unwrap();
        end_torn_line(&mut file, false).unwrap();
        append_line(&mut file, "three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntw\nthree\n");
        assert!(is_cut("{\"a\": 1") && !is_cut("{\"a\": 1}"));
    }

    #[cfg(unix)]
    #[test]
    fn private_files_and_folders_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        create_private_dir(&folder).unwrap();
        let file = folder.join("f");
        write_private(&file, b"x").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&folder), mode(&file)), (0o700, 0o600));
    }
}
