//! The extractors a handler asks for the signed-in user with: [`CurrentUser`], which sends
//! everyone else to sign in, and [`MaybeUser`], which lets them through.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::model::{Session, User};
use super::session;
use crate::app::{AppError, AppState};

/// The signed-in user and the session the request came with. A handler that takes it serves
/// signed-in users only: a page visit without a session is redirected to `/sign_in`, which
/// brings the user back afterwards, and a Turbo Stream or `fetch` request gets 401.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

/// The signed-in user, if there is one.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Two extractors in one handler find the session once.
        if let Some(found) = parts.extensions.get::<MaybeUser>() {
            return Ok(found.clone());
        }
        let found = session::resolve(&app.db, &parts.headers, app.config.environment)
            .await?
            .map(|(session, user)| CurrentUser { user, session });
        let found = MaybeUser(found);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, app).await {
            Ok(MaybeUser(Some(current))) => Ok(current),
            Ok(MaybeUser(None)) => Err(sign_in_first(parts)),
            Err(error) => Err(error.into_response()),
        }
    }
}

/// What a request without a session gets: 401 when it wants something other than a page (a
/// Turbo Stream, or a `fetch` that does not accept HTML), else a redirect to the sign-in page
/// that comes back to a page it asked for with GET.
fn sign_in_first(parts: &Parts) -> Response {
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("*/*");
    // A browser marks a request made by `fetch` with `Sec-Fetch-Dest: empty`; Turbo's page
    // visits are fetches too, but they list `text/html`.
    let fetch = parts
        .headers
        .get("sec-fetch-dest")
        .is_some_and(|value| value == "empty");
    let wants_page = accept.contains("text/html") || (!fetch && accept.contains("*/*"));
    if crate::turbo::accepts_turbo_stream(&parts.headers) || !wants_page {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    }
    let location = match (&parts.method, parts.uri.path_and_query()) {
        (&Method::GET, Some(target)) => {
            let encoded: String =
                form_urlencoded::byte_serialize(target.as_str().as_bytes()).collect();
            format!("/sign_in?return_to={encoded}")
        }
        _ => "/sign_in".to_owned(),
    };
    Redirect::to(&location).into_response()
}
