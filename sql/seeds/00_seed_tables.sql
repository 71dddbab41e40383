-- Holding tables for one `ota-ingest seed` run: each seeds/NAME.csv is copied
-- (COPY ... FROM STDIN, CSV with header) into seed_NAME, then 10_upsert.sql
-- merges them into dims. By hand:  \copy seed_properties from 'seeds/properties.csv' csv header

create temp table seed_properties (
    property_code text, name text, currency text, time_zone text, reporting_currency text
) on commit drop;
create temp table seed_rooms (property_code text, room_code text, name text, max_adults integer) on commit drop;
create temp table seed_rate_plans (property_code text, rate_id text, room_code text, name text, board text) on commit drop;
create temp table seed_channels (channel_code text, name text, channel_group text) on commit drop;
create temp table seed_fx_rates (rate_date date, base_currency text, quote_currency text, rate numeric) on commit drop;
create temp table seed_source_precedence (property_code text, source text, rank integer) on commit drop;
