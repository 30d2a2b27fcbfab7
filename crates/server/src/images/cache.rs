//! Images of stored plots, kept on disk: in the data folder (`image-cache/`) with `--data`,
//! else in a private temporary folder removed at exit. Each is named by the hash of what it
//! shows (the plot's and its grids' revisions, the reader's view of the data, the format and
//! size), so a change to any of them is a new name and an old image is never served for it.
//! The folder keeps at most its budget of bytes; the oldest images go first.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

/// The images on disk.
#[derive(Debug)]
pub(crate) struct ImageCache {
    dir: PathBuf,
    /// The folder, when it is temporary.
    _temporary: Option<tempfile::TempDir>,
    budget: u64,
    kept: Mutex<Kept>,
}

/// What the folder holds, oldest first, and its size.
#[derive(Debug, Default)]
struct Kept {
    images: VecDeque<(String, u64)>,
    bytes: u64,
}

impl ImageCache {
    /// The cache of the data folder `data` (or a temporary one), keeping at most `budget` bytes.
    pub(crate) fn open(data: Option<&Path>, budget: u64) -> Result<Self> {
        let (dir, temporary) = match data {
            Some(data) => (data.join("image-cache"), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("chart-studio-images-")
                    .tempdir()
                    .context("could not make a folder for cached images")?;
                (dir.path().to_owned(), Some(dir))
            }
        };
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder.create(&dir).with_context(|| format!("could not create {}", dir.display()))?;
        let mut found: Vec<(std::time::SystemTime, String, u64)> = std::fs::read_dir(&dir)
            .with_context(|| format!("could not read {}", dir.display()))?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let meta = entry.metadata().ok()?;
                let name = entry.file_name().into_string().ok()?;
                // Half-written images of an earlier run go.
                if name.contains(".partial") {
                    let _ = std::fs::remove_file(entry.path());
                    return None;
                }
                Some((meta.modified().ok()?, name, meta.len()))
            })
            .collect();
        found.sort();
        let kept = Kept {
            bytes: found.iter().map(|(_, _, size)| size).sum(),
            images: found.into_iter().map(|(_, name, size)| (name, size)).collect(),
        };
        let cache = Self { dir, _temporary: temporary, budget, kept: Mutex::new(kept) };
        cache.evict();
        Ok(cache)
    }

    /// The image named `key`, if kept.
    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(key)).ok()
    }

    /// Keeps `bytes` as `key`. A write that fails only costs a later render.
    pub(crate) fn put(&self, key: &str, bytes: &[u8]) {
        let partial = self.dir.join(format!("{key}.partial-{}", crate::store::Store::random_key()));
        let written = write_private(&partial, bytes)
            .and_then(|()| std::fs::rename(&partial, self.dir.join(key)));
        if let Err(err) = written {
            let _ = std::fs::remove_file(&partial);
            tracing::warn!(error = %err, "could not keep a rendered image");
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.images.push_back((key.to_owned(), bytes.len() as u64));
        kept.bytes += bytes.len() as u64;
        drop(kept);
        self.evict();
    }

    /// Removes the oldest images until the folder is within its budget.
    fn evict(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while kept.bytes > self.budget {
            let Some((name, size)) = kept.images.pop_front() else { break };
            let _ = std::fs::remove_file(self.dir.join(&name));
            kept.bytes = kept.bytes.saturating_sub(size);
        }
    }
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_images_go_past_the_budget_and_the_rest_survive_a_restart() {
        let data = tempfile::tempdir().unwrap();
        let cache = ImageCache::open(Some(data.path()), 10).unwrap();
        cache.put("a", b"12345");
        cache.put("b", b"12345");
        assert_eq!(cache.get("a").as_deref(), Some(&b"12345"[..]));
        cache.put("c", b"123");
        assert_eq!(cache.get("a"), None, "the oldest went");
        assert!(cache.get("b").is_some() && cache.get("c").is_some());
        drop(cache);
        let again = ImageCache::open(Some(data.path()), 10).unwrap();
        assert_eq!(again.get("c").as_deref(), Some(&b"123"[..]));
    }
}
