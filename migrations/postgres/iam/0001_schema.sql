-- The IAM database on PostgreSQL (15 or later): the schema that migrations/iam/0001 to 0007
-- leave on SQLite, in one step. The statements the store runs are the same text on both
-- engines, so every name (table, column, index) is SQLite's, and the types keep SQLite's
-- behaviour: INTEGER is BIGINT (what SQLite stores and the store binds), TEXT compares
-- bytewise (COLLATE "C", SQLite's BINARY), BLOB is BYTEA. SQLite's unnamed constraints get
-- PostgreSQL's usual names (<table>_pkey, <table>_<columns>_key, _fkey, _check), written out so
-- that they do not depend on the engine's naming rule.
--
-- The tables are created in the schema the server chose through `search_path` (nothing here
-- names a schema); the server records the schema version itself.
--
-- Names that SQLite compares with COLLATE NOCASE (IAM entity names, tag keys, inline policy
-- names: unique regardless of case, as in AWS) use the collation `nocase` defined below: an ICU
-- collation that ignores case (level 2: letters and accents count, case does not). It is
-- nondeterministic, so `name = ?1`, UNIQUE, ON CONFLICT and `name > ?2` treat 'Alice' and
-- 'alice' as one name, as SQLite does, with the statements unchanged; `COLLATE NOCASE` in a
-- statement names it too (PostgreSQL folds the unquoted name). Differences from SQLite's
-- NOCASE, which folds only ASCII letters and then compares bytes: ICU also folds non-ASCII
-- letters ('É' = 'é'; SQLite keeps them apart) and orders by the Unicode collation algorithm
-- (punctuation before digits before letters) rather than by byte value, so `ORDER BY name`
-- may list names that differ in punctuation or digits in another order than SQLite does. LIKE
-- and regular expressions are refused on these columns (PostgreSQL before 18); no statement
-- uses them there.
--
-- CockroachDB: this file is PostgreSQL's. Where CockroachDB differs:
--   * CREATE COLLATION does not exist: the NOCASE columns become
--     `STRING COLLATE "und-u-ks-level2"`, and a statement comparing them with an uncollated
--     string may need a COLLATE of its own there (CockroachDB refuses mixed collations).
--   * A column cannot be declared COLLATE "C": there plain STRING, which already compares
--     bytewise.

CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- Facts about this database itself, one row each:
--   key_check    a known value sealed with the master key; proves which key sealed the data
--   root_secret  the generated root secret, sealed (absent when the secret is configured)
CREATE TABLE meta (
    name  TEXT COLLATE "C" NOT NULL,
    value BYTEA NOT NULL,
    CONSTRAINT meta_pkey PRIMARY KEY (name)
);

-- IAM entities. Times are Unix seconds (UTC).
--
-- `policies` comes first: users and roles refer to it (permissions boundaries). AWS managed
-- policies (arn:aws:iam::aws:policy/...) live beside the account's own, marked `aws = 1`;
-- their rows are written at every open from the documents built into the binary. A customer
-- policy may share an AWS policy's name: names are unique per scope.
CREATE TABLE policies (
    id              TEXT COLLATE "C" NOT NULL,               -- ANPA…
    name            TEXT COLLATE nocase NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    description     TEXT COLLATE "C",
    default_version BIGINT NOT NULL,
    next_version    BIGINT NOT NULL,                         -- version ids are never reused
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    aws             BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT policies_pkey PRIMARY KEY (id),
    CONSTRAINT policies_aws_check CHECK (aws IN (0, 1)),
    CONSTRAINT policies_name_aws_key UNIQUE (name, aws)
);

CREATE TABLE users (
    id                   TEXT COLLATE "C" NOT NULL,          -- AIDA…
    name                 TEXT COLLATE nocase NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    created_at           BIGINT NOT NULL,
    -- The managed policy that sets the most the user may be allowed; NULL: no boundary. No
    -- cascade: a policy in use as a boundary cannot be deleted (DeleteConflict).
    permissions_boundary TEXT COLLATE "C",
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_name_key UNIQUE (name),
    CONSTRAINT users_permissions_boundary_fkey FOREIGN KEY (permissions_boundary)
        REFERENCES policies (id)
);
CREATE INDEX users_by_boundary ON users (permissions_boundary)
    WHERE permissions_boundary IS NOT NULL;

CREATE TABLE user_tags (
    user_id TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE nocase NOT NULL,
    value   TEXT COLLATE "C" NOT NULL,
    CONSTRAINT user_tags_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT user_tags_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE access_keys (
    id                TEXT COLLATE "C" NOT NULL,             -- AKIA…
    user_id           TEXT COLLATE "C" NOT NULL,
    secret            BYTEA NOT NULL,                        -- sealed; associated data = key id
    status            TEXT COLLATE "C" NOT NULL,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT,
    last_used_service TEXT COLLATE "C",
    last_used_region  TEXT COLLATE "C",
    CONSTRAINT access_keys_pkey PRIMARY KEY (id),
    CONSTRAINT access_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT access_keys_status_check CHECK (status IN ('Active', 'Inactive'))
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE groups (
    id         TEXT COLLATE "C" NOT NULL,                    -- AGPA…
    name       TEXT COLLATE nocase NOT NULL,
    path       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_name_key UNIQUE (name)
);

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL,
    user_id  TEXT COLLATE "C" NOT NULL,
    CONSTRAINT group_members_pkey PRIMARY KEY (group_id, user_id),
    CONSTRAINT group_members_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id),
    CONSTRAINT group_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE policy_versions (
    policy_id  TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,                              -- shown as "v<version>"
    document   TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT policy_versions_pkey PRIMARY KEY (policy_id, version),
    CONSTRAINT policy_versions_policy_id_fkey FOREIGN KEY (policy_id)
        REFERENCES policies (id) ON DELETE CASCADE
);

CREATE TABLE user_attached_policies (
    user_id   TEXT COLLATE "C" NOT NULL,
    policy_id TEXT COLLATE "C" NOT NULL,
    CONSTRAINT user_attached_policies_pkey PRIMARY KEY (user_id, policy_id),
    CONSTRAINT user_attached_policies_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT user_attached_policies_policy_id_fkey FOREIGN KEY (policy_id)
        REFERENCES policies (id)
);
CREATE INDEX user_attached_by_policy ON user_attached_policies (policy_id);

CREATE TABLE group_attached_policies (
    group_id  TEXT COLLATE "C" NOT NULL,
    policy_id TEXT COLLATE "C" NOT NULL,
    CONSTRAINT group_attached_policies_pkey PRIMARY KEY (group_id, policy_id),
    CONSTRAINT group_attached_policies_group_id_fkey FOREIGN KEY (group_id)
        REFERENCES groups (id),
    CONSTRAINT group_attached_policies_policy_id_fkey FOREIGN KEY (policy_id)
        REFERENCES policies (id)
);
CREATE INDEX group_attached_by_policy ON group_attached_policies (policy_id);

CREATE TABLE user_inline_policies (
    user_id  TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE nocase NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    CONSTRAINT user_inline_policies_pkey PRIMARY KEY (user_id, name),
    CONSTRAINT user_inline_policies_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE group_inline_policies (
    group_id TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE nocase NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    CONSTRAINT group_inline_policies_pkey PRIMARY KEY (group_id, name),
    CONSTRAINT group_inline_policies_group_id_fkey FOREIGN KEY (group_id)
        REFERENCES groups (id)
);

-- IAM roles: who may assume them (the trust policy, kept as sent) and the policies they hold.
CREATE TABLE roles (
    id                   TEXT COLLATE "C" NOT NULL,          -- AROA…
    name                 TEXT COLLATE nocase NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C",
    max_session_duration BIGINT NOT NULL DEFAULT 3600,
    trust_policy         TEXT COLLATE "C" NOT NULL,          -- AssumeRolePolicyDocument as sent
    created_at           BIGINT NOT NULL,
    permissions_boundary TEXT COLLATE "C",                   -- as users'
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_name_key UNIQUE (name),
    CONSTRAINT roles_max_session_duration_check
        CHECK (max_session_duration BETWEEN 3600 AND 43200),
    CONSTRAINT roles_permissions_boundary_fkey FOREIGN KEY (permissions_boundary)
        REFERENCES policies (id)
);
CREATE INDEX roles_by_boundary ON roles (permissions_boundary)
    WHERE permissions_boundary IS NOT NULL;

CREATE TABLE role_tags (
    role_id TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE nocase NOT NULL,
    value   TEXT COLLATE "C" NOT NULL,
    CONSTRAINT role_tags_pkey PRIMARY KEY (role_id, key),
    CONSTRAINT role_tags_role_id_fkey FOREIGN KEY (role_id)
        REFERENCES roles (id) ON DELETE CASCADE
);

-- No cascade: a role with policies cannot be deleted (DeleteConflict), nor a policy attached
-- to a role.
CREATE TABLE role_attached_policies (
    role_id   TEXT COLLATE "C" NOT NULL,
    policy_id TEXT COLLATE "C" NOT NULL,
    CONSTRAINT role_attached_policies_pkey PRIMARY KEY (role_id, policy_id),
    CONSTRAINT role_attached_policies_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id),
    CONSTRAINT role_attached_policies_policy_id_fkey FOREIGN KEY (policy_id)
        REFERENCES policies (id)
);
CREATE INDEX role_attached_by_policy ON role_attached_policies (policy_id);

CREATE TABLE role_inline_policies (
    role_id  TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE nocase NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    CONSTRAINT role_inline_policies_pkey PRIMARY KEY (role_id, name),
    CONSTRAINT role_inline_policies_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id)
);

-- The account root's own access keys (CreateAccessKey without UserName, called by the root),
-- besides the root credentials from the configuration, which are not stored here.
CREATE TABLE root_access_keys (
    id                TEXT COLLATE "C" NOT NULL,             -- AKIA…
    secret            BYTEA NOT NULL,                        -- sealed; associated data = key id
    status            TEXT COLLATE "C" NOT NULL,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT,
    last_used_service TEXT COLLATE "C",
    last_used_region  TEXT COLLATE "C",
    CONSTRAINT root_access_keys_pkey PRIMARY KEY (id),
    CONSTRAINT root_access_keys_status_check CHECK (status IN ('Active', 'Inactive'))
);

-- OpenID Connect identity providers: whose web identity tokens STS may accept. A provider is
-- named by its URL without `https://`, which compares exactly, as ARNs do. Client ids and
-- thumbprints are JSON arrays of strings, in the order they were added.
CREATE TABLE oidc_providers (
    url         TEXT COLLATE "C" NOT NULL,                   -- host[:port][/path], no scheme
    client_ids  TEXT COLLATE "C" NOT NULL DEFAULT '[]',      -- JSON array of strings
    thumbprints TEXT COLLATE "C" NOT NULL DEFAULT '[]',      -- JSON array of 40 hex digits each
    created_at  BIGINT NOT NULL,
    CONSTRAINT oidc_providers_pkey PRIMARY KEY (url)
);

CREATE TABLE oidc_provider_tags (
    provider_url TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE nocase NOT NULL,
    value        TEXT COLLATE "C" NOT NULL,
    CONSTRAINT oidc_provider_tags_pkey PRIMARY KEY (provider_url, key),
    CONSTRAINT oidc_provider_tags_provider_url_fkey FOREIGN KEY (provider_url)
        REFERENCES oidc_providers (url) ON DELETE CASCADE
);
