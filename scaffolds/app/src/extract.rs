//! The extractors handlers read the path and the form with: axum's own, except that a request
//! they refuse gets the app's error page, never the framework's plain-text explanation (which
//! would echo what the client sent).

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::app::AppError;

/// [`axum::extract::Path`]. A segment that does not parse as its type (`/rooms/abc`) is a 404,
/// as in Rails, where `Room.find("abc")` finds nothing: no record lives at that path.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(AppError::NotFound),
            Err(rejection) => Err(AppError::Rejected(rejection.status())),
        }
    }
}

/// [`axum::Form`]. A body it cannot read keeps the status axum gives it (415 without the form
/// content type, 422 for a repeated or mistyped field, 413 when too large, 400 otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(AppError::Rejected(rejection.status())),
        }
    }
}
