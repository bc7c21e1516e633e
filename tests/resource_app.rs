//! Compile-and-behave tier for resources: a chat app with rooms and their nested messages is
//! generated, built and driven over HTTP and SSE against the design's contracts (one partial, the
//! Turbo Stream wire format, replay after a reconnect, escaping, cross-site refusal, concurrent
//! writes), and `gen destroy resource` takes the nested resource out again.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use support::app::{
    Event, EventStream, Reply, between, cargo, get, post, start, start_with, stream_source,
};

/// What Turbo's fetch sends, so that the app answers with Turbo Streams instead of a redirect.
const TURBO: (&str, &str) = ("Accept", "text/vnd.turbo-stream.html, text/html");

/// Payloads that would run script if any rendering path skipped escaping, paired with what
/// askama's HTML escaper turns them into (numeric references for `<`, `>` and `"`; seen in the
/// app's output, not assumed).
const XSS: [(&str, &str); 2] = [
    (
        "<script>alert(1)</script>",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
    ),
    (
        r#""><img src=x onerror=alert(1)>"#,
        "&#34;&#62;&#60;img src=x onerror=alert(1)&#62;",
    ),
];

/// How many creates race each other in the concurrency check.
const CONCURRENT: usize = 50;

/// How many creates race the deletion of their room.
const RACING_DELETE: usize = 150;

/// The longest `text` field a form may fill, by default.
const TEXT_MAX: usize = 65_535;

#[test]
fn a_nested_resource_keeps_the_contracts_over_http_and_sse_and_is_destroyed_cleanly() {
    let started = Instant::now();
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "chat"]);
    let app = parent.path().join("chat");
    support::gen_ok(&app, &["resource", "room", "name:string"]);
    support::gen_ok(
        &app,
        &["resource", "message", "body:text", "room:references"],
    );
    let build = cargo(&app, &["build"]);

    // One server serves every HTTP and SSE check; it stops before `gen destroy` rebuilds the
    // binary it runs from.
    {
        let server = start(&app, "chat");
        let room = Room::create(server.address, "Lobby");
        one_partial_for_page_reply_and_broadcast(&room);
        replay_after_reconnect_is_exactly_the_gap(&room);
        no_event_falls_between_the_render_and_the_subscription(&room);
        payloads_are_escaped_everywhere(&room);
        cross_site_writes_are_refused_and_change_nothing(&room);
        concurrent_creates_each_land_once(&room);
        unreadable_requests_get_the_error_page(&room);
        an_over_long_message_is_refused_and_not_stored(&room);
        deleting_a_room_during_creates_is_never_a_500(server.address);
    }
    {
        let server = start_with(&app, "chat", &[("STREAM_IDLE_TIMEOUT", "0.3")]);
        a_stream_left_idle_is_let_go_and_a_page_that_missed_an_event_refreshes(server.address);
    }

    destroy_removes_the_resource_and_the_app_still_builds(&app);
    println!(
        "resource_app: {:.1}s in all, of which the first `cargo build` took {:.1}s",
        started.elapsed().as_secs_f64(),
        build.as_secs_f64()
    );
}

/// A room of the running app, with the paths of its messages.
struct Room {
    address: SocketAddr,
    id: u64,
    messages: String,
}

impl Room {
    /// Creates a room the way a browser without JavaScript does: a plain form POST, followed by
    /// the redirect to the new room.
    fn create(address: SocketAddr, name: &str) -> Room {
        let reply = post(address, "/rooms", &[], &[("name", name)]);
        assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
        let location = reply.header("location").expect("a redirect to the room");
        let id = location
            .strip_prefix("/rooms/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a room's path, not {location:?}"));
        Room {
            address,
            id,
            messages: format!("{location}/messages"),
        }
    }

    /// The id of the element that lists this room's messages, as `dom_id` names it.
    fn list_id(&self) -> String {
        format!("messages_room_{}", self.id)
    }

    fn member(&self, message: u64) -> String {
        format!("{}/{message}", self.messages)
    }

    /// The messages index page, which must answer 200.
    fn index(&self) -> String {
        let reply = get(self.address, &self.messages);
        assert_eq!(reply.status, 200, "GET {}", self.messages);
        reply.text()
    }

    /// How many messages the room has, from the index page's lazy count frame: the index shows
    /// one page of them.
    fn count(&self) -> usize {
        let frame = get(self.address, &format!("{}/summary", self.messages)).text();
        let text = between(&frame, ">", "</turbo-frame>").expect("the count frame");
        text.split(' ').next().unwrap().parse().expect("a count")
    }

    /// Subscribes with the `<turbo-stream-source>` the index page renders, as Turbo would.
    fn subscribe(&self, last_event_id: Option<&str>) -> EventStream {
        let src = stream_source(&self.index());
        EventStream::open(self.address, &src, last_event_id)
    }

    /// Creates a message as Turbo submits the index page's form, and checks the reply's shape:
    /// the record appended to the room's list, then the form replaced by a blank one.
    fn create_turbo(&self, body: &str) -> Created {
        let reply = post(self.address, &self.messages, &[TURBO], &[("body", body)]);
        assert_eq!(reply.status, 200, "a Turbo create: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/vnd.turbo-stream.html; charset=utf-8")
        );
        let text = reply.text();
        let streams = turbo_streams(&text);
        assert_eq!(streams.len(), 2, "an append and a form replace: {text}");
        let append = streams[0].to_owned();
        assert!(
            append.starts_with(&format!(
                r#"<turbo-stream action="append" target="{}"><template>"#,
                self.list_id()
            )),
            "{append}"
        );
        assert!(
            streams[1].starts_with(r#"<turbo-stream action="replace" target="new_message">"#),
            "{}",
            streams[1]
        );
        let id = record_id(template(&append));
        Created { id, append }
    }

    /// Creates a message with a plain form POST, as a browser without JavaScript would.
    fn create_plain(&self, body: &str) -> u64 {
        let reply = post(self.address, &self.messages, &[], &[("body", body)]);
        assert_eq!(reply.status, 303, "a plain create: {}", reply.text());
        let location = reply.header("location").expect("a redirect to the message");
        location
            .strip_prefix(&format!("{}/", self.messages))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a message's path, not {location:?}"))
    }
}

/// What a Turbo create answered: the new record's id and the reply's `append` element.
struct Created {
    id: u64,
    append: String,
}

/// Acceptance 1: the page, the HTTP reply and the broadcast all carry the one partial's bytes,
/// for create, update and destroy alike.
fn one_partial_for_page_reply_and_broadcast(room: &Room) {
    let mut stream = room.subscribe(None);

    let created = room.create_turbo("one partial for every path");
    let event = stream.next_event();
    assert_eq!(
        event.data, created.append,
        "the broadcast is the reply's append element, byte for byte"
    );
    let markup = template(&created.append);
    assert!(markup.contains("one partial for every path"), "{markup}");
    assert!(
        room.index().contains(markup),
        "the index page renders the record with the same bytes as the stream's template:\n{markup}"
    );

    let member = room.member(created.id);
    let reply = post(
        room.address,
        &member,
        &[TURBO],
        &[("_method", "patch"), ("body", "edited in place")],
    );
    assert_eq!(reply.status, 200, "a Turbo update: {}", reply.text());
    let replace = only_stream(&reply);
    assert!(
        replace.starts_with(&format!(
            r#"<turbo-stream action="replace" target="message_{}"><template>"#,
            created.id
        )),
        "{replace}"
    );
    assert!(template(&replace).contains("edited in place"), "{replace}");
    assert_eq!(
        stream.next_event().data,
        replace,
        "the update broadcast is the reply, byte for byte"
    );
    assert!(room.index().contains(template(&replace)));

    let reply = post(room.address, &member, &[TURBO], &[("_method", "delete")]);
    assert_eq!(reply.status, 200, "a Turbo destroy: {}", reply.text());
    let remove = only_stream(&reply);
    assert_eq!(
        remove,
        format!(
            r#"<turbo-stream action="remove" target="message_{}"></turbo-stream>"#,
            created.id
        ),
        "remove carries no template"
    );
    assert_eq!(
        stream.next_event().data,
        remove,
        "the destroy broadcast is the reply, byte for byte"
    );
    assert!(
        !room
            .index()
            .contains(&format!(r#"id="message_{}""#, created.id))
    );
}

/// With `STREAM_IDLE_TIMEOUT=0.3`, a room's stream that no page follows is let go soon after
/// its newest event: a page that comes back having missed that event cannot replay it and gets
/// a `refresh`. Until then, coming back replays it. (With the default five minutes this waits
/// out its deadline and fails.)
fn a_stream_left_idle_is_let_go_and_a_page_that_missed_an_event_refreshes(address: SocketAddr) {
    let room = Room::create(address, "Quiet");
    let mut reader = room.subscribe(None);
    room.create_turbo("seen before leaving");
    let seen = reader.next_event();
    drop(reader);
    let missed = room.create_turbo("missed while away");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut back = room.subscribe(Some(&seen.id));
        let event = back.next_event();
        if event.data.contains(r#"<turbo-stream action="refresh""#) {
            break;
        }
        assert_eq!(
            event.data, missed.append,
            "while the stream is kept, coming back replays what was missed"
        );
        drop(back);
        assert!(
            Instant::now() < deadline,
            "the idle stream was not let go within 30 s of STREAM_IDLE_TIMEOUT=0.3"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Acceptance 2: a subscriber that reconnects with `Last-Event-ID` gets exactly the events it
/// missed, in the order they were published, and nothing it had already seen.
fn replay_after_reconnect_is_exactly_the_gap(room: &Room) {
    // The witness stays connected throughout, so it sees the order the events were published in.
    let mut witness = room.subscribe(None);
    let mut reader = room.subscribe(None);
    let before = room.create_turbo("seen before the gap");
    let seen = reader.next_event();
    assert_eq!(seen.data, before.append);
    assert_eq!(witness.next_event(), seen);
    drop(reader);

    let missed: Vec<Created> = (1..=3)
        .map(|n| room.create_turbo(&format!("missed while away {n}")))
        .collect();
    let live: Vec<Event> = missed.iter().map(|_| witness.next_event()).collect();
    let published: Vec<&str> = live.iter().map(|event| event.data.as_str()).collect();
    let appended: Vec<&str> = missed.iter().map(|c| c.append.as_str()).collect();
    assert_eq!(published, appended, "the three creates, in the order made");

    let mut reader = room.subscribe(Some(&seen.id));
    let replayed: Vec<Event> = missed.iter().map(|_| reader.next_event()).collect();
    assert_eq!(
        replayed, live,
        "the replay is the missed events, ids and bytes, in order, starting after {}",
        seen.id
    );
    // Had the replay carried anything more (a duplicate, or the event at Last-Event-ID), it would
    // arrive before this live event.
    let after = room.create_turbo("live again after the replay");
    assert_eq!(reader.next_event().data, after.append);
    assert_eq!(witness.next_event().data, after.append);
}

/// Ten creates land after the page is rendered and before its `EventSource` connects: the
/// subscription carries the stream's position at render time, so the first connection replays
/// all ten, once each, and then goes on live.
fn no_event_falls_between_the_render_and_the_subscription(room: &Room) {
    let src = stream_source(&room.index());
    assert!(
        src.contains("&since="),
        "the subscription carries a position: {src}"
    );
    let made: Vec<Created> = (1..=10)
        .map(|n| room.create_turbo(&format!("between render and subscribe {n}")))
        .collect();
    let mut reader = EventStream::open(room.address, &src, None);
    let replayed: Vec<Event> = made.iter().map(|_| reader.next_event()).collect();
    let received: Vec<&str> = replayed.iter().map(|event| event.data.as_str()).collect();
    let appended: Vec<&str> = made.iter().map(|c| c.append.as_str()).collect();
    assert_eq!(received, appended, "the ten creates, in order");
    // A duplicate would arrive before this live event.
    let after = room.create_turbo("live after the first connection");
    assert_eq!(reader.next_event().data, after.append);
}

/// Acceptance 3: script in a field is escaped by every path that renders it, and never appears raw.
fn payloads_are_escaped_everywhere(room: &Room) {
    let mut stream = room.subscribe(None);
    for (payload, escaped) in XSS {
        let created = room.create_turbo(payload);
        let broadcast = stream.next_event().data;
        let show = get(room.address, &room.member(created.id));
        assert_eq!(show.status, 200);
        for (place, text) in [
            ("the Turbo reply", created.append.as_str()),
            ("the broadcast", broadcast.as_str()),
            ("the show page", &show.text()),
            ("the index page", &room.index()),
        ] {
            assert!(
                !text.contains(payload),
                "{payload:?} appears raw in {place}:\n{text}"
            );
            assert!(
                text.contains(escaped),
                "{place} lacks the escaped {escaped:?}:\n{text}"
            );
        }
    }
    // The fragments that would execute must not survive anywhere either, not only the whole string.
    let index = room.index();
    assert!(!index.contains("<script>alert"), "{index}");
    assert!(!index.contains("<img src=x"), "{index}");
}

/// Acceptance 4: writes from another site are refused with 403 and change nothing: no row, no
/// broadcast.
fn cross_site_writes_are_refused_and_change_nothing(room: &Room) {
    let mut stream = room.subscribe(None);
    let target = room.create_turbo("a record a forged delete aims at");
    stream.next_event();
    let before = room.count();

    let foreign: [&[(&str, &str)]; 3] = [
        &[("Origin", "https://evil.example")],
        &[("Sec-Fetch-Site", "cross-site")],
        &[
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    ];
    for headers in foreign {
        let forged = post(
            room.address,
            &room.messages,
            headers,
            &[("body", "forged from another site")],
        );
        assert_eq!(forged.status, 403, "a cross-site create with {headers:?}");
        let forged = post(
            room.address,
            &room.member(target.id),
            headers,
            &[("_method", "delete")],
        );
        assert_eq!(forged.status, 403, "a cross-site delete with {headers:?}");
    }

    let index = room.index();
    assert_eq!(room.count(), before, "nothing was written");
    assert!(!index.contains("forged from another site"));
    assert!(index.contains(&format!(r#"id="message_{}""#, target.id)));
    // A forged write that had broadcast would be received before this legitimate one.
    let legitimate = room.create_turbo("legitimate after the forgeries");
    assert_eq!(stream.next_event().data, legitimate.append);
}

/// Acceptance 5: creates that race each other on separate connections each make one row and
/// reach every subscriber exactly once.
fn concurrent_creates_each_land_once(room: &Room) {
    let mut subscribers = [room.subscribe(None), room.subscribe(None)];
    let before = room.count();

    let barrier = Arc::new(Barrier::new(CONCURRENT));
    let writers: Vec<_> = (0..CONCURRENT)
        .map(|n| {
            let barrier = Arc::clone(&barrier);
            let address = room.address;
            let path = room.messages.clone();
            std::thread::spawn(move || {
                barrier.wait();
                post(address, &path, &[], &[("body", &format!("concurrent {n}"))])
            })
        })
        .collect();
    for writer in writers {
        let reply = writer.join().expect("a writer thread finished");
        assert_eq!(reply.status, 303, "a concurrent create: {}", reply.text());
    }
    assert_eq!(room.count(), before + CONCURRENT, "one row per create");

    let expected: BTreeSet<String> = (0..CONCURRENT).map(|n| format!("concurrent {n}")).collect();
    let mut seen_ids = Vec::new();
    for subscriber in &mut subscribers {
        let events: Vec<Event> = (0..CONCURRENT).map(|_| subscriber.next_event()).collect();
        let ids: BTreeSet<&str> = events.iter().map(|event| event.id.as_str()).collect();
        assert_eq!(ids.len(), CONCURRENT, "distinct ids, none twice: {ids:?}");
        let bodies: BTreeSet<String> = events
            .iter()
            .map(|event| dd_text(template(&event.data)).to_owned())
            .collect();
        assert_eq!(bodies, expected, "every create is broadcast once");
        seen_ids.push(ids.into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
    }
    assert_eq!(
        seen_ids[0], seen_ids[1],
        "both subscribers got the same events"
    );
    // A duplicate or stray event would be received before this one.
    let last = room.create_plain("after the race");
    for subscriber in &mut subscribers {
        let event = subscriber.next_event();
        assert_eq!(record_id(template(&event.data)), last, "{}", event.data);
    }
}

/// A path id that is not a number, a body that is not a form and a form with a field given
/// twice each get the app's own HTML error page with a fitting status, never axum's plain-text
/// explanation, which would echo what was sent.
fn unreadable_requests_get_the_error_page(room: &Room) {
    let error_page = |reply: &Reply, status: u16| {
        let text = reply.text();
        assert_eq!(reply.status, status, "{text}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|value| value.starts_with("text/html")),
            "{}",
            reply.head
        );
        assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
        for leak in ["script", "Cannot parse", "deserialize", "Form requests"] {
            assert!(!text.contains(leak), "{leak:?} in {text}");
        }
    };
    error_page(
        &get(room.address, "/rooms/%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        404,
    );
    error_page(&get(room.address, &room.member(u64::MAX)), 404);
    error_page(&get(room.address, &format!("{}/abc", room.messages)), 404);
    let repeated = post(
        room.address,
        &room.messages,
        &[],
        &[("body", "a"), ("body", "b")],
    );
    error_page(&repeated, 422);
    let not_a_form = support::app::request(
        room.address,
        "POST",
        &room.messages,
        &[("Content-Type", "text/plain")],
        "body=hello",
    );
    error_page(&not_a_form, 415);
}

/// A message one character past the maximum is answered 422 with the form's error and is not
/// stored, on the page or in the stream; one at the maximum is.
fn an_over_long_message_is_refused_and_not_stored(room: &Room) {
    let before = room.count();
    let long = "x".repeat(TEXT_MAX + 1);
    for headers in [&[][..], &[TURBO][..]] {
        let reply = post(room.address, &room.messages, headers, &[("body", &long)]);
        assert_eq!(reply.status, 422, "{}", reply.head);
        let text = reply.text();
        assert!(
            text.contains("is too long (maximum is 65,535 characters)"),
            "{}",
            &text[..text.len().min(2000)]
        );
    }
    assert_eq!(room.count(), before, "nothing was stored");
    room.create_plain(&"é".repeat(TEXT_MAX));
    assert_eq!(room.count(), before + 1);
}

/// A room deleted while its messages are being created: each create is a 303 (it landed first)
/// or a 404 (the room was gone, whether its lookup or the insert's foreign key found that out),
/// never a 500, and the page following the room's messages is told with a `refresh`.
fn deleting_a_room_during_creates_is_never_a_500(address: SocketAddr) {
    let room = Room::create(address, "Doomed");
    let mut subscriber = room.subscribe(None);
    let barrier = Arc::new(Barrier::new(RACING_DELETE + 1));
    let writers: Vec<_> = (0..RACING_DELETE)
        .map(|n| {
            let barrier = Arc::clone(&barrier);
            let path = room.messages.clone();
            std::thread::spawn(move || {
                barrier.wait();
                // Spread over 50 ms, so that creates run before, during and after the delete.
                std::thread::sleep(std::time::Duration::from_micros(n as u64 * 333));
                post(address, &path, &[], &[("body", &format!("racing {n}"))])
            })
        })
        .collect();
    let room_path = format!("/rooms/{}", room.id);
    let deleter = {
        let barrier = Arc::clone(&barrier);
        let path = room_path.clone();
        std::thread::spawn(move || {
            barrier.wait();
            std::thread::sleep(std::time::Duration::from_millis(10));
            post(address, &path, &[], &[("_method", "delete")])
        })
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for writer in writers {
        let reply = writer.join().expect("a writer thread finished");
        assert!(
            [303, 404].contains(&reply.status),
            "a create racing the delete answered {}: {}",
            reply.status,
            reply.text()
        );
        *statuses.entry(reply.status).or_default() += 1;
    }
    let deleted = deleter.join().expect("the deleting thread finished");
    assert_eq!(deleted.status, 303, "{}", deleted.text());
    println!("creates racing a delete answered {statuses:?}");
    assert_eq!(get(address, &room_path).status, 404);
    assert_eq!(get(address, &room.messages).status, 404);
    subscriber.event_containing(r#"<turbo-stream action="refresh">"#);
}

/// Acceptance 6: `gen destroy resource` is the inverse of `gen resource`, and leaves an app that
/// builds.
fn destroy_removes_the_resource_and_the_app_still_builds(app: &Path) {
    support::gen_ok(app, &["destroy", "resource", "message"]);
    for gone in [
        "src/messages",
        "templates/messages",
        "migrations/0002_create_messages.sql",
        "specs/message.toml",
    ] {
        assert!(!app.join(gone).exists(), "{gone} is still there");
    }
    for file in ["src/lib.rs", "src/app.rs"] {
        let text = std::fs::read_to_string(app.join(file)).unwrap();
        assert!(
            !text.contains("messages"),
            "{file} still mentions it:\n{text}"
        );
        assert!(text.contains("rooms"), "{file} keeps the rooms:\n{text}");
    }
    assert!(app.join("src/rooms/mod.rs").exists());
    support::gen_ok(app, &["check"]);
    cargo(app, &["build"]);
}

/// The `<turbo-stream …>…</turbo-stream>` elements of a reply, in order.
fn turbo_streams(text: &str) -> Vec<&str> {
    const CLOSE: &str = "</turbo-stream>";
    let mut streams = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<turbo-stream ") {
        let end = rest[start..]
            .find(CLOSE)
            .unwrap_or_else(|| panic!("an unclosed <turbo-stream> in {text}"))
            + start
            + CLOSE.len();
        streams.push(&rest[start..end]);
        rest = &rest[end..];
    }
    streams
}

/// The one `<turbo-stream>` element a reply consists of.
fn only_stream(reply: &Reply) -> String {
    let text = reply.text();
    let streams = turbo_streams(&text);
    assert_eq!(streams.len(), 1, "one stream element: {text}");
    assert_eq!(streams[0], text.trim_end(), "nothing else: {text}");
    streams[0].to_owned()
}

/// The content of a stream element's `<template>`: the markup it inserts.
fn template(stream: &str) -> &str {
    let start = stream.find("<template>").expect("a <template>") + "<template>".len();
    let end = stream.rfind("</template>").expect("a closed <template>");
    &stream[start..end]
}

/// The id of the record a partial renders, read from its element's `id="message_N"`.
fn record_id(markup: &str) -> u64 {
    between(markup, r#"id="message_"#, "\"")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a message's element in {markup}"))
}

/// The body a message partial shows.
fn dd_text(markup: &str) -> &str {
    between(markup, r#"<dd class="multiline">"#, "</dd>")
        .unwrap_or_else(|| panic!("a body in {markup}"))
}
