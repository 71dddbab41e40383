-- Promotes the new rate observations into facts.rates. A version is a run of
-- identical observations of a cell (equal row_hash): an observation equal to
-- the value in force creates nothing and touches nothing.
--
-- Three paths, one result (the same rows a full refresh gives):
--   new       the cell has no version yet (a first load, a full refresh, a new
--             stay date): its versions come from the batch alone, written once.
--   in order  every observation of the cell is after its property's horizon
--             (the latest observation time promoted): compare with the current
--             version, close it where the value changed, append the changes.
--   late      some observation is at or before the horizon: recompute the
--             cell's history from the version in force just before the first
--             late observation, plus every logged observation from then on.

-- The batch is sorted and hashed in memory rather than on disk. JIT compiling
-- these plans costs up to a second (the estimates below are large) and saves
-- far less on a million rows.
set local work_mem = '256MB';
set local jit = off;

-- The properties that can have a late cell: their earliest new observation is
-- at or before their horizon. A first load, a full refresh or a steady feed
-- has none, and then the batch is not read for late cells at all (the
-- "exists" below holds for no row, so PostgreSQL skips the statement's plan).
create temp table rate_late_properties on commit drop as
select p.property_code, h.horizon
from rate_batch_properties p
join ops.transform_horizons h on h.stream = 'rates' and h.property_code = p.property_code
where p.first_from <= h.horizon;

-- Cells with a late observation, and the time of their earliest new one.
create temp table rate_late_cells on commit drop as
select b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source,
       min(b.valid_from) as first_new
from rate_batch b
where exists (select 1 from rate_late_properties)
  and (b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source) in (
    select l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source
    from rate_batch l
    join rate_late_properties h on h.property_code = l.property_code
    where l.valid_from <= h.horizon)
group by 1, 2, 3, 4, 5, 6, 7, 8;
analyze rate_late_cells;

-- In order, first pass: the observations that differ from the version in
-- force, or whose cell has none yet. A cell whose new observations all equal
-- its current version cannot change (each equals the one before it), so it
-- gets no version and no write; in a steady feed that is nearly every cell,
-- so this pass is the only one that reads the whole batch: one hash join with
-- the current rows and a direct compare of the values (no row hashes). The
-- planner misjudges a hash join on seven columns and would probe the index
-- once per observation, or sort both sides by the text key (seconds); one
-- hash join over the current rows is far cheaper than either. Not for a small
-- batch (a micro-batch of continuous promotion, one property's day): reading
-- every current row to find a few thousand costs more than probing the index
-- for each (3,000 observations against 1,100,000 current rows: 0.97 s against
-- 0.09 s), and there the planner's own choice stands.
select set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true)
where (select sum(observations) from rate_batch_properties) > 10000;
create temp table rate_differing on commit drop as
select b.*, c.valid_from as current_from, c.version as current_version,
       c.price as current_price, c.currency as current_currency, c.closeout as current_closeout,
       c.min_stay as current_min_stay, c.available as current_available,
       c.withdrawn as current_withdrawn, c.closed_to_arrival as current_closed_to_arrival, c.closed_to_departure as current_closed_to_departure, c.max_stay as current_max_stay, c.min_stay_kind as current_min_stay_kind, c.tax_included as current_tax_included
from rate_batch b
left join facts.rates c
  on (c.property_code, c.rate_id, c.room_code, c.stay_date, c.adults, c.children, c.channel, c.source)
   = (b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source)
  and c.valid_to is null
where (b.price, b.currency, b.closeout, b.min_stay, b.available, b.withdrawn, b.closed_to_arrival, b.closed_to_departure, b.max_stay, b.min_stay_kind, b.tax_included)
      is distinct from (c.price, c.currency, c.closeout, c.min_stay, c.available, c.withdrawn, c.closed_to_arrival, c.closed_to_departure, c.max_stay, c.min_stay_kind, c.tax_included)
  and not exists (
      select 1 from rate_late_cells l
      where (l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source)
          = (b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source));
analyze rate_differing;

-- A first load of many cells into an empty facts.rates (a first run, or a full
-- refresh, which emptied it): the table's indexes are dropped here and built
-- once over the rows right after the insert below, which costs less than
-- maintaining them row by row. The table is then held exclusively until commit;
-- smaller loads, and a Citus cluster, keep the indexes (migration 0193).
select facts.defer_rate_indexes((select count(*) from rate_differing where current_from is null));

-- New cells (no version yet, so no current row, and not late): all their
-- observations are in rate_differing, so their versions come from it alone,
-- with nothing to compare or close. A first load or a full refresh is all new
-- cells. The rows are built and written once, in one sort: the last landed
-- observation of each instant, those that differ from the one before them,
-- each holding until the next. They are written in stay-date order, so each
-- month partition and its indexes are filled in one stretch.
with latest_at_instant as (
    select distinct on (d.stay_date, d.property_code, d.rate_id, d.room_code, d.adults, d.children, d.channel, d.source,
                        d.valid_from)
           d.*
    from rate_differing d
    where d.current_from is null
    order by d.stay_date, d.property_code, d.rate_id, d.room_code, d.adults, d.children, d.channel, d.source, d.valid_from,
             d.loaded_at desc, d.price desc, d.currency desc, d.closeout desc, d.min_stay desc, d.available desc, d.withdrawn desc, d.closed_to_arrival desc, d.closed_to_departure desc, d.max_stay desc, d.min_stay_kind desc, d.tax_included desc
),
sequenced as (
    select i.*, lag(i.price) over cell as previous_price, lag(i.currency) over cell as previous_currency,
           lag(i.closeout) over cell as previous_closeout, lag(i.min_stay) over cell as previous_min_stay,
           lag(i.available) over cell as previous_available,
           lag(i.withdrawn) over cell as previous_withdrawn, lag(i.closed_to_arrival) over cell as previous_closed_to_arrival, lag(i.closed_to_departure) over cell as previous_closed_to_departure, lag(i.max_stay) over cell as previous_max_stay, lag(i.min_stay_kind) over cell as previous_min_stay_kind, lag(i.tax_included) over cell as previous_tax_included, row_number() over cell as position
    from latest_at_instant i
    window cell as (partition by i.stay_date, i.property_code, i.rate_id, i.room_code, i.adults, i.children,
                    i.channel, i.source order by i.valid_from)
),
versions as (
    select s.* from sequenced s
    where s.position = 1
       or (s.price, s.currency, s.closeout, s.min_stay, s.available, s.withdrawn, s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included)
          is distinct from (s.previous_price, s.previous_currency, s.previous_closeout, s.previous_min_stay,
                            s.previous_available, s.previous_withdrawn, s.previous_closed_to_arrival, s.previous_closed_to_departure, s.previous_max_stay, s.previous_min_stay_kind, s.previous_tax_included)
),
inserted as (
    insert into facts.rates (
        property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, row_hash, valid_to,
        version, price, currency, closeout, min_stay, available, withdrawn, closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included, source, stream, origin, loaded_at)
    select v.property_code, v.rate_id, v.room_code, v.stay_date, v.adults, v.children, v.channel, v.valid_from,
           facts.rate_version_hash(v.price, v.currency, v.closeout, v.min_stay, v.available, v.withdrawn, v.closed_to_arrival, v.closed_to_departure, v.max_stay, v.min_stay_kind, v.tax_included),
           lead(v.valid_from) over cell, row_number() over cell,
           v.price, v.currency, v.closeout, v.min_stay, v.available, v.withdrawn, v.closed_to_arrival, v.closed_to_departure, v.max_stay, v.min_stay_kind, v.tax_included, v.source, v.stream, v.origin, v.loaded_at
    from versions v
    window cell as (partition by v.stay_date, v.property_code, v.rate_id, v.room_code, v.adults, v.children,
                    v.channel, v.source order by v.valid_from)
    returning 1
)
insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'rates.versions_new_cells', count(*) from inserted
on conflict (run_id, metric) do update set value = excluded.value;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'rates.indexes_built_after_rows', built
from facts.build_deferred_rate_indexes() built
where built > 0
on conflict (run_id, metric) do update set value = excluded.value;

-- Cells with a current version and some observation that differs from it.
create temp table rate_touched_cells on commit drop as
select distinct d.property_code, d.rate_id, d.room_code, d.stay_date, d.adults, d.children, d.channel, d.source,
       d.current_from, d.current_version, d.current_price, d.current_currency, d.current_closeout,
       d.current_min_stay, d.current_available, d.current_withdrawn, d.current_closed_to_arrival, d.current_closed_to_departure, d.current_max_stay, d.current_min_stay_kind, d.current_tax_included
from rate_differing d
where d.current_from is not null;
analyze rate_touched_cells;

-- Second pass, over the touched cells only: their new observations in time
-- order, and those whose values differ from the ones before them (the
-- previous new observation of the cell, else the current version).
-- Several observations of a cell at one instant: the last landed counts.
-- Only these changes get a row hash. The touched cells are hashed and the batch
-- streams past them once (still no nested loop or merge join). cell_hash only
-- speeds up sorting by cell (an int8 compares far faster than seven columns);
-- it is computed for these observations alone and never stored.
create temp table rate_changes on commit drop as
with observations as (
    select b.*, t.current_from, t.current_version, t.current_price, t.current_currency, t.current_closeout,
           t.current_min_stay, t.current_available, t.current_withdrawn, t.current_closed_to_arrival, t.current_closed_to_departure, t.current_max_stay, t.current_min_stay_kind, t.current_tax_included,
           hashtextextended(concat_ws('|', b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults,
                                      b.children, b.channel, b.source), 0) as cell_hash
    from rate_batch b
    join rate_touched_cells t
      on (t.property_code, t.rate_id, t.room_code, t.stay_date, t.adults, t.children, t.channel, t.source)
       = (b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source)
),
latest_at_instant as (
    select o.*, row_number() over instant as nth
    from observations o
    window instant as (partition by o.cell_hash, o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults,
                       o.children, o.channel, o.source, o.valid_from
                       order by o.loaded_at desc, o.price desc, o.currency desc, o.closeout desc, o.min_stay desc,
                                o.available desc, o.withdrawn desc, o.closed_to_arrival desc, o.closed_to_departure desc, o.max_stay desc, o.min_stay_kind desc, o.tax_included desc)
),
sequenced as (
    select i.*, row_number() over cell as position,
           lag(i.price) over cell as previous_price, lag(i.currency) over cell as previous_currency,
           lag(i.closeout) over cell as previous_closeout, lag(i.min_stay) over cell as previous_min_stay,
           lag(i.available) over cell as previous_available,
           lag(i.withdrawn) over cell as previous_withdrawn, lag(i.closed_to_arrival) over cell as previous_closed_to_arrival, lag(i.closed_to_departure) over cell as previous_closed_to_departure, lag(i.max_stay) over cell as previous_max_stay, lag(i.min_stay_kind) over cell as previous_min_stay_kind, lag(i.tax_included) over cell as previous_tax_included
    from latest_at_instant i
    where i.nth = 1
    window cell as (partition by i.cell_hash, i.property_code, i.rate_id, i.room_code, i.stay_date, i.adults,
                    i.children, i.channel, i.source order by i.valid_from)
)
select s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel, s.valid_from,
       facts.rate_version_hash(s.price, s.currency, s.closeout, s.min_stay, s.available, s.withdrawn, s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included) as row_hash,
       s.price, s.currency, s.closeout, s.min_stay, s.available, s.withdrawn, s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included, s.source, s.stream, s.origin, s.loaded_at,
       s.current_from, s.current_version
from sequenced s
where case when s.position = 1
           then (s.price, s.currency, s.closeout, s.min_stay, s.available, s.withdrawn, s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included)
                is distinct from (s.current_price, s.current_currency, s.current_closeout, s.current_min_stay,
                                  s.current_available, s.current_withdrawn, s.current_closed_to_arrival, s.current_closed_to_departure, s.current_max_stay, s.current_min_stay_kind, s.current_tax_included)
           else (s.price, s.currency, s.closeout, s.min_stay, s.available, s.withdrawn, s.closed_to_arrival, s.closed_to_departure, s.max_stay, s.min_stay_kind, s.tax_included)
                is distinct from (s.previous_price, s.previous_currency, s.previous_closeout, s.previous_min_stay,
                                  s.previous_available, s.previous_withdrawn, s.previous_closed_to_arrival, s.previous_closed_to_departure, s.previous_max_stay, s.previous_min_stay_kind, s.previous_tax_included)
      end;
set local enable_nestloop to default;
set local enable_mergejoin to default;

-- The versions this path closes and appends, as the table stored them (each
-- statement's RETURNING): the checks read these chains back from here instead
-- of searching facts.rates for the touched cells (sql/checks/00_scope.sql).
create temp table rate_written (like facts.rates) on commit drop;

-- Close the current version of every changed cell at its first change.
with closed as (
update facts.rates f
set valid_to = c.first_change
from (
    select property_code, rate_id, room_code, stay_date, adults, children, channel, source, current_from,
           min(valid_from) as first_change
    from rate_changes
    where current_from is not null
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
) c
where (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from)
    = (c.property_code, c.rate_id, c.room_code, c.stay_date, c.adults, c.children, c.channel, c.source, c.current_from)
returning f.*
)
insert into rate_written select * from closed;

-- Append the changes; each holds until the next change of its cell.
with appended as (
insert into facts.rates (
    property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, row_hash, valid_to,
    version, price, currency, closeout, min_stay, available, withdrawn, closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included, source, stream, origin, loaded_at)
select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, row_hash,
       lead(valid_from) over cell,
       current_version + row_number() over cell,
       price, currency, closeout, min_stay, available, withdrawn, closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included, source, stream, origin, loaded_at
from rate_changes
window cell as (partition by property_code, rate_id, room_code, stay_date, adults, children, channel, source
                order by valid_from)
returning *
)
insert into rate_written select * from appended;

-- Late: the recomputed history of each late cell from its first new observation on.
-- Every statement of the late path carries "exists (select 1 from
-- rate_late_cells)": a condition on no row, which PostgreSQL tests once before
-- running the plan, so with no late cell (a first load, a full refresh, a
-- steady feed) none of them reads facts.rates or staging at all.
create temp table rate_late_history on commit drop as
with start as (
    select f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.valid_from,
           f.row_hash, f.version, f.price, f.currency, f.closeout, f.min_stay, f.available, f.withdrawn, f.closed_to_arrival, f.closed_to_departure, f.max_stay, f.min_stay_kind, f.tax_included, f.source, f.stream,
           f.origin, f.loaded_at
    from facts.rates f
    join rate_late_cells l
      on (l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source)
       = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source)
    where f.valid_from < l.first_new and (f.valid_to is null or f.valid_to >= l.first_new)
      and exists (select 1 from rate_late_cells)
),
logged as (
    select distinct on (o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel, o.source,
                        coalesce(o.source_updated_at, o.observed_at))
           o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel,
           coalesce(o.source_updated_at, o.observed_at) as valid_from,
           facts.rate_version_hash(o.price, o.currency, o.closeout, o.min_stay, o.available, o.withdrawn, o.closed_to_arrival, o.closed_to_departure, o.max_stay, o.min_stay_kind, o.tax_included) as row_hash,
           null::integer as version, o.price, o.currency, o.closeout, o.min_stay, o.available, o.withdrawn, o.closed_to_arrival, o.closed_to_departure, o.max_stay, o.min_stay_kind, o.tax_included, o.source, o.stream,
           o.origin, o.loaded_at
    from staging.rate_observations o
    join rate_late_cells l
      on (l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source)
       = (o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel, o.source)
    -- An observation lands after it is made: older load dates cannot hold one.
    where o.load_date >= (select min(first_new) from rate_late_cells)::date - 1
      and coalesce(o.source_updated_at, o.observed_at) >= l.first_new
      and exists (select 1 from rate_late_cells)
    order by o.property_code, o.rate_id, o.room_code, o.stay_date, o.adults, o.children, o.channel, o.source,
             coalesce(o.source_updated_at, o.observed_at), o.loaded_at desc, o.price desc, o.currency desc,
             o.closeout desc, o.min_stay desc, o.available desc, o.withdrawn desc, o.closed_to_arrival desc, o.closed_to_departure desc, o.max_stay desc, o.min_stay_kind desc, o.tax_included desc
),
sequenced as (
    select s.*, lag(s.row_hash) over cell as previous_hash
    from (select * from start union all select * from logged) s
    window cell as (partition by s.property_code, s.rate_id, s.room_code, s.stay_date, s.adults, s.children, s.channel, s.source
                    order by s.valid_from)
),
versions as (
    select * from sequenced where previous_hash is distinct from row_hash
)
select v.property_code, v.rate_id, v.room_code, v.stay_date, v.adults, v.children, v.channel, v.valid_from,
       v.row_hash, lead(v.valid_from) over cell as valid_to,
       (coalesce(first_value(v.version) over cell, 1) - 1 + row_number() over cell)::integer as version,
       v.price, v.currency, v.closeout, v.min_stay, v.available, v.withdrawn, v.closed_to_arrival, v.closed_to_departure, v.max_stay, v.min_stay_kind, v.tax_included, v.source, v.stream, v.origin, v.loaded_at
from versions v
window cell as (partition by v.property_code, v.rate_id, v.room_code, v.stay_date, v.adults, v.children, v.channel, v.source
                order by v.valid_from);
-- Indexed on its key for the anti-join below (rate_late_gone), which PostgreSQL
-- estimates at one row whatever it finds (ten key columns multiplied as if
-- independent) and so ran as a nested loop reading the whole history once per fact
-- row: 3,859 late cells of pushed ARI took 2.5 s, 14.9 million rows compared. With
-- the index each fact row is one probe, whichever join it picks.
create index on rate_late_history (property_code, rate_id, room_code, stay_date, adults, children, channel, source, valid_from);
analyze rate_late_history;  -- its join with facts.rates below has no guard (see rate_late_gone)

-- Versions the recomputed history no longer has: found by an anti-join, then
-- deleted by key (Citus joins a temporary table with a distributed one, but
-- cannot run a subquery on one that refers to the other; see 31_reservations.sql).
create temp table rate_late_gone on commit drop as
select f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from
from facts.rates f
join rate_late_cells l
  on (l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source)
   = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source)
left join rate_late_history h
  on (h.property_code, h.rate_id, h.room_code, h.stay_date, h.adults, h.children, h.channel, h.source, h.valid_from, h.row_hash)
   = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from, f.row_hash)
where f.valid_from >= l.first_new and h.property_code is null
  and exists (select 1 from rate_late_cells);
-- Analyzed, so the planner knows how few rows it holds (usually none): a temporary
-- table is never analyzed by autovacuum, and unanalyzed it is guessed at ten pages,
-- for which PostgreSQL sorted the whole fact table for a merge join.
analyze rate_late_gone;

delete from facts.rates f
using rate_late_gone g
where (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from)
    = (g.property_code, g.rate_id, g.room_code, g.stay_date, g.adults, g.children, g.channel, g.source, g.valid_from);

update facts.rates f
set valid_to = h.valid_to, version = h.version
from rate_late_history h
where (h.property_code, h.rate_id, h.room_code, h.stay_date, h.adults, h.children, h.channel, h.source, h.valid_from, h.row_hash)
    = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from, f.row_hash)
  and h.valid_to is not null and (f.valid_to is null or h.valid_to < f.valid_to)
  and exists (select 1 from rate_late_cells);

insert into facts.rates (
    property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, row_hash, valid_to,
    version, price, currency, closeout, min_stay, available, withdrawn, closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included, source, stream, origin, loaded_at)
select h.property_code, h.rate_id, h.room_code, h.stay_date, h.adults, h.children, h.channel, h.valid_from,
       h.row_hash, h.valid_to, h.version, h.price, h.currency, h.closeout, h.min_stay, h.available, h.withdrawn, h.closed_to_arrival, h.closed_to_departure, h.max_stay, h.min_stay_kind, h.tax_included, h.source,
       h.stream, h.origin, h.loaded_at
from rate_late_history h
left join facts.rates f
  on (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from)
   = (h.property_code, h.rate_id, h.room_code, h.stay_date, h.adults, h.children, h.channel, h.source, h.valid_from)
-- No "exists" guard here: the history is empty without late cells, and Citus on
-- PostgreSQL 15 cannot plan an outer join beside a condition on no row.
where f.property_code is null;

update facts.rates f
set valid_to = h.valid_to, version = h.version
from rate_late_history h
where (h.property_code, h.rate_id, h.room_code, h.stay_date, h.adults, h.children, h.channel, h.source, h.valid_from, h.row_hash)
    = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source, f.valid_from, f.row_hash)
  and (f.valid_to is distinct from h.valid_to or f.version <> h.version)
  and exists (select 1 from rate_late_cells);

-- The recomputed cells must tile time: each version ends where the next begins.
select ops.fail_if(exists (
    select 1
    from (
        select f.valid_to,
               lead(f.valid_from) over (partition by f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults,
                                        f.children, f.channel, f.source order by f.valid_from) as next_from
        from facts.rates f
        join rate_late_cells l
          on (l.property_code, l.rate_id, l.room_code, l.stay_date, l.adults, l.children, l.channel, l.source)
           = (f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children, f.channel, f.source)
        where exists (select 1 from rate_late_cells)
    ) chain
    where chain.valid_to is distinct from chain.next_from),
    'facts.rates: a recomputed cell has overlapping or broken validity; the transform was rolled back');

-- Move each property's horizon to its latest promoted observation.
insert into ops.transform_horizons (stream, property_code, horizon)
select 'rates', property_code, last_from from rate_batch_properties
on conflict (stream, property_code) do update set horizon = excluded.horizon
where ops.transform_horizons.horizon < excluded.horizon;

insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'rates.versions_appended',
       (select count(*) from rate_changes)
       + coalesce((select value from ops.transform_counts
                   where run_id = ops.current_run_id() and metric = 'rates.versions_new_cells'), 0)
union all
select ops.current_run_id(), 'rates.late_cells', count(*) from rate_late_cells
on conflict (run_id, metric) do update set value = excluded.value;
