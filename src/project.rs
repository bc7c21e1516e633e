//! The app as `gen` records it: finding its root, reading `gen.toml` and `specs/`, lowering all,
//! and the whole app rendered back as `gen` would leave it.
//!
//! The decisions that span resources live here too: which migration number a resource takes,
//! what refuses its removal, and which of its edits another resource still needs.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::fs::{Fs, MemFs};
use crate::inject::{Injection, Outcome};
use crate::lower::{lower_app, lower_resource, resource_name};
use crate::model::{App, Resource};
use crate::naming::suggest;
use crate::render::{self, GeneratedFile, OVERRIDE_DIR, Owner, Scaffolds, spec_path};
use crate::spec::{self, ResourceSpec};
use crate::types::Database;

/// The project file at an app's root.
pub const PROJECT_FILE: &str = "gen.toml";

/// What `gen.toml` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    name: String,
    #[serde(default)]
    database: Database,
    /// Absent in apps made before `gen` recorded its version.
    #[serde(default)]
    gen_version: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    /// Present once `gen auth` has run.
    #[serde(default)]
    auth: Option<AuthFile>,
}

/// The `[auth]` table of `gen.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    migration: u64,
}

/// Accounts, as `gen auth` added them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth {
    /// The number of the migration that creates their tables.
    pub migration: u64,
}

/// The resource names accounts take for their own tables and module; a resource by one of these
/// names and `gen auth` exclude each other.
pub const AUTH_NAMES: [&str; 3] = ["user", "session", "password_reset"];

/// An app and its resources, lowered, in the order they were generated.
#[derive(Debug, Clone)]
pub struct Project {
    pub app: App,
    /// The version of `gen` that created the app, as `gen.toml` records it; `None` for an app
    /// made before `gen` recorded one.
    pub gen_version: Option<String>,
    pub resources: Vec<Resource>,
    /// `Some` once `gen auth` has added accounts.
    pub auth: Option<Auth>,
}

impl Project {
    pub fn resource(&self, singular: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.names.singular == singular)
    }

    /// The resources generated before `singular`, or all of them when it is new: those a
    /// (re)generated resource may reference.
    pub fn before(&self, singular: &str) -> &[Resource] {
        let end = self
            .resources
            .iter()
            .position(|r| r.names.singular == singular)
            .unwrap_or(self.resources.len());
        &self.resources[..end]
    }

    /// The resource a user named, singular or plural; an unknown name is an error that
    /// suggests the nearest one or lists them.
    pub fn find(&self, name: &str) -> Result<&Resource> {
        let singular = resource_name(name)?;
        self.resource(&singular)
            .ok_or_else(|| Error::Input(self.unknown_resource(name, &singular)))
    }

    fn unknown_resource(&self, name: &str, singular: &str) -> String {
        let names = || self.resources.iter().map(|r| r.names.singular.as_str());
        let mut msg = format!("there is no resource \"{name}\" in this app");
        match suggest(singular, names()) {
            Some(s) => msg.push_str(&format!("; did you mean \"{s}\"?")),
            None if self.resources.is_empty() => msg.push_str("; it has no resources yet"),
            None => msg.push_str(&format!(
                "; its resources are {}",
                names().collect::<Vec<_>>().join(", ")
            )),
        }
        msg
    }
}

impl Project {
    /// The project with `spec` in place of the resource of its name (or after the others when
    /// it is new), every resource lowered again in order, since a resource's lowering reads the
    /// resources before it (a child's tests create its parent through the parent's form).
    pub fn with_spec(&self, spec: &ResourceSpec) -> Result<Project> {
        let mut specs: Vec<ResourceSpec> = self.resources.iter().map(|r| r.spec.clone()).collect();
        match specs.iter_mut().find(|s| s.name == spec.name) {
            Some(slot) => *slot = spec.clone(),
            None => specs.push(spec.clone()),
        }
        self.with_specs(&specs)
    }

    /// The project with these resources, lowered in this order.
    pub fn with_specs(&self, specs: &[ResourceSpec]) -> Result<Project> {
        let mut resources: Vec<Resource> = Vec::with_capacity(specs.len());
        for spec in specs {
            let resource = lower_resource(spec, &self.app, &resources)?;
            resources.push(resource);
        }
        Ok(Project {
            resources,
            ..self.clone()
        })
    }
}

/// The app around `start`: the `Fs` that `open` gives for the nearest directory at or above
/// `start` that holds a `gen.toml`.
pub fn find_root<F: Fs>(start: &Path, open: impl Fn(&Path) -> F) -> Result<F> {
    start
        .ancestors()
        .map(open)
        .find(|fs| fs.is_file(PROJECT_FILE))
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
    let mut app = lower_app(&file.name, file.database)
        .map_err(|e| Error::Input(format!("{PROJECT_FILE}: {e}")))?;
    app.accounts = file.auth.is_some();
    let mut resources: Vec<Resource> = Vec::with_capacity(file.resources.len());
    for name in &file.resources {
        let spec = read_spec(fs, name)?;
        let resource = lower_resource(&spec, &app, &resources)
            .map_err(|e| Error::Input(format!("{}: {e}", spec_path(name))))?;
        resources.push(resource);
    }
    Ok(Project {
        app,
        gen_version: file.gen_version,
        resources,
        auth: file.auth.map(|auth| Auth {
            migration: auth.migration,
        }),
    })
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
    let recorded = project
        .resources
        .iter()
        .flat_map(|r| {
            r.spec
                .migration
                .into_iter()
                .chain(r.spec.changes.iter().map(|c| c.migration))
        })
        .chain(project.auth.map(|auth| auth.migration));
    Ok(on_disk.chain(recorded).max().unwrap_or(0) + 1)
}

/// The number a resource's migration takes when its spec has none: the one it recorded when it
/// is regenerated, else the next free one.
pub fn migration_for(fs: &dyn Fs, project: &Project, singular: &str) -> Result<u64> {
    match project.resource(singular) {
        Some(resource) => Ok(resource.spec.migration.unwrap_or_default()),
        None => next_migration(fs, project),
    }
}

/// The number the accounts' migration takes: the one recorded when `gen auth` runs again, else
/// the next free one.
pub fn auth_migration(fs: &dyn Fs, project: &Project) -> Result<u64> {
    match project.auth {
        Some(auth) => Ok(auth.migration),
        None => next_migration(fs, project),
    }
}

/// Refuses `gen auth` in an app that has a resource by a name accounts take, naming it.
pub fn ensure_auth_fits(project: &Project) -> Result<()> {
    match project
        .resources
        .iter()
        .find(|r| AUTH_NAMES.contains(&r.names.singular.as_str()))
    {
        Some(taken) => Err(Error::Input(format!(
            "this app has a resource \"{}\" ({}); `gen auth` makes its own {} table and cannot \
             share it. Destroy or rename the resource first",
            taken.names.singular,
            spec_path(&taken.names.singular),
            taken.names.plural
        ))),
        None => Ok(()),
    }
}

/// Refuses a resource by a name accounts take once the app has them.
pub fn ensure_not_auth_name(project: &Project, singular: &str) -> Result<()> {
    if project.auth.is_some() && AUTH_NAMES.contains(&singular) {
        return Err(Error::Input(format!(
            "resource \"{singular}\" is taken by the app's accounts (`gen auth` made its table and \
             src/auth/); choose another name"
        )));
    }
    Ok(())
}

/// The edits `gen auth` made, when the app has accounts.
pub fn auth_injections(project: &Project, scaffolds: &Scaffolds) -> Result<Vec<Injection>> {
    match project.auth {
        Some(auth) => render::auth_injections(&project.app, auth.migration, scaffolds),
        None => Ok(Vec::new()),
    }
}

/// The edits `gen destroy auth` takes back: the accounts' injections, less those a resource also
/// makes (sqlx's chrono feature).
pub fn auth_injections_to_revert(
    project: &Project,
    scaffolds: &Scaffolds,
) -> Result<Vec<Injection>> {
    let still_needed: Vec<Injection> = project
        .resources
        .iter()
        .flat_map(|r| render::resource_injections(&project.app, r))
        .collect();
    Ok(auth_injections(project, scaffolds)?
        .into_iter()
        .filter(|inj| !still_needed.contains(inj))
        .collect())
}

/// Refuses to destroy a resource another one references, naming the one to destroy first.
pub fn ensure_unreferenced(project: &Project, singular: &str) -> Result<()> {
    match project
        .resources
        .iter()
        .find(|r| r.referenced().any(|n| n == singular))
    {
        Some(dependent) => Err(Error::Input(format!(
            "\"{}\" references \"{singular}\"; destroy \"{}\" first",
            dependent.names.singular, dependent.names.singular
        ))),
        None => Ok(()),
    }
}

/// The edits destroying `resource` takes back: its injections, less those another resource or
/// the accounts also make, so a crate feature another still needs stays in Cargo.toml.
pub fn injections_to_revert(
    project: &Project,
    resource: &Resource,
    scaffolds: &Scaffolds,
) -> Result<Vec<Injection>> {
    let singular = &resource.names.singular;
    let mut still_needed: Vec<Injection> = project
        .resources
        .iter()
        .filter(|r| r.names.singular != *singular)
        .flat_map(|r| render::resource_injections(&project.app, r))
        .collect();
    still_needed.extend(auth_injections(project, scaffolds)?);
    Ok(render::resource_injections(&project.app, resource)
        .into_iter()
        .filter(|inj| !still_needed.contains(inj))
        .collect())
}

/// The whole app, or the part of it a change can alter (see `Scope`), rendered in memory as
/// `gen` would leave it.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub tree: MemFs,
    /// Every rendered path and who owns it, in render order; an injected file can be listed
    /// again by a later render.
    pub owners: Vec<(String, Owner)>,
    /// The injections not yet applied to each path, in order. They are applied together once
    /// the render is done, or before the path is rendered again, so that a file every resource
    /// edits (the routes in `src/app.rs`) is parsed once per render rather than once per
    /// resource.
    pending: BTreeMap<String, Vec<Injection>>,
}

impl Rendered {
    fn add(&mut self, files: Vec<GeneratedFile>) -> Result<()> {
        for f in files {
            self.apply_pending(&f.path)?;
            self.tree.write(&f.path, &f.contents)?;
            self.owners.push((f.path, f.owner));
        }
        Ok(())
    }

    fn inject(&mut self, inj: Injection) {
        self.pending
            .entry(inj.path().to_owned())
            .or_default()
            .push(inj);
    }

    /// Applies the injections waiting for `path` in order, as `Injection::apply` on the text
    /// each leaves would.
    fn apply_pending(&mut self, path: &str) -> Result<()> {
        let Some(injections) = self.pending.remove(path) else {
            return Ok(());
        };
        let text = String::from_utf8(self.tree.read(path)?.unwrap_or_default())
            .map_err(|_| Error::Template(format!("{path} is not UTF-8 text")))?;
        let mut last = None;
        for (inj, outcome) in injections
            .iter()
            .zip(Injection::apply_in_order(&text, &injections))
        {
            match outcome {
                Outcome::Injected(new) => last = Some(new),
                Outcome::AlreadyPresent => {}
                Outcome::NoAnchor(reason) => {
                    return Err(Error::Template(format!(
                        "the scaffold of {path} has no place for `{}`: {reason}",
                        inj.snippet()
                    )));
                }
            }
        }
        match last {
            Some(new) => self.tree.write(path, new.as_bytes()),
            None => Ok(()),
        }
    }

    /// Applies every injection still waiting, ending the render.
    fn finish(mut self) -> Result<Rendered> {
        let paths: Vec<String> = self.pending.keys().cloned().collect();
        for path in paths {
            self.apply_pending(&path)?;
        }
        Ok(self)
    }
}

/// What a render covers: the whole app, or only the parts of it a change can alter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Whole,
    /// The app's files among `paths`, the resources named in `resources` and, with `auth`, the
    /// accounts' files; `paths` holds every path these parts render, and the injections into
    /// those paths are applied as in the whole render.
    Parts {
        paths: HashSet<String>,
        resources: HashSet<String>,
        auth: bool,
    },
}

impl Scope {
    fn app_file(&self, path: &str) -> bool {
        match self {
            Scope::Whole => true,
            Scope::Parts { paths, .. } => paths.contains(path),
        }
    }

    fn resource(&self, resource: &Resource) -> bool {
        match self {
            Scope::Whole => true,
            Scope::Parts { resources, .. } => resources.contains(&resource.names.singular),
        }
    }

    fn auth(&self) -> bool {
        match self {
            Scope::Whole => true,
            Scope::Parts { auth, .. } => *auth,
        }
    }

    fn injects(&self, inj: &Injection) -> bool {
        self.app_file(inj.path())
    }
}

/// The paths each part of a project renders, in render order, without rendering them.
struct PartPaths {
    app: Vec<String>,
    resources: Vec<(String, Vec<String>)>,
    auth: Vec<String>,
}

impl PartPaths {
    fn of(project: &Project, scaffolds: &Scaffolds) -> Result<PartPaths> {
        Ok(PartPaths {
            app: render::app_paths(scaffolds)?,
            resources: project
                .resources
                .iter()
                .map(|r| {
                    Ok((
                        r.names.singular.clone(),
                        render::resource_paths(r, scaffolds)?,
                    ))
                })
                .collect::<Result<_>>()?,
            auth: match project.auth {
                Some(auth) => render::auth_paths(auth.migration, scaffolds)?,
                None => Vec::new(),
            },
        })
    }
}

/// Every path the whole render of `project` writes, without rendering it.
pub fn paths(project: &Project, scaffolds: &Scaffolds) -> Result<HashSet<String>> {
    let parts = PartPaths::of(project, scaffolds)?;
    Ok(parts
        .app
        .into_iter()
        .chain(parts.resources.into_iter().flat_map(|(_, paths)| paths))
        .chain(parts.auth)
        .collect())
}

/// The injections of the resources into each path, in render order.
fn injections_by_path(project: &Project) -> BTreeMap<String, Vec<Injection>> {
    let mut by_path: BTreeMap<String, Vec<Injection>> = BTreeMap::new();
    for inj in project
        .resources
        .iter()
        .flat_map(|r| render::resource_injections(&project.app, r))
    {
        by_path.entry(inj.path().to_owned()).or_default().push(inj);
    }
    by_path
}

/// The part of the app that going from `old` to `new` can alter: each resource whose lowered
/// form differs (a resource's render reads nothing but the app and its own lowered form, which
/// carries what it takes from its parent and the resources it references), each file whose
/// injections differ, the files `gen` keeps current, and every other part that renders a file
/// these render. `Whole` when the
/// app, its accounts, its recorded version or the list of its resources differ.
pub fn changed_scope(old: &Project, new: &Project, scaffolds: &Scaffolds) -> Result<Scope> {
    let same_names = old.resources.len() == new.resources.len()
        && old
            .resources
            .iter()
            .zip(&new.resources)
            .all(|(a, b)| a.names.singular == b.names.singular);
    if old.app != new.app
        || old.auth != new.auth
        || old.gen_version != new.gen_version
        || !same_names
    {
        return Ok(Scope::Whole);
    }
    let mut resources: HashSet<String> = old
        .resources
        .iter()
        .zip(&new.resources)
        .filter(|(a, b)| a != b)
        .map(|(_, b)| b.names.singular.clone())
        .collect();
    let (before, after) = (injections_by_path(old), injections_by_path(new));
    let mut wanted: HashSet<String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .cloned()
        .collect();
    // The files `gen` keeps current are rewritten by any run that finds them changed.
    wanted.extend(render::kept_current_app_paths(scaffolds)?);
    // The files of old and new are the same but for the resources' changes, which add files and
    // never take one away, so the parts of `new` cover both renders.
    let parts = PartPaths::of(new, scaffolds)?;
    let mut auth = false;
    // A part in the scope brings in every other part that renders one of its paths, so that
    // each path in the scope ends as the whole render leaves it; a pass that adds nothing ends it.
    loop {
        let mut grew = false;
        for (name, paths) in &parts.resources {
            if resources.contains(name) {
                grew |= extend(&mut wanted, paths);
            } else if paths.iter().any(|p| wanted.contains(p)) {
                resources.insert(name.clone());
                grew = true;
            }
        }
        if auth {
            grew |= extend(&mut wanted, &parts.auth);
        } else if parts.auth.iter().any(|p| wanted.contains(p)) {
            auth = true;
            grew = true;
        }
        if !grew {
            break;
        }
    }
    let paths = wanted;
    Ok(Scope::Parts {
        paths,
        resources,
        auth,
    })
}

/// Adds `paths` to `set`, saying whether any was new.
fn extend(set: &mut HashSet<String>, paths: &[String]) -> bool {
    let mut grew = false;
    for path in paths {
        grew |= set.insert(path.clone());
    }
    grew
}

/// Renders the whole project: the app, then each resource with its injections applied in order,
/// and the accounts among them where their migration number places them, as they were generated.
pub fn render_all(project: &Project, scaffolds: &Scaffolds) -> Result<Rendered> {
    render_scope(project, scaffolds, &Scope::Whole)
}

/// Renders the parts of the project in `scope` as `render_all` renders them, in the same
/// order: each path in the scope ends with the bytes and the owner the whole render gives it.
pub fn render_scope(project: &Project, scaffolds: &Scaffolds, scope: &Scope) -> Result<Rendered> {
    let mut rendered = Rendered::default();
    rendered.add(render::render_app_where(
        &project.app,
        scaffolds,
        &|path| scope.app_file(path),
    )?)?;
    let mut auth = project.auth;
    let add_auth = |rendered: &mut Rendered, auth: Auth| -> Result<()> {
        if scope.auth() {
            rendered.add(render::render_auth(
                &project.app,
                auth.migration,
                scaffolds,
            )?)?;
        }
        for inj in render::auth_injections(&project.app, auth.migration, scaffolds)? {
            if scope.injects(&inj) {
                rendered.inject(inj);
            }
        }
        Ok(())
    };
    for resource in &project.resources {
        if let Some(first) = auth
            && resource.spec.migration.is_some_and(|m| m > first.migration)
        {
            add_auth(&mut rendered, first)?;
            auth = None;
        }
        if scope.resource(resource) {
            rendered.add(render::render_resource(&project.app, resource, scaffolds)?)?;
        }
        for inj in render::resource_injections(&project.app, resource) {
            if scope.injects(&inj) {
                rendered.inject(inj);
            }
        }
    }
    if let Some(last) = auth {
        add_auth(&mut rendered, last)?;
    }
    rendered.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, text};
    use crate::write::{Plan, Status, plan_removals};

    const ROOM: &[&str] = &["room", "name:string"];
    const MESSAGE: &[&str] = &["message", "body:text", "room:references"];
    const NOTE: &[&str] = &["note", "body:text", "key:uuid"];

    fn statuses(plan: &Plan) -> Vec<(Status, &str)> {
        plan.steps
            .iter()
            .map(|s| (s.status, s.path.as_str()))
            .collect()
    }

    /// Plans `gen destroy resource NAME` as the command does.
    fn destroy(fs: &MemFs, project: &Project, name: &str) -> Result<Plan> {
        let resource = project.find(name)?;
        ensure_unreferenced(project, &resource.names.singular)?;
        let files = render::render_resource(&project.app, resource, &scaffolds(fs)?)?;
        let scaffolds = scaffolds(fs)?;
        let injections = injections_to_revert(project, resource, &scaffolds)?;
        plan_removals(fs, &files, &injections, false)
    }

    #[test]
    fn the_root_is_the_nearest_directory_with_a_gen_toml() {
        let (app, _) = testing::app(&[]);
        let open = |dir: &Path| match dir.to_str() {
            Some("/work/chat") => app.clone(),
            _ => MemFs::default(),
        };
        let found = find_root(Path::new("/work/chat/src/rooms"), open).unwrap();
        assert_eq!(found, app);
        let err = find_root(Path::new("/work/other"), open).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not inside a turbogen app: no gen.toml in /work/other"),
            "{err}"
        );
    }

    #[test]
    fn gen_toml_records_the_gen_version_and_older_apps_still_load() {
        let (mut fs, project) = testing::app(&[ROOM]);
        assert_eq!(project.gen_version.as_deref(), Some(render::GEN_VERSION));
        let older: String = text(&fs, PROJECT_FILE)
            .lines()
            .filter(|l| !l.starts_with("gen_version"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs.write(PROJECT_FILE, older.as_bytes()).unwrap();
        let project = load(&fs).unwrap();
        assert_eq!(project.gen_version, None);
        assert_eq!(project.resources.len(), 1);
    }

    #[test]
    fn the_next_migration_follows_files_on_disk_and_recorded_numbers() {
        let (mut fs, project) = testing::app(&[]);
        assert_eq!(next_migration(&fs, &project).unwrap(), 1);
        let (mut fs_rooms, rooms) = testing::app(&[ROOM, MESSAGE]);
        assert_eq!(rooms.resources[1].migration, "0002");
        assert_eq!(next_migration(&fs_rooms, &rooms).unwrap(), 3);

        // A number taken by a file the user added, past a gap, is taken; files without a number
        // do not count.
        fs.write("migrations/0007_add_index.sql", b"").unwrap();
        fs.write("migrations/README.md", b"").unwrap();
        fs.write("migrations/seed_data.sql", b"").unwrap();
        assert_eq!(next_migration(&fs, &project).unwrap(), 8);

        // A resource's recorded number is taken even when its file is gone.
        for path in fs_rooms.list("migrations").unwrap() {
            fs_rooms.remove(&path).unwrap();
        }
        assert_eq!(next_migration(&fs_rooms, &rooms).unwrap(), 3);
    }

    #[test]
    fn a_regenerated_resource_keeps_its_migration_and_its_place() {
        let (fs, project) = testing::app(&[ROOM, MESSAGE]);
        assert_eq!(migration_for(&fs, &project, "room").unwrap(), 1);
        assert_eq!(migration_for(&fs, &project, "message").unwrap(), 2);
        assert_eq!(migration_for(&fs, &project, "note").unwrap(), 3);
        assert_eq!(project.before("room").len(), 0);
        assert_eq!(project.before("message").len(), 1);
        assert_eq!(project.before("note").len(), 2);
    }

    #[test]
    fn an_unknown_resource_is_named_with_a_suggestion() {
        let (_, project) = testing::app(&[ROOM, MESSAGE]);
        assert_eq!(project.find("messages").unwrap().names.singular, "message");
        let err = project.find("mesage").unwrap_err().to_string();
        assert_eq!(
            err,
            "there is no resource \"mesage\" in this app; did you mean \"message\"?"
        );
        let err = project.find("widget").unwrap_err().to_string();
        assert!(err.ends_with("; its resources are room, message"), "{err}");
        let (_, empty) = testing::app(&[]);
        let err = empty.find("room").unwrap_err().to_string();
        assert!(err.ends_with("; it has no resources yet"), "{err}");
    }

    #[test]
    fn destroy_is_the_exact_inverse_of_generating() {
        let (before, _) = testing::app(&[ROOM]);
        let (mut fs, project) = testing::app(&[ROOM, NOTE]);
        let plan = destroy(&fs, &project, "note").unwrap();
        plan.apply(&mut fs).unwrap();
        assert_eq!(fs, before);
    }

    #[test]
    fn destroy_keeps_an_edited_file_and_reverts_the_injections() {
        let (mut fs, project) = testing::app(&[ROOM, NOTE]);
        let edited = "templates/notes/_note.html";
        fs.write(edited, b"<p>mine</p>\n").unwrap();
        let plan = destroy(&fs, &project, "note").unwrap();
        let steps = statuses(&plan);
        assert!(steps.contains(&(Status::Modified, edited)), "{steps:?}");
        assert!(steps.contains(&(Status::Remove, "src/notes/mod.rs")));
        let reverted: Vec<_> = plan
            .steps
            .iter()
            .filter_map(|s| Some((s.path.as_str(), s.detail.as_deref()?)))
            .collect();
        assert_eq!(
            reverted,
            [
                (edited, "kept: it was edited"),
                ("Cargo.toml", "sqlx = { features = [..., \"uuid\"] }"),
                (
                    "templates/home.html",
                    "<li><a href=\"/notes\">Notes</a></li>"
                ),
                ("templates/layout.html", "<a href=\"/notes\">Notes</a>"),
                ("gen.toml", "resources = [..., \"note\"]"),
                (
                    "src/app.rs",
                    "let router = router.merge(crate::notes::routes());"
                ),
                ("src/lib.rs", "pub mod notes;"),
            ]
        );
        plan.apply(&mut fs).unwrap();
        assert_eq!(text(&fs, edited), "<p>mine</p>\n");
        assert!(!fs.files.contains_key("src/notes/mod.rs"));
        assert!(!text(&fs, "src/lib.rs").contains("notes"));
        assert!(!text(&fs, "src/app.rs").contains("notes"));
        assert!(!text(&fs, "gen.toml").contains("note"));
    }

    #[test]
    fn destroy_keeps_a_feature_another_resource_needs() {
        let (fs, project) = testing::app(&[ROOM, NOTE]);
        let note = project.find("note").unwrap();
        let features = |injections: Vec<Injection>| -> Vec<&'static str> {
            injections
                .into_iter()
                .filter_map(|inj| match inj {
                    Injection::Feature { feature, .. } => Some(feature),
                    _ => None,
                })
                .collect()
        };
        // Every resource needs sqlx's chrono feature; only the note needs uuid.
        assert_eq!(
            features(render::resource_injections(&project.app, note)),
            ["chrono", "uuid"]
        );
        let builtin = Scaffolds::builtin();
        let revert =
            |project: &Project, r: &Resource| injections_to_revert(project, r, &builtin).unwrap();
        assert_eq!(features(revert(&project, note)), ["uuid"]);
        let mut after = fs.clone();
        destroy(&fs, &project, "note")
            .unwrap()
            .apply(&mut after)
            .unwrap();
        let cargo = text(&after, "Cargo.toml");
        assert!(
            cargo.contains("\"chrono\"") && !cargo.contains("\"uuid\""),
            "{cargo}"
        );

        // The last resource takes chrono with it.
        let room = project.find("room").unwrap();
        let alone = Project {
            resources: vec![room.clone()],
            ..project.clone()
        };
        assert_eq!(features(revert(&alone, room)), ["chrono"]);
    }

    /// Asserts that a render of part of `project` gives each of its paths the bytes and the
    /// owner the whole render gives it, in the whole render's order.
    fn renders_as_the_whole(project: &Project, scope: &Scope) -> Rendered {
        let scaffolds = Scaffolds::builtin();
        let whole = render_all(project, &scaffolds).unwrap();
        let part = render_scope(project, &scaffolds, scope).unwrap();
        let last_owner = |rendered: &Rendered, path: &str| {
            rendered
                .owners
                .iter()
                .rev()
                .find(|(p, _)| p == path)
                .map(|(_, owner)| *owner)
        };
        let mut in_whole = whole.owners.iter();
        for (path, _) in &part.owners {
            assert_eq!(
                part.tree.read(path).unwrap(),
                whole.tree.read(path).unwrap(),
                "{path}"
            );
            assert_eq!(last_owner(&part, path), last_owner(&whole, path), "{path}");
            assert!(in_whole.any(|(p, _)| p == path), "{path} out of order");
        }
        part
    }

    #[test]
    fn a_field_change_renders_only_what_it_can_alter_and_that_as_the_whole_render() {
        let (fs, project) = testing::app(&[ROOM, MESSAGE, NOTE]);
        let scaffolds = Scaffolds::builtin();
        let before = render_all(&project, &scaffolds).unwrap();
        for (field, cargo) in [("pinned:boolean", false), ("extra:json:optional", true)] {
            let new =
                crate::evolve::add_fields(&fs, &project, "room", &[field.to_owned()]).unwrap();
            let scope = changed_scope(&project, &new, &scaffolds).unwrap();
            let Scope::Parts {
                paths: scoped,
                resources,
                auth,
            } = &scope
            else {
                panic!("a field change renders part of the app, not {scope:?}");
            };
            // The messages' tests create the room they belong to, so they change with it; the
            // notes do not read rooms.
            let mut names: Vec<&str> = resources.iter().map(String::as_str).collect();
            names.sort();
            assert_eq!(names, ["message", "room"], "{field}");
            assert!(!auth);
            // A JSON field needs sqlx's json feature in Cargo.toml, which gen owns with the user.
            assert_eq!(scoped.contains("Cargo.toml"), cargo, "{field}");
            assert!(!scoped.contains("src/app.rs") && !scoped.contains("src/notes/mod.rs"));
            // The runtime is rewritten wherever it differs, as by every run.
            assert!(scoped.contains("src/turbo/stream.rs"));
            let part = renders_as_the_whole(&new, &scope);
            // Every file whose render the change alters is in the part.
            let whole = render_all(&new, &scaffolds).unwrap();
            for (path, _) in &whole.owners {
                if whole.tree.read(path).unwrap() != before.tree.read(path).unwrap() {
                    assert!(part.tree.read(path).unwrap().is_some(), "{field}: {path}");
                }
            }
            assert_eq!(paths(&new, &scaffolds).unwrap().len(), {
                let mut all: Vec<&str> = whole.owners.iter().map(|(p, _)| p.as_str()).collect();
                all.sort();
                all.dedup();
                all.len()
            });
        }
        // Any other difference is rendered whole.
        let renamed = Project {
            resources: project.resources[..2].to_vec(),
            ..project.clone()
        };
        assert_eq!(
            changed_scope(&project, &renamed, &scaffolds).unwrap(),
            Scope::Whole
        );
    }

    #[test]
    fn destroy_refuses_a_resource_another_references() {
        let (fs, project) = testing::app(&[ROOM, MESSAGE]);
        let err = destroy(&fs, &project, "room").unwrap_err().to_string();
        assert_eq!(
            err,
            "\"message\" references \"room\"; destroy \"message\" first"
        );
        assert!(destroy(&fs, &project, "message").is_ok());
    }
}
