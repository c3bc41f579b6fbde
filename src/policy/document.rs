//! The IAM policy grammar (placeholder; being written).
