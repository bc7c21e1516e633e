//! The `gen` command line as a user meets it: bad input, re-runs, dry runs, --force and --skip,
//! destroy as the exact inverse, `gen check`, help and completions.

mod support;

use std::path::Path;

use support::{Fixture, Tree, copy_tree, gen_in, gen_ok};

/// An app with a `room` resource, made once and copied by each test that needs one.
fn app_with_room(parent: &Path) -> std::path::PathBuf {
    gen_ok(parent, &["new", "chat", "-q"]);
    let app = parent.join("chat");
    gen_ok(&app, &["resource", "room", "name:string", "-q"]);
    app
}

struct BadInput {
    /// Where the command runs: inside an app with a `room`, an app with rooms and messages, or an empty directory.
    place: Place,
    args: &'static [&'static str],
    /// Text the error must contain, naming the offending token.
    expect: &'static [&'static str],
    /// A spec file written to `spec.toml` in the app first.
    spec: Option<&'static str>,
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    App,
    AppWithMessages,
    Empty,
}

const fn bad(
    place: Place,
    args: &'static [&'static str],
    expect: &'static [&'static str],
) -> BadInput {
    BadInput {
        place,
        args,
        expect,
        spec: None,
    }
}

const fn bad_spec(spec: &'static str, expect: &'static [&'static str]) -> BadInput {
    BadInput {
        place: Place::App,
        args: &["resource", "message", "--spec", "spec.toml"],
        expect,
        spec: Some(spec),
    }
}

use Place::{App, AppWithMessages, Empty};

const BAD_INPUTS: &[BadInput] = &[
    bad(
        App,
        &["resource", "note", "body:text", "--scope", "user"],
        &["`--scope user` needs accounts", "`gen auth`"],
    ),
    bad(
        App,
        &["resource", "note", "body:text", "--authenticated"],
        &["`--authenticated` needs accounts", "`gen auth`"],
    ),
    bad(
        App,
        &["resource", "note", "body:text", "--scope", "team"],
        &["unknown scope \"team\" in `--scope team`", "no \"team\""],
    ),
    bad(
        App,
        &["resource", "note", "body:text", "--scope", "room"],
        &["unknown scope \"room\"", "\"room:references\""],
    ),
    bad(
        App,
        &["resource", "message", "body:strng"],
        &[
            "unknown field type \"strng\" in \"body:strng\"",
            "did you mean \"string\"?",
        ],
    ),
    bad(
        App,
        &["resource", "message", "body:txt"],
        &["\"txt\"", "did you mean \"text\"?"],
    ),
    bad(
        App,
        &["resource", "message", "body:text:optinal"],
        &["unknown modifier \"optinal\"", "did you mean \"optional\"?"],
    ),
    bad(
        App,
        &["resource", "message", "body:text:!"],
        &["unknown modifier \"!\"", "optional, unique, index"],
    ),
    bad(
        App,
        &["resource", "message", "body:text:unique:unique"],
        &["\"unique\" is repeated in \"body:text:unique:unique\""],
    ),
    bad(
        App,
        &["resource", "message", "body:text:max=lots"],
        &[
            "modifier \"max=lots\" in \"body:text:max=lots\"",
            "a whole number of characters",
        ],
    ),
    bad(
        App,
        &["resource", "message", "body:text:max=0"],
        &["\"max=0\"", "from 1 to 2000000"],
    ),
    bad(
        App,
        &["resource", "message", "count:integer:max=5"],
        &["\"max=5\" in \"count:integer:max=5\" applies only to string and text fields"],
    ),
    bad(
        App,
        &["resource", "message", "body:text:max=5:max=9"],
        &["modifier \"max\" is repeated in \"body:text:max=5:max=9\""],
    ),
    bad(
        App,
        &["resource", "message", "body:text:max"],
        &["unknown modifier \"max\"", "max=N"],
    ),
    bad(
        App,
        &["resource", "message", "body:text", "body:string"],
        &["duplicate field \"body:string\""],
    ),
    bad(
        App,
        &["resource", "message", ":text"],
        &["empty field name in \":text\""],
    ),
    bad(
        App,
        &["resource", "message", "body"],
        &["missing field type in \"body\""],
    ),
    bad(
        App,
        &["resource", "message", "body:"],
        &["missing field type in \"body:\""],
    ),
    bad(
        App,
        &["resource", "message", "1st:string"],
        &["\"1st\" must start with a letter"],
    ),
    bad(
        App,
        &["resource", "message", "Body:text"],
        &["\"Body\"", "did you mean \"body\"?"],
    ),
    bad(
        App,
        &["resource", "message", "bo dy:text"],
        &["\"bo dy\" contains a space"],
    ),
    bad(
        App,
        &["resource", "message", "id:integer"],
        &["\"id:integer\"", "column \"id\""],
    ),
    bad(
        App,
        &["resource", "message", "created_at:datetime"],
        &["\"created_at\""],
    ),
    bad(
        App,
        &["resource", "message", "self:string"],
        &["\"self\"", "raw identifier"],
    ),
    bad(
        App,
        &["resource", "message", "room:references", "room_id:integer"],
        &["duplicate field \"room_id:integer\"", "\"room:references\""],
    ),
    bad(
        App,
        &["resource", "message", "author:references"],
        &[
            "\"author:references\"",
            "does not exist",
            "gen resource author",
        ],
    ),
    bad(
        App,
        &["resource", "message", "rom:references"],
        &["\"rom\"", "did you mean \"room:references\"?"],
    ),
    bad(
        App,
        &["resource", "message", "body:text", "--parent", "room"],
        &["parent \"room\" is not a references field"],
    ),
    bad(
        App,
        &["resource", "", "body:text"],
        &["empty resource name"],
    ),
    bad(
        App,
        &["resource", "a/b", "body:text"],
        &["\"a/b\"", "path separator"],
    ),
    bad(App, &["resource", "..", "body:text"], &["\"..\""]),
    bad(
        App,
        &["resource", "my message", "body:text"],
        &["\"my message\" contains a space"],
    ),
    bad(
        App,
        &["resource", "1message", "body:text"],
        &["\"1message\" must start with a letter"],
    ),
    bad(
        App,
        &["resource", "mes-sage", "body:text"],
        &["\"mes-sage\" contains \"-\""],
    ),
    bad(
        App,
        &["resource", "turbo", "body:text"],
        &["\"turbo\" is reserved"],
    ),
    bad(
        App,
        &["resource", "app", "body:text"],
        &["\"app\" is reserved"],
    ),
    bad(
        App,
        &["resource", "config", "body:text"],
        &["\"config\" is reserved"],
    ),
    bad(
        App,
        &["resource", "main", "body:text"],
        &["\"main\" is reserved"],
    ),
    bad(
        App,
        &["resource", "type", "body:text"],
        &["\"type\" is reserved"],
    ),
    bad(
        App,
        &["resource", "form", "title:string"],
        &["\"form\" is reserved"],
    ),
    bad(
        App,
        &["resource", "post", "errors:text"],
        &["\"errors\" in \"errors:text\" is reserved"],
    ),
    bad(
        App,
        &["resource", "room", "title:string"],
        &["resource \"room\" already exists"],
    ),
    bad(
        App,
        &["resource", "rooms", "title:string"],
        &["resource \"room\" already exists"],
    ),
    bad(
        App,
        &["resource", "message", "body:text", "--insert", "sideways"],
        &["sideways"],
    ),
    bad(
        App,
        &["resource", "message", "body:text", "--spec", "spec.toml"],
        &["--spec"],
    ),
    bad(
        App,
        &["resource", "message", "--spec", "missing.toml"],
        &["cannot read spec file missing.toml"],
    ),
    bad_spec("colour = \"red\"\n", &["spec.toml:1:1", "colour"]),
    bad_spec(
        "optimistic = \"yes\"\n",
        &["spec.toml:1:14", "invalid type"],
    ),
    bad_spec("insert = \"sideways\"\n", &["spec.toml:1:10", "sideways"]),
    bad_spec(
        "[fields]\nbody = \"txt\"\n",
        &["spec.toml:2:8", "did you mean \"text\"?"],
    ),
    bad_spec(
        "[fields]\nbody = \"text:max=-1\"\n",
        &["spec.toml:2:8", "\"max=-1\""],
    ),
    bad_spec(
        "optimistic = true\n[fields]\nclient_id = \"string\"\n",
        &["client_id"],
    ),
    bad(
        Empty,
        &["resource", "post", "title:string"],
        &["not inside a turbogen app"],
    ),
    bad(
        Empty,
        &["new", "1chat"],
        &["\"1chat\" must start with a letter"],
    ),
    bad(Empty, &["new", "a/b"], &["path separator"]),
    bad(
        Empty,
        &["new", "axum"],
        &["\"axum\"", "crate the app depends on"],
    ),
    bad(Empty, &["new", "fn"], &["\"fn\" is reserved"]),
    bad(
        Empty,
        &["new", "chat", "--database", "mysql"],
        &["'mysql'", "--database", "sqlite", "postgres"],
    ),
    bad(
        Empty,
        &["new", "chat", "--database", "postgre"],
        &["'postgre'", "postgres"],
    ),
    bad(App, &["new", "chat", "--path", "."], &["is not empty"]),
    bad(
        App,
        &["destroy", "resource", "rom"],
        &["no resource \"rom\"", "did you mean \"room\"?"],
    ),
    bad(
        AppWithMessages,
        &["destroy", "resource", "room"],
        &[
            "\"message\" references \"room\"",
            "destroy \"message\" first",
        ],
    ),
    bad(App, &["generate", "post"], &["generate"]),
    // `gen field add|remove` and a changed `gen resource`.
    bad(
        AppWithMessages,
        &["field", "add", "mesage", "pinned:boolean"],
        &["no resource \"mesage\"", "did you mean \"message\"?"],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "body:string"],
        &["duplicate field \"body:string\"", "\"body:text\""],
    ),
    bad(
        AppWithMessages,
        &[
            "field",
            "add",
            "message",
            "pinned:boolean",
            "pinned:integer",
        ],
        &["duplicate field \"pinned:integer\""],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "pinned:bool"],
        &["unknown field type \"bool\" in \"pinned:bool\"", "boolean"],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "title:string"],
        &[
            "\"title:string\" is required",
            "\"title:string:default=VALUE\"",
            "\"title:string:optional\"",
        ],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "views:integer:default=many"],
        &["default \"many\" in \"views:integer:default=many\" is not a whole number"],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "pinned:boolean:default=yes"],
        &["default \"yes\"", "is not true or false"],
    ),
    bad(
        AppWithMessages,
        &[
            "field",
            "add",
            "message",
            "seen_at:datetime:default=2024-01-01T00:00:00Z",
        ],
        &["\"2024-01-01T00:00:00Z\"", "add the field as optional"],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "code:string:unique"],
        &[
            "\"code:string:unique\" is unique and required",
            "code:string:optional:unique",
        ],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message", "room:references"],
        &["duplicate field \"room:references\""],
    ),
    bad(
        App,
        &["field", "add", "room", "owner:references"],
        &["\"owner:references\" cannot be added"],
    ),
    bad(
        AppWithMessages,
        &["field", "add", "message"],
        &["needs at least one field"],
    ),
    bad(
        AppWithMessages,
        &["field", "remove", "message", "bdy"],
        &["\"message\" has no field \"bdy\"", "did you mean \"body\"?"],
    ),
    bad(
        AppWithMessages,
        &["field", "remove", "message", "room"],
        &["\"room\" is the parent of messages"],
    ),
    bad(
        AppWithMessages,
        &["field", "remove", "message", "room_id"],
        &["\"room_id\" is the parent of messages"],
    ),
    bad(
        App,
        &["field", "remove", "room", "name"],
        &[
            "\"name\" would have no fields left",
            "gen destroy resource room",
        ],
    ),
    bad(
        AppWithMessages,
        &["field", "remove", "message", "body", "body"],
        &["field \"body\" is named twice"],
    ),
    bad(
        AppWithMessages,
        &["field", "remove", "rooms", "nme"],
        &["\"room\" has no field \"nme\"", "did you mean \"name\"?"],
    ),
    bad(
        AppWithMessages,
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "pinned:boolean",
        ],
        &[
            "resource \"message\" already exists with another spec",
            "`gen field add message pinned:boolean`",
        ],
    ),
    bad(
        AppWithMessages,
        &["resource", "message", "room:references"],
        &["`gen field remove message body`"],
    ),
    bad(
        AppWithMessages,
        &["resource", "message", "body:string", "room:references"],
        &["\"body:string\" (recorded as \"body:text\")"],
    ),
];

#[test]
fn bad_input_exits_2_names_the_token_and_changes_nothing() {
    assert!(BAD_INPUTS.len() >= 30);
    let base = tempfile::tempdir().unwrap();
    let app = app_with_room(base.path());
    let with_messages = base.path().join("with_messages");
    copy_tree(&app, &with_messages);
    gen_ok(
        &with_messages,
        &["resource", "message", "body:text", "room:references", "-q"],
    );

    for case in BAD_INPUTS {
        let dir = tempfile::tempdir().unwrap();
        let cwd = match case.place {
            App => {
                copy_tree(&app, dir.path());
                dir.path().to_path_buf()
            }
            AppWithMessages => {
                copy_tree(&with_messages, dir.path());
                dir.path().to_path_buf()
            }
            Empty => dir.path().to_path_buf(),
        };
        if let Some(spec) = case.spec {
            std::fs::write(cwd.join("spec.toml"), spec).unwrap();
        }
        let before = Tree::read(&cwd);
        let run = gen_in(&cwd, case.args);
        assert_eq!(
            run.code, 2,
            "gen {:?} should exit 2:\n{}{}",
            case.args, run.stdout, run.stderr
        );
        for needle in case.expect {
            assert!(
                run.stderr.contains(needle),
                "gen {:?}: expected {needle:?} in:\n{}",
                case.args,
                run.stderr
            );
        }
        assert_eq!(
            Tree::read(&cwd),
            before,
            "gen {:?} changed the tree",
            case.args
        );
    }
}

/// The database `gen new` chose is recorded once, in `gen.toml`, and every later `gen resource`
/// renders for it without being told again.
#[test]
fn the_database_is_recorded_and_every_resource_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    gen_ok(dir.path(), &["new", "chat", "--database", "postgres", "-q"]);
    let app = dir.path().join("chat");
    let project = std::fs::read_to_string(app.join("gen.toml")).unwrap();
    assert!(project.contains("database = \"postgres\""), "{project}");
    gen_ok(
        &app,
        &["resource", "room", "name:string", "price:decimal", "-q"],
    );
    let migration = std::fs::read_to_string(app.join("migrations/0001_create_rooms.sql")).unwrap();
    assert!(
        migration.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
        "{migration}"
    );
    assert!(migration.contains("price NUMERIC NOT NULL"), "{migration}");
    assert!(migration.contains("created_at TIMESTAMPTZ"), "{migration}");
    let model = std::fs::read_to_string(app.join("src/rooms/model.rs")).unwrap();
    assert!(model.contains("use sqlx::PgPool;"), "{model}");
    assert!(model.contains("WHERE id = $1"), "{model}");
    assert!(model.contains("$2::NUMERIC"), "{model}");
    assert!(model.contains("price::TEXT AS price"), "{model}");
    assert!(!model.contains("= ?"), "no SQLite placeholder: {model}");
    let manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\"postgres\""), "{manifest}");
    assert!(!manifest.contains("sqlite"), "{manifest}");
    let out = gen_ok(&app, &["check"]);
    assert!(out.contains("0 failing"), "{out}");

    // The default stays SQLite.
    gen_ok(dir.path(), &["new", "blog", "-q"]);
    let project = std::fs::read_to_string(dir.path().join("blog/gen.toml")).unwrap();
    assert!(project.contains("database = \"sqlite\""), "{project}");
}

#[test]
fn rerunning_prints_only_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = Fixture::named("nested").generate(dir.path());
    let before = Tree::read(&app);
    let out = gen_ok(
        &app,
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "--force",
        ],
    );
    for line in out.lines() {
        assert!(line.trim_start().starts_with("identical"), "{out}");
    }
    assert!(out.contains("identical  src/messages/model.rs"), "{out}");
    assert!(
        out.contains("identical  src/lib.rs  (pub mod messages;)"),
        "{out}"
    );
    assert_eq!(Tree::read(&app), before);

    // `gen new` over the app: every file is as `gen new` wrote it, except the six that
    // resources edited, which are the user's now and kept by --skip.
    let out = gen_ok(&app, &["new", "chat", "--path", ".", "--skip"]);
    let mut skipped = Vec::new();
    for line in out.lines().take_while(|l| !l.is_empty()) {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["identical", _] => {}
            ["skip", path] => skipped.push(path),
            _ => panic!("unexpected status line {line:?} in:\n{out}"),
        }
    }
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        [
            "Cargo.toml",
            "gen.toml",
            "src/app.rs",
            "src/lib.rs",
            "templates/home.html",
            "templates/layout.html"
        ],
        "{out}"
    );
    assert!(out.contains("identical  src/turbo/stream.rs"), "{out}");
    assert_eq!(Tree::read(&app), before);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen_ok(dir.path(), &["new", "chat", "--dry-run"]);
    assert!(out.contains("create  src/app.rs"), "{out}");
    assert!(!dir.path().join("chat").exists());

    let app = app_with_room(dir.path());
    let before = Tree::read(&app);
    let out = gen_ok(
        &app,
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "--pretend",
        ],
    );
    assert!(out.contains("create  src/messages/handlers.rs"), "{out}");
    assert!(out.contains("inject  src/app.rs"), "{out}");
    assert_eq!(Tree::read(&app), before);

    let out = gen_ok(&app, &["destroy", "resource", "room", "--dry-run"]);
    assert!(out.contains("remove  src/rooms/model.rs"), "{out}");
    assert_eq!(Tree::read(&app), before);
}

#[test]
fn a_conflict_writes_nothing_and_force_or_skip_decide() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    std::fs::create_dir_all(app.join("templates/posts")).unwrap();
    std::fs::write(app.join("templates/posts/index.html"), "my own page\n").unwrap();
    let before = Tree::read(&app);

    let run = gen_in(&app, &["resource", "post", "title:string"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("conflict  templates/posts/index.html"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(Tree::read(&app), before);

    let skip_dir = tempfile::tempdir().unwrap();
    copy_tree(&app, skip_dir.path());
    let out = gen_ok(
        skip_dir.path(),
        &["resource", "post", "title:string", "--skip"],
    );
    assert!(out.contains("skip  templates/posts/index.html"), "{out}");
    assert!(out.contains("create  src/posts/model.rs"), "{out}");
    let skipped = Tree::read(skip_dir.path());
    assert_eq!(skipped.text("templates/posts/index.html"), "my own page\n");

    let out = gen_ok(&app, &["resource", "post", "title:string", "--force"]);
    assert!(out.contains("force  templates/posts/index.html"), "{out}");
    let forced = Tree::read(&app);
    assert!(
        forced
            .text("templates/posts/index.html")
            .contains("{% extends \"layout.html\" %}")
    );
}

#[test]
fn destroy_restores_the_tree_exactly() {
    let dir = tempfile::tempdir().unwrap();
    gen_ok(dir.path(), &["new", "chat", "-q"]);
    let app = dir.path().join("chat");
    let fresh = Tree::read(&app);
    gen_ok(&app, &["resource", "room", "name:string", "-q"]);
    let with_room = Tree::read(&app);
    gen_ok(
        &app,
        &["resource", "message", "body:text", "room:references", "-q"],
    );

    let out = gen_ok(&app, &["destroy", "resource", "messages"]);
    assert!(out.contains("remove  src/messages/model.rs"), "{out}");
    assert!(
        out.contains("remove  src/app.rs  (let router = router.merge(crate::messages::routes());)"),
        "{out}"
    );
    assert_eq!(Tree::read(&app), with_room);
    gen_ok(&app, &["destroy", "resource", "room", "-q"]);
    assert_eq!(Tree::read(&app), fresh);
}

#[test]
fn destroy_keeps_what_you_edited() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let partial = app.join("templates/rooms/_room.html");
    let edited = format!(
        "{}<!-- mine -->\n",
        std::fs::read_to_string(&partial).unwrap()
    );
    std::fs::write(&partial, &edited).unwrap();

    let out = gen_ok(&app, &["destroy", "resource", "room"]);
    assert!(
        out.contains("modified  templates/rooms/_room.html  (kept: it was edited)"),
        "{out}"
    );
    assert!(out.contains("remove  templates/rooms/index.html"), "{out}");
    let tree = Tree::read(&app);
    assert_eq!(tree.text("templates/rooms/_room.html"), edited);
    assert!(!tree.files.contains_key("src/rooms/model.rs"));
    assert!(!tree.text("src/lib.rs").contains("rooms"));
    assert!(!tree.text("gen.toml").contains("room"));
}

#[test]
fn check_passes_fresh_and_fails_with_a_diff_on_drift() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = Fixture::named("nested").generate(dir.path());
    let out = gen_ok(&app, &["check"]);
    assert!(out.contains("0 modified by you, 0 failing"), "{out}");

    // A file gen keeps current was edited: check fails and shows the difference.
    let runtime = app.join("src/turbo/stream.rs");
    let original = std::fs::read_to_string(&runtime).unwrap();
    std::fs::write(
        &runtime,
        original.replace("text/vnd.turbo-stream.html", "text/html"),
    )
    .unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("drifted  src/turbo/stream.rs"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--- a/src/turbo/stream.rs"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-pub const TURBO_STREAM_MEDIA_TYPE: &str = \"text/html\";"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+pub const TURBO_STREAM_MEDIA_TYPE: &str = \"text/vnd.turbo-stream.html\";"),
        "{}",
        run.stdout
    );
    std::fs::write(&runtime, original).unwrap();

    // A file the user owns was edited: reported, and a failure only with --strict.
    let partial = app.join("templates/messages/_message.html");
    let mut text = std::fs::read_to_string(&partial).unwrap();
    text.push_str("<!-- mine -->\n");
    std::fs::write(&partial, text).unwrap();
    let out = gen_ok(&app, &["check"]);
    assert!(
        out.contains("modified  templates/messages/_message.html"),
        "{out}"
    );
    let run = gen_in(&app, &["check", "--strict"]);
    assert_eq!(run.code, 1, "{}", run.stdout);

    // A file gen created is gone, or an injection was taken out: check fails.
    let lib = app.join("src/lib.rs");
    let with_module = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, with_module.replace("pub mod messages;\n", "")).unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("missing  src/lib.rs  (pub mod messages;)"),
        "{}",
        run.stdout
    );
    std::fs::write(&lib, with_module).unwrap();

    std::fs::remove_file(app.join("src/messages/broadcasts.rs")).unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("missing  src/messages/broadcasts.rs"),
        "{}",
        run.stdout
    );
}

#[test]
fn resource_finds_the_app_from_a_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let out = gen_ok(
        &app.join("src/rooms"),
        &["resource", "message", "body:text", "room:references"],
    );
    assert!(out.contains("create  src/messages/model.rs"), "{out}");
    assert!(app.join("src/messages/model.rs").is_file());
}

#[test]
fn the_app_overrides_a_scaffold_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let overrides = app.join(".gen/scaffolds/resource/templates/%plural%");
    std::fs::create_dir_all(&overrides).unwrap();
    std::fs::write(
        overrides.join("_%singular%.html"),
        "<article id=\"{{ <%= resource.singular %>.dom_id() }}\">{{ <%= resource.singular %>.body }}</article>\n",
    )
    .unwrap();
    gen_ok(
        &app,
        &["resource", "message", "body:text", "room:references", "-q"],
    );
    let tree = Tree::read(&app);
    assert_eq!(
        tree.text("templates/messages/_message.html"),
        "<article id=\"{{ message.dom_id() }}\">{{ message.body }}</article>\n"
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));

    std::fs::write(overrides.join("_typo.html"), "x").unwrap();
    let run = gen_in(&app, &["resource", "post", "title:string"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("resource/templates/%plural%/_typo.html overrides no scaffold"),
        "{}",
        run.stderr
    );
}

/// The runtime crate's root without its declaration of the blob storage: the comment above it,
/// its `cfg` and the `pub mod storage;` line.
fn without_storage(lib: &str) -> String {
    let lines: Vec<&str> = lib.lines().collect();
    let end = lines
        .iter()
        .position(|line| *line == "pub mod storage;")
        .expect("the runtime declares its storage module");
    assert_eq!(lines[end - 1], "#[cfg(feature = \"storage\")]");
    let start = (0..end - 1)
        .rev()
        .take_while(|&i| lines[i].starts_with("// "))
        .last()
        .unwrap_or(end - 1);
    assert!(
        lines[start].starts_with("// Blob storage"),
        "{}",
        lines[start]
    );
    let mut kept: Vec<&str> = lines[..start].to_vec();
    kept.extend(&lines[end + 1..]);
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

#[test]
fn an_app_carries_the_runtime_crate_byte_for_byte_and_may_override_it() {
    let dir = tempfile::tempdir().unwrap();
    gen_ok(dir.path(), &["new", "chat", "-q"]);
    let app = dir.path().join("chat");
    let tree = Tree::read(&app);

    // The runtime crate's sources are copied as they are, never rendered: its root is `mod.rs`.
    // Its blob storage (src/storage/, and the root's declaration of it) is for apps with
    // attachment fields, so this app has none of it.
    let crate_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
    let mut expected = Vec::new();
    for entry in std::fs::read_dir(&crate_src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "storage" {
            assert!(path.join("mod.rs").is_file());
            continue;
        }
        let in_app = format!(
            "src/turbo/{}",
            if name == "lib.rs" { "mod.rs" } else { &name }
        );
        let mut source = std::fs::read(&path).unwrap();
        assert!(source.starts_with(b"// @generated by gen"), "{name}");
        if name == "lib.rs" {
            source = without_storage(&String::from_utf8(source).unwrap()).into_bytes();
        }
        assert_eq!(tree.files.get(&in_app), Some(&source), "{in_app}");
        expected.push(in_app);
    }
    expected.sort();
    let carried: Vec<_> = tree
        .files
        .keys()
        .filter(|path| path.starts_with("src/turbo/"))
        .cloned()
        .collect();
    assert_eq!(carried, expected);

    // An override of a runtime file is keyed by its path in the app and copied as it is too.
    let overrides = app.join(".gen/scaffolds/app/src/turbo");
    std::fs::create_dir_all(&overrides).unwrap();
    let mut stream = tree.files["src/turbo/stream.rs"].clone();
    stream.extend_from_slice(b"// This app's own copy of <%= app.name %>.\n");
    std::fs::write(overrides.join("stream.rs"), &stream).unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("+// This app's own copy of <%= app.name %>."),
        "{}",
        run.stdout
    );

    // The crate root has no path of its own in an app.
    std::fs::rename(overrides.join("stream.rs"), overrides.join("lib.rs")).unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("app/src/turbo/lib.rs overrides no scaffold"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_help_shows_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["new", "--help"],
        &["resource", "--help"],
        &["scaffold", "--help"],
        &["destroy", "--help"],
        &["check", "--help"],
        &["completions", "--help"],
    ] {
        let out = gen_ok(dir.path(), args);
        assert!(out.contains("Examples:"), "gen {args:?}:\n{out}");
    }
}

#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = gen_ok(dir.path(), &["completions", shell]);
        assert!(
            out.contains("resource") && out.contains("dry-run"),
            "{shell}"
        );
    }
}

/// `gen auth` run again writes nothing and says every path is `identical`; `gen new --auth`
/// leaves the tree `gen new` then `gen auth` leave; and the app is current for `gen check`,
/// before and after a resource is added.
#[test]
fn auth_twice_is_identical_and_new_with_auth_is_new_then_auth() {
    let base = tempfile::tempdir().unwrap();
    gen_ok(base.path(), &["new", "chat", "-q"]);
    let app = base.path().join("chat");
    let first = gen_ok(&app, &["auth"]);
    assert!(first.contains("create  src/auth/session.rs"), "{first}");
    assert!(first.contains("inject  src/main.rs"), "{first}");
    let after_first = Tree::read(&app);
    let again = gen_ok(&app, &["auth"]);
    let statuses: Vec<&str> = again
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|s| *s == "identical"), "{again}");
    assert_eq!(Tree::read(&app), after_first);

    let together = tempfile::tempdir().unwrap();
    gen_ok(together.path(), &["new", "chat", "--auth", "-q"]);
    let together = together.path().join("chat");
    assert_eq!(Tree::read(&together), after_first);

    let check = gen_ok(&app, &["check"]);
    assert!(check.contains("0 failing"), "{check}");
    gen_ok(&app, &["resource", "note", "body:text", "-q"]);
    let check = gen_ok(&app, &["check", "--strict"]);
    assert!(check.contains("0 failing"), "{check}");
    // The accounts came first, so a resource added after them takes the next migration.
    assert!(app.join("migrations/0001_create_users.sql").is_file());
    assert!(app.join("migrations/0002_create_notes.sql").is_file());

    // The README's accounts section is prose the user may take out: only --strict minds.
    let readme = std::fs::read_to_string(app.join("README.md")).unwrap();
    let cut = &readme[..readme.find("\n## Accounts\n").unwrap() + 1];
    std::fs::write(app.join("README.md"), cut).unwrap();
    let check = gen_ok(&app, &["check"]);
    assert!(check.contains("0 failing"), "{check}");
    assert_eq!(gen_in(&app, &["check", "--strict"]).code, 1);

    // Taking out the accounts' route fails the check, naming it.
    let app_rs = std::fs::read_to_string(app.join("src/app.rs")).unwrap();
    let without = app_rs.replace(
        "    let router = router.merge(crate::auth::routes(&state));\n",
        "",
    );
    assert_ne!(without, app_rs);
    std::fs::write(app.join("src/app.rs"), without).unwrap();
    let run = gen_in(&app, &["check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("crate::auth::routes(&state)"),
        "{}",
        run.stdout
    );
}

/// Accounts added after resources fit in after them: the next migration number, the route line
/// after theirs, and a `gen check` that re-renders them in that order; destroying the last
/// resource keeps sqlx's chrono feature, which the accounts need too.
#[test]
fn auth_after_resources_is_current_and_keeps_what_it_needs() {
    let base = tempfile::tempdir().unwrap();
    let app = app_with_room(base.path());
    gen_ok(&app, &["auth", "-q"]);
    assert!(app.join("migrations/0002_create_users.sql").is_file());
    let gen_toml = std::fs::read_to_string(app.join("gen.toml")).unwrap();
    assert!(gen_toml.ends_with("[auth]\nmigration = 2\n"), "{gen_toml}");
    gen_ok(&app, &["resource", "note", "body:text", "-q"]);
    assert!(app.join("migrations/0003_create_notes.sql").is_file());
    let check = gen_ok(&app, &["check", "--strict"]);
    assert!(check.contains("0 failing"), "{check}");

    gen_ok(&app, &["destroy", "resource", "note", "-q"]);
    gen_ok(&app, &["destroy", "resource", "room", "-q"]);
    let cargo = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("\"chrono\""), "{cargo}");
    let check = gen_ok(&app, &["check", "--strict"]);
    assert!(check.contains("0 failing"), "{check}");
}

/// `gen destroy auth` is the exact inverse of `gen auth`, in an app with resources before and
/// after the accounts; it keeps a file you edited, and refuses an app without accounts.
#[test]
fn destroy_auth_restores_the_tree_exactly() {
    let base = tempfile::tempdir().unwrap();
    let app = app_with_room(base.path());
    let before = Tree::read(&app);
    gen_ok(&app, &["auth", "-q"]);
    let out = gen_ok(&app, &["destroy", "auth"]);
    assert!(out.contains("remove  src/auth/handlers.rs"), "{out}");
    assert_eq!(Tree::read(&app), before);
    let run = gen_in(&app, &["destroy", "auth"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no accounts"), "{}", run.stderr);

    gen_ok(&app, &["auth", "-q"]);
    std::fs::write(app.join("templates/auth/sign_in.html"), "mine\n").unwrap();
    let out = gen_ok(&app, &["destroy", "auth"]);
    assert!(out.contains("templates/auth/sign_in.html"), "{out}");
    assert_eq!(
        std::fs::read_to_string(app.join("templates/auth/sign_in.html")).unwrap(),
        "mine\n"
    );
    assert!(!app.join("src/auth/handlers.rs").exists());
    let cargo = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(
        !cargo.contains("argon2") && cargo.contains("\"chrono\""),
        "{cargo}"
    );
}

/// A resource by a name the accounts take and `gen auth` exclude each other, whichever comes
/// first: exit 2, the name in the message, nothing written.
#[test]
fn auth_and_a_user_resource_exclude_each_other() {
    let base = tempfile::tempdir().unwrap();
    gen_ok(base.path(), &["new", "chat", "-q"]);
    let app = base.path().join("chat");
    gen_ok(&app, &["resource", "user", "name:string", "-q"]);
    let before = Tree::read(&app);
    let run = gen_in(&app, &["auth"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("resource \"user\" (specs/user.toml)"),
        "{}",
        run.stderr
    );
    assert_eq!(Tree::read(&app), before);

    let with_auth = tempfile::tempdir().unwrap();
    gen_ok(with_auth.path(), &["new", "chat", "--auth", "-q"]);
    let app = with_auth.path().join("chat");
    let before = Tree::read(&app);
    for name in ["user", "sessions", "password_reset"] {
        let run = gen_in(&app, &["resource", name, "title:string"]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("taken by the app's accounts"),
            "{}",
            run.stderr
        );
        assert_eq!(Tree::read(&app), before);
    }
}

/// An app with rooms and messages whose message partial, form and handlers were edited.
fn app_with_edited_messages(parent: &Path) -> std::path::PathBuf {
    let app = app_with_room(parent);
    gen_ok(
        &app,
        &["resource", "message", "body:text", "room:references", "-q"],
    );
    let edit = |path: &str, from: &str, to: &str| {
        let full = app.join(path);
        let text = std::fs::read_to_string(&full).unwrap();
        assert!(text.contains(from), "{path} has no {from:?}");
        std::fs::write(&full, text.replacen(from, to, 1)).unwrap();
    };
    edit(
        "templates/messages/_message.html",
        "class=\"record\"",
        "class=\"record message-card\"",
    );
    edit(
        "templates/messages/_form.html",
        "<form id=",
        "{# Our form. #}\n<form id=",
    );
    edit(
        "src/messages/handlers.rs",
        "pub async fn edit(",
        "// Mine.\npub async fn edit(",
    );
    app
}

#[test]
fn the_same_resource_again_is_identical_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let before = Tree::read(&app);
    let out = gen_ok(&app, &["resource", "room", "name:string"]);
    for line in out.lines() {
        assert!(line.trim_start().starts_with("identical"), "{out}");
    }
    assert!(out.contains("identical  src/rooms/model.rs"), "{out}");
    assert!(
        out.contains("identical  .gen/base/src/rooms/model.rs"),
        "{out}"
    );
    assert_eq!(Tree::read(&app), before);
}

#[test]
fn every_file_you_own_has_its_pristine_base() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let tree = Tree::read(&app);
    for path in [
        "src/rooms/handlers.rs",
        "src/app.rs",
        "Cargo.toml",
        "specs/room.toml",
    ] {
        assert_eq!(
            tree.files[&format!(".gen/base/{path}")],
            tree.files[path],
            "{path}"
        );
    }
    assert!(!tree.files.contains_key(".gen/base/src/turbo/mod.rs"));
    // An edited base is reported by `gen check`, and fails it under --strict.
    std::fs::write(app.join(".gen/base/src/rooms/model.rs"), "edited\n").unwrap();
    let out = gen_ok(&app, &["check"]);
    assert!(
        out.contains("drifted  .gen/base/src/rooms/model.rs"),
        "{out}"
    );
    assert_eq!(gen_in(&app, &["check", "--strict"]).code, 1);
    // Destroying the resource takes its bases with it.
    std::fs::write(
        app.join(".gen/base/src/rooms/model.rs"),
        &tree.files[".gen/base/src/rooms/model.rs"],
    )
    .unwrap();
    gen_ok(&app, &["destroy", "resource", "room", "-q"]);
    let after = Tree::read(&app);
    assert!(
        !after
            .files
            .keys()
            .any(|p| p.starts_with(".gen/base/src/rooms/"))
    );
    assert_eq!(
        after.files[".gen/base/src/app.rs"],
        after.files["src/app.rs"]
    );
    assert!(gen_ok(&app, &["check", "--strict"]).contains("0 failing"));
}

/// A file field added to a table that exists brings the trigger that detaches a deleted
/// record's files; removing the last one detaches the field's files and keeps the blobs'
/// migration, which the database has run and sqlx must still find.
#[test]
fn file_fields_come_and_go_with_their_attachments_and_migrations_stay() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    gen_ok(&app, &["field", "add", "room", "cover:attachment:image"]);
    let tree = Tree::read(&app);
    let added = tree.text("migrations/0002_add_cover_to_rooms.sql");
    assert!(
        added.contains(
            "CREATE TRIGGER IF NOT EXISTS detach_files_of_rooms AFTER DELETE ON rooms\n\
             BEGIN\n    \
             DELETE FROM attachments WHERE record_table = 'rooms' AND record_id = OLD.id;\n\
             END;\n"
        ),
        "{added}"
    );
    assert!(
        tree.text("migrations/0000_create_blobs.sql")
            .contains("CREATE TABLE blobs")
    );

    let out = gen_ok(&app, &["field", "remove", "room", "cover"]);
    assert!(out.contains("remove  src/blobs.rs"), "{out}");
    assert!(!out.contains("remove  migrations/"), "{out}");
    let tree = Tree::read(&app);
    assert_eq!(
        tree.text("migrations/0003_remove_cover_from_rooms.sql"),
        "-- `gen field remove room cover`: sqlx runs it at boot, once, after the migrations before it.\n\
         \n\
         -- The files of `cover` are detached; the app purges the blobs left unattached.\n\
         DELETE FROM attachments WHERE record_table = 'rooms' AND name = 'cover';\n"
    );
    assert!(
        tree.text("migrations/0000_create_blobs.sql")
            .contains("CREATE TABLE blobs")
    );
    assert!(
        tree.text("migrations/0002_add_cover_to_rooms.sql")
            .contains("detach_files_of_rooms")
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));
}

#[test]
fn field_add_and_remove_merge_into_your_edits() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_edited_messages(dir.path());
    let out = gen_ok(&app, &["field", "add", "message", "pinned:boolean"]);
    for line in [
        "merge  templates/messages/_message.html",
        "merge  templates/messages/_form.html",
        "force  src/messages/model.rs",
        "create  migrations/0003_add_pinned_to_messages.sql",
        "force  specs/message.toml",
        "force  .gen/base/templates/messages/_message.html",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
    let tree = Tree::read(&app);
    let partial = tree.text("templates/messages/_message.html");
    assert!(
        partial.contains("message-card") && partial.contains("<dt>Pinned</dt>"),
        "{partial}"
    );
    assert!(
        tree.text("templates/messages/_form.html")
            .starts_with("{# Our form. #}\n")
    );
    assert!(tree.text("src/messages/handlers.rs").contains("// Mine.\n"));
    assert_eq!(
        tree.text("migrations/0003_add_pinned_to_messages.sql"),
        "-- `gen field add message pinned:boolean`: sqlx runs it at boot, once, after the migrations before it.\n\
         ALTER TABLE messages ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;\n"
    );
    let spec = tree.text("specs/message.toml");
    assert!(
        spec.contains("pinned = \"boolean\"\n\n[[changes]]\nmigration = 3\nadd = [\"pinned\"]\n"),
        "{spec}"
    );
    // The table's first migration is as it ran.
    assert!(
        !tree
            .text("migrations/0002_create_messages.sql")
            .contains("pinned")
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));

    let out = gen_ok(&app, &["field", "remove", "message", "pinned"]);
    assert!(
        out.contains("merge  templates/messages/_message.html"),
        "{out}"
    );
    let tree = Tree::read(&app);
    assert_eq!(
        tree.text("migrations/0004_remove_pinned_from_messages.sql"),
        "-- `gen field remove message pinned`: sqlx runs it at boot, once, after the migrations before it.\n\
         ALTER TABLE messages DROP COLUMN pinned;\n"
    );
    let partial = tree.text("templates/messages/_message.html");
    assert!(
        partial.contains("message-card") && !partial.contains("Pinned"),
        "{partial}"
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));

    // Indexed and unique fields get their index, and drop it before their column.
    gen_ok(
        &app,
        &[
            "field",
            "add",
            "message",
            "code:string:optional:unique",
            "views:integer:index",
            "-q",
        ],
    );
    gen_ok(&app, &["field", "remove", "message", "code", "views", "-q"]);
    let tree = Tree::read(&app);
    assert!(
        tree.text("migrations/0005_add_code_and_views_to_messages.sql")
            .contains(
                "ALTER TABLE messages ADD COLUMN code TEXT;\n\
             CREATE UNIQUE INDEX index_messages_on_code ON messages (code);\n\
             ALTER TABLE messages ADD COLUMN views INTEGER NOT NULL DEFAULT 0;\n\
             CREATE INDEX index_messages_on_views ON messages (views);\n"
            )
    );
    assert!(
        tree.text("migrations/0006_remove_code_and_views_from_messages.sql")
            .contains(
                "DROP INDEX index_messages_on_code;\n\
             ALTER TABLE messages DROP COLUMN code;\n\
             DROP INDEX index_messages_on_views;\n\
             ALTER TABLE messages DROP COLUMN views;\n"
            )
    );
    let check = gen_ok(&app, &["check"]);
    assert!(check.contains("3 modified by you, 0 failing"), "{check}");
}

#[test]
fn an_overlapping_edit_is_a_conflict_that_writes_nothing_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_edited_messages(dir.path());
    // The user rewrote the line the new field goes after.
    let partial = app.join("templates/messages/_message.html");
    let text = std::fs::read_to_string(&partial).unwrap();
    std::fs::write(
        &partial,
        text.replacen("  </dl>", "  </dl><!-- the fields end here -->", 1),
    )
    .unwrap();
    let before = Tree::read(&app);

    let run = gen_in(&app, &["field", "add", "message", "pinned:boolean"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("conflict  templates/messages/_message.html"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("<<<<<<< yours\n"), "{}", run.stdout);
    assert!(run.stdout.contains(">>>>>>> gen\n"), "{}", run.stdout);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(Tree::read(&app), before);

    let dry = gen_ok(
        &app,
        &[
            "field",
            "add",
            "message",
            "pinned:boolean",
            "--dry-run",
            "--skip",
        ],
    );
    assert!(
        dry.contains("skip  templates/messages/_message.html"),
        "{dry}"
    );
    assert!(dry.contains("+++ b/templates/messages/_form.html"), "{dry}");
    assert_eq!(Tree::read(&app), before);

    let run = gen_in(
        &app,
        &["field", "add", "message", "pinned:boolean", "--force"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("conflict markers"), "{}", run.stderr);
    let after = Tree::read(&app);
    let marked = after.text("templates/messages/_message.html");
    assert!(
        marked.contains("<<<<<<< yours\n  </dl><!-- the fields end here -->\n=======\n"),
        "{marked}"
    );
    // Outside the hunk, the file is the user's.
    assert!(marked.contains("message-card"), "{marked}");
    assert!(
        after
            .files
            .contains_key("migrations/0003_add_pinned_to_messages.sql")
    );
}

#[test]
fn an_app_without_bases_or_version_falls_back_to_the_render_of_its_specs() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_edited_messages(dir.path());
    std::fs::remove_dir_all(app.join(".gen/base")).unwrap();
    let gen_toml = std::fs::read_to_string(app.join("gen.toml")).unwrap();
    let older: String = gen_toml
        .lines()
        .filter(|l| !l.starts_with("gen_version"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(app.join("gen.toml"), &older).unwrap();

    let out = gen_ok(&app, &["field", "add", "message", "pinned:boolean"]);
    assert!(
        out.contains("merge  templates/messages/_message.html"),
        "{out}"
    );
    let partial = Tree::read(&app).text("templates/messages/_message.html");
    assert!(
        partial.contains("message-card") && partial.contains("Pinned"),
        "{partial}"
    );

    let out = gen_ok(&app, &["update"]);
    assert!(out.contains("force  gen.toml"), "{out}");
    assert!(out.contains("create  .gen/base/src/app.rs"), "{out}");
    let tree = Tree::read(&app);
    assert!(
        tree.text("gen.toml")
            .contains(&format!("gen_version = \"{}\"", env!("CARGO_PKG_VERSION")))
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));
    assert_eq!(
        gen_ok(&app, &["update"]).trim(),
        format!("the app is current with gen {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn update_merges_the_scaffolds_changes_into_your_files() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_edited_messages(dir.path());
    // The recorded base and the file stand for what an older gen rendered.
    for path in [
        "templates/messages/_message.html",
        ".gen/base/templates/messages/_message.html",
    ] {
        let full = app.join(path);
        let text = std::fs::read_to_string(&full).unwrap();
        std::fs::write(
            &full,
            text.replacen(
                "<a href=\"{{ message.edit_path() }}\">Edit</a>",
                "<a href=\"{{ message.edit_path() }}\">Change</a>",
                1,
            ),
        )
        .unwrap();
    }
    let before = Tree::read(&app);
    let dry = gen_ok(&app, &["update", "--dry-run"]);
    assert!(
        dry.contains("merge  templates/messages/_message.html"),
        "{dry}"
    );
    assert!(dry.contains("-    <a href=\"{{ message.edit_path() }}\">Change</a>\n+    <a href=\"{{ message.edit_path() }}\">Edit</a>"), "{dry}");
    assert_eq!(Tree::read(&app), before);
    gen_ok(&app, &["update", "-q"]);
    let partial = Tree::read(&app).text("templates/messages/_message.html");
    assert!(
        partial.contains(">Edit</a>") && partial.contains("message-card"),
        "{partial}"
    );
    assert!(gen_ok(&app, &["check"]).contains("0 failing"));
}

#[test]
fn an_older_gen_refuses_a_newer_app_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_room(dir.path());
    let path = app.join("gen.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let newer = text.replace(
        &format!("gen_version = \"{}\"", env!("CARGO_PKG_VERSION")),
        "gen_version = \"99.1.0\"",
    );
    assert_ne!(newer, text);
    std::fs::write(&path, newer).unwrap();
    let before = Tree::read(&app);
    for args in [
        &["update"][..],
        &["field", "add", "room", "pinned:boolean"],
        &["field", "remove", "room", "name"],
        &["resource", "note", "body:text"],
    ] {
        let run = gen_in(&app, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("gen 99.1.0")
                && run
                    .stderr
                    .contains(&format!("this gen {}", env!("CARGO_PKG_VERSION"))),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(Tree::read(&app), before, "{args:?}");
    }
}

#[test]
fn field_migrations_follow_the_database_and_sqlite_limits() {
    let dir = tempfile::tempdir().unwrap();
    gen_ok(dir.path(), &["new", "pg", "--database", "postgres", "-q"]);
    let pg = dir.path().join("pg");
    gen_ok(
        &pg,
        &["resource", "post", "title:string:unique", "body:text", "-q"],
    );
    gen_ok(
        &pg,
        &[
            "field",
            "add",
            "post",
            "price:decimal",
            "note:text:default=it's new",
            "-q",
        ],
    );
    gen_ok(&pg, &["field", "remove", "post", "title", "-q"]);
    let tree = Tree::read(&pg);
    assert_eq!(
        tree.text("migrations/0002_add_price_and_note_to_posts.sql"),
        "-- `gen field add post price:decimal note:text:default=it's new`: sqlx runs it at boot, once, after the migrations before it.\n\
         ALTER TABLE posts ADD COLUMN price NUMERIC NOT NULL DEFAULT 0;\n\
         ALTER TABLE posts ADD COLUMN note TEXT NOT NULL DEFAULT 'it''s new';\n"
    );
    // Postgres drops a column's UNIQUE constraint with it.
    assert!(
        tree.text("migrations/0003_remove_title_from_posts.sql")
            .ends_with("ALTER TABLE posts DROP COLUMN title;\n")
    );
    assert!(gen_ok(&pg, &["check"]).contains("0 failing"));

    let sqlite = dir.path().join("lite");
    gen_ok(dir.path(), &["new", "lite", "-q"]);
    gen_ok(
        &sqlite,
        &["resource", "post", "title:string:unique", "body:text", "-q"],
    );
    gen_ok(&sqlite, &["field", "add", "post", "price:decimal", "-q"]);
    assert!(
        Tree::read(&sqlite)
            .text("migrations/0002_add_price_to_posts.sql")
            .contains("ADD COLUMN price TEXT NOT NULL DEFAULT '0';")
    );
    let before = Tree::read(&sqlite);
    let run = gen_in(&sqlite, &["field", "remove", "post", "title"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("\"title:string:unique\" is UNIQUE")
            && run.stderr.contains("SQLite cannot drop"),
        "{}",
        run.stderr
    );
    assert_eq!(Tree::read(&sqlite), before);
}

/// In an app with accounts a resource belongs to the signed-in user unless it says otherwise, a
/// nested one follows its parent, and the scopes that cannot be generated are refused, naming
/// why, with nothing written.
#[test]
fn resources_of_an_app_with_accounts_are_the_users_unless_they_say_otherwise() {
    let base = tempfile::tempdir().unwrap();
    gen_ok(base.path(), &["new", "chat", "--auth", "-q"]);
    let app = base.path().join("chat");
    gen_ok(&app, &["resource", "note", "body:text", "-q"]);
    let spec = std::fs::read_to_string(app.join("specs/note.toml")).unwrap();
    assert!(spec.contains("scope = \"user\"\n"), "{spec}");
    let migration = std::fs::read_to_string(app.join("migrations/0002_create_notes.sql")).unwrap();
    assert!(
        migration.contains("user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE"),
        "{migration}"
    );
    assert!(migration.contains("ON notes (user_id, id)"), "{migration}");
    gen_ok(
        &app,
        &["resource", "comment", "body:text", "note:references", "-q"],
    );
    let spec = std::fs::read_to_string(app.join("specs/comment.toml")).unwrap();
    assert!(
        !spec.contains("scope"),
        "a nested resource follows its parent: {spec}"
    );
    let handlers = std::fs::read_to_string(app.join("src/comments/handlers.rs")).unwrap();
    assert!(
        handlers.contains("Note::find(&app.db, &current.user, note_id)"),
        "{handlers}"
    );
    gen_ok(
        &app,
        &["resource", "room", "name:string", "--authenticated", "-q"],
    );
    let spec = std::fs::read_to_string(app.join("specs/room.toml")).unwrap();
    assert!(
        spec.contains("authenticated = true\n") && !spec.contains("scope"),
        "{spec}"
    );
    gen_ok(
        &app,
        &["resource", "page", "title:string", "--public", "-q"],
    );
    let spec = std::fs::read_to_string(app.join("specs/page.toml")).unwrap();
    assert!(
        !spec.contains("scope") && !spec.contains("authenticated"),
        "{spec}"
    );
    let handlers = std::fs::read_to_string(app.join("src/pages/handlers.rs")).unwrap();
    assert!(!handlers.contains("CurrentUser"), "{handlers}");
    assert_eq!(gen_in(&app, &["check"]).code, 0);

    let before = Tree::read(&app);
    for (args, expect) in [
        (
            &[
                "resource",
                "tag",
                "name:string",
                "note:references",
                "--scope",
                "user",
            ][..],
            &[
                "`--scope user` cannot be given to \"tag\"",
                "nested under \"note\"",
            ][..],
        ),
        (
            &["resource", "reply", "body:text", "comment:references"],
            &[
                "\"reply\" cannot be nested under \"comment\"",
                "through its note",
            ],
        ),
        (
            &["resource", "task", "name:string", "user_id:integer"],
            &["\"user_id:integer\"", "scoped to the user already has"],
        ),
        (
            &[
                "resource",
                "task",
                "name:string",
                "--scope",
                "user",
                "--authenticated",
            ],
            &["--authenticated"],
        ),
    ] {
        let run = gen_in(&app, args);
        assert_eq!(run.code, 2, "gen {args:?}: {}{}", run.stdout, run.stderr);
        for needle in expect {
            assert!(run.stderr.contains(needle), "gen {args:?}: {}", run.stderr);
        }
        assert_eq!(Tree::read(&app), before, "gen {args:?} changed the tree");
    }
}
