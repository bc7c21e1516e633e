//! What each subcommand does, composed from the stages: spec, lower, render, write and report.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::check;
use crate::cli::{Cli, Command, DestroyWhat, GlobalFlags, NewArgs, ResourceArgs};
use crate::error::{Error, Result};
use crate::fs::{Fs, RealFs};
use crate::lower::{lower_app, lower_resource, resource_name};
use crate::project::{self, Project};
use crate::render::{self, Scaffolds};
use crate::report;
use crate::spec::{self, FieldType, ResourceSpec, USER_SCOPE};
use crate::write::{self, Collision, Plan};

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
    if project.resource(&singular).is_some() && collision(flags) == Collision::Stop {
        return Err(Error::Input(format!(
            "resource \"{singular}\" already exists ({}); pass --force to generate it again over \
             your changes, or --skip to add only its missing files",
            render::spec_path(&singular)
        )));
    }
    let mut spec = requested_spec(args, &singular, project.auth.is_some(), cwd)?;
    if spec.migration.is_none() {
        spec.migration = Some(project::migration_for(&fs, &project, &singular)?);
    }
    // A regenerated resource may reference only resources generated before it, as at first.
    let resource = lower_resource(&spec, &project.app, project.before(&singular))?;
    let scaffolds = project::scaffolds(&fs)?;
    let files = render::render_resource(&project.app, &resource, &scaffolds)?;
    let injections = render::resource_injections(&resource);
    let plan = write::plan_writes(&fs, &files, &injections, collision(flags))?;
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
    let plan = write::plan_removals(&fs, &files, &injections, flags.force)?;
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
    finish(&plan, &mut fs, flags, out)
}

fn check(strict: bool, cwd: &Path, out: &mut dyn Write) -> Result<()> {
    let (fs, project) = open(cwd)?;
    let scaffolds = project::scaffolds(&fs)?;
    let expected = project::render_all(&project, &scaffolds)?;
    let plan = check::plan_check(&fs, &project, &expected, strict)?;
    report::check(out, &plan).map_err(io)?;
    plan.outcome()
}
