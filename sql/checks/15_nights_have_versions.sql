-- Every booked night belongs to a version of its booking in facts.reservations
-- (what a foreign key guaranteed until migration 0180): the transforms write
-- both from the same versions in one transaction, so a failure here means a
-- transform or a hand edit broke them apart.
-- Reads the checked_* tables of 00_scope.sql: the keys the run touched, or all.

with bad as (
    select distinct n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash
    from checked_reservation_nights n
    left join checked_reservations r
      on (r.property_code, r.confirmation_id, r.source, r.valid_from, r.content_hash)
       = (n.property_code, n.confirmation_id, n.source, n.valid_from, n.content_hash)
    where r.property_code is null
)
insert into ops.dq_results (run_id, check_name, severity, failures, sample)
select ops.current_run_id(), 'reservation_nights.version', 'error', (select count(*) from bad),
       coalesce((select jsonb_agg(to_jsonb(b)) from (select * from bad limit 5) b), '[]')
on conflict (run_id, check_name) do update
set failures = excluded.failures, sample = excluded.sample, checked_at = excluded.checked_at;
