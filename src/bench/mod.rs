//! `labstore bench`: a warp-style S3 load generator, to compare LabStore with any S3 endpoint
//! on the same machine. This file owns the command line and the exit status; `run` one run,
//! `compare` the A B B A interleaving, `workload` what workers do, `ops` the S3 requests,
//! `client` signing and the connection pool, `payload` object contents and bodies, `stats`
//! and `report` the figures.
//!
//! Boundary: a client of the S3 API over the network, like any other; from the server it
//! borrows only the pure SigV4 functions (`auth::sigv4`), so the two sign alike.
//!
//! Exit status: 0 when every operation succeeded, 1 when any failed (or the run could not be
//! set up, or cleanup failed), 2 for arguments that make no sense.

mod client;
mod compare;
mod ops;
mod payload;
mod procfs;
mod report;
mod run;
mod stats;
mod units;
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use client::{Client, Endpoint, Signer};
use payload::PayloadMode;
use run::{RunOptions, Target};
use workload::{Plan, Stop, Workload};

use crate::crypto::Secret;

/// `labstore bench`'s arguments.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure
    #[arg(value_enum)]
    pub workload: Workload,

    /// The S3 endpoint, http://host:port or https://host:port (path-style addressing)
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:6789"
    )]
    pub endpoint: String,
    /// The access key id to sign with
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key: String,
    /// The secret key (rather from the environment: a flag shows in the process list)
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_key: String,
    /// The signing region [env: AWS_REGION, then AWS_DEFAULT_REGION; default us-east-1]
    #[arg(long)]
    pub region: Option<String>,
    /// The bucket to use (created when missing); default: a new labstore-bench-<seed>-<random>
    #[arg(long)]
    pub bucket: Option<String>,

    /// Object size: 4KiB, 100KiB, 64MiB (powers of 1024) or 1KB, 10MB (powers of 1000)
    #[arg(long, default_value = "1MiB", value_parser = units::parse_size)]
    pub size: u64,
    /// Part size for `multipart` (S3's minimum is 5 MiB, except for the last part)
    #[arg(long, default_value = "5MiB", value_parser = units::parse_size)]
    pub part_size: u64,
    /// Operations in flight at once (one connection each)
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// How long to measure, after the warmup: 10s, 1m, 1m30s
    #[arg(long, default_value = "10s", value_parser = units::parse_duration)]
    pub duration: Duration,
    /// Measure this many operations instead of a duration
    #[arg(long, conflicts_with = "duration")]
    pub ops: Option<u64>,
    /// Run this long before measuring; the warmup's operations are not in the figures
    #[arg(long, default_value = "0s", value_parser = units::parse_duration)]
    pub warmup: Duration,
    /// Objects uploaded before measuring get, head, list, delete and mixed
    #[arg(long, default_value_t = 1000)]
    pub objects: u64,
    /// Keys per DeleteObjects request (`delete`)
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Keys per ListObjectsV2 page (`list`)
    #[arg(long, default_value_t = 1000)]
    pub max_keys: u32,
    /// How PUT and UploadPart bodies are sent
    #[arg(long, value_enum, default_value = "unsigned")]
    pub payload: PayloadMode,
    /// Seeds object contents and each worker's key order: the same seed, the same requests
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Compare every Nth GET body with what was written (each worker's first 4 always)
    #[arg(long, default_value_t = 10)]
    pub verify_every: u64,
    /// Also write the figures as JSON to this file (schema: `src/bench/report.rs`)
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Leave the objects and the bucket in place
    #[arg(long)]
    pub keep: bool,
    /// The server's process id: report its CPU time per 1000 operations and peak memory
    #[arg(long)]
    pub pid: Option<u32>,
    /// PEM CA certificates that https endpoints are trusted by, instead of the system's
    /// (a private CA, a development server's self-signed certificate)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// The longest wait for a response, or for the next data of a response body
    #[arg(long, default_value = "60s", value_parser = units::parse_duration)]
    pub timeout: Duration,

    /// Run the same workload against --endpoint (A) and --endpoint-b (B), A B B A per round
    #[arg(long, requires = "endpoint_b")]
    pub compare: bool,
    /// B's S3 endpoint, http(s)://host:port
    #[arg(long, requires = "compare")]
    pub endpoint_b: Option<String>,
    /// Default: --access-key
    #[arg(long, requires = "compare")]
    pub access_key_b: Option<String>,
    /// Default: --secret-key
    #[arg(long, requires = "compare", hide_env_values = true)]
    pub secret_key_b: Option<String>,
    /// Default: --region
    #[arg(long, requires = "compare")]
    pub region_b: Option<String>,
    /// B's server process id (see --pid)
    #[arg(long, requires = "compare")]
    pub pid_b: Option<u32>,
    /// Rounds of A B B A
    #[arg(long, default_value_t = 2)]
    pub rounds: u32,
}

/// Runs `labstore bench` and says how it went.
pub fn main(args: &BenchArgs) -> ExitCode {
    let plan = match plan(args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("labstore bench: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("labstore bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let outcome = runtime.block_on(async {
        tokio::spawn(on_interrupt(Arc::clone(&interrupted)));
        bench(args, &plan, &interrupted).await
    });
    if interrupted.load(Relaxed) {
        eprintln!("labstore bench: interrupted");
        return ExitCode::from(130);
    }
    match outcome {
        Ok(0) => ExitCode::SUCCESS,
        Ok(errors) => {
            eprintln!("labstore bench: {errors} errors (see the report)");
            ExitCode::FAILURE
        }
        Err(Failure::Arguments(e)) => {
            eprintln!("labstore bench: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("labstore bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The first Ctrl-C stops the run gracefully: what was measured is reported and what was
/// created is cleaned up. The second exits at once.
async fn on_interrupt(interrupted: Arc<AtomicBool>) {
    while tokio::signal::ctrl_c().await.is_ok() {
        if interrupted.swap(true, Relaxed) {
            eprintln!("\nlabstore bench: interrupted twice, exiting without cleaning up");
            std::process::exit(130);
        }
        eprintln!("\nlabstore bench: stopping; Ctrl-C again to exit without cleaning up");
    }
}

enum Failure {
    Arguments(String),
    Run(String),
}

/// The run or the comparison; the number of errors it saw.
async fn bench(
    args: &BenchArgs,
    plan: &Plan,
    interrupted: &Arc<AtomicBool>,
) -> Result<u64, Failure> {
    let region = region(args.region.as_deref());
    let a = Credentials {
        endpoint: &args.endpoint,
        ca_file: args.ca_file.as_deref(),
        access_key: &args.access_key,
        secret_key: &args.secret_key,
        region: &region,
    };
    let a = target(&a, args.pid, plan, args.timeout).map_err(Failure::Arguments)?;
    let options = RunOptions {
        bucket: args.bucket.as_deref(),
        keep: args.keep,
        label: String::new(),
        interrupted: Arc::clone(interrupted),
    };
    println!("labstore bench {}", report::describe(plan));
    if !args.compare {
        let run = run::run(&a, plan, &options).await.map_err(Failure::Run)?;
        let seconds = run.results.first().map_or(0.0, |f| f.seconds);
        println!(
            "endpoint {}, bucket {}, measured for {seconds:.2} s",
            run.endpoint, run.bucket
        );
        print!("{}", report::run_table(&run));
        if let Some(path) = &args.json {
            report::write_run_json(path, plan, &run).map_err(Failure::Run)?;
        }
        return Ok(run.errors);
    }
    let b = Credentials {
        endpoint: args.endpoint_b.as_deref().unwrap_or_default(),
        ca_file: args.ca_file.as_deref(),
        access_key: args.access_key_b.as_deref().unwrap_or(&args.access_key),
        secret_key: args.secret_key_b.as_deref().unwrap_or(&args.secret_key),
        region: args.region_b.as_deref().unwrap_or(&region),
    };
    let b = target(&b, args.pid_b, plan, args.timeout).map_err(Failure::Arguments)?;
    let comparison = compare::compare([&a, &b], plan, &options, args.rounds)
        .await
        .map_err(Failure::Run)?;
    print!("{}", compare::table(&comparison));
    if let Some(path) = &args.json {
        report::write_json(path, &comparison).map_err(Failure::Run)?;
    }
    Ok(comparison.errors)
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
fn region(flag: Option<&str>) -> String {
    let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    flag.map(str::to_owned)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// Where one side of the bench points, and as whom.
struct Credentials<'a> {
    endpoint: &'a str,
    ca_file: Option<&'a Path>,
    access_key: &'a str,
    secret_key: &'a str,
    region: &'a str,
}

fn target(
    side: &Credentials<'_>,
    pid: Option<u32>,
    plan: &Plan,
    timeout: Duration,
) -> Result<Target, String> {
    let endpoint = Endpoint::parse(side.endpoint)?;
    let secret = Secret::new(side.secret_key.to_owned());
    let signer = Signer::new(side.access_key, secret, side.region)?;
    let client = Client::new(endpoint, signer, plan.concurrency, timeout, side.ca_file)?;
    Ok(Target {
        client: Arc::new(client),
        region: side.region.to_owned(),
        pid,
    })
}

/// The plan the arguments describe, checked.
fn plan(args: &BenchArgs) -> Result<Plan, String> {
    let positive = |name: &str, value: u64| match value {
        0 => Err(format!("--{name} must be at least 1")),
        _ => Ok(()),
    };
    positive("concurrency", args.concurrency as u64)?;
    positive("part-size", args.part_size)?;
    positive("verify-every", args.verify_every)?;
    positive("rounds", u64::from(args.rounds))?;
    if args.timeout.is_zero() {
        return Err("--timeout must be more than 0".into());
    }
    if args.workload.prepares() {
        positive("objects", args.objects)?;
    }
    if !(1..=1000).contains(&args.batch) || !(1..=1000).contains(&args.max_keys) {
        return Err("--batch and --max-keys must be from 1 to 1000".into());
    }
    let stop = match args.ops {
        Some(0) => return Err("--ops must be at least 1".into()),
        Some(n) => Stop::Ops(n),
        None if args.duration.is_zero() => return Err("--duration must be more than 0".into()),
        None => Stop::After(args.duration),
    };
    // A mixed worker starts on its own slice of the objects: give each one at least one.
    let objects = match args.workload {
        Workload::Mixed => args.objects.max(args.concurrency as u64),
        _ => args.objects,
    };
    Ok(Plan {
        workload: args.workload,
        size: args.size,
        part_size: args.part_size,
        payload: args.payload,
        concurrency: args.concurrency,
        stop,
        warmup: args.warmup,
        objects,
        batch: args.batch,
        max_keys: args.max_keys,
        seed: args.seed,
        verify_every: args.verify_every,
    })
}
