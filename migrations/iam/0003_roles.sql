-- IAM roles: who may assume them (the trust policy, kept as sent) and the policies they
-- hold. Names are unique regardless of case, as users'. A role grants nothing until STS
-- issues sessions for it. Times are Unix seconds (UTC).

CREATE TABLE roles (
    id                   TEXT PRIMARY KEY,           -- AROA…
    name                 TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path                 TEXT NOT NULL,
    description          TEXT,
    max_session_duration INTEGER NOT NULL DEFAULT 3600
        CHECK (max_session_duration BETWEEN 3600 AND 43200),
    trust_policy         TEXT NOT NULL,              -- AssumeRolePolicyDocument as sent
    created_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE role_tags (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    key     TEXT NOT NULL COLLATE NOCASE,
    value   TEXT NOT NULL,
    PRIMARY KEY (role_id, key)
) STRICT;

-- No cascade: a role with policies cannot be deleted (DeleteConflict), nor a policy attached
-- to a role.
CREATE TABLE role_attached_policies (
    role_id   TEXT NOT NULL REFERENCES roles (id),
    policy_id TEXT NOT NULL REFERENCES policies (id),
    PRIMARY KEY (role_id, policy_id)
) STRICT;
CREATE INDEX role_attached_by_policy ON role_attached_policies (policy_id);

CREATE TABLE role_inline_policies (
    role_id  TEXT NOT NULL REFERENCES roles (id),
    name     TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (role_id, name)
) STRICT;
