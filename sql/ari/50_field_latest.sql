-- The values the batch's messages set become the last ones of their cells and fields
-- in staging.ari_field_latest, unless a message at a later time (or at the same time,
-- arrived later) set the field already: 40_states.sql reads them, for the next
-- messages of the cell, instead of the cell's whole history. Run after 40_states.sql,
-- which must see the values from before the batch.
--
-- Of several messages of the batch that set the same field of a cell, only the latest
-- (by time, then arrival) is a candidate: one statement cannot update a row twice.
insert into staging.ari_field_latest as l (
    source, property_code, room_code, rate_id, stay_date, guests, field, int_value, bool_value, min_stay_kind,
    price, currency, tax_included, message_key, arrival, at)
select distinct on (o.room_code, o.rate_id, o.stay_date, o.guests, o.field)
       o.source, o.property_code, o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value, o.bool_value,
       o.min_stay_kind, o.price, o.currency, o.tax_included, o.message_key, o.arrival, o.at
from ari_batch_observations o
order by o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.at desc, o.arrival desc
on conflict (property_code, source, room_code, rate_id, stay_date, guests, field) do update
set int_value = excluded.int_value, bool_value = excluded.bool_value, min_stay_kind = excluded.min_stay_kind,
    price = excluded.price, currency = excluded.currency, tax_included = excluded.tax_included,
    message_key = excluded.message_key, arrival = excluded.arrival, at = excluded.at
where (l.at, l.arrival) < (excluded.at, excluded.arrival);
