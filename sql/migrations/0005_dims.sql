-- Reference data, loaded from seeds/*.csv by `ota-ingest seed`. Codes that
-- appear in staging but not here are registered by the transforms with
-- auto_registered = true, so a new room never stops a run; the run summary
-- counts them and a person fills in the details in the seed files.

create table dims.properties (
    property_code       text primary key,
    name                text not null,
    currency            text not null check (currency ~ '^[A-Z]{3}$'),
    time_zone           text not null,
    reporting_currency  text not null check (reporting_currency ~ '^[A-Z]{3}$'),
    auto_registered     boolean not null default false,
    registered_at       timestamptz not null default now()
);
comment on table dims.properties is 'One row per hotel: its currency, time zone (business dates are in it) and reporting currency.';
comment on column dims.properties.property_code is 'The OTA''s property code, e.g. HTL001. Every fact key starts with it.';
comment on column dims.properties.name is 'Display name; the code itself for auto-registered properties.';
comment on column dims.properties.currency is 'ISO 4217 currency the OTA prices this property in.';
comment on column dims.properties.time_zone is 'IANA time zone (e.g. Europe/Athens); business dates such as "booked yesterday" are computed in it.';
comment on column dims.properties.reporting_currency is 'ISO 4217 currency facts convert amounts into (via dims.fx_rates) for cross-property totals.';
comment on column dims.properties.auto_registered is 'True when a transform found the code in data before any seed named it; fix the seed row and re-run seed.';
comment on column dims.properties.registered_at is 'When the row was first written.';

create table dims.rooms (
    property_code    text not null references dims.properties,
    room_code        text not null,
    name             text not null,
    max_adults       integer check (max_adults > 0),
    auto_registered  boolean not null default false,
    registered_at    timestamptz not null default now(),
    primary key (property_code, room_code)
);
comment on table dims.rooms is 'Room types per property (the availability grain is room x night).';
comment on column dims.rooms.property_code is 'The property the room belongs to.';
comment on column dims.rooms.room_code is 'The OTA''s room code, e.g. DBL.';
comment on column dims.rooms.name is 'Display name; the code itself for auto-registered rooms.';
comment on column dims.rooms.max_adults is 'Largest occupancy sold; NULL when unknown.';
comment on column dims.rooms.auto_registered is 'True when a transform found the code in data before any seed named it.';
comment on column dims.rooms.registered_at is 'When the row was first written.';

create table dims.rate_plans (
    property_code    text not null references dims.properties,
    rate_id          text not null,
    room_code        text not null,
    name             text not null,
    board            text,
    auto_registered  boolean not null default false,
    registered_at    timestamptz not null default now(),
    primary key (property_code, rate_id),
    foreign key (property_code, room_code) references dims.rooms
);
comment on table dims.rate_plans is 'Rate plans per property, each selling one room (WebHotelier rate entries carry no room: this is where it comes from).';
comment on column dims.rate_plans.property_code is 'The property the rate belongs to.';
comment on column dims.rate_plans.rate_id is 'The OTA''s rate id (WebHotelier: numeric, kept as text).';
comment on column dims.rate_plans.room_code is 'The room this rate sells.';
comment on column dims.rate_plans.name is 'Display name; the id itself for auto-registered rates.';
comment on column dims.rate_plans.board is 'Board basis: RO room only, BB bed and breakfast, HB half board, FB full board; NULL when unknown.';
comment on column dims.rate_plans.auto_registered is 'True when a transform found the id in data before any seed named it.';
comment on column dims.rate_plans.registered_at is 'When the row was first written.';

create table dims.channels (
    channel_code     text primary key,
    name             text not null,
    channel_group    text not null default 'unknown',
    auto_registered  boolean not null default false,
    registered_at    timestamptz not null default now()
);
comment on table dims.channels is 'Sales channels and booking sources (reservations: bookInfo.source; rates: the feed''s channel, '''' when it has none).';
comment on column dims.channels.channel_code is 'The code as it appears in data; '''' is "no channel" (WebHotelier rate feeds).';
comment on column dims.channels.name is 'Display name.';
comment on column dims.channels.channel_group is 'Grouping for reports: direct, ota, gds, wholesale, unknown.';
comment on column dims.channels.auto_registered is 'True when a transform found the code in data before any seed named it.';
comment on column dims.channels.registered_at is 'When the row was first written.';

create table dims.fx_rates (
    rate_date       date not null,
    base_currency   text not null check (base_currency ~ '^[A-Z]{3}$'),
    quote_currency  text not null check (quote_currency ~ '^[A-Z]{3}$'),
    rate            numeric(18, 8) not null check (rate > 0),
    primary key (base_currency, quote_currency, rate_date)
);
comment on table dims.fx_rates is 'Daily FX rates: 1 base_currency = rate quote_currency. A day without a row uses the latest earlier one.';
comment on column dims.fx_rates.rate_date is 'The day the rate applies to.';
comment on column dims.fx_rates.base_currency is 'ISO 4217 code converted from.';
comment on column dims.fx_rates.quote_currency is 'ISO 4217 code converted into.';
comment on column dims.fx_rates.rate is 'Units of quote_currency per one unit of base_currency.';

-- Used by the transforms for amounts in the reporting currency; NULL when no
-- rate exists on or before the day (the data-quality checks count those).
create function dims.convert_amount(amount numeric, from_currency text, to_currency text, on_day date)
returns numeric
language sql stable
as $$
    select case
        when amount is null then null
        when from_currency = to_currency then amount
        else round(amount * (
            select f.rate from dims.fx_rates f
            where f.base_currency = from_currency and f.quote_currency = to_currency and f.rate_date <= on_day
            order by f.rate_date desc
            limit 1), 2)
    end
$$;
comment on function dims.convert_amount(numeric, text, text, date) is
    'amount in from_currency converted into to_currency at the latest dims.fx_rates rate on or before on_day; NULL when there is none.';
