-- Object versions (docs/versioning.md): one table holds every version of every key, objects
-- and delete markers. SQLite cannot drop `UNIQUE (bucket, key)`, so `objects` is rebuilt
-- (create, copy, drop, rename; the migration runs with foreign keys off and checks them before
-- it commits). Row ids are kept, so `segments` needs no change.
--
-- `version` is the ordering id and the version id clients see: 16 hex digits of
-- `i64::MAX - microseconds since the epoch` (ascending = newest first within a key), then 16
-- random hex digits. `null_version = 1` marks S3's `null` version (clients see "null"),
-- `current = 1` the key's newest version when it is not a delete marker: GET, HEAD and the
-- object listings read only rows with `current = 1`, through the partial index.
--
-- Every existing row becomes its key's null version, and current.

CREATE TABLE objects_versioned (
    id                 INTEGER PRIMARY KEY,
    bucket             TEXT NOT NULL REFERENCES buckets (name),
    key                TEXT NOT NULL,
    version            TEXT NOT NULL,
    null_version       INTEGER NOT NULL DEFAULT 0,
    current            INTEGER NOT NULL DEFAULT 1,
    delete_marker      INTEGER NOT NULL DEFAULT 0,
    size               INTEGER NOT NULL,
    etag               TEXT NOT NULL,
    last_modified      INTEGER NOT NULL,
    headers            TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum           TEXT,
    parts              INTEGER,
    tags               TEXT,
    acl                TEXT,
    checksum_type      TEXT,
    storage_class      TEXT,
    -- Object Lock: the retention mode ('GOVERNANCE' or 'COMPLIANCE') and its end (Unix
    -- milliseconds), and the legal hold: 1 on, 0 off, NULL never set (GetObjectLegalHold
    -- answers NoSuchObjectLockConfiguration for it, as S3 does).
    lock_mode          TEXT,
    lock_until         INTEGER,
    legal_hold         INTEGER,
    UNIQUE (bucket, key, version)
) STRICT;

INSERT INTO objects_versioned (id, bucket, key, version, null_version, current, delete_marker,
        size, etag, last_modified, headers, checksum_algorithm, checksum, parts, tags, acl,
        checksum_type, storage_class)
    SELECT id, bucket, key,
           printf('%016x', 9223372036854775807 - last_modified * 1000) || lower(hex(randomblob(8))),
           1, 1, 0,
           size, etag, last_modified, headers, checksum_algorithm, checksum, parts, tags, acl,
           checksum_type, storage_class
      FROM objects;

DROP TABLE objects;
ALTER TABLE objects_versioned RENAME TO objects;

CREATE UNIQUE INDEX objects_current ON objects (bucket, key) WHERE current = 1;
-- The object listings' index: every column a ListObjects(V2) entry shows, for current
-- versions only, so that a page is read from this index alone (no table lookup per key) and
-- a key's history costs it nothing.
CREATE INDEX objects_listed ON objects (bucket, key, size, etag, last_modified,
    checksum_algorithm, checksum_type, storage_class) WHERE current = 1;
CREATE UNIQUE INDEX objects_null ON objects (bucket, key) WHERE null_version = 1;

-- A multipart upload keeps the Object Lock settings its CreateMultipartUpload asked for until
-- it completes.
ALTER TABLE uploads ADD COLUMN lock_mode TEXT;
ALTER TABLE uploads ADD COLUMN lock_until INTEGER;
ALTER TABLE uploads ADD COLUMN legal_hold INTEGER;
