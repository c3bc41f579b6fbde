-- Backups in progress (`labstore backup`, docs/operations.md "Backup and restore"). A backup
-- commits its hold before it takes its snapshot and renews `expires` while it copies; while a
-- hold is live (`expires` in the future), the server records the blob files it would remove in
-- `deferred_blobs` instead of removing them, so that every blob the snapshot refers to stays
-- on disk until the backup has copied it. The backup that releases the last live hold removes
-- the deferred files; an expired hold (a crashed backup) is deleted by the next removal or
-- start of the server, which then removes them.
CREATE TABLE backup_holds (
    id      INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,   -- Unix seconds
    pid     INTEGER NOT NULL,   -- the backup process, for the operator
    expires INTEGER NOT NULL    -- Unix seconds; renewed by the running backup
) STRICT;

-- Blob files no row refers to any more, kept while a backup holds them.
CREATE TABLE deferred_blobs (
    blob TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
