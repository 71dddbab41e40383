-- New availability observations: those landed by a transaction the previous
-- promotion could not see (mark and read share one statement's snapshot), up
-- to ops.promotion_upto() (see 10_reservation_batch.sql).
-- cell_hash only speeds up sorting by cell within this transaction; never stored.

create temp table availability_batch (
    property_code        text not null,
    room_code            text not null,
    stay_date            date not null,
    valid_from           timestamptz not null,
    cell_hash            bigint not null,
    allotment            integer not null,
    stop_sell            boolean not null,
    min_stay             integer not null,
    max_stay             integer not null,
    closed_to_arrival    boolean not null,
    closed_to_departure  boolean not null,
    withdrawn            boolean not null,
    source               text not null,
    origin               text not null,
    loaded_at            timestamptz not null
) on commit drop;

with mark as (
    update ops.transform_state s
    set seen_snapshot = ops.promotion_upto(previous.seen_snapshot), promoted_at = now()
    from ops.transform_state previous
    where s.stream = 'availability' and previous.stream = 'availability'
    returning previous.seen_snapshot as seen, s.seen_snapshot as upto
)
insert into availability_batch
select o.property_code, o.room_code, o.stay_date, o.observed_at,
    hashtextextended(concat_ws('|', o.property_code, o.room_code, o.stay_date, o.source), 0),
    o.allotment, o.stop_sell, o.min_stay, o.max_stay, o.closed_to_arrival, o.closed_to_departure, o.withdrawn,
    o.source, o.origin, o.loaded_at
from staging.availability_observations o
cross join mark
where o.landed_xid >= pg_snapshot_xmin(mark.seen)
  and not pg_visible_in_snapshot(o.landed_xid, mark.seen)
  and pg_visible_in_snapshot(o.landed_xid, mark.upto)
union all
-- Continuous promotion trying rows it set aside again (off otherwise).
select o.property_code, o.room_code, o.stay_date, o.observed_at,
    hashtextextended(concat_ws('|', o.property_code, o.room_code, o.stay_date, o.source), 0),
    o.allotment, o.stop_sell, o.min_stay, o.max_stay, o.closed_to_arrival, o.closed_to_departure, o.withdrawn,
    o.source, o.origin, o.loaded_at
from staging.availability_observations o
-- The rows set aside that are due, as a subquery of its own: Citus runs it on the
-- coordinator, where the promoter's setting is; beside the join the condition would
-- run on the workers, which do not see it, and find nothing. Flattened on one server.
join (select landed_xid from ops.promotion_set_aside
      where stream = 'availability' and ops.retrying_set_aside() and retry_due and promoted_at is null) a
  on a.landed_xid = o.landed_xid;

analyze availability_batch;

select facts.ensure_stay_partitions(min(stay_date), max(stay_date)) from availability_batch;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'availability.observations', count(*) from availability_batch
on conflict (run_id, metric) do update set value = excluded.value;
