-- Data-quality checks look at the keys a transform run touched, not at every
-- fact: a steady nightly run touches a small share of the cells, and scanning
-- them all was most of a run's time. The full scan stays one setting away
-- (`ota-ingest transform --check-all`, run weekly by the nightly).

create function ops.check_all() returns boolean
language sql stable
as $$ select coalesce(current_setting('ota.check_all', true), '') = 'on' $$;
comment on function ops.check_all() is
    'True when the data-quality checks should look at every key in facts (SET ota.check_all = on; transform --check-all), false when they look at the keys the run''s transforms touched.';
