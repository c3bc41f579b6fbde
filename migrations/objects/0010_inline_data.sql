-- Small objects inline (docs/inline.md): a segment or a part holds either a blob file's id or
-- its bytes. SQLite cannot relax NOT NULL, so both tables are rebuilt (create, copy, drop,
-- rename; the migration runs with foreign keys off and checks them before it commits).
-- `data` is the last column: a statement that does not name it never reads its overflow pages.
-- The blob indexes become partial: inline rows have no blob, and the sweep's `blob = ?` lookups
-- imply `blob IS NOT NULL`.

CREATE TABLE segments_inline (
    object_id   INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    blob        TEXT,
    size        INTEGER NOT NULL,
    etag        TEXT,
    checksum    TEXT,
    part_number INTEGER,
    data        BLOB,
    PRIMARY KEY (object_id, idx),
    CHECK ((blob IS NULL) <> (data IS NULL))
) STRICT;
INSERT INTO segments_inline (object_id, idx, blob, size, etag, checksum, part_number)
    SELECT object_id, idx, blob, size, etag, checksum, part_number FROM segments;
DROP TABLE segments;
ALTER TABLE segments_inline RENAME TO segments;
CREATE INDEX segments_by_blob ON segments (blob) WHERE blob IS NOT NULL;

CREATE TABLE parts_inline (
    upload_id     TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    blob          TEXT,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    checksum      TEXT,
    last_modified INTEGER NOT NULL,
    data          BLOB,
    PRIMARY KEY (upload_id, number),
    CHECK ((blob IS NULL) <> (data IS NULL))
) STRICT;
INSERT INTO parts_inline (upload_id, number, blob, size, etag, checksum, last_modified)
    SELECT upload_id, number, blob, size, etag, checksum, last_modified FROM parts;
DROP TABLE parts;
ALTER TABLE parts_inline RENAME TO parts;
CREATE INDEX parts_by_blob ON parts (blob) WHERE blob IS NOT NULL;
