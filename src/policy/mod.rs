//! IAM policies: the grammar (`document`), wildcard matching (`pattern`) and evaluation
//! (`eval`). Pure: no I/O.

pub mod document;
pub mod eval;
pub mod pattern;
