-- Drift figures of a rates or cursor-feed snapshot by field, from its
-- differing keys (the key counts every stream shares are 45_key_metrics.sql's);
-- the price differences are over the keys whose price differs.

insert into recon_results (metric, kind, value)
select m.metric, 'drift', m.value
from recon_scope c
cross join lateral (
    select count(*) filter (where d.kind = 'mismatch' and d.price is distinct from d.fact_price) as price,
           count(*) filter (where d.kind = 'mismatch' and d.currency is distinct from d.fact_currency) as currency,
           count(*) filter (where d.kind = 'mismatch' and d.closeout is distinct from d.fact_closeout) as closeout,
           count(*) filter (where d.kind = 'mismatch' and d.min_stay is distinct from d.fact_min_stay) as min_stay,
           count(*) filter (where d.kind = 'mismatch' and d.available is distinct from d.fact_available) as available,
           avg(abs(d.price - d.fact_price)) filter (where d.kind = 'mismatch' and d.price <> d.fact_price) as diff_mean,
           max(abs(d.price - d.fact_price)) filter (where d.kind = 'mismatch' and d.price <> d.fact_price) as diff_max
    from recon_rate_diffs d
) x
cross join lateral (values
    ('mismatch.price', x.price::numeric),
    ('mismatch.currency', x.currency::numeric),
    ('mismatch.closeout', x.closeout::numeric),
    ('mismatch.min_stay', x.min_stay::numeric),
    ('mismatch.available', x.available::numeric),
    ('price_diff_mean', round(x.diff_mean, 4)),
    ('price_diff_max', x.diff_max)
) as m(metric, value)
where c.stream in ('rates', 'inventory');
