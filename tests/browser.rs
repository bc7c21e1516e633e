//! The browser tier: the app of `fixtures/live.toml` in real headless Chromium. Two windows on one
//! room see each other's changes without a reload; an optimistic create shows at once and becomes
//! the one real node; a page whose connection was cut catches up by replay, or by a morphing
//! refresh when the gap is older than the history; the lazy count frame revalidates with a 304; a
//! `refresh` resource morphs other pages and keeps their scroll and drafts; markup typed into a
//! form stays text; a room's page lists its messages a page at a time, loading earlier pages as
//! the reader scrolls up, and a room of 10,000 messages shows each exactly once across its pages.
//! With the accounts app of `fixtures/auth.toml`: a note made in one window appears live in the
//! same user's other window and never in another user's, and signing out in one window closes
//! the other's stream and sends its next visit to the sign-in page.
//! With the gallery app of `fixtures/attachments.toml`: a PNG attached to a new photo in one
//! window shows as its thumbnail in another window on the same album, live and through the same
//! partial, and the thumbnail's link opens the original; a large upload shows a progress bar
//! that fills until the reply is rendered.
//! Screenshots of the first scenario go to `target/e2e/`.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Fixture;
use support::app::{Server, apps_target, between, cargo, get, post, request, spawn};
use support::browser::{Driver, Page, WAIT};
use support::relay::Relay;

const SECRET: &str = "a secret for the browser tests that is long enough to sign";

/// Two Chromiums, the app and the test share two cores: one scenario at a time keeps the
/// waits below meaningful.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The generated app, built once for every scenario.
fn live_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let parent = tempfile::tempdir().unwrap().keep();
        let (app, _) = Fixture::named("live").generate(&parent);
        cargo(&app, &["build"]);
        app
    })
}

/// The accounts app, built once for its scenario.
fn accounts_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let parent = tempfile::tempdir().unwrap().keep();
        let (app, _) = Fixture::named("auth").generate(&parent);
        cargo(&app, &["build"]);
        app
    })
}

/// The gallery app, built once for its scenario.
fn gallery_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let parent = tempfile::tempdir().unwrap().keep();
        let (app, _) = Fixture::named("attachments").generate(&parent);
        cargo(&app, &["build"]);
        app
    })
}

/// Starts the app on a database of its own, named after the scenario, with `env` on top.
fn serve(scenario: &str, env: &[(&str, &str)], log: Option<&Path>) -> Server {
    let database = format!("sqlite://storage/{scenario}.sqlite3");
    let mut vars = vec![("SECRET_KEY_BASE", SECRET), ("DATABASE_URL", &database)];
    vars.extend_from_slice(env);
    let app = live_app();
    let _ = std::fs::remove_file(app.join(format!("storage/{scenario}.sqlite3")));
    spawn(&apps_target().join("debug/live"), app, &vars, log)
}

/// Creates a room through its form and returns the path of its messages.
fn room(address: SocketAddr, name: &str) -> String {
    let reply = post(address, "/rooms", &[], &[("name", name)]);
    assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
    format!("{}/messages", reply.header("location").unwrap())
}

/// Creates a message the way a browser without JavaScript does, with a fresh client id.
fn create_message(address: SocketAddr, messages: &str, body: &str) {
    let form = get(address, &format!("{messages}/new")).text();
    let client_id = client_id(&form);
    let reply = post(
        address,
        messages,
        &[],
        &[("client_id", &client_id), ("body", body)],
    );
    assert_eq!(reply.status, 303, "creating a message: {}", reply.text());
}

/// The client id a message form carries.
fn client_id(form: &str) -> String {
    support::app::between(form, r##"name="client_id" value=""##, "\"")
        .expect("the form carries a client id")
        .to_owned()
}

fn url(address: SocketAddr, path: &str) -> String {
    format!("http://{address}{path}")
}

/// Marks the window, so that a full reload (which starts a new window) is seen, and counts
/// Turbo's page loads and morphs from now on.
async fn mark(page: &Page) {
    page.run(
        r##"window.__marker = "this window";
           window.__loads = 0;
           window.__morphs = 0;
           document.addEventListener("turbo:load", () => window.__loads++);
           document.addEventListener("turbo:morph", () => window.__morphs++);"##,
        Vec::new(),
    )
    .await;
}

/// The window is the one [`mark`] marked, loaded once by the browser.
async fn assert_not_reloaded(page: &Page, who: &str) {
    let marker = page.eval("window.__marker").await;
    assert_eq!(marker, json!("this window"), "{who} was reloaded");
    let navigations = page
        .eval(r##"performance.getEntriesByType("navigation").length"##)
        .await;
    assert_eq!(navigations, json!(1), "{who} navigated");
}

/// Two windows on `path`, each with its live stream connected.
async fn two_windows(driver: &Driver, address: SocketAddr, path: &str) -> (Page, Page) {
    let (a, b) = (driver.page().await, driver.page().await);
    for page in [&a, &b] {
        page.goto(&url(address, path)).await;
        wait_connected(page, "a page").await;
    }
    (a, b)
}

/// Waits until the page's `<turbo-stream-source>` has its `EventSource` open.
async fn wait_connected(page: &Page, who: &str) {
    page.wait_for(
        &format!("{who}'s stream to connect"),
        r##"document.querySelector("turbo-stream-source")?.streamSource?.readyState === 1"##,
    )
    .await;
}

/// The ids of the records listed in `list`, in page order.
async fn record_ids(page: &Page, list: &str) -> Vec<String> {
    let ids = page
        .run(
            "return [...document.getElementById(arguments[0]).children].map((node) => node.id);",
            vec![json!(list)],
        )
        .await;
    serde_json::from_value(ids).unwrap()
}

/// The `id` and inner HTML of the element with id `id`, or null.
async fn node(page: &Page, id: &str) -> Value {
    page.run(
        "const node = document.getElementById(arguments[0]);
         return node && [node.id, node.className, node.innerHTML];",
        vec![json!(id)],
    )
    .await
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e")
}

/// Scenario 1: page A creates, edits and deletes a message; page B, on the same room, shows
/// each change without a navigation, with the same node as A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_in_one_window_appear_live_in_another() {
    let _serial = SERIAL.lock().await;
    let server = serve("live_updates", &[], None);
    let messages = room(server.address, "Lobby");
    let list = "messages_room_1";
    let driver = Driver::start();
    let (a, b) = two_windows(&driver, server.address, &messages).await;
    mark(&a).await;
    mark(&b).await;

    a.type_into("#new_message_body", "Hello from A").await;
    a.click("#new_message button[type=submit]").await;
    let id = b
        .wait_for(
            "the message on B",
            &format!(r##"document.querySelector("#{list} > turbo-frame.record")?.id"##),
        )
        .await;
    let id = id.as_str().unwrap().to_owned();
    a.wait_for(
        "the confirmed message on A",
        &format!(r##"document.getElementById("{id}")?.className === "record""##),
    )
    .await;
    let on_a = node(&a, &id).await;
    assert_eq!(node(&b, &id).await, on_a, "B holds the same node as A");
    assert!(on_a[2].as_str().unwrap().contains("Hello from A"));
    assert_eq!(record_ids(&b, list).await, std::slice::from_ref(&id));
    for page in [&a, &b] {
        page.wait_for(
            "the count to follow the list",
            r##"document.getElementById("summary_messages_room_1").textContent === "1 message""##,
        )
        .await;
    }
    a.screenshot(&screenshots().join("live-updates-a.png"))
        .await;
    b.screenshot(&screenshots().join("live-updates-b.png"))
        .await;

    // Edit in place on A: the record's frame becomes its form, and the reply replaces it.
    a.click(&format!(r##"#{id} a[href$="/edit"]"##)).await;
    let edit_field = format!("#edit_{id}_body");
    a.wait_for(
        "the edit form on A",
        &format!(r##"document.querySelector("{edit_field}")"##),
    )
    .await;
    a.type_into(&edit_field, "Edited on A").await;
    a.click(&format!("#edit_{id} button[type=submit]")).await;
    b.wait_for(
        "the edit on B",
        &format!(r##"document.getElementById("{id}")?.textContent.includes("Edited on A")"##),
    )
    .await;
    a.wait_for(
        "the edited record on A",
        &format!(r##"document.getElementById("{id}")?.querySelector("dl")?.textContent.includes("Edited on A")"##),
    )
    .await;
    assert_eq!(node(&b, &id).await, node(&a, &id).await);

    // Delete on A, answering Turbo's confirmation as the user would.
    a.run("window.confirm = () => true;", Vec::new()).await;
    a.click(&format!("#{id} .record-actions button[type=submit]"))
        .await;
    b.wait_for(
        "the deletion on B",
        &format!(r##"document.getElementById("{id}") === null"##),
    )
    .await;
    a.wait_for(
        "the deletion on A",
        &format!(r##"document.getElementById("{id}") === null"##),
    )
    .await;

    assert_not_reloaded(&b, "B").await;
    assert_eq!(b.eval("window.__loads").await, json!(0), "B made no visit");
    a.close().await;
    b.close().await;
}

/// Scenario 2: an optimistic create shows on A at once, pending, under the id the server then
/// gives it; the reply and the broadcast leave exactly one node for it on A and on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optimistic_create_shows_at_once_and_stays_one_node() {
    let _serial = SERIAL.lock().await;
    let server = serve("optimistic", &[], None);
    let messages = room(server.address, "Lobby");
    let list = "messages_room_1";
    let driver = Driver::start();
    let (a, b) = two_windows(&driver, server.address, &messages).await;
    let pending_id = a
        .eval(r##"document.getElementById("new_message").dataset.optimisticId"##)
        .await;
    let client_id = a
        .eval(r##"document.querySelector("#new_message input[name=client_id]").value"##)
        .await;
    assert_eq!(
        pending_id,
        json!(format!("message_{}", client_id.as_str().unwrap()))
    );
    let pending_id = pending_id.as_str().unwrap().to_owned();

    // Every node added to A's list, and the most nodes ever seen at once with one id.
    a.run(
        r##"const list = document.getElementById(arguments[0]);
           window.__added = [];
           window.__most = 0;
           new MutationObserver((records) => {
             for (const record of records)
               for (const node of record.addedNodes)
                 if (node.nodeType === 1) window.__added.push([node.id, node.className]);
             for (const node of list.children) {
               const same = document.querySelectorAll(`[id="${node.id}"]`).length;
               window.__most = Math.max(window.__most, same);
             }
           }).observe(list, { childList: true });"##,
        vec![json!(list)],
    )
    .await;

    a.type_into("#new_message_body", "Sent optimistically")
        .await;
    a.click("#new_message button[type=submit]").await;
    b.wait_for(
        "the broadcast on B",
        &format!(r##"document.getElementById("{pending_id}")?.className === "record""##),
    )
    .await;
    a.wait_for(
        "the reply on A",
        &format!(r##"document.getElementById("{pending_id}")?.className === "record""##),
    )
    .await;

    let added = a.eval("window.__added").await;
    assert_eq!(
        added[0],
        json!([pending_id, "record pending"]),
        "A showed the message as pending first: {added}"
    );
    assert!(
        added
            .as_array()
            .unwrap()
            .iter()
            .all(|node| node[0] == json!(pending_id)),
        "every node added on A was this message: {added}"
    );
    assert_eq!(a.eval("window.__most").await, json!(1), "never two nodes");
    for (page, who) in [(&a, "A"), (&b, "B")] {
        assert_eq!(
            record_ids(page, list).await,
            std::slice::from_ref(&pending_id),
            "{who}"
        );
    }
    assert_eq!(node(&a, &pending_id).await, node(&b, &pending_id).await);
    // The form was replaced by a blank one with a fresh client id for the next message.
    let next = a
        .eval(r##"document.getElementById("new_message").dataset.optimisticId"##)
        .await;
    assert_ne!(next, json!(pending_id));
    a.close().await;
    b.close().await;
}

/// Scenario 3: page B's connection is cut while messages are created; when it returns, B shows
/// each of them once, replayed from the stream's history, without a reload. When the gap is
/// older than the history, B is sent a refresh and morphs to the current list instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_whose_connection_was_cut_catches_up() {
    let _serial = SERIAL.lock().await;
    let driver = Driver::start();
    // A history of 4 events holds a gap of 3 but not one of 6.
    for (scenario, missed, replayed) in [("catch_up", 3, true), ("catch_up_refresh", 6, false)] {
        let server = serve(scenario, &[("STREAM_HISTORY", "4")], None);
        let relay = Relay::start(server.address.port());
        let through_relay = SocketAddr::from(([127, 0, 0, 1], relay.port));
        let messages = room(server.address, "Lobby");
        let list = "messages_room_1";
        let b = driver.page().await;
        b.goto(&url(through_relay, &messages)).await;
        wait_connected(&b, "B").await;
        mark(&b).await;
        create_message(server.address, &messages, "Before the cut");
        b.wait_for(
            "the first message on B",
            &format!(r##"document.getElementById("{list}").children.length === 1"##),
        )
        .await;

        relay.cut();
        b.wait_for(
            "B to notice the cut",
            r##"document.querySelector("turbo-stream-source").streamSource.readyState !== 1"##,
        )
        .await;
        for n in 1..=missed {
            create_message(server.address, &messages, &format!("Missed {n}"));
        }
        relay.restore();

        let expected = missed + 1;
        b.wait_for(
            &format!("{missed} missed messages on B"),
            &format!(r##"document.getElementById("{list}").children.length === {expected}"##),
        )
        .await;
        // Anything replayed twice would arrive right behind the rest.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ids = record_ids(&b, list).await;
        assert_eq!(ids.len(), expected, "each message once: {ids:?}");
        let text = b
            .run(
                "return document.getElementById(arguments[0]).textContent;",
                vec![json!(list)],
            )
            .await;
        for n in 1..=missed {
            assert!(text.as_str().unwrap().contains(&format!("Missed {n}")));
        }
        assert_not_reloaded(&b, "B").await;
        if replayed {
            assert_eq!(
                b.eval("window.__morphs").await,
                json!(0),
                "replayed, not refreshed"
            );
        } else {
            assert_eq!(
                b.eval("window.__morphs").await,
                json!(1),
                "one morphing refresh"
            );
        }
        b.close().await;
    }
}

/// Scenario 4: the index's count is a lazy frame. It arrives after the page, reloads when the
/// list changes, and the browser revalidates it: unchanged, the server answers 304.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lazy_count_frame_loads_after_the_page_and_revalidates() {
    let _serial = SERIAL.lock().await;
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("app.log");
    let server = serve("lazy_frame", &[("RUST_LOG", "info")], Some(&log));
    let messages = room(server.address, "Lobby");
    let summary = format!("{messages}/summary");
    let frame = "summary_messages_room_1";

    // The page itself carries an empty frame that names where its content lives.
    let page_html = get(server.address, &messages).text();
    let tag = format!(
        r##"<turbo-frame id="{frame}" class="summary" src="{summary}" loading="lazy" refresh="morph" data-reload-on-stream></turbo-frame>"##
    );
    assert!(page_html.contains(&tag), "{page_html}");

    // Over HTTP: an ETag, and 304 with no body for a matching If-None-Match.
    let first = get(server.address, &summary);
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("an ETag").to_owned();
    let again = request(
        server.address,
        "GET",
        &summary,
        &[("If-None-Match", &etag)],
        "",
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let driver = Driver::start();
    let a = driver.page().await;
    a.goto(&url(server.address, &messages)).await;
    a.wait_for(
        "the count to load",
        &format!(r##"document.getElementById("{frame}").textContent === "0 messages""##),
    )
    .await;
    wait_connected(&a, "A").await;

    create_message(server.address, &messages, "One");
    a.wait_for(
        "the count to follow the list",
        &format!(r##"document.getElementById("{frame}").textContent === "1 message""##),
    )
    .await;

    // An edit changes the list but not the count: the frame reloads and gets a 304.
    let served_304 = || {
        let log = std::fs::read_to_string(&log).unwrap();
        let line = format!("path={summary}");
        log.lines()
            .filter(|l| l.contains(&line) && l.contains("status=304"))
            .count()
    };
    let before = served_304();
    let record = format!("{messages}/1");
    let form = get(server.address, &format!("{record}/edit")).text();
    let client_id = client_id(&form);
    let reply = post(
        server.address,
        &record,
        &[],
        &[
            ("_method", "patch"),
            ("client_id", &client_id),
            ("body", "One, edited"),
        ],
    );
    assert_eq!(reply.status, 303, "{}", reply.text());
    a.wait_for(
        "the edit on A",
        r##"document.body.textContent.includes("One, edited")"##,
    )
    .await;
    let deadline = Instant::now() + WAIT;
    while served_304() == before {
        assert!(
            Instant::now() < deadline,
            "the browser revalidated the frame and got a 304:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        a.eval(&format!(
            r##"document.getElementById("{frame}").textContent"##
        ))
        .await,
        json!("1 message"),
        "a 304 keeps what the frame shows"
    );
    a.close().await;
}

/// Scenario 5: tasks broadcast `refresh`. A change on A morphs B in place, keeping B's scroll
/// position and the draft in its form; A ignores its own refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_morphs_other_pages_and_keeps_their_scroll_and_draft() {
    let _serial = SERIAL.lock().await;
    let server = serve("morph_refresh", &[], None);
    for n in 1..=30 {
        let reply = post(
            server.address,
            "/tasks",
            &[],
            &[("title", &format!("Task {n}"))],
        );
        assert_eq!(reply.status, 303);
    }
    let driver = Driver::start();
    let (a, b) = two_windows(&driver, server.address, "/tasks").await;
    mark(&a).await;
    mark(&b).await;
    // Typing scrolls the field into view, so B types its draft first and then scrolls up.
    b.type_into("#new_task_title", "Unsent draft").await;
    b.run("window.scrollTo(0, 1500);", Vec::new()).await;
    let scrolled = b.eval("window.scrollY").await;
    assert_eq!(scrolled, json!(1500), "B scrolled");

    a.type_into("#new_task_title", "From A").await;
    a.click("#new_task button[type=submit]").await;
    b.wait_for(
        "B to morph in the new task",
        r##"window.__morphs === 1 && document.getElementById("tasks").textContent.includes("From A")"##,
    )
    .await;
    assert_eq!(
        b.eval(r##"document.getElementById("new_task_title").value"##)
            .await,
        json!("Unsent draft")
    );
    assert_eq!(
        b.eval("window.scrollY").await,
        scrolled,
        "B kept its scroll"
    );
    assert_not_reloaded(&b, "B").await;

    a.wait_for(
        "the reply on A",
        r##"document.getElementById("tasks").textContent.includes("From A")"##,
    )
    .await;
    // The refresh reached A too, by now, and A ignored it: it was A's own request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        a.eval("window.__morphs").await,
        json!(0),
        "A ignored its own refresh"
    );
    assert_eq!(a.eval("window.__loads").await, json!(0));
    let from_a = a
        .eval(r##"[...document.querySelectorAll("#tasks > .record")].filter((n) => n.textContent.includes("From A")).length"##)
        .await;
    assert_eq!(from_a, json!(1));
    a.close().await;
    b.close().await;
}

/// Scenario 6: markup typed into the form is shown as text on both pages and never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_message_is_shown_as_text_and_never_runs() {
    let _serial = SERIAL.lock().await;
    let server = serve("escaping", &[], None);
    let messages = room(server.address, "Lobby");
    let list = "messages_room_1";
    let payload = r##"<img src=x onerror="window.__xss=1">"##;
    let driver = Driver::start();
    let (a, b) = two_windows(&driver, server.address, &messages).await;
    a.type_into("#new_message_body", payload).await;
    a.click("#new_message button[type=submit]").await;
    for (page, who) in [(&b, "B"), (&a, "A")] {
        page.wait_for(
            &format!("the message as text on {who}"),
            &format!(
                r##"document.querySelector("#{list} > turbo-frame.record")?.textContent.includes({})"##,
                serde_json::to_string(payload).unwrap()
            ),
        )
        .await;
        let images = page
            .eval(&format!(
                r##"document.querySelectorAll("#{list} img").length"##
            ))
            .await;
        assert_eq!(images, json!(0), "{who} rendered no <img>");
        assert_eq!(
            page.eval("typeof window.__xss").await,
            json!("undefined"),
            "{who} ran no script"
        );
    }
    a.close().await;
    b.close().await;
}

/// The ids of the records inside `list`, nested frames included, in page order.
async fn all_record_ids(page: &Page, list: &str) -> Vec<String> {
    let ids = page
        .run(
            r#"return [...document.getElementById(arguments[0]).querySelectorAll(".record")].map((node) => node.id);"#,
            vec![json!(list)],
        )
        .await;
    serde_json::from_value(ids).unwrap()
}

/// Scenario 7: a room with more messages than a page. The room's own page loads the list, which
/// shows the newest 50, oldest first, scrolled to the newest; scrolling up loads each earlier
/// page through its lazy frame until every message is shown once, in order; a live create still
/// appends at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_page_lists_its_messages_and_loads_earlier_pages_on_scroll() {
    let _serial = SERIAL.lock().await;
    let server = serve("pagination", &[], None);
    let messages = room(server.address, "Busy");
    let room_path = messages.trim_end_matches("/messages").to_owned();
    for n in 1..=120 {
        create_message(server.address, &messages, &format!("Message number {n}"));
    }
    let list = "messages_room_1";

    let driver = Driver::start();
    let page = driver.page().await;
    page.goto(&url(server.address, &room_path)).await;
    page.wait_for(
        "the room's page to load its messages",
        &format!(
            r##"document.getElementById("{list}")?.querySelectorAll(".record").length === 50"##
        ),
    )
    .await;
    wait_connected(&page, "the room's page").await;
    let first = all_record_ids(&page, list).await;
    let body = |id: &str| format!(r##"document.getElementById("{id}").textContent"##);
    let newest = page.eval(&body(first.last().unwrap())).await;
    assert!(
        newest.as_str().unwrap().contains("Message number 120"),
        "{newest}"
    );
    let oldest = page.eval(&body(&first[0])).await;
    assert!(
        oldest.as_str().unwrap().contains("Message number 71"),
        "{oldest}"
    );

    for shown in [100, 120] {
        page.run("window.scrollTo(0, 0);", Vec::new()).await;
        page.wait_for(
            &format!("{shown} messages after scrolling up"),
            &format!(r##"document.getElementById("{list}").querySelectorAll(".record").length >= {shown}"##),
        )
        .await;
    }
    let all = all_record_ids(&page, list).await;
    let distinct: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 120, "every message once: {all:?}");
    let texts = page
        .run(
            r#"return [...document.getElementById(arguments[0]).querySelectorAll(".record")].map((node) => node.textContent);"#,
            vec![json!(list)],
        )
        .await;
    let texts: Vec<String> = serde_json::from_value(texts).unwrap();
    let numbers: Vec<usize> = texts
        .iter()
        .map(|text| {
            let rest = text
                .split("Message number ")
                .nth(1)
                .expect("a message body");
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap()
        })
        .collect();
    assert_eq!(
        numbers,
        (1..=120).collect::<Vec<_>>(),
        "oldest first, in order"
    );
    assert_eq!(
        page.eval(r##"document.querySelectorAll("turbo-frame.earlier:not([complete])").length"##)
            .await,
        json!(0),
        "no earlier page is left to load"
    );

    create_message(server.address, &messages, "Live after paging");
    page.wait_for(
        "a live create on the paginated list",
        &format!(
            r##"document.getElementById("{list}").querySelectorAll(".record").length === 121"##
        ),
    )
    .await;
    let ids = all_record_ids(&page, list).await;
    let last = page.eval(&body(ids.last().unwrap())).await;
    assert!(
        last.as_str().unwrap().contains("Live after paging"),
        "{last}"
    );
    page.close().await;
}

/// Signs a new user up through the sign-up page, as a person types it.
async fn sign_up(page: &Page, address: SocketAddr, email: &str) {
    page.goto(&url(address, "/sign_up")).await;
    page.type_into("#sign_up_email", email).await;
    page.type_into("#sign_up_password", "correct horse battery")
        .await;
    page.type_into("#sign_up_password_confirmation", "correct horse battery")
        .await;
    page.click("#sign_up button[type=submit]").await;
    page.wait_for(
        "the header to show the signed-in user",
        &format!(
            r##"document.querySelector("#account_menu a[href='/account']")?.textContent === {email:?}"##
        ),
    )
    .await;
}

/// Scenario 8: a user's note, made in one window, appears live in the same user's second window
/// (one session, two tabs) and never on another user's page; signing out in the first window
/// closes the second's stream, and its next visit lands on the sign-in page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_notes_are_live_in_their_windows_only_and_sign_out_ends_them() {
    let _serial = SERIAL.lock().await;
    let app = accounts_app();
    let _ = std::fs::remove_file(app.join("storage/accounts_live.sqlite3"));
    let server = spawn(
        &apps_target().join("debug/accounts"),
        app,
        &[
            ("SECRET_KEY_BASE", SECRET),
            ("DATABASE_URL", "sqlite://storage/accounts_live.sqlite3"),
        ],
        None,
    );
    let address = server.address;
    let driver = Driver::start();
    let mut ada = driver.page().await;
    sign_up(&ada, address, "ada@example.com").await;
    let ada_again = ada.another_window().await;
    let grace = driver.page().await;
    sign_up(&grace, address, "grace@example.com").await;
    for (page, who) in [
        (&ada, "Ada"),
        (&ada_again, "Ada's second window"),
        (&grace, "Grace"),
    ] {
        page.goto(&url(address, "/notes")).await;
        wait_connected(page, who).await;
    }
    mark(&ada_again).await;

    ada.type_into("#new_note_body", "Ada's first note").await;
    ada.click("#new_note button[type=submit]").await;
    ada_again
        .wait_for(
            "Ada's note in her second window",
            r##"document.getElementById("notes").textContent.includes("Ada's first note")"##,
        )
        .await;
    assert_not_reloaded(&ada_again, "Ada's second window").await;
    // Grace's page follows Grace's stream: her own note arrives, Ada's never does.
    grace.type_into("#new_note_body", "Grace's note").await;
    grace.click("#new_note button[type=submit]").await;
    grace
        .wait_for(
            "Grace's own note",
            r##"document.getElementById("notes").textContent.includes("Grace's note")"##,
        )
        .await;
    let seen = grace
        .eval(r##"document.getElementById("notes").textContent.includes("Ada's")"##)
        .await;
    assert_eq!(seen, json!(false), "Grace's page shows Ada's note");
    let seen = ada
        .eval(r##"document.getElementById("notes").textContent.includes("Grace's")"##)
        .await;
    assert_eq!(seen, json!(false), "Ada's page shows Grace's note");

    // Signing out in the first window ends the session both windows share: the second window's
    // stream is closed and refused when it reconnects, and its next visit is sent to sign in.
    ada.click("#account_menu form.sign-out button").await;
    ada.wait_for(
        "the sign-out to land",
        r##"document.querySelector("#account_menu a[href='/sign_in']") !== null"##,
    )
    .await;
    ada_again
        .wait_for(
            "the second window's stream to be closed",
            r##"document.querySelector("turbo-stream-source")?.streamSource?.readyState === 2"##,
        )
        .await;
    ada_again.click("#notes a[href^='/notes/']").await;
    ada_again
        .wait_for(
            "the next visit to land on the sign-in page",
            r##"location.pathname === "/sign_in""##,
        )
        .await;
    grace.close().await;
    ada_again.close().await;
}

/// How many messages the large room holds.
const SEEDED: usize = 10_000;

/// How many records a page of the live app's lists holds: the default `per_page`.
const PER_PAGE: usize = 50;

/// Inserts `count` messages into room `room` straight into the app's SQLite file, in one
/// statement, as a seed script would: seeds do not broadcast. Message `n` says "Seeded message
/// n" and has the `n`-th id. The app keeps the file open (in WAL mode); the insert waits for
/// its lock.
fn seed_messages(database: &Path, room: u64, count: usize) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
         INSERT INTO messages (client_id, body, room_id) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), 'Seeded message ' || i, {room} \
         FROM n;"
    );
    support::sqlite3(database, &sql);
}

/// The numbers of the seeded messages a page or frame shows, in page order, after checking
/// that every record it shows is one of them.
fn seeded_numbers(html: &str) -> Vec<usize> {
    let records: Vec<&str> = html
        .split(r#"<turbo-frame id=""#)
        .skip(1)
        .filter(|rest| rest.contains(r#"" class="record""#))
        .collect();
    let numbers: Vec<usize> = records
        .iter()
        .filter_map(|record| between(record, "Seeded message ", "<"))
        .map(|number| number.parse().expect("a message number"))
        .collect();
    assert_eq!(numbers.len(), records.len(), "every record is a seeded one");
    numbers
}

/// The page the lazy frame of the page before this one loads, if there is one.
fn earlier_path(html: &str) -> Option<String> {
    between(html, r#"class="earlier" data-src=""#, "\"").map(str::to_owned)
}

/// Scenario 8: a room of 10,000 messages, seeded straight into the app's database. Its list
/// shows exactly one page, the newest 50; walking every earlier page over HTTP, as each lazy
/// frame would load it, shows every message exactly once; in Chromium, scrolling up loads the
/// earlier pages one frame at a time, each message still once and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_of_ten_thousand_messages_shows_each_once_across_its_pages() {
    let _serial = SERIAL.lock().await;
    let server = serve("ten_thousand", &[], None);
    let messages = room(server.address, "Archive");
    let room_id: u64 = messages
        .trim_start_matches("/rooms/")
        .trim_end_matches("/messages")
        .parse()
        .unwrap();
    seed_messages(
        &live_app().join("storage/ten_thousand.sqlite3"),
        room_id,
        SEEDED,
    );

    // Over HTTP: the first page, then every earlier one through the frame's link.
    let first = get(server.address, &messages);
    assert_eq!(first.status, 200);
    let first = first.text();
    let mut shown = seeded_numbers(&first);
    assert_eq!(
        shown,
        (SEEDED - PER_PAGE + 1..=SEEDED).collect::<Vec<_>>(),
        "the first page is the newest {PER_PAGE}, oldest first"
    );
    let mut next = earlier_path(&first);
    let mut pages = 1;
    while let Some(path) = next {
        let frame = request(
            server.address,
            "GET",
            &path,
            &[("Turbo-Frame", "earlier")],
            "",
        );
        assert_eq!(frame.status, 200, "{path}");
        let frame = frame.text();
        let page = seeded_numbers(&frame);
        assert!(
            !page.is_empty() && page.len() <= PER_PAGE,
            "{path} shows {} messages",
            page.len()
        );
        // Each earlier page goes before what is shown already.
        shown.splice(0..0, page);
        next = earlier_path(&frame);
        pages += 1;
    }
    assert_eq!(pages, SEEDED.div_ceil(PER_PAGE), "pages walked");
    let distinct: std::collections::HashSet<&usize> = shown.iter().collect();
    assert_eq!(distinct.len(), shown.len(), "a message was shown twice");
    assert_eq!(
        shown,
        (1..=SEEDED).collect::<Vec<_>>(),
        "every message once, oldest first"
    );

    // In Chromium: the room's page shows one page, and scrolling up loads the earlier ones
    // through their lazy frames, one page at a time.
    let list = format!("messages_room_{room_id}");
    let count =
        format!(r##"document.getElementById("{list}")?.querySelectorAll(".record").length"##);
    let driver = Driver::start();
    let page = driver.page().await;
    page.goto(&url(server.address, messages.trim_end_matches("/messages")))
        .await;
    page.wait_for(
        "the room's page to load its messages",
        &format!("{count} === {PER_PAGE}"),
    )
    .await;
    wait_connected(&page, "the room's page").await;
    let texts = format!(
        r#"return [...document.getElementById("{list}").querySelectorAll(".record")].map((node) => node.querySelector("dd").textContent);"#
    );
    for pages in 2..=4 {
        page.run("window.scrollTo(0, 0);", Vec::new()).await;
        page.wait_for(
            &format!("{pages} pages after scrolling up"),
            &format!("{count} >= {}", pages * PER_PAGE),
        )
        .await;
        // One lazy frame loads at a time: the next earlier page waits for the reader to
        // scroll up to it again.
        let shown: usize = serde_json::from_value(page.eval(&count).await).unwrap();
        assert_eq!(shown, pages * PER_PAGE, "pages load one at a time");
        let bodies: Vec<String> =
            serde_json::from_value(page.run(&texts, Vec::new()).await).unwrap();
        let expected: Vec<String> = (SEEDED - pages * PER_PAGE + 1..=SEEDED)
            .map(|n| format!("Seeded message {n}"))
            .collect();
        assert_eq!(bodies, expected, "each message once, oldest first");
    }
    page.close().await;
}

/// The gallery app on a fresh database of its own (`storage/DATABASE.sqlite3`) and an empty
/// store, with one album called `album`: the server, the album's photos path, and the id of
/// their list.
fn gallery_with_album(database: &str, album: &str) -> (Server, String, String) {
    let app = gallery_app();
    let _ = std::fs::remove_file(app.join(format!("storage/{database}.sqlite3")));
    let _ = std::fs::remove_dir_all(app.join("storage/blobs"));
    let url = format!("sqlite://storage/{database}.sqlite3");
    let server = spawn(
        &apps_target().join("debug/gallery"),
        app,
        &[("SECRET_KEY_BASE", SECRET), ("DATABASE_URL", &url)],
        None,
    );
    let reply = post(server.address, "/albums", &[], &[("name", album)]);
    assert_eq!(reply.status, 303, "creating an album: {}", reply.text());
    let photos = format!("{}/photos", reply.header("location").unwrap());
    let list = format!(
        "photos_album_{}",
        between(&photos, "/albums/", "/photos").unwrap()
    );
    (server, photos, list)
}

/// A PNG of `width` by `height` pixels, written to `path` for the browser to pick.
fn write_png(path: &Path, width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
    });
    image.save(path).expect("the PNG is written");
    std::fs::read(path).unwrap()
}

/// Scenario 10: window A attaches a PNG to a new photo through the album's form; window B, on
/// the same album, shows the photo's thumbnail without a reload, with the same node as A (one
/// partial for the reply and the broadcast); the thumbnail's link opens the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_image_shows_live_as_its_thumbnail_in_another_window() {
    let _serial = SERIAL.lock().await;
    let (server, photos, list) = gallery_with_album("attach_live", "Holidays");
    let address = server.address;
    let files = tempfile::tempdir().unwrap();
    let png = files.path().join("harbour.png");
    let original = write_png(&png, 1000, 500);

    let driver = Driver::start();
    let (a, b) = two_windows(&driver, address, &photos).await;
    mark(&b).await;
    a.type_into("#new_photo_caption", "The harbour at dusk")
        .await;
    a.choose_file("#new_photo_photo", &png).await;
    a.click("#new_photo button[type=submit]").await;

    // B shows the thumbnail, loaded, in the record the broadcast appended.
    let thumbnail = format!(r##"#{list} > turbo-frame.record a.blob-image > img"##);
    let id = b
        .wait_for(
            "the thumbnail on B",
            &format!(
                r##"(() => {{
                    const img = document.querySelector("{thumbnail}");
                    return img && img.complete && img.naturalWidth > 0
                        && img.closest("turbo-frame").id;
                }})()"##
            ),
        )
        .await;
    let id = id.as_str().unwrap().to_owned();
    a.wait_for(
        "the thumbnail on A",
        &format!(r##"document.querySelector("#{id} a.blob-image > img")?.complete"##),
    )
    .await;
    let on_b = node(&b, &id).await;
    assert_eq!(node(&a, &id).await, on_b, "B holds the same node as A");
    let markup = on_b[2].as_str().unwrap();
    assert!(markup.contains("The harbour at dusk"), "{markup}");
    assert_eq!(record_ids(&b, &list).await, std::slice::from_ref(&id));
    let size = b
        .run(
            "const img = document.querySelector(arguments[0]);
             return [img.naturalWidth, img.naturalHeight,
                     Number(img.getAttribute('width')), Number(img.getAttribute('height')),
                     img.alt];",
            vec![json!(format!("#{id} a.blob-image > img"))],
        )
        .await;
    assert_eq!(
        size,
        json!([800, 400, 800, 400, "harbour.png"]),
        "the thumbnail fits 800 px and the <img> says its size (the stylesheet may show it smaller)"
    );
    assert_not_reloaded(&b, "B").await;
    assert_eq!(b.eval("window.__loads").await, json!(0), "B made no visit");
    b.screenshot(&screenshots().join("attachment-live-b.png"))
        .await;

    // The original opens from the thumbnail's link: fetched from B's page, then followed.
    let link = format!("#{id} a.blob-image");
    b.run(
        "const href = document.querySelector(arguments[0]).href;
         fetch(href).then(async (r) => {
           window.__original = [r.status, r.headers.get('content-type'),
                                (await r.arrayBuffer()).byteLength];
         });",
        vec![json!(link)],
    )
    .await;
    let fetched = b
        .wait_for("the original to be fetched", "window.__original")
        .await;
    assert_eq!(
        fetched,
        json!([200, "image/png", original.len()]),
        "the link is the original, whole"
    );
    let href = b
        .run(
            "return document.querySelector(arguments[0]).getAttribute('href');",
            vec![json!(link)],
        )
        .await;
    let served = get(address, href.as_str().unwrap());
    assert!(served.body == original, "the original's bytes");
    b.click(&link).await;
    b.wait_for(
        "the original to open",
        r##"document.contentType === "image/png" && location.pathname.startsWith("/blobs/")"##,
    )
    .await;
    a.close().await;
    b.close().await;
}

/// Scenario 11: a large upload shows its progress. A form with more than a megabyte of files is
/// sent with XMLHttpRequest by `static/app.js`: a `<progress>` bar appears beside the submit
/// button with the files' size as its maximum, fills to it as the body goes out, and is gone once
/// the reply is rendered, with the record in the list and no visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_shows_its_progress_until_the_reply_is_rendered() {
    let _serial = SERIAL.lock().await;
    let (server, photos, list) = gallery_with_album("upload_progress", "Archive");
    let address = server.address;
    let files = tempfile::tempdir().unwrap();
    let png = files.path().join("cover.png");
    let image = write_png(&png, 40, 30);
    // Past the megabyte above which the form is sent with XMLHttpRequest.
    let notes = files.path().join("notes.txt");
    std::fs::write(&notes, "a line of the archive's notes\n".repeat(50_000)).unwrap();
    let total = image.len() + std::fs::metadata(&notes).unwrap().len() as usize;

    let driver = Driver::start();
    let page = driver.page().await;
    page.goto(&url(address, &photos)).await;
    wait_connected(&page, "the page").await;
    mark(&page).await;
    // Every progress bar the page is given, with each value it is set to.
    page.run(
        r##"window.__bars = [];
           new MutationObserver((changes) => {
             for (const change of changes) {
               if (change.type === "attributes" && change.target.matches("progress.upload-progress")) {
                 window.__bars.at(-1)?.values.push(change.target.value);
               }
               for (const added of change.addedNodes) {
                 if (added instanceof HTMLProgressElement) {
                   window.__bars.push({ max: added.max, values: [], in_form: !!added.closest("form") });
                 }
               }
             }
           }).observe(document.body, {
             childList: true, subtree: true, attributes: true, attributeFilter: ["value"],
           });"##,
        Vec::new(),
    )
    .await;
    page.type_into("#new_photo_caption", "The archive").await;
    page.choose_file("#new_photo_photo", &png).await;
    page.choose_file("#new_photo_files", &notes).await;
    page.click("#new_photo button[type=submit]").await;

    let id = page
        .wait_for(
            "the photo in the list",
            &format!(r##"document.querySelector("#{list} > turbo-frame.record")?.id"##),
        )
        .await;
    let id = id.as_str().unwrap().to_owned();
    page.wait_for(
        "the bar to go",
        r##"document.querySelector("progress.upload-progress") === null"##,
    )
    .await;
    let bars = page.eval("window.__bars").await;
    let bars = bars.as_array().expect("the bars the page was given");
    assert_eq!(bars.len(), 1, "one progress bar: {bars:?}");
    assert_eq!(
        bars[0]["max"],
        json!(total),
        "its maximum is the files' size"
    );
    assert_eq!(
        bars[0]["in_form"],
        json!(true),
        "it is in the form: {bars:?}"
    );
    let values = bars[0]["values"].as_array().unwrap();
    assert!(
        !values.is_empty(),
        "it was set as the body went out: {bars:?}"
    );
    assert_eq!(
        values.last(),
        Some(&json!(total)),
        "it filled once the body was sent: {bars:?}"
    );
    let markup = node(&page, &id).await;
    let markup = markup[2].as_str().unwrap();
    assert!(markup.contains("The archive"), "{markup}");
    assert!(markup.contains("notes.txt"), "{markup}");
    assert_not_reloaded(&page, "the page").await;
    assert_eq!(page.eval("window.__loads").await, json!(0), "no visit");
    page.close().await;
}
