-- Availability and rates as versioned facts: one version per run of identical
-- observations of a cell, so an unchanged value seen again creates nothing.
-- Partitioned by stay-date month (the cell key includes the stay date, so a
-- cell lives in exactly one partition).
--
-- No overlap: PostgreSQL 15 cannot put an exclusion constraint on a
-- partitioned parent, and one per partition (GiST over the 8-column rate key)
-- made promoting 1,000,000 cells take minutes. Instead: a partial unique index
-- allows one current row per cell, valid_to > valid_from is checked, the
-- transforms assert the chain of every cell whose history they recompute, and
-- the data-quality check rates.no_overlap / availability.no_overlap proves the
-- whole chain (valid_to = the next valid_from) after every run.

create table facts.availability (
    property_code        text not null,
    room_code            text not null,
    stay_date            date not null,
    valid_from           timestamptz not null,
    row_hash             uuid not null,
    valid_to             timestamptz,
    is_current           boolean not null generated always as (valid_to is null) stored,
    version              integer not null check (version > 0),
    allotment            integer not null,
    stop_sell            boolean not null,
    min_stay             integer not null,
    max_stay             integer not null,
    closed_to_arrival    boolean not null,
    closed_to_departure  boolean not null,
    source               text not null,
    loaded_at            timestamptz not null,
    primary key (property_code, room_code, stay_date, valid_from),
    check (valid_to is null or valid_to > valid_from)
) partition by range (stay_date);
create unique index availability_one_current_idx on facts.availability (property_code, room_code, stay_date) where valid_to is null;
create index availability_loaded_at_idx on facts.availability (loaded_at);

comment on table facts.availability is
    'Room x night availability as versioned facts: a new version only when a tracked value changes. Current: WHERE is_current. When a cell was last seen: feeds.availability_last_seen. Partitioned by stay-date month.';
comment on column facts.availability.property_code is 'The property.';
comment on column facts.availability.room_code is 'The room (dims.rooms).';
comment on column facts.availability.stay_date is 'The night; the partition key.';
comment on column facts.availability.valid_from is 'When the OTA first showed these values: the observation time of the first observation of the run.';
comment on column facts.availability.row_hash is 'MD5 of the tracked values (allotment, stop sell, min/max stay, closed to arrival/departure) as a uuid; equal hash, no new version.';
comment on column facts.availability.valid_to is 'The next version''s valid_from; NULL for the current version.';
comment on column facts.availability.is_current is 'True for the latest version (valid_to IS NULL).';
comment on column facts.availability.version is 'Ordinal of the version within the cell, 1 = first; for people, not a key.';
comment on column facts.availability.allotment is 'Rooms left to sell.';
comment on column facts.availability.stop_sell is 'Room-level stop sell.';
comment on column facts.availability.min_stay is 'Room-level minimum stay in nights (1 = none).';
comment on column facts.availability.max_stay is 'Room-level maximum stay in nights (0 = none).';
comment on column facts.availability.closed_to_arrival is 'Arrivals not allowed on this night.';
comment on column facts.availability.closed_to_departure is 'Departures not allowed on this night.';
comment on column facts.availability.source is 'The configured source that observed it.';
comment on column facts.availability.loaded_at is 'When the warehouse learned this version (the first observation''s loaded_at): the transaction time as-of queries filter on.';

create table facts.rates (
    property_code  text not null,
    rate_id        text not null,
    room_code      text not null,
    stay_date      date not null,
    adults         integer not null,
    children       integer not null,
    channel        text not null,
    valid_from     timestamptz not null,
    row_hash       uuid not null,
    valid_to       timestamptz,
    is_current     boolean not null generated always as (valid_to is null) stored,
    version        integer not null check (version > 0),
    price          numeric(12, 2),
    currency       text not null,
    closeout       boolean not null,
    min_stay       integer not null,
    available      integer,
    source         text not null,
    stream         text not null,
    loaded_at      timestamptz not null,
    primary key (property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from),
    check (valid_to is null or valid_to > valid_from)
) partition by range (stay_date);
create unique index rates_one_current_idx on facts.rates (property_code, rate_id, room_code, stay_date, adults, children, channel) where valid_to is null;
create index rates_loaded_at_idx on facts.rates (loaded_at);

comment on table facts.rates is
    'Rate plan x night x occupancy x channel prices as versioned facts: a new version only when a tracked value changes. Current: WHERE is_current. When a cell was last seen: feeds.rates_last_seen. Partitioned by stay-date month.';
comment on column facts.rates.property_code is 'The property.';
comment on column facts.rates.rate_id is 'The rate plan (dims.rate_plans).';
comment on column facts.rates.room_code is 'The room the rate sells (dims.rooms).';
comment on column facts.rates.stay_date is 'The night; the partition key.';
comment on column facts.rates.adults is 'Occupancy: adults.';
comment on column facts.rates.children is 'Occupancy: children.';
comment on column facts.rates.channel is 'Channel the price applies to (dims.channels); '''' when the source has none.';
comment on column facts.rates.valid_from is 'When the OTA first showed these values: the source''s updated_at where the feed has one, else the observation time, of the first observation of the run.';
comment on column facts.rates.row_hash is 'MD5 of the tracked values (price, currency, closeout, min stay, available) as a uuid; equal hash, no new version.';
comment on column facts.rates.valid_to is 'The next version''s valid_from; NULL for the current version.';
comment on column facts.rates.is_current is 'True for the latest version (valid_to IS NULL).';
comment on column facts.rates.version is 'Ordinal of the version within the cell, 1 = first; for people, not a key.';
comment on column facts.rates.price is 'Price of the night at this occupancy, in currency; NULL when the feed gave none.';
comment on column facts.rates.currency is 'ISO 4217 currency of price.';
comment on column facts.rates.closeout is 'Rate-level closeout (closed to sale), separate from the room''s stop sell.';
comment on column facts.rates.min_stay is 'Rate-level minimum stay (1 = none).';
comment on column facts.rates.available is 'Rooms available, when the feed carries it (cursor feeds); NULL otherwise.';
comment on column facts.rates.source is 'The configured source that observed it.';
comment on column facts.rates.stream is 'rates (WebHotelier /manage/rates) or inventory (a cursor feed).';
comment on column facts.rates.loaded_at is 'When the warehouse learned this version (the first observation''s loaded_at): the transaction time as-of queries filter on.';

-- The tracked values of a cell, hashed: one expression shared by the fast
-- path, the late path and a full refresh, so all three see the same versions.
create function facts.availability_row_hash(
    allotment integer, stop_sell boolean, min_stay integer, max_stay integer,
    closed_to_arrival boolean, closed_to_departure boolean)
returns uuid
language sql immutable parallel safe
as $$ select md5(row(allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure)::text)::uuid $$;
comment on function facts.availability_row_hash(integer, boolean, integer, integer, boolean, boolean) is
    'facts.availability.row_hash: MD5 of the tracked values as a uuid.';

create function facts.rate_row_hash(price numeric, currency text, closeout boolean, min_stay integer, available integer)
returns uuid
language sql immutable parallel safe
as $$ select md5(row(price, currency, closeout, min_stay, available)::text)::uuid $$;
comment on function facts.rate_row_hash(numeric, text, boolean, integer, integer) is
    'facts.rates.row_hash: MD5 of the tracked values as a uuid.';

-- Creates the month partitions of facts.availability and facts.rates covering
-- first_day..last_day. Table
-- names derive from the month alone, never from input. SECURITY DEFINER: the
-- loader role may extend the tables it writes without owning them.
create function facts.ensure_stay_partitions(first_day date, last_day date) returns integer
language plpgsql security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
    month date;
    suffix text;
    created integer := 0;
begin
    if first_day is null or last_day is null then
        return 0;
    end if;
    for month in select generate_series(date_trunc('month', first_day), date_trunc('month', last_day), interval '1 month')::date loop
        suffix := to_char(month, 'YYYYMM');
        if to_regclass('facts.availability_' || suffix) is null then
            execute format('create table facts.%I partition of facts.availability for values from (%L) to (%L)',
                'availability_' || suffix, month, (month + interval '1 month')::date);
            execute format('comment on table facts.%I is %L', 'availability_' || suffix,
                'Stay dates of ' || to_char(month, 'YYYY-MM') || ' of facts.availability (query the parent).');
            created := created + 1;
        end if;
        if to_regclass('facts.rates_' || suffix) is null then
            execute format('create table facts.%I partition of facts.rates for values from (%L) to (%L)',
                'rates_' || suffix, month, (month + interval '1 month')::date);
            execute format('comment on table facts.%I is %L', 'rates_' || suffix,
                'Stay dates of ' || to_char(month, 'YYYY-MM') || ' of facts.rates (query the parent).');
            created := created + 1;
        end if;
    end loop;
    return created;
end
$$;
comment on function facts.ensure_stay_partitions(date, date) is
    'Creates the missing month partitions of facts.availability and facts.rates for first_day..last_day; returns how many it created.';
