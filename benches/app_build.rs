//! Benchmark of what a user waits for after generating: the cold `cargo build` of a fresh app in
//! an empty target directory, the rebuild after `gen resource`, and the release build the
//! Dockerfile runs, with the size of its binary. Prints a table; asserts nothing.
//!
//! Run with `cargo bench --bench app_build`; `cargo bench --bench app_build accounts` builds only
//! the accounts app, `ACCOUNTS_RUNS` times (1 by default). Goals on a 2-core machine: cold under
//! 90 s (under 120 s for the accounts app of `fixtures/auth.toml`), incremental under 20 s.
//! Crates already in cargo's download cache are not fetched again, so the figures are compile
//! time, not download time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn run(cwd: &Path, program: &str, args: &[&str], target: &Path) -> Duration {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("the command runs");
    let took = start.elapsed();
    assert!(status.success(), "{program} {args:?} failed");
    took
}

/// What the builds of a fresh `gen new` app measured.
struct ChatBuilds {
    cold: Duration,
    incremental: Duration,
    again: Duration,
    release: Duration,
    packages: usize,
    binary: u64,
}

/// A `gen new` app built cold, again after two resources and after a third, and in release
/// mode, in a target directory of its own.
fn chat_builds(gen_bin: &str) -> ChatBuilds {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    run(dir.path(), gen_bin, &["new", "chat", "--quiet"], &target);
    let app = dir.path().join("chat");
    // Resolve and fetch first, so the build rows time compilation only.
    run(&app, "cargo", &["fetch", "--quiet"], &target);

    let cold = run(&app, "cargo", &["build", "--quiet"], &target);
    run(
        &app,
        gen_bin,
        &["resource", "room", "name:string", "--quiet"],
        &target,
    );
    run(
        &app,
        gen_bin,
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "--quiet",
        ],
        &target,
    );
    let incremental = run(&app, "cargo", &["build", "--quiet"], &target);
    run(
        &app,
        gen_bin,
        &["resource", "person", "name:string", "--quiet"],
        &target,
    );
    let again = run(&app, "cargo", &["build", "--quiet"], &target);
    // What the Dockerfile's build stage compiles: the optimised, stripped binary of the image.
    let release = run(&app, "cargo", &["build", "--release", "--quiet"], &target);
    let binary = std::fs::metadata(target.join("release/chat"))
        .unwrap()
        .len();
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    ChatBuilds {
        cold,
        incremental,
        again,
        release,
        packages: lock.matches("[[package]]").count(),
        binary,
    }
}

/// The cold build of the accounts app of `fixtures/auth.toml` in a target directory of its own:
/// accounts add argon2 and lettre to what a `gen new` app builds.
fn accounts_cold(gen_bin: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    run(
        dir.path(),
        gen_bin,
        &["new", "accounts", "--auth", "--quiet"],
        &target,
    );
    let accounts = dir.path().join("accounts");
    for args in [
        &["resource", "note", "body:text", "--quiet"][..],
        &[
            "resource",
            "comment",
            "body:text",
            "note:references",
            "--quiet",
        ],
        &[
            "resource",
            "room",
            "name:string",
            "--authenticated",
            "--quiet",
        ],
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "--quiet",
        ],
    ] {
        run(&accounts, gen_bin, args, &target);
    }
    run(&accounts, "cargo", &["fetch", "--quiet"], &target);
    run(&accounts, "cargo", &["build", "--quiet"], &target)
}

fn row(build: &str, took: Duration, goal: &str) {
    println!("{build:<52} {:>9.1} {goal:>8}", took.as_secs_f64());
}

fn main() {
    let gen_bin = env!("CARGO_BIN_EXE_gen");
    // `cargo bench --bench app_build accounts` builds the accounts app alone. ACCOUNTS_RUNS
    // (1 by default) builds it that many times, each cold, and prints the median and the range.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let accounts_only = match filter.as_deref() {
        None => false,
        Some("accounts") => true,
        Some(other) => panic!("unknown filter `{other}`: the one filter is `accounts`"),
    };
    let runs: usize = std::env::var("ACCOUNTS_RUNS")
        .map(|value| value.parse().expect("ACCOUNTS_RUNS is a number of runs"))
        .unwrap_or(1)
        .max(1);
    let chat = (!accounts_only).then(|| chat_builds(gen_bin));
    let mut accounts: Vec<Duration> = (0..runs).map(|_| accounts_cold(gen_bin)).collect();
    accounts.sort();

    println!(
        "cargo build of a generated app, debug profile, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{:<52} {:>9} {:>8}", "build", "seconds", "goal");
    if let Some(chat) = &chat {
        row(
            "cold: fresh `gen new` app, empty target dir",
            chat.cold,
            "< 90",
        );
        row(
            "incremental: after room + nested message resources",
            chat.incremental,
            "< 20",
        );
        row("incremental: after one more resource", chat.again, "< 20");
    }
    let label = if runs == 1 {
        "cold: the accounts app (fixtures/auth.toml)".to_owned()
    } else {
        format!(
            "cold: the accounts app, median of {runs} ({:.1}-{:.1})",
            accounts[0].as_secs_f64(),
            accounts[runs - 1].as_secs_f64()
        )
    };
    row(&label, accounts[runs / 2], "< 120");
    if let Some(chat) = &chat {
        row(
            "release: the image's build, dependencies included",
            chat.release,
            "-",
        );
        println!("packages in the app's Cargo.lock: {}", chat.packages);
        println!(
            "release binary, stripped: {:.1} MB (goal under 20 MB)",
            chat.binary as f64 / 1_000_000.0
        );
    }
}
