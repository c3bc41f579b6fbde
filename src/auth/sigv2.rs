//! AWS Signature Version 2 verification (placeholder; being written).
