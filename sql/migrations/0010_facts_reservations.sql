-- Bookings as versioned facts. Every distinct booking body staged (except an
-- idempotency collision) is one version; versions are ordered by the OTA time
-- of the version, then by arrival in staging. valid_to is the next version's
-- valid_from, so the history of a booking tiles time without overlap.

create table facts.reservations (
    property_code          text not null,
    confirmation_id        text not null,
    valid_from             timestamptz not null,
    content_hash           text not null,
    valid_to               timestamptz,
    is_current             boolean not null generated always as (valid_to is null) stored,
    version                integer not null check (version > 0),
    lifecycle              text not null check (lifecycle in ('new', 'update', 'cancel', 'restore')),
    event_type             text not null,
    source                 text not null,
    status                 text check (status in ('confirmed', 'cancelled')),
    check_in               date,
    check_out              date,
    nights                 integer,
    rooms                  integer,
    room_nights            integer,
    adults                 integer,
    children               integer,
    room_code              text,
    rate_id                text,
    board                  text,
    channel_code           text not null,
    channel_source_id      text,
    booked_at              timestamptz,
    currency               text,
    room_revenue_gross     numeric(14, 2),
    room_revenue_net       numeric(14, 2),
    extras_amount          numeric(14, 2),
    total_gross            numeric(14, 2),
    taxes                  numeric(14, 2),
    reporting_currency     text,
    room_revenue_gross_rc  numeric(14, 2),
    room_revenue_net_rc    numeric(14, 2),
    total_gross_rc         numeric(14, 2),
    guest_hash             text,
    loaded_at              timestamptz not null,
    staging_event_id       bigint not null unique,
    primary key (property_code, confirmation_id, valid_from, content_hash),
    check (valid_to is null or valid_to >= valid_from),
    exclude using gist (property_code with =, confirmation_id with =, tstzrange(valid_from, valid_to) with &&)
);
-- The guarantee dbt-core #4661 lacks: two transforms at once cannot leave two current versions.
create unique index reservations_one_current_idx on facts.reservations (property_code, confirmation_id) where valid_to is null;
create index reservations_check_in_idx on facts.reservations (property_code, check_in) where valid_to is null;
create index reservations_loaded_at_idx on facts.reservations (loaded_at);

comment on table facts.reservations is
    'One row per version of a booking (SCD type 2). Current state: WHERE is_current. State at OTA time T: WHERE valid_from <= T AND (valid_to > T OR valid_to IS NULL). As the warehouse knew it at T: feeds.reservations_as_of(T). No personal data: the guest is a salted hash.';
comment on column facts.reservations.property_code is 'The property (dims.properties).';
comment on column facts.reservations.confirmation_id is 'The OTA''s confirmation number (WebHotelier id).';
comment on column facts.reservations.valid_from is 'When this version came to be at the OTA: the latest changes[].date, else bookInfo.book_date, else the time it was loaded.';
comment on column facts.reservations.content_hash is 'Hex SHA-256 of the booking body as staged; with the key and valid_from it identifies the version.';
comment on column facts.reservations.valid_to is 'The next version''s valid_from; NULL for the current version.';
comment on column facts.reservations.is_current is 'True for the latest version (valid_to IS NULL).';
comment on column facts.reservations.version is 'Ordinal of the version within the booking, 1 = first; for people, not a key (a late version renumbers the ones after it).';
comment on column facts.reservations.lifecycle is 'What this version did: new (first version), cancel (status 1 -> 0), restore (0 -> 1), update (anything else, including room changes).';
comment on column facts.reservations.event_type is 'What the OTA called the delivery (new, update, cancel, restore, transaction); informational, lifecycle is derived from status.';
comment on column facts.reservations.source is 'The configured source the booking came from, e.g. webhotelier.';
comment on column facts.reservations.status is 'confirmed (status 1) or cancelled (status 0).';
comment on column facts.reservations.check_in is 'Arrival date (roomStay.from), local to the property.';
comment on column facts.reservations.check_out is 'Departure date (roomStay.to), local to the property.';
comment on column facts.reservations.nights is 'check_out - check_in.';
comment on column facts.reservations.rooms is 'Rooms booked (entries of rooms[], else roomStay.rooms).';
comment on column facts.reservations.room_nights is 'rooms x nights.';
comment on column facts.reservations.adults is 'Adults over all rooms.';
comment on column facts.reservations.children is 'Children over all rooms.';
comment on column facts.reservations.room_code is 'Room type booked (roomStay.roomType, dims.rooms).';
comment on column facts.reservations.rate_id is 'Rate plan booked (roomStay.rateID, dims.rate_plans).';
comment on column facts.reservations.board is 'Board basis (roomStay.board).';
comment on column facts.reservations.channel_code is 'Booking source (bookInfo.source, dims.channels); '''' when none.';
comment on column facts.reservations.channel_source_id is 'The OTA''s numeric source id (bookInfo.source_id).';
comment on column facts.reservations.booked_at is 'When the booking was made (bookInfo.book_date).';
comment on column facts.reservations.currency is 'Currency of the amounts (pricing.currency).';
comment on column facts.reservations.room_revenue_gross is 'Room revenue with tax: the sum of rooms[].rates[].price_with_tax (else rooms[].price_with_tax). Extras excluded.';
comment on column facts.reservations.room_revenue_net is 'Room revenue without tax: the sum of rooms[].price. Extras excluded.';
comment on column facts.reservations.extras_amount is 'Extras (pricing.extras), kept apart from room revenue.';
comment on column facts.reservations.total_gross is 'The booking total as the OTA gives it (pricing.price): room revenue with tax plus extras.';
comment on column facts.reservations.taxes is 'Taxes (pricing.taxes).';
comment on column facts.reservations.reporting_currency is 'The property''s reporting currency (dims.properties).';
comment on column facts.reservations.room_revenue_gross_rc is 'room_revenue_gross in the reporting currency, each night at that night''s FX rate; NULL when a rate is missing.';
comment on column facts.reservations.room_revenue_net_rc is 'room_revenue_net in the reporting currency, each night at that night''s FX rate.';
comment on column facts.reservations.total_gross_rc is 'total_gross in the reporting currency: nights at their own rates, extras at the check-in rate.';
comment on column facts.reservations.guest_hash is 'Salted SHA-256 of the guest''s email (else name); the same guest hashes alike across bookings. NULL when unnamed.';
comment on column facts.reservations.loaded_at is 'When the warehouse learned this version (staging loaded_at): the transaction time as-of queries filter on.';
comment on column facts.reservations.staging_event_id is 'The staging.reservation_events row this version came from.';

create table facts.reservation_nights (
    property_code          text not null,
    confirmation_id        text not null,
    valid_from             timestamptz not null,
    content_hash           text not null,
    room_no                integer not null,
    business_date          date not null,
    valid_to               timestamptz,
    is_current             boolean not null generated always as (valid_to is null) stored,
    status                 text,
    room_code              text,
    rate_id                text,
    channel_code           text not null,
    adults                 integer,
    children               integer,
    currency               text,
    revenue_gross          numeric(12, 2),
    revenue_net            numeric(12, 2),
    reporting_currency     text,
    revenue_gross_rc       numeric(12, 2),
    revenue_net_rc         numeric(12, 2),
    booked_date            date,
    version_date           date,
    loaded_at              timestamptz not null,
    primary key (property_code, confirmation_id, valid_from, content_hash, room_no, business_date),
    foreign key (property_code, confirmation_id, valid_from, content_hash)
        references facts.reservations on delete cascade
);
create index reservation_nights_current_idx on facts.reservation_nights (property_code, business_date) where valid_to is null;
create index reservation_nights_history_idx on facts.reservation_nights (property_code, business_date, valid_from);

comment on table facts.reservation_nights is
    'One row per booked room night of each reservation version, so occupancy, ADR, pickup and pace are single GROUP BYs. Validity, status and loaded_at are those of the version.';
comment on column facts.reservation_nights.property_code is 'The property.';
comment on column facts.reservation_nights.confirmation_id is 'The booking.';
comment on column facts.reservation_nights.valid_from is 'The version''s valid_from (facts.reservations).';
comment on column facts.reservation_nights.content_hash is 'The version''s content_hash (facts.reservations).';
comment on column facts.reservation_nights.room_no is 'Which room of the booking (rooms[].roomNo, else its position).';
comment on column facts.reservation_nights.business_date is 'The night, as a date local to the property (the OTA''s stay dates are already local): the business date occupancy is counted on.';
comment on column facts.reservation_nights.valid_to is 'The version''s valid_to.';
comment on column facts.reservation_nights.is_current is 'True when the version is current.';
comment on column facts.reservation_nights.status is 'The version''s status: count only confirmed nights for occupancy.';
comment on column facts.reservation_nights.room_code is 'Room type.';
comment on column facts.reservation_nights.rate_id is 'Rate plan.';
comment on column facts.reservation_nights.channel_code is 'Booking source.';
comment on column facts.reservation_nights.adults is 'Adults in this room.';
comment on column facts.reservation_nights.children is 'Children in this room.';
comment on column facts.reservation_nights.currency is 'Currency of the revenue.';
comment on column facts.reservation_nights.revenue_gross is 'The night''s room revenue with tax (rooms[].rates[].price_with_tax; else the room''s total spread evenly).';
comment on column facts.reservation_nights.revenue_net is 'The night''s room revenue without tax (the room''s price in proportion to the night''s share of price_with_tax).';
comment on column facts.reservation_nights.reporting_currency is 'The property''s reporting currency.';
comment on column facts.reservation_nights.revenue_gross_rc is 'revenue_gross in the reporting currency at the night''s FX rate.';
comment on column facts.reservation_nights.revenue_net_rc is 'revenue_net in the reporting currency at the night''s FX rate.';
comment on column facts.reservation_nights.booked_date is 'The business date the booking was made (booked_at in the property''s time zone).';
comment on column facts.reservation_nights.version_date is 'The business date this version came to be (valid_from in the property''s time zone): pickup is counted on it.';
comment on column facts.reservation_nights.loaded_at is 'When the warehouse learned the version.';

create table facts.reservation_transactions (
    staging_event_id  bigint primary key,
    property_code     text not null,
    confirmation_id   text not null,
    ota_time          timestamptz not null,
    content_hash      text not null,
    currency          text,
    total_gross       numeric(14, 2),
    loaded_at         timestamptz not null
);
create index reservation_transactions_booking_idx on facts.reservation_transactions (property_code, confirmation_id, ota_time);

comment on table facts.reservation_transactions is
    'One row per transaction event (a payment or charge the OTA notified). The booking body it carried is also a version in facts.reservations; this table keeps the fact that a transaction happened and when.';
comment on column facts.reservation_transactions.staging_event_id is 'The staging.reservation_events row of the notification.';
comment on column facts.reservation_transactions.property_code is 'The property.';
comment on column facts.reservation_transactions.confirmation_id is 'The booking.';
comment on column facts.reservation_transactions.ota_time is 'When it happened at the OTA (the version''s valid_from).';
comment on column facts.reservation_transactions.content_hash is 'The booking body''s hash (the version in facts.reservations).';
comment on column facts.reservation_transactions.currency is 'Currency of total_gross.';
comment on column facts.reservation_transactions.total_gross is 'The booking total after the transaction (pricing.price).';
comment on column facts.reservation_transactions.loaded_at is 'When the warehouse learned it.';
