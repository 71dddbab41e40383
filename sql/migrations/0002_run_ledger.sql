-- The run ledger: every command that changes the warehouse writes one row,
-- so "did last night's load finish, and what did it do?" is one query.
create table ops.runs (
    run_id       text primary key,
    command      text not null,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    status       text not null default 'running'
                 check (status in ('running', 'succeeded', 'failed', 'dead_letters')),
    counts       jsonb not null default '{}'::jsonb,
    error        text
);
create index runs_command_started_idx on ops.runs (command, started_at desc);

comment on table ops.runs is 'One row per run of an ota-ingest command that touches the warehouse.';
comment on column ops.runs.run_id is 'Run identifier; a resumed run reuses it, so its batches are not landed twice.';
comment on column ops.runs.command is 'The command, e.g. migrate, pull reservations, transform.';
comment on column ops.runs.started_at is 'When the run (or its latest resumption) started.';
comment on column ops.runs.finished_at is 'When the run ended; NULL while running or if the process died.';
comment on column ops.runs.status is 'running, succeeded, failed, or dead_letters (finished, but some records went to ops.dead_letters).';
comment on column ops.runs.counts is 'What the run did: pages, records landed, duplicates skipped, dead letters, retries, ... (keys vary by command).';
comment on column ops.runs.error is 'The error that ended a failed run, as printed to the user (never secrets).';
