//! Compile-and-behave tier for fan-out across instances: two instances of one generated app share
//! a real `redis-server` that the test starts on a free loopback port, and a create made on one
//! reaches browsers on the other, replays after a reconnect to the other, and survives Redis
//! going away and coming back; the same holds over TLS with `rediss://`.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use support::app::{
    Event, EventStream, Server, apps_target, cargo, free_port, get, post, spawn, stream_source,
};
use support::redis::RedisServer;
use support::relay::Relay;
use support::tls::issue_certificates;

/// What Turbo's fetch sends, so that the app answers with Turbo Streams instead of a redirect.
const TURBO: (&str, &str) = ("Accept", "text/vnd.turbo-stream.html, text/html");

/// How many creates a subscriber misses while it is away.
const MISSED: usize = 100;

/// Both instances sign subscriptions with it, so a page from one subscribes on the other.
const SECRET: &str = "a shared secret for both instances, long enough to sign";

/// What the backend logs when Redis fails and when it answers again.
const UNAVAILABLE: &str = "Redis is unavailable";
const AVAILABLE_AGAIN: &str = "Redis is available again";

/// The app every test here runs: generated and built once, under the test target's scratch
/// directory. No other test generates an app called `fanout`, so nothing else replaces its
/// binary in the shared target directory while these tests run it.
fn app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redis_fanout");
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent).unwrap();
        support::gen_ok(&parent, &["new", "fanout"]);
        let app = parent.join("fanout");
        support::gen_ok(&app, &["resource", "room", "name:string"]);
        support::gen_ok(
            &app,
            &["resource", "message", "body:text", "room:references"],
        );
        cargo(&app, &["build"]);
        app
    })
}

/// Starts an instance of the app with `env`, logging the Redis backend at `info` into `log`.
fn instance(env: &[(&str, &str)], log: &Path) -> Server {
    let mut all = vec![
        ("SECRET_KEY_BASE", SECRET),
        ("RUST_LOG", "warn,fanout::turbo=info"),
    ];
    all.extend_from_slice(env);
    spawn(&apps_target().join("debug/fanout"), app(), &all, Some(log))
}

/// How many lines of `server`'s log contain `needle`.
fn logged(server: &Server, needle: &str) -> usize {
    server
        .log()
        .lines()
        .filter(|line| line.contains(needle))
        .count()
}

#[test]
fn two_instances_share_broadcasts_replay_and_outages_through_redis() {
    let logs = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    // Both instances serve one SQLite file, as two machines would serve one database.
    // A stream's keys in Redis live STREAM_REDIS_EXPIRY seconds after its newest event.
    let env = [
        ("REDIS_URL", url.as_str()),
        ("DATABASE_URL", "sqlite://storage/fanout.sqlite3"),
        ("STREAM_REDIS_EXPIRY", "3600"),
    ];
    let a = instance(&env, &logs.path().join("a.log"));
    let b = instance(&env, &logs.path().join("b.log"));
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

    // Each instance follows a stream name with one Redis subscription, however many browsers
    // follow it there: Redis counts two subscribers to the channel, not five.
    let key = format!("fanout:turbo:{}", stream_name(b.address, &room));
    let more: Vec<EventStream> = (0..3).map(|_| subscribe(b.address, &room, None)).collect();
    let numsub = redis.cli(&["PUBSUB", "NUMSUB", &key]);
    assert_eq!(
        numsub.lines().last(),
        Some("2"),
        "two instances, five browsers: {numsub:?}"
    );
    drop(more);
    // The expiry the instances were given, not the default day.
    let ttl: i64 = redis.cli(&["PTTL", &key]).trim().parse().unwrap();
    assert!(
        (1..=3_600_000).contains(&ttl),
        "{key} expires in {ttl} ms, within STREAM_REDIS_EXPIRY"
    );

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
    let newest = on_b.next_event();
    assert_eq!(newest.data, after);

    // The history is trimmed past a subscriber's last event, as `XADD … MAXLEN ~` does once a
    // stream outgrows it: the reconnect gets a refresh, then live events again.
    let trimmed: usize = redis.cli(&["XTRIM", &key, "MAXLEN", "1"]).parse().unwrap();
    assert!(trimmed > MISSED, "XTRIM removed {trimmed} entries");
    let mut late = subscribe(b.address, &room, Some(&seen.id));
    let refresh = late.next_event();
    assert!(is_refresh(&refresh), "a gap the history lost: {refresh:?}");
    assert_eq!(
        refresh.id, newest.id,
        "the refresh resumes from the newest event the stream still holds"
    );
    let next = create(a.address, &room, "after the trim");
    assert_eq!(
        late.next_event().data,
        next,
        "live events follow the refresh"
    );
    assert_eq!(on_b.next_event().data, next);
    drop(late);

    // Redis goes away: pages and creates keep answering on both instances, and each instance
    // logs the outage once, however many messages it publishes meanwhile.
    redis.stop();
    for address in [a.address, b.address] {
        assert_eq!(get(address, &room).status, 200, "the page without Redis");
        for n in 1..=3 {
            let reply = post(address, &room, &[], &[("body", &format!("while down {n}"))]);
            assert_eq!(
                reply.status,
                303,
                "a create without Redis: {}",
                reply.text()
            );
        }
        let reply = post(address, &room, &[TURBO], &[("body", "while Redis is down")]);
        assert_eq!(reply.status, 200, "a Turbo create without Redis");
    }
    let local = create(b.address, &room, "local while Redis is down");
    let delivered = std::iter::repeat_with(|| on_b.next_event())
        .find(|event| event.data.contains("local while Redis is down"))
        .unwrap();
    assert_eq!(
        delivered.data, local,
        "B's own subscriber still gets B's creates"
    );
    // Let the once-a-second ping fail a few times too.
    std::thread::sleep(Duration::from_millis(2500));
    for (name, server) in [("A", &a), ("B", &b)] {
        assert_eq!(
            logged(server, UNAVAILABLE),
            1,
            "{name} logs one line per outage:\n{}",
            server.log()
        );
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

    // Subscribers that stayed connected through the outage may have missed the other instance's
    // creates, so each is sent a refresh; its id is the last event it saw, where a reconnect
    // would resume.
    for (name, stream) in [("A", &mut on_a), ("B", &mut on_b)] {
        let before = until_refresh(stream);
        assert!(
            !before.iter().any(|event| event.data.contains("back ")),
            "{name}'s refresh comes before the first event fanned out after Redis returned"
        );
        assert!(
            before.iter().all(|event| !event.id.is_empty()),
            "every event carries an id on {name}"
        );
    }

    for (name, server) in [("A", &a), ("B", &b)] {
        let deadline = Instant::now() + Duration::from_secs(5);
        while logged(server, AVAILABLE_AGAIN) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            (logged(server, UNAVAILABLE), logged(server, AVAILABLE_AGAIN)),
            (1, 1),
            "{name} logs the outage and the recovery once each:\n{}",
            server.log()
        );
    }
}

#[test]
fn rediss_urls_fan_out_over_tls_and_check_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let tls = issue_certificates(dir.path());
    let port = free_port();
    let port_text = port.to_string();
    let _redis = RedisServer::start_with(
        port,
        &[
            "--port",
            "0",
            "--tls-port",
            &port_text,
            "--tls-cert-file",
            &tls.cert,
            "--tls-key-file",
            &tls.key,
            "--tls-ca-cert-file",
            &tls.ca,
            "--tls-auth-clients",
            "no",
        ],
    );
    let url = format!("rediss://127.0.0.1:{port}");
    let database = ("DATABASE_URL", "sqlite://storage/fanout_tls.sqlite3");
    let trusting = [
        ("REDIS_URL", url.as_str()),
        ("SSL_CERT_FILE", tls.ca.as_str()),
        database,
    ];
    let a = instance(&trusting, &dir.path().join("a.log"));
    let b = instance(&trusting, &dir.path().join("b.log"));
    let room = create_room(a.address);
    let mut on_b = subscribe(b.address, &room, None);
    let sent = create(a.address, &room, "over TLS");
    assert_eq!(
        on_b.next_event().data,
        sent,
        "a create on A reaches B over TLS"
    );

    // An instance that does not trust the server's CA refuses to talk to it: it serves its own
    // subscribers, says why once, and its creates reach nobody else.
    let untrusting = instance(
        &[("REDIS_URL", url.as_str()), database],
        &dir.path().join("c.log"),
    );
    let mut on_c = subscribe(untrusting.address, &room, None);
    let local = create(untrusting.address, &room, "only on C");
    assert_eq!(on_c.next_event().data, local, "C's own subscriber gets it");
    let deadline = Instant::now() + Duration::from_secs(5);
    while logged(&untrusting, UNAVAILABLE) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = untrusting.log();
    assert_eq!(logged(&untrusting, UNAVAILABLE), 1, "{log}");
    assert!(log.to_lowercase().contains("certificate"), "{log}");
    let after = create(a.address, &room, "after C's create");
    assert_eq!(on_b.next_event().data, after, "C's create never reached B");
}

#[test]
fn an_instance_that_alone_lost_redis_sends_a_refresh_when_it_returns() {
    let logs = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(free_port());
    // A reaches Redis through a relay the test can cut; B reaches it directly.
    let relay = Relay::start(redis.port);
    let through_relay = format!("redis://127.0.0.1:{}", relay.port);
    let direct = format!("redis://127.0.0.1:{}", redis.port);
    let database = ("DATABASE_URL", "sqlite://storage/fanout_partition.sqlite3");
    let a = instance(
        &[("REDIS_URL", through_relay.as_str()), database],
        &logs.path().join("a.log"),
    );
    let b = instance(
        &[("REDIS_URL", direct.as_str()), database],
        &logs.path().join("b.log"),
    );
    let room = create_room(a.address);
    let mut on_b = subscribe(b.address, &room, None);
    let before = create(a.address, &room, "before the partition");
    assert_eq!(on_b.next_event().data, before);

    // While A cannot reach Redis, its create reaches only its own subscribers: B's page misses it.
    let mut on_a = subscribe(a.address, &room, None);
    relay.cut();
    let alone = create(a.address, &room, "only A saw this");
    assert_eq!(on_a.next_event().data, alone, "A's subscriber gets it");
    let deadline = Instant::now() + Duration::from_secs(5);
    while logged(&a, UNAVAILABLE) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(logged(&a, UNAVAILABLE), 1, "A notices:\n{}", a.log());
    assert_eq!(
        logged(&b, UNAVAILABLE),
        0,
        "B never lost Redis:\n{}",
        b.log()
    );

    // Once A reaches Redis again, B's subscriber, which missed the create, is sent a refresh
    // so that its page shows it, and live events go on after it.
    relay.restore();
    let refresh = on_b.next_event();
    assert!(
        is_refresh(&refresh),
        "the next thing B's subscriber sees is a refresh: {refresh:?}"
    );
    let after = create(a.address, &room, "after the partition");
    assert_eq!(on_b.next_event().data, after, "fan-out resumed");
}

/// Reads events until a refresh and returns the ones before it.
fn until_refresh(stream: &mut EventStream) -> Vec<Event> {
    let mut before = Vec::new();
    loop {
        let event = stream.next_event();
        if is_refresh(&event) {
            return before;
        }
        before.push(event);
    }
}

fn is_refresh(event: &Event) -> bool {
    event.data.starts_with(r#"<turbo-stream action="refresh""#)
}

/// The stream name the messages page subscribes to.
fn stream_name(address: SocketAddr, messages: &str) -> String {
    let src = stream_source(&get(address, messages).text());
    let query = src.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "stream")
        .expect("a stream parameter")
        .1
        .into_owned()
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
