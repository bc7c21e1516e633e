//! Benchmark of live-update fan-out: the generated app against a bare axum SSE baseline, at 100,
//! 1,000 and 5,000 subscribers on one stream, and what each subscriber costs the server.
//!
//! Run with `cargo bench --bench fanout`. In one invocation, on loopback, it builds a generated
//! rooms-and-messages app and the baseline in `benches/fanout_baseline/` (both release builds in
//! the shared apps target directory), then, for every subscriber count and round, starts fresh
//! servers of three setups:
//!
//! - `baseline`: the smallest correct axum SSE server, one `tokio::sync::broadcast` channel and
//!   a `POST /publish` that sends its body, pre-rendered and padded to the size of the app's
//!   event, to every subscriber;
//! - `app`: one instance of the app delivering in process;
//! - `app + Redis`: two instances sharing a `redis-server`, subscribers split between them.
//!
//! Each run subscribes every client, then sends 200 publishes on a fixed schedule, the
//! way a user would cause them (a form POST creating a message on the app, a POST to the
//! publish endpoint on the baseline), and reads every connection from one thread. Latency runs
//! from sending the POST to a subscriber's connection holding the event, so the app's includes
//! its SQLite insert and its one render. CPU is the servers' user plus system time from the first
//! publish to the last delivery (`/proc/<pid>/stat`); peak RSS is `VmHWM`; RSS per subscriber
//! is `VmRSS` once every event is delivered, with the subscribers still connected, less `VmRSS`
//! before the first subscription, divided by the subscribers. The table holds the median of the
//! rounds, and the app's ratios to the baseline of the same round and count. It asserts that
//! every event reached every subscriber exactly once, never anything about time.
//!
//! Publishes go out at 50 a second, or fewer where that would pass 50,000 deliveries a second
//! (10 a second to 5,000 subscribers): two shared cores cannot carry more, baseline included.
//! `FANOUT_ROUNDS` (default 3), `FANOUT_SUBSCRIBERS` (default `100,1000,5000`; any count that
//! fits the hard open-files limit, which the client and each server raise themselves to) and
//! `FANOUT_RATE` (the most publishes a second, default 50) change the run.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use support::app::{
    EventParser, EventStream, Server, apps_target, between, cargo, free_port, get, post, request,
    spawn, stream_source,
};
use support::redis::RedisServer;

const BROADCASTS: usize = 200;
/// Publishes a second stay under this many deliveries a second, so that 5,000 subscribers get
/// 10 events a second (a very busy room) rather than more than two shared cores can carry.
const DELIVERIES_PER_SECOND: usize = 50_000;
/// How long deliveries may still arrive after the last publish before the rest count as lost.
const GRACE: Duration = Duration::from_secs(20);
const SECRET: &str = "a shared secret for every instance, long enough to sign";
/// The baseline's source, copied next to the app so it builds with the app's lock file.
const BASELINE_MANIFEST: &str = include_str!("fanout_baseline/Cargo.toml");
const BASELINE_MAIN: &str = include_str!("fanout_baseline/main.rs");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    Baseline,
    App,
    AppRedis,
}

impl Setup {
    const ALL: [Setup; 3] = [Setup::Baseline, Setup::App, Setup::AppRedis];

    fn label(self) -> &'static str {
        match self {
            Setup::Baseline => "baseline",
            Setup::App => "app",
            Setup::AppRedis => "app + Redis, 2 instances",
        }
    }
}

/// What the benchmark starts servers from.
struct Bench {
    app: PathBuf,
    app_binary: PathBuf,
    baseline: PathBuf,
    baseline_binary: PathBuf,
    /// The length the baseline's payloads are padded to, so that its events are as long as the
    /// app's on the wire.
    baseline_payload: usize,
    /// The most publishes a second, whatever the number of subscribers.
    max_rate: usize,
    clock: ClockTicks,
}

impl Bench {
    /// Publishes a second for `subscribers`.
    fn rate(&self, subscribers: usize) -> usize {
        self.max_rate
            .min(DELIVERIES_PER_SECOND / subscribers.max(1))
            .max(1)
    }
}

/// How one publish is sent.
#[derive(Clone)]
enum Publish {
    /// A form POST creating a message in a room: `/rooms/1/messages`.
    Create(String),
    /// A POST of a pre-rendered payload this long to the baseline.
    Payload(usize),
}

/// What one run measured.
struct Outcome {
    setup: Setup,
    subscribers: usize,
    delivered: usize,
    duplicates: usize,
    refreshes: usize,
    /// Send-to-receive time of every delivery, sorted.
    latencies: Vec<Duration>,
    /// How long each publish took to answer, sorted.
    replies: Vec<Duration>,
    /// The app's or baseline's processes, and `redis-server`.
    server_cpu: Duration,
    client_cpu: Duration,
    /// Bytes, summed over the setup's app or baseline processes.
    peak_rss: u64,
    rss_before: u64,
    rss_connected: u64,
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

    fn reply_p50(&self) -> f64 {
        self.replies
            .get(self.replies.len() / 2)
            .map_or(f64::NAN, |reply| reply.as_secs_f64() * 1000.0)
    }

    fn expected(&self) -> usize {
        self.subscribers * BROADCASTS
    }

    fn rss_per_subscriber(&self) -> f64 {
        self.rss_connected.saturating_sub(self.rss_before) as f64 / self.subscribers as f64
    }

    fn exact(&self) -> bool {
        self.delivered == self.expected() && self.duplicates == 0 && self.refreshes == 0
    }
}

fn main() {
    let rounds: usize = env_number("FANOUT_ROUNDS").unwrap_or(3).max(1);
    let max_rate: usize = env_number("FANOUT_RATE").unwrap_or(50).max(1);
    let counts: Vec<usize> = std::env::var("FANOUT_SUBSCRIBERS")
        .ok()
        .map(|list| {
            list.split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("FANOUT_SUBSCRIBERS is a list of numbers")
                })
                .collect()
        })
        .unwrap_or_else(|| vec![100, 1000, 5000]);
    let files = raise_open_files_limit();
    eprintln!("open files limit: {files}");
    // The client holds every subscriber's connection, and a server all of its own, beside a few
    // dozen files of their own.
    let most = counts.iter().copied().max().unwrap_or(0) as u64;
    assert!(
        most + 200 <= files,
        "{most} subscribers need an open-files limit of at least {}; the hard limit is {files}",
        most + 200
    );

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
    eprintln!("app release build: {:.1} s", build.as_secs_f64());

    // The baseline resolves its dependencies from the app's lock file, so it links the very
    // axum, hyper and tokio versions the app runs.
    let baseline = dir.path().join("fanout-baseline");
    std::fs::create_dir_all(&baseline).unwrap();
    std::fs::write(baseline.join("Cargo.toml"), BASELINE_MANIFEST).unwrap();
    std::fs::write(baseline.join("main.rs"), BASELINE_MAIN).unwrap();
    std::fs::copy(app.join("Cargo.lock"), baseline.join("Cargo.lock")).unwrap();
    let build = cargo(&baseline, &["build", "--release", "--quiet"]);
    eprintln!("baseline release build: {:.1} s", build.as_secs_f64());

    let mut bench = Bench {
        app_binary: apps_target().join("release/fanbench"),
        app,
        baseline_binary: apps_target().join("release/fanout-baseline"),
        baseline,
        baseline_payload: 0,
        max_rate,
        clock: ClockTicks::read(),
    };
    let app_event = app_event_size(&bench);
    // The baseline's first event is `id: 1\ndata: <payload>\n\n`, as the app's first is
    // `id: <id>\ndata: <line>\n…\n\n`.
    bench.baseline_payload = app_event - "id: 1\ndata: \n\n".len();
    let baseline_event = baseline_event_size(&bench);
    assert_eq!(
        baseline_event, app_event,
        "the baseline's event is as long as the app's"
    );

    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    for round in 1..=rounds {
        for &subscribers in &counts {
            for setup in Setup::ALL {
                let outcome = run(&bench, setup, subscribers);
                eprintln!(
                    "round {round}: {:<24} {:>5} subscribers: {}/{} delivered, p99 {:.2} ms, CPU {:.2} s",
                    setup.label(),
                    subscribers,
                    outcome.delivered,
                    outcome.expected(),
                    outcome.percentile(99.0),
                    outcome.server_cpu.as_secs_f64(),
                );
                outcomes.push((round, outcome));
            }
        }
    }

    report(&bench, &counts, rounds, app_event, &outcomes);
    assert!(
        outcomes.iter().all(|(_, outcome)| outcome.exact()),
        "every event reaches every subscriber exactly once"
    );
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

/// Prints the table of medians over the rounds, then the goals.
fn report(
    bench: &Bench,
    counts: &[usize],
    rounds: usize,
    event_size: usize,
    outcomes: &[(usize, Outcome)],
) {
    println!(
        "fan-out: {BROADCASTS} publishes to every subscriber of one stream, loopback, release builds, {} cores shared by the client and the servers",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "each event is {event_size} bytes of SSE text in the app and the baseline; median of {rounds} round(s); ratios are app / baseline of the same round"
    );
    println!(
        "{:<24} {:>5} {:>6} {:>17} {:>3} {:>7} {:>8} {:>7} {:>7} {:>7} {:>6} {:>7} {:>6} {:>6} {:>6} {:>6}",
        "setup",
        "subs",
        "rate/s",
        "delivered",
        "dup",
        "refresh",
        "reply ms",
        "p50 ms",
        "p99 ms",
        "max ms",
        "CPU s",
        "peak MB",
        "KB/sub",
        "client",
        "p99 x",
        "CPU x"
    );
    for &subscribers in counts {
        for setup in Setup::ALL {
            let row: Vec<&(usize, Outcome)> = outcomes
                .iter()
                .filter(|(_, o)| o.setup == setup && o.subscribers == subscribers)
                .collect();
            let of = |f: &dyn Fn(&Outcome) -> f64| median(row.iter().map(|(_, o)| f(o)));
            let ratio = |f: &dyn Fn(&Outcome) -> f64| {
                if setup == Setup::Baseline {
                    return "-".to_owned();
                }
                format!("{:.2}", ratio_to_baseline(outcomes, setup, subscribers, f))
            };
            println!(
                "{:<24} {:>5} {:>6} {:>17} {:>3} {:>7} {:>8.2} {:>7.2} {:>7.2} {:>7.2} {:>6.2} {:>7.1} {:>6.1} {:>6.2} {:>6} {:>6}",
                setup.label(),
                subscribers,
                bench.rate(subscribers),
                format!(
                    "{}/{}",
                    row.iter().map(|(_, o)| o.delivered).sum::<usize>(),
                    row.iter().map(|(_, o)| o.expected()).sum::<usize>()
                ),
                row.iter().map(|(_, o)| o.duplicates).sum::<usize>(),
                row.iter().map(|(_, o)| o.refreshes).sum::<usize>(),
                of(&|o| o.reply_p50()),
                of(&p50),
                of(&p99),
                row.iter()
                    .map(|(_, o)| o.percentile(100.0))
                    .fold(0.0, f64::max),
                of(&cpu),
                of(&|o| o.peak_rss as f64 / 1e6),
                of(&|o| o.rss_per_subscriber() / 1e3),
                of(&|o| o.client_cpu.as_secs_f64()),
                ratio(&p99),
                ratio(&cpu),
            );
        }
    }
    println!(
        "delivered, dup and refresh sum every round; reply ms is the p50 time to the publish's reply; latency runs from sending the publish to the subscriber holding the event; max ms is the largest of any round"
    );
    println!(
        "CPU s is the server processes' user + system time (the app's instances plus redis-server); peak MB is VmHWM and KB/sub the growth of VmRSS per connected subscriber, both summed over instances; client is this benchmark's own CPU"
    );

    let all = outcomes.iter().all(|(_, outcome)| outcome.exact());
    println!(
        "every event delivered to every subscriber exactly once: {}",
        if all { "yes" } else { "NO" }
    );
    if counts.contains(&1000) {
        println!(
            "goal at 1,000 subscribers, app in process / baseline: p99 {:.2}x (goal <= 1.25), CPU {:.2}x (goal <= 1.25)",
            ratio_to_baseline(outcomes, Setup::App, 1000, &p99),
            ratio_to_baseline(outcomes, Setup::App, 1000, &cpu),
        );
        let redis_adds = median(
            outcomes
                .iter()
                .filter(|(_, o)| o.setup == Setup::AppRedis && o.subscribers == 1000)
                .filter_map(|(round, redis)| {
                    let local = outcomes.iter().find(|(r, o)| {
                        r == round && o.setup == Setup::App && o.subscribers == 1000
                    })?;
                    Some(p99(redis) - p99(&local.1))
                }),
        );
        println!(
            "Redis and a second instance add {redis_adds:.2} ms to the app's p99 at 1,000 subscribers (goal < 2)"
        );
    }
    if counts.contains(&5000) {
        let row = || {
            outcomes
                .iter()
                .filter(|(_, o)| o.setup == Setup::App && o.subscribers == 5000)
        };
        println!(
            "goal at 5,000 subscribers on one instance: all delivered: {}, p99 {:.2} ms (goal < 100), {:.1} KB RSS per subscriber (goal < 40)",
            if row().all(|(_, o)| o.exact()) {
                "yes"
            } else {
                "NO"
            },
            median(row().map(|(_, o)| p99(o))),
            median(row().map(|(_, o)| o.rss_per_subscriber() / 1e3)),
        );
    }
    if counts.contains(&10_000) {
        let row = || {
            outcomes
                .iter()
                .filter(|(_, o)| o.setup == Setup::App && o.subscribers == 10_000)
        };
        println!(
            "goal at 10,000 subscribers on one instance: all delivered: {}, p99 {:.2} ms ({:.2}x the baseline's), CPU {:.2}x the baseline's (goal <= 1.25), {:.1} KB RSS per subscriber (goal < 20)",
            if row().all(|(_, o)| o.exact()) {
                "yes"
            } else {
                "NO"
            },
            median(row().map(|(_, o)| p99(o))),
            ratio_to_baseline(outcomes, Setup::App, 10_000, &p99),
            ratio_to_baseline(outcomes, Setup::App, 10_000, &cpu),
            median(row().map(|(_, o)| o.rss_per_subscriber() / 1e3)),
        );
    }
}

fn p50(outcome: &Outcome) -> f64 {
    outcome.percentile(50.0)
}

fn p99(outcome: &Outcome) -> f64 {
    outcome.percentile(99.0)
}

fn cpu(outcome: &Outcome) -> f64 {
    outcome.server_cpu.as_secs_f64()
}

/// The median over rounds of `f` for `setup` divided by `f` for the baseline of the same round.
fn ratio_to_baseline(
    outcomes: &[(usize, Outcome)],
    setup: Setup,
    subscribers: usize,
    f: &dyn Fn(&Outcome) -> f64,
) -> f64 {
    median(
        outcomes
            .iter()
            .filter(|(_, o)| o.setup == setup && o.subscribers == subscribers)
            .filter_map(|(round, outcome)| {
                let (_, base) = outcomes.iter().find(|(r, o)| {
                    r == round && o.subscribers == subscribers && o.setup == Setup::Baseline
                })?;
                Some(f(outcome) / f(base))
            }),
    )
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Starts the app's release binary with a database of its own (or the one `database` names).
fn start_app(bench: &Bench, database: &str, redis: Option<&str>) -> Server {
    let url = format!("sqlite://storage/{database}.sqlite3");
    // Every subscriber of the benchmark connects from the loopback address, which the app's
    // per-client cap on stream connections would otherwise stop at 50.
    let mut env = vec![
        ("SECRET_KEY_BASE", SECRET),
        ("DATABASE_URL", url.as_str()),
        ("STREAM_MAX_PER_CLIENT", "20000"),
        ("STREAM_MAX_CONNECTIONS", "20000"),
    ];
    if let Some(redis) = redis {
        env.push(("REDIS_URL", redis));
    }
    spawn(&bench.app_binary, &bench.app, &env, None)
}

/// A fresh database name for every server the benchmark starts.
fn database_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Creates a room; returns the path that creates messages in it and the signed stream source
/// of its page on each server.
fn room(servers: &[Server]) -> (String, Vec<String>) {
    let reply = post(servers[0].address, "/rooms", &[], &[("name", "Bench")]);
    assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
    let messages = format!("{}/messages", reply.header("location").unwrap());
    let sources = servers
        .iter()
        .map(|server| stream_source(&get(server.address, &messages).text()))
        .collect();
    (messages, sources)
}

/// Sends publish number `k`.
fn publish(address: SocketAddr, how: &Publish, k: usize) {
    match how {
        Publish::Create(messages) => {
            let reply = post(address, messages, &[], &[("body", &format!("bench {k}"))]);
            assert_eq!(reply.status, 303, "a create: {}", reply.text());
        }
        Publish::Payload(length) => {
            let mut payload = format!("<p>bench {k}</p>");
            let padding = length.saturating_sub(payload.len());
            payload.extend(std::iter::repeat_n('.', padding));
            let headers = [("Content-Type", "text/html; charset=utf-8")];
            let reply = request(address, "POST", "/publish", &headers, &payload);
            assert_eq!(reply.status, 204, "a publish: {}", reply.text());
        }
    }
}

/// How many bytes of SSE text one subscriber receives for the app's first create.
fn app_event_size(bench: &Bench) -> usize {
    let server = start_app(bench, &database_name(), None);
    let (messages, sources) = room(std::slice::from_ref(&server));
    event_size(&server, &sources[0], &Publish::Create(messages))
}

fn baseline_event_size(bench: &Bench) -> usize {
    let server = spawn(&bench.baseline_binary, &bench.baseline, &[], None);
    event_size(
        &server,
        "/events",
        &Publish::Payload(bench.baseline_payload),
    )
}

fn event_size(server: &Server, source: &str, how: &Publish) -> usize {
    let mut stream = EventStream::open(server.address, source, None);
    let before = stream.received().len();
    publish(server.address, how, 0);
    let event = stream.next_event();
    assert!(event.data.contains(">bench 0<"), "{}", event.data);
    stream.received().len() - before
}

/// Starts fresh servers for `setup`, subscribes `subscribers` clients round-robin over them,
/// sends `BROADCASTS` publishes on a fixed schedule round-robin over them too, and reads every
/// connection from this thread.
fn run(bench: &Bench, setup: Setup, subscribers: usize) -> Outcome {
    let redis = (setup == Setup::AppRedis).then(|| RedisServer::start(free_port()));
    let redis_url = redis
        .as_ref()
        .map(|redis| format!("redis://127.0.0.1:{}", redis.port));
    let servers: Vec<Server> = match setup {
        Setup::Baseline => vec![spawn(&bench.baseline_binary, &bench.baseline, &[], None)],
        Setup::App => vec![start_app(bench, &database_name(), None)],
        Setup::AppRedis => {
            let database = database_name();
            (0..2)
                .map(|_| start_app(bench, &database, redis_url.as_deref()))
                .collect()
        }
    };
    let (how, sources) = match setup {
        Setup::Baseline => (
            Publish::Payload(bench.baseline_payload),
            vec!["/events".to_owned()],
        ),
        Setup::App | Setup::AppRedis => {
            let (messages, sources) = room(&servers);
            (Publish::Create(messages), sources)
        }
    };
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let rss_before = memory(&pids, "VmRSS:");

    let mut poll = Poll::new().unwrap();
    let mut clients: Vec<(mio::net::TcpStream, EventParser)> = (0..subscribers)
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

    let mut measured = pids.clone();
    measured.extend(redis.as_ref().map(RedisServer::pid));
    let server_before = bench.clock.cpu_of(&measured);
    let client_before = bench.clock.cpu_of(&[std::process::id()]);

    let start = Instant::now();
    // Nanoseconds after `start` at which each publish was sent, plus one; zero means not yet.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..BROADCASTS).map(|_| AtomicU64::new(0)).collect());
    let publisher = {
        let sent = Arc::clone(&sent);
        let addresses: Vec<SocketAddr> = servers.iter().map(|server| server.address).collect();
        let every = Duration::from_secs(1) / bench.rate(subscribers) as u32;
        std::thread::spawn(move || {
            let mut replies = Vec::with_capacity(BROADCASTS);
            for k in 0..BROADCASTS {
                let due = start + every * k as u32;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let sending = Instant::now();
                sent[k].store(start.elapsed().as_nanos() as u64 + 1, Ordering::SeqCst);
                publish(addresses[k % addresses.len()], &how, k);
                replies.push(sending.elapsed());
            }
            replies
        })
    };

    let expected = subscribers * BROADCASTS;
    let mut seen = vec![false; expected];
    let mut outcome = Outcome {
        setup,
        subscribers,
        delivered: 0,
        duplicates: 0,
        refreshes: 0,
        latencies: Vec::with_capacity(expected),
        replies: Vec::new(),
        server_cpu: Duration::ZERO,
        client_cpu: Duration::ZERO,
        peak_rss: 0,
        rss_before,
        rss_connected: 0,
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
            let (connection, parser) = &mut clients[n];
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
                                .unwrap_or_else(|| panic!("a bench event: {}", event.data));
                            let sent_at = sent[k].load(Ordering::SeqCst);
                            assert!(sent_at > 0, "event {k} arrived before it was sent");
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
                        parser.forget_consumed();
                    }
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(error) => panic!("subscriber {n}: {error}"),
                }
            }
        }
    }
    outcome.replies = publisher.join().unwrap();
    outcome.replies.sort();
    outcome.server_cpu = bench.clock.cpu_of(&measured) - server_before;
    outcome.client_cpu = bench.clock.cpu_of(&[std::process::id()]) - client_before;
    outcome.rss_connected = memory(&pids, "VmRSS:");
    outcome.peak_rss = memory(&pids, "VmHWM:");
    outcome.latencies.sort();
    drop(clients);
    outcome
}

/// A memory figure of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`) summed over `pids`, in bytes.
fn memory(pids: &[u32], field: &str) -> u64 {
    pids.iter()
        .map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
            let kilobytes: u64 = status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|value| value.trim().strip_suffix("kB"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
            kilobytes * 1024
        })
        .sum()
}

/// Raises this process's soft limit on open files to the hard limit, so that 10,000 connections
/// fit in the client and, since children inherit it, in each server. Returns the new limit.
fn raise_open_files_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    setrlimit(Resource::Nofile, limit).expect("raising the open files limit");
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
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
