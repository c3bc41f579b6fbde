-- Server-side encryption (docs/encryption.md): the encryption record of an object version or
-- a multipart upload (format, kind, encryption id, the data key sealed by the master key).
-- NULL: stored in plaintext.
ALTER TABLE objects ADD COLUMN sse BLOB;
ALTER TABLE uploads ADD COLUMN sse BLOB;
