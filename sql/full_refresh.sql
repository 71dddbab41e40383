-- `ota-ingest transform --full-refresh`: forget every promotion, so the
-- transforms that follow (in the same transaction) rebuild facts from all of
-- staging. Facts are a pure function of staging and dims: the rebuilt rows
-- equal the ones incremental runs produced. Observations dropped by `purge`
-- are gone from staging, so history older than the retention window is only
-- kept by incremental runs; see the README.

truncate facts.reservation_nights, facts.reservation_transactions, facts.reservations,
         facts.availability, facts.rates;
update ops.transform_state set seen_snapshot = '1:1:', promoted_at = null;
delete from ops.transform_horizons;
