-- Guest erasure and aging on a Citus cluster, with the same results on one
-- server. Two things Citus cannot run: a function on a worker that queries
-- another table (staging.redacted_booking read the salt through
-- ops.guest_hash(jsonb)), and a subquery on a distributed table that refers to
-- a row of a local one (the booking dead letters' "not exists" in
-- staging.erase_aged_guest_data). The salt is now read once by the caller and
-- passed; the dead letters are matched against the bookings still within the
-- age by an anti-join.

create function staging.redacted_booking(body jsonb, salt text) returns jsonb
language sql immutable
as $$
    select (body - 'clientInfo' - 'guest_names' - 'special_requests' - 'additional_fields')
        || jsonb_build_object('erasure', jsonb_build_object(
               'guest_hash', coalesce(body #>> '{erasure,guest_hash}', ops.guest_hash(body -> 'clientInfo', salt))))
$$;
comment on function staging.redacted_booking(jsonb, text) is
    'A booking body without clientInfo, guest_names, special_requests and additional_fields, with {"erasure": {"guest_hash": ...}} (hashed with salt) in their place.';
-- Its raw bytes. convert_to is STABLE only because a conversion could be
-- replaced; to UTF-8 from the warehouse's own encoding it is fixed, and Citus
-- takes only IMMUTABLE functions of a row's columns in a distributed UPDATE.
create function staging.redacted_booking_raw(body jsonb, salt text) returns bytea
language sql immutable
as $$
    select convert_to(staging.redacted_booking(body, salt)::text, 'UTF8')
$$;
comment on function staging.redacted_booking_raw(jsonb, text) is
    'staging.redacted_booking(body, salt) as UTF-8 bytes: the raw column of an erased booking.';

revoke execute on function staging.redacted_booking(jsonb, text) from public;
grant execute on function staging.redacted_booking(jsonb, text) to ota_ingest;

create or replace function staging.erase_guest(booking text)
returns table (events integer, dead_letters integer)
language plpgsql
as $$
declare
    id_pattern text := regexp_replace(booking, '([^A-Za-z0-9])', '\\\1', 'g');
    why text := coalesce(nullif(current_setting('ota.erasure_cause', true), ''), 'request');
    salt text := (select s.value from ops.settings s where s.name = 'guest_hash_salt');
begin
    with scrubbed as (
        update staging.reservation_events e
        set data = staging.redacted_booking(e.data, salt),
            raw = staging.redacted_booking_raw(e.data, salt),
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

create or replace function staging.erase_aged_guest_data(older_than date)
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
        left join (
            select distinct e.confirmation_id from staging.reservation_events e
            where coalesce(staging.booking_departure(e.data), e.loaded_at::date) >= older_than) within_age
          on within_age.confirmation_id = d.record_key
        where d.stream = 'reservations' and octet_length(d.raw) > 0 and d.last_seen < older_than
          and within_age.confirmation_id is null),
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

