//! The command line: `labstore serve`, `labstore config show`, `labstore bench`,
//! `labstore keys rotate`, `labstore backup`/`restore`, `labstore scrub`, `labstore admin ...`, `--version`,
//! and one global flag per configuration key, generated from the key table
//! (`--storage-data-dir` for `backend.storage.data_dir`).

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::config::{keys, CONFIG_ENV};

#[derive(Debug, Parser)]
#[command(
    name = "labstore",
    version,
    about = "A self-hosted, S3-compatible object store with an embedded IAM service"
)]
pub struct Cli {
    /// Configuration file (default: ./labstore.yml when present)
    #[arg(short = 'c', long = "config", global = true, env = CONFIG_ENV, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub overrides: KeyFlags,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the admin, IAM and S3 listeners
    Serve,
    /// Inspect the configuration
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Measure an S3 endpoint (this server or any other) with a warp-style load
    Bench(Box<BenchArgs>),
    /// Manage the master key (offline: the server must be stopped)
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Back up the data directory into DIR while the server runs (incremental: a later run
    /// into the same DIR copies only new blob files). The master key is not included
    Backup(BackupArgs),
    /// Restore a backup into an empty or new data directory (the master key is restored
    /// separately)
    Restore(RestoreArgs),
    /// Read every stored object byte back and verify it against the index (offline: the
    /// server must be stopped); damage is marked so that GET refuses it, orphaned blob files
    /// older than backend.s3.scrub.orphan_grace_seconds are removed. Exit status: 0 nothing
    /// damaged, 3 corrupt or missing data found, 1 the scrub could not run
    Scrub(ScrubArgs),
    /// Move a stopped single-node store's metadata from its SQLite files into the PostgreSQL
    /// schemas of backend.metadata.postgres (empty ones); the blobs stay in the data directory
    Migrate(MigrateArgs),
    /// Offline recovery and checks on a stopped server's data directory
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The engine the metadata is in now: sqlite
    #[arg(long, value_parser = ["sqlite"])]
    pub from: String,
    /// The engine to move it to: postgres (backend.metadata.postgres)
    #[arg(long, value_parser = ["postgres"])]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup directory (created if absent; holds one backup, the last complete one)
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// After the snapshot, wait until FILE exists before copying blob files (tests)
    #[arg(long, value_name = "FILE", hide = true)]
    pub wait_for: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (`labstore backup --to`)
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The data directory to restore into: empty or absent
    #[arg(long, value_name = "DATA_DIR")]
    pub to: PathBuf,
    /// Where the master key of the backed-up data is (default: backend.storage.keys_dir)
    #[arg(long, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Restore even though the master key is not in the keys directory yet (the server will
    /// not start until it is)
    #[arg(long)]
    pub without_key: bool,
}

#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// Write the full report (every finding) to this file as JSON
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Stored bytes read per second (0: as fast as the disk allows)
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub bytes_per_second: u64,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Check the object index against the blob files without reading their contents:
    /// missing files, length mismatches, files no object refers to. Changes nothing. Exit
    /// status: 0 consistent, 3 something found, 1 the check could not run
    Verify {
        /// Write the full report (every finding) to this file as JSON
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// The account root's credentials
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// List the users and their access keys with their status (no secrets)
    Users,
    /// Check both databases (PRAGMA integrity_check); exits nonzero when one is damaged
    CheckDb,
}

#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// The root's access key id, where its secret comes from, and its own access keys (never
    /// a secret)
    Show,
    /// Generate a new root secret, sealed in the IAM database, and print it once (refused
    /// when the configuration sets the secret)
    ResetSecret,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new master key and re-seal every stored secret under it; resumable: run it
    /// again after an interruption
    Rotate {
        /// Values re-sealed per transaction
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        batch: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (all sources merged), secrets masked
    Show,
}

/// The configuration keys given on the command line, as (key path, text).
#[derive(Debug, Default)]
pub struct KeyFlags(pub Vec<(&'static str, String)>);

impl FromArgMatches for KeyFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = KeyFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for key in keys::KEYS {
            if let Some(value) = matches.get_one::<String>(key.path) {
                self.0.retain(|(path, _)| *path != key.path);
                self.0.push((key.path, value.clone()));
            }
        }
        Ok(())
    }
}

impl Args for KeyFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        keys::KEYS.iter().fold(cmd, |cmd, key| {
            cmd.arg(
                Arg::new(key.path)
                    .long(key.flag_name())
                    .value_name("VALUE")
                    .global(true)
                    .help_heading("Configuration (any key; see labstore.example.yml)")
                    .help(format!("{} [{}]", key.help, key.path)),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}
