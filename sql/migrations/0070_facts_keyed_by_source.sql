-- Each source keeps its own truth: `source` joins the key of facts.rates,
-- facts.availability, facts.reservations and facts.reservation_nights (primary
-- keys, one-current-row indexes, the bookings' exclusion constraint), right
-- after the cell or booking it qualifies; property_code stays first.
--
-- Until now two sources serving the same cell (a channel manager and an OTA's
-- cursor feed) wrote one chain of versions: each closed the other's version
-- and the chain alternated between them. This migration splits every chain
-- into one per source, in place and from the facts themselves (staging may have
-- been purged, so a full refresh cannot rebuild old history):
--   rates, availability  per (cell, source), a version equal to the previous
--                        version of the same source is the same run of values
--                        (another source's version had cut it): it goes, and
--                        the earlier one holds on;
--   reservations         every version stays (each is a distinct body);
--   all                  valid_to is the next valid_from within (key, source),
--                        version and lifecycle are counted again within it.
-- A value one source showed while another source's equal value was in force
-- left no version at the time, so it cannot be recovered here; with values
-- that differ between sources (the usual case: prices per channel) the result
-- equals a fresh build from staging.
--
-- Tables are altered, never recreated, so their grants stay. The as-of
-- functions gain their source column in 0073_withdrawn_cells.sql.

-- facts.rates -----------------------------------------------------------------

drop index facts.rates_one_current_idx;
alter table facts.rates drop constraint rates_pkey;

delete from facts.rates f
using (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, source, valid_from,
           row_hash, lag(row_hash) over cell as previous_hash
    from facts.rates
    window cell as (partition by property_code, rate_id, room_code, stay_date, adults, children, channel, source
                    order by valid_from)
) s
where (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from)
    = (s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel, s.source, s.valid_from)
  and s.previous_hash = s.row_hash;

update facts.rates f
set valid_to = s.next_from, version = s.ordinal
from (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, source, valid_from,
           lead(valid_from) over cell as next_from, row_number() over cell as ordinal
    from facts.rates
    window cell as (partition by property_code, rate_id, room_code, stay_date, adults, children, channel, source
                    order by valid_from)
) s
where (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from)
    = (s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel, s.source, s.valid_from)
  and (f.valid_to is distinct from s.next_from or f.version <> s.ordinal);

alter table facts.rates
    add constraint rates_pkey
        primary key (property_code, rate_id, room_code, stay_date, adults, children, channel, source, valid_from);
create unique index rates_one_current_idx
    on facts.rates (property_code, rate_id, room_code, stay_date, adults, children, channel, source)
    where valid_to is null;

-- facts.availability ----------------------------------------------------------

drop index facts.availability_one_current_idx;
alter table facts.availability drop constraint availability_pkey;

delete from facts.availability f
using (
    select property_code, room_code, stay_date, source, valid_from, row_hash,
           lag(row_hash) over cell as previous_hash
    from facts.availability
    window cell as (partition by property_code, room_code, stay_date, source order by valid_from)
) s
where (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from)
    = (s.property_code, s.room_code, s.stay_date, s.source, s.valid_from)
  and s.previous_hash = s.row_hash;

update facts.availability f
set valid_to = s.next_from, version = s.ordinal
from (
    select property_code, room_code, stay_date, source, valid_from,
           lead(valid_from) over cell as next_from, row_number() over cell as ordinal
    from facts.availability
    window cell as (partition by property_code, room_code, stay_date, source order by valid_from)
) s
where (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from)
    = (s.property_code, s.room_code, s.stay_date, s.source, s.valid_from)
  and (f.valid_to is distinct from s.next_from or f.version <> s.ordinal);

alter table facts.availability
    add constraint availability_pkey primary key (property_code, room_code, stay_date, source, valid_from);
create unique index availability_one_current_idx
    on facts.availability (property_code, room_code, stay_date, source) where valid_to is null;

-- facts.reservations and facts.reservation_nights ------------------------------

-- The nights' foreign key, the bookings' exclusion constraint and their keys
-- go first (their generated names are looked up, not spelled).
do $$
declare
    name text;
begin
    for name in
        select c.conname from pg_constraint c
        where c.conrelid = 'facts.reservation_nights'::regclass and c.contype = 'f'
          and c.confrelid = 'facts.reservations'::regclass
    loop
        execute format('alter table facts.reservation_nights drop constraint %I', name);
    end loop;
    for name in
        select c.conname from pg_constraint c
        where c.conrelid = 'facts.reservations'::regclass and c.contype = 'x'
    loop
        execute format('alter table facts.reservations drop constraint %I', name);
    end loop;
end
$$;
drop index facts.reservations_one_current_idx;
alter table facts.reservation_nights drop constraint reservation_nights_pkey;
alter table facts.reservations drop constraint reservations_pkey;

alter table facts.reservation_nights add column source text;
update facts.reservation_nights n
set source = r.source
from facts.reservations r
where (r.property_code, r.confirmation_id, r.valid_from, r.content_hash)
    = (n.property_code, n.confirmation_id, n.valid_from, n.content_hash);
alter table facts.reservation_nights alter column source set not null;
comment on column facts.reservation_nights.source is 'The configured source of the version (facts.reservations.source).';

update facts.reservations f
set valid_to = s.next_from, version = s.ordinal, lifecycle = s.lifecycle
from (
    select property_code, confirmation_id, source, valid_from, content_hash,
           lead(valid_from) over booking as next_from,
           row_number() over booking as ordinal,
           case when row_number() over booking = 1 then 'new'
                when lag(status) over booking = 'confirmed' and status = 'cancelled' then 'cancel'
                when lag(status) over booking = 'cancelled' and status = 'confirmed' then 'restore'
                else 'update' end as lifecycle
    from facts.reservations
    window booking as (partition by property_code, confirmation_id, source order by valid_from, staging_event_id)
) s
where (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
    = (s.property_code, s.confirmation_id, s.source, s.valid_from, s.content_hash)
  and (f.valid_to is distinct from s.next_from or f.version <> s.ordinal or f.lifecycle <> s.lifecycle);

update facts.reservation_nights n
set valid_to = r.valid_to
from facts.reservations r
where (r.property_code, r.confirmation_id, r.source, r.valid_from, r.content_hash)
    = (n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash)
  and n.valid_to is distinct from r.valid_to;

alter table facts.reservations
    add constraint reservations_pkey primary key (property_code, confirmation_id, source, valid_from, content_hash),
    add constraint reservations_no_overlap
        exclude using gist (property_code with =, confirmation_id with =, source with =,
                            tstzrange(valid_from, valid_to) with &&);
create unique index reservations_one_current_idx
    on facts.reservations (property_code, confirmation_id, source) where valid_to is null;
alter table facts.reservation_nights
    add constraint reservation_nights_pkey
        primary key (property_code, confirmation_id, source, valid_from, content_hash, room_no, business_date),
    add constraint reservation_nights_version_fkey
        foreign key (property_code, confirmation_id, source, valid_from, content_hash)
        references facts.reservations on delete cascade;

comment on column facts.reservations.source is
    'The configured source the booking came from, e.g. webhotelier; part of the key: two sources never share a version chain, so their booking numbers cannot collide.';
comment on column facts.availability.source is
    'The configured source that observed it; part of the key: each source keeps its own versions of a cell.';
comment on column facts.rates.source is
    'The configured source that observed it; part of the key: each source keeps its own versions of a cell (feeds.pricing_current_rates says which one pricing prefers).';
comment on column facts.reservations.valid_to is 'The next version''s valid_from (same booking and source); NULL for the current version.';
comment on column facts.availability.valid_to is 'The next version''s valid_from (same cell and source); NULL for the current version.';
comment on column facts.rates.valid_to is 'The next version''s valid_from (same cell and source); NULL for the current version.';

-- When a cell was last seen, per source ---------------------------------------

create or replace view feeds.availability_last_seen as
select o.property_code, o.room_code, o.stay_date,
       max(o.observed_at) as last_seen_at,
       min(o.observed_at) as first_seen_at,
       count(*) as observations,
       o.source
from staging.availability_observations o
group by o.property_code, o.room_code, o.stay_date, o.source;
comment on view feeds.availability_last_seen is
    'Per room x night and source: when the source''s availability feed last and first showed it, and how often (over the retained observation log; purge drops old load dates).';
comment on column feeds.availability_last_seen.source is 'The configured source that showed it.';

create or replace view feeds.rates_last_seen as
select o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel,
       max(o.observed_at) as last_seen_at,
       min(o.observed_at) as first_seen_at,
       count(*) as observations,
       o.source
from staging.rate_observations o
group by o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel, o.source;
comment on view feeds.rates_last_seen is
    'Per rate x night x occupancy x channel and source: when the source last and first showed it, and how often (over the retained observation log; purge drops old load dates).';
comment on column feeds.rates_last_seen.source is 'The configured source that showed it.';
