-- The keys behind this comparison, kept in recon.comparison_keys for
-- `ota-ingest reconcile --show-keys` (the diff tables are dropped at commit):
-- each differing key with the OTA's and the facts' fields. At most 10,000 per
-- kind: a first comparison against empty facts lists a sample, and
-- recon.drift_metrics keeps the full counts. Rerunning the comparison replaces
-- its keys.

delete from recon.comparison_keys k
using recon_scope c
where k.property_code = c.property_code and k.snapshot_id = c.snapshot_id and k.after_repair = c.after_repair;

insert into recon.comparison_keys (property_code, snapshot_id, after_repair, kind, key, ota_value, fact_value)
select c.property_code, c.snapshot_id, c.after_repair, d.kind, d.key, d.ota_value, d.fact_value
from recon_scope c
cross join lateral (
    select k.*, row_number() over (partition by k.kind order by k.key) as nth
    from (
        select d.kind,
               jsonb_build_object('rate_id', d.rate_id, 'room_code', d.room_code, 'stay_date', d.stay_date,
                                  'adults', d.adults, 'children', d.children, 'channel', d.channel) as key,
               case when d.kind in ('missing', 'mismatch') then
                   jsonb_build_object('price', d.price, 'currency', d.currency, 'closeout', d.closeout,
                                      'min_stay', d.min_stay, 'available', d.available) end as ota_value,
               case when d.kind <> 'missing' then
                   jsonb_build_object('price', d.fact_price, 'currency', d.fact_currency, 'closeout', d.fact_closeout,
                                      'min_stay', d.fact_min_stay, 'available', d.fact_available) end as fact_value
        from recon_rate_diffs d
        union all
        select d.kind, jsonb_build_object('room_code', d.room_code, 'stay_date', d.stay_date),
               case when d.kind in ('missing', 'mismatch') then
                   jsonb_build_object('allotment', d.allotment, 'stop_sell', d.stop_sell, 'min_stay', d.min_stay,
                                      'max_stay', d.max_stay, 'closed_to_arrival', d.closed_to_arrival,
                                      'closed_to_departure', d.closed_to_departure) end,
               case when d.kind <> 'missing' then
                   jsonb_build_object('allotment', d.fact_allotment, 'stop_sell', d.fact_stop_sell,
                                      'min_stay', d.fact_min_stay, 'max_stay', d.fact_max_stay,
                                      'closed_to_arrival', d.fact_closed_to_arrival,
                                      'closed_to_departure', d.fact_closed_to_departure) end
        from recon_availability_diffs d
        union all
        select d.kind, jsonb_build_object('confirmation_id', d.confirmation_id),
               case when d.kind in ('missing', 'mismatch') then
                   jsonb_build_object('status', d.status, 'check_in', d.check_in, 'check_out', d.check_out,
                                      'room_nights', d.room_nights, 'total_gross', d.total_gross,
                                      'currency', d.currency, 'content_hash', d.content_hash) end,
               case when d.kind <> 'missing' then
                   jsonb_build_object('status', d.fact_status, 'check_in', d.fact_check_in,
                                      'check_out', d.fact_check_out, 'room_nights', d.fact_room_nights,
                                      'total_gross', d.fact_total_gross, 'currency', d.fact_currency,
                                      'content_hash', d.fact_content_hash) end
        from recon_reservation_diffs d
    ) k
) d
where d.nth <= 10000;
