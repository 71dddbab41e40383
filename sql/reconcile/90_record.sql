-- Writes the comparison's figures to recon.drift_metrics: one row per metric,
-- breached as 10_scope.sql's recon_results decides. Rerunning the same
-- comparison in the same run replaces its rows.

insert into recon.drift_metrics (
    run_id, snapshot_id, source, stream, property_code, metric, kind, value, threshold, breached, after_repair)
select ops.current_run_id(), c.snapshot_id, c.source, c.stream, c.property_code, r.metric, r.kind, r.value,
       r.threshold, r.breached, c.after_repair
from recon_results r
cross join recon_scope c
on conflict (property_code, run_id, snapshot_id, metric, after_repair) do update
    set value = excluded.value, threshold = excluded.threshold, breached = excluded.breached,
        compared_at = excluded.compared_at;
