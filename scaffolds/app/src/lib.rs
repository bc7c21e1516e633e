//! The <%= app.title %> application as a library, so that `src/main.rs` and the integration tests in `tests/` share one router.

pub mod app;
pub mod config;
pub mod extract;
pub mod turbo;
