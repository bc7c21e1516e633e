//! What each subcommand does, composed from the stages: spec, lower, render, write and report.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::base;
use crate::check;
use crate::cli::{
    Cli, Command, DestroyWhat, FieldArgs, FieldWhat, GlobalFlags, NewArgs, ResourceArgs,
};
use crate::error::{Error, Result};
use crate::evolve::{self, Evolution};
use crate::fs::{Fs, RealFs};
use crate::lower::{lower_app, lower_resource, resource_name};
use crate::project::{self, Auth, Project, Rendered};
use crate::render::{self, Scaffolds};
use crate::report;
use crate::spec::{self, FieldType, ResourceSpec, USER_SCOPE};
use crate::write::{self, Collision, Plan, Status};

/// Runs a parsed command line in `cwd`, printing statuses to `out`.
pub fn run(cli: Cli, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let flags = cli.global;
    match cli.command {
        Command::New(args) => new(&args, &flags, cwd, out),
        Command::Resource(args) => resource(&args, &flags, cwd, out),
        Command::Auth => auth(&flags, cwd, out),
        Command::Destroy(args) => match args.what {
            DestroyWhat::Resource { name } => destroy_resource(&name, &flags, cwd, out),
            DestroyWhat::Auth => destroy_auth(&flags, cwd, out),
        },
        Command::Field(args) => field(&args, &flags, cwd, out),
        Command::Update => update(&flags, cwd, out),
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

/// Adds to a plan the bases of the user-owned files it writes (see `base`), `after` being the
/// whole app as `gen` renders it once the plan is applied.
fn with_bases(fs: &dyn Fs, mut plan: Plan, after: &Rendered) -> Result<Plan> {
    let bases = base::record(fs, &plan, after)?;
    plan.steps.extend(bases);
    Ok(plan)
}

/// Reports a plan, then writes it unless this is a dry run or it has conflicts.
fn finish(plan: &Plan, fs: &mut dyn Fs, flags: &GlobalFlags, out: &mut dyn Write) -> Result<()> {
    let conflicts = plan.conflicts();
    if !conflicts.is_empty() {
        report::conflicts(out, &conflicts).map_err(io)?;
        return Err(write::conflict_error(conflicts.len()));
    }
    if !flags.quiet {
        report::plan(out, plan).map_err(io)?;
    }
    if !flags.dry_run {
        plan.apply(fs)?;
    }
    Ok(())
}

fn new(args: &NewArgs, flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let mut app = lower_app(&args.name, args.database.into())?;
    app.accounts = args.auth;
    let shown = args
        .path
        .clone()
        .unwrap_or_else(|| args.name.clone().into());
    let dir = cwd.join(&shown);
    let mut fs = RealFs::new(&dir);
    write::check_new_root(&fs, &dir, collision(flags))?;
    let scaffolds = Scaffolds::builtin();
    let mut files = render::render_app(&app, &scaffolds)?;
    // With `--auth`, the accounts are the app's first migration, as `gen auth` would make them.
    let injections = if args.auth {
        files.extend(render::render_auth(&app, 1, &scaffolds)?);
        render::auth_injections(&app, 1, &scaffolds)?
    } else {
        Vec::new()
    };
    let plan = write::plan_writes(&fs, &files, &injections, collision(flags))?;
    let after = Project {
        app: app.clone(),
        gen_version: Some(render::GEN_VERSION.to_owned()),
        resources: Vec::new(),
        auth: args.auth.then_some(Auth { migration: 1 }),
    };
    let plan = with_bases(&fs, plan, &project::render_all(&after, &scaffolds)?)?;
    finish(&plan, &mut fs, flags, out)?;
    if !flags.quiet && !flags.dry_run {
        report::next_steps(out, &shown, &app).map_err(io)?;
    }
    Ok(())
}

/// The app around `cwd`, its file system and its lowered project.
fn open(cwd: &Path) -> Result<(RealFs, Project)> {
    let fs = project::find_root(cwd, |dir| RealFs::new(dir))?;
    let project = project::load(&fs)?;
    Ok((fs, project))
}

/// The spec the command line asks for, from `--spec` (a path from `cwd`) or from fields and flags.
fn requested_spec(
    args: &ResourceArgs,
    singular: &str,
    accounts: bool,
    cwd: &Path,
) -> Result<ResourceSpec> {
    match &args.spec {
        Some(path) => {
            let text = RealFs::new(cwd).read_to_string(path).map_err(|e| {
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
            spec.per_page = args.per_page;
            spec.scope = args.scope.clone();
            spec.authenticated = args.authenticated;
            // As Phoenix's generators take the app's default scope: once the app has accounts,
            // a resource's records belong to the signed-in user unless it says otherwise. A
            // nested resource follows its parent instead.
            let nested = spec.fields.iter().any(|f| f.ty == FieldType::References);
            if accounts && !nested && !args.public && !args.authenticated && spec.scope.is_none() {
                spec.scope = Some(USER_SCOPE.to_owned());
            }
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
    project::ensure_not_auth_name(&project, &singular)?;
    evolve::ensure_not_newer(&project)?;
    let mut spec = requested_spec(args, &singular, project.auth.is_some(), cwd)?;
    if spec.migration.is_none() {
        spec.migration = Some(project::migration_for(&fs, &project, &singular)?);
    }
    // A regenerated resource may reference only resources generated before it, as at first.
    let requested = lower_resource(&spec, &project.app, project.before(&singular))?;
    let mut collision = collision(flags);
    let resource = match project.resource(&singular) {
        // The same spec again changes nothing: each file is `identical`, or kept as you edited
        // it, and only a missing one is written again. Another spec is refused unless --force.
        Some(existing) if collision == Collision::Stop => {
            evolve::ensure_same_spec(existing, &requested.spec)?;
            collision = Collision::Skip;
            existing.clone()
        }
        _ => requested,
    };
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_resource(&project.app, &resource, &scaffolds)?;
    let injections = render::resource_injections(&project.app, &resource);
    let plan = write::plan_writes(&fs, &files, &injections, collision)?;
    let after = project::render_all(&project.with_spec(&resource.spec)?, &scaffolds)?;
    let plan = with_bases(&fs, plan, &after)?;
    finish(&plan, &mut fs, flags, out)
}

/// `gen auth`: the accounts' files and edits; run again, it rewrites only what is missing.
fn auth(flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    project::ensure_auth_fits(&project)?;
    let migration = project::auth_migration(&fs, &project)?;
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_auth(&project.app, migration, &scaffolds)?;
    let injections = render::auth_injections(&project.app, migration, &scaffolds)?;
    let plan = write::plan_writes(&fs, &files, &injections, collision(flags))?;
    let after = Project {
        auth: Some(Auth { migration }),
        ..project.clone()
    };
    let plan = with_bases(&fs, plan, &project::render_all(&after, &scaffolds)?)?;
    finish(&plan, &mut fs, flags, out)
}

fn destroy_resource(
    name: &str,
    flags: &GlobalFlags,
    cwd: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    let resource = project.find(name)?;
    project::ensure_unreferenced(&project, &resource.names.singular)?;
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_resource(&project.app, resource, &scaffolds)?;
    let injections = project::injections_to_revert(&project, resource, &scaffolds)?;
    let rest: Vec<ResourceSpec> = project
        .resources
        .iter()
        .filter(|r| r.names.singular != resource.names.singular)
        .map(|r| r.spec.clone())
        .collect();
    let after = project::render_all(&project.with_specs(&rest)?, &scaffolds)?;
    // A file the app still has without the resource stays: the blob files another resource
    // with attachments shares, and `src/turbo/mod.rs`, which goes back to the version without
    // the blob storage when no resource has files any more.
    let mut removed = Vec::new();
    let mut restored = Vec::new();
    for file in files {
        match after.tree.read(&file.path)? {
            None => removed.push(file),
            Some(contents) if file.owner == render::Owner::Gen && contents != file.contents => {
                restored.push(render::GeneratedFile { contents, ..file });
            }
            Some(_) => {}
        }
    }
    let mut plan = write::plan_removals(&fs, &removed, &injections, flags.force)?;
    for file in &restored {
        plan.steps
            .push(write::plan_write(&fs, file, Collision::Force)?);
    }
    let plan = with_bases(&fs, plan, &after)?;
    finish(&plan, &mut fs, flags, out)
}

/// `gen destroy auth`: the exact inverse of `gen auth`, keeping the files you edited and the
/// crate features a resource still needs.
fn destroy_auth(flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    let Some(auth) = project.auth else {
        return Err(Error::Input(
            "this app has no accounts to destroy; `gen auth` adds them".to_owned(),
        ));
    };
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_auth(&project.app, auth.migration, &scaffolds)?;
    let injections = project::auth_injections_to_revert(&project, &scaffolds)?;
    let plan = write::plan_removals(&fs, &files, &injections, flags.force)?;
    let after = Project {
        auth: None,
        ..project.clone()
    };
    let plan = with_bases(&fs, plan, &project::render_all(&after, &scaffolds)?)?;
    finish(&plan, &mut fs, flags, out)
}

/// `gen field add|remove`: the change merged into the app.
fn field(args: &FieldArgs, flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    let new = match &args.what {
        FieldWhat::Add { resource, fields } => evolve::add_fields(&fs, &project, resource, fields)?,
        FieldWhat::Remove { resource, names } => {
            evolve::remove_fields(&fs, &project, resource, names)?
        }
    };
    let scaffolds = project::scaffolds(&fs)?;
    let evolution = evolve::plan(&fs, &project, &new, &scaffolds, collision(flags), false)?;
    finish_evolution(&evolution, &mut fs, flags, out)
}

/// `gen update`: the app brought to this version of `gen`.
fn update(flags: &GlobalFlags, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (mut fs, project) = open(cwd)?;
    let new = evolve::update(&project)?;
    let scaffolds = project::scaffolds(&fs)?;
    let evolution = evolve::plan(&fs, &project, &new, &scaffolds, collision(flags), true)?;
    if evolution.plan.steps.is_empty() && !flags.quiet {
        writeln!(out, "the app is current with gen {}", render::GEN_VERSION).map_err(io)?;
    }
    finish_evolution(&evolution, &mut fs, flags, out)
}

/// Reports and writes an evolution. Overlapping changes stop it with nothing written and their
/// hunks printed; with --force the files are written with conflict markers, and the run still
/// ends with exit code 1 so that a script notices.
fn finish_evolution(
    evolution: &Evolution,
    fs: &mut dyn Fs,
    flags: &GlobalFlags,
    out: &mut dyn Write,
) -> Result<()> {
    let plan = &evolution.plan;
    let stopped: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.status == Status::Conflict && s.written().is_none())
        .map(|s| s.path.as_str())
        .collect();
    if !stopped.is_empty() {
        report::conflicts(out, &stopped).map_err(io)?;
        for (path, marked) in &evolution.conflicts {
            report::conflict_hunks(out, path, marked).map_err(io)?;
        }
        return Err(Error::Conflict(format!(
            "{} of yours that overlap what gen changes; nothing was written. Edit the lines above to \
             fit, or run again with --force to write the files with conflict markers \
             (<<<<<<< yours, >>>>>>> gen) or --skip to keep your files as they are.",
            if stopped.len() == 1 {
                "1 file has edits".to_owned()
            } else {
                format!("{} files have edits", stopped.len())
            }
        )));
    }
    if !flags.quiet {
        report::plan(out, plan).map_err(io)?;
        if flags.dry_run {
            for (path, before, after) in &evolution.diffs {
                report::change(out, path, before, after).map_err(io)?;
            }
        }
    }
    if flags.dry_run {
        return Ok(());
    }
    plan.apply(fs)?;
    let marked: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.status == Status::Conflict)
        .map(|s| s.path.as_str())
        .collect();
    if !marked.is_empty() {
        for (path, text) in &evolution.conflicts {
            report::conflict_hunks(out, path, text).map_err(io)?;
        }
        return Err(Error::Conflict(format!(
            "wrote {} with conflict markers (<<<<<<< yours, >>>>>>> gen): {}; resolve them, then \
             run `gen check`",
            if marked.len() == 1 {
                "1 file".to_owned()
            } else {
                format!("{} files", marked.len())
            },
            marked.join(", ")
        )));
    }
    Ok(())
}

fn check(strict: bool, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (fs, project) = open(cwd)?;
    let scaffolds = project::scaffolds(&fs)?;
    let expected = project::render_all(&project, &scaffolds)?;
    let plan = check::plan_check(&fs, &project, &expected, strict)?;
    report::check(out, &plan).map_err(io)?;
    plan.outcome()
}
