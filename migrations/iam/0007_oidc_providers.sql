-- OpenID Connect identity providers: whose web identity tokens STS may accept. A provider is
-- named by its URL without `https://` (the resource part of its ARN,
-- `arn:aws:iam::<account>:oidc-provider/<url>`), which compares exactly, as ARNs do; the
-- URL's scheme and host are lower-cased before they get here. Client ids and thumbprints
-- are JSON arrays of strings, in the order they were added. Times are Unix seconds (UTC).

CREATE TABLE oidc_providers (
    url         TEXT PRIMARY KEY,                 -- host[:port][/path], no scheme
    client_ids  TEXT NOT NULL DEFAULT '[]',       -- JSON array of strings
    thumbprints TEXT NOT NULL DEFAULT '[]',       -- JSON array of 40 hex digits each
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE oidc_provider_tags (
    provider_url TEXT NOT NULL REFERENCES oidc_providers (url) ON DELETE CASCADE,
    key          TEXT NOT NULL COLLATE NOCASE,
    value        TEXT NOT NULL,
    PRIMARY KEY (provider_url, key)
) STRICT;
