-- Rooms the batch's messages named that the hotel's seeds lack are registered and
-- flagged auto_registered, as codes from any source are (transforms/20_register_codes.sql).
-- They stay out of the expansion's "every room" and "every rate plan" until a seed names them.
-- Inserted in key order, as the transforms register codes: two sessions registering the
-- same rooms at once wait for one another in one direction, never in a deadlock.
insert into dims.rooms (property_code, room_code, name, auto_registered)
select distinct o.property_code, o.room_code, o.room_code, true
from ari_batch_observations o
where o.room_code <> ''
order by o.property_code, o.room_code
on conflict (property_code, room_code) do nothing;
