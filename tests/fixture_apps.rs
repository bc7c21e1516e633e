//! Compile-and-behave tier for `gen resource`: the app of every fixture with resources is formatted
//! as rustfmt would write it, clean under clippy, and passes its own generated tests.

mod support;

use std::time::Duration;

use support::Fixture;
use support::app::cargo;

#[test]
fn every_fixture_app_is_formatted_clippy_clean_and_passes_its_tests() {
    let mut fixtures: Vec<_> = std::fs::read_dir(support::fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    fixtures.sort();
    let mut timings = Vec::new();
    for path in fixtures {
        let fixture = Fixture::load(&path);
        // `gen new` alone is the subject of `generated_app.rs`.
        if fixture.resource.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let (app, _) = fixture.generate(dir.path());
        cargo(&app, &["fmt", "--check"]);
        let clippy = cargo(&app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
        let test = cargo(&app, &["test"]);
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        timings.push((name, clippy, test));
    }
    assert!(timings.len() >= 6, "the fixtures with resources were found");
    let seconds = |d: &Duration| d.as_secs_f64();
    for (name, clippy, test) in &timings {
        println!(
            "fixture app {name}: clippy {:.1}s, build and test {:.1}s",
            seconds(clippy),
            seconds(test)
        );
    }
}
