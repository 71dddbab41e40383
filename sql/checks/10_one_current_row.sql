-- Every key (with its source) has exactly one current version (valid_to IS NULL). The partial
-- unique indexes already refuse two; this also catches a key with none.
-- Reads the checked_* tables of 00_scope.sql: the keys the run touched, or all.

with bad as (
    select property_code, confirmation_id, source, count(*) filter (where valid_to is null) as current_rows
    from checked_reservations group by 1, 2, 3
    having count(*) filter (where valid_to is null) <> 1
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservations.one_current_row', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, room_code, stay_date, source, count(*) filter (where valid_to is null) as current_rows
    from checked_availability group by 1, 2, 3, 4
    having count(*) filter (where valid_to is null) <> 1
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'availability.one_current_row', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, source,
           count(*) filter (where valid_to is null) as current_rows
    from checked_rates group by 1, 2, 3, 4, 5, 6, 7, 8
    having count(*) filter (where valid_to is null) <> 1
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'rates.one_current_row', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;
