-- Nights, rooms, amounts, prices and allotments are never negative; a stay
-- never ends before it starts. Amounts the reporting currency could not be
-- computed for (no FX rate) are a warning.
-- Reads the checked_* tables of 00_scope.sql: the keys the run touched, or all.

with bad as (
    select property_code, confirmation_id, valid_from, nights, rooms, room_revenue_gross, total_gross
    from checked_reservations
    where nights < 0 or rooms < 0 or room_nights < 0 or room_revenue_gross < 0 or room_revenue_net < 0
       or extras_amount < 0 or total_gross < 0 or taxes < 0
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservations.non_negative', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, confirmation_id, valid_from, room_no, business_date, revenue_gross, revenue_net
    from checked_reservation_nights
    where revenue_gross < 0 or revenue_net < 0
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservation_nights.non_negative', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, room_code, stay_date, valid_from, allotment, min_stay, max_stay
    from checked_availability
    where allotment < 0 or min_stay < 0 or max_stay < 0
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'availability.non_negative', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, price, min_stay
    from checked_rates
    where price < 0 or min_stay < 0 or available < 0 or adults < 0 or children < 0
    union all  -- new cells' values, from the rows they were built from (00_scope.sql)
    select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, price, min_stay
    from rate_differing
    where current_from is null and not ops.check_all()
      and (price < 0 or min_stay < 0 or available < 0 or adults < 0 or children < 0)
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'rates.non_negative', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;

with bad as (
    select property_code, confirmation_id, valid_from, currency, reporting_currency
    from checked_reservations
    where total_gross is not null and total_gross_rc is null
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservations.fx_rate_missing', 'warning', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;
