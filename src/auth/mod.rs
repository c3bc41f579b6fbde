//! Authentication: who sent a request. `sigv4` verifies AWS Signature Version 4 (pure
//! functions, no I/O); the principal types say who the caller turned out to be.

pub mod sigv4;
