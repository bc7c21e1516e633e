//! The hooks a destroy sets off for the records the database deletes with it: which run, how often, and with which state.

use std::sync::Mutex;

// The crate is the app's `turbo` module, and these tests call it by that name.
use turbogen_runtime as turbo;
use turbogen_runtime::DomId;

macro_rules! record {
    ($name:ident, $singular:literal, $plural:literal) => {
        struct $name;

        impl DomId for $name {
            const SINGULAR: &'static str = $singular;
            const PLURAL: &'static str = $plural;

            fn dom_key(&self) -> String {
                "1".to_owned()
            }
        }
    };
}

// A building's floors, a floor's rooms; a sign hangs on its own, nested under nothing.
record!(Building, "building", "buildings");
record!(Floor, "floor", "floors");
record!(Room, "room", "rooms");
record!(Sign, "sign", "signs");

/// The state the hooks are given: what ran, in order.
#[derive(Default)]
struct Log(Mutex<Vec<&'static str>>);

fn sweep(log: &Log) {
    log.0.lock().unwrap().push("sweep");
}

fn recount(log: &Log) {
    log.0.lock().unwrap().push("recount");
}

fn other_state(_: &String) {
    panic!("a hook is never given a state of another type");
}

fn ran(log: &Log) -> Vec<&'static str> {
    std::mem::take(&mut *log.0.lock().unwrap())
}

#[test]
fn a_destroy_runs_the_hooks_of_every_type_the_database_deletes_with_it_once() {
    turbo::register_nested::<Floor, Building>();
    turbo::register_nested::<Room, Floor>();
    // Rooms have something to purge when a floor goes; registering again changes nothing.
    turbo::cascade::on_destroy::<Floor, Log>(sweep);
    turbo::cascade::on_destroy::<Floor, Log>(sweep);
    // Floors have it too when a building goes: still one sweep per destroy.
    turbo::cascade::on_destroy::<Building, Log>(sweep);
    turbo::cascade::on_destroy::<Room, Log>(recount);
    turbo::cascade::on_destroy::<Floor, String>(other_state);

    let log = Log::default();
    turbo::cascade::destroyed(&Building, &log);
    let mut building = ran(&log);
    building.sort_unstable();
    assert_eq!(
        building,
        ["recount", "sweep"],
        "a building takes its floors and their rooms"
    );

    turbo::cascade::destroyed(&Floor, &log);
    let mut floor = ran(&log);
    floor.sort_unstable();
    assert_eq!(floor, ["recount", "sweep"]);

    turbo::cascade::destroyed(&Room, &log);
    assert_eq!(
        ran(&log),
        ["recount"],
        "a room's own hook, nothing above it"
    );

    turbo::cascade::destroyed(&Sign, &log);
    assert!(ran(&log).is_empty(), "nothing is nested under a sign");
}
