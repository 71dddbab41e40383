-- Repair of a breached rates or cursor-feed snapshot: the snapshot's values of
-- every missing or mismatched key land in staging.rate_observations as
-- observations with origin 'reconcile', observed at the snapshot's time, in the
-- batch ota-ingest names (recon.batch_id; recorded in ops.batches in the same
-- transaction, so a rerun lands nothing twice). The transform then promotes
-- them like any observation. A key the OTA no longer shows (extra) cannot be
-- observed away and is left for a person to look at.

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
  and exists (select 1 from recon_results r where r.metric = 'mismatched_share' and r.value > r.threshold);
