//! Benchmark of what a user waits for after generating: the cold `cargo build` of a fresh app in
//! an empty target directory, the rebuild after `gen resource`, and the release build the
//! Dockerfile runs, with the size of its binary. Prints a table; asserts nothing.
//!
//! Run with `cargo bench --bench app_build`. Goals on a 2-core machine: cold under 90 s (under
//! 120 s for the accounts app of `fixtures/auth.toml`), incremental under 20 s. Crates already in cargo's download cache are not fetched again, so the
//! figures are compile time, not download time.

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

fn main() {
    let gen_bin = env!("CARGO_BIN_EXE_gen");
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
    let again = {
        run(
            &app,
            gen_bin,
            &["resource", "person", "name:string", "--quiet"],
            &target,
        );
        run(&app, "cargo", &["build", "--quiet"], &target)
    };
    // What the Dockerfile's build stage compiles: the optimised, stripped binary of the image.
    let release = run(&app, "cargo", &["build", "--release", "--quiet"], &target);
    let binary = std::fs::metadata(target.join("release/chat"))
        .unwrap()
        .len();
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let packages = lock.matches("[[package]]").count();

    // The accounts app of `fixtures/auth.toml`, cold in a target directory of its own: accounts
    // add argon2 and lettre to what a `gen new` app builds.
    let accounts_target = dir.path().join("accounts-target");
    run(
        dir.path(),
        gen_bin,
        &["new", "accounts", "--auth", "--quiet"],
        &accounts_target,
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
        run(&accounts, gen_bin, args, &accounts_target);
    }
    run(&accounts, "cargo", &["fetch", "--quiet"], &accounts_target);
    let accounts_cold = run(&accounts, "cargo", &["build", "--quiet"], &accounts_target);

    println!(
        "cargo build of a generated app, debug profile, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{:<52} {:>9} {:>8}", "build", "seconds", "goal");
    println!(
        "{:<52} {:>9.1} {:>8}",
        "cold: fresh `gen new` app, empty target dir",
        cold.as_secs_f64(),
        "< 90"
    );
    println!(
        "{:<52} {:>9.1} {:>8}",
        "incremental: after room + nested message resources",
        incremental.as_secs_f64(),
        "< 20"
    );
    println!(
        "{:<52} {:>9.1} {:>8}",
        "incremental: after one more resource",
        again.as_secs_f64(),
        "< 20"
    );
    println!(
        "{:<52} {:>9.1} {:>8}",
        "cold: the accounts app (fixtures/auth.toml)",
        accounts_cold.as_secs_f64(),
        "< 120"
    );
    println!(
        "{:<52} {:>9.1} {:>8}",
        "release: the image's build, dependencies included",
        release.as_secs_f64(),
        "-"
    );
    println!("packages in the app's Cargo.lock: {packages}");
    println!(
        "release binary, stripped: {:.1} MB (goal under 20 MB)",
        binary as f64 / 1_000_000.0
    );
}
