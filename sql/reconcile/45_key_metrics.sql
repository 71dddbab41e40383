-- The key counts every stream reports, from whichever diff table this
-- snapshot's stream filled (20_, 30_ or 40_; the other two are empty).
-- compared_keys counts the union of the snapshot's keys and the facts' keys in
-- scope (snapshot keys + extra); mismatched_keys counts every differing key
-- (missing, extra or other values), and its share is what the threshold judges.
-- Unreadable keys (facts the read could not show because its entries were
-- dead-lettered) are counted apart and never breach: the dead letters already
-- make the run exit 3. unreadable is the read's dead-lettered entries.

insert into recon_results (metric, kind, value, threshold)
select m.metric, 'drift', m.value, case when m.metric = 'mismatched_share' then c.threshold end
from recon_scope c
cross join lateral (
    select count(*) filter (where d.kind = 'missing') as missing,
           count(*) filter (where d.kind = 'extra') as extra,
           count(*) filter (where d.kind = 'unreadable') as unreadable,
           count(*) filter (where d.kind <> 'unreadable') as differing
    from (select kind from recon_rate_diffs
          union all select kind from recon_availability_diffs
          union all select kind from recon_reservation_diffs) d
) x
cross join lateral (values
    ('compared_keys', (c.keys + x.extra)::numeric),
    ('snapshot_keys', c.keys::numeric),
    ('missing_keys', x.missing::numeric),
    ('extra_keys', x.extra::numeric),
    ('mismatched_keys', x.differing::numeric),
    ('mismatched_share', round(x.differing::numeric / greatest(c.keys + x.extra, 1), 6)),
    ('unreadable', c.unreadable_entries::numeric),
    ('unreadable_keys', x.unreadable::numeric)
) as m(metric, value)
where c.stream in ('rates', 'inventory', 'availability', 'reservations');
