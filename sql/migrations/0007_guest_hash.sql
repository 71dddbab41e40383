-- Facts carry a salted hash of the guest instead of names or emails. The salt
-- is generated once per warehouse and kept here, readable by the loader role
-- only: a hash cannot be reversed by guessing emails without it.

create table ops.settings (
    name   text primary key,
    value  text not null
);
comment on table ops.settings is 'Warehouse-wide settings the SQL reads (e.g. guest_hash_salt). Not readable by analysts.';
comment on column ops.settings.name is 'Setting name.';
comment on column ops.settings.value is 'Setting value.';

insert into ops.settings (name, value)
values ('guest_hash_salt', encode(sha256(convert_to(gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'));

-- The guest is their email when there is one, else their name, normalised;
-- NULL when the booking names nobody.
create function ops.guest_hash(client_info jsonb) returns text
language sql stable
as $$
    select case when guest is null or guest = '' then null
                else encode(sha256(convert_to((select value from ops.settings where name = 'guest_hash_salt') || '|' || guest, 'UTF8')), 'hex')
           end
    from (select coalesce(
            nullif(lower(btrim(client_info ->> 'email')), ''),
            nullif(lower(btrim(concat_ws(' ', client_info ->> 'firstName', client_info ->> 'lastName'))), '')) as guest) g
$$;
comment on function ops.guest_hash(jsonb) is
    'Hex SHA-256 of the warehouse salt (ops.settings guest_hash_salt) and the guest''s normalised email, else name, from a clientInfo object; NULL when empty.';
