-- Availability, restrictions and rates pushed by channel managers as OpenTravel
-- messages (OTA_HotelAvailNotifRQ, OTA_HotelRateAmountNotifRQ). Each message is a
-- delta: it sets some fields of some cells and says nothing of the rest. The
-- receiver keeps each message once, as received, and answers only after that
-- commit; it then expands the message into one observation per (cell, field) it
-- sets, in a transaction of its own that also marks the message expanded, so a
-- crash between the two, or the same message sent again, neither loses nor
-- doubles an observation.

create table staging.ari_messages (
    source         text not null,
    property_code  text not null,
    message_key    text not null,
    arrival        bigserial,
    root           text not null check (root in ('OTA_HotelAvailNotifRQ', 'OTA_HotelRateAmountNotifRQ')),
    echo_token     text,
    ota_time       timestamptz,
    raw            text not null,
    data           jsonb not null,
    warnings       text[] not null default '{}',
    run_id         text not null,
    loaded_at      timestamptz not null default now(),
    expanded_at    timestamptz,
    primary key (property_code, source, message_key)
);

create index ari_messages_unexpanded on staging.ari_messages (arrival) where expanded_at is null;

comment on table staging.ari_messages is
    'Every OpenTravel availability or rate message a channel manager pushed, once each (a repeat or retransmission of the same message is not stored again).';
comment on column staging.ari_messages.source is 'The configured opentravel source that pushed it.';
comment on column staging.ari_messages.property_code is 'The message''s HotelCode.';
comment on column staging.ari_messages.message_key is 'sha256 (hex) of the OTA document with any RetransmissionIndicator taken out: the same message sent again has the same key.';
comment on column staging.ari_messages.arrival is 'Arrival order at the receiver: the order in which deltas apply (a later message wins a field).';
comment on column staging.ari_messages.root is 'OTA_HotelAvailNotifRQ (availability and restrictions) or OTA_HotelRateAmountNotifRQ (prices).';
comment on column staging.ari_messages.echo_token is 'The sender''s EchoToken.';
comment on column staging.ari_messages.ota_time is 'The message''s TimeStamp, when it has one.';
comment on column staging.ari_messages.raw is 'The OTA document as received (without a SOAP envelope, whose header carries the sender''s password).';
comment on column staging.ari_messages.data is 'The messages parsed: per AvailStatusMessage or RateAmountMessage its dates, weekdays, room, rate plan and the fields it sets.';
comment on column staging.ari_messages.warnings is 'Room or rate plan codes the hotel does not have (answered with a Warning, kept all the same).';
comment on column staging.ari_messages.run_id is 'The serve run that stored it (see ops.runs).';
comment on column staging.ari_messages.loaded_at is 'When the warehouse committed it (transaction time).';
comment on column staging.ari_messages.expanded_at is 'When its observations were written; null while it waits.';

create table staging.ari_observations (
    source         text not null,
    property_code  text not null,
    message_key    text not null,
    room_code      text not null,
    rate_id        text not null,
    stay_date      date not null,
    guests         integer not null,
    field          text not null check (field in (
        'booking_limit', 'stop_sell', 'closed_to_arrival', 'closed_to_departure', 'min_stay', 'max_stay', 'price')),
    int_value      integer,
    bool_value     boolean,
    min_stay_kind  text check (min_stay_kind in ('through', 'arrival')),
    price          numeric(12, 2),
    currency       text,
    tax_included   boolean,
    arrival        bigint not null,
    ota_time       timestamptz,
    loaded_at      timestamptz not null default now(),
    primary key (property_code, source, message_key, room_code, rate_id, stay_date, guests, field)
);

create index ari_observations_cell on staging.ari_observations
    (property_code, source, room_code, rate_id, stay_date, guests, field, arrival);

comment on table staging.ari_observations is
    'One row per field a pushed OpenTravel message set on one cell (room x rate plan x night, and number of guests for prices): the message''s date ranges, weekdays and codes expanded. A field no message set has no row.';
comment on column staging.ari_observations.source is 'The configured opentravel source that pushed the message.';
comment on column staging.ari_observations.property_code is 'The message''s HotelCode.';
comment on column staging.ari_observations.message_key is 'The message it came from (staging.ari_messages).';
comment on column staging.ari_observations.room_code is 'The room; empty when the message named only a rate plan the hotel does not have.';
comment on column staging.ari_observations.rate_id is 'The rate plan; a message without one applies to every rate plan of the room (from the seeds); empty when it named only a room the hotel does not have.';
comment on column staging.ari_observations.stay_date is 'The night.';
comment on column staging.ari_observations.guests is 'Number of guests the price is for; 0 for availability and restriction fields.';
comment on column staging.ari_observations.field is 'Which field the message set: booking_limit (rooms to sell), stop_sell (closed for stay), closed_to_arrival, closed_to_departure, min_stay, max_stay or price.';
comment on column staging.ari_observations.int_value is 'booking_limit, min_stay or max_stay (nights).';
comment on column staging.ari_observations.bool_value is 'stop_sell, closed_to_arrival or closed_to_departure: true when closed.';
comment on column staging.ari_observations.min_stay_kind is 'For min_stay: through (every night of the stay, SetMinLOS) or arrival (counted from the arrival night, SetForwardMinStay).';
comment on column staging.ari_observations.price is 'For price: the amount for this number of guests (BaseByGuestAmt, or the largest one plus AdditionalGuestAmount per extra adult up to the room''s max_adults).';
comment on column staging.ari_observations.currency is 'For price: its currency.';
comment on column staging.ari_observations.tax_included is 'For price: true for AmountAfterTax, false for AmountBeforeTax.';
comment on column staging.ari_observations.arrival is 'The message''s arrival order (staging.ari_messages.arrival).';
comment on column staging.ari_observations.ota_time is 'The message''s TimeStamp.';
comment on column staging.ari_observations.loaded_at is 'When the expansion committed.';

create view staging.ari_latest as
select distinct on (source, property_code, room_code, rate_id, stay_date, guests, field)
       source, property_code, room_code, rate_id, stay_date, guests, field, int_value, bool_value, min_stay_kind,
       price, currency, tax_included, message_key, arrival, ota_time
from staging.ari_observations
order by source, property_code, room_code, rate_id, stay_date, guests, field, arrival desc;

comment on view staging.ari_latest is
    'Per cell and field, the value the last pushed message set (in arrival order): what the channel manager says now.';

comment on column staging.ari_latest.source is 'As staging.ari_observations.source, from the last message to set the field.';
comment on column staging.ari_latest.property_code is 'As staging.ari_observations.property_code, from the last message to set the field.';
comment on column staging.ari_latest.room_code is 'As staging.ari_observations.room_code, from the last message to set the field.';
comment on column staging.ari_latest.rate_id is 'As staging.ari_observations.rate_id, from the last message to set the field.';
comment on column staging.ari_latest.stay_date is 'As staging.ari_observations.stay_date, from the last message to set the field.';
comment on column staging.ari_latest.guests is 'As staging.ari_observations.guests, from the last message to set the field.';
comment on column staging.ari_latest.field is 'As staging.ari_observations.field, from the last message to set the field.';
comment on column staging.ari_latest.int_value is 'As staging.ari_observations.int_value, from the last message to set the field.';
comment on column staging.ari_latest.bool_value is 'As staging.ari_observations.bool_value, from the last message to set the field.';
comment on column staging.ari_latest.min_stay_kind is 'As staging.ari_observations.min_stay_kind, from the last message to set the field.';
comment on column staging.ari_latest.price is 'As staging.ari_observations.price, from the last message to set the field.';
comment on column staging.ari_latest.currency is 'As staging.ari_observations.currency, from the last message to set the field.';
comment on column staging.ari_latest.tax_included is 'As staging.ari_observations.tax_included, from the last message to set the field.';
comment on column staging.ari_latest.message_key is 'As staging.ari_observations.message_key, from the last message to set the field.';
comment on column staging.ari_latest.arrival is 'As staging.ari_observations.arrival, from the last message to set the field.';
comment on column staging.ari_latest.ota_time is 'As staging.ari_observations.ota_time, from the last message to set the field.';
