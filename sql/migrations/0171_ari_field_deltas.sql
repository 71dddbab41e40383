-- Pushed OpenTravel availability, restrictions and rates reach facts.rates.
--
-- A pushed message is a delta: it sets some fields of some cells (room x rate
-- plan x night) and says nothing of the rest. The transforms promote whole cell
-- states, so the expansion of each message (sql/ari/40_states.sql) also writes
-- the whole state of every cell it touched, as of the message's time, into
-- staging.rate_observations (stream 'ari'): the fields it set, and every other
-- field as the earlier messages left it. A message that arrives with a time
-- before later ones writes the later states again as well, so the transforms'
-- late path recomputes the versions after it (the last written state of an
-- instant counts, as for any observation). Facts stay a pure function of staging.
--
-- The dialect has rate-level fields the facts lacked; they are added to the
-- observations and to facts.rates, NULL for the sources that do not send them,
-- so those sources' rows and row hashes are unchanged.

alter table staging.rate_observations drop constraint rate_observations_stream_check;
alter table staging.rate_observations
    add constraint rate_observations_stream_check check (stream in ('rates', 'inventory', 'ari'));
comment on column staging.rate_observations.stream is
    'rates (WebHotelier /manage/rates), inventory (a cursor feed) or ari (the state of a cell after a pushed OpenTravel message, from staging.ari_observations).';

alter table staging.rate_observations
    add column closed_to_arrival boolean,
    add column closed_to_departure boolean,
    add column max_stay integer,
    add column min_stay_kind text,
    add column tax_included boolean;
-- The check apart from the column: Citus adds no column with a constraint.
alter table staging.rate_observations
    add constraint rate_observations_min_stay_kind_check check (min_stay_kind in ('through', 'arrival'));
comment on column staging.rate_observations.closed_to_arrival is 'Rate-level closed to arrival, when the source sends it (OpenTravel pushes); NULL otherwise.';
comment on column staging.rate_observations.closed_to_departure is 'Rate-level closed to departure, when the source sends it (OpenTravel pushes); NULL otherwise.';
comment on column staging.rate_observations.max_stay is 'Rate-level maximum stay in nights, when the source sends it (OpenTravel pushes); NULL otherwise.';
comment on column staging.rate_observations.min_stay_kind is 'How min_stay counts, when the source says (OpenTravel pushes): through (every night of the stay) or arrival (from the arrival night); NULL otherwise.';
comment on column staging.rate_observations.tax_included is 'Whether price includes taxes, when the source says (OpenTravel pushes); NULL otherwise.';

alter table facts.rates
    add column closed_to_arrival boolean,
    add column closed_to_departure boolean,
    add column max_stay integer,
    add column min_stay_kind text,
    add column tax_included boolean;
-- The check apart from the column: Citus adds no column with a constraint.
alter table facts.rates
    add constraint rates_min_stay_kind_check check (min_stay_kind in ('through', 'arrival'));
comment on column facts.rates.closed_to_arrival is
    'Rate-level closed to arrival: no stay on this rate may begin on this night. NULL when the source does not send the field (WebHotelier, cursor feeds) or, for a pushing channel manager (stream ari), has not sent it for this cell yet.';
comment on column facts.rates.closed_to_departure is
    'Rate-level closed to departure: no stay on this rate may end on the morning after this night. NULL as for closed_to_arrival.';
comment on column facts.rates.max_stay is
    'Rate-level maximum stay in nights. NULL when the source does not send it or has not sent it for this cell yet (no maximum known).';
comment on column facts.rates.min_stay_kind is
    'How min_stay counts: through (every night of the stay must allow the length, SetMinLOS) or arrival (the arrival night''s value counts, SetForwardMinStay). NULL when the source does not say, or has sent no minimum stay for this cell yet (min_stay is then 1).';
comment on column facts.rates.tax_included is
    'True when price includes taxes (AmountAfterTax), false when it does not (AmountBeforeTax); NULL when the source does not say.';

-- The row hash over the wider set of tracked values. For a row whose new
-- columns are all NULL (every source but ari) it is the hash the six-argument
-- function gives, so no existing version changes.
create function facts.rate_version_hash(
    price numeric, currency text, closeout boolean, min_stay integer, available integer, withdrawn boolean,
    closed_to_arrival boolean, closed_to_departure boolean, max_stay integer, min_stay_kind text, tax_included boolean)
returns uuid
language sql immutable parallel safe
as $$
select case when withdrawn then '00000000-0000-0000-0000-000000000000'::uuid
            when closed_to_arrival is null and closed_to_departure is null and max_stay is null
                 and min_stay_kind is null and tax_included is null
            then facts.rate_row_hash(price, currency, closeout, min_stay, available)
            else md5(concat_ws('|', price, currency, closeout, min_stay, available, closed_to_arrival,
                               closed_to_departure, max_stay, min_stay_kind, tax_included))::uuid end
$$;
comment on function facts.rate_version_hash(numeric, text, boolean, integer, integer, boolean, boolean, boolean, integer, text, boolean) is
    'facts.rates.row_hash of a version: as the six-argument form when the rate-level restriction columns are all NULL, else MD5 of every tracked value; the all-zero uuid when withdrawn.';
grant execute on function
    facts.rate_version_hash(numeric, text, boolean, integer, integer, boolean, boolean, boolean, integer, text, boolean)
    to ota_ingest;

-- Analysts may read what the channel managers say now, per cell and field: ARI
-- carries no guest data (unlike staging.reservation_events, which stays closed).
grant select on staging.ari_latest to ota_analyst;
grant usage on schema staging to ota_analyst;
