-- AWS managed policies (arn:aws:iam::aws:policy/...) live beside the account's own in
-- `policies`, marked `aws = 1`, so that attachments keep their foreign keys. Their rows are
-- written at every open from the documents built into the binary (never by a request). A
-- customer policy may share an AWS policy's name, as in AWS: names are unique per scope.
-- Runs with foreign keys off (the migrator's rule), so the child tables keep pointing at
-- `policies` through the rebuild.

CREATE TABLE policies_new (
    id              TEXT PRIMARY KEY,                -- ANPA…
    name            TEXT NOT NULL COLLATE NOCASE,
    path            TEXT NOT NULL,
    description     TEXT,
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,                -- version ids are never reused
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    aws             INTEGER NOT NULL DEFAULT 0 CHECK (aws IN (0, 1)),
    UNIQUE (name, aws)
) STRICT;

INSERT INTO policies_new (id, name, path, description, default_version, next_version, created_at, updated_at)
    SELECT id, name, path, description, default_version, next_version, created_at, updated_at FROM policies;
DROP TABLE policies;
ALTER TABLE policies_new RENAME TO policies;
