-- Rate plans the batch's messages named that the hotel's seeds lack, with the room the
-- first message to name them with a room gave (a rate plan named without a room is
-- registered once a message gives its room).
insert into dims.rate_plans (property_code, rate_id, room_code, name, auto_registered)
select distinct on (o.rate_id) o.property_code, o.rate_id, o.room_code, o.rate_id, true
from ari_batch_observations o
where o.rate_id <> '' and o.room_code <> ''
order by o.rate_id, o.arrival, o.room_code
on conflict (property_code, rate_id) do nothing;
