-- Point-in-time reads for pricing and ML: the state as the warehouse knew it
-- at ts. Only versions loaded by ts count, and validity is recomputed from
-- those alone, so a version that arrived late never leaks into an earlier
-- training set. Consecutive known versions with equal values (a late
-- observation split a run the warehouse did not know about yet) merge into one.

create function feeds.reservations_as_of(ts timestamptz)
returns table (
    property_code text, confirmation_id text, valid_from timestamptz, valid_to timestamptz, is_current boolean,
    version integer, status text, check_in date, check_out date, nights integer, rooms integer,
    room_nights integer, room_code text, rate_id text, channel_code text, booked_at timestamptz, currency text,
    room_revenue_gross numeric, room_revenue_net numeric, total_gross numeric, reporting_currency text,
    room_revenue_gross_rc numeric, total_gross_rc numeric, guest_hash text, content_hash text,
    loaded_at timestamptz)
language sql stable
as $$
    select r.property_code, r.confirmation_id, r.valid_from, k.valid_to, k.valid_to is null, k.version::integer,
           r.status, r.check_in, r.check_out, r.nights, r.rooms, r.room_nights, r.room_code, r.rate_id,
           r.channel_code, r.booked_at, r.currency, r.room_revenue_gross, r.room_revenue_net, r.total_gross,
           r.reporting_currency, r.room_revenue_gross_rc, r.total_gross_rc, r.guest_hash, r.content_hash,
           r.loaded_at
    from facts.reservations r
    join (
        select f.property_code, f.confirmation_id, f.valid_from, f.content_hash,
               lead(f.valid_from) over booking as valid_to,
               row_number() over booking as version
        from facts.reservations f
        where f.loaded_at <= ts
        window booking as (partition by f.property_code, f.confirmation_id order by f.valid_from, f.staging_event_id)
    ) k using (property_code, confirmation_id, valid_from, content_hash)
$$;
comment on function feeds.reservations_as_of(timestamptz) is
    'Booking versions as the warehouse knew them at ts: only versions with loaded_at <= ts, valid_to and version recomputed among them. Current at ts: WHERE is_current.';

create function feeds.availability_as_of(ts timestamptz)
returns table (
    property_code text, room_code text, stay_date date, valid_from timestamptz, valid_to timestamptz,
    is_current boolean, allotment integer, stop_sell boolean, min_stay integer, max_stay integer,
    closed_to_arrival boolean, closed_to_departure boolean, loaded_at timestamptz)
language sql stable
as $$
    with known as (
        select f.*, lag(f.row_hash) over cell as previous_hash
        from facts.availability f
        where f.loaded_at <= ts
        window cell as (partition by f.property_code, f.room_code, f.stay_date order by f.valid_from)
    ),
    runs as (
        select k.*, lead(k.valid_from) over cell as known_valid_to
        from known k
        where k.previous_hash is distinct from k.row_hash
        window cell as (partition by k.property_code, k.room_code, k.stay_date order by k.valid_from)
    )
    select property_code, room_code, stay_date, valid_from, known_valid_to, known_valid_to is null, allotment,
           stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, loaded_at
    from runs
$$;
comment on function feeds.availability_as_of(timestamptz) is
    'Availability versions as the warehouse knew them at ts: only versions with loaded_at <= ts, equal neighbours merged, valid_to recomputed among them. Current at ts: WHERE is_current.';

create function feeds.rates_as_of(ts timestamptz)
returns table (
    property_code text, rate_id text, room_code text, stay_date date, adults integer, children integer,
    channel text, valid_from timestamptz, valid_to timestamptz, is_current boolean, price numeric, currency text,
    closeout boolean, min_stay integer, available integer, loaded_at timestamptz)
language sql stable
as $$
    with known as (
        select f.*, lag(f.row_hash) over cell as previous_hash
        from facts.rates f
        where f.loaded_at <= ts
        window cell as (partition by f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children,
                        f.channel order by f.valid_from)
    ),
    runs as (
        select k.*, lead(k.valid_from) over cell as known_valid_to
        from known k
        where k.previous_hash is distinct from k.row_hash
        window cell as (partition by k.property_code, k.rate_id, k.room_code, k.stay_date, k.adults, k.children,
                        k.channel order by k.valid_from)
    )
    select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, known_valid_to,
           known_valid_to is null, price, currency, closeout, min_stay, available, loaded_at
    from runs
$$;
comment on function feeds.rates_as_of(timestamptz) is
    'Rate versions as the warehouse knew them at ts: only versions with loaded_at <= ts, equal neighbours merged, valid_to recomputed among them. Current at ts: WHERE is_current.';
