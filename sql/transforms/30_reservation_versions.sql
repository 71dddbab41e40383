-- Every version of every touched booking, recomputed from all its staged
-- events: a version that arrived late takes its place by OTA time, its
-- neighbours get their valid_to and ordinals again, and the result is the
-- same as a full rebuild would give. Ordering: OTA time, then arrival order
-- (event_id); a missing OTA time falls back to the time it was loaded.
-- The lifecycle follows status transitions, not the OTA's event names.
-- A cancellation that names the booking but carries none of its content (an
-- OpenTravel OTA_CancelRQ that arrived before the version it cancels) takes the
-- content of the version before it, overlaid with its own (status 0, its time);
-- the condition on e.data is tested once per row before the look-up, so
-- bookings with content pay nothing for it.

create temp table reservation_versions on commit drop as
with ordered as (
    select e.event_id, e.property_code, e.confirmation_id, e.event_type, e.source, e.origin, e.content_hash, e.loaded_at,
           -- "|| '{}'" (an object joined with nothing is the same object) hands on a
           -- decompressed copy: the stored body is compressed, and each of the twenty
           -- or so fields read from it below would otherwise decompress it again
           -- (41 us a version against 19 us, 44,000 versions).
           coalesce(prior.data || e.data, e.data || '{}'::jsonb) as data,
           coalesce(e.ota_time, e.loaded_at) as valid_from,
           lead(coalesce(e.ota_time, e.loaded_at)) over booking as valid_to,
           row_number() over booking as version,
           e.data ->> 'status' as status_code,
           lag(e.data ->> 'status') over booking as previous_status_code
    from staging.reservation_events e
    join reservation_batch b
      on (b.property_code, b.confirmation_id, b.source) = (e.property_code, e.confirmation_id, e.source)
    left join lateral (
        select p.data
        from staging.reservation_events p
        where not (e.data ? 'roomStay')
          and (p.property_code, p.confirmation_id, p.source) = (e.property_code, e.confirmation_id, e.source)
          and not p.is_collision and p.data ? 'roomStay'
          and (coalesce(p.ota_time, p.loaded_at), p.event_id) < (coalesce(e.ota_time, e.loaded_at), e.event_id)
        order by coalesce(p.ota_time, p.loaded_at) desc, p.event_id desc
        limit 1
    ) prior on true
    where not e.is_collision
    window booking as (partition by e.property_code, e.confirmation_id, e.source
                       order by coalesce(e.ota_time, e.loaded_at), e.event_id)
)
select o.property_code, o.confirmation_id, o.valid_from, o.content_hash, o.valid_to, o.version::integer as version,
       case when o.version = 1 then 'new'
            when o.previous_status_code = '1' and o.status_code = '0' then 'cancel'
            when o.previous_status_code = '0' and o.status_code = '1' then 'restore'
            else 'update' end as lifecycle,
       o.event_type, o.source, o.origin,
       case o.status_code when '1' then 'confirmed' when '0' then 'cancelled' end as status,
       (o.data #>> '{roomStay,from}')::date as check_in,
       (o.data #>> '{roomStay,to}')::date as check_out,
       o.data #>> '{roomStay,roomType}' as room_code,
       o.data #>> '{roomStay,rateID}' as rate_id,
       o.data #>> '{roomStay,board}' as board,
       coalesce(o.data #>> '{bookInfo,source}', '') as channel_code,
       o.data #>> '{bookInfo,source_id}' as channel_source_id,
       (o.data #>> '{bookInfo,book_date}')::timestamptz as booked_at,
       o.data #>> '{pricing,currency}' as currency,
       (o.data #>> '{pricing,extras}')::numeric as extras_amount,
       (o.data #>> '{pricing,price}')::numeric as total_gross,
       (o.data #>> '{pricing,taxes}')::numeric as taxes,
       -- The salt read here, not inside the function: on Citus this runs on the workers (0091).
       coalesce(o.data #>> '{erasure,guest_hash}',
                ops.guest_hash(o.data -> 'clientInfo',
                               (select s.value from ops.settings s where s.name = 'guest_hash_salt'))) as guest_hash,
       p.reporting_currency, p.time_zone,
       o.loaded_at, o.event_id as staging_event_id, o.data
from ordered o
join dims.properties p on p.property_code = o.property_code;

-- The booked room nights of each version: per room, the nightly prices of
-- rooms[].rates[]; a room without them spreads its price over its nights; a
-- booking without rooms[] spreads the room total over roomStay.rooms rooms.
create temp table reservation_version_nights on commit drop as
with booked_rooms as (
    select v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash,
           coalesce((r.room ->> 'roomNo')::integer, r.position::integer) as room_no,
           (r.room ->> 'adults')::integer as adults, (r.room ->> 'children')::integer as children,
           (r.room ->> 'price')::numeric as room_net, (r.room ->> 'price_with_tax')::numeric as room_gross,
           coalesce(r.room -> 'rates', '[]'::jsonb) as rates
    from reservation_versions v
    cross join lateral jsonb_array_elements(coalesce(v.data -> 'rooms', '[]'::jsonb)) with ordinality as r(room, position)
    union all
    select v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash, n.room_no, null, null, null,
           (v.total_gross - coalesce(v.extras_amount, 0)) / greatest(coalesce((v.data #>> '{roomStay,rooms}')::integer, 1), 1),
           '[]'::jsonb
    from reservation_versions v
    cross join lateral generate_series(1, greatest(coalesce((v.data #>> '{roomStay,rooms}')::integer, 1), 1)) as n(room_no)
    where jsonb_array_length(coalesce(v.data -> 'rooms', '[]'::jsonb)) = 0
),
room_nights as (
    select br.*, (x.rate ->> 'date')::date as business_date, (x.rate ->> 'price_with_tax')::numeric as night_gross
    from booked_rooms br
    cross join lateral jsonb_array_elements(br.rates) as x(rate)
    union all
    -- spread so the nights add up to the room's price exactly
    select br.*, d.day::date,
           round(br.room_gross * (d.day::date - v.check_in + 1) / (v.check_out - v.check_in), 2)
           - round(br.room_gross * (d.day::date - v.check_in) / (v.check_out - v.check_in), 2)
    from booked_rooms br
    join reservation_versions v using (property_code, confirmation_id, source, valid_from, content_hash)
    cross join lateral generate_series(v.check_in, v.check_out - 1, interval '1 day') as d(day)
    where jsonb_array_length(br.rates) = 0 and v.check_out > v.check_in
)
select n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash, n.room_no, n.business_date,
       v.valid_to, v.status, v.room_code, v.rate_id, v.channel_code, n.adults, n.children, v.currency,
       n.night_gross as revenue_gross,
       n.night_net as revenue_net,
       v.reporting_currency,
       -- Converted only when the currencies differ (dims.convert_amount gives the amount itself
       -- when they are the same, and NULL without a currency): a call per night costs more than
       -- the rest of the night's row, and most bookings are in the hotel's own currency.
       case when v.currency is null then null
            when v.currency = v.reporting_currency then n.night_gross
            else dims.convert_amount(n.night_gross, v.currency, v.reporting_currency, n.business_date)
       end as revenue_gross_rc,
       case when v.currency is null then null
            when v.currency = v.reporting_currency then n.night_net
            else dims.convert_amount(n.night_net, v.currency, v.reporting_currency, n.business_date)
       end as revenue_net_rc,
       (v.booked_at at time zone v.time_zone)::date as booked_date,
       (v.valid_from at time zone v.time_zone)::date as version_date,
       v.loaded_at
from (select room_nights.*,
             case when room_gross > 0 then round(night_gross * room_net / room_gross, 2) end as night_net
      from room_nights) n
join reservation_versions v using (property_code, confirmation_id, source, valid_from, content_hash);

-- Analyzed, so the joins below with the fact tables are planned for the batch's
-- real size (never analyzed by autovacuum, a temporary table is guessed at).
-- Only the columns the joins and filters below use: the row count is what matters, and
-- sampling the bookings' jsonb bodies cost a third of building the table.
analyze reservation_versions (property_code, confirmation_id, source, valid_from, content_hash, valid_to, event_type);
analyze reservation_version_nights (property_code, confirmation_id, source, valid_from, content_hash);

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'reservations.versions_recomputed', count(*) from reservation_versions
on conflict (run_id, metric) do update set value = excluded.value;
