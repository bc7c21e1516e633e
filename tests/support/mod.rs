//! Helpers the integration tests share: running the `gen` binary, reading trees, loading fixtures;
//! `app` drives a generated app over HTTP and SSE; `redis` and `postgres` run a `redis-server`
//! and a PostgreSQL server for it; `relay` cuts a connection on demand; `tls` issues test
//! certificates; `browser` drives headless Chromium; `moto` runs an S3-compatible server and
//! `multipart` writes the form bodies of uploads; `sqlite3` queries an app's SQLite file from outside.
// Each test crate compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod app;
pub mod browser;
pub mod moto;
pub mod multipart;
pub mod postgres;
pub mod redis;
pub mod relay;
pub mod tls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// What one run of `gen` printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `gen` binary in `cwd`. Its stdout is a pipe, so output is plain text.
pub fn gen_in(cwd: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("the gen binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("gen prints UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("gen prints UTF-8"),
    }
}

/// Runs `gen` and insists that it succeeded.
pub fn gen_ok(cwd: &Path, args: &[&str]) -> String {
    let run = gen_in(cwd, args);
    assert_eq!(
        run.code, 0,
        "gen {args:?} failed:\n{}{}",
        run.stdout, run.stderr
    );
    run.stdout
}

/// Edits a file of the app at `app` as its user would: replaces the first `from` in `path` with
/// `to`, and fails the test when the file has no `from`.
pub fn edit(app: &Path, path: &str, from: &str, to: &str) {
    let full = app.join(path);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains(from), "{path} has no {from:?}");
    std::fs::write(&full, text.replacen(from, to, 1)).unwrap();
}

/// Every file below `root` with its bytes, and every directory, as relative `/` paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: Vec<String>,
}

impl Tree {
    pub fn read(root: &Path) -> Tree {
        let mut files = BTreeMap::new();
        let mut dirs = Vec::new();
        if root.exists() {
            for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
                let entry = entry.expect("the tree is readable");
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if entry.file_type().is_dir() {
                    dirs.push(rel);
                } else {
                    files.insert(rel, std::fs::read(entry.path()).unwrap());
                }
            }
        }
        Tree { files, dirs }
    }

    pub fn text(&self, path: &str) -> String {
        String::from_utf8(self.files[path].clone()).expect("UTF-8 text")
    }

    /// Paths whose bytes differ from `before`, or that `before` lacks.
    pub fn changed_since(&self, before: &Tree) -> Vec<String> {
        self.files
            .iter()
            .filter(|(path, bytes)| before.files.get(*path) != Some(bytes))
            .map(|(path, _)| path.clone())
            .collect()
    }
}

/// A scenario from `fixtures/`: an app, then `gen resource` runs in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub app: String,
    /// Options after `gen new NAME`, such as `--database postgres`.
    #[serde(default)]
    pub new: Vec<String>,
    #[serde(default)]
    pub resource: Vec<FixtureResource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureResource {
    /// The arguments after `gen resource`.
    pub args: Vec<String>,
    /// A spec file's text, written to the file `--spec` names before the run.
    pub spec: Option<String>,
}

impl Fixture {
    pub fn load(path: &Path) -> Fixture {
        toml::from_str(&std::fs::read_to_string(path).unwrap()).expect("the fixture parses")
    }

    pub fn named(name: &str) -> Fixture {
        Fixture::load(&fixtures_dir().join(format!("{name}.toml")))
    }

    /// Whether the app is generated for Postgres, so its tests need a server.
    pub fn uses_postgres(&self) -> bool {
        self.new
            .windows(2)
            .any(|pair| pair[0] == "--database" && pair[1] == "postgres")
    }

    /// Generates the app in `parent/<app>`; returns the app's directory and every status line.
    pub fn generate(&self, parent: &Path) -> (PathBuf, String) {
        let mut new = vec!["new", self.app.as_str()];
        new.extend(self.new.iter().map(String::as_str));
        let mut log = gen_ok(parent, &new);
        let app = parent.join(&self.app);
        for resource in &self.resource {
            if let Some(text) = &resource.spec {
                let at = resource
                    .args
                    .iter()
                    .position(|a| a == "--spec")
                    .expect("a fixture with a spec passes --spec");
                std::fs::write(app.join(&resource.args[at + 1]), text).unwrap();
            }
            let mut args = vec!["resource"];
            args.extend(resource.args.iter().map(String::as_str));
            log.push_str(&gen_ok(&app, &args));
        }
        (app, log)
    }
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Copies a directory tree, for tests that each need their own copy of a generated app.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs one SQL statement on the SQLite file `database` with Debian's `sqlite3` and gives its
/// output, trimmed. A running app keeps the file open (in WAL mode); the statement waits up to
/// 10 s for its lock. Panics, with the statement and sqlite3's error, when it fails.
pub fn sqlite3(database: &Path, sql: &str) -> String {
    let output = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(database)
        .arg(sql)
        .output()
        .expect("sqlite3 runs (Debian's sqlite3 package)");
    assert!(
        output.status.success(),
        "{sql} on {}: {}",
        database.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}
