-- Availability cells (room x night): every key where the snapshot and the
-- facts in force at the snapshot's time disagree, in one pass over both, the
-- same way as 20_rates_diff.sql.

create temp table recon_availability_diffs on commit drop as
select coalesce(s.property_code, f.property_code) as property_code, coalesce(s.room_code, f.room_code) as room_code,
       coalesce(s.stay_date, f.stay_date) as stay_date,
       case when f.row_hash is null then 'missing' when s.row_hash is null then 'extra' else 'mismatch' end as kind,
       s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival, s.closed_to_departure,
       f.allotment as fact_allotment, f.stop_sell as fact_stop_sell, f.min_stay as fact_min_stay,
       f.max_stay as fact_max_stay, f.closed_to_arrival as fact_closed_to_arrival,
       f.closed_to_departure as fact_closed_to_departure
from (select a.* from recon.snapshot_availability a join recon_scope c on a.snapshot_id = c.snapshot_id
      where c.stream = 'availability') s
full join (
    select f.property_code, f.room_code, f.stay_date, f.row_hash, f.allotment, f.stop_sell, f.min_stay, f.max_stay,
           f.closed_to_arrival, f.closed_to_departure
    from facts.availability f
    join recon_scope c on c.stream = 'availability' and f.property_code = c.property_code and f.source = c.source
    where f.valid_from <= c.taken_at and (f.valid_to is null or f.valid_to > c.taken_at)
      and (c.stay_from is null or f.stay_date >= c.stay_from) and (c.stay_to is null or f.stay_date <= c.stay_to)
) f
  on (f.property_code, f.room_code, f.stay_date) = (s.property_code, s.room_code, s.stay_date)
where s.row_hash is distinct from f.row_hash;

comment on table recon_availability_diffs is
    'Availability keys where snapshot and facts disagree (missing, extra, mismatch), with both sides'' fields.';
