-- What reconciliation measures, and what the pipeline records so it can:
-- recon.drift_metrics holds one row per (comparison, snapshot, metric); the
-- pricing and ML feeds read it. ops.pipeline_counts holds the per-run and
-- per-property counts that pipeline health is computed from; the pulls write
-- the request and answer counts, the webhook receiver (a later issue) the
-- push counts, all under the metric names the check below fixes.

create table recon.drift_metrics (
    run_id         text not null,
    snapshot_id    bigint not null,
    source         text not null,
    stream         text not null,
    property_code  text not null,
    metric         text not null,
    kind           text not null check (kind in ('drift', 'movement', 'health')),
    value          numeric,
    threshold      numeric,
    breached       boolean not null default false,
    after_repair   boolean not null default false,
    compared_at    timestamptz not null default now(),
    primary key (run_id, snapshot_id, metric, after_repair)
);
create index drift_metrics_scope_idx on recon.drift_metrics (source, stream, property_code, compared_at desc);

comment on table recon.drift_metrics is
    'One row per comparison of a snapshot with the facts, per metric: drift (missing, extra, mismatched keys and fields, price differences), movement (change since the previous snapshot) and pipeline health (lag, drop rate, retry saturation, redeliveries, collisions) since the previous reconciliation. A breached row exceeded its configured threshold.';
comment on column recon.drift_metrics.run_id is 'The reconcile run (ops.runs).';
comment on column recon.drift_metrics.snapshot_id is 'The snapshot compared (recon.snapshots); it may have been pruned since.';
comment on column recon.drift_metrics.source is 'The configured source.';
comment on column recon.drift_metrics.stream is 'reservations, availability, rates or inventory.';
comment on column recon.drift_metrics.property_code is 'The property.';
comment on column recon.drift_metrics.metric is 'e.g. compared_keys, missing_keys, extra_keys, mismatched_keys, mismatched_share, mismatch.price, price_diff_mean, price_diff_max, movement_share, health.retry_saturation.';
comment on column recon.drift_metrics.kind is 'drift, movement or health.';
comment on column recon.drift_metrics.value is 'The value: a count, a share (0..1), an amount in the cell''s currency, or seconds (lags); NULL when undefined (e.g. no previous snapshot for movement).';
comment on column recon.drift_metrics.threshold is 'The configured limit, where the metric has one (mismatched_share: default 0.005).';
comment on column recon.drift_metrics.breached is 'value > threshold.';
comment on column recon.drift_metrics.after_repair is 'True for the comparison run again after a repair, against the same snapshot.';
comment on column recon.drift_metrics.compared_at is 'When the comparison ran; the latest per scope is the current drift status.';

-- The latest comparison per scope: what the feeds show as a property's drift status.
create view recon.latest_drift as
select distinct on (m.source, m.stream, m.property_code, m.metric)
       m.source, m.stream, m.property_code, m.metric, m.kind, m.value, m.threshold, m.breached, m.after_repair,
       m.snapshot_id, m.run_id, m.compared_at
from recon.drift_metrics m
order by m.source, m.stream, m.property_code, m.metric, m.compared_at desc, m.after_repair desc;
comment on view recon.latest_drift is
    'Each metric of the latest comparison per source, stream and property (after a repair, the comparison after it).';
comment on column recon.latest_drift.source is 'As recon.drift_metrics.source.';
comment on column recon.latest_drift.stream is 'As recon.drift_metrics.stream.';
comment on column recon.latest_drift.property_code is 'As recon.drift_metrics.property_code.';
comment on column recon.latest_drift.metric is 'As recon.drift_metrics.metric.';
comment on column recon.latest_drift.kind is 'As recon.drift_metrics.kind.';
comment on column recon.latest_drift.value is 'As recon.drift_metrics.value.';
comment on column recon.latest_drift.threshold is 'As recon.drift_metrics.threshold.';
comment on column recon.latest_drift.breached is 'As recon.drift_metrics.breached.';
comment on column recon.latest_drift.after_repair is 'As recon.drift_metrics.after_repair.';
comment on column recon.latest_drift.snapshot_id is 'As recon.drift_metrics.snapshot_id.';
comment on column recon.latest_drift.run_id is 'As recon.drift_metrics.run_id.';
comment on column recon.latest_drift.compared_at is 'As recon.drift_metrics.compared_at.';

create table ops.pipeline_counts (
    run_id         text not null,
    source         text not null,
    stream         text not null,
    property_code  text not null,
    metric         text not null check (metric in (
        'requests', 'answers_2xx', 'answers_4xx', 'answers_429', 'answers_5xx', 'transport_errors',
        'pushes_received', 'pushes_refused', 'redeliveries')),
    value          bigint not null,
    recorded_at    timestamptz not null default now(),
    primary key (run_id, source, stream, property_code, metric)
);
create index pipeline_counts_recorded_idx on ops.pipeline_counts (source, property_code, recorded_at);

comment on table ops.pipeline_counts is
    'Counts pipeline health is computed from, per run, source, stream and property. Pulls write requests and their answers (answers_2xx/4xx/429/5xx, transport_errors) as they run; the webhook receiver writes pushes_received, pushes_refused (bad signature, bad body, refused auth) and redeliveries (the same id and hash delivered again). Event lag and new-id collisions come from staging itself (loaded_at - ota_time, is_collision).';
comment on column ops.pipeline_counts.run_id is 'The run (ops.runs), or the receiver''s period id.';
comment on column ops.pipeline_counts.source is 'The configured source.';
comment on column ops.pipeline_counts.stream is 'reservations, feeds (WebHotelier availability and rates, read by one worker) or inventory.';
comment on column ops.pipeline_counts.property_code is 'The property; '''' for a cursor feed, which serves every property at once.';
comment on column ops.pipeline_counts.metric is 'requests (attempts sent), answers_2xx/4xx/429/5xx, transport_errors (timeouts, resets, cut bodies), pushes_received, pushes_refused, redeliveries.';
comment on column ops.pipeline_counts.value is 'The count; a resumed run adds to it.';
comment on column ops.pipeline_counts.recorded_at is 'When it was last written; pipeline health reads the counts recorded since the previous reconciliation.';

grant usage on schema recon to ota_ingest, ota_analyst;
grant select, insert, update, delete on all tables in schema recon to ota_ingest;
grant select on all tables in schema recon to ota_analyst;
grant execute on function recon.prune_snapshots(integer) to ota_ingest;
revoke execute on function recon.prune_snapshots(integer) from public;
grant select, insert, update, delete on ops.pipeline_counts to ota_ingest;
grant select on ops.pipeline_counts to ota_analyst;
