-- The whole state of every cell the batch's messages touched, as of each message's
-- time, written to staging.rate_observations (stream 'ari') for the transforms to
-- promote into facts.rates like any observation. A message is a delta: each
-- field of a state is the value the last message at or before that time set
-- (the batch's among them), and the state says nothing of a field no message has
-- set yet (NULL; closeout false and min_stay 1, the columns' "none"). A batch
-- writes the states that expanding its messages one at a time, in arrival order,
-- would leave in force: one state per cell and time.
--
-- Time and order: a message counts at its time (ari_batch.at, 00_batch.sql);
-- messages at the same time apply in arrival order. A message whose time is before
-- a later message of the same cell ("late") writes the later states again too,
-- each with the late message's value where no message in between set the field;
-- the transforms keep the last written state of an instant and recompute the
-- versions after the late one (sql/transforms/50_rates.sql, late path). A batch
-- later than everything set on a cell before it needs only the last value of each
-- field before it (staging.ari_field_latest), not the cell's history; a late one
-- reads the history.
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
select pg_advisory_xact_lock(hashtextextended('staging.ari_states|' || b.property_code || '|' || b.source, 0))
from (select distinct property_code, source from ari_batch) as b;

-- A flush's states are sorted in memory rather than on disk.
set local work_mem = '64MB';

select staging.ensure_load_partitions((clock_timestamp() at time zone 'UTC')::date);

-- The cells the batch set a field of, each with the first of the batch's messages that
-- set one (by time, then arrival): the cell's states from that message's time on are
-- the ones the batch can change. Temporary tables, analyzed, so the planner knows their
-- sizes: a delta touches a few cells (an index lookup each), a flush thousands (hash joins).
-- The larger ones are analyzed on one column: their row count is what the plans need, and
-- the statistics of every column of a flush's would cost a good part of the statement.
create temp table ari_state_cells on commit drop as
select distinct on (o.room_code, o.rate_id, o.stay_date)
       o.property_code, o.source, o.room_code, o.rate_id, o.stay_date,
       b.at as first_at, b.arrival as first_arrival, b.message_key as first_message, b.run_id as first_run_id
from ari_batch_observations o
join ari_batch b on b.message_key = o.message_key
-- A message that named only a rate plan the hotel does not have leaves the room empty:
-- such a cell stays in staging.ari_latest, out of the facts. One that named a room
-- without a rate plan set the room's own state (rate plan ''): its availability and
-- restrictions, never a price (facts.availability has none; a price for a room the
-- seeds give no rate plan stays in staging.ari_latest).
where o.room_code <> '' and (o.rate_id <> '' or o.field <> 'price')
order by o.room_code, o.rate_id, o.stay_date, b.at, b.arrival;
analyze ari_state_cells;

-- The touched cells the batch is not later than everything set on (a late message, or
-- one expanded again): their states are built from every observation of the cell.
-- Any other cell ("in order", the usual case) needs only the last value of each field
-- before the batch, which staging.ari_field_latest holds (50_field_latest.sql, run
-- after this file), so its state costs the same however many messages the cell has had.
create temp table ari_state_late_cells on commit drop as
select distinct t.room_code, t.rate_id, t.stay_date
from ari_state_cells t
join staging.ari_field_latest l
  on (l.property_code, l.source, l.room_code, l.rate_id, l.stay_date)
   = (t.property_code, t.source, t.room_code, t.rate_id, t.stay_date)
where (l.at, l.arrival) >= (t.first_at, t.first_arrival);
analyze ari_state_late_cells;

-- What the states are built from, per cell: of the values set before the batch's first
-- message on the cell ("earlier"), the last of each field; and every value set from then
-- on (the batch's, and on a late cell those of the later messages expanded before it).
-- in_batch tells the batch's values from the others. Each value is in force from its
-- time until the next value of its field (next_at; none: still in force), and, leaving
-- the batch's values out, until the next one not the batch's (next_at_without).
create temp table ari_state_history on commit drop as
select v.*,
       lead(v.at) over (partition by v.room_code, v.rate_id, v.stay_date, v.field, v.guests
                        order by v.at, v.arrival) as next_at
from (
-- In-order cells: the last value of each field before the batch ...
select l.room_code, l.rate_id, l.stay_date, l.guests, l.field, l.int_value, l.bool_value, l.min_stay_kind,
       l.price, l.currency, l.tax_included, l.arrival, l.message_key, l.at, true as earlier, false as in_batch,
       -- No value but the batch's is set after it.
       null::timestamptz as next_at_without
from ari_state_cells t
join staging.ari_field_latest l
  on (l.property_code, l.source, l.room_code, l.rate_id, l.stay_date)
   = (t.property_code, t.source, t.room_code, t.rate_id, t.stay_date)
 and (t.rate_id <> '' or l.field <> 'price')
where not exists (
    select 1 from ari_state_late_cells x
    where (x.room_code, x.rate_id, x.stay_date) = (t.room_code, t.rate_id, t.stay_date))
union all
-- ... and the batch's values.
select o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value, o.bool_value, o.min_stay_kind,
       o.price, o.currency, o.tax_included, o.arrival, o.message_key, o.at, false, true, null
from ari_batch_observations o
join ari_state_cells t on (t.room_code, t.rate_id, t.stay_date) = (o.room_code, o.rate_id, o.stay_date)
where (t.rate_id <> '' or o.field <> 'price')
  and not exists (
      select 1 from ari_state_late_cells x
      where (x.room_code, x.rate_id, x.stay_date) = (t.room_code, t.rate_id, t.stay_date))
union all
-- Late cells: every value ever set on them (the batch's among them), at its message's time;
-- of those before the batch's first message on the cell, only the last of each field.
select room_code, rate_id, stay_date, guests, field, int_value, bool_value, min_stay_kind, price, currency,
       tax_included, arrival, message_key, at, earlier, in_batch, next_at_without
from (
    select seen.*,
           row_number() over (partition by seen.room_code, seen.rate_id, seen.stay_date, seen.field, seen.guests,
                                           seen.earlier
                              order by seen.at desc, seen.arrival desc) as nth,
           case when not seen.in_batch
                then lead(seen.at) over (partition by seen.room_code, seen.rate_id, seen.stay_date, seen.field,
                                                      seen.guests, seen.in_batch
                                         order by seen.at, seen.arrival)
           end as next_at_without
    from (
        select o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value, o.bool_value, o.min_stay_kind,
               o.price, o.currency, o.tax_included, o.arrival, o.message_key, m.at,
               (m.at, o.arrival) < (t.first_at, t.first_arrival) as earlier,
               exists (select 1 from ari_batch b where b.message_key = o.message_key) as in_batch
        from ari_state_late_cells x
        join ari_state_cells t on (t.room_code, t.rate_id, t.stay_date) = (x.room_code, x.rate_id, x.stay_date)
        join staging.ari_observations o
          on (o.property_code, o.source, o.room_code, o.rate_id, o.stay_date)
           = (t.property_code, t.source, t.room_code, t.rate_id, t.stay_date)
         and (t.rate_id <> '' or o.field <> 'price')
        -- Each message's time: its TimeStamp, or when it was stored.
        join staging.ari_messages m0
          on (m0.property_code, m0.source, m0.message_key) = (o.property_code, o.source, o.message_key)
        cross join lateral (select least(coalesce(m0.ota_time, m0.loaded_at), m0.loaded_at) as at) as m
    ) as seen
) as ranked
where not earlier or nth = 1
) as v;
analyze ari_state_history (stay_date);

-- The times to write a state at, per cell: each time a message set the cell from the
-- batch's first message on (the batch's, and on a late cell the later ones already
-- expanded). Of messages at the same time only the last state holds (the transforms
-- keep one state per time), so one state per time, that of everything set at or before it.
create temp table ari_state_instants on commit drop as
select h.room_code, h.rate_id, h.stay_date, h.at,
       -- The message whose state it is: the last to arrive of that time.
       (array_agg(h.message_key order by h.arrival desc))[1] as message_key,
       -- The time before it, within the batch's reach (none: the cell's first such time).
       lag(h.at) over (partition by h.room_code, h.rate_id, h.stay_date order by h.at) as previous_at,
       -- A message expanded before the batch is at this very time: a state may be written
       -- at it already.
       bool_or(not h.in_batch) as expanded_before
from ari_state_history h
where not h.earlier
group by h.room_code, h.rate_id, h.stay_date, h.at;
analyze ari_state_instants;

-- Per state to write, each field (each price by number of guests) as the last message at
-- or before its time set it ("with the batch"): the value in force at that time. And, for
-- the first time of a cell and for a time a message expanded before the batch is at, the
-- same without any of the batch's messages: the state staging already holds in force at
-- that time. Both are compared below, to leave out the states the batch does not change
-- (a repeated value): a state already written at the same time then stays the last one
-- written, as a full refresh sees it, and its loaded_at stays when it was first known.
-- One value per state and field, whatever the number of the batch's messages of the cell.
create temp table ari_state_values on commit drop as
select w.without_batch, i.room_code, i.rate_id, i.stay_date, i.at, i.message_key, i.previous_at, i.expanded_before,
       h.field, h.guests, h.int_value, h.bool_value, h.min_stay_kind, h.price, h.currency, h.tax_included
from ari_state_instants i
join (values (false), (true)) as w(without_batch)
  on not w.without_batch or i.previous_at is null or i.expanded_before
join ari_state_history h
  on (h.room_code, h.rate_id, h.stay_date) = (i.room_code, i.rate_id, i.stay_date)
 and h.at <= i.at
 and case when w.without_batch then not h.in_batch and (h.next_at_without is null or h.next_at_without > i.at)
          else h.next_at is null or h.next_at > i.at
     end;
analyze ari_state_values (stay_date);

-- The states of rate cells, one row per cell, time and number of guests priced:
-- restrictions apply to every occupancy of the rate.
create temp table ari_states on commit drop as
with restriction as (
    select without_batch, room_code, rate_id, stay_date, at,
           max(int_value) filter (where field = 'booking_limit') as booking_limit,
           bool_or(bool_value) filter (where field = 'stop_sell') as stop_sell,
           bool_or(bool_value) filter (where field = 'closed_to_arrival') as closed_to_arrival,
           bool_or(bool_value) filter (where field = 'closed_to_departure') as closed_to_departure,
           max(int_value) filter (where field = 'min_stay') as min_stay,
           max(min_stay_kind) filter (where field = 'min_stay') as min_stay_kind,
           max(int_value) filter (where field = 'max_stay') as max_stay
    from ari_state_values
    where field <> 'price'
    group by without_batch, room_code, rate_id, stay_date, at
)
select p.without_batch, p.room_code, p.rate_id, p.stay_date, p.at, p.message_key, p.previous_at, p.expanded_before,
       p.guests, p.price, p.currency, p.tax_included, r.booking_limit, r.stop_sell, r.closed_to_arrival,
       r.closed_to_departure, r.min_stay, r.min_stay_kind, r.max_stay
from ari_state_values p
left join restriction r
  on (r.without_batch, r.room_code, r.rate_id, r.stay_date, r.at)
   = (p.without_batch, p.room_code, p.rate_id, p.stay_date, p.at)
where p.field = 'price' and p.rate_id <> '';
analyze ari_states (stay_date);

-- The states of rooms (rate plan ''), one row per room, night and time that has a booking
-- limit: the fields of facts.availability, each the column's "none" until a message sets it.
create temp table ari_room_states on commit drop as
select without_batch, room_code, stay_date, at, message_key, previous_at, expanded_before,
       max(int_value) filter (where field = 'booking_limit') as allotment,
       coalesce(bool_or(bool_value) filter (where field = 'stop_sell'), false) as stop_sell,
       coalesce(max(int_value) filter (where field = 'min_stay'), 1) as min_stay,
       coalesce(max(int_value) filter (where field = 'max_stay'), 0) as max_stay,
       coalesce(bool_or(bool_value) filter (where field = 'closed_to_arrival'), false) as closed_to_arrival,
       coalesce(bool_or(bool_value) filter (where field = 'closed_to_departure'), false) as closed_to_departure
from ari_state_values
where rate_id = '' and field <> 'price'
group by without_batch, room_code, stay_date, at, message_key, previous_at, expanded_before
having max(int_value) filter (where field = 'booking_limit') is not null;
analyze ari_room_states;

-- A state is written unless the batch leaves that very state in force at its time
-- anyway. Not writing it leaves in force the state written last at that time, if one
-- was, or else the one before it. So a state is left out when it equals both:
-- - the state in force just before its time: at the cell's first time, what staging
--   already holds ("without the batch", w below), else the state of the time before it
--   (p), which is written or in force already by this same rule;
-- - on a time a message expanded before the batch is at (a state may be written at it),
--   what staging holds at that time (w).
-- Writing a state equal to the one in force changes no fact (the transforms make a
-- version of a change only); leaving out one that changes something would lose it.
-- A state is written in the name (batch_id, run_id) of its own message when that is in
-- the batch, else of the batch's first message on the cell, whose earlier time rewrote it.
insert into staging.rate_observations (
    source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel,
    price, currency, closeout, min_stay, available,
    closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included,
    observed_at, load_date, batch_id, run_id, raw, loaded_at, origin)
select c.source, 'ari', c.property_code, s.rate_id, s.room_code, s.stay_date, s.guests, 0, '',
       s.price,
       coalesce(s.currency, (select d.currency from dims.properties d where d.property_code = c.property_code), ''),
       coalesce(s.stop_sell, false), coalesce(s.min_stay, 1), s.booking_limit,
       s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included,
       s.at, (written.at at time zone 'UTC')::date, coalesce(m.message_key, c.first_message),
       coalesce(m.run_id, c.first_run_id),
       json_build_object('state_after_message', s.message_key,
                         'written_by_message', coalesce(m.message_key, c.first_message))::text,
       written.at, 'push'
-- Written after the lock: later than the states of any expansion before it.
from (select clock_timestamp() as at) as written
cross join ari_states s
join ari_state_cells c on (c.room_code, c.rate_id, c.stay_date) = (s.room_code, s.rate_id, s.stay_date)
left join ari_batch m on m.message_key = s.message_key
left join ari_states w
  on w.without_batch
 and (w.room_code, w.rate_id, w.stay_date, w.at, w.guests) = (s.room_code, s.rate_id, s.stay_date, s.at, s.guests)
left join ari_states p
  on not p.without_batch
 and (p.room_code, p.rate_id, p.stay_date, p.at, p.guests) = (s.room_code, s.rate_id, s.stay_date, s.previous_at, s.guests)
where not s.without_batch
  and (((s.previous_at is null or s.expanded_before)
        and (w.room_code is null
             or (w.price, w.currency, w.tax_included, w.booking_limit, w.stop_sell, w.closed_to_arrival,
                 w.closed_to_departure, w.min_stay, w.min_stay_kind, w.max_stay)
                is distinct from (s.price, s.currency, s.tax_included, s.booking_limit, s.stop_sell,
                                  s.closed_to_arrival, s.closed_to_departure, s.min_stay, s.min_stay_kind, s.max_stay)))
       or (s.previous_at is not null
           and (p.room_code is null
                or (p.price, p.currency, p.tax_included, p.booking_limit, p.stop_sell, p.closed_to_arrival,
                    p.closed_to_departure, p.min_stay, p.min_stay_kind, p.max_stay)
                   is distinct from (s.price, s.currency, s.tax_included, s.booking_limit, s.stop_sell,
                                     s.closed_to_arrival, s.closed_to_departure, s.min_stay, s.min_stay_kind,
                                     s.max_stay))));

-- The same for the rooms' own states.
insert into staging.availability_observations (
    source, property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
    closed_to_arrival, closed_to_departure, observed_at, load_date, batch_id, run_id, raw, loaded_at, origin)
select c.source, c.property_code, s.room_code, s.stay_date, s.allotment, s.stop_sell, s.min_stay,
       s.max_stay, s.closed_to_arrival, s.closed_to_departure,
       s.at, (written.at at time zone 'UTC')::date, coalesce(m.message_key, c.first_message),
       coalesce(m.run_id, c.first_run_id),
       json_build_object('state_after_message', s.message_key,
                         'written_by_message', coalesce(m.message_key, c.first_message))::text,
       written.at, 'push'
from (select clock_timestamp() as at) as written
cross join ari_room_states s
join ari_state_cells c on (c.room_code, c.rate_id, c.stay_date) = (s.room_code, '', s.stay_date)
left join ari_batch m on m.message_key = s.message_key
left join ari_room_states w
  on w.without_batch and (w.room_code, w.stay_date, w.at) = (s.room_code, s.stay_date, s.at)
left join ari_room_states p
  on not p.without_batch and (p.room_code, p.stay_date, p.at) = (s.room_code, s.stay_date, s.previous_at)
where not s.without_batch
  and (((s.previous_at is null or s.expanded_before)
        and (w.room_code is null
             or (w.allotment, w.stop_sell, w.min_stay, w.max_stay, w.closed_to_arrival, w.closed_to_departure)
                is distinct from (s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival,
                                  s.closed_to_departure)))
       or (s.previous_at is not null
           and (p.room_code is null
                or (p.allotment, p.stop_sell, p.min_stay, p.max_stay, p.closed_to_arrival, p.closed_to_departure)
                   is distinct from (s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival,
                                     s.closed_to_departure))));
