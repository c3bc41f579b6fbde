-- Object tags (S3's PutObjectTagging, `x-amz-tagging`): kept with the object row, so that they
-- are replaced by an overwrite and deleted with the object in the same statement. A JSON array
-- of [key, value] pairs in the order the client gave them; NULL when the object has none.
-- A multipart upload keeps the tags its CreateMultipartUpload asked for until it completes.
-- Bucket tags are a bucket configuration kind ('tagging' in bucket_configs): no column here.

ALTER TABLE objects ADD COLUMN tags TEXT;
ALTER TABLE uploads ADD COLUMN tags TEXT;
