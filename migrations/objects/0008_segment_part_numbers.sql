-- The part number each segment of a multipart object was uploaded as (1, 3 and 7 for an
-- upload completed from parts 1, 3 and 7), which GetObject's `partNumber` and
-- GetObjectAttributes' `ObjectParts` answer by. NULL for a segment written before numbers were
-- kept, and for a simple object's one segment: its number is its position (idx + 1), which is
-- what every earlier release answered.
ALTER TABLE segments ADD COLUMN part_number INTEGER;
