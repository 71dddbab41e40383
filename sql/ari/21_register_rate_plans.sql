-- Rate plans a pushed message named that the hotel's seeds lack, with the room they
-- came with (a rate plan named without a room is registered once a message gives its room).
insert into dims.rate_plans (property_code, rate_id, room_code, name, auto_registered)
select distinct on (o.rate_id) o.property_code, o.rate_id, o.room_code, o.rate_id, true
from staging.ari_observations o
where o.property_code = current_setting('ota.ari_property')
  and o.source = current_setting('ota.ari_source')
  and o.message_key = current_setting('ota.ari_message')
  and o.rate_id <> '' and o.room_code <> ''
order by o.rate_id, o.room_code
on conflict (property_code, rate_id) do nothing;
