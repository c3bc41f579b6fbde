-- Scrub (docs/operations.md, "Scrub"): a segment or a part whose stored bytes a scrub found
-- corrupt or missing is marked `damaged = 1` (NULL: not known to be damaged). GetObject and
-- every copy refuse a version with a damaged segment (500 InternalError, never wrong bytes);
-- CompleteMultipartUpload refuses a damaged part. A later scrub that finds the bytes whole
-- again (restored from a backup) clears the mark. The column follows `data`: only the
-- statements that read the bytes name it.
ALTER TABLE segments ADD COLUMN damaged INTEGER;
ALTER TABLE parts ADD COLUMN damaged INTEGER;

-- Where the background scrub is in its pass, so that a restart resumes it: the phase
-- ('objects', 'parts', 'orphans'), the last object row, upload part or fan-out directory it
-- finished, when the pass began, and when the last complete pass ended (Unix milliseconds).
CREATE TABLE scrub_progress (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    phase         TEXT NOT NULL,
    after_object  INTEGER NOT NULL DEFAULT 0,
    after_upload  TEXT NOT NULL DEFAULT '',
    after_part    INTEGER NOT NULL DEFAULT 0,
    after_dir     TEXT NOT NULL DEFAULT '',
    pass_started  INTEGER,
    last_finished INTEGER
) STRICT;
