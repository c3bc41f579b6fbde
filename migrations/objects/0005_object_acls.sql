-- The ACL of each object and of each multipart upload (applied to the object it completes),
-- as JSON (`objects::Acl`). NULL is the default ACL: the owner's FULL_CONTROL and nothing
-- else, which every row written before ACLs were kept has. Bucket ACLs, Object Ownership and
-- Block Public Access are bucket configuration documents (`bucket_configs`), and need no
-- column: a bucket created before them has none, and behaves as it did.

ALTER TABLE objects ADD COLUMN acl TEXT;
ALTER TABLE uploads ADD COLUMN acl TEXT;
