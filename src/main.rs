//! `labstore`: parses the command line, loads the configuration and hands over to `app`
//! (`bench` to `bench::main`, without the configuration).

use std::process::ExitCode;

use clap::Parser;
use labstore::cli::{AdminCommand, Cli, Command, ConfigCommand, KeysCommand, RootCommand};
use labstore::config::{self, Sources};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A client of any S3 endpoint: the server's configuration is not its business.
    let cli = match cli.command {
        Command::Bench(args) => return labstore::bench::main(&args),
        command => Cli { command, ..cli },
    };
    let sources = match Sources::process_env() {
        Ok(env) => Sources {
            config_file: cli.config,
            cwd: std::env::current_dir().unwrap_or_else(|_| ".".into()),
            env,
            flags: cli.overrides.0,
        },
        Err(e) => return config_error(&e),
    };
    let config = match config::load(&sources) {
        Ok(config) => config,
        Err(e) => return config_error(&e),
    };
    match cli.command {
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            print!("{}", config::show(&config));
            ExitCode::SUCCESS
        }
        Command::Serve => serve(config),
        // The offline commands read and write the SQLite files under data_dir/metadata.
        Command::Keys { .. }
        | Command::Scrub(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Admin { .. }
            if config.backend.metadata.engine == config::MetadataEngine::Postgres =>
        {
            eprintln!(
                "labstore: this command works on the SQLite metadata engine only; with \
                 backend.metadata.engine: postgres, back the database up with PostgreSQL's own \
                 tools and the data directory with a file copy (docs/scale-out.md)"
            );
            ExitCode::from(2)
        }
        Command::Keys {
            command: KeysCommand::Rotate { batch },
        } => rotate(&config, batch),
        Command::Scrub(args) => offline_pass(
            &config,
            labstore::scrub::Mode::Scrub,
            Some(args.bytes_per_second).filter(|r| *r > 0),
            args.report.as_deref(),
        ),
        Command::Migrate(_) => {
            labstore::logging::init(&config.log);
            match labstore::migrate::sqlite_to_postgres(&config, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("labstore: migrate failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Backup(args) => backup(&config, &args),
        Command::Restore(args) => restore(&config, &args),
        Command::Admin { command } => admin(&config, &command),
        Command::Bench(_) => unreachable!("handled before the configuration is loaded"),
    }
}

fn backup(config: &config::Config, args: &labstore::cli::BackupArgs) -> ExitCode {
    labstore::logging::init(&config.log);
    let options = labstore::backup::BackupOptions {
        wait_for: args.wait_for.clone(),
    };
    match labstore::backup::backup(config, &args.to, &options, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labstore: backup failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn restore(config: &config::Config, args: &labstore::cli::RestoreArgs) -> ExitCode {
    labstore::logging::init(&config.log);
    let options = labstore::backup::RestoreOptions {
        keys_dir: args
            .keys_dir
            .clone()
            .unwrap_or_else(|| config.backend.storage.keys_dir.clone()),
        without_key: args.without_key,
    };
    match labstore::backup::restore(&args.from, &args.to, &options, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labstore: restore refused: {e}");
            ExitCode::FAILURE
        }
    }
}

fn admin(config: &config::Config, command: &AdminCommand) -> ExitCode {
    use labstore::offline;
    if let AdminCommand::Verify { report } = command {
        return offline_pass(
            config,
            labstore::scrub::Mode::Verify,
            None,
            report.as_deref(),
        );
    }
    labstore::logging::init(&config.log);
    let out = &mut std::io::stdout();
    let done = match command {
        AdminCommand::Root {
            command: RootCommand::Show,
        } => offline::root_show(config, out).map(|()| true),
        AdminCommand::Root {
            command: RootCommand::ResetSecret,
        } => offline::root_reset_secret(config, out).map(|_| true),
        AdminCommand::Users => offline::users(config, out).map(|()| true),
        AdminCommand::CheckDb => offline::check_db(config, out),
        AdminCommand::Verify { .. } => unreachable!("answered above"),
    };
    match done {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("labstore: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(e: &config::ConfigError) -> ExitCode {
    eprintln!("labstore: configuration error: {e}");
    ExitCode::from(2)
}

fn rotate(config: &config::Config, batch: u32) -> ExitCode {
    labstore::logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("labstore: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    match runtime.block_on(labstore::keys::rotate(config, batch as usize, &mut out)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labstore: key rotation stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `labstore scrub` and `labstore admin verify`: 0 when nothing is wrong, 3 when something
/// was found (damage; for verify, orphans too), 1 when the pass could not run or was stopped. SIGINT or
/// SIGTERM stops the pass; the summary says it is incomplete.
fn offline_pass(
    config: &config::Config,
    mode: labstore::scrub::Mode,
    rate: Option<u64>,
    report: Option<&std::path::Path>,
) -> ExitCode {
    labstore::logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("labstore: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    let stop = tokio_util::sync::CancellationToken::new();
    let run = async {
        let signal = labstore::signal::shutdown();
        let stopper = stop.clone();
        let watch = tokio::spawn(async move {
            signal.await;
            stopper.cancel();
        });
        let done = labstore::scrub::offline::run(config, mode, rate, report, stop, &mut out).await;
        watch.abort();
        done
    };
    match runtime.block_on(run) {
        Ok(report) => {
            let found = match mode {
                labstore::scrub::Mode::Scrub => report.damaged(),
                labstore::scrub::Mode::Verify => report.damaged() || report.orphans > 0,
            };
            if !report.complete {
                ExitCode::FAILURE
            } else if found {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("labstore: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: config::Config) -> ExitCode {
    labstore::logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting labstore");
    let run = async {
        // Handlers first: a signal during startup must not kill the process outright.
        let shutdown = labstore::signal::shutdown();
        let reloads = labstore::signal::Reloads::sighup();
        labstore::app::run(config, shutdown, reloads).await
    };
    match runtime.block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "labstore could not start");
            eprintln!("labstore: {e}");
            ExitCode::FAILURE
        }
    }
}
