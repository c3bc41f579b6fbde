//! LabStore: a single-binary, S3-compatible object store with an embedded IAM service.
//! `docs/ARCHITECTURE.md` has the map; `main.rs` only parses the command line.

pub mod admin;
mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod bench;
pub mod cidr;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod http;
pub mod iam;
pub mod iam_store;
pub mod keys;
pub mod lifecycle;
pub mod lockfile;
pub mod logging;
pub mod metrics;
pub mod migrate;
pub mod objects;
pub mod offline;
pub mod oidc;
pub mod policy;
pub mod s3;
pub mod scrub;
pub mod signal;
pub mod state;
pub mod storage;
pub mod timefmt;
pub mod tls;
pub mod xml;
