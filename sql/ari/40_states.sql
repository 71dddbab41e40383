-- The whole state of every cell the message touched, as of the message's time,
-- written to staging.rate_observations (stream 'ari') for the transforms to
-- promote into facts.rates like any observation. A message is a delta: each
-- field of a state is the value the last message at or before that time set
-- (the fields this message set among them), and the state says nothing of a
-- field no message has set yet (NULL; closeout false and min_stay 1, the
-- columns' "none").
--
-- Time and order: a message counts at its TimeStamp, or when it was stored if it
-- has none or its TimeStamp is later than that (a sender's clock ahead of ours
-- must not put a value in force before we had it); messages at the same time
-- apply in arrival order. A message whose time is before a later message of the
-- same cell ("late") writes the later states again too, each with the late
-- message's value where no message in between set the field; the transforms
-- keep the last written state of an instant and recompute the versions after
-- the late one (sql/transforms/50_rates.sql, late path). A message later than
-- everything set on a cell needs only the last value of each field before it
-- (staging.ari_field_latest), not the cell's history; a late one reads the history.
--
-- One row per cell, night and number of guests the cell has a price for:
-- facts.rates is priced by occupancy, and a restriction applies to every
-- occupancy of its rate. A cell with restrictions but no price yet has no row
-- (its restrictions are in staging.ari_latest, and they are carried into the
-- first priced state).
--
-- A room's own state (a message that named a room without a rate plan; its
-- observations have rate plan '') is written the same way, one row per room and
-- night, to staging.availability_observations (origin 'push') for the transforms
-- to promote into facts.availability. Its columns are NOT NULL, so a field no
-- message has set yet is the column's "none": stop_sell, closed_to_arrival and
-- closed_to_departure false, min_stay 1, max_stay 0; and a room-night without a
-- booking limit yet has no row, as a rate without a price has none.

-- Two expansions of the same hotel's messages write states one after the other,
-- so each sees the other's observations (the lock is held to the commit, and
-- every statement below reads after it is granted).
select pg_advisory_xact_lock(hashtextextended(
    'staging.ari_states|' || current_setting('ota.ari_property') || '|' || current_setting('ota.ari_source'), 0));

-- A flush's states are sorted in memory rather than on disk.
set local work_mem = '64MB';

select staging.ensure_load_partitions((clock_timestamp() at time zone 'UTC')::date);

-- The cells the message set a field of, and everything any message set on them, at
-- its message's time. Temporary tables, analyzed, so the planner knows their sizes: a
-- delta touches a few cells (an index lookup each), a flush thousands (hash joins).
create temp table ari_state_cells on commit drop as
select distinct o.room_code, o.rate_id, o.stay_date
from staging.ari_observations o
where o.property_code = current_setting('ota.ari_property')
  and o.source = current_setting('ota.ari_source')
  and o.message_key = current_setting('ota.ari_message')
  -- A message that named only a rate plan the hotel does not have leaves the room empty:
  -- such a cell stays in staging.ari_latest, out of the facts. One that named a room
  -- without a rate plan set the room's own state (rate plan ''): its availability and
  -- restrictions, never a price (facts.availability has none; a price for a room the
  -- seeds give no rate plan stays in staging.ari_latest).
  and o.room_code <> '' and (o.rate_id <> '' or o.field <> 'price');
analyze ari_state_cells;

-- The touched cells this message is not later than everything set on (a late message,
-- or one expanded again): their states are built from every observation of the cell.
-- Any other cell ("in order", the usual case) needs only the last value of each field
-- before this message, which staging.ari_field_latest holds (50_field_latest.sql), so its
-- state costs the same however many messages the cell has had.
create temp table ari_state_late_cells on commit drop as
with message as (
    select least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) as at, m.arrival
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key = current_setting('ota.ari_message')
)
select distinct t.room_code, t.rate_id, t.stay_date
from ari_state_cells t
join staging.ari_field_latest l
  on l.property_code = current_setting('ota.ari_property')
 and l.source = current_setting('ota.ari_source')
 and (l.room_code, l.rate_id, l.stay_date) = (t.room_code, t.rate_id, t.stay_date)
cross join message
where (l.at, l.arrival) >= (message.at, message.arrival);
analyze ari_state_late_cells;

create temp table ari_state_history on commit drop as
with message as (
    select least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) as at, m.arrival
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key = current_setting('ota.ari_message')
),
seen_here as materialized (
    -- Late cells: every value ever set on them.
    select o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value, o.bool_value, o.min_stay_kind,
           o.price, o.currency, o.tax_included, o.arrival, o.message_key, null::timestamptz as at
    from ari_state_late_cells t
    join staging.ari_observations o
      on o.property_code = current_setting('ota.ari_property')
     and o.source = current_setting('ota.ari_source')
     and (o.room_code, o.rate_id, o.stay_date) = (t.room_code, t.rate_id, t.stay_date)
     and (t.rate_id <> '' or o.field <> 'price')
    union all
    -- In-order cells: the last value of each field before this message ...
    select l.room_code, l.rate_id, l.stay_date, l.guests, l.field, l.int_value, l.bool_value, l.min_stay_kind,
           l.price, l.currency, l.tax_included, l.arrival, l.message_key, l.at
    from ari_state_cells t
    join staging.ari_field_latest l
      on l.property_code = current_setting('ota.ari_property')
     and l.source = current_setting('ota.ari_source')
     and (l.room_code, l.rate_id, l.stay_date) = (t.room_code, t.rate_id, t.stay_date)
     and (t.rate_id <> '' or l.field <> 'price')
    where not exists (
        select 1 from ari_state_late_cells x
        where (x.room_code, x.rate_id, x.stay_date) = (t.room_code, t.rate_id, t.stay_date))
    union all
    -- ... and this message's values.
    select o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value, o.bool_value, o.min_stay_kind,
           o.price, o.currency, o.tax_included, o.arrival, o.message_key, null
    from staging.ari_observations o
    join ari_state_cells t on (o.room_code, o.rate_id, o.stay_date) = (t.room_code, t.rate_id, t.stay_date)
    where o.property_code = current_setting('ota.ari_property')
      and o.source = current_setting('ota.ari_source')
      and o.message_key = current_setting('ota.ari_message')
      and (t.rate_id <> '' or o.field <> 'price')
      and not exists (
          select 1 from ari_state_late_cells x
          where (x.room_code, x.rate_id, x.stay_date) = (t.room_code, t.rate_id, t.stay_date))
),
message_time as (
    -- Each message's time once, not once per observation.
    select m.message_key, least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) as at
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key in (select distinct message_key from seen_here where at is null)
),
seen as (
    select s.room_code, s.rate_id, s.stay_date, s.guests, s.field, s.int_value, s.bool_value, s.min_stay_kind,
           s.price, s.currency, s.tax_included, s.arrival, s.message_key, coalesce(s.at, t.at) as at
    from seen_here s
    left join message_time t on t.message_key = s.message_key and s.at is null
),
ranked as (
    -- Of the values set before this message, only the last of each field matters.
    select seen.*, (seen.at, seen.arrival) < (message.at, message.arrival) as earlier,
           row_number() over (partition by seen.room_code, seen.rate_id, seen.stay_date, seen.field, seen.guests,
                                           (seen.at, seen.arrival) < (message.at, message.arrival)
                              order by seen.at desc, seen.arrival desc) as nth
    from seen
    cross join message
)
select room_code, rate_id, stay_date, guests, field, int_value, bool_value, min_stay_kind, price, currency,
       tax_included, arrival, message_key, at
from ranked
where not earlier or nth = 1;
analyze ari_state_history;

-- Per state to write, each field (each price by number of guests) as the last message at
-- or before it set it; and the same without this message, to leave out the states it does
-- not change (a repeated value): a state already written at the same time then stays the
-- last one written, as a full refresh sees it, and its loaded_at stays when it was first known.
create temp table ari_state_values on commit drop as
with message as (
    select least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) as at, m.arrival
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key = current_setting('ota.ari_message')
),
instant as (
    -- The states to write: this message's, and those of every later message of the same
    -- cells; of messages at the same time only the last, whose state is the one that holds
    -- (the transforms keep one state per instant).
    select distinct on (h.room_code, h.rate_id, h.stay_date, h.at)
           h.room_code, h.rate_id, h.stay_date, h.at, h.arrival, h.message_key
    from ari_state_history h
    cross join message
    where (h.at, h.arrival) >= (message.at, message.arrival)
    order by h.room_code, h.rate_id, h.stay_date, h.at, h.arrival desc
)
select distinct on (without_message, i.room_code, i.rate_id, i.stay_date, i.at, h.field, h.guests)
       without_message, i.room_code, i.rate_id, i.stay_date, i.at, i.arrival, i.message_key, h.field, h.guests,
       h.int_value, h.bool_value, h.min_stay_kind, h.price, h.currency, h.tax_included
from instant i
cross join (values (false), (true)) as w(without_message)
join ari_state_history h
  on (h.room_code, h.rate_id, h.stay_date) = (i.room_code, i.rate_id, i.stay_date)
 and (h.at, h.arrival) <= (i.at, i.arrival)
 and (not w.without_message or h.message_key <> current_setting('ota.ari_message'))
order by without_message, i.room_code, i.rate_id, i.stay_date, i.at, h.field, h.guests, h.at desc, h.arrival desc;
analyze ari_state_values;

-- The states of rate cells, one row per cell, time and number of guests priced:
-- restrictions apply to every occupancy of the rate.
create temp table ari_states on commit drop as
with restriction as (
    select without_message, room_code, rate_id, stay_date, at,
           max(int_value) filter (where field = 'booking_limit') as booking_limit,
           bool_or(bool_value) filter (where field = 'stop_sell') as stop_sell,
           bool_or(bool_value) filter (where field = 'closed_to_arrival') as closed_to_arrival,
           bool_or(bool_value) filter (where field = 'closed_to_departure') as closed_to_departure,
           max(int_value) filter (where field = 'min_stay') as min_stay,
           max(min_stay_kind) filter (where field = 'min_stay') as min_stay_kind,
           max(int_value) filter (where field = 'max_stay') as max_stay
    from ari_state_values
    where field <> 'price'
    group by without_message, room_code, rate_id, stay_date, at
)
select p.without_message, p.room_code, p.rate_id, p.stay_date, p.at, p.message_key, p.guests, p.price, p.currency,
       p.tax_included, r.booking_limit, r.stop_sell, r.closed_to_arrival, r.closed_to_departure, r.min_stay,
       r.min_stay_kind, r.max_stay
from ari_state_values p
left join restriction r
  on (r.without_message, r.room_code, r.rate_id, r.stay_date, r.at)
   = (p.without_message, p.room_code, p.rate_id, p.stay_date, p.at)
where p.field = 'price' and p.rate_id <> '';
analyze ari_states;

-- The states of rooms (rate plan ''), one row per room, night and time that has a booking
-- limit: the fields of facts.availability, each the column's "none" until a message sets it.
create temp table ari_room_states on commit drop as
select without_message, room_code, stay_date, at,
       max(int_value) filter (where field = 'booking_limit') as allotment,
       coalesce(bool_or(bool_value) filter (where field = 'stop_sell'), false) as stop_sell,
       coalesce(max(int_value) filter (where field = 'min_stay'), 1) as min_stay,
       coalesce(max(int_value) filter (where field = 'max_stay'), 0) as max_stay,
       coalesce(bool_or(bool_value) filter (where field = 'closed_to_arrival'), false) as closed_to_arrival,
       coalesce(bool_or(bool_value) filter (where field = 'closed_to_departure'), false) as closed_to_departure,
       max(message_key) as message_key
from ari_state_values
where rate_id = '' and field <> 'price'
group by without_message, room_code, stay_date, at
having max(int_value) filter (where field = 'booking_limit') is not null;
analyze ari_room_states;

with message as (
    select m.property_code, m.source, m.message_key, m.run_id,
           -- Written after the lock: later than the states of any expansion before it.
           clock_timestamp() as written_at
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key = current_setting('ota.ari_message')
)
insert into staging.rate_observations (
    source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel,
    price, currency, closeout, min_stay, available,
    closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included,
    observed_at, load_date, batch_id, run_id, raw, loaded_at, origin)
select message.source, 'ari', message.property_code, s.rate_id, s.room_code, s.stay_date, s.guests, 0, '',
       s.price,
       coalesce(s.currency, (select d.currency from dims.properties d where d.property_code = message.property_code), ''),
       coalesce(s.stop_sell, false), coalesce(s.min_stay, 1), s.booking_limit,
       s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included,
       s.at, (message.written_at at time zone 'UTC')::date, message.message_key, message.run_id,
       json_build_object('state_after_message', s.message_key, 'written_by_message', message.message_key)::text,
       message.written_at, 'push'
from ari_states s
cross join message
left join ari_states b
  on b.without_message
 and (b.room_code, b.rate_id, b.stay_date, b.at, b.guests) = (s.room_code, s.rate_id, s.stay_date, s.at, s.guests)
where not s.without_message
  and (b.room_code is null
       or (b.price, b.currency, b.tax_included, b.booking_limit, b.stop_sell, b.closed_to_arrival, b.closed_to_departure,
           b.min_stay, b.min_stay_kind, b.max_stay)
          is distinct from (s.price, s.currency, s.tax_included, s.booking_limit, s.stop_sell, s.closed_to_arrival,
                            s.closed_to_departure, s.min_stay, s.min_stay_kind, s.max_stay));

with message as (
    select m.property_code, m.source, m.message_key, m.run_id,
           -- Written after the lock: later than the states of any expansion before it.
           clock_timestamp() as written_at
    from staging.ari_messages m
    where m.property_code = current_setting('ota.ari_property')
      and m.source = current_setting('ota.ari_source')
      and m.message_key = current_setting('ota.ari_message')
)
insert into staging.availability_observations (
    source, property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
    closed_to_arrival, closed_to_departure, observed_at, load_date, batch_id, run_id, raw, loaded_at, origin)
select message.source, message.property_code, s.room_code, s.stay_date, s.allotment, s.stop_sell, s.min_stay,
       s.max_stay, s.closed_to_arrival, s.closed_to_departure,
       s.at, (message.written_at at time zone 'UTC')::date, message.message_key, message.run_id,
       json_build_object('state_after_message', s.message_key, 'written_by_message', message.message_key)::text,
       message.written_at, 'push'
from ari_room_states s
cross join message
left join ari_room_states b
  on b.without_message and (b.room_code, b.stay_date, b.at) = (s.room_code, s.stay_date, s.at)
where not s.without_message
  and (b.room_code is null
       or (b.allotment, b.stop_sell, b.min_stay, b.max_stay, b.closed_to_arrival, b.closed_to_departure)
          is distinct from (s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival,
                            s.closed_to_departure));
