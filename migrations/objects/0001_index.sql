-- The object index. Keys are TEXT compared with SQLite's BINARY collation (memcmp of
-- UTF-8), which is S3's listing order: UTF-8 binary. Times are Unix milliseconds.

CREATE TABLE buckets (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    region     TEXT NOT NULL
) STRICT;

CREATE TABLE objects (
    id                 INTEGER PRIMARY KEY,
    bucket             TEXT NOT NULL REFERENCES buckets (name),
    key                TEXT NOT NULL,
    size               INTEGER NOT NULL,
    etag               TEXT NOT NULL,              -- without quotes
    last_modified      INTEGER NOT NULL,
    headers            TEXT NOT NULL,              -- JSON: content headers and x-amz-meta-*
    checksum_algorithm TEXT,
    checksum           TEXT,                       -- base64, as in x-amz-checksum-*
    parts              INTEGER,                    -- part count of a multipart object
    UNIQUE (bucket, key)
) STRICT;

-- The bytes of an object, in order: one blob for a simple upload, one per part otherwise.
CREATE TABLE segments (
    object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    blob      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    etag      TEXT,
    checksum  TEXT,
    PRIMARY KEY (object_id, idx)
) STRICT;
CREATE INDEX segments_by_blob ON segments (blob);

CREATE TABLE uploads (
    id                 TEXT PRIMARY KEY,
    bucket             TEXT NOT NULL REFERENCES buckets (name),
    key                TEXT NOT NULL,
    initiated          INTEGER NOT NULL,
    headers            TEXT NOT NULL,
    checksum_algorithm TEXT
) STRICT;
CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated);

CREATE TABLE parts (
    upload_id     TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    blob          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    checksum      TEXT,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, number)
) STRICT;
CREATE INDEX parts_by_blob ON parts (blob);
