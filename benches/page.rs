//! Benchmark of a paginated list at depth: `GET` of the first page of a room's messages when
//! the room holds 50,000 of them, against a room that holds 50, on a release build of the
//! generated app.
//!
//! Run with `cargo bench --bench page`. It generates a rooms-and-messages app, builds it in
//! release mode in the shared apps target directory, starts it on loopback with a database of
//! its own, creates two rooms and seeds them straight into the SQLite file with `sqlite3` (one
//! statement each, as a seed script would; seeds do not broadcast): 50 messages in the small
//! room, 50,000 in the large one, every message with the same 120-character body, so that a
//! record is the same size in both. Then it requests the two first pages in turn, small and
//! large alternating and each pair's order swapped every other time, so that a drift of the
//! machine's speed falls on both alike. Each request is a new loopback connection reading the
//! whole reply, as `support::app::get` does, and is timed from connecting to the last byte.
//! It prints, per room, the bytes of HTML, p50 and p99, the ratio of the large room's p50 to
//! the small one's and the median of the pairs' ratios; the same for the lazy count frame
//! (`…/summary`), which the page loads after it and which counts every message of the room.
//! It asserts that each first page shows 50 messages, never anything about time.
//! `PAGE_REQUESTS` (default 500) sets the requests per room and kind.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use support::app::{apps_target, cargo, get, post, spawn};

const SECRET: &str = "a secret for the page benchmark, long enough to sign with";
const SMALL: usize = 50;
const LARGE: usize = 50_000;
/// The default `per_page`.
const PER_PAGE: usize = 50;
/// Requests of each kind before the measured ones, not counted.
const WARM_UP: usize = 50;

fn main() {
    let requests: usize = std::env::var("PAGE_REQUESTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(500)
        .max(1);

    let dir = tempfile::tempdir().unwrap();
    support::gen_ok(dir.path(), &["new", "pagebench", "--quiet"]);
    let app = dir.path().join("pagebench");
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

    let server = spawn(
        &apps_target().join("release/pagebench"),
        &app,
        &[
            ("SECRET_KEY_BASE", SECRET),
            ("DATABASE_URL", "sqlite://storage/bench.sqlite3"),
        ],
        None,
    );
    let small = room(server.address, "Small");
    let large = room(server.address, "Large");
    let database = app.join("storage/bench.sqlite3");
    let started = Instant::now();
    seed(&database, small, SMALL);
    seed(&database, large, LARGE);
    eprintln!(
        "seeded {SMALL} + {LARGE} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    println!(
        "first page of a room's messages: {LARGE} messages against {SMALL}, release build, loopback, {requests} requests each, alternating"
    );
    println!(
        "{:<34} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9}",
        "request", "messages", "HTML KB", "p50 ms", "p99 ms", "p50 x", "paired x"
    );
    for (label, suffix) in [("index page", ""), ("count frame (…/summary)", "/summary")] {
        let small_path = format!("/rooms/{small}/messages{suffix}");
        let large_path = format!("/rooms/{large}/messages{suffix}");
        if suffix.is_empty() {
            for (path, total) in [(&small_path, SMALL), (&large_path, LARGE)] {
                let shown = get(server.address, path)
                    .text()
                    .matches(r#"class="record""#)
                    .count();
                assert_eq!(
                    shown,
                    PER_PAGE.min(total),
                    "{path} shows one page of messages"
                );
            }
        }
        let measured = alternate(server.address, &small_path, &large_path, requests);
        let ratio = measured.large.p50() / measured.small.p50();
        for (name, timings, total) in [
            ("small room", &measured.small, SMALL),
            ("large room", &measured.large, LARGE),
        ] {
            let ratios = if total == LARGE {
                (
                    format!("{ratio:.2}"),
                    format!("{:.2}", measured.paired_ratio()),
                )
            } else {
                ("-".to_owned(), "-".to_owned())
            };
            println!(
                "{:<34} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>9} {:>9}",
                format!("{label}, {name}"),
                total,
                timings.bytes as f64 / 1024.0,
                timings.p50(),
                timings.p99(),
                ratios.0,
                ratios.1,
            );
        }
    }
    println!(
        "goal: the large room's index page within 1.5x of the small room's, under 100 KB of HTML"
    );
}

/// Creates a room through its form; returns its id.
fn room(address: SocketAddr, name: &str) -> u64 {
    let reply = post(address, "/rooms", &[], &[("name", name)]);
    assert_eq!(reply.status, 303, "creating a room: {}", reply.text());
    let location = reply.header("location").expect("a redirect to the room");
    location
        .strip_prefix("/rooms/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a room's path, not {location:?}"))
}

/// Inserts `count` messages into room `room` in one statement.
fn seed(database: &Path, room: u64, count: usize) {
    let body = "x".repeat(100);
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
         INSERT INTO messages (body, room_id) \
         SELECT printf('Message %012d: {body}', i), {room} FROM n;"
    );
    support::sqlite3(database, &sql);
}

/// The times of one path's requests, and the length of its reply's body.
struct Timings {
    times: Vec<Duration>,
    bytes: usize,
}

impl Timings {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.times.clone();
        sorted.sort();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
    }

    fn p50(&self) -> f64 {
        self.percentile(50.0)
    }

    fn p99(&self) -> f64 {
        self.percentile(99.0)
    }
}

struct Alternated {
    small: Timings,
    large: Timings,
}

impl Alternated {
    /// The median over the pairs of the large room's time divided by the small room's.
    fn paired_ratio(&self) -> f64 {
        let mut ratios: Vec<f64> = self
            .small
            .times
            .iter()
            .zip(&self.large.times)
            .map(|(small, large)| large.as_secs_f64() / small.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    }
}

/// Requests `small` and `large` in pairs, the order swapped every other pair, after a warm-up.
fn alternate(address: SocketAddr, small: &str, large: &str, requests: usize) -> Alternated {
    let timed = |path: &str| {
        let started = Instant::now();
        let reply = get(address, path);
        let took = started.elapsed();
        assert_eq!(reply.status, 200, "GET {path}");
        (took, reply.body.len())
    };
    for _ in 0..WARM_UP {
        timed(small);
        timed(large);
    }
    let mut measured = Alternated {
        small: Timings {
            times: Vec::with_capacity(requests),
            bytes: 0,
        },
        large: Timings {
            times: Vec::with_capacity(requests),
            bytes: 0,
        },
    };
    for n in 0..requests {
        let order = if n % 2 == 0 {
            [(small, true), (large, false)]
        } else {
            [(large, false), (small, true)]
        };
        for (path, is_small) in order {
            let (took, bytes) = timed(path);
            let timings = if is_small {
                &mut measured.small
            } else {
                &mut measured.large
            };
            timings.times.push(took);
            timings.bytes = bytes;
        }
    }
    measured
}
