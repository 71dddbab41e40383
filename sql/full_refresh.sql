-- `ota-ingest transform --full-refresh`: forget every promotion, so the
-- transforms that follow (in the same transaction) rebuild facts from all of
-- staging. Facts are a pure function of staging and dims: the rebuilt rows
-- equal the ones incremental runs produced. Observations dropped by `purge`
-- are gone from staging, so history older than the retention window is only
-- kept by incremental runs; see the README.

-- On a Citus cluster: 20_register_codes.sql writes dims (reference tables) later
-- in this transaction, which Citus refuses after a statement that reached the
-- shards over several connections per node; the truncate goes over one
-- connection per node (10_reservation_batch.sql says the same for its reads).
-- On one server this is a placeholder setting that nothing reads.
set local citus.multi_shard_modify_mode = 'sequential';

truncate facts.reservation_nights, facts.reservation_transactions, facts.reservations,
         facts.availability, facts.rates;
update ops.transform_state set seen_snapshot = '1:1:', promoted_at = null;
delete from ops.transform_horizons;
