-- Repair of a breached rates or cursor-feed snapshot: the snapshot's values of
-- every missing or mismatched key land in staging.rate_observations as
-- observations with origin 'reconcile', observed at the snapshot's time, in the
-- batch ota-ingest names (recon.batch_id; recorded in ops.batches in the same
-- transaction, so a rerun lands nothing twice). The transform then promotes
-- them like any observation.
--
-- A key the OTA stopped serving (extra) is closed by a tombstone: an
-- observation with withdrawn = true and the facts' last values, which the
-- transform turns into a withdrawn version. Only when the previous snapshot of
-- the scope covered the key's night and did not show it either, and none of
-- its dead letters could have held it: one read that missed a key proves
-- nothing. Keys only this read could not show are unreadable, never extra.

insert into staging.rate_observations (
    source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency,
    closeout, min_stay, available, observed_at, load_date, batch_id, run_id, raw, origin)
select c.source, c.stream, d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel,
       d.price, d.currency, d.closeout, d.min_stay, d.available, c.taken_at, (now() at time zone 'UTC')::date,
       current_setting('recon.batch_id'), ops.current_run_id(),
       json_build_object('reconcile_snapshot', c.snapshot_id, 'price', d.price, 'currency', d.currency,
                         'closeout', d.closeout, 'min_stay', d.min_stay, 'available', d.available)::text,
       'reconcile'
from recon_rate_diffs d
cross join recon_scope c
where c.repair and c.stream in ('rates', 'inventory') and d.kind in ('missing', 'mismatch')
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.breached);

-- The extra keys the previous snapshot showed after all (no tombstone for them):
-- a join with the previous snapshot's shard, as Citus plans it.
create temp table recon_rate_extra_seen on commit drop as
select d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel
from recon_rate_diffs d
join recon.snapshot_rates r
  on (r.property_code, r.rate_id, r.room_code, r.stay_date, r.adults, r.children, r.channel)
   = (d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel)
where d.kind = 'extra' and r.snapshot_id = (select c.previous_snapshot_id from recon_scope c);

insert into staging.rate_observations (
    source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency,
    closeout, min_stay, available, observed_at, load_date, batch_id, run_id, raw, origin, withdrawn)
select c.source, c.stream, d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel,
       d.fact_price, d.fact_currency, d.fact_closeout, d.fact_min_stay, d.fact_available, c.taken_at,
       (now() at time zone 'UTC')::date, current_setting('recon.batch_id'), ops.current_run_id(),
       json_build_object('reconcile_snapshot', c.snapshot_id, 'withdrawn', true,
                         'absent_since_snapshot', c.previous_snapshot_id)::text,
       'reconcile', true
from recon_rate_diffs d
cross join recon_scope c
join recon_previous p on p.snapshot_id = c.previous_snapshot_id and p.property_code = c.property_code
where c.repair and c.stream in ('rates', 'inventory') and d.kind = 'extra'
  and d.stay_date between coalesce(p.stay_from, '-infinity') and coalesce(p.stay_to, 'infinity')
  and not exists (
      select 1 from recon_rate_extra_seen r
      where (r.property_code, r.rate_id, r.room_code, r.stay_date, r.adults, r.children, r.channel)
          = (d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel))
  and not exists (
      select 1 from recon_previous_unreadable u
      where u.property_code = p.property_code and u.snapshot_id = p.snapshot_id
        and (u.room_code is null or u.room_code = d.room_code) and (u.rate_id is null or u.rate_id = d.rate_id)
        and d.stay_date between coalesce(u.stay_from, '-infinity') and coalesce(u.stay_to, 'infinity'))
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.breached);
