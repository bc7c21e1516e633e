//! A small app in memory for unit tests: generated into a `MemFs` as `gen new` and then
//! `gen resource` would leave it on disk, and read back as a `Project`.

use crate::fs::MemFs;
use crate::lower::{lower_app, lower_resource};
use crate::project::{self, Project};
use crate::render::{self, Scaffolds};
use crate::spec;
use crate::types::Database;
use crate::write::{Collision, plan_writes};

/// The app `chat` with one resource per entry of `resources`, each given as the words of
/// `gen resource` (`["message", "body:text", "room:references"]`), generated in order.
pub fn app(resources: &[&[&str]]) -> (MemFs, Project) {
    let app = lower_app("chat", Database::Sqlite).unwrap();
    let scaffolds = Scaffolds::builtin();
    let mut fs = MemFs::default();
    let files = render::render_app(&app, &scaffolds).unwrap();
    let plan = plan_writes(&fs, &files, &[], Collision::Stop).unwrap();
    plan.apply(&mut fs).unwrap();
    let mut earlier = Vec::new();
    for words in resources {
        let (name, fields) = words.split_first().expect("a resource has a name");
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let mut spec = spec::parse_cli(name, &fields).unwrap();
        spec.migration = Some(project::next_migration(&fs, &project::load(&fs).unwrap()).unwrap());
        let resource = lower_resource(&spec, &app, &earlier).unwrap();
        let files = render::render_resource(&app, &resource, &scaffolds).unwrap();
        let injections = render::resource_injections(&app, &resource);
        let plan = plan_writes(&fs, &files, &injections, Collision::Stop).unwrap();
        plan.apply(&mut fs).unwrap();
        earlier.push(resource);
    }
    let project = project::load(&fs).unwrap();
    (fs, project)
}

/// A file's text; a test fails when it is missing.
pub fn text(fs: &MemFs, path: &str) -> String {
    String::from_utf8(fs.files[path].clone()).unwrap()
}
