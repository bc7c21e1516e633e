//! Benchmark of `gen new` plus every `gen resource` of each fixture, as a user runs them: the
//! release binary, one process per command, into a fresh directory; then of `gen field add` on an
//! app with ten resources, against `gen resource` of one more resource in the same app. Prints
//! tables; asserts only that each command did its work.
//!
//! Run with `cargo bench --bench generate`. The baseline row is `gen --version` run as many times
//! as the fixture has commands: the cost of starting the processes, which no generator can beat.
//! A filter argument selects fixtures by name; `field_add` selects the second table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 25;

#[derive(serde::Deserialize)]
struct Fixture {
    app: String,
    /// Options after `gen new NAME`, such as `--database postgres`.
    #[serde(default)]
    new: Vec<String>,
    #[serde(default)]
    resource: Vec<Resource>,
}

#[derive(serde::Deserialize)]
struct Resource {
    args: Vec<String>,
    spec: Option<String>,
}

fn run_gen(cwd: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(args)
        .arg("--quiet")
        .current_dir(cwd)
        .status()
        .expect("gen runs");
    let took = start.elapsed();
    assert!(status.success(), "gen {args:?} failed");
    took
}

/// One full generation of a fixture into a fresh directory: the time of `gen new`, and of each
/// `gen resource`.
fn generate(fixture: &Fixture) -> (Duration, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join(&fixture.app);
    let mut args = vec!["new", fixture.app.as_str()];
    args.extend(fixture.new.iter().map(String::as_str));
    let new = run_gen(dir.path(), &args);
    let mut resources = Vec::new();
    for resource in &fixture.resource {
        if let Some(text) = &resource.spec {
            let at = resource.args.iter().position(|a| a == "--spec").unwrap();
            std::fs::write(app.join(&resource.args[at + 1]), text).unwrap();
        }
        let mut args = vec!["resource"];
        args.extend(resource.args.iter().map(String::as_str));
        resources.push(run_gen(&app, &args));
    }
    (new, resources)
}

/// The floor: starting the binary twice (`gen --version`), as `gen new` plus `gen resource` do.
fn baseline() -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    for _ in 0..2 {
        let status = Command::new(env!("CARGO_BIN_EXE_gen"))
            .arg("--version")
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let p = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    (p(0.0), p(0.5), p(0.9))
}

/// The app `gen field add` is timed on: ten resources, three of them nested under another, with
/// every kind of field, so that the change re-renders a parent whose children's tests create it.
const TEN_RESOURCES: [&str; 10] = [
    "post title:string body:text published:boolean",
    "comment body:text post:references",
    "author name:string email:string:unique",
    "tag name:string",
    "category name:string position:integer",
    "product name:string price:decimal stock:integer category:references",
    "order number:string placed_on:date total:decimal",
    "review rating:integer body:text:optional product:references",
    "event title:string starts_at:datetime token:uuid",
    "setting key:string value:json",
];

/// Generates the ten-resource app under `dir` and returns its directory.
fn ten_resource_app(dir: &Path) -> PathBuf {
    run_gen(dir, &["new", "shop"]);
    let app = dir.join("shop");
    for resource in TEN_RESOURCES {
        let mut args = vec!["resource"];
        args.extend(resource.split(' '));
        run_gen(&app, &args);
    }
    app
}

/// A fresh copy of the app at `from`, so that every run starts from the same tree.
fn copy_app(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("shop");
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    (dir, to)
}

/// `gen field add post pinned:boolean` on the ten-resource app, each run on a fresh copy, against
/// `gen resource note body:text` on a copy of the same app and against one `gen --version`.
fn field_add() {
    let dir = tempfile::tempdir().unwrap();
    let app = ten_resource_app(dir.path());
    let add = ["field", "add", "post", "pinned:boolean"];
    let resource = ["resource", "note", "body:text"];
    let mut adds = Vec::new();
    let mut resources = Vec::new();
    // The first round warms the page cache and is not counted.
    for round in 0..=RUNS {
        let (_copy, on) = copy_app(&app);
        let took = run_gen(&on, &add);
        assert!(
            on.join("migrations/0011_add_pinned_to_posts.sql").is_file(),
            "gen field add wrote its migration"
        );
        let (_copy, on) = copy_app(&app);
        let baseline = run_gen(&on, &resource);
        assert!(on.join("migrations/0011_create_notes.sql").is_file());
        if round > 0 {
            adds.push(took);
            resources.push(baseline);
        }
    }
    let floor: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_gen"))
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            start.elapsed()
        })
        .collect();
    println!();
    println!(
        "gen field add on an app with {} resources: {RUNS} runs, release binary, a fresh copy of the app each run",
        TEN_RESOURCES.len()
    );
    println!(
        "{:<42} {:>8} {:>8} {:>8}",
        "command", "min ms", "p50 ms", "p90 ms"
    );
    for (label, samples) in [
        (add.join(" "), adds),
        (format!("{} (baseline)", resource.join(" ")), resources),
        ("--version (the process alone)".to_owned(), floor),
    ] {
        let (min, p50, p90) = summary(samples);
        println!(
            "{:<42} {min:>8.1} {p50:>8.1} {p90:>8.1}",
            format!("gen {label}")
        );
    }
    println!("goal: `gen field add` on an app with 10 resources under 50 ms (p50)");
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects fixtures by name.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();

    println!(
        "gen new, then each gen resource of a fixture: {RUNS} runs, release binary, one process per command"
    );
    println!(
        "{:<18} {:>4} {:>11} {:>16} {:>20} {:>14} {:>7}",
        "fixture",
        "res",
        "new p50 ms",
        "resource p50 ms",
        "new+resource p50 ms",
        "baseline p50",
        "ratio"
    );
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let fixture: Fixture = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        generate(&fixture); // warm the page cache
        let mut news = Vec::new();
        let mut resources = Vec::new();
        let mut pairs = Vec::new();
        for _ in 0..RUNS {
            let (new, each) = generate(&fixture);
            news.push(new);
            if let Some(first) = each.first() {
                pairs.push(new + *first);
            }
            resources.extend(each);
        }
        let base: Vec<Duration> = (0..RUNS).map(|_| baseline()).collect();
        let (_, base50, _) = summary(base);
        let (_, new50, _) = summary(news);
        if resources.is_empty() {
            println!(
                "{name:<18} {:>4} {new50:>11.1} {:>16} {:>20} {base50:>14.1} {:>7}",
                0, "-", "-", "-"
            );
            continue;
        }
        let (_, res50, _) = summary(resources);
        let (_, pair50, _) = summary(pairs);
        println!(
            "{name:<18} {:>4} {new50:>11.1} {res50:>16.1} {pair50:>20.1} {base50:>14.1} {:>6.1}x",
            fixture.resource.len(),
            pair50 / base50
        );
    }
    println!(
        "goal: `gen new` plus `gen resource` under 50 ms (p50); baseline is two `gen --version` runs"
    );
    if filter
        .as_ref()
        .is_none_or(|f| "field_add".contains(f.as_str()))
    {
        field_add();
    }
}
