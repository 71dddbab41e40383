-- The promotion marks on a Citus cluster. The transforms promote the staged
-- rows whose landing transaction (landed_xid) the previous promotion's snapshot
-- could not see. On one server that snapshot and the staging rows are read by
-- one statement, so they agree. On Citus the snapshot is the coordinator's
-- (landed_xid is filled in there too: Citus evaluates a column default on the
-- coordinator), while the rows live on the workers, and a landing that writes
-- to several nodes commits on the coordinator first and on the workers a moment
-- later (two-phase commit). A promotion that took its snapshot in that moment
-- would count the landing as seen without reading its rows, and never promote
-- them.
--
-- The fence closes that moment. On a distributed warehouse every landing
-- transaction takes a shared advisory lock on the coordinator with its first
-- staged row (the landed_xid default that `ota-ingest distribute` sets) and
-- holds it until it has committed on every node; the transforms take the same
-- lock exclusively around their marks (10-12), so when they take their
-- snapshot every landing it counts as seen is committed everywhere. Landings
-- queue for that short while. A landing left prepared on a worker that was down
-- when it committed is finished first (recover_prepared_transactions).
--
-- On one server both functions do nothing.

create function ops.close_landing_fence() returns void
language plpgsql as $$
begin
    if to_regclass('pg_catalog.pg_dist_partition') is null then
        return;
    end if;
    if not ops.is_distributed() then
        return;
    end if;
    -- 0x6f74615f66656e63: "ota_fenc"; the landed_xid default takes it shared.
    perform pg_advisory_lock(8031151097876147811);
    perform recover_prepared_transactions();
end;
$$;

create function ops.open_landing_fence() returns void
language plpgsql as $$
begin
    if exists (select 1 from pg_locks
               where locktype = 'advisory' and pid = pg_backend_pid() and mode = 'ExclusiveLock'
                 and classid = (8031151097876147811 >> 32)::oid
                 and objid = (8031151097876147811 & 4294967295)::oid and objsubid = 1) then
        perform pg_advisory_unlock(8031151097876147811);
    end if;
end;
$$;

-- The landing transaction's id, taken with the fence's shared lock: the
-- landed_xid default on a distributed warehouse (sql/citus/landing_fence.sql).
-- One expression, so PostgreSQL inlines it into the COPY's default: the lock is
-- looked up once per row (held after the first), and the void it returns, as
-- text '', picks the first element of the array.
create function ops.fenced_xact_id() returns xid8
language sql volatile as $$
    select (array[pg_current_xact_id()])[1 + length(pg_advisory_xact_lock_shared(8031151097876147811)::text)]
$$;

-- Whether the warehouse is distributed by Citus (its staging is a distributed table).
create function ops.is_distributed() returns boolean
language plpgsql stable as $$
declare
    distributed boolean;
begin
    if to_regclass('pg_catalog.pg_dist_partition') is null then
        return false;
    end if;
    execute 'select exists (select 1 from pg_catalog.pg_dist_partition
                            where logicalrelid = to_regclass(''staging.reservation_events''))'
        into distributed;
    return distributed;
end;
$$;

comment on function ops.close_landing_fence() is
    'On a Citus cluster: waits until every landing in flight has committed on every node and holds new ones back, so the promotion''s snapshot agrees with the workers'' rows; nothing on one server.';
comment on function ops.open_landing_fence() is
    'Lets landings go on after the promotion has taken its marks (releases what close_landing_fence took).';
comment on function ops.fenced_xact_id() is
    'pg_current_xact_id(), after taking the landing fence shared (held to the end of the transaction); the landed_xid default on a Citus cluster.';
comment on function ops.is_distributed() is
    'True when the warehouse has been distributed by `ota-ingest distribute` (Citus).';
