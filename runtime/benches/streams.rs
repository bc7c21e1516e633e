//! Benchmark of the runtime's broadcaster with many streams: 1,000 streams with 5 subscribers
//! each and publishes spread across them, in process against two instances sharing a
//! `redis-server`; then the memory of 100,000 streams that went idle, before and after they are
//! let go.
//!
//! Run with `cargo bench -p turbogen-runtime --bench streams`. It drives the `Broadcaster` API
//! directly, without HTTP: subscribers are `Subscription`s read by tasks of the benchmark's own
//! runtime, so the figures are the runtime's fan-out and Redis's round trips, not a server's
//! sockets (`benches/fanout.rs` measures those, for one stream). Latency runs from just before
//! `publish` to a subscriber holding the event. It asserts that every event reached every
//! subscriber exactly once, never anything about time. `STREAMS_RATE` (publishes a second,
//! default 500) and `STREAMS_SECONDS` (default 10) change the run; `STREAMS_IDLE_ONLY=1` runs
//! the idle streams alone. Beside RSS, the idle rounds print the bytes the process's heap
//! holds live (counted by the benchmark's global allocator), which tells memory still in use
//! from memory the allocator keeps after it was freed.

#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use turbogen_runtime::broadcast::HistoryLimits;
use turbogen_runtime::redis::Redis;
use turbogen_runtime::{Broadcaster, Delivery, InProcess};

use support::RedisServer;

/// The system allocator, counting the bytes it has handed out and not been given back.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the counter only adds
// and subtracts the sizes of the layouts it was given.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The heap bytes in use now, in MB.
fn live_mb() -> f64 {
    LIVE_BYTES.load(Ordering::Relaxed) as f64 / 1_048_576.0
}

const STREAMS: usize = 1_000;
const SUBSCRIBERS_PER_STREAM: usize = 5;
const IDLE_STREAMS: usize = 100_000;
/// How long deliveries may still arrive after the last publish before the rest count as lost.
const GRACE: Duration = Duration::from_secs(20);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A Turbo Stream of about the size of a chat message's, numbered so that a subscriber can
/// tell which publish it is.
fn payload(n: usize) -> String {
    format!(
        r#"<turbo-stream action="append" target="messages"><template><div id="message_{n}" class="record"><dl class="record-fields"><dt>Body</dt><dd>{}</dd></dl></div></template></turbo-stream>"#,
        "x".repeat(560)
    )
}

fn number(payload: &str) -> usize {
    let start = payload.find("message_").unwrap() + 8;
    let end = start + payload[start..].find('"').unwrap();
    payload[start..end].parse().unwrap()
}

struct Outcome {
    delivered: usize,
    expected: usize,
    duplicates: usize,
    refreshes: usize,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1_000.0
}

/// Subscribes five times to each of 1,000 streams (spread over `instances`), then publishes
/// `rate` events a second for `seconds`, each to the next stream, from the instances in turn.
async fn many_streams(instances: &[Broadcaster], rate: usize, seconds: usize) -> Outcome {
    let publishes = rate * seconds;
    let sent: Arc<Vec<OnceLock<Instant>>> =
        Arc::new((0..publishes).map(|_| OnceLock::new()).collect());
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(
        publishes * SUBSCRIBERS_PER_STREAM,
    )));
    let duplicates = Arc::new(AtomicUsize::new(0));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for stream in 0..STREAMS {
        for subscriber in 0..SUBSCRIBERS_PER_STREAM {
            let instance = &instances[(stream + subscriber) % instances.len()];
            let mut subscription = instance
                .subscribe(&format!("room:{stream}"), None)
                .await
                .unwrap();
            let expected = (0..publishes).filter(|n| n % STREAMS == stream).count();
            let (sent, latencies, duplicates, refreshes, delivered) = (
                Arc::clone(&sent),
                Arc::clone(&latencies),
                Arc::clone(&duplicates),
                Arc::clone(&refreshes),
                Arc::clone(&delivered),
            );
            readers.push(tokio::spawn(async move {
                let mut seen = std::collections::HashSet::new();
                let mut mine = Vec::with_capacity(expected);
                while seen.len() < expected {
                    let Ok(Some(delivery)) = tokio::time::timeout(GRACE, subscription.next()).await
                    else {
                        break;
                    };
                    match delivery {
                        Delivery::Event { payload, .. } => {
                            let received = Instant::now();
                            let n = number(&payload);
                            if seen.insert(n) {
                                mine.push(received - *sent[n].get().unwrap());
                            } else {
                                duplicates.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Delivery::Refresh { .. } => {
                            refreshes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                delivered.fetch_add(seen.len(), Ordering::Relaxed);
                latencies.lock().unwrap().extend(mine);
            }));
        }
    }
    let start = tokio::time::Instant::now();
    let every = Duration::from_secs(1) / rate as u32;
    for n in 0..publishes {
        tokio::time::sleep_until(start + every * n as u32).await;
        let instance = instances[n % instances.len()].clone();
        let sent = Arc::clone(&sent);
        // Publishes run side by side, as a busy app's requests do.
        tokio::spawn(async move {
            sent[n].set(Instant::now()).unwrap();
            instance
                .publish(&format!("room:{}", n % STREAMS), payload(n))
                .await;
        });
    }
    for reader in readers {
        reader.await.unwrap();
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort();
    Outcome {
        delivered: delivered.load(Ordering::Relaxed),
        expected: publishes * SUBSCRIBERS_PER_STREAM,
        duplicates: duplicates.load(Ordering::Relaxed),
        refreshes: refreshes.load(Ordering::Relaxed),
        latencies,
    }
}

fn print(setup: &str, outcome: &Outcome) {
    println!(
        "{setup:<26} {:>13} {:>4} {:>7} {:>7.2} {:>7.2} {:>7.2}",
        format!("{}/{}", outcome.delivered, outcome.expected),
        outcome.duplicates,
        outcome.refreshes,
        percentile(&outcome.latencies, 0.5),
        percentile(&outcome.latencies, 0.99),
        outcome
            .latencies
            .last()
            .map_or(f64::NAN, |max| max.as_secs_f64() * 1_000.0),
    );
}

/// The resident memory of this process, in MB, from `/proc/self/status`.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Publishes one event to each of 100,000 streams nobody follows and waits for them to go,
/// three times over: memory the allocator keeps after the first round is reused by the next,
/// so the rounds show whether what is left is bounded.
async fn idle_streams() {
    let idle = Duration::from_secs(2);
    let broadcaster =
        Broadcaster::new(InProcess::with_limits(HistoryLimits::default(), 256).with_idle(idle));
    // One stream first, so the sweep's task and the tables exist before the baseline.
    broadcaster.publish("warm-up", payload(0)).await;
    tokio::time::sleep(idle * 3).await;
    let before = rss_mb();
    let live_before = live_mb();
    println!();
    println!(
        "idle streams: {IDLE_STREAMS} streams, one {}-byte event each, idle time {idle:?}; RSS before: {before:.1} MB, heap in use {live_before:.1} MB",
        payload(0).len()
    );
    for round in 1..=3 {
        let started = Instant::now();
        for n in 0..IDLE_STREAMS {
            broadcaster
                .publish(&format!("round:{round}:stream:{n}"), payload(n))
                .await;
        }
        let published = started.elapsed();
        let full = rss_mb();
        let live_full = live_mb();
        let streams = broadcaster.stream_count();
        let history = broadcaster.history_bytes();
        let deadline = Instant::now() + idle * 5;
        while broadcaster.stream_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let gone = started.elapsed();
        let at_zero = rss_mb();
        // The sweep gives the memory back once its pass is over, which may end after the last
        // stream went: one more sweep period (a quarter of the idle time) covers it.
        tokio::time::sleep(idle / 2).await;
        let after = rss_mb();
        let live_after = live_mb();
        println!(
            "  round {round}: kept {streams} streams ({:.1} MB of history, published in {:.2} s), RSS {full:.1} MB (heap in use {live_full:.1} MB); let go after {:.1} s: {} streams, {} bytes of history, RSS {at_zero:.1} MB, {:.1} s later {after:.1} MB, {:+.1} MB against before (heap in use {live_after:.1} MB, {:+.1} MB)",
            history as f64 / 1_048_576.0,
            published.as_secs_f64(),
            gone.as_secs_f64(),
            broadcaster.stream_count(),
            broadcaster.history_bytes(),
            (idle / 2).as_secs_f64(),
            after - before,
            live_after - live_before,
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rate = env("STREAMS_RATE", 500).max(1);
    let seconds = env("STREAMS_SECONDS", 10).max(1);
    runtime.block_on(async {
        if std::env::var_os("STREAMS_IDLE_ONLY").is_some_and(|value| value == "1") {
            idle_streams().await;
            return;
        }
        println!(
            "many streams: {STREAMS} streams x {SUBSCRIBERS_PER_STREAM} subscribers, {rate} publishes/s for {seconds} s, each to the next stream"
        );
        println!(
            "{:<26} {:>13} {:>4} {:>7} {:>7} {:>7} {:>7}",
            "setup", "delivered", "dup", "refresh", "p50 ms", "p99 ms", "max ms"
        );
        let in_process = many_streams(&[Broadcaster::in_process()], rate, seconds).await;
        print("in process", &in_process);
        let server = RedisServer::start();
        let connect = || {
            Broadcaster::new(
                Redis::connect(&server.url(), HistoryLimits::default(), 256).unwrap(),
            )
        };
        let redis = many_streams(&[connect(), connect()], rate, seconds).await;
        print("Redis, 2 instances", &redis);
        let all = |outcome: &Outcome| {
            outcome.delivered == outcome.expected
                && outcome.duplicates == 0
                && outcome.refreshes == 0
        };
        println!(
            "p99 Redis / in process: {:.2}x; every event delivered once: {}",
            percentile(&redis.latencies, 0.99) / percentile(&in_process.latencies, 0.99),
            if all(&in_process) && all(&redis) { "yes" } else { "NO" }
        );
        assert!(all(&in_process) && all(&redis), "events were lost, repeated or refreshed over");
        drop(server);
        idle_streams().await;
    });
}
