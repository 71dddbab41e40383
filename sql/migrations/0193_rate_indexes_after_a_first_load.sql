-- A first load of many rate cells into an empty facts.rates (the first run of a
-- warehouse, or a full refresh, which empties the facts in its own transaction)
-- writes its versions without the table's indexes and then builds each index
-- once over the rows. Maintaining the eight-column primary key, the
-- one-current-row index and loaded_at's index row by row cost a first load of a
-- million cells about twice what building them afterwards costs.
--
-- 50_rates.sql calls facts.defer_rate_indexes before it writes new cells'
-- versions and facts.build_deferred_rate_indexes right after, in the same
-- transaction: if anything fails between them, the rollback brings the indexes
-- back with everything else. While the indexes are away the transaction holds
-- facts.rates exclusively, so readers of the (empty) table wait for the load to
-- commit; below ota.rate_indexes_after_rows_from new cells (100,000 unless set)
-- nothing is deferred and readers are never held. Not on a Citus cluster, whose
-- shards carry their own copies of each index.

create table ops.deferred_indexes (
    position   integer primary key,
    statement  text not null
);
comment on table ops.deferred_indexes is
    'The statements that rebuild facts.rates''s indexes while a first load writes its rows without them: written by facts.defer_rate_indexes, run and emptied by facts.build_deferred_rate_indexes in the same transaction, so it is empty outside one. Readable and writable by the owner alone, since the statements are run with the owner''s rights.';
comment on column ops.deferred_indexes.position is 'Order to run in: constraints first, then the other indexes, each followed by its comment.';
comment on column ops.deferred_indexes.statement is 'One statement, built from the catalog''s own definition of the index.';
-- The default privileges of the ops schema would let the loader write it.
revoke all on ops.deferred_indexes from public, ota_ingest, ota_analyst;

create function facts.defer_rate_indexes(new_cells bigint) returns boolean
language plpgsql security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
    threshold bigint := coalesce(nullif(current_setting('ota.rate_indexes_after_rows_from', true), '')::bigint, 100000);
    ix record;
    step_no integer := 0;
begin
    -- One test at a time, cheapest first (SQL does not promise to evaluate an OR in order).
    if new_cells is null or new_cells < threshold then
        return false;
    end if;
    if exists (select 1 from pg_extension where extname = 'citus') then
        return false;
    end if;
    -- A foreign key to the primary key would not let it go; none exists today.
    if exists (select 1 from pg_constraint where confrelid = 'facts.rates'::regclass)
       or exists (select 1 from ops.deferred_indexes) then
        return false;
    end if;
    if exists (select 1 from facts.rates) then
        return false;
    end if;
    lock table facts.rates in access exclusive mode;
    -- Only transforms write facts.rates, one at a time; checked again under the lock all the same.
    if exists (select 1 from facts.rates) then
        return false;
    end if;
    for ix in
        select c.relname as name, con.conname as constraint_name, pg_get_constraintdef(con.oid) as constraint_definition,
               pg_get_indexdef(i.indexrelid) as definition, obj_description(i.indexrelid, 'pg_class') as note
        from pg_index i
        join pg_class c on c.oid = i.indexrelid
        left join pg_constraint con on con.conindid = i.indexrelid and con.conrelid = i.indrelid
        where i.indrelid = 'facts.rates'::regclass
        order by con.conname is null, c.relname
    loop
        step_no := step_no + 1;
        if ix.constraint_name is not null then
            insert into ops.deferred_indexes values (step_no,
                format('alter table facts.rates add constraint %I %s', ix.constraint_name, ix.constraint_definition));
            execute format('alter table facts.rates drop constraint %I', ix.constraint_name);
        else
            -- The parent's definition reads "ON ONLY facts.rates"; without ONLY it is built on every partition.
            insert into ops.deferred_indexes values (step_no, replace(ix.definition, ' ON ONLY ', ' ON '));
            execute format('drop index facts.%I', ix.name);
        end if;
        if ix.note is not null then
            step_no := step_no + 1;
            insert into ops.deferred_indexes values (step_no, format('comment on index facts.%I is %L', ix.name, ix.note));
        end if;
    end loop;
    return true;
end
$$;
comment on function facts.defer_rate_indexes(bigint) is
    'Before a first load writes new_cells versions into an empty facts.rates: drops the table''s indexes (keeping their definitions in ops.deferred_indexes) and holds the table exclusively until commit, when new_cells is at least ota.rate_indexes_after_rows_from (100,000 unless set) and the server is not a Citus cluster. Returns whether it did.';

create function facts.build_deferred_rate_indexes() returns integer
language plpgsql security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
    step record;
    built integer := 0;
begin
    for step in select statement from ops.deferred_indexes order by position loop
        execute step.statement;
        built := built + 1;
    end loop;
    -- Nothing deferred (every run but a large first load): no write at all.
    if built > 0 then
        delete from ops.deferred_indexes;
    end if;
    return built;
end
$$;
comment on function facts.build_deferred_rate_indexes() is
    'After a first load''s rows are written: builds the indexes facts.defer_rate_indexes dropped, from their own definitions, on every partition. Returns how many statements it ran (0 when nothing was deferred).';

revoke execute on function facts.defer_rate_indexes(bigint) from public;
revoke execute on function facts.build_deferred_rate_indexes() from public;
grant execute on function facts.defer_rate_indexes(bigint) to ota_ingest;
grant execute on function facts.build_deferred_rate_indexes() to ota_ingest;
