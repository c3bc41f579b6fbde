//! Checksums S3 computes and verifies (placeholder; being written).
