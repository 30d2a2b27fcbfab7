//! Records set aside on disk while a plan is made, so that the files of a large account are
//! never all held in memory.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Records written to an unnamed temporary file (the owner's only, gone once dropped) and read
/// back in the order written.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let mut spill = chart_studio_bulk::Spill::<(u64, String)>::new_in(dir.path())?;
/// spill.push(&(1, "sales".to_owned()))?;
/// spill.push(&(2, "costs".to_owned()))?;
/// let names: Vec<String> = spill.read()?.map(|record| record.map(|(_, name)| name)).collect::<Result<_, _>>()?;
/// assert_eq!(names, ["sales", "costs"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Spill<T> {
    file: BufWriter<File>,
    len: u64,
    /// Whether a read moved the file's position from its end.
    rewound: bool,
    of: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    /// An empty spill in `dir`.
    pub fn new_in(dir: &Path) -> std::io::Result<Self> {
        let file = BufWriter::new(crate::files::private_temp_file(dir)?);
        Ok(Self { file, len: 0, rewound: false, of: PhantomData })
    }

    /// Adds `record` at the end.
    pub fn push(&mut self, record: &T) -> std::io::Result<()> {
        if self.rewound {
            self.file.seek(SeekFrom::End(0))?;
            self.rewound = false;
        }
        serde_json::to_writer(&mut self.file, record)?;
        self.file.write_all(b"\n")?;
        self.len += 1;
        Ok(())
    }

    /// Every record, from the first; a later [`Spill::push`] adds after the last.
    pub fn read(&mut self) -> std::io::Result<impl Iterator<Item = std::io::Result<T>> + '_> {
        self.file.flush()?;
        self.rewound = true;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        let lines =
            BufReader::new(&*file).lines().take(usize::try_from(self.len).unwrap_or(usize::MAX));
        Ok(lines.map(|line| Ok(serde_json::from_str(&line?)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_in_order_and_pushes_go_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::<(u32, String)>::new_in(dir.path()).unwrap();
        for i in 0..1000 {
            spill.push(&(i, format!("file {i}"))).unwrap();
        }
        let mut read = spill.read().unwrap();
        assert_eq!(read.next().unwrap().unwrap(), (0, "file 0".to_owned()));
        drop(read);
        spill.push(&(1000, "last".to_owned())).unwrap();
        let all: Vec<(u32, String)> = spill.read().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 1001);
        assert!(all.iter().enumerate().all(|(i, (n, _))| *n as usize == i), "in order");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }
}
