-- Guest data ages out. A booking's personal data is erased from staging and
-- dead letters once its departure is older than the configured age (the
-- nightly's "erase aged guest data" step, [retention] guest_data_days), and a
-- guest can be erased by email as well as by booking. Every path goes through
-- staging.erase_guest, so an aged booking is scrubbed exactly as a requested
-- erasure is: facts are untouched (they hold the salted guest hash, which the
-- scrubbed rows keep, so a full refresh rebuilds the same facts).

-- Why a row of ops.erasures exists; a dead letter that names no booking we
-- hold is logged without one.
alter table ops.erasures
    alter column confirmation_id drop not null,
    add column cause text not null default 'request' check (cause in ('request', 'aged'));
comment on column ops.erasures.confirmation_id is
    'The booking whose guest was erased; NULL for dead letters erased by email or by age that named no booking in staging.';
comment on column ops.erasures.run_id is 'The erase-guest run, or the nightly step that aged the data out.';
comment on column ops.erasures.cause is
    'request: ota-ingest erase-guest; aged: the booking departed more than [retention] guest_data_days ago (nightly).';

-- The one way raw bytes leave a dead letter. The key, reason, context (room and
-- rate ids, never personal data) and hash stay, so counts and the uniqueness of
-- dead letters are as before; an erased dead letter cannot be replayed.
create function ops.erase_dead_letters(ids bigint[], note text)
returns integer
language sql
as $$
    with scrubbed as (
        update ops.dead_letters d
        set raw = '\x'::bytea, reason = d.reason || ' [' || note || ']'
        where d.dead_letter_id = any (ids) and octet_length(d.raw) > 0
        returning 1
    )
    select count(*)::integer from scrubbed
$$;
comment on function ops.erase_dead_letters(bigint[], text) is
    'Empties the raw bytes of the given dead letters (appending [note] to their reason); returns how many still had bytes.';

-- Same contract as before (0014), now through ops.erase_dead_letters and
-- logging its cause: 'aged' while staging.erase_aged_guest_data runs.
create or replace function staging.erase_guest(booking text)
returns table (events integer, dead_letters integer)
language plpgsql
as $$
declare
    id_pattern text := regexp_replace(booking, '([^A-Za-z0-9])', '\\\1', 'g');
    why text := coalesce(nullif(current_setting('ota.erasure_cause', true), ''), 'request');
begin
    with scrubbed as (
        update staging.reservation_events e
        set data = staging.redacted_booking(e.data),
            raw = convert_to(staging.redacted_booking(e.data)::text, 'UTF8'),
            raw_format = 'json'
        where e.confirmation_id = booking
          and (e.data ?| array['clientInfo', 'guest_names', 'special_requests', 'additional_fields']
               or not e.data ? 'erasure')
        returning 1
    )
    select count(*)::integer into events from scrubbed;

    -- A dead letter may be unparseable: match its key, or the id in its raw text (JSON or XML).
    dead_letters := ops.erase_dead_letters(array(
        select d.dead_letter_id from ops.dead_letters d
        where octet_length(d.raw) > 0
          and (d.record_key = booking
               or encode(d.raw, 'escape') ~ ('"id"\s*:\s*"?' || id_pattern || '"?\s*[,}]')
               or encode(d.raw, 'escape') ~ ('<id>\s*' || id_pattern || '\s*</id>'))),
        case why when 'aged' then 'raw erased: guest data aged out' else 'raw erased by erase-guest' end);

    insert into ops.erasures (confirmation_id, events, dead_letters, run_id, cause)
    values (booking, events, dead_letters, ops.current_run_id(), why);
    return next;
end
$$;
comment on function staging.erase_guest(text) is
    'Removes the guest''s personal data of one booking from staging.reservation_events (body and raw bytes) and ops.dead_letters (raw bytes); facts are untouched. Logged in ops.erasures.';

-- A booking's departure as its body states it (roomStay.to, which landing
-- validated as a date); NULL for a body without one.
create function staging.booking_departure(body jsonb) returns date
language sql immutable
as $$
    select case when body #>> '{roomStay,to}' ~ '^\d{4}-\d{2}-\d{2}$' then (body #>> '{roomStay,to}')::date end
$$;
comment on function staging.booking_departure(jsonb) is
    'roomStay.to of a booking body as a date; NULL when missing or not a date.';

-- Bookings that still hold personal data and whose every staged version
-- departs before older_than (a version without a departure counts by the day
-- it was loaded), so a stay moved later keeps its guest until that later date.
create function staging.aged_guest_bookings(older_than date)
returns table (confirmation_id text)
language sql stable
as $$
    select e.confirmation_id
    from staging.reservation_events e
    group by e.confirmation_id
    having max(coalesce(staging.booking_departure(e.data), e.loaded_at::date)) < older_than
       and bool_or(e.data ?| array['clientInfo', 'guest_names', 'special_requests', 'additional_fields']
                   or not e.data ? 'erasure')
    order by 1
$$;
comment on function staging.aged_guest_bookings(date) is
    'Confirmation ids whose staged versions all depart before older_than and that still hold personal data.';

-- The nightly step. Each aged booking through staging.erase_guest; then the
-- booking dead letters it left (refused before their booking landed, or
-- received after it was erased), which age by when they were last received,
-- unless they name a booking whose stay is still within the age.
create function staging.erase_aged_guest_data(older_than date)
returns table (bookings integer, events integer, dead_letters integer)
language plpgsql
as $$
declare
    booking text;
    erased record;
    orphans integer;
begin
    perform set_config('ota.erasure_cause', 'aged', true);
    bookings := 0;
    events := 0;
    dead_letters := 0;
    for booking in select a.confirmation_id from staging.aged_guest_bookings(older_than) a loop
        select * into erased from staging.erase_guest(booking);
        bookings := bookings + 1;
        events := events + erased.events;
        dead_letters := dead_letters + erased.dead_letters;
    end loop;

    orphans := ops.erase_dead_letters(array(
        select d.dead_letter_id from ops.dead_letters d
        where d.stream = 'reservations' and octet_length(d.raw) > 0 and d.last_seen < older_than
          and not exists (
              select 1 from staging.reservation_events e
              where e.confirmation_id = d.record_key
                and coalesce(staging.booking_departure(e.data), e.loaded_at::date) >= older_than)),
        'raw erased: guest data aged out');
    if orphans > 0 then
        insert into ops.erasures (confirmation_id, events, dead_letters, run_id, cause)
        values (null, 0, orphans, ops.current_run_id(), 'aged');
        dead_letters := dead_letters + orphans;
    end if;
    perform set_config('ota.erasure_cause', '', true);
    return next;
end
$$;
comment on function staging.erase_aged_guest_data(date) is
    'Erases (through staging.erase_guest) the guest data of every booking whose staged versions all depart before older_than, and the raw bytes of booking dead letters last received before it that name no booking departing later. Returns the bookings, staged versions and dead letters erased.';

-- erase-guest --email. The bookings whose staged versions name the address
-- (or, once erased, keep its salted hash: asking again finds them and erases
-- nothing), each through staging.erase_guest; then the dead letters whose raw
-- bytes hold the address but name none of those bookings. No row: the
-- warehouse never held the address.
create function staging.erase_guest_by_email(address text)
returns table (confirmation_id text, events integer, dead_letters integer)
language plpgsql
as $$
declare
    wanted text := lower(btrim(address));
    hashed text := ops.guest_hash(jsonb_build_object('email', address));
    booking text;
    orphans integer;
    holders bigint[];
begin
    for booking in
        select distinct e.confirmation_id from staging.reservation_events e
        where lower(btrim(e.data #>> '{clientInfo,email}')) = wanted
           or e.data #>> '{erasure,guest_hash}' = hashed
        order by 1
    loop
        confirmation_id := booking;
        select g.events, g.dead_letters into events, dead_letters from staging.erase_guest(booking) g;
        return next;
    end loop;

    holders := array(
        select d.dead_letter_id from ops.dead_letters d
        where octet_length(d.raw) > 0 and strpos(lower(encode(d.raw, 'escape')), wanted) > 0);
    if cardinality(holders) > 0 then
        orphans := ops.erase_dead_letters(holders, 'raw erased by erase-guest');
        insert into ops.erasures (confirmation_id, events, dead_letters, run_id, cause)
        values (null, 0, orphans, ops.current_run_id(), 'request');
        confirmation_id := null;
        events := 0;
        dead_letters := orphans;
        return next;
    end if;
end
$$;
comment on function staging.erase_guest_by_email(text) is
    'Erases, through staging.erase_guest, every booking whose guest has this email (matched case-insensitively, or by its salted hash once erased), and the raw bytes of dead letters holding it. One row per booking, plus one (confirmation_id NULL) for dead letters no booking explained; no rows when nothing held the address.';

-- Whether erase-guest --reservation names something the warehouse holds or held.
create function staging.guest_booking_known(booking text) returns boolean
language sql stable
as $$
    select exists (select 1 from staging.reservation_events e where e.confirmation_id = booking)
        or exists (select 1 from ops.erasures r where r.confirmation_id = booking)
        or exists (select 1 from ops.dead_letters d where d.record_key = booking)
$$;
comment on function staging.guest_booking_known(text) is
    'True when staging, a dead letter or an earlier erasure names this confirmation id.';

-- They read and write personal data: the loader only.
revoke execute on function ops.erase_dead_letters(bigint[], text) from public;
revoke execute on function staging.aged_guest_bookings(date) from public;
revoke execute on function staging.erase_aged_guest_data(date) from public;
revoke execute on function staging.erase_guest_by_email(text) from public;
revoke execute on function staging.guest_booking_known(text) from public;
grant execute on function ops.erase_dead_letters(bigint[], text) to ota_ingest;
grant execute on function staging.aged_guest_bookings(date) to ota_ingest;
grant execute on function staging.erase_aged_guest_data(date) to ota_ingest;
grant execute on function staging.erase_guest_by_email(text) to ota_ingest;
grant execute on function staging.guest_booking_known(text) to ota_ingest;
