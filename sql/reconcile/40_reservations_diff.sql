-- Bookings: every booking where the search snapshot and the facts disagree.
-- In scope on the facts' side: versions in force at the snapshot's time whose
-- last modification (valid_from) is inside the search window or that check out
-- from stay_from on, as the search asked; plus any booking the snapshot holds,
-- wherever its facts stand, so a stale version is a mismatch and never a
-- "missing" booking. Bookings outside the scope are never reported as gone.

create temp table recon_reservation_diffs on commit drop as
select coalesce(s.property_code, f.property_code) as property_code,
       coalesce(s.confirmation_id, f.confirmation_id) as confirmation_id,
       case when f.content_hash is null then 'missing' when s.content_hash is null then 'extra' else 'mismatch' end
           as kind,
       s.status, s.check_in, s.check_out, s.room_nights, s.total_gross, s.currency, s.content_hash,
       f.status as fact_status, f.check_in as fact_check_in, f.check_out as fact_check_out,
       f.room_nights as fact_room_nights, f.total_gross as fact_total_gross, f.currency as fact_currency,
       f.content_hash as fact_content_hash
-- The scope's values by uncorrelated subqueries (Citus runs them first, then
-- the rest on the property's shards), and every correlation on the property.
from (select r.* from recon.snapshot_reservations r
      where r.snapshot_id = (select c.snapshot_id from recon_scope c where c.stream = 'reservations')
        and r.property_code = (select c.property_code from recon_scope c)) s
full join (
    select f.property_code, f.confirmation_id, f.status, f.check_in, f.check_out, f.room_nights, f.total_gross,
           f.currency, f.content_hash
    from facts.reservations f
    where f.property_code = (select c.property_code from recon_scope c where c.stream = 'reservations')
      and f.source = (select c.source from recon_scope c)
      and f.valid_from <= (select c.taken_at from recon_scope c)
      and (f.valid_to is null or f.valid_to > (select c.taken_at from recon_scope c))
      and (f.valid_from >= (select c.modified_since from recon_scope c)
           or f.check_out >= (select c.stay_from from recon_scope c)
           or exists (select 1 from recon.snapshot_reservations x
                      where x.snapshot_id = (select c.snapshot_id from recon_scope c)
                        and x.property_code = f.property_code and x.confirmation_id = f.confirmation_id))
) f
  on (f.property_code, f.confirmation_id) = (s.property_code, s.confirmation_id)
where s.content_hash is distinct from f.content_hash;

comment on table recon_reservation_diffs is
    'Bookings where the search snapshot and the facts disagree (missing, extra, mismatch), with both sides'' compared fields.';
