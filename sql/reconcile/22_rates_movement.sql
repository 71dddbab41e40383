-- Movement of a rates or cursor-feed snapshot: the share of keys whose value
-- changed since the previous snapshot of the same scope, among the keys both
-- reads showed. A key only one read showed is not movement: the other read
-- may have dead-lettered it (a feed that malforms 5% of its entries would
-- show 10% movement with nothing moving). Ordinary change at the OTA, not
-- drift; NULL without a previous snapshot.

-- The snapshot ids come from recon_scope by uncorrelated subqueries (Citus
-- runs those first, then the join on the snapshot's shard; it cannot run a
-- subquery on a distributed table that refers to a temporary table's row).
insert into recon_results (metric, kind, value)
select 'movement_share', 'movement',
       case when c.previous_snapshot_id is not null then m.share end
from recon_scope c
cross join (
    select round(count(*) filter (where s.row_hash is distinct from p.row_hash)::numeric / greatest(count(*), 1), 6)
           as share
    from recon.snapshot_rates s
    join recon.snapshot_rates p
      on (p.property_code, p.rate_id, p.room_code, p.stay_date, p.adults, p.children, p.channel)
       = (s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel)
    where s.snapshot_id = (select snapshot_id from recon_scope)
      and p.snapshot_id = (select previous_snapshot_id from recon_scope)
) m
where c.stream in ('rates', 'inventory');
