-- Two group roles, without passwords or LOGIN: grant them to real users
-- (GRANT ota_analyst TO alice). Roles are cluster-wide, so they are created
-- only when missing; the grants are per database and always applied.
--   ota_ingest   loads staging and ops, runs transforms, seeds, purge, erasure.
--   ota_analyst  reads facts, dims, feeds (including the last-seen views) and
--                the run ledger and data-quality results; never staging, never
--                dead letters, never the guest-hash salt: no personal data.

-- Roles live in the whole cluster: only the first database migrated creates
-- and describes them, and one migrating concurrently elsewhere (which waits
-- for that creation to commit, then finds the role taken) carries on.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'ota_ingest') then
        begin
            create role ota_ingest nologin;
            comment on role ota_ingest is 'ota-ingest loader: writes staging and ops, runs transforms (grant to the service account).';
        exception when duplicate_object or unique_violation then
            null;
        end;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'ota_analyst') then
        begin
            create role ota_analyst nologin;
            comment on role ota_analyst is 'Analysts: read facts, dims, feeds, ops.runs and ops.dq_results; no staging, no dead letters, no personal data.';
        exception when duplicate_object or unique_violation then
            null;
        end;
    end if;
end
$$;

grant usage on schema staging, dims, facts, feeds, ops to ota_ingest;
grant select, insert, update, delete on all tables in schema staging, ops to ota_ingest;
grant select, insert, update, delete, truncate on all tables in schema dims, facts to ota_ingest;
grant select on all tables in schema feeds to ota_ingest;
grant usage on all sequences in schema staging, ops to ota_ingest;
grant execute on all functions in schema staging, dims, facts, feeds, ops to ota_ingest;

grant usage on schema dims, facts, feeds to ota_analyst;
grant select on all tables in schema dims, facts, feeds to ota_analyst;
grant execute on all functions in schema feeds, dims to ota_analyst;
grant usage on schema ops to ota_analyst;
grant select on ops.runs, ops.dq_results, ops.transform_steps, ops.transform_counts to ota_analyst;

-- Functions are executable by PUBLIC by default; the ones that write or
-- reveal the salt are for the loader only.
revoke execute on function facts.ensure_stay_partitions(date, date) from public;
revoke execute on function staging.drop_load_partitions(date) from public;
revoke execute on function staging.erase_guest(text) from public;
revoke execute on function ops.guest_hash(jsonb) from public;
grant execute on function facts.ensure_stay_partitions(date, date) to ota_ingest;
grant execute on function staging.drop_load_partitions(date) to ota_ingest;
grant execute on function staging.erase_guest(text) to ota_ingest;
grant execute on function ops.guest_hash(jsonb) to ota_ingest;

-- Tables added by later migrations (run by the same owner) get the same rights.
alter default privileges in schema staging, ops grant select, insert, update, delete on tables to ota_ingest;
alter default privileges in schema dims, facts grant select, insert, update, delete, truncate on tables to ota_ingest;
alter default privileges in schema dims, facts, feeds grant select on tables to ota_analyst;
alter default privileges in schema feeds grant execute on functions to ota_analyst;
