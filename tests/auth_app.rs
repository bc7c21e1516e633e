//! Compile-and-behave tier for `gen auth`: the accounts fixture app is built, started on loopback
//! ports and sent the attacks over HTTP: account enumeration, a reset token used twice or after
//! it expired, session fixation, an eleventh sign-in (on one instance, and across two sharing a
//! `redis-server`), a revoked session's cookie, a cross-site sign-in and open redirects; the
//! production server's cookie is checked, and a production boot without SMTP_URL is refused. A
//! live stream signed for a session is admitted only with that session's cookie while it exists,
//! and "sign out everywhere else" closes the other sessions' open streams within a second. A
//! link in a shared room to another user's note or comment is refused like a missing one.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::Fixture;
use support::app::{EventStream, Reply, cargo, free_port, request, start_with, stream_source};
use support::redis::RedisServer;
use turbogen_runtime::signed::Signer;

/// The header the test servers trust for the client's address (`CLIENT_IP_HEADER`), so that each
/// scenario counts against the rate limits as a client of its own.
const CLIENT_IP: &str = "X-Test-Client-Ip";

const PASSWORD: &str = "correct horse battery";

/// The development servers' `SECRET_KEY_BASE`, so that the test can sign what their pages would.
const SECRET: &str = "a secret for the accounts test that is long enough to sign with";

/// A browser of one client address against one server, keeping its session cookie.
struct Browser {
    address: SocketAddr,
    ip: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(address: SocketAddr, ip: &str) -> Browser {
        Browser {
            address,
            ip: ip.to_owned(),
            cookie: None,
        }
    }

    fn send(&mut self, method: &str, path: &str, extra: &[(&str, &str)], body: &str) -> Reply {
        let mut headers: Vec<(&str, &str)> = vec![(CLIENT_IP, &self.ip)];
        let cookie = self.cookie.clone();
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", cookie));
        }
        headers.extend_from_slice(extra);
        let reply = request(self.address, method, path, &headers, body);
        if let Some(set) = reply.header("set-cookie") {
            let pair = set.split(';').next().unwrap_or_default();
            self.cookie = match pair.split_once('=') {
                Some((_, "")) => None,
                _ => Some(pair.to_owned()),
            };
        }
        reply
    }

    fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, &[], "")
    }

    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, &[], fields)
    }

    fn post_with(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, &body)
    }

    fn sign_up(&mut self, email: &str) -> Reply {
        self.post(
            "/sign_up",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
    }

    fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        self.post("/sign_in", &[("email", email), ("password", password)])
    }

    /// Whether the cookie it holds signs someone in.
    fn signed_in(&mut self) -> bool {
        self.get("/account").status == 200
    }
}

fn location(reply: &Reply) -> &str {
    reply.header("location").unwrap_or_default()
}

#[test]
fn accounts_hold_against_the_attacks_over_http() {
    let started = Instant::now();
    let parent = tempfile::tempdir().unwrap();
    let (app, _) = Fixture::named("auth").generate(parent.path());
    let build = cargo(&app, &["build"]);

    let development = [
        (CLIENT_IP_HEADER_VAR, CLIENT_IP),
        ("SECRET_KEY_BASE", SECRET),
    ];
    let server = start_with(&app, "accounts", &development);
    // The same app and database, with reset links that expire after a second.
    let short = start_with(
        &app,
        "accounts",
        &[
            (CLIENT_IP_HEADER_VAR, CLIENT_IP),
            ("PASSWORD_RESET_TTL", "1"),
        ],
    );
    let address = server.address;

    sign_up_and_sign_in_show_the_user(address);
    an_unknown_email_and_a_wrong_password_look_the_same(address);
    a_reset_through_the_mailbox_works_once_and_ends_other_sessions(address);
    an_expired_reset_link_is_refused(short.address);
    a_sign_in_never_keeps_the_session_it_came_with(address);
    the_eleventh_sign_in_is_answered_429(address);
    a_session_revoked_from_the_account_page_stops_working(address);
    a_cross_site_sign_in_is_refused(address);
    the_return_to_is_never_another_site(address);
    a_stream_bound_to_a_session_admits_that_session_alone(address);
    another_users_records_are_not_found(address);
    a_link_to_another_users_note_is_refused(address);
    drop((server, short));

    two_instances_on_redis_count_one_limit(&app);
    two_instances_on_redis_close_a_revoked_sessions_stream(&app);
    production_cookies_are_host_only_and_secure(&app);
    production_without_smtp_url_refuses_to_boot(&app);
    println!(
        "auth_app: {:.1}s in all, of which the first `cargo build` took {:.1}s",
        started.elapsed().as_secs_f64(),
        build.as_secs_f64()
    );
}

/// The variable that names the header a trusted proxy gives the client's address in.
const CLIENT_IP_HEADER_VAR: &str = "CLIENT_IP_HEADER";

fn sign_up_and_sign_in_show_the_user(address: SocketAddr) {
    let mut browser = Browser::new(address, "10.0.0.1");
    let reply = browser.sign_up("ada@example.com");
    assert_eq!(reply.status, 303, "{}", reply.text());
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("session="), "{cookie}");
    for flag in ["; HttpOnly", "; SameSite=Lax", "; Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(
        !cookie.contains("Secure"),
        "development is served over http: {cookie}"
    );
    let menu = browser.get("/account/menu").text();
    assert!(menu.contains(">ada@example.com</a>"), "{menu}");
    let home = browser.get("/").text();
    assert!(home.contains(r#"src="/account/menu""#), "{home}");

    let mut other = Browser::new(address, "10.0.0.1");
    let reply = other.sign_in("  ADA@example.com ", PASSWORD);
    assert_eq!(reply.status, 303, "the email is matched normalised");
    assert!(other.signed_in());
}

fn an_unknown_email_and_a_wrong_password_look_the_same(address: SocketAddr) {
    let mut browser = Browser::new(address, "10.0.0.2");
    browser.sign_up("grace@example.com");
    let mut stranger = Browser::new(address, "10.0.0.2");
    let wrong = stranger.sign_in("grace@example.com", "not the password at all");
    let unknown = stranger.sign_in("nobody@example.com", "not the password at all");
    assert_eq!(wrong.status, 422);
    assert_eq!(unknown.status, wrong.status);
    assert!(wrong.header("set-cookie").is_none() && unknown.header("set-cookie").is_none());
    assert_eq!(
        wrong.text().replace("grace@example.com", "EMAIL"),
        unknown.text().replace("nobody@example.com", "EMAIL")
    );
    // The reset request answers the same too.
    let known = stranger.post("/passwords/new", &[("email", "grace@example.com")]);
    let unknown = stranger.post("/passwords/new", &[("email", "nobody@example.com")]);
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        known.text().replace("grace@example.com", "EMAIL"),
        unknown.text().replace("nobody@example.com", "EMAIL")
    );
}

/// The reset path in the newest message to `to` in `/dev/mailbox`, waiting for it to arrive:
/// the app sends it off the request path.
fn reset_link(address: SocketAddr, to: &str, ip: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut reader = Browser::new(address, ip);
        let page = reader.get("/dev/mailbox");
        assert_eq!(page.status, 200);
        let page = page.text();
        let link = page
            .split("<li ")
            .filter(|message| message.contains(&format!("To: {to}")))
            .find_map(|message| {
                let at = message.find("/passwords/")?;
                let token: String = message[at + "/passwords/".len()..]
                    .chars()
                    .take_while(char::is_ascii_hexdigit)
                    .collect();
                (token.len() == 64).then(|| format!("/passwords/{token}"))
            });
        if let Some(link) = link {
            return link;
        }
        assert!(
            Instant::now() < deadline,
            "no reset mail reached {to}:\n{page}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn a_reset_through_the_mailbox_works_once_and_ends_other_sessions(address: SocketAddr) {
    let ip = "10.0.0.3";
    let mut laptop = Browser::new(address, ip);
    laptop.sign_up("linus@example.com");
    let mut phone = Browser::new(address, ip);
    phone.sign_in("linus@example.com", PASSWORD);
    assert!(laptop.signed_in() && phone.signed_in());

    let mut forgetful = Browser::new(address, ip);
    let reply = forgetful.post("/passwords/new", &[("email", "linus@example.com")]);
    assert_eq!(reply.status, 200);
    let link = reset_link(address, "linus@example.com", ip);
    assert_eq!(forgetful.get(&link).status, 200);
    let new_password = "a brand new long password";
    let choose = [
        ("password", new_password),
        ("password_confirmation", new_password),
    ];
    let reply = forgetful.post(&link, &choose);
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(location(&reply), "/sign_in");
    assert!(
        !laptop.signed_in(),
        "a reset ends the sessions that knew the old password"
    );
    assert!(!phone.signed_in());

    // The token is used up: neither the page nor a second new password is accepted.
    assert_eq!(forgetful.get(&link).status, 404);
    let again = forgetful.post(
        &link,
        &[
            ("password", "yet another long password"),
            ("password_confirmation", "yet another long password"),
        ],
    );
    assert_eq!(again.status, 404);
    assert_eq!(forgetful.sign_in("linus@example.com", PASSWORD).status, 422);
    assert_eq!(
        forgetful.sign_in("linus@example.com", new_password).status,
        303
    );
}

fn an_expired_reset_link_is_refused(short: SocketAddr) {
    let ip = "10.0.0.4";
    let mut browser = Browser::new(short, ip);
    browser.sign_up("expiring@example.com");
    let mut forgetful = Browser::new(short, ip);
    forgetful.post("/passwords/new", &[("email", "expiring@example.com")]);
    let link = reset_link(short, "expiring@example.com", ip);
    // PASSWORD_RESET_TTL=1: the link has expired once a second has passed.
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(forgetful.get(&link).status, 404);
    let new_password = "a brand new long password";
    let reply = forgetful.post(
        &link,
        &[
            ("password", new_password),
            ("password_confirmation", new_password),
        ],
    );
    assert_eq!(reply.status, 404);
    assert_eq!(
        forgetful
            .sign_in("expiring@example.com", new_password)
            .status,
        422
    );
    assert_eq!(
        forgetful.sign_in("expiring@example.com", PASSWORD).status,
        303
    );
}

fn a_sign_in_never_keeps_the_session_it_came_with(address: SocketAddr) {
    let ip = "10.0.0.5";
    let mut owner = Browser::new(address, ip);
    owner.sign_up("fixed@example.com");
    // A cookie an attacker planted before sign-in is replaced, and never signs anyone in.
    let planted = format!("session={}", "ab".repeat(32));
    let mut victim = Browser::new(address, ip);
    victim.cookie = Some(planted.clone());
    assert_eq!(victim.sign_in("fixed@example.com", PASSWORD).status, 303);
    let first = victim.cookie.clone().unwrap();
    assert_ne!(first, planted);
    let mut attacker = Browser::new(address, ip);
    attacker.cookie = Some(planted);
    assert!(!attacker.signed_in());

    // Signing in again gives a new token, and the old one stops working.
    assert_eq!(victim.sign_in("fixed@example.com", PASSWORD).status, 303);
    let second = victim.cookie.clone().unwrap();
    assert_ne!(second, first);
    let mut old = Browser::new(address, ip);
    old.cookie = Some(first);
    assert!(!old.signed_in());
    assert!(victim.signed_in());
}

fn the_eleventh_sign_in_is_answered_429(address: SocketAddr) {
    let ip = "10.0.0.6";
    let mut owner = Browser::new(address, ip);
    owner.sign_up("limited@example.com");
    let mut guesser = Browser::new(address, "10.0.0.7");
    for attempt in 1..=10 {
        let reply = guesser.sign_in("limited@example.com", "a guessed password");
        assert_eq!(reply.status, 422, "attempt {attempt}");
    }
    let reply = guesser.sign_in("limited@example.com", PASSWORD);
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("set-cookie").is_none());
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=180).contains(&retry_after), "{retry_after}");
    // The email is limited from every address, and the address for every email.
    let mut elsewhere = Browser::new(address, "10.0.0.8");
    assert_eq!(
        elsewhere.sign_in("limited@example.com", PASSWORD).status,
        429
    );
    assert_eq!(guesser.sign_in("someone@example.com", PASSWORD).status, 429);
}

/// The id in each "sign out" form of the account page, with whether it is this browser's.
fn listed_sessions(page: &str) -> Vec<(String, bool)> {
    page.split("<li>")
        .skip(1)
        .filter_map(|item| {
            let at = item.find("action=\"/account/sessions/")?;
            let id: String = item[at + "action=\"/account/sessions/".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            Some((id, item.contains("(this browser)")))
        })
        .collect()
}

fn a_session_revoked_from_the_account_page_stops_working(address: SocketAddr) {
    let ip = "10.0.0.9";
    let mut laptop = Browser::new(address, ip);
    laptop.sign_up("hopper@example.com");
    let mut phone = Browser::new(address, ip);
    phone.sign_in("hopper@example.com", PASSWORD);
    let mut tablet = Browser::new(address, ip);
    tablet.sign_in("hopper@example.com", PASSWORD);

    let sessions = listed_sessions(&laptop.get("/account").text());
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|(_, current)| *current).count(), 1);
    let tablet_id = listed_sessions(&tablet.get("/account").text())
        .into_iter()
        .find(|(_, current)| *current)
        .unwrap()
        .0;

    // Another user cannot sign it out.
    let mut stranger = Browser::new(address, ip);
    stranger.sign_up("stranger@example.com");
    let reply = stranger.post(
        &format!("/account/sessions/{tablet_id}"),
        &[("_method", "delete")],
    );
    assert_eq!(reply.status, 404);
    assert!(tablet.signed_in());

    let reply = laptop.post(
        &format!("/account/sessions/{tablet_id}"),
        &[("_method", "delete")],
    );
    assert_eq!(reply.status, 303);
    assert!(
        !tablet.signed_in(),
        "the revoked session's cookie stops working"
    );
    assert!(phone.signed_in() && laptop.signed_in());

    let reply = laptop.post("/account/sessions", &[("_method", "delete")]);
    assert_eq!(reply.status, 303);
    assert!(!phone.signed_in(), "sign out everywhere else");
    assert!(laptop.signed_in());

    let reply = laptop.post("/sign_out", &[("_method", "delete")]);
    assert_eq!((reply.status, location(&reply)), (303, "/sign_in"));
    assert!(!laptop.signed_in());
}

/// The id of the session a browser's cookie names, from the account page's list.
fn current_session(browser: &mut Browser) -> String {
    listed_sessions(&browser.get("/account").text())
        .into_iter()
        .find(|(_, current)| *current)
        .expect("the account page marks this browser's session")
        .0
}

/// The status a subscription at `url` is answered with, with `cookie` when given. Only the
/// response head is read, since an admitted stream never ends on its own.
fn refused_subscription(address: SocketAddr, url: &str, cookie: Option<&str>) -> u16 {
    let mut connection = TcpStream::connect(address).unwrap();
    connection
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let cookie = cookie
        .map(|cookie| format!("Cookie: {cookie}\r\n"))
        .unwrap_or_default();
    let text = format!(
        "GET {url} HTTP/1.1\r\nHost: {address}\r\n{CLIENT_IP}: 10.0.0.20\r\n\
         Accept: text/event-stream\r\n{cookie}\r\n"
    );
    connection.write_all(text.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        assert_eq!(
            connection.read(&mut byte).unwrap(),
            1,
            "the server answered nothing"
        );
        head.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&head).into_owned();
    status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line, not {status_line:?}"))
}

fn a_stream_bound_to_a_session_admits_that_session_alone(address: SocketAddr) {
    let ip = "10.0.0.20";
    let mut laptop = Browser::new(address, ip);
    laptop.sign_up("lovelace@example.com");
    let mut phone = Browser::new(address, ip);
    phone.sign_in("lovelace@example.com", PASSWORD);
    let mut stranger = Browser::new(address, ip);
    stranger.sign_up("babbage@example.com");
    // Each browser subscribes with the tag its own notes page renders for its session.
    let laptop_url = stream_source(&laptop.get("/notes").text());
    let phone_url = stream_source(&phone.get("/notes").text());
    let stranger_url = stream_source(&stranger.get("/notes").text());
    let session = current_session(&mut laptop);
    assert!(
        laptop_url.contains(&format!("&session={session}&")),
        "{laptop_url}"
    );
    assert_ne!(laptop_url, phone_url);
    let laptop_cookie = laptop.cookie.clone().unwrap();
    let phone_cookie = phone.cookie.clone().unwrap();

    // Each session's own cookie opens its stream (`open_with` asserts the 200).
    let mut laptop_stream = EventStream::open_with(
        address,
        &laptop_url,
        &[(CLIENT_IP, ip), ("Cookie", &laptop_cookie)],
    );
    let mut phone_stream = EventStream::open_with(
        address,
        &phone_url,
        &[(CLIENT_IP, ip), ("Cookie", &phone_cookie)],
    );
    // Copied to another user's browser, to the same user's other browser, or to none, the tag
    // is refused.
    let stranger_cookie = stranger.cookie.clone().unwrap();
    assert_eq!(
        refused_subscription(address, &laptop_url, Some(&stranger_cookie)),
        403
    );
    assert_eq!(
        refused_subscription(address, &laptop_url, Some(&phone_cookie)),
        403
    );
    assert_eq!(refused_subscription(address, &laptop_url, None), 403);

    // A note made on the phone appears live on the laptop, the same user's other session, and
    // never on the stranger's page, which follows the stranger's own stream.
    let mut stranger_stream = EventStream::open_with(
        address,
        &stranger_url,
        &[(CLIENT_IP, ip), ("Cookie", &stranger_cookie)],
    );
    let reply = phone.post_with(
        "/notes",
        &[("Accept", "text/vnd.turbo-stream.html, text/html")],
        &[("body", "Written on the phone")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    laptop_stream.event_containing("Written on the phone");
    phone_stream.event_containing("Written on the phone");
    let reply = stranger.post("/notes", &[("body", "Written by the stranger")]);
    assert_eq!(reply.status, 303);
    stranger_stream.event_containing("Written by the stranger");
    assert!(
        !stranger_stream.received().contains("Written on the phone"),
        "{}",
        stranger_stream.received()
    );
    assert!(!laptop_stream.received().contains("Written by the stranger"));

    // "Sign out everywhere else" from the laptop closes the phone's open stream within a second,
    // and the phone cannot subscribe again; the laptop's stream stays open.
    let started = Instant::now();
    let reply = laptop.post("/account/sessions", &[("_method", "delete")]);
    assert_eq!(reply.status, 303);
    assert!(
        phone_stream.ends_within(Duration::from_secs(1)),
        "the revoked session's stream was still open after {:?}",
        started.elapsed()
    );
    println!(
        "auth_app: a revoked session's stream closed {:.0} ms after the request was sent",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(!laptop_stream.ends_within(Duration::from_millis(300)));
    assert_eq!(
        refused_subscription(address, &phone_url, Some(&phone_cookie)),
        403
    );

    // Kept after sign-out, the laptop's tag is refused with its old cookie.
    laptop.post("/sign_out", &[("_method", "delete")]);
    assert!(laptop_stream.ends_within(Duration::from_secs(1)));
    assert_eq!(
        refused_subscription(address, &laptop_url, Some(&laptop_cookie)),
        403
    );
}

/// Two users of one app: each of the seven actions on the first user's note, done by the second,
/// answers 404 and changes nothing; the second user's list and count never show it; the shared
/// rooms need a signed-in user and their messages follow them.
fn another_users_records_are_not_found(address: SocketAddr) {
    let ip = "10.0.0.30";
    let mut ada = Browser::new(address, ip);
    ada.sign_up("ada.notes@example.com");
    let reply = ada.post("/notes", &[("body", "Ada's secret note")]);
    assert_eq!(reply.status, 303);
    let note = location(&reply).to_owned();
    let reply = ada.post(&format!("{note}/comments"), &[("body", "Ada's comment")]);
    assert_eq!(reply.status, 303);
    let comment = location(&reply).to_owned();
    let mut grace = Browser::new(address, ip);
    grace.sign_up("grace.notes@example.com");

    for path in [
        note.clone(),
        format!("{note}/edit"),
        format!("{note}/comments"),
        format!("{note}/comments/new"),
        format!("{note}/comments/summary"),
        comment.clone(),
        format!("{comment}/edit"),
    ] {
        assert_eq!(grace.get(&path).status, 404, "{path}");
    }
    for (path, fields) in [
        (
            note.as_str(),
            &[("_method", "patch"), ("body", "Grace was here")][..],
        ),
        (note.as_str(), &[("_method", "delete")]),
        (
            comment.as_str(),
            &[("_method", "patch"), ("body", "Grace was here")],
        ),
        (comment.as_str(), &[("_method", "delete")]),
    ] {
        assert_eq!(grace.post(path, fields).status, 404, "{path} {fields:?}");
    }
    let reply = grace.post(&format!("{note}/comments"), &[("body", "Grace's reply")]);
    assert_eq!(reply.status, 404);
    let list = grace.get("/notes").text();
    assert!(!list.contains("Ada&#39;s secret note") && !list.contains("Ada's secret note"));
    let summary = grace.get("/notes/summary").text();
    assert!(summary.contains(">0 notes<"), "{summary}");
    let page = ada.get(&note).text();
    assert!(page.contains("secret note"), "{page}");
    let comments = ada.get(&format!("{note}/comments")).text();
    assert!(
        comments.contains("comment") && !comments.contains("Grace"),
        "{comments}"
    );

    // Rooms are shared by every signed-in user, and by nobody else.
    let reply = ada.post("/rooms", &[("name", "Lobby")]);
    assert_eq!(reply.status, 303);
    let room = location(&reply).to_owned();
    assert!(grace.get(&room).text().contains("Lobby"));
    let reply = grace.post(&format!("{room}/messages"), &[("body", "Hello from Grace")]);
    assert_eq!(reply.status, 303);
    let mut visitor = Browser::new(address, ip);
    let reply = visitor.get(&room);
    assert_eq!(reply.status, 303);
    assert!(location(&reply).starts_with("/sign_in?return_to="));
    let reply = visitor.get(&format!("{room}/messages"));
    assert_eq!(reply.status, 303);
    let reply = visitor.post_with(
        "/rooms",
        &[("Accept", "text/vnd.turbo-stream.html, text/html")],
        &[("name", "Intruders")],
    );
    assert_eq!(reply.status, 401);
}

/// The id at the end of a record's path: `/notes/7` is 7.
fn id_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// Two users in one shared room: a link the second creates or edits to name the first user's
/// note, or a comment of it, is refused with the form's error exactly as a link to a note that
/// does not exist is, so the reply tells nothing of the first user's ids, and nothing is written;
/// a link to the second user's own note is saved.
fn a_link_to_another_users_note_is_refused(address: SocketAddr) {
    let ip = "10.0.0.31";
    let mut ada = Browser::new(address, ip);
    ada.sign_up("ada.links@example.com");
    let reply = ada.post("/notes", &[("body", "Ada's private note")]);
    assert_eq!(reply.status, 303);
    let ada_note = location(&reply).to_owned();
    let reply = ada.post(
        &format!("{ada_note}/comments"),
        &[("body", "Ada's comment")],
    );
    assert_eq!(reply.status, 303);
    let ada_comment = location(&reply).to_owned();
    let reply = ada.post("/rooms", &[("name", "Links")]);
    assert_eq!(reply.status, 303);
    let links = format!("{}/links", location(&reply));
    let mut grace = Browser::new(address, ip);
    grace.sign_up("grace.links@example.com");
    let reply = grace.post("/notes", &[("body", "Grace's note")]);
    assert_eq!(reply.status, 303);
    let grace_note = location(&reply).to_owned();
    let summary = format!("{links}/summary");
    let turbo = [("Accept", "text/vnd.turbo-stream.html, text/html")];

    // Ada's ids and ids that exist nowhere get the same answer.
    let refusals = [
        (id_of(&ada_note), "", "Note must exist"),
        ("999999", "", "Note must exist"),
        (
            id_of(&grace_note),
            id_of(&ada_comment),
            "Comment must exist",
        ),
        (id_of(&grace_note), "999999", "Comment must exist"),
    ];
    for (note_id, comment_id, error) in refusals {
        let fields = [("note_id", note_id), ("comment_id", comment_id)];
        let reply = grace.post(&links, &fields);
        assert_eq!(reply.status, 422, "{fields:?}");
        assert!(reply.text().contains(error), "{fields:?}: {}", reply.text());
        let reply = grace.post_with(&links, &turbo, &fields);
        assert_eq!(reply.status, 422, "{fields:?} from Turbo");
        assert!(reply.text().contains(error), "{fields:?}: {}", reply.text());
    }
    let count = grace.get(&summary).text();
    assert!(count.contains(">0 links<"), "{count}");

    let reply = grace.post(&links, &[("note_id", id_of(&grace_note))]);
    assert_eq!(reply.status, 303);
    let link = location(&reply).to_owned();
    let edit = format!("{link}/edit");
    let before = grace.get(&edit).text();
    let own = format!(r#"name="note_id" value="{}""#, id_of(&grace_note));
    assert!(before.contains(&own), "{before}");
    for (note_id, comment_id, error) in refusals {
        let fields = [
            ("_method", "patch"),
            ("note_id", note_id),
            ("comment_id", comment_id),
        ];
        let reply = grace.post(&link, &fields);
        assert_eq!(reply.status, 422, "{fields:?}");
        assert!(reply.text().contains(error), "{fields:?}: {}", reply.text());
    }
    assert_eq!(grace.get(&edit).text(), before, "the link is unchanged");
    let count = grace.get(&summary).text();
    assert!(count.contains(">1 link<"), "{count}");
}

fn a_cross_site_sign_in_is_refused(address: SocketAddr) {
    let ip = "10.0.0.10";
    let mut owner = Browser::new(address, ip);
    owner.sign_up("csrf@example.com");
    let mut victim = Browser::new(address, ip);
    for headers in [
        [("Sec-Fetch-Site", "cross-site")],
        [("Origin", "https://evil.example")],
    ] {
        let reply = victim.post_with(
            "/sign_in",
            &headers,
            &[("email", "csrf@example.com"), ("password", PASSWORD)],
        );
        assert_eq!(reply.status, 403, "{headers:?}");
        assert!(reply.header("set-cookie").is_none());
    }
    // A cross-site sign-out is refused as well: another site cannot end the session either.
    let reply = owner.post_with("/sign_out", &[("Sec-Fetch-Site", "cross-site")], &[]);
    assert_eq!(reply.status, 403);
    assert!(owner.signed_in());
}

fn the_return_to_is_never_another_site(address: SocketAddr) {
    let ip = "10.0.0.11";
    let mut browser = Browser::new(address, ip);
    browser.sign_up("return@example.com");
    browser.post("/sign_out", &[]);

    let reply = browser.get("/account");
    assert_eq!(reply.status, 303);
    assert_eq!(location(&reply), "/sign_in?return_to=%2Faccount");
    let page = browser.get("/sign_in?return_to=%2F%2Fevil.example").text();
    assert!(page.contains(r#"name="return_to" value="/""#), "{page}");

    for (return_to, lands) in [
        ("/account", "/account"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let reply = browser.post(
            "/sign_in",
            &[
                ("email", "return@example.com"),
                ("password", PASSWORD),
                ("return_to", return_to),
            ],
        );
        assert_eq!(reply.status, 303);
        assert_eq!(location(&reply), lands, "return_to={return_to}");
    }
}

/// Two instances sharing a `redis-server` count the attempts on either against one limit: ten
/// on one, and the eleventh on the other is refused.
fn two_instances_on_redis_count_one_limit(app: &Path) {
    let redis = RedisServer::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let env = [
        (CLIENT_IP_HEADER_VAR, CLIENT_IP),
        ("REDIS_URL", url.as_str()),
        ("DATABASE_URL", "sqlite://storage/shared.sqlite3"),
    ];
    let first = start_with(app, "accounts", &env);
    let second = start_with(app, "accounts", &env);
    let mut owner = Browser::new(first.address, "10.0.2.1");
    assert_eq!(owner.sign_up("shared@example.com").status, 303);
    let mut guesser = Browser::new(first.address, "10.0.2.2");
    for attempt in 1..=10 {
        let reply = guesser.sign_in("shared@example.com", "a guessed password");
        assert_eq!(reply.status, 422, "attempt {attempt}");
    }
    let mut elsewhere = Browser::new(second.address, "10.0.2.2");
    let reply = elsewhere.sign_in("shared@example.com", PASSWORD);
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    // The counts live in Redis, under the app's name.
    let keys = redis.cli(&["--scan", "--pattern", "accounts:rate:*"]);
    assert!(keys.contains("accounts:rate:sign_in:ip:10.0.2.2"), "{keys}");
    assert!(
        keys.contains("accounts:rate:sign_in:email:shared@example.com"),
        "{keys}"
    );
}

/// What a production server needs besides accounts: a secret and its host name.
const PRODUCTION: [(&str, &str); 3] = [
    ("APP_ENV", "production"),
    (
        "SECRET_KEY_BASE",
        "a production secret for the test that is long enough to sign with",
    ),
    ("APP_HOSTS", "127.0.0.1"),
];

/// A session signed out on one instance has its stream closed on the other, through Redis.
fn two_instances_on_redis_close_a_revoked_sessions_stream(app: &Path) {
    let redis = RedisServer::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let env = [
        (CLIENT_IP_HEADER_VAR, CLIENT_IP),
        ("REDIS_URL", url.as_str()),
        ("DATABASE_URL", "sqlite://storage/revoked.sqlite3"),
        ("SECRET_KEY_BASE", SECRET),
    ];
    let first = start_with(app, "accounts", &env);
    let second = start_with(app, "accounts", &env);
    let ip = "10.0.3.1";
    let mut laptop = Browser::new(first.address, ip);
    assert_eq!(laptop.sign_up("curie@example.com").status, 303);
    let mut phone = Browser::new(second.address, ip);
    assert_eq!(phone.sign_in("curie@example.com", PASSWORD).status, 303);
    let phone_url =
        Signer::new(SECRET).source_url_for("user:1:notes", &current_session(&mut phone));
    let phone_cookie = phone.cookie.clone().unwrap();
    let mut phone_stream = EventStream::open_with(
        second.address,
        &phone_url,
        &[(CLIENT_IP, ip), ("Cookie", &phone_cookie)],
    );

    let started = Instant::now();
    let reply = laptop.post("/account/sessions", &[("_method", "delete")]);
    assert_eq!(reply.status, 303);
    assert!(
        phone_stream.ends_within(Duration::from_secs(1)),
        "the other instance kept the revoked session's stream open for {:?}",
        started.elapsed()
    );
    println!(
        "auth_app: across two instances on Redis, the stream closed {:.0} ms after the request was sent",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(
        refused_subscription(second.address, &phone_url, Some(&phone_cookie)),
        403
    );
}

fn production_cookies_are_host_only_and_secure(app: &Path) {
    let mut env = PRODUCTION.to_vec();
    // No mail is sent, so the server is never reached.
    env.push(("SMTP_URL", "smtp://127.0.0.1:9"));
    env.push(("DATABASE_URL", "sqlite:storage/production.sqlite3"));
    let server = start_with(app, "accounts", &env);
    let mut browser = Browser::new(server.address, "10.0.1.1");
    let reply = browser.sign_up("prod@example.com");
    assert_eq!(reply.status, 303, "{}", reply.text());
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for flag in ["; HttpOnly", "; SameSite=Lax", "; Path=/", "; Secure"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    // The browser sends it back under its prefixed name; the unprefixed one means nothing here.
    assert!(browser.signed_in());
    let token = browser.cookie.clone().unwrap();
    let mut unprefixed = Browser::new(server.address, "10.0.1.1");
    unprefixed.cookie = Some(token.replacen("__Host-session=", "session=", 1));
    assert!(!unprefixed.signed_in());
    assert_eq!(browser.get("/dev/mailbox").status, 404);
}

fn production_without_smtp_url_refuses_to_boot(app: &Path) {
    let binary = support::app::apps_target().join("debug/accounts");
    let output = Command::new(binary)
        .current_dir(app)
        .env_clear()
        .envs(PRODUCTION)
        .env("PORT", support::app::free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: SMTP_URL: must be set"),
        "{stderr}"
    );
}
