-- Pushed OpenTravel availability and restrictions named for a room without a rate
-- plan also set the room x night's own state. The expansion keeps them as
-- observations with rate plan '' (staging.ari_observations), and writes the room's
-- whole state after each message into staging.availability_observations (origin
-- 'push'), which the transforms promote into facts.availability like any
-- observation (sql/ari/40_states.sql). No table changes: only what the columns say.

comment on table staging.availability_observations is
    'Every availability cell (room x night) each time it was fetched, and the state of a room x night after each OpenTravel message pushed for the room (origin push). Partitioned by load_date.';
comment on column staging.availability_observations.observed_at is
    'When the value was fetched from the OTA; for a pushed state (origin push), the time of the message it is the state after.';
comment on column staging.availability_observations.raw is
    'The feed entry as received, as JSON text (a from/to range entry is repeated on each of its nights); for a pushed state, the message it is the state after and the message whose expansion wrote it. Text, not jsonb: the typed columns are the parsed copy, and parsing every observation again costs the load a third of its time; cast with raw::jsonb to query it.';
comment on column staging.ari_observations.rate_id is
    'The rate plan; a message without one applies to every rate plan of the room (from the seeds), and its availability and restrictions also to the room itself: rate plan '''' (the room x night of facts.availability); '''' too when it named only a room the hotel does not have.';
comment on column facts.availability.allotment is
    'Rooms left to sell. From a pushing channel manager: the room''s BookingLimit (a room-night it has set none for has no row).';
