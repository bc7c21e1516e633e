//! Starts the <%= app.title %> web server: reads the configuration, opens the database and serves until a shutdown signal.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::filter::Targets;

use <%= app.name %>::app::{self, AppState};
use <%= app.name %>::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // A one-line message on stderr is easier to act on than a panic's backtrace.
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let address = config.listen_address();
    let state = AppState::new(config).await?;
    let broadcaster = state.broadcaster.clone();

    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| {
            format!("cannot listen on {address} (set PORT to use another port): {error}")
        })?;
    tracing::info!("listening on http://{address}");

    axum::serve(listener, app::router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Live streams never end on their own, so they are closed first to let the
            // graceful shutdown finish; browsers reconnect to the next instance.
            broadcaster.shutdown();
        })
        .await
        .map_err(|error| format!("server error: {error}"))
}

/// Logs at `info` unless `RUST_LOG` says otherwise (for example `RUST_LOG=debug,sqlx=warn`).
fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let info = || Targets::new().with_default(tracing::Level::INFO);
    let (filter, invalid) = match std::env::var("RUST_LOG") {
        Err(_) => (info(), None),
        Ok(value) => match value.parse::<Targets>() {
            Ok(filter) => (filter, None),
            Err(error) => (info(), Some((value, error))),
        },
    };
    tracing_subscriber::registry()
        // Colours only on a terminal, so log files and log collectors get plain text.
        .with(tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal()))
        .with(filter)
        .init();
    // A typo in RUST_LOG should not stop the app, but it should not go unnoticed either.
    if let Some((value, error)) = invalid {
        tracing::warn!("ignoring RUST_LOG={value:?} ({error}); logging at info");
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where the platform has it (how Fly.io and Docker stop an app).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
