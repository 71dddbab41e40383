-- The guest hash with its salt as an argument. On a Citus cluster the
-- reservation transform's statement runs on the workers, shard by shard, and a
-- function there may not query another table (ops.guest_hash(client_info)
-- reads the salt from ops.settings): Citus refuses "a distributed query from a
-- query on a shard". The transform now reads the salt in the statement itself
-- and passes it; the one-argument form stays for everything else and gives the
-- same hash.

create function ops.guest_hash(client_info jsonb, salt text) returns text
language sql immutable
as $$
    select case when guest is null or guest = '' then null
                else encode(sha256(convert_to(salt || '|' || guest, 'UTF8')), 'hex')
           end
    from (select coalesce(
            nullif(lower(btrim(client_info ->> 'email')), ''),
            nullif(lower(btrim(concat_ws(' ', client_info ->> 'firstName', client_info ->> 'lastName'))), '')) as guest) g
$$;

comment on function ops.guest_hash(jsonb, text) is
    'Hex SHA-256 of salt and the guest''s normalised email, else name, from a clientInfo object; NULL when empty. ops.guest_hash(jsonb) passes the warehouse salt.';

revoke execute on function ops.guest_hash(jsonb, text) from public;
grant execute on function ops.guest_hash(jsonb, text) to ota_ingest;
