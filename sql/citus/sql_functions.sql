-- SQL-language functions that read distributed tables, rewritten as PL/pgSQL
-- with the same body, on a distributed warehouse only.
--
-- Why: Citus plans a query on distributed tables when it is given one; a
-- LANGUAGE sql function that PostgreSQL does not inline runs its body as a
-- query with parameters ($1 ...) that Citus refuses ("parameterized queries
-- for SQL functions referencing distributed tables are not supported"). The
-- same body inside PL/pgSQL (RETURN QUERY) is planned with the parameters'
-- values, which Citus accepts. On one server the functions stay SQL (the
-- planner can inline them into the caller's query), so the definitions in
-- sql/migrations and sql/feeds stay the one source of the SQL; this file
-- only changes the wrapper. `ota-ingest distribute` runs it, and `migrate`
-- runs it again after every change on a distributed warehouse.
do $convert$
declare
    f record;
    body text;
begin
    for f in
        -- The warehouse's SQL functions first (a score of them), then the test on their bodies:
        -- left to the planner, the case-insensitive match could run for every function of the
        -- database against every distributed table, compiling a pattern each time (minutes).
        with candidates as materialized (
            select p.oid, p.oid::regprocedure as signature, p.proretset, p.prosrc, p.provolatile,
                   pg_get_function_result(p.oid) as result, pg_get_function_arguments(p.oid) as arguments,
                   n.nspname, p.proname
            from pg_proc p
            join pg_namespace n on n.oid = p.pronamespace
            join pg_language l on l.oid = p.prolang
            where l.lanname = 'sql' and p.prokind = 'f'
              and n.nspname in ('ops', 'staging', 'facts', 'recon', 'dims', 'feeds')
        ),
        distributed as materialized (
            select cn.nspname || '\.' || c.relname || '\M' as pattern
            from pg_dist_partition d
            join pg_class c on c.oid = d.logicalrelid
            join pg_namespace cn on cn.oid = c.relnamespace
            where d.partmethod = 'h'
        )
        select c.* from candidates c
        -- returns rows (and may call one that reads distributed tables), or reads a
        -- distributed table itself (its qualified name appears in the body)
        where c.proretset and c.provolatile <> 'i'
           or exists (select 1 from distributed d where c.prosrc ~* d.pattern)
    loop
        -- The body may end with a semicolon; RETURN QUERY takes one statement.
        body := regexp_replace(f.prosrc, ';\s*$', '');
        execute format(
            'create or replace function %I.%I(%s) returns %s language plpgsql %s as %L',
            f.nspname, f.proname, f.arguments, f.result,
            case f.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end,
            -- Columns win over the output parameters of the same name, as in the SQL body.
            E'#variable_conflict use_column\nbegin\n'
            || case when f.proretset then 'return query ' || body || E';\n'
                    else 'return (' || body || E');\n' end
            || 'end;');
    end loop;
end;
$convert$;
