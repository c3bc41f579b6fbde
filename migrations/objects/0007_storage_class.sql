-- The storage class an object was written with, beside its headers document (which keeps it
-- too), so that a listing reads one short column per row instead of parsing a document.
-- NULL for STANDARD.
ALTER TABLE objects ADD COLUMN storage_class TEXT;
UPDATE objects SET storage_class = json_extract(headers, '$.storage_class')
    WHERE instr(headers, '"storage_class"') > 0 AND json_valid(headers);
