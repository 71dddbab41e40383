-- Versions of a key (within its source) tile time: each ends exactly where the next begins, so
-- validities neither overlap nor leave gaps. (No constraint refuses an overlap
-- as rows are written; this proves the chain is whole.)
-- Reads the checked_* tables of 00_scope.sql: the keys the run touched, or all.

with chained as (
    select property_code, confirmation_id, source, valid_from, valid_to,
           lead(valid_from) over (partition by property_code, confirmation_id, source
                                  order by valid_from, staging_event_id) as next_from
    from checked_reservations
), bad as (
    select * from chained where valid_to is distinct from next_from
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservations.no_overlap', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with chained as (
    select property_code, room_code, stay_date, source, valid_from, valid_to,
           lead(valid_from) over (partition by property_code, room_code, stay_date, source order by valid_from) as next_from
    from checked_availability
), bad as (
    select * from chained where valid_to is distinct from next_from
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'availability.no_overlap', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

-- The cell's hash leads the partition only to make the sort cheap: an int8 compares far
-- faster than eight columns, and it is the same partition (the hash is a function of them).
with chained as (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, source, valid_from, valid_to,
           lead(valid_from) over (partition by hashtextextended(concat_ws('|', property_code, rate_id, room_code,
                                                                          stay_date, adults, children, channel, source), 0),
                                  property_code, rate_id, room_code, stay_date, adults, children, channel, source
                                  order by valid_from) as next_from
    from checked_rates
), bad as (
    select * from chained where valid_to is distinct from next_from
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'rates.no_overlap', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;
