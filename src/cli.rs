//! The command line: clap definitions of `gen` and its subcommands, with a usage example in every help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::spec::Insert;
use crate::types::Database;

#[derive(Debug, Parser)]
#[command(
    name = "gen",
    version,
    about = "Rails-grade scaffolding for axum apps with live Turbo Streams",
    after_help = "Examples:\n  gen new chat\n  cd chat\n  gen resource room name:string\n  gen resource message body:text room:references\n  cargo run\n  gen check"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct GlobalFlags {
    /// Print what would happen and write nothing
    #[arg(long, visible_alias = "pretend", global = true)]
    pub dry_run: bool,
    /// Overwrite files that differ from what gen writes
    #[arg(long, global = true, conflicts_with = "skip")]
    pub force: bool,
    /// Keep files that differ from what gen writes
    #[arg(long, global = true)]
    pub skip: bool,
    /// Print nothing but errors
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new axum app with Turbo, live streams and Fly.io files
    #[command(
        after_help = "Examples:\n  gen new chat\n  gen new my-app --path ~/code/my-app\n  gen new chat --database postgres\n  gen new chat --auth"
    )]
    New(NewArgs),
    /// Add a resource: model, migration, handlers, one partial, Turbo Streams and broadcasts
    #[command(
        visible_alias = "scaffold",
        after_help = "Examples:\n  gen resource room name:string\n  gen resource message body:text room:references\n  gen resource post title:string:unique published_on:date:optional --insert prepend\n  gen resource message --spec specs/message.toml --force\n  gen resource note body:text --scope user\n  gen resource room name:string --authenticated\n\nIn an app with accounts (`gen auth`), a resource belongs to the signed-in user unless it is\n--authenticated or --public; a nested resource follows its parent.\n\nField types: string text integer bigint float decimal boolean date datetime uuid json references\nModifiers:   optional unique index"
    )]
    Resource(ResourceArgs),
    /// Add accounts: sign-up, sign-in, sessions you can revoke, password resets by mail
    #[command(
        after_help = "Examples:\n  gen auth\n  gen auth --dry-run\n  gen new chat --auth\n\nIt writes src/auth/, templates/auth/, tests/auth.rs and a migration, and edits\nsrc/lib.rs, src/app.rs, src/main.rs, templates/layout.html, Cargo.toml, gen.toml and README.md."
    )]
    Auth,
    /// Remove what a generator added, keeping files you have edited
    #[command(
        after_help = "Examples:\n  gen destroy resource message\n  gen destroy resource message --dry-run\n  gen destroy auth"
    )]
    Destroy(DestroyArgs),
    /// Add or remove fields of a resource: a migration, and the change merged into your files
    #[command(
        after_help = "Examples:\n  gen field add message pinned:boolean\n  gen field add post title:string:default=Untitled views:integer\n  gen field add message pinned:boolean --dry-run\n  gen field remove message pinned\n\nA required field needs a default for the rows already there: booleans take false and\nnumbers 0; give others one with default=VALUE as the last modifier, or make them optional."
    )]
    Field(FieldArgs),
    /// Bring the app to this gen: the runtime, dependencies and scaffold changes merged into your files
    #[command(after_help = "Examples:\n  gen update --dry-run\n  gen update")]
    Update,
    /// Check in CI that generated code is present and current
    #[command(after_help = "Examples:\n  gen check\n  gen check --strict")]
    Check(CheckArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  gen completions bash > ~/.local/share/bash-completion/completions/gen\n  gen completions zsh > ~/.zfunc/_gen"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The app's name: letters, digits, `_` and `-`, starting with a letter
    pub name: String,
    /// The directory to create the app in [default: ./NAME]
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// The database every resource of the app is generated for; it cannot be switched later
    #[arg(long, value_enum, default_value = "sqlite")]
    pub database: DatabaseArg,
    /// Add accounts too, as `gen auth` does
    #[arg(long)]
    pub auth: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DatabaseArg {
    /// A SQLite file next to the app: nothing to run, one machine
    Sqlite,
    /// A PostgreSQL server at DATABASE_URL, which several machines can share
    Postgres,
}

impl From<DatabaseArg> for Database {
    fn from(value: DatabaseArg) -> Self {
        match value {
            DatabaseArg::Sqlite => Database::Sqlite,
            DatabaseArg::Postgres => Database::Postgres,
        }
    }
}

#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// The resource's name, singular or plural: `message`, `BlogPost`, `people`
    pub name: String,
    /// Fields as name:type[:modifier...], for example `body:text` or `room:references`
    #[arg(conflicts_with = "spec")]
    pub fields: Vec<String>,
    /// Read fields and options from a TOML spec file instead
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Where new records appear in the list
    #[arg(long, value_enum, conflicts_with = "spec")]
    pub insert: Option<InsertArg>,
    /// Records carry a client-chosen id so the author's copy shows at once
    #[arg(long, conflicts_with = "spec")]
    pub optimistic: bool,
    /// Changes broadcast a page refresh that other pages morph, instead of per-record streams
    #[arg(long, conflicts_with = "spec")]
    pub refresh: bool,
    /// The `references` field to nest under, when there are several [default: the first]
    #[arg(long, conflicts_with = "spec")]
    pub parent: Option<String>,
    /// How many records a page of the list holds [default: 50]
    #[arg(long, value_name = "N", conflicts_with = "spec", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::spec::MAX_PER_PAGE)))]
    pub per_page: Option<u32>,
    /// Records belong to the signed-in user who creates them, and so does their live stream;
    /// the default for a resource of an app with accounts [possible values: user]
    #[arg(long, value_name = "SCOPE", conflicts_with_all = ["spec", "authenticated", "public"])]
    pub scope: Option<String>,
    /// Shared records that only signed-in users can see and change
    #[arg(long, conflicts_with_all = ["spec", "public"])]
    pub authenticated: bool,
    /// Open to everyone, signed in or not, even in an app with accounts
    #[arg(long, conflicts_with = "spec")]
    pub public: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum InsertArg {
    Append,
    Prepend,
}

impl From<InsertArg> for Insert {
    fn from(value: InsertArg) -> Self {
        match value {
            InsertArg::Append => Insert::Append,
            InsertArg::Prepend => Insert::Prepend,
        }
    }
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(subcommand)]
    pub what: DestroyWhat,
}

#[derive(Debug, Subcommand)]
pub enum DestroyWhat {
    /// Remove a resource's unmodified files and undo its edits to src/lib.rs, src/app.rs and gen.toml
    Resource {
        /// The resource's name
        name: String,
    },
    /// Remove the accounts' unmodified files and undo the edits `gen auth` made
    Auth,
}

#[derive(Debug, Args)]
pub struct FieldArgs {
    #[command(subcommand)]
    pub what: FieldWhat,
}

#[derive(Debug, Subcommand)]
pub enum FieldWhat {
    /// Add fields: a migration that adds their columns, and the resource's files merged
    Add {
        /// The resource's name
        resource: String,
        /// Fields as name:type[:modifier...], as `gen resource` takes them
        fields: Vec<String>,
    },
    /// Remove fields: a migration that drops their columns, and the resource's files merged
    Remove {
        /// The resource's name
        resource: String,
        /// The names of the fields to remove
        names: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also fail when a file you own differs from what gen wrote
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    pub shell: clap_complete::Shell,
}
