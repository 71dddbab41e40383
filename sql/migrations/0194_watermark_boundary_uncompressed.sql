-- A cursor feed's watermark is rewritten with every page it lands, boundary
-- and all (the records at its newest updated_at: thousands where a feed stamps
-- many records with one instant). Compressing that jsonb on every write was
-- about a tenth of the server's work in a large pull; the row is one per
-- source, so its size does not matter.
alter table ops.watermarks alter column boundary_keys set storage external;
