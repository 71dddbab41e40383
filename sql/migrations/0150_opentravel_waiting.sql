-- OpenTravel queues hold a reservation until the client acknowledges it; left
-- unacknowledged for the OTA's fallback time (30 minutes at Booking.com) it is
-- emailed to the property instead. The queue itself cannot be read for ages, so
-- the pull keeps what it has been served and not yet acknowledged here, to warn
-- before the fallback happens (status, /metrics, the night's attention list).
-- Rows leave when their acknowledgement is applied, or when the queue reads empty.

create table ops.opentravel_waiting (
    source           text not null,
    queue            text not null check (queue in ('new', 'modify')),
    property_code    text not null,
    confirmation_id  text not null,
    first_seen       timestamptz not null,
    last_seen        timestamptz not null,
    ota_time         timestamptz,
    primary key (source, queue, property_code, confirmation_id)
);

comment on table ops.opentravel_waiting is
    'OpenTravel reservations served by a queue and not yet acknowledged (one row per source, queue, hotel and id); the age of the oldest says how close the OTA''s fallback (email to the property) is.';
comment on column ops.opentravel_waiting.source is 'The configured opentravel source (one machine account).';
comment on column ops.opentravel_waiting.property_code is 'The hotel code the reservation is for.';
comment on column ops.opentravel_waiting.confirmation_id is 'The reservation''s id (ResID_Value or the Type-14 UniqueID).';
comment on column ops.opentravel_waiting.queue is 'new (OTA_HotelResNotif) or modify (OTA_HotelResModifyNotif).';
comment on column ops.opentravel_waiting.first_seen is 'When a read first served it.';
comment on column ops.opentravel_waiting.last_seen is 'When a read last served it.';
comment on column ops.opentravel_waiting.ota_time is 'Its LastModifyDateTime (or creation time) at the OTA: the fallback timer runs from about then.';

create view ops.opentravel_waiting_ages as
select source, queue, property_code, confirmation_id,
       least(first_seen, coalesce(ota_time, first_seen)) as waiting_since,
       now() - least(first_seen, coalesce(ota_time, first_seen)) as waiting_for
from ops.opentravel_waiting;

comment on view ops.opentravel_waiting_ages is
    'ops.opentravel_waiting with how long each reservation has been waiting for its acknowledgement (from the earlier of its OTA time and its first read).';
