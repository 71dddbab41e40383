-- Every code in facts is known to dims (transforms register unknown ones, so
-- a failure here means dims rows were deleted by hand). Auto-registered codes
-- are a warning: the seed files should name them.
-- Reads the checked_* tables of 00_scope.sql: the keys the run touched, or all.

with bad as (
    select distinct r.property_code, r.room_code, r.rate_id, r.channel_code
    from checked_reservations r
    where not exists (select 1 from dims.properties p where p.property_code = r.property_code)
       or (r.room_code is not null and not exists (
              select 1 from dims.rooms d where (d.property_code, d.room_code) = (r.property_code, r.room_code)))
       or (r.rate_id is not null and not exists (
              select 1 from dims.rate_plans d where (d.property_code, d.rate_id) = (r.property_code, r.rate_id)))
       or not exists (select 1 from dims.channels c where c.channel_code = r.channel_code)
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservations.dims', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select k.* from (select distinct property_code, room_code from checked_availability) k
    where not exists (select 1 from dims.rooms d where (d.property_code, d.room_code) = (k.property_code, k.room_code))
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'availability.dims', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    -- Distinct within each part first: the planner knows each table's few distinct keys
    -- and hashes them, where a union of the raw rows sorted a first load's million.
    select k.* from (
        select distinct property_code, rate_id, room_code, channel from checked_rates
        union  -- new cells' values, from the rows they were built from (00_scope.sql)
        select distinct property_code, rate_id, room_code, channel from rate_differing
        where current_from is null and not ops.check_all()
    ) k
    where not exists (select 1 from dims.rate_plans d where (d.property_code, d.rate_id) = (k.property_code, k.rate_id))
       or not exists (select 1 from dims.rooms d where (d.property_code, d.room_code) = (k.property_code, k.room_code))
       or not exists (select 1 from dims.channels c where c.channel_code = k.channel)
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'rates.dims', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select 'property' as kind, property_code as code from dims.properties where auto_registered
    union all select 'room', property_code || '/' || room_code from dims.rooms where auto_registered
    union all select 'rate', property_code || '/' || rate_id from dims.rate_plans where auto_registered
    union all select 'channel', channel_code from dims.channels where auto_registered
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'dims.auto_registered', 'warning', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;
