-- Raw landing tables. Append-only: a row is never updated, only added (and,
-- for observations, dropped with its whole load-date partition by purge).

create table staging.reservation_events (
    event_id         bigint generated always as identity primary key,
    source           text not null,
    property_code    text not null,
    confirmation_id  text not null,
    event_type       text not null check (event_type in ('new', 'update', 'cancel', 'restore', 'transaction')),
    sync_type        text,
    origin           text not null check (origin in ('pull', 'recovery', 'push', 'ping', 'backfill')),
    ota_time         timestamptz,
    content_hash     text not null,
    is_collision     boolean not null default false,
    raw              bytea not null,
    raw_format       text not null default 'json' check (raw_format in ('json', 'xml')),
    data             jsonb not null,
    batch_id         text not null,
    run_id           text not null,
    loaded_at        timestamptz not null default now()
);
-- A booking version is stored once, however many times and ways it arrives.
create unique index reservation_events_version_key
    on staging.reservation_events (source, confirmation_id, content_hash);
create index reservation_events_property_idx on staging.reservation_events (property_code, confirmation_id);

comment on table staging.reservation_events is
    'Every distinct version of every booking as received (pull, push, recovery or backfill). Contains personal data (clientInfo, guest_names).';
comment on column staging.reservation_events.event_id is 'Arrival order in the warehouse; breaks ties between versions with the same OTA time.';
comment on column staging.reservation_events.source is 'The configured source name, e.g. webhotelier.';
comment on column staging.reservation_events.property_code is 'The OTA''s property code.';
comment on column staging.reservation_events.confirmation_id is 'The OTA''s confirmation number (WebHotelier id), globally unique per source.';
comment on column staging.reservation_events.event_type is 'What the OTA said happened: new, update, cancel, restore, transaction (pull maps syncType NEW/MOD/CL). The lifecycle in facts comes from status transitions, not from this.';
comment on column staging.reservation_events.sync_type is 'The pending list''s syncType (NEW, MOD, CL) for pulled bookings; NULL otherwise.';
comment on column staging.reservation_events.origin is 'How it arrived: pull, recovery (search by last modification), push, ping, backfill.';
comment on column staging.reservation_events.ota_time is 'When this version came to be at the OTA: the latest changes[].date, else bookInfo.book_date.';
comment on column staging.reservation_events.content_hash is 'Hex SHA-256 of the canonical data element (jsonb text), the same for pull, JSON push and XML push.';
comment on column staging.reservation_events.is_collision is 'True for a "new" that reused a known confirmation number with other content: kept for audit, never promoted.';
comment on column staging.reservation_events.raw is 'The bytes exactly as received.';
comment on column staging.reservation_events.raw_format is 'json or xml.';
comment on column staging.reservation_events.data is 'The booking body (the data element) parsed, for querying.';
comment on column staging.reservation_events.batch_id is 'The batch this row landed in (see ops.batches).';
comment on column staging.reservation_events.run_id is 'The run that landed it (see ops.runs).';
comment on column staging.reservation_events.loaded_at is 'When the warehouse committed it (transaction time).';

-- Observations are logs: an unchanged cell seen again tomorrow is a new row.
-- Partitioned by load date so retention is a partition drop.
create table staging.availability_observations (
    source               text not null,
    property_code        text not null,
    room_code            text not null,
    stay_date            date not null,
    allotment            integer not null,
    stop_sell            boolean not null,
    min_stay             integer not null,
    max_stay             integer not null,
    closed_to_arrival    boolean not null,
    closed_to_departure  boolean not null,
    observed_at          timestamptz not null,
    load_date            date not null,
    batch_id             text not null,
    run_id               text not null,
    raw                  text not null
) partition by range (load_date);

comment on table staging.availability_observations is
    'Every availability cell (room x night) each time it was fetched. Partitioned by load_date.';
comment on column staging.availability_observations.room_code is 'The OTA''s room code.';
comment on column staging.availability_observations.stay_date is 'The night.';
comment on column staging.availability_observations.allotment is 'Rooms left to sell (allot).';
comment on column staging.availability_observations.stop_sell is 'Room-level stop sell.';
comment on column staging.availability_observations.min_stay is 'Room-level minimum stay in nights (1 = none).';
comment on column staging.availability_observations.max_stay is 'Room-level maximum stay in nights (0 = none).';
comment on column staging.availability_observations.closed_to_arrival is 'Arrivals not allowed on this night.';
comment on column staging.availability_observations.closed_to_departure is 'Departures not allowed on this night.';
comment on column staging.availability_observations.observed_at is 'When the value was fetched from the OTA.';
comment on column staging.availability_observations.load_date is 'The UTC date of landing; the partition key.';
comment on column staging.availability_observations.raw is 'The feed entry as received, as JSON text (a from/to range entry is repeated on each of its nights). Text, not jsonb: the typed columns are the parsed copy, and parsing every observation again costs the load a third of its time; cast with raw::jsonb to query it.';

create table staging.rate_observations (
    source             text not null,
    stream             text not null check (stream in ('rates', 'inventory')),
    property_code      text not null,
    rate_id            text not null,
    room_code          text not null,
    stay_date          date not null,
    adults             integer not null,
    children           integer not null default 0,
    channel            text not null default '',
    price              numeric(12, 2),
    currency           text not null,
    closeout           boolean not null default false,
    min_stay           integer not null default 1,
    available          integer,
    record_key         text,
    record_hash        text,
    source_updated_at  timestamptz,
    observed_at        timestamptz not null,
    load_date          date not null,
    batch_id           text not null,
    run_id             text not null,
    raw                text not null
) partition by range (load_date);

comment on table staging.rate_observations is
    'Every rate cell (rate x night x occupancy x channel) each time it was fetched, from the WebHotelier rates feed or a cursor inventory feed. Partitioned by load_date.';
comment on column staging.rate_observations.stream is 'rates (WebHotelier /manage/rates) or inventory (a cursor feed).';
comment on column staging.rate_observations.rate_id is 'The OTA''s rate plan id.';
comment on column staging.rate_observations.room_code is 'The room the rate sells, from the property''s rate list or the record.';
comment on column staging.rate_observations.adults is 'Occupancy: adults.';
comment on column staging.rate_observations.children is 'Occupancy: children.';
comment on column staging.rate_observations.channel is 'Channel the price applies to; empty when the source has none.';
comment on column staging.rate_observations.price is 'Price for the night at this occupancy, in currency.';
comment on column staging.rate_observations.currency is 'ISO 4217 code, from the property when the feed gives none.';
comment on column staging.rate_observations.closeout is 'Rate-level closeout (closed to sale).';
comment on column staging.rate_observations.min_stay is 'Rate-level minimum stay (1 = none).';
comment on column staging.rate_observations.available is 'Rooms available, when the feed carries it (cursor feeds).';
comment on column staging.rate_observations.record_key is 'The source''s own record key (cursor feeds).';
comment on column staging.rate_observations.record_hash is 'Hash of the record''s bytes as received (cursor feeds): with record_key, what makes a record the same record.';
comment on column staging.rate_observations.source_updated_at is 'The source''s updated_at for the record (cursor feeds).';
comment on column staging.rate_observations.observed_at is 'When the value was fetched from the OTA.';
comment on column staging.rate_observations.load_date is 'The UTC date of landing; the partition key.';
comment on column staging.rate_observations.raw is 'The record as received, as JSON text (not jsonb: the typed columns are the parsed copy; cast with raw::jsonb to query it).';

-- Creates the load-date partitions for a day. Table names derive from the
-- date alone, never from input.
create function staging.ensure_load_partitions(day date) returns void
language plpgsql as $$
declare
    suffix text := to_char(day, 'YYYYMMDD');
begin
    -- "if not exists" is not safe against a concurrent create: serialise creators.
    perform pg_advisory_xact_lock(hashtext('staging.ensure_load_partitions'));
    execute format(
        'create table if not exists staging.%I partition of staging.availability_observations for values from (%L) to (%L)',
        'availability_observations_' || suffix, day, day + 1);
    execute format(
        'create table if not exists staging.%I partition of staging.rate_observations for values from (%L) to (%L)',
        'rate_observations_' || suffix, day, day + 1);
end
$$;
comment on function staging.ensure_load_partitions(date) is
    'Creates the availability and rate observation partitions for one load date (idempotent).';
