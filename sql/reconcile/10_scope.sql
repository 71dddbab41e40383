-- The snapshot being compared and what the comparison needs to know about it:
-- the previous snapshot of the same scope (for movement), when this scope was
-- last reconciled (the start of the pipeline-health period) and the threshold:
-- the source's configured max_mismatched_share, else 0.005 (0.5%, the default
-- written only here). ota-ingest sets recon.snapshot_id, recon.threshold (empty
-- when not configured), recon.after_repair and recon.repair; by hand:
-- select set_config('recon.snapshot_id', '42', true), ...

-- The full outer joins below hash a million keys a side: in memory, not in
-- batches on disk; JIT compiling them costs more than it saves.
set local work_mem = '256MB';
set local jit = off;

-- The settings, read once here: on a Citus cluster the statements on recon.*
-- run on the workers, where this session's settings are not set.
create temp table recon_settings on commit drop as
select current_setting('recon.snapshot_id')::bigint as snapshot_id, ops.current_run_id() as run_id,
       coalesce(nullif(current_setting('recon.threshold', true), ''), '0.005')::numeric as threshold,
       coalesce(nullif(current_setting('recon.after_repair', true), ''), 'off') = 'on' as after_repair,
       coalesce(nullif(current_setting('recon.repair', true), ''), 'off') = 'on' as repair;

create temp table recon_scope on commit drop as
select s.snapshot_id, s.source, s.stream, s.property_code, s.taken_at, s.stay_from, s.stay_to, s.modified_since,
       s.keys, coalesce((s.counts ->> 'unreadable')::integer, 0) as unreadable_entries,
       (select max(p.snapshot_id) from recon.snapshots p
        where (p.source, p.stream, p.property_code) = (s.source, s.stream, s.property_code)
          and p.snapshot_id < s.snapshot_id) as previous_snapshot_id,
       coalesce((select max(m.compared_at) from recon.drift_metrics m
                 where (m.source, m.stream, m.property_code) = (s.source, s.stream, s.property_code)
                   and m.run_id <> c.run_id), '-infinity'::timestamptz) as health_since,
       c.threshold, c.after_repair, c.repair
from recon.snapshots s
join recon_settings c on c.snapshot_id = s.snapshot_id;

select ops.fail_if((select count(*) from recon_scope) <> 1,
                   'recon.snapshot_id names no snapshot; set it to a recon.snapshots.snapshot_id');

-- The previous snapshot of the scope and the parts of it its dead letters
-- covered, copied here for the repairs' tombstones (60-61): they test keys
-- against it row by row, which Citus runs only on tables of the coordinator.
create temp table recon_previous on commit drop as
select p.snapshot_id, p.property_code, p.stay_from, p.stay_to
from recon.snapshots p
where p.snapshot_id = (select c.previous_snapshot_id from recon_scope c)
  and p.property_code = (select c.property_code from recon_scope c);

create temp table recon_previous_unreadable on commit drop as
select u.property_code, u.snapshot_id, u.room_code, u.rate_id, u.stay_from, u.stay_to
from recon.snapshot_unreadable u
where u.snapshot_id = (select c.previous_snapshot_id from recon_scope c)
  and u.property_code = (select c.property_code from recon_scope c);

-- The parts of the read its dead letters cover (recon.snapshot_unreadable).
create temp table recon_unreadable on commit drop as
select u.room_code, u.rate_id, coalesce(u.stay_from, '-infinity') as stay_from,
       coalesce(u.stay_to, 'infinity') as stay_to
from recon.snapshot_unreadable u
where u.property_code = (select property_code from recon_scope)
  and u.snapshot_id = (select snapshot_id from recon_scope);

-- Every file below adds its figures here; 90_record.sql writes them out. A figure
-- is breached when it exceeds its threshold: the one place that rule is written
-- (the repairs, recon.drift_metrics and ota-ingest's exit status all read `breached`).
create temp table recon_results (
    metric     text primary key,
    kind       text not null,
    value      numeric,
    threshold  numeric,
    breached   boolean not null generated always as (coalesce(value > threshold, false)) stored
) on commit drop;

comment on table recon_scope is 'The snapshot this comparison is about (one row), its previous snapshot, the health period start and the threshold.';
comment on table recon_unreadable is 'Where this snapshot''s read was dead-lettered: room, rate and stay dates (NULL room or rate: any).';
comment on table recon_results is 'The figures of this comparison, one row per metric, before they are written to recon.drift_metrics; breached: the value exceeds its threshold.';
