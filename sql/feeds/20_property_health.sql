-- feeds.property_health: per property and stream, is the data flowing?
-- Re-applied by `ota-ingest migrate` whenever this file changes.

drop view if exists feeds.property_health;

-- Streams are named as the ledgers name them: reservations, availability,
-- rates (WebHotelier) and inventory (a cursor feed, whose batches carry the
-- property '' because one traversal serves every property).
create view feeds.property_health as
with pulls as (
    select b.source, b.stream, b.property_code, max(b.landed_at) as last_pull_at
    from ops.batches b
    join ops.runs r using (run_id)
    where r.status in ('succeeded', 'dead_letters') and r.command like 'pull %'
    group by b.source, b.stream, b.property_code
),
letters as (
    select l.source, l.stream, l.property_code, count(*) as open_dead_letters
    from ops.dead_letters l
    where l.replayed_at is null
    group by l.source, l.stream, l.property_code
),
reconciled as (
    select d.source, d.stream, d.property_code, max(d.compared_at) as last_reconciled_at,
           coalesce(bool_or(d.breached) filter (where d.kind = 'drift'), false) as breached,
           max(d.value) filter (where d.metric = 'mismatched_share') as mismatched_share,
           max(d.value) filter (where d.metric = 'health.event_lag_p95') as event_lag_p95_seconds
    from recon.latest_drift d
    group by d.source, d.stream, d.property_code
),
-- Several sources serving a property's rates with no precedence between
-- them: feeds.pricing_current_rates cannot pick one (every row preferred).
rate_sources as (
    select r.property_code, count(distinct r.source) as sources,
           count(distinct r.source) filter (where exists (
               select 1 from dims.source_precedence p
               where p.source = r.source and p.property_code in (r.property_code, ''))) as ranked
    from facts.rates r
    where r.is_current and not r.withdrawn
    group by r.property_code
),
scopes as (
    select source, stream, property_code from pulls
    union select source, stream, property_code from letters
    union select source, stream, property_code from reconciled
    union select source, stream, property_code from ops.fact_freshness
)
select s.source, s.stream, s.property_code, p.last_pull_at, now() - p.last_pull_at as pull_age,
       c.event_lag_p95_seconds, coalesce(l.open_dead_letters, 0) as open_dead_letters,
       c.last_reconciled_at, c.mismatched_share, coalesce(c.breached, false) as breached,
       case when rs.sources > 1 and rs.ranked = 0 then 'missing'
            when rs.sources > 1 then 'set'
            when rs.sources = 1 then 'one source' end as rate_source_precedence,
       f.last_promoted_at, extract(epoch from f.last_promoted_at - f.last_loaded_at) as landed_to_fact_seconds,
       extract(epoch from f.last_promoted_at - f.last_event_at) as event_to_fact_seconds,
       now() - f.last_promoted_at as fact_age
from scopes s
left join pulls p using (source, stream, property_code)
left join letters l using (source, stream, property_code)
left join reconciled c using (source, stream, property_code)
left join ops.fact_freshness f using (source, stream, property_code)
left join rate_sources rs on rs.property_code = s.property_code;

comment on view feeds.property_health is
    'Per source, stream and property: the last successful pull, its age, the event lag, open dead letters, the last reconciliation and whether it breached, and how fresh the facts are. Counts only: no record of a dead letter is shown.';
comment on column feeds.property_health.source is 'The configured source.';
comment on column feeds.property_health.stream is 'reservations, availability, rates or inventory (a cursor feed; its pulls are recorded under property '''').';
comment on column feeds.property_health.property_code is 'The property; '''' for a cursor feed''s pulls.';
comment on column feeds.property_health.last_pull_at is 'When the latest batch of a pull run that finished (succeeded, or with dead letters) landed; NULL when none is retained in ops.batches.';
comment on column feeds.property_health.pull_age is 'now() - last_pull_at.';
comment on column feeds.property_health.event_lag_p95_seconds is 'p95 of OTA event time to commit, seconds, from the latest reconciliation''s pipeline health.';
comment on column feeds.property_health.open_dead_letters is 'Dead letters not replayed yet (ota-ingest dlq list).';
comment on column feeds.property_health.last_reconciled_at is 'When the latest reconciliation of the scope ran.';
comment on column feeds.property_health.mismatched_share is 'Its share of mismatched keys.';
comment on column feeds.property_health.breached is 'True when a drift metric of that reconciliation exceeded its threshold.';
comment on column feeds.property_health.rate_source_precedence is 'Whether pricing can tell the property''s rate sources apart: one source, set (dims.source_precedence ranks some of them) or missing (several sources, none ranked: every row of feeds.pricing_current_rates is preferred; add seeds/source_precedence.csv rows and run ota-ingest seed). NULL without current rates.';

comment on column feeds.property_health.last_promoted_at is 'When a promotion (serve''s continuous promotion or a transform) last brought this scope''s data into facts; NULL before the first.';
comment on column feeds.property_health.landed_to_fact_seconds is 'For the newest row it promoted: seconds from landing in staging (a push''s answer) to that promotion.';
comment on column feeds.property_health.event_to_fact_seconds is 'For the newest OTA event it promoted: seconds from the event at the OTA to that promotion.';
comment on column feeds.property_health.fact_age is 'now() - last_promoted_at: how long nothing new reached facts for this scope.';

grant select on feeds.property_health to ota_analyst, ota_ingest;
