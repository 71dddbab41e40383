-- Snapshots of the OTA's authoritative state, one row per (source, stream,
-- property) read, with the compared fields of every key in recon.snapshot_*.
-- Never a booking body: only the fields reconciliation compares and a content
-- hash, so no personal data leaves staging and the dead letters.
--
-- A snapshot is written in one transaction (the row and all its keys), so a
-- reconcile killed half way leaves none. Old snapshots are dropped by id set
-- (recon.prune_snapshots), one statement per table, never key by key.

create table recon.snapshots (
    snapshot_id     bigint generated always as identity primary key,
    source          text not null,
    stream          text not null check (stream in ('reservations', 'availability', 'rates', 'inventory')),
    property_code   text not null,
    scope           text not null,
    read_kind       text not null check (read_kind in ('feed_read', 'full_traversal', 'search')),
    taken_at        timestamptz not null,
    stay_from       date,
    stay_to         date,
    modified_since  timestamptz,
    feed_run_id     text,
    keys            integer not null,
    counts          jsonb not null default '{}'::jsonb,
    pinned          boolean not null default false,
    pinned_at       timestamptz,
    run_id          text not null,
    created_at      timestamptz not null default now()
);
create index snapshots_scope_idx on recon.snapshots (source, stream, property_code, taken_at desc);

comment on table recon.snapshots is
    'One row per snapshot of the OTA''s state for one source, stream and property: what was read, when, and how many keys. The keys are in recon.snapshot_rates, recon.snapshot_availability or recon.snapshot_reservations.';
comment on column recon.snapshots.snapshot_id is 'Identity; increases with time, so the latest snapshot of a scope has the largest id.';
comment on column recon.snapshots.source is 'The configured source name.';
comment on column recon.snapshots.stream is 'reservations, availability, rates (WebHotelier feeds) or inventory (a cursor feed).';
comment on column recon.snapshots.property_code is 'The property the snapshot covers.';
comment on column recon.snapshots.scope is 'The keys the snapshot covers, in words (stay dates, modification window); only facts inside it are compared.';
comment on column recon.snapshots.read_kind is 'feed_read (the night''s WebHotelier feed read, reused), full_traversal (a cursor feed read without updated_after), search (the paginated WebHotelier booking search).';
comment on column recon.snapshots.taken_at is 'The OTA time the snapshot shows; facts are compared as they stood at this time.';
comment on column recon.snapshots.stay_from is 'First stay date in scope (feeds), or the first check-out date in scope (reservations: bookings checking out from this date on).';
comment on column recon.snapshots.stay_to is 'Last stay date in scope (feeds); NULL for reservations and cursor feeds.';
comment on column recon.snapshots.modified_since is 'Reservations: bookings modified since this time are in scope (with those checking out from stay_from on).';
comment on column recon.snapshots.feed_run_id is 'The pull run whose feed read this snapshot reuses (WebHotelier feeds), else NULL.';
comment on column recon.snapshots.keys is 'Keys in the snapshot.';
comment on column recon.snapshots.counts is 'What the read did: pages, requests, unreadable entries (dead-lettered at the read), ...';
comment on column recon.snapshots.pinned is 'A reference snapshot (reconcile --pin-reference): never pruned; the retraining feeds compare distributions against it.';
comment on column recon.snapshots.pinned_at is 'When it was pinned.';
comment on column recon.snapshots.run_id is 'The reconcile run that took it (ops.runs).';
comment on column recon.snapshots.created_at is 'When it was committed.';

create table recon.snapshot_rates (
    snapshot_id    bigint not null,
    property_code  text not null,
    rate_id        text not null,
    room_code      text not null,
    stay_date      date not null,
    adults         integer not null,
    children       integer not null,
    channel        text not null,
    price          numeric(12, 2),
    currency       text not null,
    closeout       boolean not null,
    min_stay       integer not null,
    available      integer,
    -- Computed as each key is copied in, by the same function as facts.rates.row_hash.
    row_hash       uuid not null generated always as (facts.rate_row_hash(price, currency, closeout, min_stay, available)) stored,
    primary key (snapshot_id, property_code, rate_id, room_code, stay_date, adults, children, channel)
);
comment on table recon.snapshot_rates is
    'The rate cells of a rates or inventory snapshot: the key and the compared fields of facts.rates.';
comment on column recon.snapshot_rates.snapshot_id is 'The snapshot (recon.snapshots).';
comment on column recon.snapshot_rates.property_code is 'The property.';
comment on column recon.snapshot_rates.rate_id is 'The rate plan.';
comment on column recon.snapshot_rates.room_code is 'The room the rate sells.';
comment on column recon.snapshot_rates.stay_date is 'The night.';
comment on column recon.snapshot_rates.adults is 'Occupancy: adults.';
comment on column recon.snapshot_rates.children is 'Occupancy: children.';
comment on column recon.snapshot_rates.channel is 'Channel; '''' when the source has none.';
comment on column recon.snapshot_rates.price is 'Price at the OTA.';
comment on column recon.snapshot_rates.currency is 'ISO 4217 currency of price.';
comment on column recon.snapshot_rates.closeout is 'Rate-level closeout at the OTA.';
comment on column recon.snapshot_rates.min_stay is 'Rate-level minimum stay at the OTA.';
comment on column recon.snapshot_rates.available is 'Rooms available (cursor feeds); NULL otherwise.';
comment on column recon.snapshot_rates.row_hash is 'facts.rate_row_hash of the compared fields: equal to facts.rates.row_hash when the warehouse agrees.';

create table recon.snapshot_availability (
    snapshot_id          bigint not null,
    property_code        text not null,
    room_code            text not null,
    stay_date            date not null,
    allotment            integer not null,
    stop_sell            boolean not null,
    min_stay             integer not null,
    max_stay             integer not null,
    closed_to_arrival    boolean not null,
    closed_to_departure  boolean not null,
    row_hash             uuid not null generated always as (facts.availability_row_hash(
        allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure)) stored,
    primary key (snapshot_id, property_code, room_code, stay_date)
);
comment on table recon.snapshot_availability is
    'The room x night cells of an availability snapshot: the key and the compared fields of facts.availability.';
comment on column recon.snapshot_availability.snapshot_id is 'The snapshot (recon.snapshots).';
comment on column recon.snapshot_availability.property_code is 'The property.';
comment on column recon.snapshot_availability.room_code is 'The room.';
comment on column recon.snapshot_availability.stay_date is 'The night.';
comment on column recon.snapshot_availability.allotment is 'Rooms left at the OTA.';
comment on column recon.snapshot_availability.stop_sell is 'Room-level stop sell at the OTA.';
comment on column recon.snapshot_availability.min_stay is 'Room-level minimum stay at the OTA.';
comment on column recon.snapshot_availability.max_stay is 'Room-level maximum stay at the OTA (0 = none).';
comment on column recon.snapshot_availability.closed_to_arrival is 'Closed to arrival at the OTA.';
comment on column recon.snapshot_availability.closed_to_departure is 'Closed to departure at the OTA.';
comment on column recon.snapshot_availability.row_hash is 'facts.availability_row_hash of the compared fields.';

create table recon.snapshot_reservations (
    snapshot_id      bigint not null,
    property_code    text not null,
    confirmation_id  text not null,
    status           text check (status in ('confirmed', 'cancelled')),
    check_in         date,
    check_out        date,
    room_nights      integer,
    total_gross      numeric(14, 2),
    currency         text,
    content_hash     text not null,
    primary key (snapshot_id, property_code, confirmation_id)
);
comment on table recon.snapshot_reservations is
    'The bookings of a reservations snapshot: only the compared fields and the body''s content hash, never the body (no personal data).';
comment on column recon.snapshot_reservations.snapshot_id is 'The snapshot (recon.snapshots).';
comment on column recon.snapshot_reservations.property_code is 'The property.';
comment on column recon.snapshot_reservations.confirmation_id is 'The OTA''s confirmation number.';
comment on column recon.snapshot_reservations.status is 'confirmed or cancelled at the OTA.';
comment on column recon.snapshot_reservations.check_in is 'Arrival date at the OTA.';
comment on column recon.snapshot_reservations.check_out is 'Departure date at the OTA.';
comment on column recon.snapshot_reservations.room_nights is 'Rooms x nights at the OTA.';
comment on column recon.snapshot_reservations.total_gross is 'The booking total at the OTA (pricing.price).';
comment on column recon.snapshot_reservations.currency is 'Currency of total_gross.';
comment on column recon.snapshot_reservations.content_hash is 'Hex SHA-256 of the body''s canonical jsonb text: equal to staging and facts content_hash for the same version.';

-- Keeps the newest `keep` unpinned snapshots of every (source, stream,
-- property) and drops the rest, each table in one statement by id set.
create function recon.prune_snapshots(keep integer) returns integer
language plpgsql
as $$
declare
    doomed bigint[];
begin
    select coalesce(array_agg(snapshot_id), '{}') into doomed
    from (
        select s.snapshot_id,
               row_number() over (partition by s.source, s.stream, s.property_code order by s.snapshot_id desc) as nth
        from recon.snapshots s
        where not s.pinned
    ) ranked
    where nth > keep;
    if cardinality(doomed) = 0 then
        return 0;
    end if;
    delete from recon.snapshot_rates where snapshot_id = any(doomed);
    delete from recon.snapshot_availability where snapshot_id = any(doomed);
    delete from recon.snapshot_reservations where snapshot_id = any(doomed);
    delete from recon.snapshots where snapshot_id = any(doomed);
    return cardinality(doomed);
end
$$;
comment on function recon.prune_snapshots(integer) is
    'Drops all but the newest keep unpinned snapshots of each (source, stream, property), with their keys, one statement per table; returns how many snapshots it dropped. Pinned snapshots are kept.';
