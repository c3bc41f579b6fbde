//! The process's shutdown trigger: SIGINT or SIGTERM. Passed to `app::run` as a future, so
//! tests can drive shutdown without signals.

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};

/// Installs the SIGINT and SIGTERM handlers now, and returns a future that completes on the
/// first of them. Installing before the server starts matters: a signal that arrives between
/// the listeners coming up and the first poll must still shut down gracefully, not kill the
/// process. Must be called inside the runtime.
pub fn shutdown() -> impl Future<Output = ()> {
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers; stop the process with SIGKILL");
            return std::future::pending().await;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
    }
}
