-- Repair of a breached availability snapshot, as 60_repair_rates.sql does for
-- rates: the OTA's values of missing and mismatched keys, and a tombstone for
-- each key two consecutive reads no longer showed.

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
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.breached);

-- The extra keys the previous snapshot showed after all (see 60_repair_rates.sql).
create temp table recon_availability_extra_seen on commit drop as
select d.property_code, d.room_code, d.stay_date
from recon_availability_diffs d
join recon.snapshot_availability a
  on (a.property_code, a.room_code, a.stay_date) = (d.property_code, d.room_code, d.stay_date)
where d.kind = 'extra' and a.snapshot_id = (select c.previous_snapshot_id from recon_scope c);

insert into staging.availability_observations (
    source, property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay, closed_to_arrival,
    closed_to_departure, observed_at, load_date, batch_id, run_id, raw, origin, withdrawn)
select c.source, d.property_code, d.room_code, d.stay_date, d.fact_allotment, d.fact_stop_sell, d.fact_min_stay,
       d.fact_max_stay, d.fact_closed_to_arrival, d.fact_closed_to_departure, c.taken_at,
       (now() at time zone 'UTC')::date, current_setting('recon.batch_id'), ops.current_run_id(),
       json_build_object('reconcile_snapshot', c.snapshot_id, 'withdrawn', true,
                         'absent_since_snapshot', c.previous_snapshot_id)::text,
       'reconcile', true
from recon_availability_diffs d
cross join recon_scope c
join recon_previous p on p.snapshot_id = c.previous_snapshot_id and p.property_code = c.property_code
where c.repair and c.stream = 'availability' and d.kind = 'extra'
  and d.stay_date between coalesce(p.stay_from, '-infinity') and coalesce(p.stay_to, 'infinity')
  and not exists (
      select 1 from recon_availability_extra_seen a
      where (a.property_code, a.room_code, a.stay_date) = (d.property_code, d.room_code, d.stay_date))
  and not exists (
      select 1 from recon_previous_unreadable u
      where u.property_code = p.property_code and u.snapshot_id = p.snapshot_id
        and (u.room_code is null or u.room_code = d.room_code)
        and d.stay_date between coalesce(u.stay_from, '-infinity') and coalesce(u.stay_to, 'infinity'))
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.breached);
