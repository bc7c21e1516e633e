//! Stage four, the only code that touches the disk: plans writes, reports a status per path, applies.
//!
//! A run is planned in full against the `Fs` before anything is written, so a conflict or a
//! missing anchor stops it with the tree unchanged. Dry runs and tests use `MemFs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};

use crate::error::{Error, Result};
use crate::inject::{Injection, Outcome, Reverted};
use crate::render::{GeneratedFile, Owner, is_generated};

/// The file system a run reads and writes, rooted at the app (or the new app's directory).
/// Paths are relative with `/` separators.
pub trait Fs {
    /// A file's contents, or `None` when there is no such file.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Writes a file, creating its directories.
    fn write(&mut self, path: &str, contents: &[u8]) -> Result<()>;
    /// Removes a file, and then each parent directory it leaves empty, up to the root.
    fn remove(&mut self, path: &str) -> Result<()>;
    /// Every file below `dir`, recursively, sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// Whether the root is missing or holds nothing at all.
    fn is_empty(&self) -> Result<bool>;
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

    fn full(&self, path: &str) -> PathBuf {
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

    fn is_empty(&self) -> Result<bool> {
        match std::fs::read_dir(&self.root) {
            Ok(mut entries) => Ok(entries.next().is_none()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(Error::io(&self.root, e)),
        }
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

    fn is_empty(&self) -> Result<bool> {
        Ok(self.files.is_empty())
    }
}

/// What happens, or would happen, to one path. The words are Rails's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Create,
    Identical,
    Conflict,
    Force,
    Skip,
    Inject,
    Remove,
    /// The user changed a file `gen` wrote; it is kept (destroy) or reported (check).
    Modified,
    /// A file or injection `gen check` expected is not there.
    Missing,
    /// A file `gen` keeps current differs from what `gen` would write.
    Drifted,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Create => "create",
            Status::Identical => "identical",
            Status::Conflict => "conflict",
            Status::Force => "force",
            Status::Skip => "skip",
            Status::Inject => "inject",
            Status::Remove => "remove",
            Status::Modified => "modified",
            Status::Missing => "missing",
            Status::Drifted => "drifted",
        }
    }

    fn style(self) -> Style {
        let color = match self {
            Status::Create | Status::Inject => AnsiColor::Green,
            Status::Identical => AnsiColor::Blue,
            Status::Conflict | Status::Remove | Status::Missing | Status::Drifted => AnsiColor::Red,
            Status::Force | Status::Skip | Status::Modified => AnsiColor::Yellow,
        };
        Style::new().bold().fg_color(Some(color.into()))
    }
}

/// What to do when a file the user owns would be overwritten with different content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collision {
    /// Stop the run before anything is written.
    #[default]
    Stop,
    /// Overwrite it.
    Force,
    /// Keep the user's file.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Nothing,
    Write(Vec<u8>),
    Remove,
}

/// One line of a run's report and the change behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub status: Status,
    pub path: String,
    /// What was injected or taken out, shown after the path.
    pub detail: Option<String>,
    op: Op,
}

/// A whole run, decided before anything is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn conflicts(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.status == Status::Conflict)
            .map(|s| s.path.as_str())
            .collect()
    }

    /// Applies every change in order. Nothing is checked any more: planning did that.
    pub fn apply(&self, fs: &mut dyn Fs) -> Result<()> {
        for step in &self.steps {
            match &step.op {
                Op::Nothing => {}
                Op::Write(bytes) => fs.write(&step.path, bytes)?,
                Op::Remove => fs.remove(&step.path)?,
            }
        }
        Ok(())
    }

    /// Prints one status per path, coloured on a terminal and plain when piped.
    pub fn report(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for step in &self.steps {
            print_status(out, step.status, &step.path, step.detail.as_deref())?;
        }
        Ok(())
    }
}

/// Prints one status line in Rails's layout: the word right-aligned in twelve columns.
pub fn print_status(
    out: &mut dyn std::io::Write,
    status: Status,
    path: &str,
    detail: Option<&str>,
) -> std::io::Result<()> {
    let style = status.style();
    let word = status.word();
    write!(out, "{style}{word:>12}{style:#}  {path}")?;
    if let Some(detail) = detail {
        write!(out, "  ({detail})")?;
    }
    writeln!(out)
}

/// The file's contents as the plan leaves them: pending writes first, then the disk.
fn current(
    fs: &dyn Fs,
    pending: &BTreeMap<String, Vec<u8>>,
    path: &str,
) -> Result<Option<Vec<u8>>> {
    match pending.get(path) {
        Some(bytes) => Ok(Some(bytes.clone())),
        None => fs.read(path),
    }
}

fn no_anchor(inj: &Injection, reason: &str, verb: &str) -> Error {
    Error::NoAnchor(format!(
        "cannot {verb} {path}: {reason}.\n{} this line {} yourself, then run the command again:\n\n    {}\n",
        if verb == "edit" { "Add" } else { "Remove" },
        if verb == "edit" {
            inj.place()
        } else {
            "from it"
        },
        inj.snippet(),
        path = inj.path(),
    ))
}

/// Several edits of one file each planned a write of the whole file; only the last holds them all.
fn keep_last_writes(plan: &mut Plan) {
    let mut seen = std::collections::HashSet::new();
    for step in plan.steps.iter_mut().rev() {
        if matches!(step.op, Op::Write(_)) && !seen.insert(step.path.clone()) {
            step.op = Op::Nothing;
        }
    }
}

/// Plans writing generated files and applying injections.
pub fn plan_writes(
    fs: &dyn Fs,
    files: &[GeneratedFile],
    injections: &[Injection],
    collision: Collision,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut pending: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for file in files {
        let existing = fs.read(&file.path)?;
        let (status, op) = match existing {
            None => (Status::Create, Op::Write(file.contents.clone())),
            Some(old) if old == file.contents => (Status::Identical, Op::Nothing),
            // A file gen keeps current is gen's to rewrite, as long as it is still marked so.
            Some(old) if file.owner == Owner::Gen && is_generated(&old) => {
                (Status::Force, Op::Write(file.contents.clone()))
            }
            Some(_) => match collision {
                Collision::Stop => (Status::Conflict, Op::Nothing),
                Collision::Force => (Status::Force, Op::Write(file.contents.clone())),
                Collision::Skip => (Status::Skip, Op::Nothing),
            },
        };
        if let Op::Write(bytes) = &op {
            pending.insert(file.path.clone(), bytes.clone());
        }
        plan.steps.push(Step {
            status,
            path: file.path.clone(),
            detail: None,
            op,
        });
    }
    for inj in injections {
        let path = inj.path();
        let Some(bytes) = current(fs, &pending, path)? else {
            return Err(no_anchor(inj, "the file does not exist", "edit"));
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| no_anchor(inj, "the file is not UTF-8 text", "edit"))?;
        let (status, op) = match inj.apply(&text) {
            Outcome::Injected(new) => {
                pending.insert(path.to_string(), new.clone().into_bytes());
                (Status::Inject, Op::Write(new.into_bytes()))
            }
            Outcome::AlreadyPresent => (Status::Identical, Op::Nothing),
            Outcome::NoAnchor(reason) => return Err(no_anchor(inj, &reason, "edit")),
        };
        plan.steps.push(Step {
            status,
            path: path.to_string(),
            detail: Some(inj.snippet()),
            op,
        });
    }
    keep_last_writes(&mut plan);
    Ok(plan)
}

/// Plans `gen destroy`: removes the files that still hold what `gen` wrote and reverts injections.
/// A file the user changed is kept and reported as `modified`, unless `force` says to remove it.
pub fn plan_removals(
    fs: &dyn Fs,
    files: &[GeneratedFile],
    injections: &[Injection],
    force: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut pending: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for file in files {
        let Some(old) = fs.read(&file.path)? else {
            continue;
        };
        let (status, op) = if old == file.contents || force {
            (Status::Remove, Op::Remove)
        } else {
            (Status::Modified, Op::Nothing)
        };
        plan.steps.push(Step {
            status,
            path: file.path.clone(),
            detail: (status == Status::Modified).then(|| "kept: it was edited".to_string()),
            op,
        });
    }
    for inj in injections.iter().rev() {
        let path = inj.path();
        let Some(bytes) = current(fs, &pending, path)? else {
            continue;
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| no_anchor(inj, "the file is not UTF-8 text", "revert"))?;
        match inj.revert(&text) {
            Reverted::Removed(new) => {
                pending.insert(path.to_string(), new.clone().into_bytes());
                plan.steps.push(Step {
                    status: Status::Remove,
                    path: path.to_string(),
                    detail: Some(inj.snippet()),
                    op: Op::Write(new.into_bytes()),
                });
            }
            Reverted::NotPresent => {}
            Reverted::NoAnchor(reason) => return Err(no_anchor(inj, &reason, "revert")),
        }
    }
    keep_last_writes(&mut plan);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.as_bytes().to_vec(),
            owner: if is_generated(contents.as_bytes()) {
                Owner::Gen
            } else {
                Owner::User
            },
        }
    }

    fn statuses(plan: &Plan) -> Vec<(&str, &str)> {
        plan.steps
            .iter()
            .map(|s| (s.status.word(), s.path.as_str()))
            .collect()
    }

    #[test]
    fn statuses_follow_rails() {
        let mut fs = MemFs::default();
        fs.write("same.rs", b"same").unwrap();
        fs.write("mine.rs", b"edited").unwrap();
        fs.write("kept.rs", b"// @generated by gen\nold").unwrap();
        let files = [
            file("new.rs", "new"),
            file("same.rs", "same"),
            file("mine.rs", "original"),
            file("kept.rs", "// @generated by gen\nnew"),
        ];
        let plan = plan_writes(&fs, &files, &[], Collision::Stop).unwrap();
        assert_eq!(
            statuses(&plan),
            [
                ("create", "new.rs"),
                ("identical", "same.rs"),
                ("conflict", "mine.rs"),
                ("force", "kept.rs")
            ]
        );
        assert_eq!(plan.conflicts(), ["mine.rs"]);

        let skip = plan_writes(&fs, &files, &[], Collision::Skip).unwrap();
        assert_eq!(skip.steps[2].status, Status::Skip);
        let mut after = fs.clone();
        skip.apply(&mut after).unwrap();
        assert_eq!(after.files["mine.rs"], b"edited");

        let force = plan_writes(&fs, &files, &[], Collision::Force).unwrap();
        force.apply(&mut after).unwrap();
        assert_eq!(after.files["mine.rs"], b"original");
        assert_eq!(after.files["kept.rs"], b"// @generated by gen\nnew");
    }

    #[test]
    fn several_injections_into_one_file_all_land() {
        let mut fs = MemFs::default();
        fs.write("src/lib.rs", b"pub mod app;\n").unwrap();
        let injections = [
            Injection::ModDecl {
                module: "rooms".into(),
            },
            Injection::ModDecl {
                module: "messages".into(),
            },
        ];
        let plan = plan_writes(&fs, &[], &injections, Collision::Stop).unwrap();
        plan.apply(&mut fs).unwrap();
        assert_eq!(
            fs.files["src/lib.rs"],
            b"pub mod app;\npub mod messages;\npub mod rooms;\n"
        );
    }

    #[test]
    fn missing_anchor_plans_nothing() {
        let mut fs = MemFs::default();
        fs.write("src/lib.rs", b"fn main() {}\n").unwrap();
        let err = plan_writes(
            &fs,
            &[file("a.rs", "a")],
            &[Injection::ModDecl {
                module: "rooms".into(),
            }],
            Collision::Force,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("src/lib.rs") && msg.contains("pub mod rooms;"),
            "{msg}"
        );
    }

    #[test]
    fn status_lines_are_plain_when_piped() {
        let mut out = anstream::StripStream::new(Vec::new());
        print_status(&mut out, Status::Create, "src/app.rs", None).unwrap();
        assert_eq!(
            String::from_utf8(out.into_inner()).unwrap(),
            "      create  src/app.rs\n"
        );
    }
}
