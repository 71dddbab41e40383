-- feeds.retraining_signals: one view a retraining pipeline polls. Re-applied
-- by `ota-ingest migrate` whenever this file changes.

drop view if exists feeds.retraining_signals;
-- feeds.psi_history (45_psi_history.sql, applied after this file) once called
-- feeds.snapshot_values: dropped first so the function can go; 45 recreates it.
drop view if exists feeds.psi_history;
drop function if exists feeds.snapshot_values(bigint, text);
drop function if exists feeds.population_stability(numeric[], numeric[]);

-- PSI as the retraining pipelines define it: bins from the reference's
-- deciles (percentile_disc, so every edge is a value the reference holds),
-- duplicate edges merged (ties would otherwise make empty, meaningless
-- bins), each bin (lower, upper] with the first open below and the last open
-- above; an empty bin's share is floored at 0.0001 so ln() stays finite.
create function feeds.population_stability(reference numeric[], actual numeric[])
returns numeric
language sql immutable
as $$
    with ref as (select v from unnest(reference) v where v is not null),
    act as (select v from unnest(actual) v where v is not null),
    totals as (select (select count(*) from ref) as n_ref, (select count(*) from act) as n_act),
    edges as (
        select coalesce(array_agg(distinct e order by e), '{}'::numeric[]) as e
        from unnest((select percentile_disc(array[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
                             within group (order by v) from ref)) e
    ),
    -- A value's bin is the number of edges below it: bin 0 is (-inf, e1], bin k (e_k, e_k+1].
    ref_bins as (select (select count(*) from unnest(edges.e) x where x < ref.v) as bin, count(*) as n
                 from ref, edges group by 1),
    act_bins as (select (select count(*) from unnest(edges.e) x where x < act.v) as bin, count(*) as n
                 from act, edges group by 1),
    shares as (
        select case when coalesce(r.n, 0) = 0 then 0.0001 else r.n::numeric / t.n_ref end as e,
               case when coalesce(a.n, 0) = 0 then 0.0001 else a.n::numeric / t.n_act end as a
        from edges, totals t, generate_series(0, cardinality(edges.e)) as b(bin)
        left join ref_bins r on r.bin = b.bin
        left join act_bins a on a.bin = b.bin
    )
    select case when t.n_ref > 0 and t.n_act > 0 then (select sum((s.a - s.e) * ln(s.a / s.e)) from shares s) end
    from totals t
$$;
comment on function feeds.population_stability(numeric[], numeric[]) is
    'Population stability index of actual against reference: bins from the reference''s deciles (percentile_disc), duplicate edges merged, each bin (lower, upper], the first open below and the last open above; empty bins floored at 0.0001; PSI = sum over bins of (a - e) * ln(a / e), a and e the actual''s and the reference''s shares. NULLs are ignored; NULL when either side is empty.';

-- What the distributions are made of: rates and cursor feeds the price per
-- cell, availability the allotment, reservations the booking total per room
-- night (the ADR; a snapshot keeps the total, never the body) of the
-- confirmed bookings in the snapshot, i.e. made or changed in its window.
create function feeds.snapshot_values(snapshot bigint, stream text)
returns numeric[]
language sql stable
as $$
    select case stream
        when 'availability' then
            (select array_agg(a.allotment::numeric) from recon.snapshot_availability a where a.snapshot_id = snapshot)
        when 'reservations' then
            (select array_agg(round(r.total_gross / r.room_nights, 2)) from recon.snapshot_reservations r
             where r.snapshot_id = snapshot and r.status = 'confirmed' and r.room_nights > 0)
        else
            (select array_agg(r.price) from recon.snapshot_rates r where r.snapshot_id = snapshot and r.price is not null)
    end
$$;
comment on function feeds.snapshot_values(bigint, text) is
    'The values a snapshot''s distribution is made of: price per cell (rates, inventory), allotment (availability), booking total per room night of confirmed bookings (reservations).';

create view feeds.retraining_signals as
with settings as (
    select max(value) filter (where name = 'psi_watch') as psi_watch,
           max(value) filter (where name = 'psi_retrain') as psi_retrain,
           max(value) filter (where name = 'breach_window_days') as breach_days,
           max(value) filter (where name = 'freshness_hours') as freshness_hours
    from feeds.settings
),
latest as (
    select distinct on (s.source, s.stream, s.property_code) s.snapshot_id, s.source, s.stream, s.property_code,
           s.taken_at
    from recon.snapshots s
    order by s.source, s.stream, s.property_code, s.snapshot_id desc
),
-- The reference: the newest pinned snapshot before the latest, else the previous one.
pairs as (
    select l.*, r.snapshot_id as reference_snapshot_id, coalesce(r.pinned, false) as reference_pinned,
           r.taken_at as reference_taken_at
    from latest l
    left join lateral (
        select s.snapshot_id, s.pinned, s.taken_at from recon.snapshots s
        where s.source = l.source and s.stream = l.stream and s.property_code = l.property_code
          and s.snapshot_id < l.snapshot_id
        order by s.pinned desc, s.snapshot_id desc
        limit 1
    ) r on true
),
-- The values of every snapshot compared, gathered by joins rather than a
-- function called per row: on a Citus cluster recon.* is distributed, and a
-- function that queries it cannot run inside a query on it. The joins carry
-- property_code, so each snapshot's values are gathered inside its shard.
compared as (
    select snapshot_id, property_code, stream from pairs
    union
    select reference_snapshot_id, property_code, stream from pairs where reference_snapshot_id is not null
),
snapshot_values as (
    select c.snapshot_id, array_agg(v.value) as snapshot_values
    from compared c
    join (
        select a.snapshot_id, a.property_code, 'availability' as kind, a.allotment::numeric as value
        from recon.snapshot_availability a
        union all
        select r.snapshot_id, r.property_code, 'reservations', round(r.total_gross / r.room_nights, 2)
        from recon.snapshot_reservations r
        where r.status = 'confirmed' and r.room_nights > 0
        union all
        select r.snapshot_id, r.property_code, 'rates', r.price
        from recon.snapshot_rates r
        where r.price is not null
    ) v on v.snapshot_id = c.snapshot_id and v.property_code = c.property_code
       and v.kind = case when c.stream in ('availability', 'reservations') then c.stream else 'rates' end
    group by c.snapshot_id
),
measured as (
    select p.*,
           case when p.reference_snapshot_id is not null then
               feeds.population_stability(reference.snapshot_values, latest.snapshot_values)
           end as psi
    from pairs p
    left join snapshot_values reference on reference.snapshot_id = p.reference_snapshot_id
    left join snapshot_values latest on latest.snapshot_id = p.snapshot_id
),
breaches as (
    select m.source, m.stream, m.property_code, count(distinct (m.run_id, m.snapshot_id)) as breaches
    from recon.drift_metrics m, settings
    where m.kind = 'drift' and m.breached and not m.after_repair
      and m.compared_at > now() - make_interval(days => settings.breach_days::integer)
    group by m.source, m.stream, m.property_code
),
-- Freshness: the latest batch of a finished pull of the stream (a cursor
-- feed's batches are the source's, property '').
loads as (
    select b.source, b.stream, b.property_code, max(b.landed_at) as last_loaded_at
    from ops.batches b
    join ops.runs r using (run_id)
    where r.status in ('succeeded', 'dead_letters')
    group by b.source, b.stream, b.property_code
)
select m.source, m.stream, m.property_code, m.snapshot_id as latest_snapshot_id, m.taken_at as latest_taken_at,
       m.reference_snapshot_id, m.reference_pinned, m.reference_taken_at, m.psi,
       case when m.psi is null then 'no reference' when m.psi >= st.psi_retrain then 'retrain'
            when m.psi >= st.psi_watch then 'watch' else 'stable' end as psi_status,
       coalesce(b.breaches, 0) as breaches_7d,
       coalesce(lp.last_loaded_at, ls.last_loaded_at) as last_loaded_at,
       coalesce(lp.last_loaded_at, ls.last_loaded_at) > now() - make_interval(hours => st.freshness_hours::integer)
           as data_fresh,
       coalesce(m.psi >= st.psi_retrain, false) or coalesce(b.breaches, 0) > 0 as should_retrain,
       array_remove(array[
           case when m.psi >= st.psi_retrain then
               format('psi %s >= %s against snapshot %s', round(m.psi, 4), st.psi_retrain, m.reference_snapshot_id) end,
           case when coalesce(b.breaches, 0) > 0 then
               format('%s drift breaches in the last %s days', b.breaches, st.breach_days) end
       ], null) as reasons
from measured m
cross join settings st
left join breaches b using (source, stream, property_code)
left join loads lp on lp.source = m.source and lp.stream = m.stream and lp.property_code = m.property_code
left join loads ls on ls.source = m.source and ls.stream = m.stream and ls.property_code = '';

comment on view feeds.retraining_signals is
    'Per source, stream and property: should the models be retrained? should_retrain is true when the population stability index of the latest snapshot against its reference (the newest pinned snapshot before it, from reconcile --pin-reference, else the previous one) reaches psi_retrain (feeds.settings, default 0.25; 0.1 watch), or when drift breached in the last breach_window_days (default 7); reasons says which. Values: rates and cursor feeds the price per cell, availability the allotment, reservations the booking total per room night. data_fresh says whether the stream loaded within freshness_hours.';
comment on column feeds.retraining_signals.source is 'The configured source.';
comment on column feeds.retraining_signals.stream is 'reservations, availability, rates or inventory.';
comment on column feeds.retraining_signals.property_code is 'The property.';
comment on column feeds.retraining_signals.latest_snapshot_id is 'The latest snapshot of the scope (recon.snapshots).';
comment on column feeds.retraining_signals.latest_taken_at is 'The OTA time it shows.';
comment on column feeds.retraining_signals.reference_snapshot_id is 'The snapshot compared against; NULL when there is only one.';
comment on column feeds.retraining_signals.reference_pinned is 'True when the reference was pinned (reconcile --pin-reference).';
comment on column feeds.retraining_signals.reference_taken_at is 'The OTA time the reference shows.';
comment on column feeds.retraining_signals.psi is 'feeds.population_stability(reference values, latest values).';
comment on column feeds.retraining_signals.psi_status is 'stable, watch (>= psi_watch), retrain (>= psi_retrain) or no reference.';
comment on column feeds.retraining_signals.breaches_7d is 'Comparisons of the scope that breached a drift threshold within breach_window_days (default 7).';
comment on column feeds.retraining_signals.last_loaded_at is 'When a finished pull of the stream last landed a batch.';
comment on column feeds.retraining_signals.data_fresh is 'last_loaded_at within freshness_hours (default 36).';
comment on column feeds.retraining_signals.should_retrain is 'psi >= psi_retrain, or a breach within the window.';
comment on column feeds.retraining_signals.reasons is 'Why should_retrain is on, one phrase per reason; empty when it is off.';

grant execute on function feeds.population_stability(numeric[], numeric[]) to ota_analyst, ota_ingest;
grant execute on function feeds.snapshot_values(bigint, text) to ota_analyst, ota_ingest;
grant select on feeds.retraining_signals to ota_analyst, ota_ingest;
