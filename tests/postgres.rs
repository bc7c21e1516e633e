//! Compile-and-behave tier for `gen new --database postgres`, against a real PostgreSQL server
//! that the test starts on a free loopback port: the new app alone builds clean and passes its
//! tests, then evolves through `gen field add` and `gen field remove` merged into the user's
//! edits, keeping its rows across the migrations; two instances of one app share one database
//! and one `redis-server`; every field type reads back from Postgres as it does from SQLite; a
//! missing or unreachable `DATABASE_URL` stops the app with an error that names it; and
//! `sslmode=verify-full` checks the server's certificate.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::Fixture;
use support::app::{
    EventStream, Server, apps_target, cargo, cargo_with, free_port, get, post, spawn, stream_source,
};
use support::postgres::PostgresServer;
use support::redis::RedisServer;
use support::tls::issue_certificates;

/// What Turbo's fetch sends, so that the app answers with Turbo Streams instead of a redirect.
const TURBO: (&str, &str) = ("Accept", "text/vnd.turbo-stream.html, text/html");

/// Both instances sign subscriptions with it, so a page from one subscribes on the other.
const SECRET: &str = "a shared secret for both instances, long enough to sign";

/// Generates `fixture` under the test target's scratch directory and builds it in the shared
/// target directory. No other test generates these apps from here, so nothing else replaces
/// their binaries while these tests run them.
fn build(fixture: &str) -> PathBuf {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("postgres")
        .join(fixture);
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(&parent).unwrap();
    let (app, _) = Fixture::named(fixture).generate(&parent);
    cargo(&app, &["build"]);
    app
}

/// The Postgres fixture app (`pgchat`: rooms, messages, categories and every-type gadgets).
fn postgres_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| build("postgres"))
}

/// The SQLite app with the same gadgets (`kitchen`, from the every_type fixture).
fn sqlite_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| build("every_type"))
}

fn binary(name: &str) -> PathBuf {
    apps_target().join("debug").join(name)
}

/// Starts the Postgres app on `database_url` with `env` added, logging into `log`.
fn pg_instance(database_url: &str, env: &[(&str, &str)], log: &Path) -> Server {
    let mut all = vec![("DATABASE_URL", database_url), ("SECRET_KEY_BASE", SECRET)];
    all.extend_from_slice(env);
    spawn(&binary("pgchat"), postgres_app(), &all, Some(log))
}

/// `gen new --database postgres` alone, before any resource, is what a user builds first; the
/// same app then grows a resource and evolves through `gen field add` and `gen field remove`.
#[test]
fn a_new_postgres_app_is_clean_and_evolves_through_field_add_and_remove() {
    let postgres = PostgresServer::start();
    let database_url = postgres.create_database("barepg_test");
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "barepg", "--database", "postgres"]);
    let app = parent.path().join("barepg");
    cargo(&app, &["fmt", "--check"]);
    cargo(&app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    cargo_with(&app, &["test"], &[("DATABASE_URL", &database_url)]);
    assert_no_tables(&postgres, "barepg_test");

    evolve_the_app(&postgres, &app, &database_url);
}

/// The app's own tests made only temporary tables, so the database is as empty as it was made.
fn assert_no_tables(postgres: &PostgresServer, database: &str) {
    let leftovers = postgres.psql(
        database,
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    );
    assert_eq!(leftovers, "0", "the tests leave no table behind");
}

/// The Postgres half of evolving an app: a resource whose partial, form and handlers the user
/// edited (a class, an extra line, a comment, a changed redirect and the app's test that
/// follows it), then `gen field add` and
/// `gen field remove`, each merged into the edits. After each, `gen check` passes, the app is
/// formatted, clippy-clean and passes its own tests against the server, and its binary, booted
/// on a database that held rows before the change, runs the migration and still shows them,
/// with the default after the add. The lint after each change costs a check of the app's crate
/// alone (a few seconds), since the bare app's lint already checked its dependencies, and the
/// `cargo build` after `cargo test` finds the binary the tests built.
fn evolve_the_app(postgres: &PostgresServer, app: &Path, test_url: &str) {
    let mut took = Vec::new();
    support::gen_ok(app, &["resource", "message", "body:text"]);
    let partial = "templates/messages/_message.html";
    let form = "templates/messages/_form.html";
    let handlers = "src/messages/handlers.rs";
    let tests = "tests/messages.rs";
    support::edit(
        app,
        partial,
        "<dl class=\"record-fields\">",
        "<dl class=\"record-fields compact\">",
    );
    support::edit(
        app,
        partial,
        "  <div class=\"record-actions\">",
        "  <!-- actions -->\n  <div class=\"record-actions\">",
    );
    support::edit(
        app,
        form,
        "<form id=",
        "{# The message form, as we keep it. #}\n<form id=",
    );
    support::edit(
        app,
        handlers,
        "pub async fn edit(",
        "// Editing keeps the message's place in the list.\npub async fn edit(",
    );
    // After an edit without Turbo, back to the list instead of the message.
    let redirect = "let location = message.path();\n        \
                    Ok(Redirect::to(&location).into_response())\n    }\n}\n\n\
                    pub async fn destroy(";
    let changed = redirect.replace("message.path()", "Message::collection_path()");
    support::edit(app, handlers, redirect, &changed);
    let follows = "assert_eq!(updated.headers()[header::LOCATION], COLLECTION);";
    support::edit(
        app,
        tests,
        "assert_eq!(updated.headers()[header::LOCATION], RECORD);",
        follows,
    );
    let edits_kept = |app: &Path| {
        let text = std::fs::read_to_string(app.join(partial)).unwrap();
        assert!(
            text.contains("record-fields compact") && text.contains("<!-- actions -->"),
            "{text}"
        );
        let text = std::fs::read_to_string(app.join(form)).unwrap();
        assert!(
            text.contains("{# The message form, as we keep it. #}"),
            "{text}"
        );
        let text = std::fs::read_to_string(app.join(handlers)).unwrap();
        assert!(
            text.contains("// Editing keeps") && text.contains(&changed),
            "{text}"
        );
        let text = std::fs::read_to_string(app.join(tests)).unwrap();
        assert!(text.contains(follows), "{text}");
    };

    // Rows made before the change, by the app as it was.
    let development = postgres.create_database("barepg_development");
    let logs = tempfile::tempdir().unwrap();
    let boot = |log: &str| {
        spawn(
            &binary("barepg"),
            app,
            &[("DATABASE_URL", &development), ("SECRET_KEY_BASE", SECRET)],
            Some(&logs.path().join(log)),
        )
    };
    took.push(("build with the resource", cargo(app, &["build"])));
    let server = boot("before.log");
    for body in ["made before the column", "also made before it"] {
        let reply = post(server.address, "/messages", &[], &[("body", body)]);
        assert_eq!(reply.status, 303, "creating a message: {}", reply.text());
    }
    drop(server);

    let added = support::gen_ok(app, &["field", "add", "message", "pinned:boolean"]);
    for line in [
        "merge  templates/messages/_message.html",
        "merge  templates/messages/_form.html",
        "merge  tests/messages.rs",
        "create  migrations/0002_add_pinned_to_messages.sql",
    ] {
        assert!(added.contains(line), "{line} in:\n{added}");
    }
    let migration =
        std::fs::read_to_string(app.join("migrations/0002_add_pinned_to_messages.sql")).unwrap();
    assert!(
        migration
            .contains("ALTER TABLE messages ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;"),
        "{migration}"
    );
    edits_kept(app);
    let text = std::fs::read_to_string(app.join(partial)).unwrap();
    assert!(text.contains("<dt>Pinned</dt>"), "{text}");
    assert!(support::gen_ok(app, &["check"]).contains("0 failing"));
    took.push(("fmt after the add", cargo(app, &["fmt", "--check"])));
    took.push((
        "clippy after the add",
        cargo(app, &["clippy", "--all-targets", "--", "-D", "warnings"]),
    ));
    took.push((
        "test after the add",
        cargo_with(app, &["test"], &[("DATABASE_URL", test_url)]),
    ));
    assert_no_tables(postgres, "barepg_test");

    // The migration runs at boot; the rows made before it are there, unpinned.
    took.push(("build after the add", cargo(app, &["build"])));
    let server = boot("added.log");
    let page = get(server.address, "/messages").text();
    for body in ["made before the column", "also made before it"] {
        assert!(page.contains(body), "{body} in:\n{page}");
    }
    assert_eq!(
        page.matches("<dt>Pinned</dt>\n    <dd>No</dd>").count(),
        2,
        "{page}"
    );
    let reply = post(
        server.address,
        "/messages",
        &[],
        &[("body", "pinned after the column"), ("pinned", "1")],
    );
    assert_eq!(reply.status, 303, "a pinned message: {}", reply.text());
    assert_eq!(
        postgres.psql(
            "barepg_development",
            "SELECT body, pinned FROM messages ORDER BY id"
        ),
        "made before the column|f\nalso made before it|f\npinned after the column|t"
    );
    // The changed redirect is the user's, and still theirs.
    let reply = post(
        server.address,
        "/messages/1",
        &[],
        &[
            ("_method", "patch"),
            ("body", "made before the column, edited"),
        ],
    );
    assert_eq!(reply.status, 303, "an edit: {}", reply.text());
    assert_eq!(reply.header("location"), Some("/messages"));
    drop(server);

    let removed = support::gen_ok(app, &["field", "remove", "message", "pinned"]);
    for line in [
        "merge  templates/messages/_message.html",
        "merge  templates/messages/_form.html",
        "merge  tests/messages.rs",
        "create  migrations/0003_remove_pinned_from_messages.sql",
    ] {
        assert!(removed.contains(line), "{line} in:\n{removed}");
    }
    edits_kept(app);
    let text = std::fs::read_to_string(app.join(partial)).unwrap();
    assert!(!text.contains("Pinned"), "{text}");
    assert!(support::gen_ok(app, &["check"]).contains("0 failing"));
    took.push(("fmt after the remove", cargo(app, &["fmt", "--check"])));
    took.push((
        "clippy after the remove",
        cargo(app, &["clippy", "--all-targets", "--", "-D", "warnings"]),
    ));
    took.push((
        "test after the remove",
        cargo_with(app, &["test"], &[("DATABASE_URL", test_url)]),
    ));
    assert_no_tables(postgres, "barepg_test");

    took.push(("build after the remove", cargo(app, &["build"])));
    let server = boot("removed.log");
    let page = get(server.address, "/messages").text();
    for body in [
        "made before the column, edited",
        "also made before it",
        "pinned after the column",
    ] {
        assert!(page.contains(body), "{body} in:\n{page}");
    }
    assert!(!page.contains("Pinned"), "{page}");
    assert_eq!(
        postgres.psql(
            "barepg_development",
            "SELECT count(*) FROM information_schema.columns \
             WHERE table_name = 'messages' AND column_name = 'pinned'"
        ),
        "0",
        "the column is gone"
    );
    assert_eq!(
        postgres.psql(
            "barepg_development",
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        ),
        "3",
        "the table's migration, the add and the remove ran once each"
    );
    for (step, duration) in took {
        println!(
            "evolving a Postgres app: {step} took {:.1}s",
            duration.as_secs_f64()
        );
    }
}

#[test]
fn two_instances_share_one_database_and_broadcast_through_redis() {
    let postgres = PostgresServer::start();
    let database_url = postgres.create_database("pgchat_production");
    let redis = RedisServer::start(free_port());
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let logs = tempfile::tempdir().unwrap();
    postgres_app();

    // Both instances boot at once on an empty database, as two machines do after a deploy: the
    // migrations run once, under sqlx's lock in Postgres, and neither instance fails.
    let env = [("REDIS_URL", redis_url.as_str())];
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| pg_instance(&database_url, &env, &logs.path().join("a.log")));
        let b = scope.spawn(|| pg_instance(&database_url, &env, &logs.path().join("b.log")));
        (a.join().unwrap(), b.join().unwrap())
    });
    let migrations = std::fs::read_dir(postgres_app().join("migrations"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "sql")
        })
        .count();
    assert!(migrations >= 4, "the app has its migrations: {migrations}");
    assert_eq!(
        postgres.psql(
            "pgchat_production",
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        ),
        migrations.to_string(),
        "each migration was applied once"
    );
    for server in [&a, &b] {
        assert_eq!(get(server.address, "/up").status, 200, "/up");
    }

    // A room created on A is listed on B's page: the two instances read one database.
    let reply = post(a.address, "/rooms", &[], &[("name", "Shared lobby")]);
    assert_eq!(reply.status, 303, "creating a room on A: {}", reply.text());
    let room = reply.header("location").expect("a redirect").to_owned();
    let rooms_on_b = get(b.address, "/rooms").text();
    assert!(rooms_on_b.contains("Shared lobby"), "{rooms_on_b}");

    // A message created on A reaches B's subscriber, and B's page lists it.
    let messages = format!("{room}/messages");
    let page_b = get(b.address, &messages);
    assert_eq!(page_b.status, 200);
    let mut on_b = EventStream::open(b.address, &stream_source(&page_b.text()), None);
    let mut on_a = subscribe(a.address, &messages);
    let appended = create_message(a.address, &messages, "hello from A, stored in Postgres");
    assert_eq!(on_a.next_event().data, appended, "A's subscriber");
    assert_eq!(on_b.next_event().data, appended, "B's subscriber");
    let listed = get(b.address, &messages).text();
    assert!(
        listed.contains("hello from A, stored in Postgres"),
        "B lists the message A created: {listed}"
    );
    assert_eq!(
        postgres.psql("pgchat_production", "SELECT body FROM messages"),
        "hello from A, stored in Postgres"
    );

    // And the other way round, with the id Postgres gave it.
    let second = create_message(b.address, &messages, "and back from B");
    assert_eq!(on_a.next_event().data, second);
    assert_eq!(on_b.next_event().data, second);
    assert!(second.contains("message_2"), "{second}");
    assert!(
        get(a.address, &format!("{messages}/2"))
            .text()
            .contains("and back from B")
    );
}

/// Creates a message as Turbo does and returns the reply's `append` element, which is the bytes
/// every subscriber must receive.
fn create_message(address: SocketAddr, messages: &str, body: &str) -> String {
    let reply = post(address, messages, &[TURBO], &[("body", body)]);
    assert_eq!(reply.status, 200, "a Turbo create: {}", reply.text());
    let text = reply.text();
    let end = text.find("</turbo-stream>").expect("an append element") + "</turbo-stream>".len();
    text[..end].to_owned()
}

fn subscribe(address: SocketAddr, path: &str) -> EventStream {
    let page = get(address, path);
    assert_eq!(page.status, 200);
    EventStream::open(address, &stream_source(&page.text()), None)
}

/// A gadget with a value in every field, chosen where the databases could differ: the edges of
/// the integer types, a float without an exact binary form, a decimal longer than any float (and
/// not in canonical form), a datetime with seconds, unordered JSON with a fraction in it, and
/// text with quotes, markup, accents and a line break.
const EVERY_FIELD: &[(&str, &str)] = &[
    ("name", "Zoë's \"gadget\" <b>one</b>"),
    ("notes", "first line\nsecond line & more"),
    ("count", "2147483647"),
    ("serial", "-9223372036854775808"),
    ("weight", "0.1"),
    ("price", "+0012345678901234567890.1234567890"),
    ("active", "1"),
    ("released_on", "2024-02-29"),
    ("checked_at", "2026-03-29T01:30:45"),
    ("token", "6F1C2D3E-4B5A-4C6D-8E7F-001122334455"),
    (
        "settings",
        r#"{"b": [1, 2.5, "x", true], "a": null, "c": {"é": -0.001}}"#,
    ),
];

/// What the show page says for each field of [`EVERY_FIELD`]: the typed value read back and
/// written out, which is the same on both databases.
const SHOWN: &[(&str, &str)] = &[
    ("Name", "Zoë's \"gadget\" <b>one</b>"),
    ("Notes", "first line\nsecond line & more"),
    ("Count", "2147483647"),
    ("Serial", "-9223372036854775808"),
    ("Weight", "0.1"),
    ("Price", "12345678901234567890.1234567890"),
    ("Active", "Yes"),
    ("Released on", "2024-02-29"),
    ("Checked at", "2026-03-29 01:30:45 UTC"),
    ("Token", "6f1c2d3e-4b5a-4c6d-8e7f-001122334455"),
    (
        "Settings",
        r#"{"a":null,"b":[1,2.5,"x",true],"c":{"é":-0.001}}"#,
    ),
];

/// A gadget with every optional field left blank and the checkbox unchecked.
const BLANKS: &[(&str, &str)] = &[
    ("name", "plain"),
    ("notes", ""),
    ("count", "-2147483648"),
    ("serial", ""),
    ("weight", "-12.75"),
    ("price", ""),
    ("released_on", ""),
    ("checked_at", "1970-01-01T00:00"),
    ("token", "00000000-0000-0000-0000-000000000000"),
    ("settings", ""),
];

const SHOWN_BLANK: &[(&str, &str)] = &[
    ("Name", "plain"),
    ("Notes", ""),
    ("Count", "-2147483648"),
    ("Serial", ""),
    ("Weight", "-12.75"),
    ("Price", ""),
    ("Active", "No"),
    ("Released on", ""),
    ("Checked at", "1970-01-01 00:00:00 UTC"),
    ("Token", "00000000-0000-0000-0000-000000000000"),
    ("Settings", ""),
];

#[test]
fn every_field_type_round_trips_through_sqlite_and_postgres_alike() {
    let postgres = PostgresServer::start();
    let database_url = postgres.create_database("pgchat_types");
    let logs = tempfile::tempdir().unwrap();
    let on_postgres = pg_instance(&database_url, &[], &logs.path().join("pg.log"));
    let on_sqlite = spawn(
        &binary("kitchen"),
        sqlite_app(),
        &[("SECRET_KEY_BASE", SECRET)],
        Some(&logs.path().join("sqlite.log")),
    );

    let mut shown = Vec::new();
    for (database, server) in [("postgres", &on_postgres), ("sqlite", &on_sqlite)] {
        let reply = post(server.address, "/categories", &[], &[("name", "Tools")]);
        assert_eq!(
            reply.status,
            303,
            "{database}: a category: {}",
            reply.text()
        );
        let mut records = Vec::new();
        for form in [EVERY_FIELD, BLANKS] {
            let reply = post(server.address, "/categories/1/gadgets", &[], form);
            assert_eq!(reply.status, 303, "{database}: a gadget: {}", reply.text());
            let location = reply.header("location").expect("a redirect to the gadget");
            let page = get(server.address, location);
            assert_eq!(page.status, 200, "{database}: {location}");
            records.push(fields(&page.text()));
        }
        assert_eq!(records[0], pairs(SHOWN), "{database}: every field");
        assert_eq!(records[1], pairs(SHOWN_BLANK), "{database}: blanks");
        shown.push(records);
    }
    assert_eq!(shown[0], shown[1], "Postgres and SQLite show the same");

    // The values are stored as Postgres's own types, not as text.
    let types = postgres.psql(
        "pgchat_types",
        "SELECT pg_typeof(price)::text || ' ' || pg_typeof(token)::text || ' ' || \
         pg_typeof(settings)::text || ' ' || pg_typeof(checked_at)::text || ' ' || \
         pg_typeof(weight)::text FROM gadgets WHERE id = 1",
    );
    assert_eq!(
        types,
        "numeric uuid jsonb timestamp with time zone double precision"
    );
    assert_eq!(
        postgres.psql("pgchat_types", "SELECT price + 1 FROM gadgets WHERE id = 1"),
        "12345678901234567891.1234567890",
        "the decimal is exact in Postgres"
    );
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect()
}

/// The label and the unescaped value of every field on a record's page, in order.
fn fields(page: &str) -> Vec<(String, String)> {
    let list = support::app::between(page, r#"<dl class="record-fields">"#, "</dl>")
        .expect("the record's fields");
    list.split("<dt>")
        .skip(1)
        .map(|item| {
            let (label, rest) = item.split_once("</dt>").expect("a </dt>");
            let value = rest
                .split_once('>')
                .and_then(|(_, value)| value.split_once("</dd>"))
                .expect("a <dd> after each <dt>")
                .0;
            (unescape(label), unescape(value))
        })
        .collect()
}

/// Undoes askama's HTML escaping: numeric character references (`&#60;`) and the named ones.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').expect("an entity ends with ';'");
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => entity
                .strip_prefix('#')
                .and_then(|code| code.parse::<u32>().ok())
                .and_then(char::from_u32)
                .unwrap_or_else(|| panic!("an unknown entity &{entity};")),
        };
        out.push(decoded);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Runs the app's binary until it exits, which it must within `limit`, and returns its stderr.
fn boot_failure(env: &[(&str, &str)], limit: Duration) -> String {
    let started = Instant::now();
    let output = Command::new(binary("pgchat"))
        .current_dir(postgres_app())
        .env("PORT", free_port().to_string())
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("APP_ENV")
        .env_remove("SSL_CERT_FILE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the app's binary runs");
    assert!(started.elapsed() < limit, "it took {:?}", started.elapsed());
    assert!(!output.status.success(), "the app must not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_missing_or_unreachable_database_stops_the_app_with_the_reason() {
    postgres_app();
    let missing = boot_failure(&[], Duration::from_secs(10));
    assert!(
        missing.contains("error: DATABASE_URL: must be set") && missing.contains("postgres://"),
        "{missing}"
    );

    let url = format!("postgres://app:hunter2@127.0.0.1:{}/pgchat", free_port());
    let unreachable = boot_failure(&[("DATABASE_URL", &url)], Duration::from_secs(30));
    assert!(
        unreachable
            .contains("error: DATABASE_URL: cannot connect to postgres://app:***@127.0.0.1:"),
        "{unreachable}"
    );
    assert!(!unreachable.contains("hunter2"), "{unreachable}");

    let sqlite = boot_failure(
        &[("DATABASE_URL", "sqlite://storage/app.sqlite3")],
        Duration::from_secs(10),
    );
    assert!(
        sqlite.contains("error: DATABASE_URL: expected a postgres:// URL"),
        "{sqlite}"
    );
}

#[test]
fn up_answers_503_while_postgres_is_down() {
    let mut postgres = PostgresServer::start();
    let database_url = postgres.create_database("pgchat_up");
    let logs = tempfile::tempdir().unwrap();
    let app = pg_instance(&database_url, &[], &logs.path().join("up.log"));
    assert_eq!(get(app.address, "/up").status, 200);
    postgres.stop();
    let down = get(app.address, "/up");
    assert_eq!(down.status, 503, "{}", down.text());
    assert_eq!(down.text(), "database unavailable");
    assert_eq!(
        get(app.address, "/").status,
        200,
        "pages without records still answer"
    );
}

#[test]
fn tls_to_postgres_checks_the_servers_certificate() {
    let certs_dir = tempfile::tempdir().unwrap();
    let certs = issue_certificates(certs_dir.path());
    let postgres = PostgresServer::start_with_tls(&certs.cert, &certs.key);
    let plain = postgres.create_database("pgchat_tls");
    let verified = format!("{plain}?sslmode=verify-full&sslrootcert={}", certs.ca);
    let logs = tempfile::tempdir().unwrap();
    let app = pg_instance(&verified, &[], &logs.path().join("tls.log"));
    assert_eq!(get(app.address, "/up").status, 200);
    let encrypted = postgres.psql(
        "pgchat_tls",
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE ssl AND datname = 'pgchat_tls' AND application_name <> 'psql'",
    );
    assert_ne!(encrypted, "0", "the app's connections are encrypted");

    // Without the CA that signed it, the server's certificate is refused at boot.
    let unverified = format!("{plain}?sslmode=verify-full");
    let refused = boot_failure(&[("DATABASE_URL", &unverified)], Duration::from_secs(30));
    assert!(
        refused.contains("error: DATABASE_URL: cannot connect to postgres://postgres@127.0.0.1:"),
        "{refused}"
    );
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
}
