//! The Redis backend's history against a real `redis-server`: an event too large to keep and a
//! gap larger than the byte budget are refreshes, so a reconnect never makes an instance read
//! more than the budget, and a subscriber that stops reading cannot make it keep what it skipped.

mod support;

use turbogen_runtime::broadcast::{HistoryLimits, LIVE_LARGE_BYTES};
use turbogen_runtime::redis::Redis;
use turbogen_runtime::{Broadcaster, Delivery};

use support::{RedisServer, large_event as event, next};

async fn first_after(broadcaster: &Broadcaster, last_event_id: &str) -> Delivery {
    let mut subscription = broadcaster
        .subscribe("messages", Some(last_event_id))
        .await
        .unwrap();
    next(&mut subscription).await
}

#[tokio::test]
async fn a_replay_reads_no_more_than_the_byte_budget() {
    let server = RedisServer::start();
    let limits = HistoryLimits {
        events: 1_000,
        bytes: 64 * 1024,
        total_bytes: 1024 * 1024,
    };
    let url = format!("redis://127.0.0.1:{}", server.port);
    let broadcaster = Broadcaster::new(Redis::connect(&url, limits, 64).unwrap());
    let mut live = broadcaster.subscribe("messages", None).await.unwrap();

    broadcaster.publish("messages", event(0, 10)).await;
    let before = next(&mut live).await.id().to_owned();
    // Larger than the budget: delivered, but Redis keeps only a marker.
    broadcaster.publish("messages", event(1, 100 * 1024)).await;
    let Delivery::Event { id: large, payload } = next(&mut live).await else {
        panic!("a live subscriber gets the large event");
    };
    assert_eq!(payload.len(), event(1, 100 * 1024).len());
    let stored = server.cli(&["XRANGE", "turbogen-runtime:turbo:messages", &large, &large]);
    assert!(
        stored.len() < 100,
        "the large payload is not stored: {stored:?}"
    );
    let across = first_after(&broadcaster, &before).await;
    assert!(matches!(across, Delivery::Refresh { .. }), "{across:?}");
    assert_eq!(across.id(), large.as_ref());

    // Twenty events of 10 kB: replaying them all would read 200 kB, more than the budget.
    let mut ids = Vec::new();
    for n in 2..22 {
        broadcaster.publish("messages", event(n, 10 * 1024)).await;
        ids.push(next(&mut live).await.id().to_owned());
    }
    let too_much = first_after(&broadcaster, &large).await;
    assert!(matches!(too_much, Delivery::Refresh { .. }), "{too_much:?}");
    assert_eq!(
        too_much.id(),
        ids[19],
        "the refresh accounts for the newest event"
    );
    // A gap within the budget replays, in order.
    let mut recent = broadcaster
        .subscribe("messages", Some(&ids[16]))
        .await
        .unwrap();
    for (n, expected) in ids.iter().enumerate().skip(17) {
        let Delivery::Event { id, payload } = next(&mut recent).await else {
            panic!("a gap within the budget replays");
        };
        assert_eq!(id.as_ref(), expected);
        assert_eq!(payload.as_ref(), event(n + 2, 10 * 1024));
    }
    // A gap of many small events is read page by page, all of it.
    let mut small = Vec::new();
    for n in 100..140 {
        broadcaster.publish("messages", event(n, 10)).await;
        small.push(next(&mut live).await.id().to_owned());
    }
    let mut many = broadcaster
        .subscribe("messages", Some(&small[0]))
        .await
        .unwrap();
    for (n, expected) in small.iter().enumerate().skip(1) {
        let Delivery::Event { id, payload } = next(&mut many).await else {
            panic!("a long gap within the budget replays");
        };
        assert_eq!(id.as_ref(), expected);
        assert_eq!(payload.as_ref(), event(n + 100, 10));
    }
    let ids = small;

    // Nothing missed, nothing replayed: the next delivery is live.
    let mut current = broadcaster
        .subscribe("messages", Some(ids.last().unwrap()))
        .await
        .unwrap();
    broadcaster.publish("messages", event(99, 10)).await;
    let Delivery::Event { payload, .. } = next(&mut current).await else {
        panic!("a live event follows");
    };
    assert_eq!(payload.as_ref(), event(99, 10));
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_holds_no_more_than_the_live_budget() {
    let server = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}", server.port);
    let broadcaster =
        Broadcaster::new(Redis::connect(&url, HistoryLimits::default(), 256).unwrap());
    let mut stalled = broadcaster.subscribe("messages", None).await.unwrap();
    for n in 0..200 {
        broadcaster.publish("messages", event(n, 64 * 1024)).await;
        assert!(broadcaster.live_bytes() <= LIVE_LARGE_BYTES);
    }
    assert!(broadcaster.live_bytes() > LIVE_LARGE_BYTES / 2);
    let first = next(&mut stalled).await;
    assert!(matches!(first, Delivery::Refresh { .. }), "{first:?}");
    broadcaster.publish("messages", event(200, 64 * 1024)).await;
    let Delivery::Event { payload, .. } = next(&mut stalled).await else {
        panic!("after the refresh, events arrive live");
    };
    assert_eq!(payload.as_ref(), event(200, 64 * 1024));
    drop(stalled);
    assert_eq!(broadcaster.live_bytes(), 0);
}

#[tokio::test]
async fn each_redis_stream_keeps_no_more_than_its_byte_budget() {
    let server = RedisServer::start();
    let limits = HistoryLimits {
        events: 1_000,
        bytes: 256 * 1024,
        total_bytes: 1024 * 1024,
    };
    let url = format!("redis://127.0.0.1:{}", server.port);
    let broadcaster = Broadcaster::new(Redis::connect(&url, limits, 256).unwrap());
    let mut live = broadcaster.subscribe("messages", None).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..40 {
        broadcaster.publish("messages", event(n, 30 * 1024)).await;
        ids.push(next(&mut live).await.id().to_owned());
    }
    // Eight entries of 30 kB fit in 256 kB, a ninth would not: the oldest went first.
    let kept: usize = server
        .cli(&["XLEN", "turbogen-runtime:turbo:messages"])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(kept, 8);
    let counted: usize = server
        .cli(&["GET", "turbogen-runtime:turbo-bytes:messages"])
        .trim()
        .parse()
        .unwrap();
    let newest: usize = (32..40).map(|n| event(n, 30 * 1024).len()).sum();
    assert_eq!(counted, newest);
    let oldest = server.cli(&[
        "XRANGE",
        "turbogen-runtime:turbo:messages",
        "-",
        "+",
        "COUNT",
        "1",
    ]);
    assert!(oldest.contains(&ids[32]), "{oldest}");

    // A reconnect from a trimmed position refreshes; one from a kept position replays.
    let trimmed = first_after(&broadcaster, &ids[10]).await;
    assert!(matches!(trimmed, Delivery::Refresh { .. }), "{trimmed:?}");
    let Delivery::Event { id, .. } = first_after(&broadcaster, &ids[35]).await else {
        panic!("a kept position replays");
    };
    assert_eq!(id.as_ref(), ids[36]);

    // Small events are trimmed by count as before.
    let small = Broadcaster::new(
        Redis::connect(
            &url,
            HistoryLimits {
                events: 5,
                ..limits
            },
            256,
        )
        .unwrap(),
    );
    for n in 0..20 {
        small.publish("small", event(n, 10)).await;
    }
    let kept = server.cli(&["XLEN", "turbogen-runtime:turbo:small"]);
    assert_eq!(kept.trim(), "5");

    // A forgotten stream leaves nothing in Redis, and a reconnect from its events refreshes.
    broadcaster.refresh_and_forget("messages").await;
    let refresh = next(&mut live).await;
    assert!(matches!(refresh, Delivery::Event { .. }), "{refresh:?}");
    let keys = server.cli(&[
        "EXISTS",
        "turbogen-runtime:turbo:messages",
        "turbogen-runtime:turbo-bytes:messages",
    ]);
    assert_eq!(keys.trim(), "0");
    let forgotten = first_after(&broadcaster, &ids[39]).await;
    assert!(
        matches!(forgotten, Delivery::Refresh { .. }),
        "{forgotten:?}"
    );
}
