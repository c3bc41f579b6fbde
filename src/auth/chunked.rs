//! aws-chunked request bodies (placeholder; being written).
