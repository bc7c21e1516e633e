//! Compile-and-behave tier for `gen new`: the fresh app builds, passes its own tests, is clean under
//! rustfmt and clippy, and its binary serves pages, Turbo, `/up` and signed live streams over HTTP.

mod support;

use std::path::Path;

use support::app::{EventStream, apps_target, cargo, get, request, start, stream_source};

#[test]
fn a_new_app_builds_passes_its_tests_and_serves() {
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "chat"]);
    let app = parent.path().join("chat");

    let build = cargo(&app, &["build"]);
    cargo(&app, &["test"]);
    cargo(&app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    cargo(&app, &["fmt", "--check"]);
    println!(
        "benchmark: `cargo build` of a fresh app took {:.1}s (target dir {}; cold only when it is empty)",
        build.as_secs_f64(),
        apps_target().display()
    );

    let server = start(&app, "chat");
    let home = get(server.address, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains(
        r#"<script type="module" src="/static/vendor/turbo-8.0.23/turbo.es2017-esm.js"></script>"#
    ));
    assert_eq!(get(server.address, "/up").status, 200);

    let turbo = get(
        server.address,
        "/static/vendor/turbo-8.0.23/turbo.es2017-esm.js",
    );
    assert_eq!(turbo.status, 200);
    assert_eq!(
        turbo.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scaffolds/app/static/vendor/turbo-8.0.23/turbo.es2017-esm.js"),
    )
    .unwrap();
    assert!(
        turbo.body == shipped,
        "the served Turbo is the shipped file, byte for byte"
    );
    assert_eq!(get(server.address, "/static/app.css").status, 200);

    for forged in [
        "/turbo/streams",
        "/turbo/streams?stream=messages",
        "/turbo/streams?stream=messages&signature=4102444800--00ff",
        "/turbo/streams/ws?stream=messages&signature=4102444800--00ff",
    ] {
        let refused = get(server.address, forged);
        assert_eq!(refused.status, 403, "{forged}");
        assert_eq!(
            refused.text(),
            "forbidden",
            "nothing is streamed for {forged}"
        );
    }

    let cross_site = request(
        server.address,
        "POST",
        "/",
        &[("Sec-Fetch-Site", "cross-site")],
        "",
    );
    assert_eq!(cross_site.status, 403);
}

#[test]
fn a_running_app_streams_a_resource_live_and_replays_after_a_reconnect() {
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "live"]);
    let app = parent.path().join("live");
    support::gen_ok(&app, &["resource", "message", "body:text"]);
    cargo(&app, &["build"]);

    let server = start(&app, "live");
    let index = get(server.address, "/messages");
    assert_eq!(index.status, 200);
    let page = index.text();
    let src = stream_source(&page);

    let mut stream = EventStream::open(server.address, &src, None);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let created = request(
        server.address,
        "POST",
        "/messages",
        &form,
        "body=first+live+message",
    );
    assert!(created.status < 400, "create answered {}", created.status);
    let seen = stream.event_containing("first live message");
    drop(stream);

    // Published while no one is connected: a browser that reconnects with the last id it saw
    // gets it replayed.
    let created = request(
        server.address,
        "POST",
        "/messages",
        &form,
        "body=missed+while+away",
    );
    assert!(created.status < 400, "create answered {}", created.status);
    let mut stream = EventStream::open(server.address, &src, Some(&seen));
    stream.event_containing("missed while away");
    assert!(
        !stream.received().contains("first live message"),
        "events up to Last-Event-ID are not sent again"
    );

    let tampered = src.replace("signature=", "signature=1");
    assert_eq!(get(server.address, &tampered).status, 403);
    drop(stream);
    drop(server);

    evolve_the_app(&app);
}

/// The same app as a user keeps it: files edited by hand, then `gen update` from an older
/// version's render (a recorded base edited to stand in for it), then `gen field add` and
/// `gen field remove`, each merged into the edits, and the app still formatted, clippy-clean and
/// passing its own tests, with the rows made before the migration still there.
fn evolve_the_app(app: &Path) {
    let edit = |path: &str, from: &str, to: &str| support::edit(app, path, from, to);
    let mut took = Vec::new();
    // An older gen rendered the partial without the `record` class; the user took that render,
    // and edited it and the form and the handlers.
    let partial = "templates/messages/_message.html";
    for path in [partial.to_owned(), format!(".gen/base/{partial}")] {
        edit(&path, "class=\"record\"", "class=\"record-old\"");
    }
    edit(
        partial,
        "  <div class=\"record-actions\">",
        "  <!-- actions -->\n  <div class=\"record-actions\">",
    );
    edit(
        partial,
        "Delete this message?",
        "Really delete this message?",
    );
    edit(
        "templates/messages/_form.html",
        "<form id=",
        "{# The message form, with our own hint below. #}\n<form id=",
    );
    let handlers = "src/messages/handlers.rs";
    edit(
        handlers,
        "pub async fn edit(",
        "// Editing keeps the message's place in the list.\npub async fn edit(",
    );
    // An edit without Turbo goes back to the list, and the app's own test follows it.
    let redirect = "let location = message.path();\n        \
                    Ok(Redirect::to(&location).into_response())\n    }\n}\n\n\
                    pub async fn destroy(";
    let changed = redirect.replace("message.path()", "Message::collection_path()");
    edit(handlers, redirect, &changed);
    let follows = "assert_eq!(updated.headers()[header::LOCATION], COLLECTION);";
    edit(
        "tests/messages.rs",
        "assert_eq!(updated.headers()[header::LOCATION], RECORD);",
        follows,
    );
    let redirect_kept = || {
        let text = std::fs::read_to_string(app.join(handlers)).unwrap();
        assert!(text.contains(&changed), "{text}");
        let text = std::fs::read_to_string(app.join("tests/messages.rs")).unwrap();
        assert!(text.contains(follows), "{text}");
    };

    let updated = support::gen_ok(app, &["update"]);
    assert!(
        updated.contains("merge  templates/messages/_message.html"),
        "{updated}"
    );
    let text = std::fs::read_to_string(app.join(partial)).unwrap();
    assert!(
        text.contains("class=\"record\"") && text.contains("<!-- actions -->"),
        "{text}"
    );

    let added = support::gen_ok(app, &["field", "add", "message", "pinned:boolean"]);
    for line in [
        "merge  templates/messages/_message.html",
        "merge  templates/messages/_form.html",
        "merge  tests/messages.rs",
        "create  migrations/0002_add_pinned_to_messages.sql",
    ] {
        assert!(added.contains(line), "{line} in:\n{added}");
    }
    let text = std::fs::read_to_string(app.join(partial)).unwrap();
    assert!(
        text.contains("Pinned") && text.contains("Really delete"),
        "{text}"
    );
    redirect_kept();
    assert!(support::gen_ok(app, &["check"]).contains("0 failing"));
    took.push(("fmt after the add", cargo(app, &["fmt", "--check"])));
    took.push((
        "clippy after the add",
        cargo(app, &["clippy", "--all-targets", "--", "-D", "warnings"]),
    ));
    took.push(("test after the add", cargo(app, &["test"])));

    // The messages created before the migration are there after it ran at boot, unpinned.
    took.push(("build after the add", cargo(app, &["build"])));
    let server = start(app, "live");
    let page = get(server.address, "/messages").text();
    assert!(page.contains("first live message"), "{page}");
    assert!(page.contains("<dt>Pinned</dt>\n    <dd>No</dd>"), "{page}");
    drop(server);

    let removed = support::gen_ok(app, &["field", "remove", "message", "pinned"]);
    assert!(
        removed.contains("merge  templates/messages/_message.html"),
        "{removed}"
    );
    assert!(
        removed.contains("merge  tests/messages.rs")
            && removed.contains("create  migrations/0003_remove_pinned_from_messages.sql"),
        "{removed}"
    );
    let text = std::fs::read_to_string(app.join(partial)).unwrap();
    assert!(
        !text.contains("Pinned") && text.contains("Really delete"),
        "{text}"
    );
    redirect_kept();
    assert!(support::gen_ok(app, &["check"]).contains("0 failing"));
    took.push(("fmt after the remove", cargo(app, &["fmt", "--check"])));
    took.push((
        "clippy after the remove",
        cargo(app, &["clippy", "--all-targets", "--", "-D", "warnings"]),
    ));
    took.push(("test after the remove", cargo(app, &["test"])));
    took.push(("build after the remove", cargo(app, &["build"])));
    let server = start(app, "live");
    let page = get(server.address, "/messages").text();
    assert!(
        page.contains("missed while away") && !page.contains("Pinned"),
        "{page}"
    );
    for (step, duration) in took {
        println!(
            "evolving a SQLite app: {step} took {:.1}s",
            duration.as_secs_f64()
        );
    }
}
