-- Brings facts.reservations in line with the recomputed versions of the
-- touched bookings, touching only rows that differ. Order matters for the
-- one-current-row index: drop what is gone, shrink validities, insert new
-- versions, then grow validities.

-- The versions that are gone, found by an anti-join (not a correlated "not
-- exists"), then deleted by key: Citus plans a join of a distributed table with
-- a temporary one (it ships the temporary rows to the workers), not a
-- subquery of one that refers to the other; one server runs both alike.
create temp table reservation_versions_gone on commit drop as
select f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash
from facts.reservations f
join reservation_batch b
  on (f.property_code, f.confirmation_id, f.source) = (b.property_code, b.confirmation_id, b.source)
left join reservation_versions v
  on (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
   = (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
where v.property_code is null;
-- Analyzed, so the planner knows how few rows it holds (usually none): a temporary
-- table is never analyzed by autovacuum, and unanalyzed it is guessed at ten pages,
-- for which PostgreSQL sorted the whole fact table for a merge join.
analyze reservation_versions_gone;

-- Their nights first (no foreign key cascades them: see migration 0180).
delete from facts.reservation_nights x
using reservation_versions_gone g
where (x.property_code, x.confirmation_id, x.source, x.valid_from, x.content_hash)
    = (g.property_code, g.confirmation_id, g.source, g.valid_from, g.content_hash);

delete from facts.reservations f
using reservation_versions_gone g
where (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
    = (g.property_code, g.confirmation_id, g.source, g.valid_from, g.content_hash);

update facts.reservations f
set valid_to = v.valid_to, version = v.version, lifecycle = v.lifecycle
from reservation_versions v
where (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
    = (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
  and v.valid_to is not null and (f.valid_to is null or v.valid_to < f.valid_to);

-- Rooms, guests and revenue of each version, summed from its nights once for the
-- whole batch and joined by key. (A subquery per version would scan every night
-- of the batch for each version: no cost on a handful of pushes, but hours on a
-- first load or a backlog of 100,000 bookings.)
create temp table reservation_version_totals on commit drop as
select x.property_code, x.confirmation_id, x.source, x.valid_from, x.content_hash,
       count(distinct x.room_no)::integer as rooms,
       sum(x.adults) filter (where x.business_date = v.check_in)::integer as adults,
       sum(x.children) filter (where x.business_date = v.check_in)::integer as children,
       sum(x.revenue_gross) as gross, sum(x.revenue_net) as net,
       case when count(*) = count(x.revenue_gross_rc) then sum(x.revenue_gross_rc) end as gross_rc,
       case when count(*) = count(x.revenue_net_rc) then sum(x.revenue_net_rc) end as net_rc
from reservation_version_nights x
join reservation_versions v using (property_code, confirmation_id, source, valid_from, content_hash)
group by x.property_code, x.confirmation_id, x.source, x.valid_from, x.content_hash;
analyze reservation_version_totals;

-- The versions facts do not hold yet, by key, in a table of their own: the planner
-- guesses such an anti-join against the fact table at one row whatever it finds,
-- and joined the totals to that guess by scanning them once per version.
create temp table reservation_versions_new on commit drop as
select v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash
from reservation_versions v
left join facts.reservations f
  on (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
   = (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
where f.property_code is null;
analyze reservation_versions_new;

-- Three batch tables joined by the five-column key: the planner multiplies the
-- columns' selectivities as if they were independent and guesses one row for
-- any such join, then scans the totals once per version (a backlog of 254,000
-- new bookings ran for more than fourteen minutes). A temporary table has no
-- index, so a hash join is right at every size.
set local enable_nestloop = off;
with inserted as (
    insert into facts.reservations (
        property_code, confirmation_id, valid_from, content_hash, valid_to, version, lifecycle, event_type, source,
        status, check_in, check_out, nights, rooms, room_nights, adults, children, room_code, rate_id, board,
        channel_code, channel_source_id, booked_at, currency, room_revenue_gross, room_revenue_net, extras_amount,
        total_gross, taxes, reporting_currency, room_revenue_gross_rc, room_revenue_net_rc, total_gross_rc,
        guest_hash, origin, loaded_at, staging_event_id)
    select v.property_code, v.confirmation_id, v.valid_from, v.content_hash, v.valid_to, v.version, v.lifecycle,
           v.event_type, v.source, v.status, v.check_in, v.check_out, v.check_out - v.check_in,
           coalesce(n.rooms, 0), coalesce(n.rooms, 0) * (v.check_out - v.check_in), n.adults, n.children,
           v.room_code, v.rate_id, v.board,
           v.channel_code, v.channel_source_id, v.booked_at, v.currency, n.gross, n.net, v.extras_amount,
           v.total_gross, v.taxes, v.reporting_currency, n.gross_rc, n.net_rc,
           n.gross_rc + coalesce(dims.convert_amount(v.extras_amount, v.currency, v.reporting_currency, v.check_in), 0),
           v.guest_hash, v.origin, v.loaded_at, v.staging_event_id
    from reservation_versions_new k
    join reservation_versions v
      on (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
       = (k.property_code, k.confirmation_id, k.source, k.valid_from, k.content_hash)
    left join reservation_version_totals n
      on (n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash)
       = (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
    returning 1
)
insert into ops.transform_counts (run_id, metric, value)
select ops.current_run_id(), 'reservations.versions_inserted', count(*) from inserted
on conflict (run_id, metric) do update set value = excluded.value;
set local enable_nestloop to default;

update facts.reservations f
set valid_to = v.valid_to, version = v.version, lifecycle = v.lifecycle
from reservation_versions v
where (v.property_code, v.confirmation_id, v.source, v.valid_from, v.content_hash)
    = (f.property_code, f.confirmation_id, f.source, f.valid_from, f.content_hash)
  and (f.valid_to is distinct from v.valid_to or f.version <> v.version or f.lifecycle <> v.lifecycle);
