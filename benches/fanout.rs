//! Benchmark of live-update fan-out: 1,000 SSE subscribers split over two instances that share a
//! real `redis-server`, 200 creates at a steady rate, next to the same run on one instance that
//! delivers in process. Prints a table; asserts only that the app answers.
//!
//! Run with `cargo bench --bench fanout` (`FANOUT_ROUNDS=n` for more rounds; default 3). The app
//! is a release build in the shared apps target directory. Latency is measured from the moment
//! the client sends a create to the moment a subscriber's connection has the event, so it
//! includes the create itself (an SQLite insert and one render) in both setups; the difference
//! between the setups is what Redis adds. The goal is that Redis adds under 2 ms to p99.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use support::app::{
    EventParser, EventStream, Server, apps_target, between, cargo, free_port, get, post, spawn,
    stream_source,
};
use support::redis::RedisServer;

const SUBSCRIBERS: usize = 1000;
const BROADCASTS: usize = 200;
/// Creates per second, sent on a fixed schedule whatever each one takes.
const RATE: u32 = 100;
/// How long deliveries may still arrive after the last create before the rest count as lost.
const GRACE: Duration = Duration::from_secs(10);
const SECRET: &str = "a shared secret for every instance, long enough to sign";

/// What one round measured.
struct Outcome {
    delivered: usize,
    duplicates: usize,
    refreshes: usize,
    /// Send-to-receive time of every delivery, sorted.
    latencies: Vec<Duration>,
    app_cpu: Duration,
    redis_cpu: Option<Duration>,
    client_cpu: Duration,
}

impl Outcome {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let at = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[at].as_secs_f64() * 1000.0
    }
}

fn main() {
    let rounds: usize = std::env::var("FANOUT_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    support::gen_ok(dir.path(), &["new", "fanbench", "--quiet"]);
    let app = dir.path().join("fanbench");
    support::gen_ok(&app, &["resource", "room", "name:string", "--quiet"]);
    support::gen_ok(
        &app,
        &[
            "resource",
            "message",
            "body:text",
            "room:references",
            "--quiet",
        ],
    );
    let build = cargo(&app, &["build", "--release", "--quiet"]);
    eprintln!("release build: {:.1} s", build.as_secs_f64());
    let binary = apps_target().join("release/fanbench");

    let redis = RedisServer::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let secret = ("SECRET_KEY_BASE", SECRET);
    let single = spawn(
        &binary,
        &app,
        &[secret, ("DATABASE_URL", "sqlite://storage/single.sqlite3")],
        None,
    );
    let shared = [
        secret,
        ("DATABASE_URL", "sqlite://storage/shared.sqlite3"),
        ("REDIS_URL", url.as_str()),
    ];
    let a = spawn(&binary, &app, &shared, None);
    let b = spawn(&binary, &app, &shared, None);

    let clock = ClockTicks::read();
    let mut rows = Vec::new();
    for round in 1..=rounds {
        rows.push((
            "one instance, in process",
            round,
            run(&[&single], None, &clock),
        ));
        rows.push((
            "two instances + Redis",
            round,
            run(&[&a, &b], Some(&redis), &clock),
        ));
    }

    println!(
        "fan-out: {SUBSCRIBERS} SSE subscribers, {BROADCASTS} creates at {RATE}/s, release build, {} cores shared by client, apps and Redis",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("latency: from sending a create to the subscriber's connection holding the event");
    println!(
        "{:<26} {:>5} {:>15} {:>4} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9}",
        "setup",
        "round",
        "deliveries",
        "dup",
        "refresh",
        "p50 ms",
        "p99 ms",
        "max ms",
        "app CPU",
        "Redis",
        "client"
    );
    let expected = SUBSCRIBERS * BROADCASTS;
    for (setup, round, outcome) in &rows {
        println!(
            "{:<26} {:>5} {:>15} {:>4} {:>7} {:>7.2} {:>7.2} {:>7.2} {:>7.2}s {:>8} {:>8.2}s",
            setup,
            round,
            format!("{}/{expected}", outcome.delivered),
            outcome.duplicates,
            outcome.refreshes,
            outcome.percentile(50.0),
            outcome.percentile(99.0),
            outcome.percentile(100.0),
            outcome.app_cpu.as_secs_f64(),
            outcome
                .redis_cpu
                .map_or("-".to_owned(), |cpu| format!("{:.2}s", cpu.as_secs_f64())),
            outcome.client_cpu.as_secs_f64(),
        );
    }
    let median = |setup: &str, p: f64| {
        let mut values: Vec<f64> = rows
            .iter()
            .filter(|(name, _, _)| *name == setup)
            .map(|(_, _, outcome)| outcome.percentile(p))
            .collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (local_p50, redis_p50) = (
        median("one instance, in process", 50.0),
        median("two instances + Redis", 50.0),
    );
    let (local_p99, redis_p99) = (
        median("one instance, in process", 99.0),
        median("two instances + Redis", 99.0),
    );
    let all = rows.iter().all(|(_, _, outcome)| {
        outcome.delivered == expected && outcome.duplicates == 0 && outcome.refreshes == 0
    });
    println!(
        "median over {rounds} rounds: p50 {local_p50:.2} -> {redis_p50:.2} ms ({:.2}x), p99 {local_p99:.2} -> {redis_p99:.2} ms ({:.2}x)",
        redis_p50 / local_p50,
        redis_p99 / local_p99
    );
    println!(
        "Redis adds {:.2} ms to p99 (goal < 2); every event delivered exactly once: {}",
        redis_p99 - local_p99,
        if all { "yes" } else { "NO" }
    );
}

/// Subscribes `SUBSCRIBERS` browsers round-robin over `servers`, sends `BROADCASTS` creates on a
/// fixed schedule round-robin over them too, and reads every connection from this thread.
fn run(servers: &[&Server], redis: Option<&RedisServer>, clock: &ClockTicks) -> Outcome {
    let reply = post(servers[0].address, "/rooms", &[], &[("name", "Bench")]);
    assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
    let room = format!("{}/messages", reply.header("location").unwrap());
    let sources: Vec<String> = servers
        .iter()
        .map(|server| stream_source(&get(server.address, &room).text()))
        .collect();

    let mut poll = Poll::new().unwrap();
    let mut subscribers: Vec<(mio::net::TcpStream, EventParser)> = (0..SUBSCRIBERS)
        .map(|n| {
            let at = n % servers.len();
            let (connection, parser) =
                EventStream::open(servers[at].address, &sources[at], None).into_parts();
            connection.set_nonblocking(true).unwrap();
            let mut connection = mio::net::TcpStream::from_std(connection);
            poll.registry()
                .register(&mut connection, Token(n), Interest::READABLE)
                .unwrap();
            (connection, parser)
        })
        .collect();

    let pids: Vec<u32> = servers.iter().map(|server| server.pid()).collect();
    let app_before = clock.cpu_of(&pids);
    let redis_before = redis.map(|redis| clock.cpu_of(&[redis.pid()]));
    let client_before = clock.cpu_of(&[std::process::id()]);

    let start = Instant::now();
    // Nanoseconds after `start` at which each create was sent, plus one; zero means not yet.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..BROADCASTS).map(|_| AtomicU64::new(0)).collect());
    let publisher = {
        let sent = Arc::clone(&sent);
        let addresses: Vec<SocketAddr> = servers.iter().map(|server| server.address).collect();
        let room = room.clone();
        std::thread::spawn(move || {
            let every = Duration::from_secs(1) / RATE;
            for k in 0..BROADCASTS {
                let due = start + every * k as u32;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                sent[k].store(start.elapsed().as_nanos() as u64 + 1, Ordering::SeqCst);
                let address = addresses[k % addresses.len()];
                let reply = post(address, &room, &[], &[("body", &format!("bench {k}"))]);
                assert_eq!(reply.status, 303, "a create: {}", reply.text());
            }
        })
    };

    let expected = SUBSCRIBERS * BROADCASTS;
    let mut seen = vec![false; expected];
    let mut outcome = Outcome {
        delivered: 0,
        duplicates: 0,
        refreshes: 0,
        latencies: Vec::with_capacity(expected),
        app_cpu: Duration::ZERO,
        redis_cpu: None,
        client_cpu: Duration::ZERO,
    };
    let mut events = Events::with_capacity(1024);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut deadline = None;
    while outcome.delivered < expected {
        if deadline.is_none() && publisher.is_finished() {
            deadline = Some(Instant::now() + GRACE);
        }
        if deadline.is_some_and(|deadline| Instant::now() > deadline) {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in &events {
            let n = event.token().0;
            let (connection, parser) = &mut subscribers[n];
            loop {
                match connection.read(&mut buffer) {
                    Ok(0) => panic!("subscriber {n}'s stream closed"),
                    Ok(read) => {
                        let received = start.elapsed();
                        parser.feed(&buffer[..read]);
                        while let Some(event) = parser.next_event() {
                            if event.data.starts_with(r#"<turbo-stream action="refresh""#) {
                                outcome.refreshes += 1;
                                continue;
                            }
                            let k: usize = between(&event.data, ">bench ", "<")
                                .and_then(|k| k.parse().ok())
                                .unwrap_or_else(|| panic!("a bench create: {}", event.data));
                            let sent_at = sent[k].load(Ordering::SeqCst);
                            assert!(sent_at > 0, "create {k} arrived before it was sent");
                            let slot = &mut seen[n * BROADCASTS + k];
                            if *slot {
                                outcome.duplicates += 1;
                                continue;
                            }
                            *slot = true;
                            outcome.delivered += 1;
                            outcome
                                .latencies
                                .push(received.saturating_sub(Duration::from_nanos(sent_at - 1)));
                        }
                    }
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(error) => panic!("subscriber {n}: {error}"),
                }
            }
        }
    }
    publisher.join().unwrap();
    outcome.app_cpu = clock.cpu_of(&pids) - app_before;
    outcome.redis_cpu = redis
        .zip(redis_before)
        .map(|(redis, before)| clock.cpu_of(&[redis.pid()]) - before);
    outcome.client_cpu = clock.cpu_of(&[std::process::id()]) - client_before;
    outcome.latencies.sort();
    outcome
}

/// Reads processes' CPU time (user plus system) from `/proc/<pid>/stat`.
struct ClockTicks(u64);

impl ClockTicks {
    /// The kernel counts CPU time in clock ticks, usually 100 a second; `getconf` says.
    fn read() -> ClockTicks {
        let ticks = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100);
        ClockTicks(ticks)
    }

    fn cpu_of(&self, pids: &[u32]) -> Duration {
        let ticks: u64 = pids
            .iter()
            .map(|pid| {
                let stat =
                    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
                        .unwrap_or_default();
                // Fields after the command name, which is in parentheses and may hold spaces:
                // utime and stime are the 12th and 13th.
                let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let field = |at: usize| fields.get(at).and_then(|v| v.parse::<u64>().ok());
                field(11).unwrap_or(0) + field(12).unwrap_or(0)
            })
            .sum();
        Duration::from_secs_f64(ticks as f64 / self.0 as f64)
    }
}
