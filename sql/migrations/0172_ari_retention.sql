-- Retention for pushed OpenTravel availability and rate messages, beside the
-- load-date partitions of the observation tables (0014_retention_erasure.sql).
--
-- A message sets some fields and the state of a cell is built from every field's
-- last value (sql/ari/40_states.sql), so an old observation still in force (a
-- booking limit set once, months ago) must stay: dropping it would blank the field
-- in the next state. What goes:
--   observations of nights before the cutoff (nothing will be sold on them);
--   observations of messages stored before the cutoff that a later message of
--   the same cell and field has replaced;
--   messages loaded before the cutoff, expanded, with no observation left
--   (a message still waiting for its expansion always stays).
create function staging.purge_ari(older_than date)
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
    'Deletes pushed OpenTravel observations of nights before older_than and those loaded before it that a later message replaced, then the expanded messages loaded before it that have no observation left; returns how many of each. A value still in force stays whatever its age.';
revoke execute on function staging.purge_ari(date) from public;
grant execute on function staging.purge_ari(date) to ota_ingest;
