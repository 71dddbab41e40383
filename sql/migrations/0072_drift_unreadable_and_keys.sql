-- Drift that means what it says.
--
-- recon.snapshot_unreadable: the parts of a read its dead letters cover. A feed
-- entry that could not be parsed names its room (availability) or rate and
-- room (rates) and the requested dates, but often not its own night (a broken
-- date is a common fault), so the region is room (and rate) x requested dates.
-- A cell of the facts inside a region and absent from the read is unreadable,
-- not extra: the OTA may well still serve it.
--
-- recon.comparison_keys: the keys behind each comparison (missing, extra,
-- mismatched with both values, unreadable), so `ota-ingest reconcile
-- --show-keys` can list what a breach is made of after the comparison's
-- temporary tables are gone. Both are pruned with their snapshots.

create table recon.snapshot_unreadable (
    property_code   text not null,
    snapshot_id     bigint not null,
    region_no       integer not null,
    room_code       text,
    rate_id         text,
    stay_from       date,
    stay_to         date,
    reason          text not null,
    primary key (property_code, snapshot_id, region_no)
);
comment on table recon.snapshot_unreadable is
    'Where a snapshot''s read was unreadable: one row per open dead letter of the read, as the room, rate and stay dates it covers. A fact cell inside a region and absent from the read counts as unreadable in the comparison, never as extra.';
comment on column recon.snapshot_unreadable.property_code is 'The property.';
comment on column recon.snapshot_unreadable.snapshot_id is 'The snapshot (recon.snapshots).';
comment on column recon.snapshot_unreadable.region_no is 'Ordinal of the region within the snapshot.';
comment on column recon.snapshot_unreadable.room_code is 'The room the dead-lettered entry belonged to; NULL: every room.';
comment on column recon.snapshot_unreadable.rate_id is 'The rate plan (rates); NULL: every rate.';
comment on column recon.snapshot_unreadable.stay_from is 'First stay date the entry could cover (the requested dates); NULL: unbounded.';
comment on column recon.snapshot_unreadable.stay_to is 'Last stay date it could cover; NULL: unbounded.';
comment on column recon.snapshot_unreadable.reason is 'Why the entry was refused (ops.dead_letters.reason).';

create table recon.comparison_keys (
    property_code   text not null,
    snapshot_id     bigint not null,
    after_repair    boolean not null,
    kind            text not null check (kind in ('missing', 'extra', 'mismatch', 'unreadable')),
    key             jsonb not null,
    ota_value       jsonb,
    fact_value      jsonb,
    primary key (property_code, snapshot_id, after_repair, kind, key)
);
comment on table recon.comparison_keys is
    'The keys behind each comparison of a snapshot with the facts (ota-ingest reconcile --show-keys): missing (at the OTA, not in the warehouse), extra (in the warehouse, not at the OTA), mismatch (both, other values) and unreadable (in the warehouse, in a part of the read that was dead-lettered). At most 10,000 keys per kind and comparison; recon.drift_metrics has the full counts.';
comment on column recon.comparison_keys.property_code is 'The property.';
comment on column recon.comparison_keys.snapshot_id is 'The snapshot compared (recon.snapshots).';
comment on column recon.comparison_keys.after_repair is 'True for the comparison that verified a repair.';
comment on column recon.comparison_keys.kind is 'missing, extra, mismatch or unreadable.';
comment on column recon.comparison_keys.key is 'The key without the property: rate_id, room_code, stay_date, adults, children, channel (rates); room_code, stay_date (availability); confirmation_id (reservations).';
comment on column recon.comparison_keys.ota_value is 'The compared fields as the OTA showed them; NULL when it did not show the key.';
comment on column recon.comparison_keys.fact_value is 'The compared fields in the warehouse''s facts at the snapshot''s time; NULL when they have none.';

create or replace function recon.prune_snapshots(keep integer) returns integer
language plpgsql
as $$
declare
    doomed bigint[];
begin
    select coalesce(array_agg(snapshot_id), '{}') into doomed
    from (
        select s.snapshot_id,
               row_number() over (partition by s.source, s.stream, s.property_code order by s.snapshot_id desc) as nth
        from recon.snapshots s
        where not s.pinned
    ) ranked
    where nth > keep;
    if cardinality(doomed) = 0 then
        return 0;
    end if;
    delete from recon.snapshot_rates where snapshot_id = any(doomed);
    delete from recon.snapshot_availability where snapshot_id = any(doomed);
    delete from recon.snapshot_reservations where snapshot_id = any(doomed);
    delete from recon.snapshot_unreadable where snapshot_id = any(doomed);
    delete from recon.comparison_keys where snapshot_id = any(doomed);
    delete from recon.snapshots where snapshot_id = any(doomed);
    return cardinality(doomed);
end
$$;
comment on function recon.prune_snapshots(integer) is
    'Drops all but the newest keep unpinned snapshots of each (source, stream, property), with their keys, unreadable regions and compared keys, one statement per table; returns how many snapshots it dropped. Pinned snapshots are kept.';

grant select on recon.snapshot_unreadable, recon.comparison_keys to ota_analyst;
grant select, insert, update, delete on recon.snapshot_unreadable, recon.comparison_keys to ota_ingest;
