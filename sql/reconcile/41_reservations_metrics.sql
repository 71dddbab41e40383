-- Drift figures by field (the key counts are 45_key_metrics.sql's) and movement
-- of a reservations snapshot. mismatch.content
-- counts bookings whose body differs in fields not compared one by one (the
-- warehouse lacks that version even when status, dates and total agree).

insert into recon_results (metric, kind, value)
select m.metric, 'drift', m.value
from recon_scope c
cross join lateral (
    select count(*) filter (where d.kind = 'mismatch' and d.status is distinct from d.fact_status) as status,
           count(*) filter (where d.kind = 'mismatch'
                            and (d.check_in, d.check_out) is distinct from (d.fact_check_in, d.fact_check_out)) as dates,
           count(*) filter (where d.kind = 'mismatch' and d.room_nights is distinct from d.fact_room_nights) as room_nights,
           count(*) filter (where d.kind = 'mismatch' and d.total_gross is distinct from d.fact_total_gross) as total,
           count(*) filter (where d.kind = 'mismatch' and d.currency is distinct from d.fact_currency) as currency,
           count(*) filter (where d.kind = 'mismatch') as content,
           avg(abs(d.total_gross - d.fact_total_gross))
               filter (where d.kind = 'mismatch' and d.total_gross <> d.fact_total_gross) as diff_mean,
           max(abs(d.total_gross - d.fact_total_gross))
               filter (where d.kind = 'mismatch' and d.total_gross <> d.fact_total_gross) as diff_max
    from recon_reservation_diffs d
) x
cross join lateral (values
    ('mismatch.status', x.status::numeric),
    ('mismatch.dates', x.dates::numeric),
    ('mismatch.room_nights', x.room_nights::numeric),
    ('mismatch.total', x.total::numeric),
    ('mismatch.currency', x.currency::numeric),
    ('mismatch.content', x.content::numeric),
    ('price_diff_mean', round(x.diff_mean, 4)),
    ('price_diff_max', x.diff_max)
) as m(metric, value)
where c.stream = 'reservations';

-- Snapshot ids by uncorrelated subqueries, as in 22_rates_movement.sql (Citus).
insert into recon_results (metric, kind, value)
select 'movement_share', 'movement',
       case when c.previous_snapshot_id is not null then m.share end
from recon_scope c
cross join (
    select round(count(*) filter (where s.content_hash is distinct from p.content_hash)::numeric
                 / greatest(count(*), 1), 6) as share
    from (select * from recon.snapshot_reservations where snapshot_id = (select snapshot_id from recon_scope)) s
    full join (select * from recon.snapshot_reservations
               where snapshot_id = (select previous_snapshot_id from recon_scope)) p
      on (p.property_code, p.confirmation_id) = (s.property_code, s.confirmation_id)
) m
where c.stream = 'reservations';
