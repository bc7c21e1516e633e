//! Starts the <%= app.title %> web server: reads the configuration, opens the database and serves until a shutdown signal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

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

    let header_timeout = state.config.header_timeout;
    serve(listener, app::router(state), header_timeout, async move {
        shutdown_signal().await;
        // Live streams never end on their own, so they are closed first to let the
        // graceful shutdown finish; browsers reconnect to the next instance.
        broadcaster.shutdown();
    })
    .await;
    Ok(())
}

/// Serves HTTP/1.1 on `listener` until `shutdown` resolves, then waits for the requests in
/// flight. It does what `axum::serve` does, plus hyper's header-read timeout, which
/// `axum::serve` does not expose: a connection that sends its headers too slowly, or stays
/// idle between requests, is closed instead of holding a socket.
async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    // Each connection holds a receiver; `closed()` resolves once every connection has ended.
    let (stop, stopping) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors is temporary: wait for some to close.
                    tracing::error!("accept error: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        // Handlers and layers read the client's address through `ConnectInfo`.
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!("connection from {peer} ended: {error}");
            }
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    stop.closed().await;
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
