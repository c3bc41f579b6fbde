//! LabStore: a single-binary, S3-compatible object store with an embedded IAM service.
//! `docs/ARCHITECTURE.md` has the map; `main.rs` only parses the command line.

pub mod db;
