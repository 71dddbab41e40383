-- What this promotion brought into facts, per source, stream and property: the
-- staged versions it read, the newest OTA event time and the newest landing.
-- ota-ingest announces it on the ota_ingest_facts channel when the promotion
-- commits (summarised; see docs/warehouse.md), and ops.fact_freshness keeps
-- the latest per scope for `status` and feeds.property_health.

create temp table promoted on commit drop as
select 'reservations'::text as stream, source, property_code, sum(new_events)::bigint as versions,
       max(last_ota_time) as last_event_at, max(last_loaded_at) as last_loaded_at
from reservation_batch
group by source, property_code
union all
select 'availability', source, property_code, count(*), max(valid_from), max(loaded_at)
from availability_batch
group by source, property_code
union all
select stream, source, property_code, count(*), max(valid_from), max(loaded_at)
from rate_batch
group by stream, source, property_code;

insert into ops.fact_freshness as f (source, stream, property_code, last_event_at, last_loaded_at, last_promoted_at)
select source, stream, property_code, last_event_at, last_loaded_at, now()
from promoted
on conflict (source, stream, property_code) do update
set last_event_at = greatest(f.last_event_at, excluded.last_event_at),
    last_loaded_at = greatest(f.last_loaded_at, excluded.last_loaded_at),
    last_promoted_at = excluded.last_promoted_at;
