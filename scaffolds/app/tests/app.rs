//! The application shell: pages, `/up`, static files, cross-origin refusal, the `_method` override and configuration errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, patch};
use http_body_util::BodyExt;
use tower::ServiceExt;

use <%= app.name %>::app::{self, AppState};
<% filter rs_use(0) %>use <%= app.name %>::config::{Config, Environment};<% endfilter %>
use <%= app.name %>::turbo;
<% filter rs_use(0) %>use <%= app.name %>::turbo::forms::{self, FieldErrors};<% endfilter %>

async fn send(router: Router, request: Request<Body>) -> Response {
    router.oneshot(request).await.unwrap()
}

async fn body_text(response: Response) -> String {
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

async fn get_page(uri: &str) -> Response {
    let state = AppState::for_tests().await;
    send(
        app::router(state),
        Request::get(uri).body(Body::empty()).unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_home_page_renders_in_the_layout() {
    let response = get_page("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let html = body_text(response).await;
    assert!(html.contains(
        r#"<script type="module" src="/static/vendor/turbo-8.0.23/turbo.es2017-esm.js"></script>"#
    ));
    assert!(html.contains(r#"<link rel="stylesheet" href="/static/app.css">"#));
    assert!(html.contains(r#"<meta name="turbo-refresh-method" content="morph">"#));
    assert!(html.contains(r#"<meta name="turbo-refresh-scroll" content="preserve">"#));
<% filter rs_stmt(4) %>assert!(html.contains("<h1><%= app.title %> is running</h1>"));<% endfilter %>
}

#[tokio::test]
async fn up_answers_200_while_the_database_answers_and_503_after() {
    let state = AppState::for_tests().await;
    let response = send(
        app::router(state.clone()),
        Request::get("/up").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    state.db.close().await;
    let response = send(
        app::router(state),
        Request::get("/up").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn turbo_is_served_unmodified_with_a_long_cache_lifetime() {
    let response = get_page("/static/vendor/turbo-8.0.23/turbo.es2017-esm.js").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let served = response.into_body().collect().await.unwrap().to_bytes();
    let on_disk = std::fs::read("static/vendor/turbo-8.0.23/turbo.es2017-esm.js").unwrap();
    assert_eq!(served.len(), on_disk.len());
    assert!(served.starts_with(b"/*!\nTurbo 8.0.23\n"));

    let stylesheet = get_page("/static/app.css").await;
    assert_eq!(stylesheet.status(), StatusCode::OK);
    assert_eq!(stylesheet.headers()[header::CACHE_CONTROL], "no-cache");
    assert!(body_text(stylesheet).await.contains(".pending"));

    let missing = get_page("/static/vendor/turbo-8.0.23/missing.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing.headers().get(header::CACHE_CONTROL).is_none(),
        "a 404 must not be cached for a year"
    );
}

#[tokio::test]
async fn unknown_paths_get_the_404_page() {
    let response = get_page("/nowhere").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("doesn’t exist"));
}

fn post(uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.into()).unwrap()
}

#[tokio::test]
async fn cross_origin_unsafe_requests_are_refused() {
    let state = AppState::for_tests().await;
    let refused = [
        vec![("host", "localhost"), ("sec-fetch-site", "cross-site")],
        vec![("host", "localhost"), ("sec-fetch-site", "same-site")],
        vec![("host", "localhost"), ("origin", "https://evil.example")],
    ];
    for headers in refused {
        let response = send(app::router(state.clone()), post("/", &headers, "")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }

    // Same-origin requests reach the router, which has no POST route at `/`.
    let allowed = [
        vec![("host", "localhost"), ("sec-fetch-site", "same-origin")],
        vec![("host", "localhost"), ("origin", "http://localhost")],
        vec![("host", "localhost")],
    ];
    for headers in allowed {
        let response = send(app::router(state.clone()), post("/", &headers, "")).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{headers:?}"
        );
    }

    // Reading is always allowed, whoever links to the page.
    let request = Request::get("/")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(app::router(state), request).await.status(),
        StatusCode::OK
    );
}

fn things() -> Router {
    async fn method(method: Method, body: String) -> String {
        format!("{method} {body}")
    }
    turbo::forms::protect(
        Router::new()
            .route(
                "/things/1",
                get(method).post(method).put(method).delete(method),
            )
            .route("/things/2", patch(method)),
    )
}

#[tokio::test]
async fn a_form_can_override_post_with_method() {
    let same_origin = [("sec-fetch-site", "same-origin")];
    for (field, expected) in [("patch", "PATCH"), ("PUT", "PUT"), ("delete", "DELETE")] {
        let uri = if expected == "PATCH" {
            "/things/2"
        } else {
            "/things/1"
        };
        let response = send(
            things(),
            post(uri, &same_origin, format!("_method={field}&name=x")),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{field}");
        assert_eq!(
            body_text(response).await,
            format!("{expected} _method={field}&name=x"),
            "the body is passed on intact"
        );
    }

    // Only PATCH, PUT and DELETE can be requested, and only from a urlencoded POST.
    let response = send(things(), post("/things/1", &same_origin, "_method=get")).await;
    assert_eq!(body_text(response).await, "POST _method=get");
    let request = Request::post("/things/1")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("_method=delete"))
        .unwrap();
    assert_eq!(
        body_text(send(things(), request).await).await,
        "POST _method=delete"
    );

    // A cross-site form cannot reach a handler by overriding its method either.
    let response = send(
        things(),
        post(
            "/things/1",
            &[("sec-fetch-site", "cross-site")],
            "_method=delete",
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("config-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn configuration_defaults_suit_development() {
    let dir = temp_dir();
<% if app.postgres %>
    let database = &[("DATABASE_URL", "postgres://localhost/my_app_development")];
    let config = Config::from_vars(vars(database), &dir).unwrap();
    assert_eq!(config.environment, Environment::Development);
    assert_eq!(config.port, 3000);
    assert_eq!(
        config.database_url,
        "postgres://localhost/my_app_development"
    );
<% else %>
    let config = Config::from_vars(vars(&[]), &dir).unwrap();
    assert_eq!(config.environment, Environment::Development);
    assert_eq!(config.port, 3000);
    assert_eq!(config.database_url, "sqlite://storage/development.sqlite3");
<% endif %>
    assert_eq!(config.redis_url, None);
    assert_eq!(config.stream_history, 1_000);
    assert_eq!(config.stream_history_bytes, 1024 * 1024);
    assert_eq!(config.stream_history_total_bytes, 32 * 1024 * 1024);
    assert_eq!(config.stream_idle_timeout, Duration::from_secs(5 * 60));
    assert_eq!(config.stream_redis_expiry, Duration::from_secs(86_400));
    assert_eq!(config.hosts, ["localhost", "127.0.0.1", "[::1]"]);
    assert_eq!(config.header_timeout, Duration::from_secs(10));
    assert_eq!(config.request_timeout, Duration::from_secs(30));
    assert_eq!(config.upload_min_rate, 64 * 1024);
    assert_eq!(config.upload_timeout, Duration::from_secs(600));
    assert_eq!(config.max_requests, 1_000);
    assert_eq!(config.stream_max_connections, 10_000);
    assert_eq!(config.stream_max_per_client, 50);
    assert!(config.listen_address().ip().is_loopback());

    // The development secret is created once and reused, so signed URLs survive restarts.
    let secret_file = dir.join(".secret_key_base");
    assert!(secret_file.exists());
    assert_eq!(config.secret_key_base.len(), 128);
<% if app.postgres %>
    assert_eq!(
        Config::from_vars(vars(database), &dir)
            .unwrap()
            .secret_key_base,
        config.secret_key_base
    );
<% else %>
    assert_eq!(
        Config::from_vars(vars(&[]), &dir).unwrap().secret_key_base,
        config.secret_key_base
    );
<% endif %>
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret_file)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn configuration_reads_the_environment() {
    let config = Config::from_vars(
        vars(&[
            ("APP_ENV", "production"),
            ("PORT", "8080"),
<% if app.postgres %>
            (
                "DATABASE_URL",
                "postgres://app:hunter2@db.internal:5432/app?sslmode=require",
            ),
<% else %>
            ("DATABASE_URL", "sqlite:///data/app.sqlite3"),
<% endif %>
            ("REDIS_URL", "redis://localhost:6379"),
            ("APP_HOSTS", "Example.com, .example.org"),
            ("HTTP_HEADER_TIMEOUT", "2.5"),
            ("HTTP_REQUEST_TIMEOUT", "5"),
            ("UPLOAD_MIN_RATE", "16384"),
            ("HTTP_UPLOAD_TIMEOUT", "120"),
            ("HTTP_MAX_REQUESTS", "20"),
            ("STREAM_MAX_CONNECTIONS", "300"),
            ("STREAM_MAX_PER_CLIENT", "3"),
            ("STREAM_HISTORY", "50"),
            ("STREAM_HISTORY_BYTES", "65536"),
            ("STREAM_HISTORY_TOTAL_BYTES", "8388608"),
            ("STREAM_IDLE_TIMEOUT", "0.5"),
            ("STREAM_REDIS_EXPIRY", "3600"),
            (
                "SECRET_KEY_BASE",
                "0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ]),
        Path::new("unused"),
    )
    .unwrap();
    assert_eq!(config.environment, Environment::Production);
    assert_eq!(config.port, 8080);
<% if app.postgres %>
    assert_eq!(
        config.database_url,
        "postgres://app:hunter2@db.internal:5432/app?sslmode=require"
    );
<% else %>
    assert_eq!(config.database_url, "sqlite:///data/app.sqlite3");
<% endif %>
    assert_eq!(config.redis_url.as_deref(), Some("redis://localhost:6379"));
    assert_eq!(config.stream_history, 50);
    assert_eq!(config.stream_history_bytes, 65_536);
    assert_eq!(config.stream_history_total_bytes, 8_388_608);
    assert_eq!(config.stream_idle_timeout, Duration::from_millis(500));
    assert_eq!(config.stream_redis_expiry, Duration::from_secs(3_600));
    assert_eq!(config.hosts, ["example.com", ".example.org"]);
    assert_eq!(config.header_timeout, Duration::from_millis(2_500));
    assert_eq!(config.request_timeout, Duration::from_secs(5));
    assert_eq!(config.upload_min_rate, 16_384);
    assert_eq!(config.upload_timeout, Duration::from_secs(120));
    assert_eq!(config.max_requests, 20);
    assert_eq!(config.stream_max_connections, 300);
    assert_eq!(config.stream_max_per_client, 3);
    assert_eq!(config.client_ip_header, None);
    assert!(config.listen_address().ip().is_unspecified());
    assert!(
        !format!("{config:?}").contains("0123456789abcdef"),
        "the secret stays out of Debug output"
    );
<% if app.postgres %>
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "the database password stays out of Debug output"
    );
    assert_eq!(
        config.database_url_for_logs(),
        "postgres://app:***@db.internal:5432/app?sslmode=require"
    );
<% endif %>
}

#[test]
fn configuration_errors_name_the_variable() {
<% if app.postgres %>
    let cases: [(&'static [(&'static str, &'static str)], &str); 18] = [
        (&[], "DATABASE_URL"),
        (
            &[("DATABASE_URL", "sqlite://storage/app.sqlite3")],
            "DATABASE_URL",
        ),
<% else %>
    let cases: [(&'static [(&'static str, &'static str)], &str); 16] = [
<% endif %>
<% if app.postgres %>
        (
            &[
                ("APP_ENV", "production"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "SECRET_KEY_BASE",
        ),
<% else %>
        (&[("APP_ENV", "production")], "SECRET_KEY_BASE"),
<% endif %>
<% if app.postgres %>
        (
            &[
                ("SECRET_KEY_BASE", "too short"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "SECRET_KEY_BASE",
        ),
        (&[("PORT", "eighty")], "PORT"),
        (&[("PORT", "0")], "PORT"),
        (
            &[("DATABASE_URL", "mysql://root:hunter2@localhost/app")],
            "DATABASE_URL",
        ),
        (&[("APP_ENV", "staging")], "APP_ENV"),
        (
            &[
                ("STREAM_HISTORY", "0"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_HISTORY",
        ),
        (
            &[
                ("STREAM_HISTORY", "lots"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_HISTORY",
        ),
        (
            &[
                ("STREAM_HISTORY_BYTES", "1MiB"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_HISTORY_BYTES",
        ),
        (
            &[
                ("STREAM_HISTORY_TOTAL_BYTES", "0"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_HISTORY_TOTAL_BYTES",
        ),
        (
            &[
                ("STREAM_HISTORY_BYTES", "2097152"),
                ("STREAM_HISTORY_TOTAL_BYTES", "1048576"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_HISTORY_TOTAL_BYTES",
        ),
        (
            &[
                ("STREAM_IDLE_TIMEOUT", "5m"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_IDLE_TIMEOUT",
        ),
        (
            &[
                ("STREAM_REDIS_EXPIRY", "0"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "STREAM_REDIS_EXPIRY",
        ),
        (
            &[
                ("UPLOAD_MIN_RATE", "64KiB"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "UPLOAD_MIN_RATE",
        ),
        (
            &[
                ("UPLOAD_MIN_RATE", "0"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "UPLOAD_MIN_RATE",
        ),
        (
            &[
                ("HTTP_UPLOAD_TIMEOUT", "10"),
                ("DATABASE_URL", "postgres://localhost/app"),
            ],
            "HTTP_UPLOAD_TIMEOUT",
        ),
    ];
<% else %>
        (&[("SECRET_KEY_BASE", "too short")], "SECRET_KEY_BASE"),
        (&[("PORT", "eighty")], "PORT"),
        (&[("PORT", "0")], "PORT"),
        (&[("DATABASE_URL", "mysql://localhost/app")], "DATABASE_URL"),
        (&[("APP_ENV", "staging")], "APP_ENV"),
        (&[("STREAM_HISTORY", "0")], "STREAM_HISTORY"),
        (&[("STREAM_HISTORY", "lots")], "STREAM_HISTORY"),
        (&[("STREAM_HISTORY_BYTES", "1MiB")], "STREAM_HISTORY_BYTES"),
        (
            &[("STREAM_HISTORY_TOTAL_BYTES", "0")],
            "STREAM_HISTORY_TOTAL_BYTES",
        ),
        (
            &[
                ("STREAM_HISTORY_BYTES", "2097152"),
                ("STREAM_HISTORY_TOTAL_BYTES", "1048576"),
            ],
            "STREAM_HISTORY_TOTAL_BYTES",
        ),
        (&[("STREAM_IDLE_TIMEOUT", "5m")], "STREAM_IDLE_TIMEOUT"),
        (&[("STREAM_REDIS_EXPIRY", "0")], "STREAM_REDIS_EXPIRY"),
        (&[("UPLOAD_MIN_RATE", "64KiB")], "UPLOAD_MIN_RATE"),
        (&[("UPLOAD_MIN_RATE", "0")], "UPLOAD_MIN_RATE"),
        // Shorter than the 30 s every request has.
        (&[("HTTP_UPLOAD_TIMEOUT", "10")], "HTTP_UPLOAD_TIMEOUT"),
    ];
<% endif %>
    for (pairs, variable) in cases {
        let error = Config::from_vars(vars(pairs), Path::new("unused")).unwrap_err();
        assert_eq!(error.variable, variable, "{pairs:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{variable}: ")) && !message.contains('\n'),
            "{message}"
        );
<% if app.postgres %>
        assert!(!message.contains("hunter2"), "{message}");
<% endif %>
    }
}

#[test]
fn field_errors_collect_problems_per_field() {
    let mut errors = FieldErrors::default();
    assert_eq!(
        errors.required("body", "  ", |s| Some(s.to_owned()), "can't be blank"),
        None
    );
    assert_eq!(
        errors.required(
            "count",
            "x",
            |s| s.parse::<i32>().ok(),
            "is not a whole number"
        ),
        None
    );
    assert_eq!(
        errors.required(
            "count",
            "7",
            |s| s.parse::<i32>().ok(),
            "is not a whole number"
        ),
        Some(7)
    );
    assert_eq!(
        errors.optional("price", "", forms::decimal, "is not a number"),
        Some(None)
    );
    assert_eq!(
        errors.optional("price", "1.50", forms::decimal, "is not a number"),
        Some(Some("1.50".to_owned()))
    );
    assert_eq!(
        errors.optional("price", "1.5.0", forms::decimal, "is not a number"),
        None
    );

    assert_eq!(errors.on("body"), Some("can't be blank"));
    assert_eq!(errors.on("count"), Some("is not a whole number"));
    assert_eq!(errors.on("price"), Some("is not a number"));
    assert_eq!(errors.on("title"), None);
    assert_eq!(errors.iter().count(), 3);
    assert!(!errors.is_empty() && FieldErrors::default().is_empty());

    for (valid, canonical) in [
        ("12", "12"),
        ("-0.5", "-0.5"),
        ("+3.14159", "3.14159"),
        (" 42 ", "42"),
        ("007.10", "7.10"),
        ("-0.00", "0.00"),
        ("-0", "0"),
    ] {
        assert_eq!(forms::decimal(valid).as_deref(), Some(canonical), "{valid}");
    }
    for invalid in ["", "-", "1.", ".5", "1e5", "twelve", "1,5"] {
        assert_eq!(forms::decimal(invalid), None, "{invalid}");
    }
}

#[test]
fn production_needs_its_host_names() {
    const SECRET: (&str, &str) = ("SECRET_KEY_BASE", "0123456789abcdef0123456789abcdef");
<% if app.postgres %>
    const DATABASE: (&str, &str) = ("DATABASE_URL", "postgres://localhost/app");
<% else %>
    const DATABASE: (&str, &str) = ("DATABASE_URL", "sqlite::memory:");
<% endif %>
    const PRODUCTION: (&str, &str) = ("APP_ENV", "production");
    const FLY: (&str, &str) = ("FLY_APP_NAME", "my-app");
    let error = Config::from_vars(vars(&[PRODUCTION, SECRET, DATABASE]), Path::new("unused"))
        .expect_err("production without APP_HOSTS is refused");
    assert_eq!(error.variable, "APP_HOSTS");

    // On Fly.io the app's own name is the default, and Fly's proxy names the client.
    let config = Config::from_vars(
        vars(&[PRODUCTION, SECRET, DATABASE, FLY]),
        Path::new("unused"),
    )
    .unwrap();
    assert_eq!(config.hosts, ["my-app.fly.dev"]);
    assert_eq!(config.client_ip_header.as_deref(), Some("Fly-Client-IP"));
}

fn assert_security_headers(response: &Response, what: &str) {
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN", "{what}");
    assert_eq!(
        headers["referrer-policy"], "strict-origin-when-cross-origin",
        "{what}"
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{what}: {policy}");
    assert!(
        policy.contains("frame-ancestors 'self'"),
        "{what}: {policy}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for uri in ["/", "/up", "/static/app.css", "/no/such/page"] {
        let response = get_page(uri).await;
        assert_security_headers(&response, uri);
        assert!(
            !response.headers().contains_key("strict-transport-security"),
            "HSTS is for production only: {uri}"
        );
    }
    let state = AppState::for_tests().await;
    let refused = send(
        app::router(state),
        post("/", &[("origin", "https://evil.example")], ""),
    )
    .await;
    assert_security_headers(&refused, "a refused cross-origin request");
}

/// A test state configured as production serving `example.com`.
async fn production_state() -> AppState {
    let mut state = AppState::for_tests().await;
    let mut config = (*state.config).clone();
    config.environment = Environment::Production;
    config.hosts = vec!["example.com".to_owned(), ".example.org".to_owned()];
    state.config = Arc::new(config);
    state
}

fn get_with_host(uri: &str, host: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, host)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn production_adds_hsts() {
    let router = app::router(production_state().await);
    let response = send(router, get_with_host("/", "example.com")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_security_headers(&response, "/");
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[tokio::test]
async fn only_the_apps_own_hosts_are_served() {
    let state = AppState::for_tests().await;
    for host in [
        "localhost:3000",
        "127.0.0.1:3000",
        "[::1]:3000",
        "LOCALHOST",
    ] {
        let response = send(app::router(state.clone()), get_with_host("/", host)).await;
        assert_eq!(response.status(), StatusCode::OK, "{host}");
    }
    for host in [
        "evil.example",
        "localhost.evil.example:3000",
        "127.0.0.1.nip.io",
    ] {
        let response = send(app::router(state.clone()), get_with_host("/", host)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{host}");
        assert_security_headers(&response, host);
    }
    // Health checks address the machine, not the site.
    let response = send(
        app::router(state.clone()),
        get_with_host("/up", "10.0.0.7:8080"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    let production = production_state().await;
    for (host, status) in [
        ("example.com", StatusCode::OK),
        ("example.com:443", StatusCode::OK),
        ("www.example.org", StatusCode::OK),
        ("example.org", StatusCode::OK),
        ("localhost", StatusCode::FORBIDDEN),
        ("www.example.com", StatusCode::FORBIDDEN),
        ("badexample.org", StatusCode::FORBIDDEN),
    ] {
        let response = send(app::router(production.clone()), get_with_host("/", host)).await;
        assert_eq!(response.status(), status, "{host}");
    }
    let request = post(
        "/",
        &[("host", "evil.example"), ("sec-fetch-site", "same-origin")],
        "",
    );
    let response = send(app::router(production), request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
