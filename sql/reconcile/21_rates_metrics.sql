-- Drift figures of a rates or cursor-feed snapshot, from its differing keys.
-- compared_keys counts the union of the snapshot's keys and the facts' keys in
-- scope (snapshot keys + extra); the price differences are over the keys whose
-- price differs.

insert into recon_results (metric, kind, value, threshold)
select m.metric, 'drift', m.value, case when m.metric = 'mismatched_share' then c.threshold end
from recon_scope c
cross join lateral (
    select count(*) filter (where d.kind = 'missing') as missing,
           count(*) filter (where d.kind = 'extra') as extra,
           count(*) filter (where d.kind = 'mismatch') as mismatched_values,
           count(*) as differing,
           count(*) filter (where d.kind = 'mismatch' and d.price is distinct from d.fact_price) as price,
           count(*) filter (where d.kind = 'mismatch' and d.currency is distinct from d.fact_currency) as currency,
           count(*) filter (where d.kind = 'mismatch' and d.closeout is distinct from d.fact_closeout) as closeout,
           count(*) filter (where d.kind = 'mismatch' and d.min_stay is distinct from d.fact_min_stay) as min_stay,
           count(*) filter (where d.kind = 'mismatch' and d.available is distinct from d.fact_available) as available,
           avg(abs(d.price - d.fact_price)) filter (where d.kind = 'mismatch' and d.price <> d.fact_price) as diff_mean,
           max(abs(d.price - d.fact_price)) filter (where d.kind = 'mismatch' and d.price <> d.fact_price) as diff_max
    from recon_rate_diffs d
) x
cross join lateral (values
    ('compared_keys', (c.keys + x.extra)::numeric),
    ('snapshot_keys', c.keys::numeric),
    ('missing_keys', x.missing::numeric),
    ('extra_keys', x.extra::numeric),
    ('mismatched_keys', x.differing::numeric),
    ('mismatched_share', round(x.differing::numeric / greatest(c.keys + x.extra, 1), 6)),
    ('mismatch.price', x.price::numeric),
    ('mismatch.currency', x.currency::numeric),
    ('mismatch.closeout', x.closeout::numeric),
    ('mismatch.min_stay', x.min_stay::numeric),
    ('mismatch.available', x.available::numeric),
    ('price_diff_mean', round(x.diff_mean, 4)),
    ('price_diff_max', x.diff_max)
) as m(metric, value)
where c.stream in ('rates', 'inventory');
