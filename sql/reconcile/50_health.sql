-- Pipeline health of the snapshot's source and property since the scope was
-- last reconciled (recon_scope.health_since), named apart:
--   health.event_lag_p50/p95/max  seconds from OTA event time to commit (bookings: ota_time; cursor feeds:
--                                 the record's updated_at); NULL where the feed carries no event time
--   health.drop_rate              (dead letters + refused pushes) / (records received + pushes received)
--   health.retry_saturation       share of requests answered 429 or 5xx (ops.pipeline_counts)
--   health.redeliveries           the same id and hash arriving again (duplicates skipped by the batches,
--                                 plus the receiver's redeliveries)
--   health.collisions             a "new" with other content for a known id (is_collision)
-- A cursor feed serves every property in one traversal, so its counts are the source's ('' property).

create temp table recon_health_scope on commit drop as
select c.source, c.stream, c.health_since,
       case when c.stream = 'inventory' then '' else c.property_code end as property_code,
       case c.stream when 'reservations' then 'reservations' when 'inventory' then 'inventory' else 'feeds' end
           as call_stream
from recon_scope c;
comment on table recon_health_scope is 'Where this comparison''s pipeline-health counts are read from: property and call stream.';

-- What staging says (event lags, collisions): statements of their own, with the
-- scope's values by uncorrelated subqueries; Citus runs those first and the
-- rest on the shards (it cannot join a temporary table laterally with a
-- distributed one). The scope has one row.
create temp table recon_health_staging on commit drop as
select lag.p50, lag.p95, lag.worst, coll.collisions
from (
    select percentile_cont(0.5) within group (order by lag) as p50,
           percentile_cont(0.95) within group (order by lag) as p95,
           max(lag) as worst
    from (
        select extract(epoch from e.loaded_at - e.ota_time) as lag
        from staging.reservation_events e
        where (select h.stream from recon_health_scope h) = 'reservations'
          and e.source = (select h.source from recon_health_scope h)
          and e.property_code = (select h.property_code from recon_health_scope h)
          and e.loaded_at > (select h.health_since from recon_health_scope h) and e.ota_time is not null
        union all
        select extract(epoch from o.loaded_at - o.source_updated_at)
        from staging.rate_observations o
        where (select h.stream from recon_health_scope h) = 'inventory'
          and o.source = (select h.source from recon_health_scope h) and o.stream = 'inventory' and o.origin = 'pull'
          and o.load_date >= greatest((select h.health_since from recon_health_scope h), '2000-01-01')::date
          and o.loaded_at > (select h.health_since from recon_health_scope h)
          and o.source_updated_at is not null
    ) lags
) lag
cross join (
    select count(*) as collisions
    from staging.reservation_events e
    where (select h.stream from recon_health_scope h) = 'reservations'
      and e.source = (select h.source from recon_health_scope h)
      and e.property_code = (select h.property_code from recon_health_scope h)
      and e.loaded_at > (select h.health_since from recon_health_scope h) and e.is_collision
) coll;

insert into recon_results (metric, kind, value)
select m.metric, 'health', m.value
from recon_health_scope h
cross join recon_health_staging lag
cross join lateral (
    select coalesce(sum(b.rows_landed + b.duplicates + b.dead_letters), 0) as received,
           coalesce(sum(b.dead_letters), 0) as dead_letters,
           coalesce(sum(b.duplicates), 0) as duplicates
    from ops.batches b
    where b.source = h.source and b.property_code = h.property_code and b.landed_at > h.health_since
      and b.stream = h.stream and b.batch_range not like 'reconcile:%'
) batch
cross join lateral (
    select coalesce(sum(p.value) filter (where p.metric = 'requests'), 0) as requests,
           coalesce(sum(p.value) filter (where p.metric in ('answers_429', 'answers_5xx')), 0) as saturated,
           coalesce(sum(p.value) filter (where p.metric = 'pushes_received'), 0) as pushes,
           coalesce(sum(p.value) filter (where p.metric = 'pushes_refused'), 0) as refused,
           coalesce(sum(p.value) filter (where p.metric = 'redeliveries'), 0) as redeliveries
    from ops.pipeline_counts p
    where p.source = h.source and p.property_code = h.property_code and p.recorded_at > h.health_since
      and p.stream = h.call_stream
) calls
cross join recon_health_staging coll
cross join lateral (values
    ('health.event_lag_p50', round(lag.p50::numeric, 3)),
    ('health.event_lag_p95', round(lag.p95::numeric, 3)),
    ('health.event_lag_max', round(lag.worst, 3)),
    ('health.records_received', (batch.received + calls.pushes)::numeric),
    ('health.dead_letters', batch.dead_letters::numeric),
    ('health.pushes_refused', calls.refused::numeric),
    ('health.drop_rate',
     case when batch.received + calls.pushes > 0
          then round((batch.dead_letters + calls.refused)::numeric / (batch.received + calls.pushes), 6) end),
    ('health.requests', calls.requests::numeric),
    ('health.retry_saturation',
     case when calls.requests > 0 then round(calls.saturated::numeric / calls.requests, 6) end),
    ('health.redeliveries', (batch.duplicates + calls.redeliveries)::numeric),
    ('health.collisions', coll.collisions::numeric)
) as m(metric, value);
