//! The deadlines of `deadline.rs`, on tokio's paused clock so every instant is exact: an upload's
//! body at the minimum rate finishes, one below it fails at the deadline its bytes earned, the
//! hard maximum holds however fast the bytes come, and the middleware gives an ordinary request
//! its flat deadline and an upload's handler its time once the body is read.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::middleware;
use axum::routing::post;
use http_body_util::BodyExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower::ServiceExt;

use turbogen_runtime::deadline::{self, Deadlines, MinRateBody, TooSlow};

/// A 2 s start, 1,000 bytes a second, 10 s at most.
const DEADLINES: Deadlines = Deadlines {
    request: Duration::from_secs(2),
    upload_min_rate: 1_000,
    upload_max: Duration::from_secs(10),
};

/// A body whose chunks arrive as a client would send them: `chunk` bytes at each of `at`
/// (counted from now), from a task of their own, so they wait in the channel for a reader that
/// is busy, as bytes wait in a socket's buffer.
fn client_body(chunk: usize, at: Vec<Duration>) -> Body {
    let (sender, receiver) = mpsc::channel::<Bytes>(at.len().max(1));
    let start = Instant::now();
    tokio::spawn(async move {
        for offset in at {
            tokio::time::sleep_until(start + offset).await;
            if sender.send(Bytes::from(vec![b'x'; chunk])).await.is_err() {
                return;
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move {
            let chunk = receiver.recv().await?;
            Some((Ok::<_, Infallible>(chunk), receiver))
        },
    ))
}

/// `count` instants `every` apart, the first `first` from now.
fn times(first: Duration, every: Duration, count: u32) -> Vec<Duration> {
    (0..count).map(|i| first + every * i).collect()
}

#[test]
fn the_deadline_grows_a_second_per_min_rate_bytes_up_to_the_maximum() {
    let start = Instant::now();
    let at = |received| DEADLINES.upload_deadline(start, received) - start;
    assert_eq!(at(0), Duration::from_secs(2));
    assert_eq!(at(1_000), Duration::from_secs(3));
    assert_eq!(at(1_500), Duration::from_millis(3_500));
    assert_eq!(at(8_000), Duration::from_secs(10));
    assert_eq!(
        at(1_000_000),
        Duration::from_secs(10),
        "capped at the maximum"
    );
    assert_eq!(at(u64::MAX), Duration::from_secs(10), "no overflow");
}

#[tokio::test(start_paused = true)]
async fn a_body_at_the_minimum_rate_finishes() {
    let start = Instant::now();
    // 1,000 bytes each second for 9 s: each chunk arrives a second before the deadline the
    // ones before it earned, and the whole takes longer than the 2 s every request starts with.
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 9),
    );
    let (body, mut finished) = MinRateBody::new(body, DEADLINES);
    let bytes = body
        .collect()
        .await
        .expect("the body arrives whole")
        .to_bytes();
    assert_eq!(bytes.len(), 9_000);
    assert_eq!(start.elapsed(), Duration::from_secs(9));
    assert!(finished.try_recv().is_ok(), "its end is signalled");
}

#[tokio::test(start_paused = true)]
async fn a_trickle_below_the_minimum_rate_fails_at_the_deadline_it_earned() {
    let start = Instant::now();
    // 100 bytes a second: by 2 s it has earned 0.2 s more, and the third chunk, due at 3 s, is
    // late for the deadline at 2.2 s.
    let body = client_body(
        100,
        times(Duration::from_secs(1), Duration::from_secs(1), 20),
    );
    let (body, mut finished) = MinRateBody::new(body, DEADLINES);
    let mut body = std::pin::pin!(body);
    let error = body
        .as_mut()
        .collect()
        .await
        .expect_err("the trickle is cut off");
    assert_eq!(start.elapsed(), Duration::from_millis(2_200));
    assert_eq!(
        deadline::too_slow(error.as_ref()),
        Some(TooSlow::BelowRate { min_rate: 1_000 }),
        "{error}"
    );
    assert!(finished.try_recv().is_ok(), "its end is signalled");
    // A reader that reads on is told again, rather than given an end it would take for a
    // truncated body.
    let again = body
        .frame()
        .await
        .expect("a frame")
        .expect_err("still cut off");
    assert!(deadline::too_slow(again.as_ref()).is_some(), "{again}");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_starts_fails_when_the_request_time_is_up() {
    let start = Instant::now();
    let body = client_body(1_000, vec![Duration::from_secs(60)]);
    let (body, _finished) = MinRateBody::new(body, DEADLINES);
    let error = body
        .collect()
        .await
        .expect_err("the stalled body is cut off");
    assert_eq!(start.elapsed(), DEADLINES.request);
    assert_eq!(
        deadline::too_slow(error.as_ref()),
        Some(TooSlow::BelowRate { min_rate: 1_000 })
    );
}

#[tokio::test(start_paused = true)]
async fn the_maximum_holds_however_fast_the_body_arrives() {
    let start = Instant::now();
    // 10,000 bytes a second, ten times the minimum, for 20 s: the rate would allow it, the
    // maximum of 10 s does not, and the reader waiting for the chunk due at 10.5 s is cut off.
    let body = client_body(
        10_000,
        times(Duration::from_millis(500), Duration::from_secs(1), 20),
    );
    let (body, _finished) = MinRateBody::new(body, DEADLINES);
    let error = body.collect().await.expect_err("the maximum cuts it off");
    assert_eq!(start.elapsed(), DEADLINES.upload_max);
    assert_eq!(
        deadline::too_slow(error.as_ref()),
        Some(TooSlow::OverMaximum {
            max: DEADLINES.upload_max
        })
    );
}

#[tokio::test(start_paused = true)]
async fn bytes_waiting_for_a_busy_reader_count_but_not_past_the_maximum() {
    // The whole body has arrived by 3 s while the reader is busy until 12 s: the first chunk
    // it reads is past the maximum, so it is refused though no byte was ever late.
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 3),
    );
    let (mut body, _finished) = MinRateBody::new(body, DEADLINES);
    tokio::time::sleep(Duration::from_secs(12)).await;
    let error = body
        .frame()
        .await
        .expect("a frame")
        .expect_err("the maximum has passed");
    assert!(matches!(
        deadline::too_slow(error.as_ref()),
        Some(TooSlow::OverMaximum { .. })
    ));

    // Busy until 5 s, past the 2 s start: what waited counts, 3,000 bytes earn a deadline at
    // 5 s, and the body, complete, ends.
    let start = Instant::now();
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 3),
    );
    let (mut body, _finished) = MinRateBody::new(body, DEADLINES);
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        read += frame.expect("no byte was late").into_data().unwrap().len();
    }
    assert_eq!(read, 3_000);
    assert_eq!(start.elapsed(), Duration::from_millis(4_500));
}

/// A router behind [`deadline::limit`]: `/read` reads the whole body and answers 200, 408 when
/// the body was too slow or 400; `/read-then-hang` reads it and never answers; `/hang` never
/// reads it.
fn app() -> Router {
    async fn read(body: Body) -> StatusCode {
        match to_bytes(body, usize::MAX).await {
            Ok(_) => StatusCode::OK,
            Err(error) if deadline::too_slow(&error).is_some() => StatusCode::REQUEST_TIMEOUT,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }
    async fn read_then_hang(body: Body) -> StatusCode {
        let _ = to_bytes(body, usize::MAX).await;
        std::future::pending().await
    }
    async fn hang(_body: Body) -> StatusCode {
        std::future::pending().await
    }
    Router::new()
        .route("/read", post(read))
        .route("/read-then-hang", post(read_then_hang))
        .route("/hang", post(hang))
        .layer(middleware::from_fn_with_state(DEADLINES, deadline::limit))
}

fn request(path: &str, content_type: &str, body: Body) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .unwrap()
}

const MULTIPART: &str = "multipart/form-data; boundary=x";
const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(start_paused = true)]
async fn an_ordinary_request_keeps_the_flat_deadline() {
    // The same steady body an upload may take 9 s to send is cut off at 2 s when it is not one.
    let start = Instant::now();
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 9),
    );
    let response = app().oneshot(request("/read", FORM, body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(start.elapsed(), DEADLINES.request);

    let start = Instant::now();
    let response = app()
        .oneshot(request("/read-then-hang", FORM, Body::empty()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(start.elapsed(), DEADLINES.request);
}

#[tokio::test(start_paused = true)]
async fn an_upload_at_the_rate_outlasts_the_request_time_and_a_trickle_does_not() {
    let start = Instant::now();
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 9),
    );
    let response = app()
        .oneshot(request("/read", MULTIPART, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(9));

    // The handler sees the failed read through axum's body error, and answers for itself.
    let start = Instant::now();
    let body = client_body(
        100,
        times(Duration::from_secs(1), Duration::from_secs(1), 20),
    );
    let response = app()
        .oneshot(request("/read", MULTIPART, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(start.elapsed(), Duration::from_millis(2_200));
}

#[tokio::test(start_paused = true)]
async fn an_upload_handler_has_the_request_time_once_its_body_is_read() {
    // The body is read by 9 s; the handler that then hangs is answered for 2 s later.
    let start = Instant::now();
    let body = client_body(
        1_000,
        times(Duration::from_secs(1), Duration::from_secs(1), 9),
    );
    let response = app()
        .oneshot(request("/read-then-hang", MULTIPART, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(start.elapsed(), Duration::from_secs(11));

    // A handler that never reads its body and never answers is cut off once the longest an
    // upload may take and a request's time have passed.
    let start = Instant::now();
    let body = client_body(1_000, vec![Duration::from_secs(1)]);
    let response = app()
        .oneshot(request("/hang", MULTIPART, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(start.elapsed(), DEADLINES.upload_max + DEADLINES.request);
}

#[test]
fn uploads_are_multipart_form_data_bodies() {
    let headers = |value: &str| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
        headers
    };
    assert!(deadline::is_upload(&headers(MULTIPART)));
    assert!(deadline::is_upload(&headers(
        "Multipart/Form-Data ; boundary=y"
    )));
    assert!(!deadline::is_upload(&headers(FORM)));
    assert!(!deadline::is_upload(&headers(
        "multipart/mixed; boundary=x"
    )));
    assert!(!deadline::is_upload(&axum::http::HeaderMap::new()));
}
