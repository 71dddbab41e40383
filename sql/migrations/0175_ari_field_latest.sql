-- Writing the state of a cell after a pushed OpenTravel message (sql/ari/40_states.sql)
-- needs, per field of the cell, the last value set before the message. Read from
-- every observation of the cell, that costs more the more messages the cell has had.
-- staging.ari_field_latest keeps, per cell, field and number of guests, the value set
-- at the latest time (each message at its time, in arrival order within a time):
-- for a message later than everything its cells have (the usual case) that is the
-- value before it, read with one row per field whatever the cell's history. A
-- message that is not later (a late one, or one expanded again) still reads its
-- cells' observations, as before. sql/ari/50_field_latest.sql keeps it up to date,
-- in the same transaction as the expansion.

create table staging.ari_field_latest (
    source         text not null,
    property_code  text not null,
    room_code      text not null,
    rate_id        text not null,
    stay_date      date not null,
    guests         integer not null,
    field          text not null,
    int_value      integer,
    bool_value     boolean,
    min_stay_kind  text,
    price          numeric(12, 2),
    currency       text,
    tax_included   boolean,
    message_key    text not null,
    arrival        bigint not null,
    at             timestamptz not null,
    primary key (property_code, source, room_code, rate_id, stay_date, guests, field)
);

comment on table staging.ari_field_latest is
    'Per cell (room x rate plan x night, and number of guests for prices) and field, the value a pushed OpenTravel message set at the latest time: what the next state of the cell starts from. Kept by the expansion (sql/ari/50_field_latest.sql).';
comment on column staging.ari_field_latest.source is 'As staging.ari_observations.source.';
comment on column staging.ari_field_latest.property_code is 'As staging.ari_observations.property_code.';
comment on column staging.ari_field_latest.room_code is 'As staging.ari_observations.room_code.';
comment on column staging.ari_field_latest.rate_id is 'As staging.ari_observations.rate_id ('''' for the room''s own state).';
comment on column staging.ari_field_latest.stay_date is 'As staging.ari_observations.stay_date.';
comment on column staging.ari_field_latest.guests is 'As staging.ari_observations.guests.';
comment on column staging.ari_field_latest.field is 'As staging.ari_observations.field.';
comment on column staging.ari_field_latest.int_value is 'As staging.ari_observations.int_value.';
comment on column staging.ari_field_latest.bool_value is 'As staging.ari_observations.bool_value.';
comment on column staging.ari_field_latest.min_stay_kind is 'As staging.ari_observations.min_stay_kind.';
comment on column staging.ari_field_latest.price is 'As staging.ari_observations.price.';
comment on column staging.ari_field_latest.currency is 'As staging.ari_observations.currency.';
comment on column staging.ari_field_latest.tax_included is 'As staging.ari_observations.tax_included.';
comment on column staging.ari_field_latest.message_key is 'The message that set it (staging.ari_messages).';
comment on column staging.ari_field_latest.arrival is 'That message''s arrival order.';
comment on column staging.ari_field_latest.at is 'That message''s time: its TimeStamp, or when it was stored if it has none or a later one.';

-- The observations already expanded. On a Citus cluster, where pushes are not
-- expanded (docs/scaling.md), there are none, and the statement is not planned.
do $$
begin
    if exists (select 1 from staging.ari_observations) then
        insert into staging.ari_field_latest (
            source, property_code, room_code, rate_id, stay_date, guests, field, int_value, bool_value,
            min_stay_kind, price, currency, tax_included, message_key, arrival, at)
        select distinct on (o.property_code, o.source, o.room_code, o.rate_id, o.stay_date, o.guests, o.field)
               o.source, o.property_code, o.room_code, o.rate_id, o.stay_date, o.guests, o.field, o.int_value,
               o.bool_value, o.min_stay_kind, o.price, o.currency, o.tax_included, o.message_key, o.arrival,
               least(coalesce(m.ota_time, m.loaded_at), m.loaded_at)
        from staging.ari_observations o
        join staging.ari_messages m
          on (m.property_code, m.source, m.message_key) = (o.property_code, o.source, o.message_key)
        order by o.property_code, o.source, o.room_code, o.rate_id, o.stay_date, o.guests, o.field,
                 least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) desc, o.arrival desc;
    end if;
end
$$;

-- Retention drops the last values of past nights too, beside their observations.
create or replace function staging.purge_ari(older_than date)
returns table (messages bigint, observations bigint)
language plpgsql security definer set search_path = pg_catalog, pg_temp
as $$
begin
    -- Nothing pushed, nothing to do. This also keeps the deletes below from being planned
    -- on a Citus cluster, where ARI pushes are not expanded (docs/scaling.md) and which
    -- refuses them (a time zone conversion in a distributed delete).
    if not exists (select 1 from staging.ari_messages) then
        messages := 0;
        observations := 0;
        return next;
        return;
    end if;
    with ranked as (
        select o.property_code, o.source, o.message_key, o.room_code, o.rate_id, o.stay_date, o.guests, o.field,
               m.loaded_at,
               row_number() over (
                   partition by o.property_code, o.source, o.room_code, o.rate_id, o.stay_date, o.guests, o.field
                   order by least(coalesce(m.ota_time, m.loaded_at), m.loaded_at) desc, o.arrival desc) as nth
        from staging.ari_observations o
        join staging.ari_messages m
          on (m.property_code, m.source, m.message_key) = (o.property_code, o.source, o.message_key)
    ),
    gone as (
        delete from staging.ari_observations o
        using ranked r
        where (o.property_code, o.source, o.message_key, o.room_code, o.rate_id, o.stay_date, o.guests, o.field)
            = (r.property_code, r.source, r.message_key, r.room_code, r.rate_id, r.stay_date, r.guests, r.field)
          and (r.stay_date < older_than or (r.loaded_at < older_than and r.nth > 1))
        returning 1
    )
    select count(*) into observations from gone;

    -- The last value of a past night is never read again.
    delete from staging.ari_field_latest l where l.stay_date < older_than;

    with gone as (
        delete from staging.ari_messages m
        where m.loaded_at < older_than and m.expanded_at is not null
          and not exists (
              select 1 from staging.ari_observations o
              where (o.property_code, o.source, o.message_key) = (m.property_code, m.source, m.message_key))
        returning 1
    )
    select count(*) into messages from gone;
    return next;
end
$$;

comment on function staging.purge_ari(date) is
    'Deletes pushed OpenTravel observations of nights before older_than and those loaded before it that a later message replaced, then the expanded messages loaded before it that have no observation left, and the last values (staging.ari_field_latest) of nights before older_than; returns how many messages and observations. A value still in force stays whatever its age.';
