-- Bucket policies: at most one per bucket, kept exactly as the client sent it (GetBucketPolicy
-- returns these bytes). DeleteBucket removes the row in its own transaction; the foreign key
-- has no ON DELETE CASCADE so that a bucket deletion that forgot its policy fails loudly
-- instead of leaving the in-memory copy behind.

CREATE TABLE bucket_policies (
    bucket     TEXT PRIMARY KEY REFERENCES buckets (name),
    policy     TEXT NOT NULL,          -- the JSON document as received
    updated_at INTEGER NOT NULL
) STRICT;
