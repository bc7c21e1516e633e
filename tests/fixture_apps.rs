//! Compile-and-behave tier for `gen resource`: the app of every fixture with resources is formatted
//! as rustfmt would write it, clean under clippy, and passes its own generated tests; a Postgres
//! app's tests run against a real PostgreSQL server that this test starts.

mod support;

use std::time::Duration;

use support::Fixture;
use support::app::{cargo, cargo_with};
use support::postgres::PostgresServer;

#[test]
fn every_fixture_app_is_formatted_clippy_clean_and_passes_its_tests() {
    let mut fixtures: Vec<_> = std::fs::read_dir(support::fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    fixtures.sort();
    // `FIXTURES=attachments,auth` runs those alone, while working on them; the suite runs all.
    let only = std::env::var("FIXTURES").ok();
    let chosen = |path: &std::path::Path| {
        let name = path.file_stem().unwrap().to_string_lossy();
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|wanted| wanted.trim() == name))
    };
    fixtures.retain(|path| chosen(path));
    let mut timings = Vec::new();
    let mut postgres = None;
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
        let test = if fixture.uses_postgres() {
            let server = postgres.get_or_insert_with(PostgresServer::start);
            let url = server.create_database(&fixture.app);
            let took = cargo_with(&app, &["test"], &[("DATABASE_URL", &url)]);
            // Each test's tables were temporary, so the database is as empty as it was made.
            let tables = server.psql(
                &fixture.app,
                "SELECT count(*) FROM pg_tables \
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            );
            assert_eq!(tables, "0", "the {} tests left tables behind", fixture.app);
            took
        } else {
            cargo(&app, &["test"])
        };
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        timings.push((name, clippy, test));
    }
    if only.is_none() {
        assert!(timings.len() >= 7, "the fixtures with resources were found");
        assert!(postgres.is_some(), "a Postgres fixture app ran its tests");
    } else {
        assert!(
            !timings.is_empty(),
            "FIXTURES names no fixture with resources"
        );
    }
    let seconds = |d: &Duration| d.as_secs_f64();
    for (name, clippy, test) in &timings {
        println!(
            "fixture app {name}: clippy {:.1}s, build and test {:.1}s",
            seconds(clippy),
            seconds(test)
        );
    }
}
