-- Storage per bucket, kept by triggers in the transaction of every write that changes it, so
-- that `/metrics` never counts rows (docs/operations.md, "Monitoring"). One row per bucket:
-- made with the bucket, removed with it (ON DELETE CASCADE). What the columns count:
--   objects, bytes                   the current versions (what a listing shows)
--   noncurrent, noncurrent_bytes     older versions that are not delete markers
--   delete_markers                   delete markers, current or not
--   uploads                          multipart uploads in progress
-- A migration that rebuilds `objects`, `uploads` or `buckets` (create, copy, drop, rename)
-- drops these triggers with the old table: it must create them again, and refill the table.

CREATE TABLE bucket_stats (
    bucket           TEXT PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    objects          INTEGER NOT NULL DEFAULT 0,
    bytes            INTEGER NOT NULL DEFAULT 0,
    noncurrent       INTEGER NOT NULL DEFAULT 0,
    noncurrent_bytes INTEGER NOT NULL DEFAULT 0,
    delete_markers   INTEGER NOT NULL DEFAULT 0,
    uploads          INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO bucket_stats (bucket) SELECT name FROM buckets;

UPDATE bucket_stats SET
    objects = (SELECT count(*) FROM objects o
                WHERE o.bucket = bucket_stats.bucket AND o.current = 1),
    bytes = (SELECT coalesce(sum(size), 0) FROM objects o
              WHERE o.bucket = bucket_stats.bucket AND o.current = 1),
    noncurrent = (SELECT count(*) FROM objects o
                   WHERE o.bucket = bucket_stats.bucket AND o.current = 0 AND o.delete_marker = 0),
    noncurrent_bytes = (SELECT coalesce(sum(size), 0) FROM objects o
                         WHERE o.bucket = bucket_stats.bucket AND o.current = 0 AND o.delete_marker = 0),
    delete_markers = (SELECT count(*) FROM objects o
                       WHERE o.bucket = bucket_stats.bucket AND o.delete_marker = 1),
    uploads = (SELECT count(*) FROM uploads u WHERE u.bucket = bucket_stats.bucket);

CREATE TRIGGER bucket_stats_bucket AFTER INSERT ON buckets BEGIN
    INSERT INTO bucket_stats (bucket) VALUES (NEW.name);
END;

CREATE TRIGGER bucket_stats_object_in AFTER INSERT ON objects BEGIN
    UPDATE bucket_stats SET
        objects = objects + (NEW.current = 1),
        bytes = bytes + iif(NEW.current = 1, NEW.size, 0),
        noncurrent = noncurrent + (NEW.current = 0 AND NEW.delete_marker = 0),
        noncurrent_bytes = noncurrent_bytes + iif(NEW.current = 0 AND NEW.delete_marker = 0, NEW.size, 0),
        delete_markers = delete_markers + (NEW.delete_marker = 1)
    WHERE bucket = NEW.bucket;
END;

CREATE TRIGGER bucket_stats_object_out AFTER DELETE ON objects BEGIN
    UPDATE bucket_stats SET
        objects = objects - (OLD.current = 1),
        bytes = bytes - iif(OLD.current = 1, OLD.size, 0),
        noncurrent = noncurrent - (OLD.current = 0 AND OLD.delete_marker = 0),
        noncurrent_bytes = noncurrent_bytes - iif(OLD.current = 0 AND OLD.delete_marker = 0, OLD.size, 0),
        delete_markers = delete_markers - (OLD.delete_marker = 1)
    WHERE bucket = OLD.bucket;
END;

CREATE TRIGGER bucket_stats_object_change
AFTER UPDATE OF bucket, current, delete_marker, size ON objects BEGIN
    UPDATE bucket_stats SET
        objects = objects - (OLD.current = 1),
        bytes = bytes - iif(OLD.current = 1, OLD.size, 0),
        noncurrent = noncurrent - (OLD.current = 0 AND OLD.delete_marker = 0),
        noncurrent_bytes = noncurrent_bytes - iif(OLD.current = 0 AND OLD.delete_marker = 0, OLD.size, 0),
        delete_markers = delete_markers - (OLD.delete_marker = 1)
    WHERE bucket = OLD.bucket;
    UPDATE bucket_stats SET
        objects = objects + (NEW.current = 1),
        bytes = bytes + iif(NEW.current = 1, NEW.size, 0),
        noncurrent = noncurrent + (NEW.current = 0 AND NEW.delete_marker = 0),
        noncurrent_bytes = noncurrent_bytes + iif(NEW.current = 0 AND NEW.delete_marker = 0, NEW.size, 0),
        delete_markers = delete_markers + (NEW.delete_marker = 1)
    WHERE bucket = NEW.bucket;
END;

CREATE TRIGGER bucket_stats_upload_in AFTER INSERT ON uploads BEGIN
    UPDATE bucket_stats SET uploads = uploads + 1 WHERE bucket = NEW.bucket;
END;

CREATE TRIGGER bucket_stats_upload_out AFTER DELETE ON uploads BEGIN
    UPDATE bucket_stats SET uploads = uploads - 1 WHERE bucket = OLD.bucket;
END;
