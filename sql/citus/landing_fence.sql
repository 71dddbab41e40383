-- The landing half of the fence (sql/migrations/0090_landing_fence.sql): on a
-- distributed warehouse the landing transaction's id is taken together with a
-- shared advisory lock on the coordinator, held until the landing has committed
-- on every node. Citus evaluates a column default on the coordinator, once per
-- row. `ota-ingest distribute` runs this file; on one server the default stays
-- pg_current_xact_id(), and nothing else differs.
alter table staging.reservation_events alter column landed_xid set default ops.fenced_xact_id();
alter table staging.rate_observations alter column landed_xid set default ops.fenced_xact_id();
alter table staging.availability_observations alter column landed_xid set default ops.fenced_xact_id();
