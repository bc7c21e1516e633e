//! Snapshot and syntax tiers: every file each fixture generates, its printed statuses, and a
//! `syn::parse_file` of every generated Rust file; each pristine base under `.gen/base/` is held
//! to the file it stands beside.

mod support;

use support::{Fixture, Tree};

/// The vendored Turbo build is copied byte for byte and checked against its scaffold instead.
fn is_vendored(path: &str) -> bool {
    path.starts_with("static/vendor/")
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures", "*.toml", |path| {
        let fixture = Fixture::load(path);
        let dir = tempfile::tempdir().unwrap();
        let (app, log) = fixture.generate(dir.path());
        insta::assert_snapshot!("statuses", log);

        let tree = Tree::read(&app);
        // An app alone snapshots all of it; a resource scenario snapshots what its resources
        // changed, so each file has its snapshot once and each scenario shows its own work.
        let baseline_dir = tempfile::tempdir().unwrap();
        let baseline = if fixture.resource.is_empty() {
            Tree {
                files: Default::default(),
                dirs: Vec::new(),
            }
        } else {
            support::gen_ok(baseline_dir.path(), &["new", &fixture.app]);
            Tree::read(&baseline_dir.path().join(&fixture.app))
        };
        for path in tree.changed_since(&baseline) {
            if path.ends_with(".rs")
                && let Err(e) = syn::parse_file(&tree.text(&path))
            {
                panic!("{path} does not parse: {e}");
            }
            // A pristine base is the file as `gen` wrote it, which has its own snapshot.
            if let Some(file) = path.strip_prefix(".gen/base/") {
                assert_eq!(tree.files[&path], tree.files[file], "{path}");
                continue;
            }
            if is_vendored(&path) {
                let scaffold = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("scaffolds/app")
                    .join(&path);
                assert_eq!(
                    tree.files[&path],
                    std::fs::read(scaffold).unwrap(),
                    "{path}"
                );
                continue;
            }
            insta::assert_snapshot!(format!("file {path}"), tree.text(&path));
        }
    });
}
