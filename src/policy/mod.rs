//! IAM policies: the grammar (`document`), wildcard matching (`pattern`), evaluation
//! (`eval`), and S3's "meaning of public" for a resource policy (`public`). Pure: no I/O.

pub mod document;
pub mod eval;
pub mod pattern;
pub mod public;
