-- Where every table of the warehouse lives on a Citus cluster: one row a table.
-- `ota-ingest distribute` turns a migrated warehouse into this layout, and
-- `ota-ingest migrate` on a distributed warehouse places each table a new
-- migration creates by it, in the migration's own transaction. A migration that
-- creates a table missing here fails on a distributed warehouse, naming it: add
-- the table here, next to the migration. On one server this file is not used.
--
--   distributed  hash-distributed by property_code, all colocated with
--                staging.reservation_events (the first row: it sets the shard
--                count), so every join on a key (which starts with the
--                property) stays inside one shard and runs on every worker at once.
--   reference    a full copy on every node: small, and joined by everything.
--   local        stays on the coordinator as a plain table: small, or read and
--                moved once per run. Citus joins it with distributed tables (it
--                ships the rows the join needs) and writes it in the same
--                transaction as distributed rows. It is deliberately not added
--                to Citus metadata (citus_add_local_table_to_metadata): Citus
--                then plans every statement on it as a distributed one and
--                refuses what the run ledger does all the time (now() in
--                ON CONFLICT DO UPDATE, subqueries in INSERT ... VALUES).
--
-- Partitions follow their parent (Citus distributes a partitioned table and its
-- partitions together, and later partitions too).
--
-- By hand: psql -f sql/citus/layout.sql
select table_name, placement
from (values
    -- Staging, facts and recon: grow with properties and nights.
    ('staging.reservation_events', 'distributed'),
    ('staging.rate_observations', 'distributed'),
    ('staging.availability_observations', 'distributed'),
    -- Pushed OpenTravel ARI messages and their expansion: per hotel, like the observations.
    ('staging.ari_messages', 'distributed'),
    ('staging.ari_observations', 'distributed'),
    ('staging.ari_field_latest', 'distributed'),
    ('facts.reservations', 'distributed'),
    ('facts.reservation_nights', 'distributed'),
    ('facts.reservation_transactions', 'distributed'),
    ('facts.availability', 'distributed'),
    ('facts.rates', 'distributed'),
    ('recon.snapshots', 'distributed'),
    ('recon.snapshot_rates', 'distributed'),
    ('recon.snapshot_availability', 'distributed'),
    ('recon.snapshot_reservations', 'distributed'),
    ('recon.snapshot_unreadable', 'distributed'),
    ('recon.comparison_keys', 'distributed'),
    ('recon.drift_metrics', 'distributed'),

    -- Reference data.
    ('dims.properties', 'reference'),
    ('dims.rooms', 'reference'),
    ('dims.rate_plans', 'reference'),
    ('dims.channels', 'reference'),
    ('dims.fx_rates', 'reference'),
    ('dims.source_precedence', 'reference'),
    -- The guest-hash salt: ops.guest_hash() reads it inside statements that
    -- run on the workers.
    ('ops.settings', 'reference'),

    -- The run ledger and the transform's own state. ops.transform_horizons is
    -- per property but read and moved once per transform, beside
    -- ops.transform_state, which it references (a foreign key Citus keeps
    -- between local tables, never from a distributed one to a local one).
    ('ops.schema_migrations', 'local'),
    ('ops.runs', 'local'),
    ('ops.batches', 'local'),
    ('ops.call_log', 'local'),
    ('ops.dead_letters', 'local'),
    -- The watermarks are one row per source, stream and property, upserted with
    -- updated_at = now(), which Citus refuses on a distributed table (ON
    -- CONFLICT DO UPDATE takes immutable functions only there); a pull's batch
    -- and its watermark still commit together (two-phase commit).
    ('ops.watermarks', 'local'),
    ('ops.transform_state', 'local'),
    ('ops.transform_horizons', 'local'),
    -- OpenTravel reservations served and not yet acknowledged: small, read by status and the pull.
    ('ops.opentravel_waiting', 'local'),
    ('ops.promotion_set_aside', 'local'),
    ('ops.fact_freshness', 'local'),
    ('ops.transform_steps', 'local'),
    ('ops.transform_counts', 'local'),
    ('ops.dq_results', 'local'),
    -- Used on one server only (facts.defer_rate_indexes does nothing on Citus).
    ('ops.deferred_indexes', 'local'),
    ('ops.erasures', 'local'),
    ('ops.webhook_receipts', 'local'),
    ('ops.pipeline_counts', 'local'),
    ('ops.feed_definitions', 'local'),
    ('feeds.settings', 'local')
) as layout(table_name, placement);
