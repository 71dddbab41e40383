-- Repair of a breached availability snapshot, as 60_repair_rates.sql does for rates.

insert into staging.availability_observations (
    source, property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay, closed_to_arrival,
    closed_to_departure, observed_at, load_date, batch_id, run_id, raw, origin)
select c.source, d.property_code, d.room_code, d.stay_date, d.allotment, d.stop_sell, d.min_stay, d.max_stay,
       d.closed_to_arrival, d.closed_to_departure, c.taken_at, (now() at time zone 'UTC')::date,
       current_setting('recon.batch_id'), ops.current_run_id(),
       json_build_object('reconcile_snapshot', c.snapshot_id, 'allot', d.allotment, 'stopsell', d.stop_sell,
                         'minstay', d.min_stay, 'maxstay', d.max_stay)::text,
       'reconcile'
from recon_availability_diffs d
cross join recon_scope c
where c.repair and c.stream = 'availability' and d.kind in ('missing', 'mismatch')
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.value > r.threshold);
