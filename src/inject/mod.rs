//! Edits to files the user owns: the `Injection` kinds, what applying or reverting one came to,
//! and the dispatch to the Rust (`rust`), TOML (`toml`) and plain-text (`text`) editors.
//!
//! Every injection is a pure function from the file's text to an `Outcome`; nothing here reads or
//! writes the disk. syn or toml_edit only locate: the rest of the file stays byte-identical,
//! comments included, and the result is parsed again before it is accepted.

mod markup;
mod rust;
mod text;
mod toml;

/// One edit `gen resource` makes to a file the user owns, and `gen destroy` undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// `pub mod messages;` in `src/lib.rs`, among the other module declarations.
    ModDecl { module: String },
    /// `let router = router.merge(crate::messages::routes());` in `fn router` of `src/app.rs`.
    Route { module: String },
    /// `"message"` in the `resources` list of `gen.toml`.
    ProjectResource { name: String },
    /// A feature of a crate already in `[dependencies]`, such as sqlx's `chrono`.
    Feature {
        dependency: &'static str,
        feature: &'static str,
    },
    /// A crate in `[dependencies]` of `Cargo.toml`, with a comment saying why.
    Dependency {
        name: &'static str,
        comment: &'static str,
        value: &'static str,
    },
    /// `let router = router.merge(crate::auth::routes(&state));` in `fn router` of `src/app.rs`.
    AuthRoutes,
    /// `let state = crate::auth::bind_streams(state);` first in `fn router` of `src/app.rs`, so
    /// that the streams a signed-in page subscribes to are admitted only from its session.
    AuthStreams,
    /// `app::auth::check_config(&config)?;` in `fn run` of `src/main.rs`, after `let config`.
    AuthBootCheck { krate: String },
    /// `app::blobs::check_config(&config)?;` in `fn run` of `src/main.rs`, after `let config`:
    /// the blob storage chosen by the environment, opened at boot so a wrong setting stops it.
    StorageBootCheck { krate: String },
    /// The `[auth]` table of `gen.toml`, with the number of the accounts' migration.
    ProjectAuth { migration: u64 },
    /// The account menu's frame in the header of `templates/layout.html`.
    AccountMenu,
    /// A section at the end of `README.md`, whose first line is its heading.
    ReadmeSection { text: String },
    /// A line of markup in a template, before the line holding `marker`: a resource's link in
    /// the layout's header and on the home page, a nested list on its parent's page.
    Markup {
        path: String,
        marker: &'static str,
        line: String,
    },
}

/// What applying an injection to a file's text came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Injected(String),
    AlreadyPresent,
    /// The file no longer has the place the snippet goes; the message says why.
    NoAnchor(String),
}

/// What reverting an injection came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reverted {
    Removed(String),
    NotPresent,
    NoAnchor(String),
}

impl Injection {
    /// The file, relative to the app root, that the injection edits.
    pub fn path(&self) -> &str {
        match self {
            Injection::Markup { path, .. } => path,
            Injection::ModDecl { .. } => "src/lib.rs",
            Injection::Route { .. } => "src/app.rs",
            Injection::ProjectResource { .. } => "gen.toml",
            Injection::Feature { .. } | Injection::Dependency { .. } => "Cargo.toml",
            Injection::AuthRoutes | Injection::AuthStreams => "src/app.rs",
            Injection::AuthBootCheck { .. } | Injection::StorageBootCheck { .. } => "src/main.rs",
            Injection::ProjectAuth { .. } => "gen.toml",
            Injection::AccountMenu => "templates/layout.html",
            Injection::ReadmeSection { .. } => "README.md",
        }
    }

    /// The text a person would add by hand, printed when the anchor is missing.
    pub fn snippet(&self) -> String {
        match self {
            Injection::ModDecl { module } => format!("pub mod {module};"),
            Injection::Route { module } => rust::route_statement(module),
            Injection::ProjectResource { name } => {
                format!("resources = [..., \"{name}\"]")
            }
            Injection::Feature {
                dependency,
                feature,
            } => format!("{dependency} = {{ features = [..., \"{feature}\"] }}"),
            Injection::Dependency { name, value, .. } => format!("{name} = {value}"),
            Injection::AuthRoutes => rust::auth_route_statement(),
            Injection::AuthStreams => rust::bind_streams_statement(),
            Injection::AuthBootCheck { krate } => rust::boot_check_statement(krate, "auth"),
            Injection::StorageBootCheck { krate } => rust::boot_check_statement(krate, "blobs"),
            Injection::ProjectAuth { migration } => format!("[auth] migration = {migration}"),
            Injection::AccountMenu => text::menu_line(),
            Injection::ReadmeSection { text } => text.lines().next().unwrap_or_default().to_owned(),
            Injection::Markup { line, .. } => line.clone(),
        }
    }

    /// Where the snippet goes, for the `NoAnchor` message.
    pub fn place(&self) -> &'static str {
        match self {
            Injection::ModDecl { .. } => "next to the other `pub mod` declarations",
            Injection::Route { .. } => {
                "in `pub fn router`, after the last `let router = …;` statement"
            }
            Injection::ProjectResource { .. } => "as the last entry of the `resources` array",
            Injection::Feature { .. } => "in the dependency's `features` list",
            Injection::Dependency { .. } => "in the `[dependencies]` table",
            Injection::AuthRoutes => {
                "in `pub fn router`, after the last `let router = …;` statement"
            }
            Injection::AuthStreams => "as the first statement of `pub fn router`",
            Injection::AuthBootCheck { .. } | Injection::StorageBootCheck { .. } => {
                "in `fn run`, after the `let config = …;` statement"
            }
            Injection::ProjectAuth { .. } => "as a table at the end of the file",
            Injection::AccountMenu => "as the last item of the header's `<nav>`",
            Injection::ReadmeSection { .. } => "at the end of the file",
            Injection::Markup { .. } => "on its own line, where the page should show it",
        }
    }

    /// Whether the app needs the edit to be what `gen` made it: everything but the README's
    /// prose, which `gen check` does not hold a user to.
    pub fn builds_the_app(&self) -> bool {
        !matches!(self, Injection::ReadmeSection { .. })
    }

    pub fn apply(&self, source: &str) -> Outcome {
        let result = match self {
            Injection::ModDecl { module } => rust::inject_mod(source, module),
            Injection::Route { module } => rust::inject_route(source, module),
            Injection::ProjectResource { name } => toml::inject_resource(source, name),
            Injection::Feature {
                dependency,
                feature,
            } => toml::inject_feature(source, dependency, feature),
            Injection::Dependency {
                name,
                comment,
                value,
            } => toml::inject_dependency(source, name, comment, value),
            Injection::AuthRoutes => {
                rust::inject_router_statement(source, "auth", &rust::auth_route_statement())
            }
            Injection::AuthStreams => rust::inject_bind_streams(source),
            Injection::AuthBootCheck { krate } => rust::inject_boot_check(source, krate, "auth"),
            Injection::StorageBootCheck { krate } => {
                rust::inject_boot_check(source, krate, "blobs")
            }
            Injection::ProjectAuth { migration } => toml::inject_auth(source, *migration),
            Injection::AccountMenu => text::inject_menu(source),
            Injection::ReadmeSection { text } => text::inject_section(source, text),
            Injection::Markup { marker, line, .. } => markup::inject_line(source, marker, line),
        };
        result.unwrap_or_else(Outcome::NoAnchor)
    }

    /// Applies injections to one file's text in order, each to the text those before it left,
    /// as `apply` one after another would, and gives each one's outcome. A run of statements
    /// for `fn router` in `src/app.rs` (a route for each resource) is placed with one parse of
    /// the file and checked with one parse of the result, rather than a parse for each.
    pub fn apply_in_order(source: &str, injections: &[Injection]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(injections.len());
        let mut text = source.to_owned();
        let mut rest = injections;
        while let Some(first) = rest.first() {
            let statements: Vec<(&str, String)> =
                rest.iter().map_while(Injection::router_statement).collect();
            let (done, batch) = if statements.len() > 1 {
                (
                    statements.len(),
                    rust::inject_router_statements(&text, &statements),
                )
            } else {
                (1, vec![first.apply(&text)])
            };
            if let Some(Outcome::Injected(new)) = batch
                .iter()
                .rev()
                .find(|o| matches!(o, Outcome::Injected(_)))
            {
                text.clone_from(new);
            }
            outcomes.extend(batch);
            rest = &rest[done..];
        }
        outcomes
    }

    /// The module and statement of an injection that adds a `let router = …;` statement
    /// merging a module's routes.
    fn router_statement(&self) -> Option<(&str, String)> {
        match self {
            Injection::Route { module } => Some((module, rust::route_statement(module))),
            Injection::AuthRoutes => Some(("auth", rust::auth_route_statement())),
            _ => None,
        }
    }

    pub fn revert(&self, source: &str) -> Reverted {
        let result = match self {
            Injection::ModDecl { module } => rust::revert_mod(source, module),
            Injection::Route { module } => rust::revert_route(source, module),
            Injection::ProjectResource { name } => toml::revert_resource(source, name),
            Injection::Feature {
                dependency,
                feature,
            } => toml::revert_feature(source, dependency, feature),
            Injection::Dependency { name, comment, .. } => {
                toml::revert_dependency(source, name, comment)
            }
            Injection::AuthRoutes => rust::revert_route(source, "auth"),
            Injection::AuthStreams => rust::revert_bind_streams(source),
            Injection::AuthBootCheck { .. } => rust::revert_boot_check(source, "auth"),
            Injection::StorageBootCheck { .. } => rust::revert_boot_check(source, "blobs"),
            Injection::ProjectAuth { .. } => toml::revert_auth(source),
            Injection::AccountMenu => text::revert_menu(source),
            Injection::ReadmeSection { text } => text::revert_section(source, text),
            Injection::Markup { line, .. } => markup::revert_line(source, line),
        };
        result.unwrap_or_else(Reverted::NoAnchor)
    }
}

/// The message of an edit whose result no longer parses.
fn does_not_parse(e: impl std::fmt::Display) -> String {
    format!("the edited file does not parse: {e}")
}

/// The injected text; a test fails on any other outcome.
#[cfg(test)]
fn injected(outcome: Outcome) -> String {
    match outcome {
        Outcome::Injected(text) => text,
        other => panic!("expected an injection, got {other:?}"),
    }
}

/// The reverted text; a test fails on any other outcome.
#[cfg(test)]
fn removed(outcome: Reverted) -> String {
    match outcome {
        Reverted::Removed(text) => text,
        other => panic!("expected a removal, got {other:?}"),
    }
}
