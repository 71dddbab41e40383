-- What the transforms need from staging to promote each row exactly once:
-- the landing transaction (compared with the last promotion's snapshot, so a
-- row committed late by a slow loader is never skipped) and, for observations,
-- when the warehouse learned the value (facts.*.loaded_at, the as-of time).

alter table staging.reservation_events
    add column landed_xid xid8 not null default pg_current_xact_id();
create index reservation_events_landed_xid_idx on staging.reservation_events (landed_xid);
comment on column staging.reservation_events.landed_xid is
    'The landing transaction''s id; the transforms promote rows whose transaction the previous promotion could not see.';

alter table staging.availability_observations
    add column loaded_at timestamptz not null default now(),
    add column landed_xid xid8 not null default pg_current_xact_id();
create index availability_observations_landed_xid_idx on staging.availability_observations (landed_xid);
comment on column staging.availability_observations.loaded_at is 'When the warehouse committed it (transaction time); becomes facts.availability.loaded_at.';
comment on column staging.availability_observations.landed_xid is
    'The landing transaction''s id; the transforms promote rows whose transaction the previous promotion could not see.';

alter table staging.rate_observations
    add column loaded_at timestamptz not null default now(),
    add column landed_xid xid8 not null default pg_current_xact_id();
create index rate_observations_landed_xid_idx on staging.rate_observations (landed_xid);
comment on column staging.rate_observations.loaded_at is 'When the warehouse committed it (transaction time); becomes facts.rates.loaded_at.';
comment on column staging.rate_observations.landed_xid is
    'The landing transaction''s id; the transforms promote rows whose transaction the previous promotion could not see.';
