-- The room nights of new versions, and the validity of the nights of versions
-- whose valid_to moved (the nights of a dropped version went with it).

insert into facts.reservation_nights (
    property_code, confirmation_id, source, valid_from, content_hash, room_no, business_date, valid_to, status, room_code,
    rate_id, channel_code, adults, children, currency, revenue_gross, revenue_net, reporting_currency,
    revenue_gross_rc, revenue_net_rc, booked_date, version_date, loaded_at)
select n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash, n.room_no, n.business_date, n.valid_to,
       n.status, n.room_code, n.rate_id, n.channel_code, n.adults, n.children, n.currency, n.revenue_gross,
       n.revenue_net, n.reporting_currency, n.revenue_gross_rc, n.revenue_net_rc, n.booked_date, n.version_date,
       n.loaded_at
from reservation_version_nights n
on conflict (property_code, confirmation_id, source, valid_from, content_hash, room_no, business_date) do nothing;

update facts.reservation_nights x
set valid_to = v.valid_to
from reservation_versions v
where (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
    = (x.property_code, x.confirmation_id, x.source, x.valid_from, x.content_hash)
  and x.valid_to is distinct from v.valid_to;
