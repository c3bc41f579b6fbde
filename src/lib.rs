//! LabStore: a single-binary, S3-compatible object store with an embedded IAM service.
//! `docs/ARCHITECTURE.md` has the map; `main.rs` only parses the command line.

pub mod config;
pub mod crypto;
pub mod db;
