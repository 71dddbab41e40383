-- feeds.psi_history: the population stability index of every reconciliation
-- snapshot against its reference, so PSI can be followed over time (the
-- report draws it). Re-applied by `ota-ingest migrate` whenever this file
-- changes.

drop view if exists feeds.psi_history;

-- The reference of a snapshot, as feeds.retraining_signals takes it for the
-- latest: the newest pinned snapshot before it, else the one just before it.
create view feeds.psi_history as
select s.source, s.stream, s.property_code, s.snapshot_id, s.taken_at,
       r.snapshot_id as reference_snapshot_id, coalesce(r.pinned, false) as reference_pinned,
       case when r.snapshot_id is not null then feeds.population_stability(
           feeds.snapshot_values(r.snapshot_id, s.stream), feeds.snapshot_values(s.snapshot_id, s.stream))
       end as psi
from recon.snapshots s
left join lateral (
    select p.snapshot_id, p.pinned from recon.snapshots p
    where p.source = s.source and p.stream = s.stream and p.property_code = s.property_code
      and p.snapshot_id < s.snapshot_id
    order by p.pinned desc, p.snapshot_id desc
    limit 1
) r on true;

comment on view feeds.psi_history is
    'PSI of every reconciliation snapshot (recon.snapshots) against its reference: the newest pinned snapshot before it, else the previous one (the rule feeds.retraining_signals applies to the latest). psi is NULL for a scope''s first snapshot. Below psi_watch (feeds.settings, 0.1) stable, up to psi_retrain (0.25) watch, above it retrain.';
comment on column feeds.psi_history.reference_snapshot_id is 'The snapshot compared against; NULL for the first of its source, stream and property.';
comment on column feeds.psi_history.psi is 'Population stability index of the snapshot''s values (feeds.snapshot_values) against the reference''s.';

grant select on feeds.psi_history to ota_analyst, ota_ingest;
