-- Codes found in new data but missing from dims are registered, flagged
-- auto_registered, and counted in the run summary: a new room or rate never
-- stops a run. A person then completes the seed files and runs `seed`.

create temp table codes_seen on commit drop as
select b.property_code, r.room_code, r.rate_id, r.board, r.channel_code, r.currency
from reservation_batch b
cross join lateral (
    select e.data #>> '{roomStay,roomType}' as room_code,
           e.data #>> '{roomStay,rateID}' as rate_id,
           e.data #>> '{roomStay,board}' as board,
           coalesce(e.data #>> '{bookInfo,source}', '') as channel_code,
           e.data #>> '{pricing,currency}' as currency
    from staging.reservation_events e
    where e.property_code = b.property_code and e.confirmation_id = b.confirmation_id and e.source = b.source
      and not e.is_collision
) r
union
select distinct property_code, room_code, null, null, null, null from availability_batch
union
select distinct property_code, room_code, rate_id, null, channel, currency from rate_batch;

-- Each table's codes are inserted in key order, the tables always in this order
-- (properties, rooms, rate plans, channels; the ARI expansion, sql/ari/2*.sql,
-- registers rooms, then rate plans): two sessions registering the same new codes
-- at once then wait for one another in one direction, never in a circle (a
-- deadlock would roll one of them back).
create temp table codes_registered (kind text not null, code text not null) on commit drop;

with added as (
    insert into dims.properties (property_code, name, currency, time_zone, reporting_currency, auto_registered)
    select property_code, property_code, currency, 'UTC', currency, true
    from (
        select property_code,
               coalesce(min(currency) filter (where currency ~ '^[A-Z]{3}$'), 'XXX') as currency
        from codes_seen group by property_code
    ) p
    order by property_code
    on conflict (property_code) do nothing
    returning property_code
)
insert into codes_registered select 'property', property_code from added;

with added as (
    insert into dims.rooms (property_code, room_code, name, auto_registered)
    select distinct property_code, room_code, room_code, true
    from codes_seen where room_code is not null
    order by property_code, room_code
    on conflict (property_code, room_code) do nothing
    returning property_code || '/' || room_code as code
)
insert into codes_registered select 'room', code from added;

with added as (
    insert into dims.rate_plans (property_code, rate_id, room_code, name, board, auto_registered)
    select distinct on (property_code, rate_id) property_code, rate_id, room_code, rate_id, board, true
    from codes_seen where rate_id is not null and room_code is not null
    order by property_code, rate_id, room_code, board
    on conflict (property_code, rate_id) do nothing
    returning property_code || '/' || rate_id as code
)
insert into codes_registered select 'rate', code from added;

with added as (
    insert into dims.channels (channel_code, name, auto_registered)
    select distinct channel_code, case when channel_code = '' then 'none' else channel_code end as name, true
    from codes_seen where channel_code is not null
    order by channel_code
    on conflict (channel_code) do nothing
    returning channel_code
)
insert into codes_registered select 'channel', channel_code from added;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'dims.auto_registered.' || kind, count(*) from codes_registered group by kind
on conflict (run_id, metric) do update set value = excluded.value;

-- dims are written: Citus may read and write the shards in parallel again
-- (see 10_reservation_batch.sql).
set local citus.multi_shard_modify_mode = 'parallel';
