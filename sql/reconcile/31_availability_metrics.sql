-- Drift figures by field (the key counts are 45_key_metrics.sql's) and movement
-- of an availability snapshot. "restrictions"
-- counts keys whose max stay or closed to arrival/departure differ.

insert into recon_results (metric, kind, value)
select m.metric, 'drift', m.value
from recon_scope c
cross join lateral (
    select count(*) filter (where d.kind = 'mismatch' and d.allotment <> d.fact_allotment) as allotment,
           count(*) filter (where d.kind = 'mismatch' and d.stop_sell <> d.fact_stop_sell) as stop_sell,
           count(*) filter (where d.kind = 'mismatch' and d.min_stay <> d.fact_min_stay) as min_stay,
           count(*) filter (where d.kind = 'mismatch'
                            and (d.max_stay, d.closed_to_arrival, d.closed_to_departure)
                                <> (d.fact_max_stay, d.fact_closed_to_arrival, d.fact_closed_to_departure)) as restrictions
    from recon_availability_diffs d
) x
cross join lateral (values
    ('mismatch.allotment', x.allotment::numeric),
    ('mismatch.stop_sell', x.stop_sell::numeric),
    ('mismatch.min_stay', x.min_stay::numeric),
    ('mismatch.restrictions', x.restrictions::numeric)
) as m(metric, value)
where c.stream = 'availability';

-- Snapshot ids by uncorrelated subqueries, as in 22_rates_movement.sql (Citus).
insert into recon_results (metric, kind, value)
select 'movement_share', 'movement',
       case when c.previous_snapshot_id is not null then m.share end
from recon_scope c
cross join (
    select round(count(*) filter (where s.row_hash is distinct from p.row_hash)::numeric / greatest(count(*), 1), 6)
           as share
    from recon.snapshot_availability s
    -- Keys both reads showed, as in 22_rates_movement.sql.
    join recon.snapshot_availability p
      on (p.property_code, p.room_code, p.stay_date) = (s.property_code, s.room_code, s.stay_date)
    where s.snapshot_id = (select snapshot_id from recon_scope)
      and p.snapshot_id = (select previous_snapshot_id from recon_scope)
) m
where c.stream = 'availability';
