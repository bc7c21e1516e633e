//! Compile-and-behave tier for fan-out across instances: two instances of one generated app share
//! a real `redis-server` that the test starts on a free loopback port, and a create made on one
//! reaches browsers on the other, replays after a reconnect to the other, and survives Redis
//! going away and coming back.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::app::{Event, EventStream, cargo, free_port, get, post, start_with, stream_source};

/// What Turbo's fetch sends, so that the app answers with Turbo Streams instead of a redirect.
const TURBO: (&str, &str) = ("Accept", "text/vnd.turbo-stream.html, text/html");

/// How many creates a subscriber misses while it is away.
const MISSED: usize = 100;

/// A `redis-server` without persistence, stopped when the test ends, however it ends.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server runs (tests/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisServer { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn two_instances_share_broadcasts_replay_and_outages_through_redis() {
    let parent = tempfile::tempdir().unwrap();
    // No other test generates an app called `fanout`, so nothing else replaces its binary in the
    // shared target directory while this test runs it.
    support::gen_ok(parent.path(), &["new", "fanout"]);
    let app = parent.path().join("fanout");
    support::gen_ok(&app, &["resource", "room", "name:string"]);
    support::gen_ok(
        &app,
        &["resource", "message", "body:text", "room:references"],
    );
    cargo(&app, &["build"]);

    let mut redis = RedisServer::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let env = [
        ("REDIS_URL", url.as_str()),
        (
            "SECRET_KEY_BASE",
            "a shared secret for both instances, long enough to sign",
        ),
    ];
    // Both instances serve one SQLite file, as two machines would serve one database.
    let a = start_with(&app, "fanout", &env);
    let b = start_with(&app, "fanout", &env);
    let room = create_room(a.address);

    // A create on A reaches B with the bytes A's own subscriber got, once each.
    let mut on_a = subscribe(a.address, &room, None);
    let mut on_b = subscribe(b.address, &room, None);
    let first = create(a.address, &room, "hello from A");
    let seen_a = on_a.next_event();
    let seen_b = on_b.next_event();
    assert_eq!(seen_a.data, first, "A's subscriber gets the create");
    assert_eq!(seen_b, seen_a, "B's subscriber gets the same id and bytes");
    let second = create(b.address, &room, "hello from B");
    assert_eq!(on_a.next_event().data, second, "nothing arrived twice on A");
    assert_eq!(on_b.next_event().data, second, "nothing arrived twice on B");

    // A subscriber leaves A, misses creates, and comes back to B with Last-Event-ID.
    let mut reader = subscribe(a.address, &room, None);
    let last = create(a.address, &room, "before the gap");
    let seen = reader.next_event();
    assert_eq!(seen.data, last);
    drop(reader);
    let missed: Vec<String> = (1..=MISSED)
        .map(|n| create(a.address, &room, &format!("missed {n}")))
        .collect();
    let live: Vec<Event> = (0..=MISSED).map(|_| on_b.next_event()).collect();
    let live = &live[1..];
    let mut reader = subscribe(b.address, &room, Some(&seen.id));
    let replayed: Vec<Event> = (0..MISSED).map(|_| reader.next_event()).collect();
    assert_eq!(
        replayed.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
        missed,
        "the replay on B is the {MISSED} missed creates, in order"
    );
    assert_eq!(replayed, live, "with the ids B's live subscriber saw");
    let after = create(a.address, &room, "live after the replay");
    assert_eq!(
        reader.next_event().data,
        after,
        "nothing was replayed twice"
    );
    drop(reader);

    // Redis goes away: pages and creates keep answering on both instances.
    redis.stop();
    for address in [a.address, b.address] {
        assert_eq!(get(address, &room).status, 200, "the page without Redis");
        let reply = post(address, &room, &[], &[("body", "while Redis is down")]);
        assert_eq!(
            reply.status,
            303,
            "a create without Redis: {}",
            reply.text()
        );
        let reply = post(address, &room, &[TURBO], &[("body", "while Redis is down")]);
        assert_eq!(reply.status, 200, "a Turbo create without Redis");
    }

    // Redis comes back on the same port: fan-out resumes by itself within five seconds.
    let _redis = RedisServer::start(redis.port);
    let restarted = Instant::now();
    let found = Arc::new(AtomicBool::new(false));
    let poster = {
        let (found, room, address) = (Arc::clone(&found), room.clone(), a.address);
        std::thread::spawn(move || {
            let mut n = 0;
            while !found.load(Ordering::Relaxed) && restarted.elapsed() < Duration::from_secs(8) {
                n += 1;
                let reply = post(address, &room, &[], &[("body", &format!("back {n}"))]);
                assert_eq!(reply.status, 303);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let mut fresh = subscribe(b.address, &room, None);
    fresh.event_containing("back ");
    found.store(true, Ordering::Relaxed);
    let took = restarted.elapsed();
    poster.join().unwrap();
    assert!(
        took < Duration::from_secs(5),
        "cross-instance delivery resumed after {took:?}"
    );
}

/// Creates a room with a plain form POST and returns its messages path.
fn create_room(address: SocketAddr) -> String {
    let reply = post(address, "/rooms", &[], &[("name", "Lobby")]);
    assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
    let location = reply.header("location").expect("a redirect to the room");
    format!("{location}/messages")
}

/// Creates a message as Turbo does and returns the reply's `append` element, which is the bytes
/// every subscriber must receive.
fn create(address: SocketAddr, messages: &str, body: &str) -> String {
    let reply = post(address, messages, &[TURBO], &[("body", body)]);
    assert_eq!(reply.status, 200, "a Turbo create: {}", reply.text());
    let text = reply.text();
    let end = text.find("</turbo-stream>").expect("an append element") + "</turbo-stream>".len();
    text[..end].to_owned()
}

/// Subscribes with the `<turbo-stream-source>` the messages page renders on that instance.
fn subscribe(address: SocketAddr, messages: &str, last_event_id: Option<&str>) -> EventStream {
    let page = get(address, messages);
    assert_eq!(page.status, 200);
    let src = stream_source(&page.text());
    EventStream::open(address, &src, last_event_id)
}
