//! The process's shutdown trigger: SIGINT or SIGTERM. Passed to `app::run` as a future, so
//! tests can drive shutdown without signals.

use tokio::signal::unix::{signal, SignalKind};

/// Completes on the first SIGINT or SIGTERM.
pub async fn shutdown() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the process with SIGKILL");
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutdown requested");
}
