-- What the loaders need to land every batch exactly once and resume safely.

create table ops.batches (
    run_id         text not null,
    source         text not null,
    stream         text not null,
    property_code  text not null,
    batch_range    text not null,
    rows_landed    integer not null,
    duplicates     integer not null default 0,
    dead_letters   integer not null default 0,
    landed_at      timestamptz not null default now(),
    -- Separate columns, not one joined string: no two keys can collide.
    primary key (run_id, source, stream, property_code, batch_range)
);
comment on table ops.batches is
    'Landed batches (a page, a date-range chunk, a file part, a push delivery), recorded in the same transaction as their rows.';
comment on column ops.batches.run_id is 'The run that landed the batch; a resumed run reuses it and skips batches already here.';
comment on column ops.batches.source is 'The configured source name.';
comment on column ops.batches.stream is 'reservations, availability, rates, inventory.';
comment on column ops.batches.property_code is 'The property, or empty for sources without one.';
comment on column ops.batches.batch_range is 'What the batch covers: a date range, a cursor, a file part, a confirmation id.';
comment on column ops.batches.rows_landed is 'Rows written to staging by this batch.';
comment on column ops.batches.duplicates is 'Records skipped as already landed.';
comment on column ops.batches.dead_letters is 'Records sent to ops.dead_letters.';
comment on column ops.batches.landed_at is 'Commit time.';

create table ops.watermarks (
    source          text not null,
    stream          text not null,
    property_code   text not null default '',
    updated_after   timestamptz,
    cursor          text,
    boundary_keys   jsonb not null default '[]'::jsonb,
    run_id          text not null,
    updated_at      timestamptz not null default now(),
    primary key (source, stream, property_code)
);
comment on table ops.watermarks is
    'Incremental positions, committed in the same transaction as the rows they cover.';
comment on column ops.watermarks.updated_after is 'The latest updated_at landed; the next traversal asks from here (inclusive).';
comment on column ops.watermarks.cursor is 'The cursor of an unfinished traversal, so a resumed run continues it; NULL when complete.';
comment on column ops.watermarks.boundary_keys is 'The [key, hash] pairs of records landed at exactly updated_after, so an inclusive re-read neither loses nor doubles them.';
comment on column ops.watermarks.run_id is 'The run that moved the watermark last.';
comment on column ops.watermarks.updated_at is 'When it moved.';

create table ops.call_log (
    source         text not null,
    property_code  text not null,
    endpoint       text not null,
    last_called_at timestamptz not null,
    primary key (source, property_code, endpoint)
);
comment on table ops.call_log is
    'When each rate-limited endpoint was last called per property, so minimum intervals hold across runs.';

create table ops.dead_letters (
    dead_letter_id  bigint generated always as identity primary key,
    source          text not null,
    stream          text not null,
    property_code   text not null default '',
    record_key      text,
    raw             bytea not null,
    raw_hash        text not null,
    reason          text not null,
    first_seen      timestamptz not null default now(),
    last_seen       timestamptz not null default now(),
    attempts        integer not null default 1,
    run_id          text not null,
    batch_id        text,
    replayed_at     timestamptz,
    unique (source, stream, raw_hash)
);
comment on table ops.dead_letters is
    'Records that failed validation or that PostgreSQL rejected, with the reason and the raw bytes; replayable. May contain personal data: same access and retention as staging.';
comment on column ops.dead_letters.record_key is 'The record''s key where one could be read (confirmation id, room/date, ...).';
comment on column ops.dead_letters.raw is 'The record exactly as received.';
comment on column ops.dead_letters.raw_hash is 'Hex SHA-256 of raw; the same bad record seen again bumps attempts and last_seen.';
comment on column ops.dead_letters.reason is 'Why it was refused, naming the field and the rule.';
comment on column ops.dead_letters.attempts is 'How many times this record was received and refused.';
comment on column ops.dead_letters.replayed_at is 'When a replay landed it after a fix; NULL while it is still dead.';
