-- Retention and erasure. Raw observations are partitioned by load date, so
-- retention drops whole partitions. Personal data lives only in
-- staging.reservation_events and ops.dead_letters; erasing a guest removes it
-- there and leaves facts intact (they hold a salted hash, which the erased
-- row keeps, so a full refresh still rebuilds the same facts).

create function staging.drop_load_partitions(older_than date)
returns table (partition_name text, load_date date)
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $$
declare
    part record;
begin
    for part in
        select c.relname::text as name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9-]+)''\)'))[1]::date as from_day,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([0-9-]+)''\)'))[1]::date as to_day
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        where i.inhparent in ('staging.availability_observations'::regclass, 'staging.rate_observations'::regclass)
        order by 1
    loop
        if part.to_day is not null and part.to_day <= older_than then
            execute format('drop table staging.%I', part.name);
            partition_name := part.name;
            load_date := part.from_day;
            return next;
        end if;
    end loop;
end
$$;
comment on function staging.drop_load_partitions(date) is
    'Drops the availability and rate observation partitions whose load dates all fall before older_than; returns what it dropped. Facts keep their versions.';

create table ops.erasures (
    confirmation_id  text not null,
    erased_at        timestamptz not null default now(),
    events           integer not null,
    dead_letters     integer not null,
    run_id           text not null
);
comment on table ops.erasures is 'One row per guest erasure: which booking, when, and how many staged events and dead letters were scrubbed.';
comment on column ops.erasures.confirmation_id is 'The booking whose guest was erased.';
comment on column ops.erasures.erased_at is 'When.';
comment on column ops.erasures.events is 'staging.reservation_events rows scrubbed.';
comment on column ops.erasures.dead_letters is 'ops.dead_letters rows whose raw bytes were removed.';
comment on column ops.erasures.run_id is 'The erase-guest run.';

-- The booking body without its personal elements, keeping the guest's salted
-- hash so facts (and a full refresh) stay the same.
create function staging.redacted_booking(body jsonb) returns jsonb
language sql stable
as $$
    select (body - 'clientInfo' - 'guest_names' - 'special_requests' - 'additional_fields')
        || jsonb_build_object('erasure', jsonb_build_object(
               'guest_hash', coalesce(body #>> '{erasure,guest_hash}', ops.guest_hash(body -> 'clientInfo'))))
$$;
comment on function staging.redacted_booking(jsonb) is
    'A booking body without clientInfo, guest_names, special_requests and additional_fields, with {"erasure": {"guest_hash": ...}} in their place.';

create function staging.erase_guest(booking text)
returns table (events integer, dead_letters integer)
language plpgsql
as $$
declare
    id_pattern text := regexp_replace(booking, '([^A-Za-z0-9])', '\\\1', 'g');
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
    with scrubbed as (
        update ops.dead_letters d
        set raw = '\x'::bytea, reason = d.reason || ' [raw erased by erase-guest]'
        where octet_length(d.raw) > 0
          and (d.record_key = booking
               or encode(d.raw, 'escape') ~ ('"id"\s*:\s*"?' || id_pattern || '"?\s*[,}]')
               or encode(d.raw, 'escape') ~ ('<id>\s*' || id_pattern || '\s*</id>'))
        returning 1
    )
    select count(*)::integer into dead_letters from scrubbed;

    insert into ops.erasures (confirmation_id, events, dead_letters, run_id)
    values (booking, events, dead_letters, ops.current_run_id());
    return next;
end
$$;
comment on function staging.erase_guest(text) is
    'Removes the guest''s personal data of one booking from staging.reservation_events (body and raw bytes) and ops.dead_letters (raw bytes); facts are untouched. Logged in ops.erasures.';
