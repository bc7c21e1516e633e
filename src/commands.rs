//! What each subcommand does, composed from the four stages: spec, lower, render, write.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use similar::TextDiff;

use crate::cli::{Cli, Command, DestroyWhat, GlobalFlags, NewArgs, ResourceArgs};
use crate::error::{Error, Result};
use crate::inject::Outcome;
use crate::lower::{lower_app, lower_resource, resource_name};
use crate::model::Resource;
use crate::naming::suggest;
use crate::project::{self, Project};
use crate::render::{self, Owner, Scaffolds};
use crate::spec::{self, ResourceSpec};
use crate::types::Database;
use crate::write::{self, Collision, Fs, MemFs, Plan, RealFs, Status, print_status};

/// Runs a parsed command line in `cwd`, printing statuses to `out`.
pub fn run(cli: Cli, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let flags = cli.global;
    match cli.command {
        Command::New(args) => new(&args, &flags, cwd, out),
        Command::Resource(args) => resource(&args, &flags, cwd, out),
        Command::Destroy(args) => match args.what {
            DestroyWhat::Resource { name } => destroy_resource(&name, &flags, cwd, out),
        },
        Command::Check(args) => check(args.strict, cwd, out),
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "gen", out);
            Ok(())
        }
    }
}

fn collision(flags: &GlobalFlags) -> Collision {
    if flags.force {
        Collision::Force
    } else if flags.skip {
        Collision::Skip
    } else {
        Collision::Stop
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Io(format!("cannot print: {e}"))
}

/// Reports a plan, then writes it unless this is a dry run or it has conflicts.
fn finish(plan: &Plan, fs: &mut dyn Fs, flags: &GlobalFlags, out: &mut dyn Write) -> Result<()> {
    let conflicts = plan.conflicts();
    if !conflicts.is_empty() {
        for path in &conflicts {
            print_status(out, Status::Conflict, path, None).map_err(io)?;
        }
        return Err(Error::Conflict(format!(
            "{} {} already {} different content; nothing was written. Run again with --force to \
             overwrite or --skip to keep {}.",
            conflicts.len(),
            if conflicts.len() == 1 {
                "file"
            } else {
                "files"
            },
            if conflicts.len() == 1 { "has" } else { "have" },
            if conflicts.len() == 1 { "it" } else { "them" },
        )));
    }
    if !flags.quiet {
        plan.report(out).map_err(io)?;
    }
    if !flags.dry_run {
        plan.apply(fs)?;
    }
    Ok(())
}

fn new(args: &NewArgs, flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let app = lower_app(&args.name, args.database.into())?;
    let dir = cwd.join(
        args.path
            .clone()
            .unwrap_or_else(|| args.name.clone().into()),
    );
    let mut fs = RealFs::new(&dir);
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Input(format!(
            "{} exists and is not a directory",
            dir.display()
        )));
    }
    if !fs.is_empty()? && collision(flags) == Collision::Stop {
        return Err(Error::Input(format!(
            "directory {} is not empty; choose another with --path, or pass --force or --skip to \
             generate into it",
            dir.display()
        )));
    }
    let files = render::render_app(&app, &Scaffolds::builtin())?;
    let plan = write::plan_writes(&fs, &files, &[], collision(flags))?;
    finish(&plan, &mut fs, flags, out)?;
    if !flags.quiet && !flags.dry_run {
        let shown = args.path.as_deref().unwrap_or(Path::new(&args.name));
        // A Postgres app does not start without its database, so the steps say how to give it one.
        let database = match app.database {
            Database::Sqlite => String::new(),
            Database::Postgres => format!(
                "\n  createdb {name}_development\n  export DATABASE_URL=postgres://localhost/{name}_development",
                name = app.name
            ),
        };
        writeln!(
            out,
            "\nDone. Next:\n  cd {}{database}\n  gen resource message body:text\n  cargo run    # http://localhost:3000",
            shown.display()
        )
        .map_err(io)?;
    }
    Ok(())
}

/// The app around `cwd`, its file system and its lowered project.
fn open(cwd: &Path) -> Result<(RealFs, Project)> {
    let root = project::find_root(cwd)?;
    let fs = RealFs::new(root);
    let project = project::load(&fs)?;
    Ok((fs, project))
}

/// The spec the command line asks for, from `--spec` or from fields and flags.
fn requested_spec(args: &ResourceArgs, singular: &str, cwd: &Path) -> Result<ResourceSpec> {
    match &args.spec {
        Some(path) => {
            let full = cwd.join(path);
            let text = std::fs::read_to_string(&full).map_err(|e| {
                Error::Input(format!("cannot read spec file {}: {e}", path.display()))
            })?;
            spec::parse_toml(singular, &text, path)
        }
        None => {
            let mut spec = spec::parse_cli(singular, &args.fields)?;
            spec.insert = args.insert.map(Into::into).unwrap_or_default();
            spec.optimistic = args.optimistic;
            spec.refresh = args.refresh;
            spec.parent = args.parent.clone();
            Ok(spec)
        }
    }
}

fn resource(
    args: &ResourceArgs,
    flags: &GlobalFlags,
    cwd: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let singular = resource_name(&args.name)?;
    let (mut fs, project) = open(cwd)?;
    let existing = project
        .resources
        .iter()
        .position(|r| r.names.singular == singular);
    if existing.is_some() && collision(flags) == Collision::Stop {
        return Err(Error::Input(format!(
            "resource \"{singular}\" already exists ({}); pass --force to generate it again over \
             your changes, or --skip to add only its missing files",
            render::spec_path(&singular)
        )));
    }
    let mut spec = requested_spec(args, &singular, cwd)?;
    if spec.migration.is_none() {
        spec.migration = Some(match existing {
            Some(i) => project.resources[i].spec.migration.unwrap_or_default(),
            None => project::next_migration(&fs, &project)?,
        });
    }
    // A regenerated resource may reference only resources generated before it, as at first.
    let earlier = &project.resources[..existing.unwrap_or(project.resources.len())];
    let resource = lower_resource(&spec, &project.app, earlier)?;
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_resource(&project.app, &resource, &scaffolds)?;
    let injections = render::resource_injections(&resource);
    let plan = write::plan_writes(&fs, &files, &injections, collision(flags))?;
    finish(&plan, &mut fs, flags, out)
}

fn find_resource<'a>(project: &'a Project, name: &str) -> Result<&'a Resource> {
    let singular = resource_name(name)?;
    project.resource(&singular).ok_or_else(|| {
        let mut msg = format!("there is no resource \"{name}\" in this app");
        match suggest(
            &singular,
            project.resources.iter().map(|r| r.names.singular.as_str()),
        ) {
            Some(s) => msg.push_str(&format!("; did you mean \"{s}\"?")),
            None if project.resources.is_empty() => msg.push_str("; it has no resources yet"),
            None => msg.push_str(&format!(
                "; its resources are {}",
                project
                    .resources
                    .iter()
                    .map(|r| r.names.singular.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        Error::Input(msg)
    })
}

fn destroy_resource(
    name: &str,
    flags: &GlobalFlags,
    cwd: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    let resource = find_resource(&project, name)?;
    let singular = &resource.names.singular;
    if let Some(dependent) = project
        .resources
        .iter()
        .find(|r| r.referenced().any(|n| n == singular))
    {
        return Err(Error::Input(format!(
            "\"{}\" references \"{singular}\"; destroy \"{}\" first",
            dependent.names.singular, dependent.names.singular
        )));
    }
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_resource(&project.app, resource, &scaffolds)?;
    // A crate or feature another resource still needs stays in Cargo.toml.
    let still_needed: Vec<_> = project
        .resources
        .iter()
        .filter(|r| r.names.singular != *singular)
        .flat_map(render::resource_injections)
        .collect();
    let injections: Vec<_> = render::resource_injections(resource)
        .into_iter()
        .filter(|inj| !still_needed.contains(inj))
        .collect();
    let plan = write::plan_removals(&fs, &files, &injections, flags.force)?;
    if !flags.quiet {
        plan.report(out).map_err(io)?;
    }
    if !flags.dry_run {
        plan.apply(&mut fs)?;
    }
    Ok(())
}

/// Renders the whole project in memory as `gen` would leave it: the app, then each resource
/// with its injections applied in order.
pub fn expected_tree(
    project: &Project,
    scaffolds: &Scaffolds,
) -> Result<(MemFs, Vec<(String, Owner)>)> {
    let mut tree = MemFs::default();
    let mut owners = Vec::new();
    let mut add = |tree: &mut MemFs, files: Vec<render::GeneratedFile>| -> Result<()> {
        for f in files {
            tree.write(&f.path, &f.contents)?;
            owners.push((f.path, f.owner));
        }
        Ok(())
    };
    add(&mut tree, render::render_app(&project.app, scaffolds)?)?;
    for resource in &project.resources {
        add(
            &mut tree,
            render::render_resource(&project.app, resource, scaffolds)?,
        )?;
        for inj in render::resource_injections(resource) {
            let path = inj.path();
            let text = String::from_utf8(tree.read(path)?.unwrap_or_default())
                .map_err(|_| Error::Template(format!("{path} is not UTF-8 text")))?;
            match inj.apply(&text) {
                Outcome::Injected(new) => tree.write(path, new.as_bytes())?,
                Outcome::AlreadyPresent => {}
                Outcome::NoAnchor(reason) => {
                    return Err(Error::Template(format!(
                        "the scaffold of {path} has no place for `{}`: {reason}",
                        inj.snippet()
                    )));
                }
            }
        }
    }
    Ok((tree, owners))
}

fn unified_diff(path: &str, actual: &[u8], expected: &[u8]) -> String {
    let actual = String::from_utf8_lossy(actual);
    let expected = String::from_utf8_lossy(expected);
    TextDiff::from_lines(actual.as_ref(), expected.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{path}"),
            &format!("b/{path} (as gen writes it)"),
        )
        .to_string()
}

fn check(strict: bool, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (fs, project) = open(cwd)?;
    let scaffolds = project::scaffolds(&fs)?;
    let (expected, owners) = expected_tree(&project, &scaffolds)?;
    let mut failures = 0usize;
    let mut modified = 0usize;
    let mut current = 0usize;
    let mut seen = std::collections::HashSet::new();
    for (path, owner) in owners {
        // A file several renders touch (an injected one) is checked once, in its final form.
        if !seen.insert(path.clone()) {
            continue;
        }
        let want = expected.read(&path)?.unwrap_or_default();
        let (status, fails) = match fs.read(&path)? {
            None => (Status::Missing, true),
            Some(have) if have == want => {
                current += 1;
                continue;
            }
            Some(_) if owner == Owner::Gen => (Status::Drifted, true),
            Some(_) => (Status::Modified, strict),
        };
        print_status(out, status, &path, None).map_err(io)?;
        if fails {
            failures += 1;
            if let Some(have) = fs.read(&path)? {
                write!(out, "{}", unified_diff(&path, &have, &want)).map_err(io)?;
            }
        } else {
            modified += 1;
        }
    }
    // A resource whose module declaration, route or dependency was taken out is not in the app
    // any more, however the rest of the file was edited.
    for resource in &project.resources {
        for inj in render::resource_injections(resource) {
            let Some(bytes) = fs.read(inj.path())? else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let (status, fails) = match inj.apply(&text) {
                Outcome::AlreadyPresent => continue,
                Outcome::Injected(_) => (Status::Missing, true),
                Outcome::NoAnchor(_) => (Status::Modified, strict),
            };
            print_status(out, status, inj.path(), Some(&inj.snippet())).map_err(io)?;
            if fails {
                failures += 1;
            }
        }
    }
    writeln!(
        out,
        "gen check: {current} current, {modified} modified by you, {failures} failing"
    )
    .map_err(io)?;
    if failures > 0 {
        return Err(Error::CheckFailed(format!(
            "{failures} generated {} missing or out of date; `gen check` shows the difference above. \
             Restore {} from the diff, or regenerate with `gen resource NAME --spec specs/NAME.toml --force`.",
            if failures == 1 {
                "file is"
            } else {
                "files are"
            },
            if failures == 1 { "it" } else { "them" },
        )));
    }
    Ok(())
}
