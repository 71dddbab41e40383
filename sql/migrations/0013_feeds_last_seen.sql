-- When was a cell last seen at the OTA? Facts keep versions only (an unchanged
-- observation writes nothing), so the answer comes from the observation logs.
-- The views expose no personal data and run with their owner's rights, so
-- analysts may read them without access to staging.

create view feeds.availability_last_seen as
select o.property_code, o.room_code, o.stay_date,
       max(o.observed_at) as last_seen_at,
       min(o.observed_at) as first_seen_at,
       count(*) as observations
from staging.availability_observations o
group by o.property_code, o.room_code, o.stay_date;
comment on view feeds.availability_last_seen is
    'Per room x night: when the availability feed last and first showed it, and how often (over the retained observation log; purge drops old load dates).';
comment on column feeds.availability_last_seen.property_code is 'The property.';
comment on column feeds.availability_last_seen.room_code is 'The room.';
comment on column feeds.availability_last_seen.stay_date is 'The night.';
comment on column feeds.availability_last_seen.last_seen_at is 'Latest observation time.';
comment on column feeds.availability_last_seen.first_seen_at is 'Earliest retained observation time.';
comment on column feeds.availability_last_seen.observations is 'Retained observations of the cell.';

create view feeds.rates_last_seen as
select o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel,
       max(o.observed_at) as last_seen_at,
       min(o.observed_at) as first_seen_at,
       count(*) as observations
from staging.rate_observations o
group by o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel;
comment on view feeds.rates_last_seen is
    'Per rate x night x occupancy x channel: when a feed last and first showed it, and how often (over the retained observation log; purge drops old load dates).';
comment on column feeds.rates_last_seen.property_code is 'The property.';
comment on column feeds.rates_last_seen.rate_id is 'The rate plan.';
comment on column feeds.rates_last_seen.room_code is 'The room.';
comment on column feeds.rates_last_seen.stay_date is 'The night.';
comment on column feeds.rates_last_seen.adults is 'Occupancy: adults.';
comment on column feeds.rates_last_seen.children is 'Occupancy: children.';
comment on column feeds.rates_last_seen.channel is 'Channel; '''' when the source has none.';
comment on column feeds.rates_last_seen.last_seen_at is 'Latest observation time.';
comment on column feeds.rates_last_seen.first_seen_at is 'Earliest retained observation time.';
comment on column feeds.rates_last_seen.observations is 'Retained observations of the cell.';
