//! The app on disk as `gen` records it: finding its root, reading `gen.toml` and `specs/`, lowering all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::lower::{lower_app, lower_resource};
use crate::model::{App, Resource};
use crate::render::{OVERRIDE_DIR, Scaffolds, spec_path};
use crate::spec::{self, ResourceSpec};
use crate::types::Database;
use crate::write::Fs;

/// The project file at an app's root.
pub const PROJECT_FILE: &str = "gen.toml";

/// What `gen.toml` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    name: String,
    #[serde(default)]
    database: Database,
    #[serde(default)]
    resources: Vec<String>,
}

/// An app and its resources, lowered, in the order they were generated.
#[derive(Debug, Clone)]
pub struct Project {
    pub app: App,
    pub resources: Vec<Resource>,
}

impl Project {
    pub fn resource(&self, singular: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.names.singular == singular)
    }
}

/// The nearest directory at or above `start` that holds a `gen.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(PROJECT_FILE).is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::Input(format!(
                "not inside a turbogen app: no {PROJECT_FILE} in {} or any directory above it; \
                 run `gen new NAME` to create one",
                start.display()
            ))
        })
}

fn read_text(fs: &dyn Fs, path: &str) -> Result<Option<String>> {
    match fs.read(path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::Input(format!("{path} is not UTF-8 text"))),
        None => Ok(None),
    }
}

/// Reads a spec recorded under `specs/`.
pub fn read_spec(fs: &dyn Fs, singular: &str) -> Result<ResourceSpec> {
    let path = spec_path(singular);
    let text = read_text(fs, &path)?.ok_or_else(|| {
        Error::Input(format!(
            "{PROJECT_FILE} lists the resource \"{singular}\" but {path} is missing"
        ))
    })?;
    spec::parse_toml(singular, &text, Path::new(&path))
}

/// Reads and lowers the whole project: `gen.toml`, then each spec in the order it lists them.
pub fn load(fs: &dyn Fs) -> Result<Project> {
    let text = read_text(fs, PROJECT_FILE)?
        .ok_or_else(|| Error::Input(format!("{PROJECT_FILE} is missing")))?;
    let file: ProjectFile = toml::from_str(&text)
        .map_err(|e| Error::Input(format!("{PROJECT_FILE}: {}", e.to_string().trim_end())))?;
    let app = lower_app(&file.name, file.database)
        .map_err(|e| Error::Input(format!("{PROJECT_FILE}: {e}")))?;
    let mut resources: Vec<Resource> = Vec::with_capacity(file.resources.len());
    for name in &file.resources {
        let spec = read_spec(fs, name)?;
        let resource = lower_resource(&spec, &app, &resources)
            .map_err(|e| Error::Input(format!("{}: {e}", spec_path(name))))?;
        resources.push(resource);
    }
    Ok(Project { app, resources })
}

/// The built-in scaffolds with the app's overrides from `.gen/scaffolds/`.
pub fn scaffolds(fs: &dyn Fs) -> Result<Scaffolds> {
    let mut overrides = BTreeMap::new();
    for path in fs.list(OVERRIDE_DIR)? {
        let bytes = fs.read(&path)?.unwrap_or_default();
        overrides.insert(path[OVERRIDE_DIR.len() + 1..].to_string(), bytes);
    }
    Scaffolds::with_overrides(overrides)
}

/// The number the next migration takes: one past every numbered file in `migrations/` and
/// every resource's recorded migration.
pub fn next_migration(fs: &dyn Fs, project: &Project) -> Result<u64> {
    let on_disk = fs.list("migrations")?.into_iter().filter_map(|path| {
        let name = path.rsplit('/').next()?.to_string();
        name.split('_').next()?.parse::<u64>().ok()
    });
    let recorded = project.resources.iter().filter_map(|r| r.spec.migration);
    Ok(on_disk.chain(recorded).max().unwrap_or(0) + 1)
}
