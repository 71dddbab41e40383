-- feeds.booking_pace_as_of: on the books, pickup and last year, per property
-- and stay date, as the warehouse knew it at ts. Re-applied by
-- `ota-ingest migrate` whenever this file changes.

drop function if exists feeds.booking_pace_as_of(timestamptz, date, date, text, boolean);
drop function if exists feeds.nights_on_books(timestamptz, boolean, text);

-- Both times, once: a version is on the books at ts when it held at the OTA
-- at ts (valid_from <= ts < the next version's valid_from) among the versions
-- the warehouse had loaded by ts. include_late also counts versions loaded
-- after ts (a backfill of last year loaded today), still placed by OTA time.
create function feeds.nights_on_books(ts timestamptz, include_late boolean default false, only_property text default null)
returns table (property_code text, business_date date, room_nights bigint, revenue_net numeric,
               revenue_gross numeric, revenue_net_rc numeric, revenue_gross_rc numeric)
language sql stable
as $$
    with known as (
        select r.property_code, r.confirmation_id, r.source, r.valid_from, r.content_hash, r.status,
               lead(r.valid_from) over (partition by r.property_code, r.confirmation_id, r.source
                                        order by r.valid_from, r.staging_event_id) as known_valid_to
        from facts.reservations r
        where (include_late or r.loaded_at <= ts)
          and (only_property is null or r.property_code = only_property)
    )
    select n.property_code, n.business_date, count(*), sum(n.revenue_net), sum(n.revenue_gross),
           sum(n.revenue_net_rc), sum(n.revenue_gross_rc)
    from known k
    join facts.reservation_nights n using (property_code, confirmation_id, source, valid_from, content_hash)
    where k.valid_from <= ts and (k.known_valid_to is null or k.known_valid_to > ts) and k.status = 'confirmed'
    group by n.property_code, n.business_date
$$;
comment on function feeds.nights_on_books(timestamptz, boolean, text) is
    'Confirmed room nights and room revenue on the books at ts, per property and business date: the booking versions valid at ts in OTA time (valid_from <= ts < valid_to), recomputed among the versions loaded by ts (loaded_at <= ts); include_late = true also counts versions loaded after ts, still placed by OTA time. only_property limits it to one property.';

create function feeds.booking_pace_as_of(
    ts timestamptz, stay_from date default null, stay_to date default null, only_property text default null,
    include_late boolean default false)
returns table (
    property_code text, stay_date date, as_of_date date, days_before_arrival integer, dba_bucket text,
    currency text, reporting_currency text, room_nights bigint, revenue_net numeric, revenue_gross numeric,
    revenue_net_rc numeric, revenue_gross_rc numeric, adr_net numeric, adr_net_rc numeric,
    pickup_1d bigint, pickup_7d bigint, pickup_30d bigint,
    pickup_revenue_net_1d numeric, pickup_revenue_net_7d numeric, pickup_revenue_net_30d numeric,
    ly_stay_date date, ly_room_nights bigint, ly_revenue_net numeric, ly_revenue_net_rc numeric, ly_adr_net numeric)
language sql stable
as $$
    with props as (
        select p.property_code, p.currency, p.reporting_currency, (ts at time zone p.time_zone)::date as as_of_date
        from dims.properties p
        where only_property is null or p.property_code = only_property
    ),
    now_ as (select * from feeds.nights_on_books(ts, include_late, only_property)),
    d1 as (select * from feeds.nights_on_books(ts - interval '1 day', include_late, only_property)),
    d7 as (select * from feeds.nights_on_books(ts - interval '7 days', include_late, only_property)),
    d30 as (select * from feeds.nights_on_books(ts - interval '30 days', include_late, only_property)),
    -- Last year aligned by weekday: the stay date 364 days earlier, as of 364
    -- days earlier, so it is the same days before arrival.
    ly as (
        select l.property_code, l.business_date + 364 as business_date, l.business_date as ly_date, l.room_nights,
               l.revenue_net, l.revenue_net_rc
        from feeds.nights_on_books(ts - interval '364 days', include_late, only_property) l
    ),
    keys as (
        select k.property_code, k.business_date from now_ k
        union select k.property_code, k.business_date from d1 k
        union select k.property_code, k.business_date from d7 k
        union select k.property_code, k.business_date from d30 k
        union select k.property_code, k.business_date from ly k
    )
    select k.property_code, k.business_date, p.as_of_date, k.business_date - p.as_of_date,
           case when k.business_date - p.as_of_date < 0 then 'past'
                when k.business_date - p.as_of_date <= 7 then '0-7'
                when k.business_date - p.as_of_date <= 14 then '8-14'
                when k.business_date - p.as_of_date <= 30 then '15-30'
                when k.business_date - p.as_of_date <= 60 then '31-60'
                when k.business_date - p.as_of_date <= 90 then '61-90'
                else '91+' end,
           p.currency, p.reporting_currency,
           coalesce(n.room_nights, 0), coalesce(n.revenue_net, 0), coalesce(n.revenue_gross, 0),
           coalesce(n.revenue_net_rc, 0), coalesce(n.revenue_gross_rc, 0),
           round(n.revenue_net / nullif(n.room_nights, 0), 2), round(n.revenue_net_rc / nullif(n.room_nights, 0), 2),
           coalesce(n.room_nights, 0) - coalesce(a.room_nights, 0),
           coalesce(n.room_nights, 0) - coalesce(b.room_nights, 0),
           coalesce(n.room_nights, 0) - coalesce(c.room_nights, 0),
           coalesce(n.revenue_net, 0) - coalesce(a.revenue_net, 0),
           coalesce(n.revenue_net, 0) - coalesce(b.revenue_net, 0),
           coalesce(n.revenue_net, 0) - coalesce(c.revenue_net, 0),
           k.business_date - 364, coalesce(l.room_nights, 0), coalesce(l.revenue_net, 0),
           coalesce(l.revenue_net_rc, 0), round(l.revenue_net / nullif(l.room_nights, 0), 2)
    from keys k
    join props p on p.property_code = k.property_code
    left join now_ n on n.property_code = k.property_code and n.business_date = k.business_date
    left join d1 a on a.property_code = k.property_code and a.business_date = k.business_date
    left join d7 b on b.property_code = k.property_code and b.business_date = k.business_date
    left join d30 c on c.property_code = k.property_code and c.business_date = k.business_date
    left join ly l on l.property_code = k.property_code and l.business_date = k.business_date
    where (stay_from is null or k.business_date >= stay_from) and (stay_to is null or k.business_date <= stay_to)
$$;
comment on function feeds.booking_pace_as_of(timestamptz, date, date, text, boolean) is
    'Booking pace per property and stay date (business dates in the property''s time zone) as the warehouse knew it at ts: room nights on the books (rooms occupied that night, confirmed versions valid at ts in OTA time, valid_from <= ts < valid_to, among versions loaded by ts: loaded_at <= ts), room revenue net and gross in the property''s and the reporting currency, ADR (net revenue per room night); pickup over 1, 7 and 30 days (on the books at ts minus at ts - N days); last year aligned by weekday (stay date - 364 as of ts - 364 days); days before arrival (stay date - the as-of business date) and its bucket. include_late = true counts versions loaded after ts too (a late backfill), still placed by OTA time. stay_from, stay_to and only_property narrow the rows; a stay date appears when any of those points had something on the books.';

grant execute on function feeds.nights_on_books(timestamptz, boolean, text) to ota_analyst, ota_ingest;
grant execute on function feeds.booking_pace_as_of(timestamptz, date, date, text, boolean) to ota_analyst, ota_ingest;
