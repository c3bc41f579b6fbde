//! The process's shutdown trigger, SIGINT or SIGTERM, and its reload trigger, SIGHUP (the
//! listeners' certificates). Passed to `app::run`, so tests can drive both without signals.

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

/// SIGHUPs, as they arrive. Installed when made (a SIGHUP during startup must not end the
/// process, SIGHUP's default); without a handler, never yields.
pub struct Reloads(Option<tokio::signal::unix::Signal>);

impl Reloads {
    /// Installs the SIGHUP handler now. Must be called inside the runtime.
    pub fn sighup() -> Reloads {
        match signal(SignalKind::hangup()) {
            Ok(hup) => Reloads(Some(hup)),
            Err(e) => {
                tracing::error!(error = %e, "cannot install the SIGHUP handler; certificates will not reload");
                Reloads(None)
            }
        }
    }

    /// Completes at the next SIGHUP.
    pub async fn next(&mut self) {
        match &mut self.0 {
            Some(hup) => {
                if hup.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }
}
