-- IAM entities. Names are unique regardless of case, as in AWS ("you cannot create both
-- MyResource and myresource"), hence COLLATE NOCASE; the case given at creation is kept.
-- Times are Unix seconds (UTC).

CREATE TABLE users (
    id         TEXT PRIMARY KEY,                     -- AIDA…
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_tags (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key     TEXT NOT NULL COLLATE NOCASE,
    value   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;

CREATE TABLE access_keys (
    id                TEXT PRIMARY KEY,              -- AKIA…
    user_id           TEXT NOT NULL REFERENCES users (id),
    secret            BLOB NOT NULL,                 -- sealed; associated data = key id
    status            TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    last_used_service TEXT,
    last_used_region  TEXT
) STRICT;
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,                     -- AGPA…
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
) STRICT;
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE policies (
    id              TEXT PRIMARY KEY,                -- ANPA…
    name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path            TEXT NOT NULL,
    description     TEXT,
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,                -- version ids are never reused
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE policy_versions (
    policy_id  TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,                     -- shown as "v<version>"
    document   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
) STRICT;

CREATE TABLE user_attached_policies (
    user_id   TEXT NOT NULL REFERENCES users (id),
    policy_id TEXT NOT NULL REFERENCES policies (id),
    PRIMARY KEY (user_id, policy_id)
) STRICT;
CREATE INDEX user_attached_by_policy ON user_attached_policies (policy_id);

CREATE TABLE group_attached_policies (
    group_id  TEXT NOT NULL REFERENCES groups (id),
    policy_id TEXT NOT NULL REFERENCES policies (id),
    PRIMARY KEY (group_id, policy_id)
) STRICT;
CREATE INDEX group_attached_by_policy ON group_attached_policies (policy_id);

CREATE TABLE user_inline_policies (
    user_id  TEXT NOT NULL REFERENCES users (id),
    name     TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
) STRICT;

CREATE TABLE group_inline_policies (
    group_id TEXT NOT NULL REFERENCES groups (id),
    name     TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (group_id, name)
) STRICT;
