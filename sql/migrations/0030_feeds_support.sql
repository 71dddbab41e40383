-- What the pricing and ML feeds need beside the facts: the ledger of the
-- feed definitions applied from sql/feeds/ (re-applied whenever a file
-- changes, unlike migrations), the feeds' tunable thresholds, and the link
-- from a nightly step's ops.runs row to its night.

create table ops.feed_definitions (
    name        text primary key,
    checksum    text not null,
    applied_at  timestamptz not null default now()
);
comment on table ops.feed_definitions is
    'The sql/feeds/ files applied to this database, with their SHA-256: ota-ingest migrate re-applies a file whose checksum changed (feeds are views and functions, rebuilt in place, so they are not migrations).';
comment on column ops.feed_definitions.name is 'The file name in sql/feeds/, e.g. 10_pricing_current_rates.sql.';
comment on column ops.feed_definitions.checksum is 'Hex SHA-256 of the file as applied.';
comment on column ops.feed_definitions.applied_at is 'When it was last applied.';

create table feeds.settings (
    name         text primary key,
    value        numeric not null,
    description  text not null
);
comment on table feeds.settings is
    'Thresholds the feeds read (UPDATE a row to change one; the views read it on every query).';
comment on column feeds.settings.name is 'The setting, e.g. psi_retrain.';
comment on column feeds.settings.value is 'Its value.';
comment on column feeds.settings.description is 'What it means.';
insert into feeds.settings (name, value, description) values
    ('psi_watch', 0.1, 'Population stability index at or above which a distribution is watched.'),
    ('psi_retrain', 0.25, 'Population stability index at or above which feeds.retraining_signals says retrain.'),
    ('breach_window_days', 7, 'Days of recon.drift_metrics breaches feeds.retraining_signals counts.'),
    ('freshness_hours', 36, 'Hours after the last successful load at which data counts as stale.');

alter table ops.runs add column night_run_id text;
comment on column ops.runs.night_run_id is
    'For a step of `ota-ingest nightly` (command "nightly: STEP"): the run id of its night; NULL otherwise.';
create index runs_night_idx on ops.runs (night_run_id) where night_run_id is not null;

grant select on feeds.settings to ota_analyst;
grant select, update on feeds.settings to ota_ingest;
grant select, insert, update, delete on ops.feed_definitions to ota_ingest;
