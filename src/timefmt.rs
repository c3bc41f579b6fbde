//! Time formats AWS uses (placeholder; being written).
