-- What the transforms need to promote each staged row once: per stream, the
-- snapshot of the last promotion (rows landed by transactions it could not
-- see are the new ones), and per property the latest OTA time promoted
-- (an observation at or before it is late and takes the careful path).

create table ops.transform_state (
    stream         text primary key check (stream in ('reservations', 'availability', 'rates')),
    seen_snapshot  pg_snapshot not null default '1:1:',
    promoted_at    timestamptz
);
comment on table ops.transform_state is
    'The high-water mark per stream: the snapshot the last promotion read staging with. Staging rows whose landing transaction that snapshot could not see are the ones not yet promoted.';
comment on column ops.transform_state.stream is 'reservations, availability or rates.';
comment on column ops.transform_state.seen_snapshot is 'pg_current_snapshot() of the statement that read staging last time; ''1:1:'' (sees nothing) before the first run and after a full refresh.';
comment on column ops.transform_state.promoted_at is 'When the mark last moved; NULL before the first run.';

insert into ops.transform_state (stream) values ('reservations'), ('availability'), ('rates');

create table ops.transform_horizons (
    stream         text not null references ops.transform_state,
    property_code  text not null,
    horizon        timestamptz not null,
    primary key (stream, property_code)
);
comment on table ops.transform_horizons is
    'Per stream and property, the latest observation time promoted. A new observation after it can only extend the history; one at or before it is late and its cell''s history is recomputed from the observation log.';
comment on column ops.transform_horizons.stream is 'availability or rates.';
comment on column ops.transform_horizons.property_code is 'The property.';
comment on column ops.transform_horizons.horizon is 'The greatest valid_from (observation time) promoted for this property so far.';

create table ops.transform_steps (
    run_id       text not null,
    step         text not null,
    phase        text not null check (phase in ('promote', 'check')),
    started_at   timestamptz not null,
    duration_ms  numeric(12, 1) not null,
    primary key (run_id, step)
);
comment on table ops.transform_steps is 'Timings of each SQL file a transform run executed (promotion and data-quality checks timed separately).';
comment on column ops.transform_steps.run_id is 'The run (ops.runs.run_id).';
comment on column ops.transform_steps.step is 'The file name, e.g. 40_rates.sql or checks/10_one_current_row.sql.';
comment on column ops.transform_steps.phase is 'promote (sql/transforms) or check (sql/checks).';
comment on column ops.transform_steps.started_at is 'When the file started.';
comment on column ops.transform_steps.duration_ms is 'Wall time of the file in milliseconds.';

create table ops.transform_counts (
    run_id  text not null,
    metric  text not null,
    value   bigint not null,
    primary key (run_id, metric)
);
comment on table ops.transform_counts is
    'What a transform run promoted: rows read, versions inserted, versions closed, late cells, codes auto-registered in dims, ... one row per metric.';
comment on column ops.transform_counts.run_id is 'The run (ops.runs.run_id), or ''manual'' for files run by hand with psql.';
comment on column ops.transform_counts.metric is 'e.g. rates.observations, rates.versions_inserted, dims.auto_registered.';
comment on column ops.transform_counts.value is 'The count.';

create table ops.dq_results (
    run_id      text not null,
    check_name  text not null,
    severity    text not null check (severity in ('error', 'warning')),
    failures    bigint not null,
    sample      jsonb not null default '[]'::jsonb,
    checked_at  timestamptz not null default now(),
    primary key (run_id, check_name)
);
comment on table ops.dq_results is
    'Data-quality check results per transform run. A check with severity error and failures > 0 makes the run exit with status 1.';
comment on column ops.dq_results.run_id is 'The run (ops.runs.run_id), or ''manual''.';
comment on column ops.dq_results.check_name is 'e.g. rates.one_current_row, reservations.no_overlap, availability.dims_room.';
comment on column ops.dq_results.severity is 'error (the warehouse is wrong) or warning (incomplete reference data, e.g. a missing FX rate).';
comment on column ops.dq_results.failures is 'Offending rows; 0 means passed.';
comment on column ops.dq_results.sample is 'Up to 5 offending keys, for a first look.';
comment on column ops.dq_results.checked_at is 'When the check ran.';

-- The run id the runner puts in the session, or 'manual' under plain psql.
create function ops.current_run_id() returns text
language sql stable
as $$ select coalesce(nullif(current_setting('ota.run_id', true), ''), 'manual') $$;
comment on function ops.current_run_id() is
    'The transform run id set by ota-ingest (SET ota.run_id); ''manual'' when the SQL files are run by hand.';

-- Lets a plain SQL file stop its transaction with a message.
create function ops.fail_if(condition boolean, message text) returns void
language plpgsql
as $$
begin
    if condition then
        raise exception '%', message using errcode = 'check_violation';
    end if;
end
$$;
comment on function ops.fail_if(boolean, text) is 'Raises message (SQLSTATE 23514) when condition is true; the transforms use it to assert invariants.';
