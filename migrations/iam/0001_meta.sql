-- Facts about this database itself, one row each:
--   key_check    a known value sealed with the master key; proves which key sealed the data
--   root_secret  the generated root secret, sealed (absent when the secret is configured)
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
