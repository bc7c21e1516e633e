//! The Redis backend's history against a real `redis-server`: an event too large to keep and a
//! gap larger than the byte budget are refreshes, so a reconnect never makes an instance read
//! more than the budget.

mod support;

use turbogen_runtime::broadcast::HistoryLimits;
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
