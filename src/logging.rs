//! Log setup: `log.level` and `log.format` from the configuration, `RUST_LOG` overriding the
//! level when set. Logs go to standard error; standard output is kept for what a person must
//! read (the generated root secret, `config show`).

use tracing_subscriber::EnvFilter;

use crate::config::{Log, LogFormat};

pub fn init(log: &Log) {
    let (filter, bad_rust_log) = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new(&log.level), Some(e.to_string())),
        },
        _ => (EnvFilter::new(&log.level), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            // A request's span (request id, listener, operation) on each of its lines, so
            // that they can be joined.
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    if let Some(e) = bad_rust_log {
        tracing::warn!(error = %e, level = %log.level, "RUST_LOG is not a valid filter; using log.level");
    }
}
