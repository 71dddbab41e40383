-- facts.rate_version_hash, spelled out so PostgreSQL inlines it. The body of
-- 0171 used concat_ws, which is only STABLE; an IMMUTABLE SQL function whose
-- body is not immutable is never inlined, so every call went through the SQL
-- function executor: 5 of the 7 microseconds the hash took per row, paid for
-- every version a promotion writes (a million on a first load of a million
-- cells). The text hashed is exactly what concat_ws gave: the values that are
-- not NULL, each as its type prints it (a boolean as t or f), joined by '|';
-- so no stored hash changes.
create or replace function facts.rate_version_hash(
    price numeric, currency text, closeout boolean, min_stay integer, available integer, withdrawn boolean,
    closed_to_arrival boolean, closed_to_departure boolean, max_stay integer, min_stay_kind text, tax_included boolean)
returns uuid
language sql immutable parallel safe
as $$
select case when withdrawn then '00000000-0000-0000-0000-000000000000'::uuid
            when closed_to_arrival is null and closed_to_departure is null and max_stay is null
                 and min_stay_kind is null and tax_included is null
            then facts.rate_row_hash(price, currency, closeout, min_stay, available)
            else md5(substr(
                    coalesce('|' || price::text, '')
                    || coalesce('|' || currency, '')
                    || coalesce('|' || case closeout when true then 't' when false then 'f' end, '')
                    || coalesce('|' || min_stay::text, '')
                    || coalesce('|' || available::text, '')
                    || coalesce('|' || case closed_to_arrival when true then 't' when false then 'f' end, '')
                    || coalesce('|' || case closed_to_departure when true then 't' when false then 'f' end, '')
                    || coalesce('|' || max_stay::text, '')
                    || coalesce('|' || min_stay_kind, '')
                    || coalesce('|' || case tax_included when true then 't' when false then 'f' end, ''),
                    2))::uuid end
$$;
