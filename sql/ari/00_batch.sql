-- The batch this transaction expands: the oldest waiting message no other session
-- holds, and the waiting messages of the same hotel and source after it, in arrival
-- order, up to 500 messages or 8 MB of parsed content (the first message always; a
-- large flush is then a batch of its own). The files after this one expand exactly
-- these messages, each file once for the whole batch: their observations, the codes
-- they register, their expanded_at and the states they write commit together, so a
-- crash loses nothing (the messages still wait, and the next batch takes them) and
-- expanding a message again doubles nothing (an observation's key is message, cell
-- and field).
--
-- `for update skip locked`: two expanders (or a restart racing a survivor) never both
-- take a message, and neither waits on the other; a message another session holds is
-- left out of this batch, and its own session expands it (40_states.sql gives the
-- same states whichever is expanded first).
--
-- A message counts at its TimeStamp, or when it was stored if it has none or its
-- TimeStamp is later than that (`at`; a sender's clock ahead of ours must not put a
-- value in force before we had it); messages at the same time apply in arrival order.
--
-- By hand: `cat sql/ari/*.sql | psql -1 -v ON_ERROR_STOP=1` expands the next batch.
create temp table ari_batch on commit drop as
with first as (
    select m.property_code, m.source, m.arrival
    from staging.ari_messages m
    where m.expanded_at is null
    order by m.arrival
    limit 1
    for update skip locked
),
candidate as (
    select m.message_key, m.arrival = f.arrival as is_first,
           sum(pg_column_size(m.data)) over (order by m.arrival) as size
    from staging.ari_messages m
    join first f on (m.property_code, m.source) = (f.property_code, f.source)
    where m.expanded_at is null and m.arrival >= f.arrival
    order by m.arrival
    limit 500
)
select m.property_code, m.source, m.message_key, m.arrival,
       least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) as at, m.run_id
from staging.ari_messages m
join first f on (m.property_code, m.source) = (f.property_code, f.source)
where m.expanded_at is null
  and m.message_key in (select c.message_key from candidate c where c.is_first or c.size <= 8 * 1024 * 1024)
order by m.arrival
for update of m skip locked;

alter table ari_batch add primary key (message_key);
analyze ari_batch;
