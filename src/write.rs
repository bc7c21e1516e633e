//! Stage four: plans the writes, removals and edits of a run against an `Fs`, then applies them.
//!
//! A run is planned in full before anything is written, so a conflict or a missing anchor stops
//! it with the tree unchanged. The plan holds one `Status` per path; `report` prints it. Dry runs
//! and tests plan against the same `Fs` and simply do not apply.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::{Fs, RootState};
use crate::inject::{Injection, Outcome, Reverted};
use crate::render::{GeneratedFile, Owner, is_generated};

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
    /// A file the user edited took `gen`'s change by a clean three-way merge.
    Merge,
    /// The user changed a file `gen` wrote; it is kept (destroy) or reported (check).
    Modified,
    /// A file or injection `gen check` expected is not there.
    Missing,
    /// A file `gen` keeps current differs from what `gen` would write.
    Drifted,
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

impl Step {
    /// A step that writes `bytes` to `path`.
    pub fn write(status: Status, path: &str, bytes: Vec<u8>) -> Step {
        Step {
            status,
            path: path.to_owned(),
            detail: None,
            op: Op::Write(bytes),
        }
    }

    /// A step that leaves `path` as it is.
    pub fn keep(status: Status, path: &str) -> Step {
        Step {
            status,
            path: path.to_owned(),
            detail: None,
            op: Op::Nothing,
        }
    }

    /// A step that removes the file at `path`.
    pub fn remove(path: &str) -> Step {
        Step {
            status: Status::Remove,
            path: path.to_owned(),
            detail: None,
            op: Op::Remove,
        }
    }

    /// The bytes this step writes, if it writes.
    pub fn written(&self) -> Option<&[u8]> {
        match &self.op {
            Op::Write(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Whether this step removes its file.
    pub fn removes(&self) -> bool {
        self.op == Op::Remove
    }
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
}

/// The file's contents as the steps planned so far leave them: the last write, else the disk.
fn current(fs: &dyn Fs, steps: &[Step], path: &str) -> Result<Option<Vec<u8>>> {
    let pending = steps.iter().rev().find_map(|s| match &s.op {
        Op::Write(bytes) if s.path == path => Some(bytes),
        _ => None,
    });
    match pending {
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

/// The text an injection edits, as the plan so far leaves it; `None` when there is no such file.
fn injected_text(
    fs: &dyn Fs,
    steps: &[Step],
    inj: &Injection,
    verb: &str,
) -> Result<Option<String>> {
    match current(fs, steps, inj.path())? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| no_anchor(inj, "the file is not UTF-8 text", verb)),
        None => Ok(None),
    }
}

/// Several edits of one file each planned a write of the whole file; only the last holds them all.
fn keep_last_writes(plan: &mut Plan) {
    let mut seen = HashSet::new();
    for step in plan.steps.iter_mut().rev() {
        if matches!(step.op, Op::Write(_)) && !seen.insert(step.path.clone()) {
            step.op = Op::Nothing;
        }
    }
}

/// The error of a run that stopped on conflicts, after their `conflict` lines were printed.
pub fn conflict_error(count: usize) -> Error {
    let one = count == 1;
    Error::Conflict(format!(
        "{count} {} already {} different content; nothing was written. Run again with --force to \
         overwrite or --skip to keep {}.",
        if one { "file" } else { "files" },
        if one { "has" } else { "have" },
        if one { "it" } else { "them" },
    ))
}

/// Refuses a new app's directory when it is not a directory, or holds something already and
/// `collision` does not say what to do with what is there. `dir` is the root, as messages name it.
pub fn check_new_root(fs: &dyn Fs, dir: &Path, collision: Collision) -> Result<()> {
    match fs.root_state()? {
        RootState::NotADirectory => Err(Error::Input(format!(
            "{} exists and is not a directory",
            dir.display()
        ))),
        RootState::NotEmpty if collision == Collision::Stop => Err(Error::Input(format!(
            "directory {} is not empty; choose another with --path, or pass --force or --skip to \
             generate into it",
            dir.display()
        ))),
        _ => Ok(()),
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
    for file in files {
        plan.steps.push(plan_write(fs, file, collision)?);
    }
    for inj in injections {
        let step = plan_injection(fs, &plan.steps, inj)?;
        plan.steps.push(step);
    }
    keep_last_writes(&mut plan);
    Ok(plan)
}

/// Plans one generated file against what is on disk.
pub fn plan_write(fs: &dyn Fs, file: &GeneratedFile, collision: Collision) -> Result<Step> {
    let write = || Op::Write(file.contents.clone());
    let (status, op) = match fs.read(&file.path)? {
        None => (Status::Create, write()),
        Some(old) if old == file.contents => (Status::Identical, Op::Nothing),
        // A file gen keeps current is gen's to rewrite, as long as it is still marked so.
        Some(old) if file.owner == Owner::Gen && is_generated(&old) => (Status::Force, write()),
        Some(_) => match collision {
            Collision::Stop => (Status::Conflict, Op::Nothing),
            Collision::Force => (Status::Force, write()),
            Collision::Skip => (Status::Skip, Op::Nothing),
        },
    };
    Ok(Step {
        status,
        path: file.path.clone(),
        detail: None,
        op,
    })
}

/// Plans one injection into its file as the earlier steps leave it.
pub fn plan_injection(fs: &dyn Fs, steps: &[Step], inj: &Injection) -> Result<Step> {
    let Some(text) = injected_text(fs, steps, inj, "edit")? else {
        return Err(no_anchor(inj, "the file does not exist", "edit"));
    };
    let (status, op) = match inj.apply(&text) {
        Outcome::Injected(new) => (Status::Inject, Op::Write(new.into_bytes())),
        Outcome::AlreadyPresent => (Status::Identical, Op::Nothing),
        Outcome::NoAnchor(reason) => return Err(no_anchor(inj, &reason, "edit")),
    };
    Ok(Step {
        status,
        path: inj.path().to_string(),
        detail: Some(inj.snippet()),
        op,
    })
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
    for file in files {
        plan.steps.extend(plan_removal(fs, file, force)?);
    }
    for inj in injections.iter().rev() {
        let step = plan_revert(fs, &plan.steps, inj)?;
        plan.steps.extend(step);
    }
    keep_last_writes(&mut plan);
    Ok(plan)
}

/// Plans removing one generated file; a file that is not there is left out of the plan.
fn plan_removal(fs: &dyn Fs, file: &GeneratedFile, force: bool) -> Result<Option<Step>> {
    let Some(old) = fs.read(&file.path)? else {
        return Ok(None);
    };
    let (status, op) = if old == file.contents || force {
        (Status::Remove, Op::Remove)
    } else {
        (Status::Modified, Op::Nothing)
    };
    Ok(Some(Step {
        status,
        path: file.path.clone(),
        detail: (status == Status::Modified).then(|| "kept: it was edited".to_string()),
        op,
    }))
}

/// Plans reverting one injection; one that is not there, or whose file is gone, is left out.
fn plan_revert(fs: &dyn Fs, steps: &[Step], inj: &Injection) -> Result<Option<Step>> {
    let Some(text) = injected_text(fs, steps, inj, "revert")? else {
        return Ok(None);
    };
    match inj.revert(&text) {
        Reverted::Removed(new) => Ok(Some(Step {
            status: Status::Remove,
            path: inj.path().to_string(),
            detail: Some(inj.snippet()),
            op: Op::Write(new.into_bytes()),
        })),
        Reverted::NotPresent => Ok(None),
        Reverted::NoAnchor(reason) => Err(no_anchor(inj, &reason, "revert")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;
    use crate::report::word;

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
            .map(|s| (word(s.status), s.path.as_str()))
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
    fn a_new_app_goes_into_an_empty_directory_unless_told() {
        let dir = Path::new("chat");
        let mut fs = MemFs::default();
        assert!(check_new_root(&fs, dir, Collision::Stop).is_ok());
        fs.write("notes.txt", b"mine").unwrap();
        let err = check_new_root(&fs, dir, Collision::Stop).unwrap_err();
        assert!(
            err.to_string().starts_with("directory chat is not empty"),
            "{err}"
        );
        assert!(check_new_root(&fs, dir, Collision::Skip).is_ok());
        assert!(check_new_root(&fs, dir, Collision::Force).is_ok());
    }

    #[test]
    fn conflicts_are_counted_in_words() {
        assert!(
            conflict_error(1)
                .to_string()
                .starts_with("1 file already has")
        );
        assert!(
            conflict_error(2)
                .to_string()
                .ends_with("--skip to keep them.")
        );
    }
}
