-- The checksum type of an object and of a multipart upload (S3's x-amz-checksum-type):
-- 'FULL_OBJECT' (a checksum of the whole object's bytes: every single PUT and copy, and
-- multipart uploads whose part CRCs are combined) or 'COMPOSITE' (the checksum of the part
-- checksums, `<value>-<parts>`). NULL when there is no checksum (objects) or no checksum
-- algorithm (uploads).
--
-- Rows written before: every multipart checksum was composite and every other one full;
-- uploads in progress take S3's default for their algorithm (CRC64NVME is full-object only;
-- its parts carry their CRCs and sizes, so completing them needs nothing more).

ALTER TABLE objects ADD COLUMN checksum_type TEXT;
ALTER TABLE uploads ADD COLUMN checksum_type TEXT;

UPDATE objects
   SET checksum_type = CASE WHEN parts IS NULL THEN 'FULL_OBJECT' ELSE 'COMPOSITE' END
 WHERE checksum IS NOT NULL;

UPDATE uploads
   SET checksum_type = CASE WHEN checksum_algorithm = 'CRC64NVME' THEN 'FULL_OBJECT' ELSE 'COMPOSITE' END
 WHERE checksum_algorithm IS NOT NULL;
