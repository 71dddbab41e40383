-- Continuous promotion: `ota-ingest serve` promotes what lands into facts every
-- few hundred milliseconds with the same files as `transform`
-- (sql/transforms/), one micro-batch at a time. What it needs beyond them:
--
-- * a micro-batch that failed is retried over the same rows: the promoter
--   pins the snapshot the batch reads up to (ota.promote_upto), so rows that
--   landed meanwhile wait for the next batch instead of joining the retry;
-- * rows that fail three times are set aside (ops.promotion_set_aside) so the
--   rest keeps flowing, and are tried again after the next transform that
--   succeeds (ota.retry_set_aside);
-- * how fresh the facts are per source, stream and property
--   (ops.fact_freshness, written by sql/transforms/60_freshness.sql).

create function ops.promotion_upto(previous pg_snapshot) returns pg_snapshot
language sql stable
as $$
    select case coalesce(current_setting('ota.promote_upto', true), '')
               when '' then pg_current_snapshot()
               when 'none' then previous
               else current_setting('ota.promote_upto')::pg_snapshot
           end
$$;
comment on function ops.promotion_upto(pg_snapshot) is
    'The snapshot a promotion reads staging up to, given the previous one: this statement''s own, or what the promoter set with ota.promote_upto (a snapshot it pinned to retry the same rows, or ''none'' to read no new rows while it retries rows it set aside). Rows landed by transactions it cannot see wait for the next promotion.';

create function ops.retrying_set_aside() returns boolean
language sql stable
as $$ select coalesce(current_setting('ota.retry_set_aside', true), '') = 'on' $$;
comment on function ops.retrying_set_aside() is
    'Whether this promotion also takes the rows set aside that are due for another try (SET ota.retry_set_aside = on; only the continuous promoter sets it).';

create table ops.promotion_set_aside (
    stream         text not null check (stream in ('reservations', 'availability', 'rates')),
    landed_xid     xid8 not null,
    row_count      bigint not null,
    failures       integer not null,
    error          text not null,
    set_aside_at   timestamptz not null default now(),
    retry_due      boolean not null default false,
    promoted_at    timestamptz,
    primary key (stream, landed_xid)
);
comment on table ops.promotion_set_aside is
    'Staged rows continuous promotion could not promote: a micro-batch that failed three times is set aside, by landing transaction, so everything landed after it keeps flowing. They are tried again after the next transform that succeeds; fix the data (or the SQL the error names) first.';
comment on column ops.promotion_set_aside.stream is 'reservations, availability or rates: the staging table (staging.reservation_events, staging.availability_observations, staging.rate_observations).';
comment on column ops.promotion_set_aside.landed_xid is 'The landing transaction of the rows set aside (staging.*.landed_xid).';
comment on column ops.promotion_set_aside.row_count is 'How many rows of that stream the transaction landed.';
comment on column ops.promotion_set_aside.failures is 'Failed promotions that held these rows.';
comment on column ops.promotion_set_aside.error is 'The last failure: the file and the server''s message.';
comment on column ops.promotion_set_aside.set_aside_at is 'When the rows were last set aside.';
comment on column ops.promotion_set_aside.retry_due is 'True after a transform succeeded: the promoter tries the rows again in its next micro-batch.';
comment on column ops.promotion_set_aside.promoted_at is 'When a later try promoted them; NULL while they are still set aside.';

create index promotion_set_aside_open_idx on ops.promotion_set_aside (set_aside_at) where promoted_at is null;

create table ops.fact_freshness (
    source            text not null,
    stream            text not null,
    property_code     text not null,
    last_event_at     timestamptz,
    last_loaded_at    timestamptz not null,
    last_promoted_at  timestamptz not null,
    primary key (source, stream, property_code)
);
comment on table ops.fact_freshness is
    'How fresh the facts are, per source, stream and property: the newest OTA event and landing a promotion (continuous or transform) brought into facts, and when.';
comment on column ops.fact_freshness.source is 'The configured source.';
comment on column ops.fact_freshness.stream is 'reservations, availability, rates or inventory (a cursor feed).';
comment on column ops.fact_freshness.property_code is 'The property.';
comment on column ops.fact_freshness.last_event_at is 'The newest OTA event time promoted (a booking version''s OTA time, an observation''s time).';
comment on column ops.fact_freshness.last_loaded_at is 'The newest landing (staging loaded_at: when the warehouse committed the row, and so when a push was answered) promoted.';
comment on column ops.fact_freshness.last_promoted_at is 'When the promotion that brought it ran.';

-- The loader writes both (default privileges); analysts may read them, as they read ops.runs.
grant select on ops.promotion_set_aside, ops.fact_freshness to ota_analyst;
