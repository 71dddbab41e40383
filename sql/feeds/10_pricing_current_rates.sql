-- feeds.pricing_current_rates: what a pricing engine reads every morning.
-- Re-applied by `ota-ingest migrate` whenever this file changes (see
-- ops.feed_definitions), so it drops and recreates what it defines.

drop view if exists feeds.pricing_current_rates;

-- The property's drift status is the latest comparison of its rate streams
-- (WebHotelier rates or a cursor feed): breached if any drift metric of it is.
--
-- One row per cell and source: every source keeps its own truth. Cells a
-- source withdrew (facts.rates.withdrawn) are not for sale there: left out. preferred
-- picks the row pricing should read (dims.source_precedence, lowest rank):
-- a cell one source serves is preferred; among several, the best-ranked ones
-- are, and when none of them is ranked all are (and feeds.property_health
-- says the precedence is missing), so nothing silently picks one.
create view feeds.pricing_current_rates as
with drift as (
    select d.source, d.property_code, bool_or(d.breached) as breached, max(d.compared_at) as compared_at
    from recon.latest_drift d
    where d.kind = 'drift' and d.stream in ('rates', 'inventory')
    group by d.source, d.property_code
),
ranked as (
    select r.*,
           (select p.rank from dims.source_precedence p
            where p.source = r.source and p.property_code in (r.property_code, '')
            order by p.property_code desc limit 1) as precedence_rank
    from facts.rates r
    where r.is_current and not r.withdrawn
),
cells as (
    select k.*,
           count(*) over cell as cell_sources,
           min(k.precedence_rank) over cell as best_rank
    from ranked k
    window cell as (partition by k.property_code, k.rate_id, k.room_code, k.stay_date, k.adults, k.children, k.channel)
)
select r.property_code, r.rate_id, r.room_code, r.stay_date, r.adults, r.children, r.channel,
       r.price, r.currency, r.closeout, r.min_stay, r.available, r.source,
       r.valid_from as price_since,
       coalesce(s.last_seen_at, r.valid_from) as last_observed_at,
       now() - coalesce(s.last_seen_at, r.valid_from) as age,
       case when d.property_code is null then 'not reconciled' when d.breached then 'breached' else 'ok' end
           as drift_status,
       d.compared_at as drift_checked_at,
       r.cell_sources = 1 or r.best_rank is null or r.precedence_rank = r.best_rank as preferred,
       r.cell_sources::integer as cell_sources
from cells r
left join feeds.rates_last_seen s
  using (property_code, rate_id, room_code, stay_date, adults, children, channel, source)
left join drift d on d.source = r.source and d.property_code = r.property_code;

comment on view feeds.pricing_current_rates is
    'The current rate of every cell (rate x room x night x occupancy x channel) from each source that serves it: the latest version in facts.rates, when that source last showed the cell, how old that is, and the property''s latest drift status from recon.drift_metrics. One value per cell: WHERE preferred (ties and unranked sources can leave several; order by source to pick one). Current means now, in both times: for a point in the past use feeds.rates_as_of(ts).';
comment on column feeds.pricing_current_rates.property_code is 'The property.';
comment on column feeds.pricing_current_rates.rate_id is 'The rate plan.';
comment on column feeds.pricing_current_rates.room_code is 'The room the rate sells.';
comment on column feeds.pricing_current_rates.stay_date is 'The night.';
comment on column feeds.pricing_current_rates.adults is 'Occupancy: adults.';
comment on column feeds.pricing_current_rates.children is 'Occupancy: children.';
comment on column feeds.pricing_current_rates.channel is 'Channel; '''' when the source has none.';
comment on column feeds.pricing_current_rates.price is 'The current price.';
comment on column feeds.pricing_current_rates.currency is 'ISO 4217 currency of price.';
comment on column feeds.pricing_current_rates.closeout is 'Rate-level closeout.';
comment on column feeds.pricing_current_rates.min_stay is 'Rate-level minimum stay.';
comment on column feeds.pricing_current_rates.available is 'Rooms available (cursor feeds); NULL otherwise.';
comment on column feeds.pricing_current_rates.source is 'The configured source this row''s version came from; a cell several sources serve has one row per source.';
comment on column feeds.pricing_current_rates.price_since is 'OTA time since which this price holds (the version''s valid_from).';
comment on column feeds.pricing_current_rates.last_observed_at is 'When this source last showed the cell (feeds.rates_last_seen; the version''s valid_from when the observation was purged).';
comment on column feeds.pricing_current_rates.age is 'now() - last_observed_at: how stale the price may be.';
comment on column feeds.pricing_current_rates.drift_status is 'ok, breached (the latest reconciliation of the property''s rates found drift above its threshold) or not reconciled.';
comment on column feeds.pricing_current_rates.drift_checked_at is 'When that reconciliation ran.';
comment on column feeds.pricing_current_rates.preferred is 'True for the row pricing should read: the only source of the cell, or the best-ranked in dims.source_precedence; every row of the cell when none of its sources is ranked.';
comment on column feeds.pricing_current_rates.cell_sources is 'How many sources serve the cell now (rows of the cell in this view).';

grant select on feeds.pricing_current_rates to ota_analyst, ota_ingest;
