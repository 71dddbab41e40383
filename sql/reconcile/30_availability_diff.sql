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
from (select a.* from recon.snapshot_availability a
      where a.snapshot_id = (select c.snapshot_id from recon_scope c where c.stream = 'availability')) s
full join (
    select f.property_code, f.room_code, f.stay_date, f.row_hash, f.allotment, f.stop_sell, f.min_stay, f.max_stay,
           f.closed_to_arrival, f.closed_to_departure
    from facts.availability f
    -- The scope's one row read as constants, as in 20_rates_diff.sql.
    where f.property_code = (select property_code from recon_scope) and f.source = (select source from recon_scope)
      and (select stream from recon_scope) = 'availability'
      and f.valid_from <= (select taken_at from recon_scope)
      and (f.valid_to is null or f.valid_to > (select taken_at from recon_scope))
      and not f.withdrawn
      and f.stay_date >= coalesce((select stay_from from recon_scope), '-infinity')
      and f.stay_date <= coalesce((select stay_to from recon_scope), 'infinity')
) f
  on (f.property_code, f.room_code, f.stay_date) = (s.property_code, s.room_code, s.stay_date)
where s.row_hash is distinct from f.row_hash;

-- Unreadable rather than extra inside a dead-lettered part of the read, as in 20_rates_diff.sql.
update recon_availability_diffs d
set kind = 'unreadable'
where d.kind = 'extra'
  and exists (select 1 from recon_unreadable u
              where (u.room_code is null or u.room_code = d.room_code)
                and d.stay_date between u.stay_from and u.stay_to);

comment on table recon_availability_diffs is
    'Availability keys where snapshot and facts disagree (missing, extra, mismatch, unreadable), with both sides'' fields.';
