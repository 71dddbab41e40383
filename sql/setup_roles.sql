-- The warehouse's roles, created once by a superuser connected to the
-- warehouse's database. `ota-ingest setup-roles` prints this file after the
-- two settings that name the login roles; by hand:
--   { echo "set ota.owner_role = 'ota_owner'; set ota.login_role = 'ota_etl';"; cat sql/setup_roles.sql; } \
--     | psql "postgresql://postgres@db.internal/warehouse" -v ON_ERROR_STOP=1
-- then give each login role its password with psql's \password.
--
--   owner role    owns the database and every schema in it; runs `ota-ingest migrate`.
--   login role    the daily one: pull, load, transform, reconcile, nightly, serve,
--                 export, status. A member of ota_ingest, to which the migrations
--                 grant exactly what those commands need (and, by default
--                 privileges, the same on every table a later migration adds).
--   ota_ingest    the group the login role belongs to (no login).
--   ota_analyst   the group analysts are granted (GRANT ota_analyst TO alice):
--                 reads facts, dims and feeds; never staging or dead letters.
--
-- Safe to run again: what exists is left as it is.
do $$
declare
    owner_role text := current_setting('ota.owner_role');
    login_role text := current_setting('ota.login_role');
begin
    -- Roles are cluster-wide: another database's migration may be creating the groups right now.
    begin
        if not exists (select from pg_roles where rolname = 'ota_ingest') then
            create role ota_ingest nologin;
            comment on role ota_ingest is 'ota-ingest loader: writes staging and ops, runs transforms (grant to the service account).';
        end if;
    exception when duplicate_object or unique_violation then
        null;
    end;
    begin
        if not exists (select from pg_roles where rolname = 'ota_analyst') then
            create role ota_analyst nologin;
            comment on role ota_analyst is 'Analysts: read facts, dims, feeds, ops.runs and ops.dq_results; no staging, no dead letters, no personal data.';
        end if;
    exception when duplicate_object or unique_violation then
        null;
    end;
    if not exists (select from pg_roles where rolname = owner_role) then
        execute format('create role %I login', owner_role);
    end if;
    if not exists (select from pg_roles where rolname = login_role) then
        execute format('create role %I login', login_role);
    end if;
    execute format('grant ota_ingest to %I', login_role);
    -- The owner creates the schemas, and btree_gist (a trusted extension) in public.
    execute format('alter database %I owner to %I', current_database(), owner_role);
    execute format('grant connect, temporary on database %I to ota_ingest, ota_analyst', current_database());
end
$$;
