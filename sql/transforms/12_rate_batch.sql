-- New rate observations: those landed by a transaction the previous promotion
-- could not see (mark and read share one statement's snapshot), up to
-- ops.promotion_upto() (see 10_reservation_batch.sql). A cursor feed's
-- own updated_at is the OTA time where there is one, else the fetch time.

create temp table rate_batch (
    property_code  text not null,
    rate_id        text not null,
    room_code      text not null,
    stay_date      date not null,
    adults         integer not null,
    children       integer not null,
    channel        text not null,
    valid_from     timestamptz not null,
    price          numeric(12, 2),
    currency       text not null,
    closeout       boolean not null,
    min_stay       integer not null,
    available      integer,
    withdrawn      boolean not null,
    closed_to_arrival    boolean,
    closed_to_departure  boolean,
    max_stay       integer,
    min_stay_kind  text,
    tax_included   boolean,
    source         text not null,
    stream         text not null,
    origin         text not null,
    loaded_at      timestamptz not null
) on commit drop;

with mark as (
    update ops.transform_state s
    set seen_snapshot = ops.promotion_upto(previous.seen_snapshot), promoted_at = now()
    from ops.transform_state previous
    where s.stream = 'rates' and previous.stream = 'rates'
    returning previous.seen_snapshot as seen, s.seen_snapshot as upto
)
insert into rate_batch
select o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel,
    coalesce(o.source_updated_at, o.observed_at),
    o.price, o.currency, o.closeout, o.min_stay, o.available, o.withdrawn,
    o.closed_to_arrival, o.closed_to_departure, o.max_stay, o.min_stay_kind, o.tax_included,
    o.source, o.stream, o.origin, o.loaded_at
from staging.rate_observations o
cross join mark
where o.landed_xid >= pg_snapshot_xmin(mark.seen)
  and not pg_visible_in_snapshot(o.landed_xid, mark.seen)
  and pg_visible_in_snapshot(o.landed_xid, mark.upto)
union all
-- Continuous promotion trying rows it set aside again (off otherwise).
select o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel,
    coalesce(o.source_updated_at, o.observed_at),
    o.price, o.currency, o.closeout, o.min_stay, o.available, o.withdrawn,
    o.closed_to_arrival, o.closed_to_departure, o.max_stay, o.min_stay_kind, o.tax_included,
    o.source, o.stream, o.origin, o.loaded_at
from staging.rate_observations o
-- The rows set aside that are due, as a subquery of its own: Citus runs it on the
-- coordinator, where the promoter's setting is; beside the join the condition would
-- run on the workers, which do not see it, and find nothing. Flattened on one server.
join (select landed_xid from ops.promotion_set_aside
      where stream = 'rates' and ops.retrying_set_aside() and retry_due and promoted_at is null) a
  on a.landed_xid = o.landed_xid;

analyze rate_batch;

-- The last mark is taken: landings may go on (10_reservation_batch.sql closed the fence).
select ops.open_landing_fence();

-- What the later statements need per property, in one pass over the batch: the
-- stay dates (partitions), the first and last observation times (late cells,
-- horizons) and the count.
create temp table rate_batch_properties on commit drop as
select property_code, min(stay_date) as first_stay, max(stay_date) as last_stay,
       min(valid_from) as first_from, max(valid_from) as last_from, count(*) as observations
from rate_batch
group by property_code;

select facts.ensure_stay_partitions(min(first_stay), max(last_stay)) from rate_batch_properties;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'rates.observations', coalesce(sum(observations), 0) from rate_batch_properties
on conflict (run_id, metric) do update set value = excluded.value;
