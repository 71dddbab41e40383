-- Merges the seed files into dims. A seed row replaces what it names
-- (including a row a transform auto-registered, which loses its flag); rows
-- the seeds do not name stay, since facts may refer to them.

insert into dims.properties (property_code, name, currency, time_zone, reporting_currency, auto_registered)
select property_code, name, currency, time_zone, reporting_currency, false from seed_properties
on conflict (property_code) do update
set name = excluded.name, currency = excluded.currency, time_zone = excluded.time_zone,
    reporting_currency = excluded.reporting_currency, auto_registered = false;

insert into dims.rooms (property_code, room_code, name, max_adults, auto_registered)
select property_code, room_code, name, max_adults, false from seed_rooms
on conflict (property_code, room_code) do update
set name = excluded.name, max_adults = excluded.max_adults, auto_registered = false;

insert into dims.rate_plans (property_code, rate_id, room_code, name, board, auto_registered)
select property_code, rate_id, room_code, name, nullif(board, ''), false from seed_rate_plans
on conflict (property_code, rate_id) do update
set room_code = excluded.room_code, name = excluded.name, board = excluded.board, auto_registered = false;

-- CSV reads an empty field as NULL: the empty channel code is "no channel".
insert into dims.channels (channel_code, name, channel_group, auto_registered)
select coalesce(channel_code, ''), name, coalesce(channel_group, 'unknown'), false from seed_channels
on conflict (channel_code) do update
set name = excluded.name, channel_group = excluded.channel_group, auto_registered = false;

insert into dims.fx_rates (rate_date, base_currency, quote_currency, rate)
select rate_date, base_currency, quote_currency, rate from seed_fx_rates
on conflict (base_currency, quote_currency, rate_date) do update set rate = excluded.rate;

-- CSV reads an empty field as NULL: an empty property code is "every property".
insert into dims.source_precedence (property_code, source, rank)
select coalesce(property_code, ''), source, rank from seed_source_precedence
on conflict (property_code, source) do update set rank = excluded.rank;

select (select count(*) from seed_properties) as properties, (select count(*) from seed_rooms) as rooms,
       (select count(*) from seed_rate_plans) as rate_plans, (select count(*) from seed_channels) as channels,
       (select count(*) from seed_fx_rates) as fx_rates,
       (select count(*) from seed_source_precedence) as source_precedence;
