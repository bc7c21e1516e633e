//! Pristine renders: `.gen/base/PATH` keeps each file the user owns as `gen` last rendered it,
//! the base of the three-way merges of `gen field` and `gen update`.
//!
//! Every run that writes a user-owned file writes its base beside it, so the base is always what
//! the version of `gen` (and the scaffold overrides) of that run rendered, and an upgrade can
//! merge without the older binary. `gen check` holds the bases to the current render, as it
//! holds the files `gen` keeps current. An app made before bases were kept has none; the merges
//! then take the file as `gen` renders it from the recorded spec today (see `evolve`).

use std::collections::{HashMap, HashSet};

use crate::error::Result;
use crate::fs::Fs;
use crate::project::Rendered;
use crate::render::Owner;
use crate::write::{Plan, Status, Step};

/// Where the bases live, mirroring the app's tree.
pub const BASE_DIR: &str = ".gen/base";

/// The base of the file at `path`.
pub fn base_path(path: &str) -> String {
    format!("{BASE_DIR}/{path}")
}

/// The recorded base of `path`, if the app has one.
pub fn read(fs: &dyn Fs, path: &str) -> Result<Option<Vec<u8>>> {
    fs.read(&base_path(path))
}

/// Every path a render gives that has a base: the files the user owns, once each.
pub fn owned_paths(rendered: &Rendered) -> Vec<&str> {
    let owners: HashMap<&str, Owner> = rendered
        .owners
        .iter()
        .map(|(path, owner)| (path.as_str(), *owner))
        .collect();
    let mut seen = HashSet::new();
    rendered
        .owners
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| owners[path] == Owner::User && seen.insert(*path))
        .collect()
}

/// One base write: `create`, `identical` or `force` against the base there is.
pub fn write_step(fs: &dyn Fs, path: &str, contents: &[u8]) -> Result<Step> {
    let at = base_path(path);
    Ok(match fs.read(&at)? {
        None => Step::write(Status::Create, &at, contents.to_vec()),
        Some(old) if old == contents => Step::keep(Status::Identical, &at),
        Some(_) => Step::write(Status::Force, &at, contents.to_vec()),
    })
}

/// The base steps of a planned run, given the whole app as `gen` renders it once the run is
/// done: each user-owned path the plan writes or finds identical gets its render as its base, and a path
/// the render no longer has (a destroyed resource's) loses its base.
pub fn record(fs: &dyn Fs, plan: &Plan, after: &Rendered) -> Result<Vec<Step>> {
    let owned: HashSet<&str> = owned_paths(after).into_iter().collect();
    let rendered: HashSet<&str> = after.owners.iter().map(|(p, _)| p.as_str()).collect();
    let mut seen = HashSet::new();
    let mut steps = Vec::new();
    for step in &plan.steps {
        let path = step.path.as_str();
        if path.starts_with(".gen/") || !seen.insert(path) {
            continue;
        }
        // A file the run kept as the user has it (`--skip`) keeps its base too: the user has not
        // taken this render.
        if step.status == Status::Skip {
            continue;
        }
        if owned.contains(path) {
            let contents = after.tree.read(path)?.unwrap_or_default();
            steps.push(write_step(fs, path, &contents)?);
        } else if !rendered.contains(path) && fs.is_file(&base_path(path)) {
            steps.push(Step::remove(&base_path(path)));
        }
    }
    Ok(steps)
}
