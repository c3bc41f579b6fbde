-- Where the lifecycle worker left off in each bucket with rules: the last key it finished in
-- the current pass ('' at the start of one), so that a restart resumes the pass instead of
-- starting it again. Goes with its bucket.
CREATE TABLE lifecycle_progress (
    bucket    TEXT PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    after_key TEXT NOT NULL
) STRICT;
