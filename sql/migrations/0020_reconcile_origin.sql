-- Where a row came from, on the observation logs and on every fact, so an
-- analyst can tell a version that a reconciliation repair wrote from one the
-- pulls wrote. 'push' is allowed now so the webhook receiver (a later issue)
-- needs no second migration. A constant default is a catalog change only:
-- existing partitions are not rewritten.

alter table staging.availability_observations
    add column origin text not null default 'pull'
        check (origin in ('pull', 'backfill', 'push', 'reconcile'));
comment on column staging.availability_observations.origin is
    'How it arrived: pull (a feed read), backfill (ota-ingest load), push (a webhook), reconcile (a repair from a recon snapshot).';

alter table staging.rate_observations
    add column origin text not null default 'pull'
        check (origin in ('pull', 'backfill', 'push', 'reconcile'));
comment on column staging.rate_observations.origin is
    'How it arrived: pull (a feed read), backfill (ota-ingest load), push (a webhook), reconcile (a repair from a recon snapshot).';

alter table staging.reservation_events drop constraint reservation_events_origin_check;
alter table staging.reservation_events
    add constraint reservation_events_origin_check
        check (origin in ('pull', 'recovery', 'push', 'ping', 'backfill', 'reconcile'));
comment on column staging.reservation_events.origin is
    'How it arrived: pull, recovery (search by last modification), push, ping, backfill, reconcile (a repair after a recon snapshot showed drift).';

alter table facts.reservations
    add column origin text not null default 'pull'
        check (origin in ('pull', 'recovery', 'push', 'ping', 'backfill', 'reconcile'));
comment on column facts.reservations.origin is
    'The staging origin of the event this version came from; reconcile marks a version a repair wrote.';

alter table facts.availability
    add column origin text not null default 'pull'
        check (origin in ('pull', 'backfill', 'push', 'reconcile'));
comment on column facts.availability.origin is
    'The staging origin of the first observation of this version; reconcile marks a version a repair wrote.';

alter table facts.rates
    add column origin text not null default 'pull'
        check (origin in ('pull', 'backfill', 'push', 'reconcile'));
comment on column facts.rates.origin is
    'The staging origin of the first observation of this version; reconcile marks a version a repair wrote.';
