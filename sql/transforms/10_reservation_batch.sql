-- Which bookings have new versions in staging: those with an event landed by a
-- transaction the previous promotion could not see. Moving the mark and reading
-- staging happen in one statement, so they share one snapshot and no row landed
-- in between is skipped. Collisions (a "new" reusing a known number with other
-- content) are kept in staging for audit and never promoted.

-- No JIT for the whole run (the files share one transaction): the estimates of
-- the set-based statements are large enough to trigger it, compiling costs
-- 0.1-0.5 s a statement, and it saves less than that even on a million rows.
set local jit = off;
-- The batch tables are analyzed for their row counts and distinct keys, which
-- a small sample gives as well as the default 30,000 rows: analyzing 70,000
-- demo observations took 0.14 s a table at the default target.
set local default_statistics_target = 10;
-- A promotion reads the keys it touches from the fact tables and their indexes,
-- which a warehouse kept busy by promotion holds in memory. At PostgreSQL's default
-- random_page_cost (4, a disk's seek) a batch of 2,000 bookings read all of
-- facts.reservations and its nights six times over (every booking ever promoted)
-- rather than probe the index 2,000 times: 0.66 s against 0.40 s. 1.1 is the usual
-- setting for SSDs; an operator's lower setting is kept. Large batches still join by
-- hash, as their sizes make that cheaper at any setting. Continuous promotion's
-- micro-batches and `transform` (the nightly's too) plan alike.
select set_config('random_page_cost', '1.1', true) where current_setting('random_page_cost')::float8 > 1.1;

-- On a Citus cluster: wait for landings in flight to commit on every node and
-- hold new ones back until 12_rate_batch.sql has taken its mark (see
-- sql/migrations/0090_landing_fence.sql); nothing on one server.
select ops.close_landing_fence();
-- On a Citus cluster: 20_register_codes.sql writes dims (reference tables, a
-- copy on every node), which Citus refuses after a statement that read the
-- shards over several connections per node in the same transaction. Until
-- then, one connection per node (parallel again after 20). On one server this
-- is a placeholder setting that nothing reads.
set local citus.multi_shard_modify_mode = 'sequential';

create temp table reservation_batch (
    property_code    text not null,
    confirmation_id  text not null,
    source           text not null,
    new_events       integer not null,
    last_loaded_at   timestamptz not null,
    last_ota_time    timestamptz,
    primary key (property_code, confirmation_id, source)
) on commit drop;

-- Up to ops.promotion_upto(): this statement's snapshot, or what continuous
-- promotion set (the snapshot it pinned to retry the same rows, or no new rows
-- at all while it tries again rows it set aside: the second branch, off otherwise).
with mark as (
    update ops.transform_state s
    set seen_snapshot = ops.promotion_upto(previous.seen_snapshot), promoted_at = now()
    from ops.transform_state previous
    where s.stream = 'reservations' and previous.stream = 'reservations'
    returning previous.seen_snapshot as seen, s.seen_snapshot as upto
),
new_events as (
    select e.property_code, e.confirmation_id, e.source, e.loaded_at, e.ota_time
    from staging.reservation_events e
    cross join mark
    where e.landed_xid >= pg_snapshot_xmin(mark.seen)
      and not pg_visible_in_snapshot(e.landed_xid, mark.seen)
      and pg_visible_in_snapshot(e.landed_xid, mark.upto)
      and not e.is_collision
    union all
    select e.property_code, e.confirmation_id, e.source, e.loaded_at, e.ota_time
    from staging.reservation_events e
    -- The rows set aside that are due, as a subquery of its own: Citus runs it on the
    -- coordinator, where the promoter's setting is; beside the join the condition would
    -- run on the workers, which do not see it, and find nothing. Flattened on one server.
    join (select landed_xid from ops.promotion_set_aside
          where stream = 'reservations' and ops.retrying_set_aside() and retry_due and promoted_at is null) a
      on a.landed_xid = e.landed_xid
    where not e.is_collision
)
insert into reservation_batch (property_code, confirmation_id, source, new_events, last_loaded_at, last_ota_time)
select property_code, confirmation_id, source, count(*), max(loaded_at), max(ota_time)
from new_events
group by property_code, confirmation_id, source;

analyze reservation_batch;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'reservations.bookings_touched', count(*) from reservation_batch
on conflict (run_id, metric) do update set value = excluded.value;
