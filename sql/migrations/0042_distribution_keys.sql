-- Every primary key, unique index and exclusion constraint on staging, facts
-- and recon includes property_code: Citus (distributed PostgreSQL, the engine
-- to grow into past one server; docs/scaling.md) requires the distribution
-- column in each, and property_code is it. The test suite reads the catalog and
-- fails on any key that leaves it out.
--
-- No invariant changes: confirmation ids are globally unique per source, so a
-- booking version is still stored once per (confirmation id, content hash),
-- and event_id (an identity) is still unique on its own and still gives the
-- arrival order. Each key is rebuilt once, here; on a large staging table this
-- migration takes as long as building two indexes over it.

-- staging.reservation_events: the row's identity and the version key.
alter table staging.reservation_events drop constraint reservation_events_pkey;
alter table staging.reservation_events add constraint reservation_events_pkey primary key (property_code, event_id);
drop index staging.reservation_events_version_key;
create unique index reservation_events_version_key
    on staging.reservation_events (source, property_code, confirmation_id, content_hash);
comment on index staging.reservation_events_version_key is
    'A booking version is stored once, however many times and ways it arrives: the ON CONFLICT target of every landing (pull, push, backfill).';

-- facts.reservations: the staging row a version came from.
alter table facts.reservations drop constraint reservations_staging_event_id_key;
alter table facts.reservations
    add constraint reservations_staging_event_id_key unique (property_code, staging_event_id);

-- facts.reservation_transactions: one row per transaction event.
alter table facts.reservation_transactions drop constraint reservation_transactions_pkey;
alter table facts.reservation_transactions
    add constraint reservation_transactions_pkey primary key (property_code, staging_event_id);

-- recon.snapshots and the drift metrics computed from them.
alter table recon.snapshots drop constraint snapshots_pkey;
alter table recon.snapshots add constraint snapshots_pkey primary key (property_code, snapshot_id);
alter table recon.drift_metrics drop constraint drift_metrics_pkey;
alter table recon.drift_metrics
    add constraint drift_metrics_pkey primary key (property_code, run_id, snapshot_id, metric, after_repair);
-- Snapshots are still looked up by id alone (the scope of a reconcile, pruning).
create index snapshots_id_idx on recon.snapshots (snapshot_id);
