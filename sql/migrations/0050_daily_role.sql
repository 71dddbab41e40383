-- The daily login role (a member of ota_ingest, created by `ota-ingest
-- setup-roles`) runs pull, load, transform, reconcile, nightly, serve, export
-- and status without owning anything; the owner role, which runs every
-- migration, owns the schemas. This fills what the daily role still lacked.

-- Landing creates the day's observation partitions; only a table's owner may
-- add partitions to it, so the function runs as its owner (as
-- facts.ensure_stay_partitions and staging.drop_load_partitions already do).
-- Partition names derive from the date alone, never from input.
alter function staging.ensure_load_partitions(date) security definer;
alter function staging.ensure_load_partitions(date) set search_path = pg_catalog, pg_temp;
revoke execute on function staging.ensure_load_partitions(date) from public;
grant execute on function staging.ensure_load_partitions(date) to ota_ingest;

-- Identity columns added after 0015 (recon.snapshots) draw from sequences the
-- loader could not use; grant every existing one, and every future one by default.
grant usage on all sequences in schema staging, ops, recon to ota_ingest;
alter default privileges in schema staging, ops, recon grant usage on sequences to ota_ingest;

-- recon got its grants table by table (0022); later recon tables get them by default.
alter default privileges in schema recon grant select, insert, update, delete on tables to ota_ingest;
