-- feeds.psi_history: the population stability index of every reconciliation
-- snapshot against its reference, so PSI can be followed over time (the
-- report draws it). Re-applied by `ota-ingest migrate` whenever this file
-- changes.

drop view if exists feeds.psi_history;

-- The reference of a snapshot, as feeds.retraining_signals takes it for the
-- latest: the newest pinned snapshot before it, else the one just before it.
create view feeds.psi_history as
with pairs as (
    select s.source, s.stream, s.property_code, s.snapshot_id, s.taken_at,
           r.snapshot_id as reference_snapshot_id, coalesce(r.pinned, false) as reference_pinned
    from recon.snapshots s
    left join lateral (
        select p.snapshot_id, p.pinned from recon.snapshots p
        where p.source = s.source and p.stream = s.stream and p.property_code = s.property_code
          and p.snapshot_id < s.snapshot_id
        order by p.pinned desc, p.snapshot_id desc
        limit 1
    ) r on true
),
-- Each snapshot's values (feeds.snapshot_values), gathered by one join as
-- feeds.retraining_signals does: on a Citus cluster a function that queries
-- recon.* cannot run for each row of a query on it.
snapshot_values as (
    select v.snapshot_id, array_agg(v.value) as snapshot_values
    from recon.snapshots s
    join (
        select a.snapshot_id, a.property_code, 'availability' as kind, a.allotment::numeric as value
        from recon.snapshot_availability a
        union all
        select r.snapshot_id, r.property_code, 'reservations', round(r.total_gross / r.room_nights, 2)
        from recon.snapshot_reservations r
        where r.status = 'confirmed' and r.room_nights > 0
        union all
        select r.snapshot_id, r.property_code, 'rates', r.price
        from recon.snapshot_rates r
        where r.price is not null
    ) v on v.snapshot_id = s.snapshot_id and v.property_code = s.property_code
       and v.kind = case when s.stream in ('availability', 'reservations') then s.stream else 'rates' end
    group by v.snapshot_id
)
select p.source, p.stream, p.property_code, p.snapshot_id, p.taken_at, p.reference_snapshot_id, p.reference_pinned,
       case when p.reference_snapshot_id is not null then
           feeds.population_stability(reference.snapshot_values, latest.snapshot_values)
       end as psi
from pairs p
left join snapshot_values reference on reference.snapshot_id = p.reference_snapshot_id
left join snapshot_values latest on latest.snapshot_id = p.snapshot_id;

comment on view feeds.psi_history is
    'PSI of every reconciliation snapshot (recon.snapshots) against its reference: the newest pinned snapshot before it, else the previous one (the rule feeds.retraining_signals applies to the latest). psi is NULL for a scope''s first snapshot. Below psi_watch (feeds.settings, 0.1) stable, up to psi_retrain (0.25) watch, above it retrain.';
comment on column feeds.psi_history.reference_snapshot_id is 'The snapshot compared against; NULL for the first of its source, stream and property.';
comment on column feeds.psi_history.psi is 'Population stability index of the snapshot''s values (feeds.snapshot_values) against the reference''s.';

grant select on feeds.psi_history to ota_analyst, ota_ingest;
