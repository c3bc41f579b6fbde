-- Every configuration document of a bucket in one table, keyed by (bucket, kind): the policy
-- now; versioning, tagging, ownership, public access block, encryption, lifecycle, CORS,
-- website and Object Lock as they are implemented. Adding a kind needs no migration. Each
-- document is kept exactly as the client sent it (a Get* returns these bytes); the object
-- index holds the parsed form of every one in memory (`objects::bucket_config`).
--
-- DeleteBucket removes the bucket's rows in its own transaction; the foreign key has no
-- ON DELETE CASCADE so that a bucket deletion that forgot its configuration fails loudly
-- instead of leaving the in-memory copy behind.

CREATE TABLE bucket_configs (
    bucket     TEXT NOT NULL REFERENCES buckets (name),
    kind       TEXT NOT NULL,          -- objects::ConfigKind::name: 'policy', ...
    document   TEXT NOT NULL,          -- as received
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (bucket, kind)
) STRICT;

INSERT INTO bucket_configs (bucket, kind, document, updated_at)
    SELECT bucket, 'policy', policy, updated_at FROM bucket_policies;

DROP TABLE bucket_policies;

-- The account that created the bucket (`backend.iam.account_id` at the time). NULL for the
-- buckets created before it was recorded: they belong to the one account LabStore serves.
ALTER TABLE buckets ADD COLUMN owner TEXT;
