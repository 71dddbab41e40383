-- The fact rows the checks look at, copied once so each check reads a small
-- table: every version of each key this run's transforms touched, read from
-- their temporary tables (the checks run last in the transforms' transaction),
-- or, with ota.check_all on (`ota-ingest transform --check-all`, the weekly
-- nightly), every row. Each table has one branch per mode; the other's
-- condition holds for no row, so PostgreSQL tests it once and reads nothing.
--
-- By hand: `cat sql/transforms/*.sql sql/checks/*.sql | psql -1 -v ON_ERROR_STOP=1`,
-- with `set ota.check_all = on;` in front for the full scan.

set local jit = off;
-- The server's own work_mem again (the transforms raised it for their sorts):
-- the full scan grows with the warehouse, and the operator's work_mem and
-- temp_file_limit are what should bound it. A check that cannot run rolls the
-- promotion back with it (same transaction); a rerun promotes the batch again.
set local work_mem to default;
-- Over the keys a run touched (not --check-all) the checks read the versions of the
-- cells in the batch, which the transforms above sorted and hashed in 256 MB: the
-- same here, so finding those versions (a hash of the touched keys) and the chain
-- sorts stay in memory; with the default they spilled to disk in batches.
select set_config('work_mem', '256MB', true) where not ops.check_all();

create temp table checked_reservations on commit drop as
select f.* from facts.reservations f where ops.check_all()
union all
select f.* from facts.reservations f
join reservation_batch b
  on (b.property_code, b.confirmation_id, b.source) = (f.property_code, f.confirmation_id, f.source)
where not ops.check_all();

create temp table checked_reservation_nights on commit drop as
select f.* from facts.reservation_nights f where ops.check_all()
union all
select f.* from facts.reservation_nights f
join reservation_batch b
  on (b.property_code, b.confirmation_id, b.source) = (f.property_code, f.confirmation_id, f.source)
where not ops.check_all();

analyze availability_changes;
create temp table checked_availability on commit drop as
select f.* from facts.availability f where ops.check_all()
union all
select f.* from facts.availability f
where (f.property_code, f.room_code, f.stay_date, f.source) in (
          select c.property_code, c.room_code, c.stay_date, c.source from availability_changes c
          union
          select l.property_code, l.room_code, l.stay_date, l.source from availability_late_cells l)
  and not ops.check_all();

-- Rates: the cells that had a version before this run and changed, and the late cells. A cell
-- that changed in order (50_rates.sql) is checked on the part of its chain this run wrote: the
-- version it closed and the versions it appended, as facts.rates stored them (rate_written,
-- filled by those statements' RETURNING), which must tile time from the closed version's start
-- and leave one current row; its older versions are unchanged and were checked when written.
-- A late cell's history was recomputed, so it is read back whole. A new cell (a first load, a
-- full refresh, a new stay date) is not read back: its versions were written in one statement
-- from one sorted pass, each ending where the next begins and the last left open, so its chain
-- is whole and has one current row by construction, and the partial unique index refuses a
-- second current row. Reading a first load's million versions back would cost more than
-- writing them (--check-all still does). Their values are still checked
-- (30_dims_integrity.sql, 40_non_negative.sql), from the batch rows they were built from
-- (rate_differing), which hold every value written.
create temp table checked_rates on commit drop as
select f.* from facts.rates f where ops.check_all()
union all
select w.* from rate_written w where not ops.check_all()
union all
select f.* from facts.rates f
where (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source) in (
          select l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source
          from rate_late_cells l)
  and not ops.check_all();

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'checks.rate_versions_checked', count(*) from checked_rates
union all
select ops.current_run_id(), 'checks.availability_versions_checked', count(*) from checked_availability
union all
select ops.current_run_id(), 'checks.reservation_versions_checked', count(*) from checked_reservations
on conflict (run_id, metric) do update set value = excluded.value;
