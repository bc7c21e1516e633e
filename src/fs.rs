//! The file system behind one trait: every read and write of the disk goes through `Fs`.
//!
//! `RealFs` is the disk below a root directory; `MemFs` is an in-memory tree for dry runs and
//! tests. Paths are relative to the root, with `/` separators, except where a method says it
//! takes a path as the user typed it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What the root directory of an `Fs` is, before anything is written into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootState {
    /// There is nothing at the root yet.
    Missing,
    /// A directory with nothing in it.
    Empty,
    /// A directory with something in it.
    NotEmpty,
    /// Something other than a directory, such as a file.
    NotADirectory,
}

/// The file system a run reads and writes, rooted at the app (or the new app's directory).
pub trait Fs {
    /// A file's contents, or `None` when there is no such file.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Writes a file, creating its directories.
    fn write(&mut self, path: &str, contents: &[u8]) -> Result<()>;
    /// Removes a file, and then each parent directory it leaves empty, up to the root.
    fn remove(&mut self, path: &str) -> Result<()>;
    /// Every file below `dir`, recursively, sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// Whether `path` is a file: not missing, and not a directory.
    fn is_file(&self, path: &str) -> bool;
    /// What the root is: missing, an empty or a non-empty directory, or something else.
    fn root_state(&self) -> Result<RootState>;
    /// A file the user named, by a path relative to the root or absolute, read whole as text.
    /// The error is the operating system's own, so that a message can quote it.
    fn read_to_string(&self, path: &Path) -> std::io::Result<String>;
}

/// The real disk below a root directory.
#[derive(Debug, Clone)]
pub struct RealFs {
    root: PathBuf,
}

impl RealFs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RealFs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: impl AsRef<Path>) -> PathBuf {
        self.root.join(path)
    }
}

impl Fs for RealFs {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.full(path);
        match std::fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&full, e)),
        }
    }

    fn write(&mut self, path: &str, contents: &[u8]) -> Result<()> {
        let full = self.full(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&full, contents).map_err(|e| Error::io(&full, e))
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        let full = self.full(path);
        std::fs::remove_file(&full).map_err(|e| Error::io(&full, e))?;
        let mut dir = full.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) {
                break;
            }
            let empty = std::fs::read_dir(d)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
            if !empty {
                break;
            }
            std::fs::remove_dir(d).map_err(|e| Error::io(d, e))?;
            dir = d.parent();
        }
        Ok(())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let base = self.full(dir);
        if !base.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Io(format!("{}: {e}", base.display())))?;
            if entry.file_type().is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(&self.root)
                    .expect("walkdir stays below the root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(out)
    }

    fn is_file(&self, path: &str) -> bool {
        self.full(path).is_file()
    }

    fn root_state(&self) -> Result<RootState> {
        // `exists` and `is_dir` follow symbolic links, so a link to a directory is one.
        if self.root.exists() && !self.root.is_dir() {
            return Ok(RootState::NotADirectory);
        }
        match std::fs::read_dir(&self.root) {
            Ok(mut entries) => Ok(if entries.next().is_none() {
                RootState::Empty
            } else {
                RootState::NotEmpty
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RootState::Missing),
            Err(e) => Err(Error::io(&self.root, e)),
        }
    }

    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(self.full(path))
    }
}

/// An in-memory tree, for dry runs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemFs {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Fs for MemFs {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }

    fn write(&mut self, path: &str, contents: &[u8]) -> Result<()> {
        self.files.insert(path.to_string(), contents.to_vec());
        Ok(())
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        self.files.remove(path);
        Ok(())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        Ok(self
            .files
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect())
    }

    fn is_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn root_state(&self) -> Result<RootState> {
        Ok(if self.files.is_empty() {
            RootState::Empty
        } else {
            RootState::NotEmpty
        })
    }

    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        use std::io::{Error, ErrorKind};
        let bytes = path
            .to_str()
            .and_then(|p| self.files.get(p))
            .ok_or_else(|| Error::from(ErrorKind::NotFound))?;
        String::from_utf8(bytes.clone()).map_err(|e| Error::new(ErrorKind::InvalidData, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_fs_reads_writes_and_prunes_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let mut fs = RealFs::new(dir.path().join("app"));
        assert_eq!(fs.root_state().unwrap(), RootState::Missing);
        fs.write("src/a/b.rs", b"b").unwrap();
        fs.write("src/c.rs", b"c").unwrap();
        assert_eq!(fs.root_state().unwrap(), RootState::NotEmpty);
        assert_eq!(fs.list("src").unwrap(), ["src/a/b.rs", "src/c.rs"]);
        assert!(fs.is_file("src/c.rs") && !fs.is_file("src") && !fs.is_file("nothing"));
        assert_eq!(fs.read("src/a/b.rs").unwrap().as_deref(), Some(&b"b"[..]));
        assert_eq!(fs.read("src/none.rs").unwrap(), None);
        assert_eq!(fs.read_to_string(Path::new("src/c.rs")).unwrap(), "c");
        fs.remove("src/a/b.rs").unwrap();
        assert!(!dir.path().join("app/src/a").exists());
        assert!(dir.path().join("app/src").is_dir());
    }

    #[test]
    fn real_fs_tells_a_file_root_from_an_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            RealFs::new(dir.path()).root_state().unwrap(),
            RootState::Empty
        );
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let file = RealFs::new(dir.path().join("file"));
        assert_eq!(file.root_state().unwrap(), RootState::NotADirectory);
    }

    #[test]
    fn mem_fs_lists_below_a_directory_only() {
        let mut fs = MemFs::default();
        assert_eq!(fs.root_state().unwrap(), RootState::Empty);
        fs.write("migrations/0001_a.sql", b"").unwrap();
        fs.write("migrations.txt", b"").unwrap();
        assert_eq!(fs.list("migrations/").unwrap(), ["migrations/0001_a.sql"]);
        assert_eq!(fs.root_state().unwrap(), RootState::NotEmpty);
        let missing = fs.read_to_string(Path::new("spec.toml")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }
}
