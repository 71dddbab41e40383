-- Expands the batch's stored ARI messages (ari_batch, 00_batch.sql; all of one hotel
-- and source) into one row per message, cell and field it sets
-- (staging.ari_observations). Then 20-30 register the codes and mark the messages
-- expanded. The key of an observation is (message, cell, field), so running this
-- twice adds nothing.
--
-- The dialect's rules: nights run from Start to End inclusive, on the weekdays
-- flagged (no flags: every day); a message without a rate plan applies to every
-- rate plan the seeds give its room (and, for availability and restrictions, to
-- the room itself: rate plan ''), one without a room to its rate plan's room,
-- one without either to every rate plan of the hotel; a code the seeds do not
-- have is a cell of its own (its missing half ''); a price applies per number of
-- guests, and an extra-adult amount prices every occupancy above the largest one
-- given up to the room's max_adults.
-- The estimates below are far too large for a delta (a JSON array and a range of
-- nights are guessed at 100 and 1,000 rows), and PostgreSQL compiled the plan with
-- JIT: 150 ms of a few-millisecond statement. The expansion's statements are small
-- or hash joins that gain nothing from it; off for the whole transaction (10-50).
set local jit = off;

-- The batch's observations, for the files after this one: every row of each message,
-- inserted now or there already (a message expanded again), as the insert below
-- returns them. Built from the insert rather than read back from
-- staging.ari_observations: right after a flush, before the table is analyzed again,
-- PostgreSQL read back each message's rows through the cell index, every observation
-- of the hotel per message (363 deltas after a flush of 94,500 cells: 1.8 s, 8.3
-- million rows filtered out).
create temp table ari_batch_observations (like staging.ari_observations) on commit drop;
alter table ari_batch_observations add column at timestamptz;

with message as (
    select m.source, m.property_code, m.message_key, m.arrival, m.ota_time, m.data
    from ari_batch b
    join staging.ari_messages m on (m.property_code, m.source, m.message_key) = (b.property_code, b.source, b.message_key)
),
part as (
    select message.source, message.property_code, message.message_key, message.arrival, message.ota_time,
           p.position, p.part, p.part ->> 'room' as room, p.part ->> 'rate' as rate
    from message
    cross join lateral jsonb_array_elements(message.data -> 'messages') with ordinality as p(part, position)
),
seeded_rate as (
    select rp.rate_id, rp.room_code, r.max_adults
    from dims.rate_plans rp
    join dims.rooms r on r.property_code = rp.property_code and r.room_code = rp.room_code
    where rp.property_code in (select property_code from ari_batch) and not rp.auto_registered and not r.auto_registered
),
seeded_room as (
    select room_code, max_adults
    from dims.rooms
    where property_code in (select property_code from ari_batch) and not auto_registered
),
target as (
    -- A room and a rate plan: that cell.
    select part.*, part.room as room_code, part.rate as rate_id,
           (select s.max_adults from seeded_room s where s.room_code = part.room) as capacity
    from part
    where part.room is not null and part.rate is not null
    union all
    -- A room only: every rate plan the seeds give it ...
    select part.*, s.room_code, s.rate_id, s.max_adults
    from part
    join seeded_rate s on s.room_code = part.room
    where part.rate is null
    union all
    -- ... and the room itself (rate plan ''), for availability and restrictions: the
    -- room x night's own state (facts.availability, 40_states.sql); or, for prices, the
    -- room alone when the seeds give it no rate plan.
    select part.*, part.room, '', null
    from part
    where part.rate is null and part.room is not null
      and (part ? 'fields' or not exists (select 1 from seeded_rate s where s.room_code = part.room))
    union all
    -- A rate plan only: its room ...
    select part.*, s.room_code, s.rate_id, s.max_adults
    from part
    join seeded_rate s on s.rate_id = part.rate
    where part.room is null
    union all
    -- ... or the rate plan alone when the seeds do not have it.
    select part.*, '', part.rate, null
    from part
    where part.room is null and part.rate is not null
      and not exists (select 1 from seeded_rate s where s.rate_id = part.rate)
    union all
    -- Neither: every rate plan of every room of the hotel.
    select part.*, s.room_code, s.rate_id, s.max_adults
    from part
    cross join seeded_rate s
    where part.room is null and part.rate is null
),
night as (
    select target.*, d::date as stay_date
    from target
    cross join lateral generate_series(
        (target.part ->> 'start')::date, (target.part ->> 'end')::date, interval '1 day') as d
    where target.part -> 'days' is null
       or (target.part -> 'days' ->> (extract(isodow from d)::integer - 1))::boolean
),
setting as (
    -- Availability and restrictions: each field the message sets.
    select night.source, night.property_code, night.message_key, night.arrival, night.ota_time, night.position,
           night.room_code, night.rate_id, night.stay_date, 0 as guests, f ->> 'field' as field,
           (f ->> 'int')::integer as int_value, (f ->> 'bool')::boolean as bool_value, f ->> 'kind' as min_stay_kind,
           null::numeric as price, null::text as currency, null::boolean as tax_included
    from night
    cross join lateral jsonb_array_elements(night.part -> 'fields') as f
    where night.part ? 'fields'
    union all
    -- Prices: each number of guests given, then the extra adults.
    select night.source, night.property_code, night.message_key, night.arrival, night.ota_time, night.position,
           night.room_code, night.rate_id, night.stay_date, g.guests, 'price', null, null, null,
           g.price, night.part ->> 'currency', (night.part ->> 'tax_included')::boolean
    from night
    cross join lateral (
        select (a ->> 'guests')::integer as guests, (a ->> 'amount')::numeric as price
        from jsonb_array_elements(night.part -> 'prices') as a
        union all
        select extra.guests, top.price + (extra.guests - top.guests) * (night.part ->> 'extra_adult')::numeric
        from (
            select (a ->> 'guests')::integer as guests, (a ->> 'amount')::numeric as price
            from jsonb_array_elements(night.part -> 'prices') as a
            order by 1 desc
            limit 1
        ) as top
        cross join lateral generate_series(top.guests + 1, night.capacity) as extra(guests)
        where night.part ? 'extra_adult'
    ) as g
    where night.part ? 'prices'
),
inserted as (
insert into staging.ari_observations (
    source, property_code, message_key, room_code, rate_id, stay_date, guests, field,
    int_value, bool_value, min_stay_kind, price, currency, tax_included, arrival, ota_time)
-- Two parts of one message that set the same field of the same cell: the later part wins.
select distinct on (property_code, source, message_key, room_code, rate_id, stay_date, guests, field)
       source, property_code, message_key, room_code, rate_id, stay_date, guests, field,
       int_value, bool_value, min_stay_kind, price, currency, tax_included, arrival, ota_time
from setting
order by property_code, source, message_key, room_code, rate_id, stay_date, guests, field, position desc
-- A message expanded before (its expanded_at cleared by hand, perhaps after its seeds
-- changed) changes none of the rows it had: they are "updated" to what they hold, so
-- RETURNING hands them on beside any new ones and the files after this one see the
-- message whole. Checked per row: a check per message could not rely on the planner
-- taking the primary key (right after a flush, before the table is analyzed again, it
-- took the cell index, reading the hotel's every observation per message).
on conflict (property_code, source, message_key, room_code, rate_id, stay_date, guests, field)
do update set field = excluded.field
returning *
)
insert into ari_batch_observations
select i.*, b.at
from inserted i
join ari_batch b on b.message_key = i.message_key;
-- A table the planner knows the size of: staging's statistics cannot tell a delta of
-- a few rows from a flush of a hundred thousand.
analyze ari_batch_observations (stay_date);
