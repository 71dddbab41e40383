-- Promotes the new availability observations into facts.availability. A version is a run of
-- identical observations of a cell (equal row_hash): an observation equal to
-- the value in force creates nothing and touches nothing.
--
-- Two paths, one result (the same rows a full refresh gives):
--   in order  every observation of the cell is after its property's horizon
--             (the latest observation time promoted): compare with the current
--             version, close it where the value changed, append the changes.
--   late      some observation is at or before the horizon: recompute the
--             cell's history from the version in force just before the first
--             late observation, plus every logged observation from then on.

-- The batch is sorted and hashed in memory rather than on disk.
set local work_mem = '256MB';

-- Cells with a late observation, and the time of their earliest new one.
create temp table availability_late_cells on commit drop as
select b.property_code, b.room_code, b.stay_date, b.source,
       min(b.valid_from) as first_new
from availability_batch b
where (b.property_code, b.room_code, b.stay_date, b.source) in (
    select l.property_code, l.room_code, l.stay_date, l.source
    from availability_batch l
    join ops.transform_horizons h on h.stream = 'availability' and h.property_code = l.property_code
    where l.valid_from <= h.horizon)
group by 1, 2, 3, 4;

-- In order: the observations whose values differ from the ones before them
-- (the previous new observation of the cell, else the current version).
-- Several observations of a cell at one instant: the last landed counts.
-- Only these changes get a row hash; unchanged observations cost a compare.
-- The planner underestimates the windows' output and would probe the index
-- once per observation; one hash join over the current rows is far cheaper,
-- except for a small batch, which probes the index for its few cells (as in
-- 50_rates.sql).
select set_config('enable_nestloop', 'off', true)
where (select count(*) from availability_batch) > 10000;
create temp table availability_changes on commit drop as
with latest_at_instant as (
    select b.*, row_number() over instant as nth
    from availability_batch b
    where not exists (
        select 1 from availability_late_cells l
        where (l.property_code, l.room_code, l.stay_date, l.source) = (b.property_code, b.room_code, b.stay_date, b.source))
    window instant as (partition by b.cell_hash, b.property_code, b.room_code, b.stay_date, b.source, b.valid_from
                       order by b.loaded_at desc, b.allotment desc, b.stop_sell desc, b.min_stay desc,
                                b.max_stay desc, b.closed_to_arrival desc, b.closed_to_departure desc,
                                b.withdrawn desc)
),
sequenced as (
    select i.*, row_number() over cell as position,
           lag(i.allotment) over cell as previous_allotment, lag(i.stop_sell) over cell as previous_stop_sell,
           lag(i.min_stay) over cell as previous_min_stay, lag(i.max_stay) over cell as previous_max_stay,
           lag(i.closed_to_arrival) over cell as previous_closed_to_arrival,
           lag(i.closed_to_departure) over cell as previous_closed_to_departure,
           lag(i.withdrawn) over cell as previous_withdrawn
    from latest_at_instant i
    where i.nth = 1
    window cell as (partition by i.cell_hash, i.property_code, i.room_code, i.stay_date, i.source order by i.valid_from)
)
select s.property_code, s.room_code, s.stay_date, s.valid_from,
       facts.availability_version_hash(s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival,
                                   s.closed_to_departure, s.withdrawn) as row_hash,
       s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival, s.closed_to_departure, s.withdrawn, s.source,
       s.origin, s.loaded_at, c.valid_from as current_from, coalesce(c.version, 0) as current_version
from sequenced s
left join facts.availability c
  on (c.property_code, c.room_code, c.stay_date, c.source) = (s.property_code, s.room_code, s.stay_date, s.source)
  and c.valid_to is null
where case when s.position = 1
           then (s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival, s.closed_to_departure, s.withdrawn)
                is distinct from (c.allotment, c.stop_sell, c.min_stay, c.max_stay, c.closed_to_arrival,
                                  c.closed_to_departure, c.withdrawn)
           else (s.allotment, s.stop_sell, s.min_stay, s.max_stay, s.closed_to_arrival, s.closed_to_departure, s.withdrawn)
                is distinct from (s.previous_allotment, s.previous_stop_sell, s.previous_min_stay,
                                  s.previous_max_stay, s.previous_closed_to_arrival, s.previous_closed_to_departure,
                                  s.previous_withdrawn)
      end;
set local enable_nestloop to default;

-- Close the current version of every changed cell at its first change.
update facts.availability f
set valid_to = c.first_change
from (
    select property_code, room_code, stay_date, source, current_from,
           min(valid_from) as first_change
    from availability_changes
    where current_from is not null
    group by 1, 2, 3, 4, 5
) c
where (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from)
    = (c.property_code, c.room_code, c.stay_date, c.source, c.current_from);

-- Append the changes; each holds until the next change of its cell.
insert into facts.availability (
    property_code, room_code, stay_date, valid_from, row_hash, valid_to,
    version, allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, withdrawn, source, origin, loaded_at)
select property_code, room_code, stay_date, valid_from, row_hash,
       lead(valid_from) over cell,
       current_version + row_number() over cell,
       allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, withdrawn, source, origin, loaded_at
from availability_changes
window cell as (partition by property_code, room_code, stay_date, source
                order by valid_from);

-- Late: the recomputed history of each late cell from its first new observation on.
create temp table availability_late_history on commit drop as
with start as (
    select f.property_code, f.room_code, f.stay_date, f.valid_from,
           f.row_hash, f.version, f.allotment, f.stop_sell, f.min_stay, f.max_stay, f.closed_to_arrival, f.closed_to_departure, f.withdrawn, f.source,
           f.origin, f.loaded_at
    from facts.availability f
    join availability_late_cells l
      on (l.property_code, l.room_code, l.stay_date, l.source)
       = (f.property_code, f.room_code, f.stay_date, f.source)
    where f.valid_from < l.first_new and (f.valid_to is null or f.valid_to >= l.first_new)
),
logged as (
    select distinct on (o.property_code, o.room_code, o.stay_date, o.source,
                        o.observed_at)
           o.property_code, o.room_code, o.stay_date,
           o.observed_at as valid_from,
           facts.availability_version_hash(o.allotment, o.stop_sell, o.min_stay, o.max_stay, o.closed_to_arrival, o.closed_to_departure, o.withdrawn) as row_hash,
           null::integer as version, o.allotment, o.stop_sell, o.min_stay, o.max_stay, o.closed_to_arrival,
           o.closed_to_departure, o.withdrawn, o.source,
           o.origin, o.loaded_at
    from staging.availability_observations o
    join availability_late_cells l
      on (l.property_code, l.room_code, l.stay_date, l.source)
       = (o.property_code, o.room_code, o.stay_date, o.source)
    -- An observation lands after it is made: older load dates cannot hold one.
    where o.load_date >= (select min(first_new) from availability_late_cells)::date - 1
      and o.observed_at >= l.first_new
    order by o.property_code, o.room_code, o.stay_date, o.source,
             o.observed_at, o.loaded_at desc, o.allotment desc, o.stop_sell desc, o.min_stay desc, o.max_stay desc,
             o.closed_to_arrival desc, o.closed_to_departure desc, o.withdrawn desc
),
sequenced as (
    select s.*, lag(s.row_hash) over cell as previous_hash
    from (select * from start union all select * from logged) s
    window cell as (partition by s.property_code, s.room_code, s.stay_date, s.source
                    order by s.valid_from)
),
versions as (
    select * from sequenced where previous_hash is distinct from row_hash
)
select v.property_code, v.room_code, v.stay_date, v.valid_from,
       v.row_hash, lead(v.valid_from) over cell as valid_to,
       (coalesce(first_value(v.version) over cell, 1) - 1 + row_number() over cell)::integer as version,
       v.allotment, v.stop_sell, v.min_stay, v.max_stay, v.closed_to_arrival, v.closed_to_departure, v.withdrawn, v.source,
       v.origin, v.loaded_at
from versions v
window cell as (partition by v.property_code, v.room_code, v.stay_date, v.source
                order by v.valid_from);
-- Indexed on its key for the anti-join below, for the reason given in 50_rates.sql
-- (rate_late_history): estimated at one row, it ran as a nested loop over the history.
create index on availability_late_history (property_code, room_code, stay_date, source, valid_from);
analyze availability_late_history;  -- joined with facts.availability below (see availability_late_gone)

-- Versions the recomputed history no longer has: found by an anti-join, then
-- deleted by key (Citus joins a temporary table with a distributed one, but
-- cannot run a subquery on one that refers to the other; see 31_reservations.sql).
create temp table availability_late_gone on commit drop as
select f.property_code, f.room_code, f.stay_date, f.source, f.valid_from
from facts.availability f
join availability_late_cells l
  on (l.property_code, l.room_code, l.stay_date, l.source) = (f.property_code, f.room_code, f.stay_date, f.source)
left join availability_late_history h
  on (h.property_code, h.room_code, h.stay_date, h.source, h.valid_from, h.row_hash)
   = (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from, f.row_hash)
where f.valid_from >= l.first_new and h.property_code is null;
-- Analyzed, so the planner knows how few rows it holds (usually none): a temporary
-- table is never analyzed by autovacuum, and unanalyzed it is guessed at ten pages,
-- for which PostgreSQL sorted the whole fact table for a merge join.
analyze availability_late_gone;

delete from facts.availability f
using availability_late_gone g
where (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from)
    = (g.property_code, g.room_code, g.stay_date, g.source, g.valid_from);

update facts.availability f
set valid_to = h.valid_to, version = h.version
from availability_late_history h
where (h.property_code, h.room_code, h.stay_date, h.source, h.valid_from, h.row_hash)
    = (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from, f.row_hash)
  and h.valid_to is not null and (f.valid_to is null or h.valid_to < f.valid_to);

insert into facts.availability (
    property_code, room_code, stay_date, valid_from, row_hash, valid_to,
    version, allotment, stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, withdrawn, source, origin, loaded_at)
select h.property_code, h.room_code, h.stay_date, h.valid_from,
       h.row_hash, h.valid_to, h.version, h.allotment, h.stop_sell, h.min_stay, h.max_stay, h.closed_to_arrival,
       h.closed_to_departure, h.withdrawn, h.source, h.origin, h.loaded_at
from availability_late_history h
left join facts.availability f
  on (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from)
   = (h.property_code, h.room_code, h.stay_date, h.source, h.valid_from)
where f.property_code is null;

update facts.availability f
set valid_to = h.valid_to, version = h.version
from availability_late_history h
where (h.property_code, h.room_code, h.stay_date, h.source, h.valid_from, h.row_hash)
    = (f.property_code, f.room_code, f.stay_date, f.source, f.valid_from, f.row_hash)
  and (f.valid_to is distinct from h.valid_to or f.version <> h.version);

-- The recomputed cells must tile time: each version ends where the next begins.
select ops.fail_if(exists (
    select 1
    from (
        select f.valid_to,
               lead(f.valid_from) over (partition by f.property_code, f.room_code, f.stay_date, f.source order by f.valid_from) as next_from
        from facts.availability f
        join availability_late_cells l
          on (l.property_code, l.room_code, l.stay_date, l.source)
           = (f.property_code, f.room_code, f.stay_date, f.source)
    ) chain
    where chain.valid_to is distinct from chain.next_from),
    'facts.availability: a recomputed cell has overlapping or broken validity; the transform was rolled back');

-- Move each property's horizon to its latest promoted observation.
insert into ops.transform_horizons (stream, property_code, horizon)
select 'availability', property_code, max(valid_from) from availability_batch group by property_code
on conflict (stream, property_code) do update set horizon = excluded.horizon
where ops.transform_horizons.horizon < excluded.horizon;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'availability.versions_appended', count(*) from availability_changes
union all
select ops.current_run_id(), 'availability.late_cells', count(*) from availability_late_cells
on conflict (run_id, metric) do update set value = excluded.value;
