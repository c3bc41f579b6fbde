-- The account root's own access keys (CreateAccessKey without UserName, called by the root),
-- besides the root credentials from the configuration, which are not stored here.
CREATE TABLE root_access_keys (
    id                TEXT PRIMARY KEY,              -- AKIA…
    secret            BLOB NOT NULL,                 -- sealed; associated data = key id
    status            TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    last_used_service TEXT,
    last_used_region  TEXT
) STRICT;
