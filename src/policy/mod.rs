//! IAM policy documents: the grammar (`document`) and, later, evaluation. Pure: no I/O.

pub mod document;
