-- A cell the OTA stopped serving (a withdrawn rate plan, a room taken off
-- sale) is closed through staging, like every other change: reconciliation
-- lands a tombstone observation (origin 'reconcile', withdrawn = true) once
-- two consecutive complete reads no longer show the cell, and the transform
-- ends the cell's version there and starts a withdrawn one. A later
-- observation of the cell starts a new version again. Facts stay a pure
-- function of staging: a full refresh gives the same withdrawn versions.
--
-- The as-of functions gain the source (0070_facts_keyed_by_source.sql) and
-- withdrawn columns; they are recreated with the grants they had.
--
-- A withdrawn version keeps the last values the cell had (the value columns
-- are NOT NULL) with withdrawn = true; its row_hash is the all-zero uuid, so
-- two tombstones in a row are one version and any real observation differs.

alter table staging.rate_observations add column withdrawn boolean not null default false;
comment on column staging.rate_observations.withdrawn is
    'True for a tombstone: reconciliation found the cell gone from two consecutive complete reads (origin reconcile); the values are the cell''s last ones.';
alter table staging.availability_observations add column withdrawn boolean not null default false;
comment on column staging.availability_observations.withdrawn is
    'True for a tombstone: reconciliation found the cell gone from two consecutive complete reads (origin reconcile); the values are the cell''s last ones.';

alter table facts.rates add column withdrawn boolean not null default false;
comment on column facts.rates.withdrawn is
    'True when the OTA stopped serving the cell: this version began when reconciliation found it gone and carries the last values seen. Current prices: WHERE is_current AND NOT withdrawn.';
alter table facts.availability add column withdrawn boolean not null default false;
comment on column facts.availability.withdrawn is
    'True when the OTA stopped serving the cell: this version began when reconciliation found it gone and carries the last values seen. Current availability: WHERE is_current AND NOT withdrawn.';

-- The row hash of a version: the tracked values', or the all-zero uuid for a
-- withdrawn one. One expression for every path of the transforms.
create function facts.rate_version_hash(
    price numeric, currency text, closeout boolean, min_stay integer, available integer, withdrawn boolean)
returns uuid
language sql immutable parallel safe
as $$
select case when withdrawn then '00000000-0000-0000-0000-000000000000'::uuid
            else facts.rate_row_hash(price, currency, closeout, min_stay, available) end
$$;
comment on function facts.rate_version_hash(numeric, text, boolean, integer, integer, boolean) is
    'facts.rates.row_hash of a version: facts.rate_row_hash of its values, or the all-zero uuid when withdrawn.';

create function facts.availability_version_hash(
    allotment integer, stop_sell boolean, min_stay integer, max_stay integer,
    closed_to_arrival boolean, closed_to_departure boolean, withdrawn boolean)
returns uuid
language sql immutable parallel safe
as $$
select case when withdrawn then '00000000-0000-0000-0000-000000000000'::uuid
            else facts.availability_row_hash(allotment, stop_sell, min_stay, max_stay, closed_to_arrival,
                                             closed_to_departure) end
$$;
comment on function facts.availability_version_hash(integer, boolean, integer, integer, boolean, boolean, boolean) is
    'facts.availability.row_hash of a version: facts.availability_row_hash of its values, or the all-zero uuid when withdrawn.';

grant execute on function facts.rate_version_hash(numeric, text, boolean, integer, integer, boolean),
    facts.availability_version_hash(integer, boolean, integer, integer, boolean, boolean, boolean) to ota_ingest;

-- The grants on the functions recreated below, to give back afterwards.
create temp table migration_function_acl on commit drop as
select p.oid::regprocedure::text as function_signature, a.grantee, a.privilege_type, a.is_grantable
from pg_proc p
cross join lateral aclexplode(p.proacl) a
where p.oid in ('feeds.reservations_as_of(timestamptz)'::regprocedure,
                'feeds.availability_as_of(timestamptz)'::regprocedure,
                'feeds.rates_as_of(timestamptz)'::regprocedure);

-- As-of reads, per source and with the withdrawn flag ---------------------------

drop function feeds.reservations_as_of(timestamptz);
create function feeds.reservations_as_of(ts timestamptz)
returns table (
    property_code text, confirmation_id text, valid_from timestamptz, valid_to timestamptz, is_current boolean,
    version integer, status text, check_in date, check_out date, nights integer, rooms integer,
    room_nights integer, room_code text, rate_id text, channel_code text, booked_at timestamptz, currency text,
    room_revenue_gross numeric, room_revenue_net numeric, total_gross numeric, reporting_currency text,
    room_revenue_gross_rc numeric, total_gross_rc numeric, guest_hash text, content_hash text,
    loaded_at timestamptz, source text)
language sql stable
as $$
    select r.property_code, r.confirmation_id, r.valid_from, k.valid_to, k.valid_to is null, k.version::integer,
           r.status, r.check_in, r.check_out, r.nights, r.rooms, r.room_nights, r.room_code, r.rate_id,
           r.channel_code, r.booked_at, r.currency, r.room_revenue_gross, r.room_revenue_net, r.total_gross,
           r.reporting_currency, r.room_revenue_gross_rc, r.total_gross_rc, r.guest_hash, r.content_hash,
           r.loaded_at, r.source
    from facts.reservations r
    join (
        select f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash,
               lead(f.valid_from) over booking as valid_to,
               row_number() over booking as version
        from facts.reservations f
        where f.loaded_at <= ts
        window booking as (partition by f.property_code, f.confirmation_id, f.source
                           order by f.valid_from, f.staging_event_id)
    ) k using (property_code, confirmation_id, source, valid_from, content_hash)
$$;
comment on function feeds.reservations_as_of(timestamptz) is
    'Booking versions as the warehouse knew them at ts, per source: only versions with loaded_at <= ts, valid_to and version recomputed among them. Current at ts: WHERE is_current.';

drop function feeds.availability_as_of(timestamptz);
create function feeds.availability_as_of(ts timestamptz)
returns table (
    property_code text, room_code text, stay_date date, valid_from timestamptz, valid_to timestamptz,
    is_current boolean, allotment integer, stop_sell boolean, min_stay integer, max_stay integer,
    closed_to_arrival boolean, closed_to_departure boolean, loaded_at timestamptz, source text, withdrawn boolean)
language sql stable
as $$
    with known as (
        select f.*, lag(f.row_hash) over cell as previous_hash
        from facts.availability f
        where f.loaded_at <= ts
        window cell as (partition by f.property_code, f.room_code, f.stay_date, f.source order by f.valid_from)
    ),
    runs as (
        select k.*, lead(k.valid_from) over cell as known_valid_to
        from known k
        where k.previous_hash is distinct from k.row_hash
        window cell as (partition by k.property_code, k.room_code, k.stay_date, k.source order by k.valid_from)
    )
    select property_code, room_code, stay_date, valid_from, known_valid_to, known_valid_to is null, allotment,
           stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, loaded_at, source, withdrawn
    from runs
$$;
comment on function feeds.availability_as_of(timestamptz) is
    'Availability versions as the warehouse knew them at ts, per source: only versions with loaded_at <= ts, equal neighbours merged, valid_to recomputed among them. Current at ts: WHERE is_current (AND NOT withdrawn for cells the OTA still served).';

drop function feeds.rates_as_of(timestamptz);
create function feeds.rates_as_of(ts timestamptz)
returns table (
    property_code text, rate_id text, room_code text, stay_date date, adults integer, children integer,
    channel text, valid_from timestamptz, valid_to timestamptz, is_current boolean, price numeric, currency text,
    closeout boolean, min_stay integer, available integer, loaded_at timestamptz, source text, withdrawn boolean)
language sql stable
as $$
    with known as (
        select f.*, lag(f.row_hash) over cell as previous_hash
        from facts.rates f
        where f.loaded_at <= ts
        window cell as (partition by f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children,
                        f.channel, f.source order by f.valid_from)
    ),
    runs as (
        select k.*, lead(k.valid_from) over cell as known_valid_to
        from known k
        where k.previous_hash is distinct from k.row_hash
        window cell as (partition by k.property_code, k.rate_id, k.room_code, k.stay_date, k.adults, k.children,
                        k.channel, k.source order by k.valid_from)
    )
    select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, known_valid_to,
           known_valid_to is null, price, currency, closeout, min_stay, available, loaded_at, source, withdrawn
    from runs
$$;
comment on function feeds.rates_as_of(timestamptz) is
    'Rate versions as the warehouse knew them at ts, per source: only versions with loaded_at <= ts, equal neighbours merged, valid_to recomputed among them. Current at ts: WHERE is_current (AND NOT withdrawn for cells the OTA still served).';

-- The grants the functions had (a function nobody restricted has no ACL and
-- gets the defaults again, as before).
do $$
declare
    g record;
begin
    for g in select * from migration_function_acl loop
        execute format('grant %s on function %s to %s%s', g.privilege_type, g.function_signature,
                       case when g.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(g.grantee)) end,
                       case when g.is_grantable then ' with grant option' else '' end);
    end loop;
    for g in select distinct function_signature from migration_function_acl f
             where not exists (select 1 from migration_function_acl p
                               where p.function_signature = f.function_signature and p.grantee = 0) loop
        execute format('revoke execute on function %s from public', g.function_signature);
    end loop;
end
$$;
