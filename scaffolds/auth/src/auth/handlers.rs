//! The account pages: sign-up, sign-in, sign-out, password resets, the account page with its
//! sessions, the header's account menu and development's mailbox.
//!
//! A form that fails answers 422 with the page again (Turbo shows it in place), a refused
//! attempt answers 429 with `Retry-After`, and a success redirects with 303.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::mail::{self, Mail};
use super::model::{self, PasswordReset, Session, User};
use super::session::{self, Ending};
use super::{Auth, CurrentUser, MaybeUser, client_ip, password, safe_return_to};
use crate::app::{AppError, AppState};
use crate::config::Environment;
use crate::extract::{Form, Path};
use crate::turbo::forms::FieldErrors;

/// What sign-in answers for an unknown email and for a wrong password alike.
const INVALID_SIGN_IN: &str = "Invalid email or password.";

#[derive(Template, WebTemplate)]
#[template(path = "auth/sign_up.html")]
struct SignUpPage {
    email: String,
    errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    email: String,
    return_to: String,
    error: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/new_password.html")]
struct ResetRequestPage {
    email: String,
    sent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/edit_password.html")]
struct ResetPage {
    action: String,
    errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/invalid_reset.html")]
struct InvalidResetPage;

#[derive(Template, WebTemplate)]
#[template(path = "auth/account.html")]
struct AccountPage {
    email: String,
    sessions: Vec<SessionRow>,
    errors: FieldErrors,
}

/// A session as the account page lists it.
struct SessionRow {
    path: String,
    user_agent: String,
    ip_address: String,
    signed_in: String,
    last_seen: String,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/_menu.html")]
struct Menu {
    email: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/mailbox.html")]
struct Mailbox {
    messages: Vec<mail::Stored>,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/rate_limited.html")]
struct RateLimitedPage {
    seconds: u64,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct ReturnTo {
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// The request's parts a handler reads the client from: its user agent and address.
pub struct Client {
    user_agent: String,
    ip: String,
}

impl axum::extract::FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let ip = client_ip(&app.config, &parts.headers, parts);
        Ok(Client { user_agent, ip })
    }
}

/// A failure no visitor caused (the hasher's thread gone, a random source missing), shown as
/// the app's 500 page and logged.
fn internal(error: impl std::fmt::Display) -> AppError {
    AppError::Template(askama::Error::custom(format!("accounts: {error}")))
}

/// Runs argon2 off the async threads: one hash takes tens of milliseconds of CPU.
async fn hash(auth: &Auth, password: String) -> Result<String, AppError> {
    let hasher = auth.hasher.clone();
    tokio::task::spawn_blocking(move || hasher.hash(&password))
        .await
        .map_err(internal)?
        .map_err(internal)
}

async fn verify(auth: &Auth, password: String, stored: Option<String>) -> Result<bool, AppError> {
    let hasher = auth.hasher.clone();
    tokio::task::spawn_blocking(move || hasher.verify(&password, stored.as_deref()))
        .await
        .map_err(internal)
}

/// Counts an attempt at `action` from the client's address and for `email`; past the limit it
/// is the 429 to answer.
async fn limited(auth: &Auth, action: &str, client: &Client, email: &str) -> Option<Response> {
    let keys = [
        format!("{action}:ip:{}", client.ip),
        format!("{action}:email:{email}"),
    ];
    let wait = auth.limiter.attempt(&keys).await.err()?;
    Some(too_many(wait))
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, RateLimitedPage { seconds }).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Signs `user` in with a new session and redirects to `to`, setting the cookie.
async fn sign_in(
    app: &AppState,
    user: &User,
    client: &Client,
    to: &str,
) -> Result<Response, AppError> {
    let (_, token) = session::start(&app.db, user, &client.user_agent, &client.ip).await?;
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::cookie(app.config.environment, &token),
    );
    Ok(response)
}

/// Ends the session a browser came with, if any, before it signs in as someone: its old token
/// must not stay valid beside the new one.
async fn end_previous(app: &AppState, MaybeUser(previous): MaybeUser) -> Result<(), AppError> {
    if let Some(previous) = previous {
        session::end(&app.db, Ending::One(previous.user.id, previous.session.id)).await?;
    }
    Ok(())
}

pub async fn new_user() -> Response {
    let page = SignUpPage {
        email: String::new(),
        errors: FieldErrors::default(),
    };
    page.into_response()
}

pub async fn create_user(
    State(app): State<AppState>,
    Extension(auth): Extension<Auth>,
    client: Client,
    previous: MaybeUser,
    Form(form): Form<SignUpForm>,
) -> Result<Response, AppError> {
    let email = model::normalize_email(&form.email);
    if let Some(refused) = limited(&auth, "sign_up", &client, &email).await {
        return Ok(refused);
    }
    let mut errors = FieldErrors::default();
    if email.is_empty() {
        errors.add("email", "can't be blank");
    } else if !model::is_plausible_email(&email) {
        errors.add("email", "is not an email address");
    }
    if let Some(problem) = password::problem(&form.password) {
        errors.add("password", problem);
    } else if form.password != form.password_confirmation {
        errors.add("password_confirmation", "doesn't match the password");
    }
    let user = if errors.is_empty() {
        let password_hash = hash(&auth, form.password).await?;
        let user = User::create(&app.db, &email, &password_hash).await?;
        if user.is_none() {
            errors.add("email", "has already been taken");
        }
        user
    } else {
        None
    };
    let Some(user) = user else {
        let page = SignUpPage { email, errors };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    end_previous(&app, previous).await?;
    sign_in(&app, &user, &client, "/").await
}

pub async fn new_session(Query(query): Query<ReturnTo>) -> Response {
    let page = SignInPage {
        email: String::new(),
        return_to: safe_return_to(query.return_to.as_deref()),
        error: None,
    };
    page.into_response()
}

pub async fn create_session(
    State(app): State<AppState>,
    Extension(auth): Extension<Auth>,
    client: Client,
    previous: MaybeUser,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let email = model::normalize_email(&form.email);
    if let Some(refused) = limited(&auth, "sign_in", &client, &email).await {
        return Ok(refused);
    }
    let user = User::find_by_email(&app.db, &email).await?;
    // An unknown email is checked against a dummy hash, so it costs what a wrong password costs.
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    let matches = verify(&auth, form.password, stored).await?;
    let return_to = safe_return_to(form.return_to.as_deref());
    match user {
        Some(user) if matches => {
            end_previous(&app, previous).await?;
            sign_in(&app, &user, &client, &return_to).await
        }
        _ => {
            let page = SignInPage {
                email,
                return_to,
                error: Some(INVALID_SIGN_IN),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn destroy_session(
    State(app): State<AppState>,
    previous: MaybeUser,
) -> Result<Response, AppError> {
    end_previous(&app, previous).await?;
    let mut response = Redirect::to("/sign_in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::removal_cookie(app.config.environment),
    );
    Ok(response)
}

pub async fn new_reset() -> Response {
    let page = ResetRequestPage {
        email: String::new(),
        sent: false,
    };
    page.into_response()
}

/// Sends a reset link when the email has an account. The answer is the same either way, and
/// the token and the mail are made off the request path, so neither the page nor its timing
/// tells whether the account exists.
pub async fn create_reset(
    State(app): State<AppState>,
    Extension(auth): Extension<Auth>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<ResetRequestForm>,
) -> Result<Response, AppError> {
    let email = model::normalize_email(&form.email);
    if let Some(refused) = limited(&auth, "reset", &client, &email).await {
        return Ok(refused);
    }
    if let Some(user) = User::find_by_email(&app.db, &email).await? {
        let origin = origin(app.config.environment, &headers);
        tokio::spawn(async move {
            if let Err(error) = send_reset(&app, &auth, &user, &origin).await {
                tracing::error!("password reset for user {}: {error}", user.id);
            }
        });
    }
    let page = ResetRequestPage { email, sent: true };
    Ok(page.into_response())
}

/// `https://host` (`http://` outside production) of the request, whose `Host` the app has
/// already checked against the hosts it serves.
fn origin(environment: Environment, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let scheme = match environment {
        Environment::Production => "https",
        Environment::Development | Environment::Test => "http",
    };
    format!("{scheme}://{host}")
}

async fn send_reset(app: &AppState, auth: &Auth, user: &User, origin: &str) -> Result<(), String> {
    let token = session::new_token();
    let ttl = chrono::Duration::from_std(auth.settings.reset_ttl).map_err(|e| e.to_string())?;
    PasswordReset::create(
        &app.db,
        user.id,
        &session::digest(&token),
        chrono::Utc::now() + ttl,
    )
    .await
    .map_err(|error| error.to_string())?;
    let minutes = auth.settings.reset_ttl.as_secs().div_ceil(60);
    let mail = Mail {
        to: user.email.clone(),
        subject: "Reset your password".to_owned(),
        body: format!(
            "Someone asked to reset the password of your account.\n\n\
             To choose a new password, open this link within {minutes} minutes:\n\n\
             {origin}/passwords/{token}\n\n\
             The link works once. If you did not ask for it, ignore this message: your password stays as it is.\n"
        ),
    };
    auth.mailer.send(mail).await
}

/// Whether a reset token exists and has not expired, without using it up.
async fn reset_is_valid(app: &AppState, token: &str) -> Result<bool, AppError> {
    let found = PasswordReset::peek(&app.db, &session::digest(token)).await?;
    Ok(found.is_some_and(|(_, expires_at)| expires_at > chrono::Utc::now()))
}

fn invalid_reset() -> Response {
    (StatusCode::NOT_FOUND, InvalidResetPage).into_response()
}

pub async fn edit_password(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !reset_is_valid(&app, &token).await? {
        return Ok(invalid_reset());
    }
    let page = ResetPage {
        action: format!("/passwords/{token}"),
        errors: FieldErrors::default(),
    };
    Ok(page.into_response())
}

/// Sets the new password, uses the token up, and ends every session of the user, so that
/// whoever knew the old password is signed out everywhere.
pub async fn update_password(
    State(app): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    if !reset_is_valid(&app, &token).await? {
        return Ok(invalid_reset());
    }
    let mut errors = FieldErrors::default();
    if let Some(problem) = password::problem(&form.password) {
        errors.add("password", problem);
    } else if form.password != form.password_confirmation {
        errors.add("password_confirmation", "doesn't match the password");
    }
    if !errors.is_empty() {
        let page = ResetPage {
            action: format!("/passwords/{token}"),
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let now = chrono::Utc::now();
    let Some((user_id, expires_at)) =
        PasswordReset::take(&app.db, &session::digest(&token)).await?
    else {
        return Ok(invalid_reset());
    };
    if expires_at <= now {
        return Ok(invalid_reset());
    }
    let password_hash = hash(&auth, form.password).await?;
    User::set_password_hash(&app.db, user_id, &password_hash).await?;
    PasswordReset::clear(&app.db, user_id, now).await?;
    session::end(&app.db, Ending::All(user_id)).await?;
    let mut response = Redirect::to("/sign_in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::removal_cookie(app.config.environment),
    );
    Ok(response)
}

async fn account_page(
    app: &AppState,
    current: &CurrentUser,
    errors: FieldErrors,
) -> Result<AccountPage, AppError> {
    let sessions = Session::all_of(&app.db, current.user.id)
        .await?
        .into_iter()
        .map(|session| SessionRow {
            path: format!("/account/sessions/{}", session.id),
            user_agent: if session.user_agent.is_empty() {
                "Unknown browser".to_owned()
            } else {
                session.user_agent.clone()
            },
            ip_address: session.ip_address.clone(),
            signed_in: session.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            last_seen: session
                .last_seen_at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
            current: session.id == current.session.id,
        })
        .collect();
    Ok(AccountPage {
        email: current.user.email.clone(),
        sessions,
        errors,
    })
}

pub async fn account(
    State(app): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    let page = account_page(&app, &current, FieldErrors::default()).await?;
    Ok(page.into_response())
}

/// Changes the password of the signed-in user, who proves it with the current one, and ends
/// every other session of theirs.
pub async fn change_password(
    State(app): State<AppState>,
    Extension(auth): Extension<Auth>,
    current: CurrentUser,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let stored = Some(current.user.password_hash.clone());
    if !verify(&auth, form.current_password, stored).await? {
        errors.add("current_password", "is not your password");
    } else if let Some(problem) = password::problem(&form.password) {
        errors.add("password", problem);
    } else if form.password != form.password_confirmation {
        errors.add("password_confirmation", "doesn't match the password");
    }
    if !errors.is_empty() {
        let page = account_page(&app, &current, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let password_hash = hash(&auth, form.password).await?;
    User::set_password_hash(&app.db, current.user.id, &password_hash).await?;
    session::end(&app.db, Ending::AllBut(current.user.id, current.session.id)).await?;
    Ok(Redirect::to("/account").into_response())
}

/// Signs out one of the user's sessions; another user's session is not found.
pub async fn end_one_session(
    State(app): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let ended = session::end(&app.db, Ending::One(current.user.id, id)).await?;
    if ended.is_empty() {
        return Err(AppError::NotFound);
    }
    if id != current.session.id {
        return Ok(Redirect::to("/account").into_response());
    }
    let mut response = Redirect::to("/sign_in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::removal_cookie(app.config.environment),
    );
    Ok(response)
}

/// Signs out every session of the user but this one.
pub async fn end_other_sessions(
    State(app): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    session::end(&app.db, Ending::AllBut(current.user.id, current.session.id)).await?;
    Ok(Redirect::to("/account").into_response())
}

/// The account links in the layout's header, loaded into every page as a frame, so that pages
/// themselves stay the same for every visitor.
pub async fn menu(MaybeUser(current): MaybeUser) -> Response {
    let menu = Menu {
        email: current.map(|current| current.user.email),
    };
    menu.into_response()
}

/// The mail written to `storage/mail/`, in development and tests only.
pub async fn mailbox(State(app): State<AppState>) -> Result<Response, AppError> {
    if app.config.environment == Environment::Production {
        return Err(AppError::NotFound);
    }
    let messages =
        tokio::task::spawn_blocking(|| mail::stored(std::path::Path::new(mail::MAIL_DIR)))
            .await
            .map_err(internal)?
            .map_err(internal)?;
    Ok(Mailbox { messages }.into_response())
}
