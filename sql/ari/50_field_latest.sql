-- The values the batch's messages set become the last ones of their cells and fields
-- in staging.ari_field_latest, unless a message at a later time (or at the same time,
-- arrived later) set the field already: 40_states.sql reads them, for the next
-- messages of the cell, instead of the cell's whole history. Run after 40_states.sql,
-- which must see the values from before the batch, and under its lock: no other
-- expansion of the hotel writes these rows until the commit.
--
-- Of several messages of the batch that set the same field of a cell, only the latest
-- (by time, then arrival) counts. A row there already is updated, the others inserted
-- (two plain statements in one: `on conflict` costs a flush a third more).
with latest as (
    select distinct on (o.room_code, o.rate_id, o.stay_date, o.guests, o.field)
           o.source, o.property_code, o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value,
           o.bool_value, o.min_stay_kind, o.price, o.currency, o.tax_included, o.message_key, o.arrival, o.at
    from ari_batch_observations o
    order by o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.at desc, o.arrival desc
),
updated as (
    update staging.ari_field_latest as l
    set int_value = n.int_value, bool_value = n.bool_value, min_stay_kind = n.min_stay_kind, price = n.price,
        currency = n.currency, tax_included = n.tax_included, message_key = n.message_key, arrival = n.arrival,
        at = n.at
    from latest n
    where (l.property_code, l.source, l.room_code, l.rate_id, l.stay_date, l.guests, l.field)
        = (n.property_code, n.source, n.room_code, n.rate_id, n.stay_date, n.guests, n.field)
      and (l.at, l.arrival) < (n.at, n.arrival)
)
insert into staging.ari_field_latest (
    source, property_code, room_code, rate_id, stay_date, guests, field, int_value, bool_value, min_stay_kind,
    price, currency, tax_included, message_key, arrival, at)
select n.source, n.property_code, n.room_code, n.rate_id, n.stay_date, n.guests, n.field, n.int_value, n.bool_value,
       n.min_stay_kind, n.price, n.currency, n.tax_included, n.message_key, n.arrival, n.at
from latest n
where not exists (
    select 1 from staging.ari_field_latest l
    where (l.property_code, l.source, l.room_code, l.rate_id, l.stay_date, l.guests, l.field)
        = (n.property_code, n.source, n.room_code, n.rate_id, n.stay_date, n.guests, n.field));
