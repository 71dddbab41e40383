-- Movement of a rates or cursor-feed snapshot: the share of keys whose value
-- changed since the previous snapshot of the same scope, among the keys both
-- reads showed. A key only one read showed is not movement: the other read
-- may have dead-lettered it (a feed that malforms 5% of its entries would
-- show 10% movement with nothing moving). Ordinary change at the OTA, not
-- drift; NULL without a previous snapshot.

insert into recon_results (metric, kind, value)
select 'movement_share', 'movement',
       case when c.previous_snapshot_id is not null then
           (select round(count(*) filter (where s.row_hash is distinct from p.row_hash)::numeric
                         / greatest(count(*), 1), 6)
            from (select * from recon.snapshot_rates where snapshot_id = c.snapshot_id) s
            join (select * from recon.snapshot_rates where snapshot_id = c.previous_snapshot_id) p
              on (p.property_code, p.rate_id, p.room_code, p.stay_date, p.adults, p.children, p.channel)
               = (s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel))
       end
from recon_scope c
where c.stream in ('rates', 'inventory');
