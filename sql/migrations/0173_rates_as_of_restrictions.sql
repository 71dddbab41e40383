-- feeds.rates_as_of gains the rate-level columns 0171_ari_field_deltas.sql added
-- to facts.rates (closed to arrival and departure, maximum stay, the minimum
-- stay's kind, whether the price includes taxes), appended after the existing
-- ones so a reader that takes columns by position reads what it read before.
-- Recreated with the grants it had, as 0073_withdrawn_cells.sql does.

create temp table migration_function_acl on commit drop as
select p.oid::regprocedure::text as function_signature, a.grantee, a.privilege_type, a.is_grantable
from pg_proc p
cross join lateral aclexplode(p.proacl) a
where p.oid = 'feeds.rates_as_of(timestamptz)'::regprocedure;

drop function feeds.rates_as_of(timestamptz);
create function feeds.rates_as_of(ts timestamptz)
returns table (
    property_code text, rate_id text, room_code text, stay_date date, adults integer, children integer,
    channel text, valid_from timestamptz, valid_to timestamptz, is_current boolean, price numeric, currency text,
    closeout boolean, min_stay integer, available integer, loaded_at timestamptz, source text, withdrawn boolean,
    closed_to_arrival boolean, closed_to_departure boolean, max_stay integer, min_stay_kind text,
    tax_included boolean)
language sql stable
as $$
    with known as (
        select f.*, lag(f.row_hash) over cell as previous_hash
        from facts.rates f
        where f.loaded_at <= ts
        window cell as (partition by f.property_code, f.rate_id, f.room_code, f.stay_date, f.adults, f.children,
                        f.channel, f.source order by f.valid_from)
    ),
    runs as (
        select k.*, lead(k.valid_from) over cell as known_valid_to
        from known k
        where k.previous_hash is distinct from k.row_hash
        window cell as (partition by k.property_code, k.rate_id, k.room_code, k.stay_date, k.adults, k.children,
                        k.channel, k.source order by k.valid_from)
    )
    select property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from, known_valid_to,
           known_valid_to is null, price, currency, closeout, min_stay, available, loaded_at, source, withdrawn,
           closed_to_arrival, closed_to_departure, max_stay, min_stay_kind, tax_included
    from runs
$$;
comment on function feeds.rates_as_of(timestamptz) is
    'Rate versions as the warehouse knew them at ts, per source: only versions with loaded_at <= ts, equal neighbours merged, valid_to recomputed among them. Current at ts: WHERE is_current (AND NOT withdrawn for cells the OTA still served). The rate-level restriction columns are NULL for sources that do not send them (see facts.rates).';

do $$
declare
    g record;
begin
    for g in select * from migration_function_acl loop
        execute format('grant %s on function %s to %s%s', g.privilege_type, g.function_signature,
                       case when g.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(g.grantee)) end,
                       case when g.is_grantable then ' with grant option' else '' end);
    end loop;
    for g in select distinct function_signature from migration_function_acl f
             where not exists (select 1 from migration_function_acl p
                               where p.function_signature = f.function_signature and p.grantee = 0) loop
        execute format('revoke execute on function %s from public', g.function_signature);
    end loop;
end
$$;
