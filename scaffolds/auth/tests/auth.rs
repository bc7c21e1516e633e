//! Accounts over HTTP: sign-up, sign-in and sign-out, the same answer for an unknown email and a
//! wrong password, sessions that are rows (fixation, revocation), password resets, rate limits,
//! the production cookie and the redirect back after sign-in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use tower::ServiceExt;

<% filter rs_use(0) %>use <%= app.name %>::app::{self, AppState};<% endfilter %>
<% filter rs_use(0) %>use <%= app.name %>::auth::model::{PasswordReset, Session};<% endfilter %>
<% filter rs_use(0) %>use <%= app.name %>::auth::{self, Auth, Settings, User, mail, session};<% endfilter %>
<% filter rs_use(0) %>use <%= app.name %>::config::{Config, Environment};<% endfilter %>

const PASSWORD: &str = "correct horse battery";

/// A running app in memory: its state and its router, whose rate limiter lives as long as it.
struct App {
    state: AppState,
    router: Router,
}

impl App {
    async fn new() -> App {
        let state = AppState::for_tests().await;
        App {
            router: app::router(state.clone()),
            state,
        }
    }

    async fn send(&self, request: Request<Body>) -> Response {
        self.router.clone().oneshot(request).await.unwrap()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Signs a new user up and returns the session cookie it was given.
    async fn sign_up(&self, email: &str) -> String {
        let response = self
            .post(
                "/sign_up",
                None,
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("password_confirmation", PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        session_cookie(&response).expect("sign-up signs the user in")
    }

    /// Signs in with a password; the response and the cookie it set, if any.
    async fn sign_in(&self, email: &str, password: &str) -> (Response, Option<String>) {
        let response = self
            .post(
                "/sign_in",
                None,
                &[("email", email), ("password", password)],
            )
            .await;
        let cookie = session_cookie(&response);
        (response, cookie)
    }

    /// Whether a cookie still signs someone in.
    async fn signed_in(&self, cookie: &str) -> bool {
        self.get("/account", Some(cookie)).await.status() == StatusCode::OK
    }
}

/// The `name=value` of the session cookie a response sets, when it sets one with a value.
fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with("session=") && *pair != "session=")
        .map(str::to_owned)
}

fn location(response: &Response) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

async fn body_text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Waits for the message sent to `to` in `storage/mail/`; sending runs off the request path.
async fn mail_to(to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let messages = mail::stored(std::path::Path::new(mail::MAIL_DIR)).unwrap();
        if let Some(message) = messages
            .into_iter()
            .find(|m| m.text.contains(&format!("\nTo: {to}\n")))
        {
            return message.text;
        }
        assert!(Instant::now() < deadline, "no mail reached {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A unique address, so that tests running at once never read each other's mail.
fn email(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        session::new_token()[..12].to_owned()
    )
}

#[tokio::test]
async fn sign_up_signs_in_and_the_header_shows_the_email() {
    let app = App::new().await;
    let address = email("ada");
    let cookie = app.sign_up(&address).await;
    let menu = body_text(app.get("/account/menu", Some(&cookie)).await).await;
    assert!(menu.contains(&format!(">{address}</a>")), "{menu}");
    assert!(menu.contains(r#"action="/sign_out""#), "{menu}");
    let anonymous = body_text(app.get("/account/menu", None).await).await;
    assert!(anonymous.contains(r#"href="/sign_in""#), "{anonymous}");
    assert!(!anonymous.contains("sign_out"), "{anonymous}");

    let page = body_text(app.get("/account", Some(&cookie)).await).await;
    assert!(page.contains("(this browser)"), "{page}");
    // The page renders through the layout, whose header loads the menu.
    assert!(page.contains(r#"src="/account/menu""#), "{page}");
}

#[tokio::test]
async fn an_email_is_stored_normalised_and_taken_once() {
    let app = App::new().await;
    let address = email("grace");
    app.sign_up(&format!("  {}  ", address.to_uppercase()))
        .await;
    let user = User::find_by_email(&app.state.db, &address).await.unwrap();
    assert_eq!(user.unwrap().email, address);
    let (response, cookie) = app.sign_in(&address, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(cookie.is_some());

    let again = app
        .post(
            "/sign_up",
            None,
            &[
                ("email", &address),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(again).await.contains("has already been taken"));
}

#[tokio::test]
async fn a_short_or_unconfirmed_password_is_refused_and_nothing_is_stored() {
    let app = App::new().await;
    let address = email("short");
    let short = app
        .post(
            "/sign_up",
            None,
            &[
                ("email", &address),
                ("password", "eleven char"),
                ("password_confirmation", "eleven char"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(session_cookie(&short).is_none());
    assert!(body_text(short).await.contains("minimum is 12 characters"));
    let unconfirmed = app
        .post(
            "/sign_up",
            None,
            &[
                ("email", &address),
                ("password", PASSWORD),
                ("password_confirmation", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let user = User::find_by_email(&app.state.db, &address).await.unwrap();
    assert!(user.is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = App::new().await;
    let address = email("linus");
    app.sign_up(&address).await;
    let (wrong, cookie) = app.sign_in(&address, "not the password at all").await;
    assert!(cookie.is_none());
    let unknown_address = email("nobody");
    let (unknown, cookie) = app
        .sign_in(&unknown_address, "not the password at all")
        .await;
    assert!(cookie.is_none());
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status(), wrong.status());
    let wrong = body_text(wrong).await.replace(&address, "EMAIL");
    let unknown = body_text(unknown).await.replace(&unknown_address, "EMAIL");
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("Invalid email or password."));
}

#[tokio::test]
async fn a_page_for_signed_in_users_sends_others_to_sign_in_and_back() {
    let app = App::new().await;
    let response = app.get("/account?tab=sessions", None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/sign_in?return_to=%2Faccount%3Ftab%3Dsessions"
    );
    let page = body_text(app.get(location(&response), None).await).await;
    assert!(
        page.contains(r#"name="return_to" value="/account?tab=sessions""#),
        "{page}"
    );

    // A Turbo Stream request is not redirected to a page it cannot show.
    let stream = app
        .send(
            Request::get("/account")
                .header(header::ACCEPT, "text/vnd.turbo-stream.html, text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(stream.status(), StatusCode::UNAUTHORIZED);

    let address = email("hopper");
    app.sign_up(&address).await;
    for (return_to, lands) in [
        ("/account", "/account"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let response = app
            .post(
                "/sign_in",
                None,
                &[
                    ("email", &address),
                    ("password", PASSWORD),
                    ("return_to", return_to),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), lands, "return_to={return_to}");
    }
}

#[tokio::test]
async fn every_sign_in_starts_a_new_session_and_ends_the_old_one() {
    let app = App::new().await;
    let address = email("fixation");
    app.sign_up(&address).await;
    // A token an attacker planted in the browser is not what the browser gets on sign-in.
    let planted = format!("session={}", session::new_token());
    let response = app
        .post(
            "/sign_in",
            Some(&planted),
            &[("email", &address), ("password", PASSWORD)],
        )
        .await;
    let first = session_cookie(&response).unwrap();
    assert_ne!(first, planted);
    assert!(!app.signed_in(&planted).await);
    assert!(app.signed_in(&first).await);

    let response = app
        .post(
            "/sign_in",
            Some(&first),
            &[("email", &address), ("password", PASSWORD)],
        )
        .await;
    let second = session_cookie(&response).unwrap();
    assert_ne!(second, first);
    assert!(app.signed_in(&second).await);
    assert!(
        !app.signed_in(&first).await,
        "the old token no longer works"
    );
}

#[tokio::test]
async fn sign_out_deletes_the_session() {
    let app = App::new().await;
    let cookie = app.sign_up(&email("out")).await;
    let response = app
        .post("/sign_out", Some(&cookie), &[("_method", "delete")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign_in");
    let cleared = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("session=;") && cleared.contains("Max-Age=0"));
    assert!(!app.signed_in(&cookie).await);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn last_seen_is_written_every_few_minutes_and_an_idle_session_ends() {
    let app = App::new().await;
    let cookie = app.sign_up(&email("idle")).await;
    let user_id = 1;
    let last_seen = || async {
        let sessions = Session::all_of(&app.state.db, user_id).await.unwrap();
        sessions.first().map(|session| session.last_seen_at)
    };
    let now = chrono::Utc::now();

    // Seen a minute ago: a request does not write it again.
    let recently = now - chrono::Duration::minutes(1);
    Session::touch(&app.state.db, 1, recently).await.unwrap();
    assert!(app.signed_in(&cookie).await);
    assert!(last_seen().await.unwrap() < now - chrono::Duration::seconds(30));

    // Seen ten minutes ago: the request writes the time it was seen.
    let a_while_ago = now - chrono::Duration::minutes(10);
    Session::touch(&app.state.db, 1, a_while_ago).await.unwrap();
    assert!(app.signed_in(&cookie).await);
    assert!(last_seen().await.unwrap() >= now);

    // Unused for longer than the idle limit: the session is over.
    let long_ago = now - session::IDLE_LIMIT - chrono::Duration::minutes(1);
    Session::touch(&app.state.db, 1, long_ago).await.unwrap();
    assert!(!app.signed_in(&cookie).await);
    assert_eq!(last_seen().await, None);
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_from_the_account_page() {
    let app = App::new().await;
    let address = email("two");
    let first = app.sign_up(&address).await;
    let (_, second) = app.sign_in(&address, PASSWORD).await;
    let second = second.unwrap();
    let (_, third) = app.sign_in(&address, PASSWORD).await;
    let third = third.unwrap();
    let page = body_text(app.get("/account", Some(&first)).await).await;
    assert_eq!(page.matches(r#"action="/account/sessions/"#).count(), 3);

    // Another user cannot end these sessions: to them they do not exist.
    let other = app.sign_up(&email("other")).await;
    let response = app
        .post(
            "/account/sessions/2",
            Some(&other),
            &[("_method", "delete")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(app.signed_in(&second).await);

    let response = app
        .post(
            "/account/sessions/2",
            Some(&first),
            &[("_method", "delete")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.signed_in(&second).await);
    assert!(app.signed_in(&first).await && app.signed_in(&third).await);

    let response = app
        .post("/account/sessions", Some(&first), &[("_method", "delete")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.signed_in(&third).await);
    assert!(app.signed_in(&first).await);
    assert!(app.signed_in(&other).await);
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = App::new().await;
    let address = email("change");
    let first = app.sign_up(&address).await;
    let (_, second) = app.sign_in(&address, PASSWORD).await;
    let second = second.unwrap();
    let new_password = "a different long password";
    let wrong = app
        .post(
            "/account/password",
            Some(&first),
            &[
                ("_method", "patch"),
                ("current_password", "not it at all"),
                ("password", new_password),
                ("password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.signed_in(&second).await);
    let response = app
        .post(
            "/account/password",
            Some(&first),
            &[
                ("_method", "patch"),
                ("current_password", PASSWORD),
                ("password", new_password),
                ("password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(app.signed_in(&first).await);
    assert!(!app.signed_in(&second).await);
    assert_eq!(
        app.sign_in(&address, new_password).await.0.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_reset_link_works_once_and_ends_every_session() {
    let app = App::new().await;
    let address = email("reset");
    let cookie = app.sign_up(&address).await;
    let response = app
        .post("/passwords/new", None, &[("email", &address)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let sent = body_text(response).await;

    // An unknown email gets the same page.
    let unknown = email("unknown");
    let response = app
        .post("/passwords/new", None, &[("email", &unknown)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_text(response).await.replace(&unknown, "EMAIL"),
        sent.replace(&address, "EMAIL")
    );

    let message = mail_to(&address).await;
    let link = message
        .lines()
        .find(|line| line.contains("/passwords/"))
        .expect("the message carries the link");
    let path = &link[link.find("/passwords/").unwrap()..];
    assert_eq!(app.get(path, None).await.status(), StatusCode::OK);

    let new_password = "a brand new long password";
    let choose = [
        ("password", new_password),
        ("password_confirmation", new_password),
    ];
    let response = app.post(path, None, &choose).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.signed_in(&cookie).await, "a reset ends every session");
    assert_eq!(
        app.sign_in(&address, PASSWORD).await.0.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.sign_in(&address, new_password).await.0.status(),
        StatusCode::SEE_OTHER
    );

    // The link works once.
    assert_eq!(app.get(path, None).await.status(), StatusCode::NOT_FOUND);
    let again = app.post(path, None, &choose).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    let app = App::new().await;
    let address = email("expired");
    app.sign_up(&address).await;
    let user = User::find_by_email(&app.state.db, &address)
        .await
        .unwrap()
        .unwrap();
    let token = session::new_token();
    let expired = chrono::Utc::now() - chrono::Duration::seconds(1);
    PasswordReset::create(&app.state.db, user.id, &session::digest(&token), expired)
        .await
        .unwrap();
    let path = format!("/passwords/{token}");
    assert_eq!(app.get(&path, None).await.status(), StatusCode::NOT_FOUND);
    let new_password = "a brand new long password";
    let response = app
        .post(
            &path,
            None,
            &[
                ("password", new_password),
                ("password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (response, _) = app.sign_in(&address, new_password).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_eleventh_sign_in_within_the_window_is_refused() {
    let app = App::new().await;
    let address = email("limited");
    app.sign_up(&address).await;
    for _ in 0..10 {
        let (response, _) = app.sign_in(&address, "not the password at all").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The right password does not help once the limit is reached.
    let (response, cookie) = app.sign_in(&address, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie.is_none());
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=180).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn a_cross_site_sign_in_is_refused() {
    let app = App::new().await;
    let address = email("csrf");
    app.sign_up(&address).await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("email", address.as_str()), ("password", PASSWORD)])
        .finish();
    let response = app
        .send(
            Request::post("/sign_in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none());
}

/// A production configuration with an SMTP server that is never reached.
fn production(config: &Config) -> (Config, Settings) {
    let mut config = config.clone();
    config.environment = Environment::Production;
    let settings = Settings::from_vars(
        |name| (name == "SMTP_URL").then(|| "smtp://localhost:2525".to_owned()),
        &config,
    )
    .unwrap();
    (config, settings)
}

#[tokio::test]
async fn production_cookies_are_host_only_and_secure_and_the_mailbox_is_gone() {
    let mut state = AppState::for_tests().await;
    let (config, settings) = production(&state.config);
    let auth = Auth::with_settings(&config, settings).unwrap();
    state.config = Arc::new(config);
    let router = Router::new()
        .merge(auth::routes_with(auth))
        .with_state(state);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("email", "prod@example.com"),
            ("password", PASSWORD),
            ("password_confirmation", PASSWORD),
        ])
        .finish();
    let response = router
        .clone()
        .oneshot(
            Request::post("/sign_up")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for flag in ["; HttpOnly", "; SameSite=Lax", "; Path=/", "; Secure"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    let mailbox = router
        .oneshot(Request::get("/dev/mailbox").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(mailbox.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn production_without_smtp_url_refuses_to_boot() {
    let state = AppState::for_tests().await;
    let mut config = (*state.config).clone();
    config.environment = Environment::Production;
    let settings = Settings::from_vars(|_| None, &config).unwrap();
    let error = settings.check(&config).unwrap_err();
    assert_eq!(error.variable, "SMTP_URL");
    let smtp = |name: &str| (name == "SMTP_URL").then(|| "smtps://mail.example.com".to_owned());
    let settings = Settings::from_vars(smtp, &config).unwrap();
    assert_eq!(settings.check(&config), Ok(()));
    let garbled = |name: &str| (name == "SMTP_URL").then(|| "mail.example.com".to_owned());
    let settings = Settings::from_vars(garbled, &config).unwrap();
    assert_eq!(settings.check(&config).unwrap_err().variable, "SMTP_URL");
    let development = Settings::from_vars(|_| None, &state.config).unwrap();
    assert_eq!(development.smtp_url, None);
    assert_eq!(development.check(&state.config), Ok(()));
    let sender = |name: &str| (name == "MAIL_FROM").then(|| "not an address".to_owned());
    let settings = Settings::from_vars(sender, &state.config).unwrap();
    assert_eq!(
        settings.check(&state.config).unwrap_err().variable,
        "MAIL_FROM"
    );
    assert_eq!(development.reset_ttl, auth::DEFAULT_RESET_TTL);
    let custom = Settings::from_vars(
        |name| (name == "PASSWORD_RESET_TTL").then(|| "60".to_owned()),
        &state.config,
    )
    .unwrap();
    assert_eq!(custom.reset_ttl, Duration::from_secs(60));
    let bad = Settings::from_vars(
        |name| (name == "PASSWORD_RESET_TTL").then(|| "soon".to_owned()),
        &state.config,
    )
    .unwrap_err();
    assert_eq!(bad.variable, "PASSWORD_RESET_TTL");
}
