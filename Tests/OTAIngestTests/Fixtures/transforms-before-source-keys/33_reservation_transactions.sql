-- Transaction notifications (payments, charges): their booking body is a
-- version like any other; this keeps the fact that a transaction happened.

insert into facts.reservation_transactions (
    staging_event_id, property_code, confirmation_id, ota_time, content_hash, currency, total_gross, loaded_at)
select v.staging_event_id, v.property_code, v.confirmation_id, v.valid_from, v.content_hash, v.currency,
       v.total_gross, v.loaded_at
from reservation_versions v
where v.event_type = 'transaction'
on conflict (property_code, staging_event_id) do nothing;
