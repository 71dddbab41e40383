-- facts.rate_row_hash and facts.availability_row_hash, rewritten so that
-- PostgreSQL inlines them into the queries that call them.
--
-- The first bodies hashed row(...)::text. PostgreSQL counts that cast as
-- stable (a record's text calls each column type's output function), and it
-- never inlines an immutable SQL function whose body is less than immutable:
-- every call went through the SQL-function executor. On a first load of
-- 1,000,000 rate cells that was 7.6 s of hashing against 2.8 s inlined.
--
-- The new bodies spell out the very same text from immutable parts: a row's
-- text is "(" the fields joined by "," ")", a NULL field is empty, a boolean is
-- t or f, and a text field that is empty or holds a quote, backslash,
-- parenthesis, comma or white space is quoted with " and has " and \ doubled.
-- So every hash stays what it was: no stored row_hash (facts, recon snapshots)
-- changes, and the test suite compares both forms over such values.

create or replace function facts.rate_row_hash(
    price numeric, currency text, closeout boolean, min_stay integer, available integer)
returns uuid
language sql immutable parallel safe
as $$
select md5(
    '(' || coalesce(price::text, '')
    || ',' || case when currency is null then ''
                   when currency = '' or currency ~ '["\\(),[:space:]]'
                       then '"' || replace(replace(currency, '\', '\\'), '"', '""') || '"'
                   else currency end
    || ',' || case closeout when true then 't' when false then 'f' else '' end
    || ',' || coalesce(min_stay::text, '')
    || ',' || coalesce(available::text, '')
    || ')')::uuid
$$;

create or replace function facts.availability_row_hash(
    allotment integer, stop_sell boolean, min_stay integer, max_stay integer,
    closed_to_arrival boolean, closed_to_departure boolean)
returns uuid
language sql immutable parallel safe
as $$
select md5(
    '(' || coalesce(allotment::text, '')
    || ',' || case stop_sell when true then 't' when false then 'f' else '' end
    || ',' || coalesce(min_stay::text, '')
    || ',' || coalesce(max_stay::text, '')
    || ',' || case closed_to_arrival when true then 't' when false then 'f' else '' end
    || ',' || case closed_to_departure when true then 't' when false then 'f' else '' end
    || ')')::uuid
$$;

comment on function facts.rate_row_hash(numeric, text, boolean, integer, integer) is
    'facts.rates.row_hash: MD5 of the tracked values as a uuid (the text of row(price, currency, closeout, min_stay, available), spelled out so the function is inlined).';
comment on function facts.availability_row_hash(integer, boolean, integer, integer, boolean, boolean) is
    'facts.availability.row_hash: MD5 of the tracked values as a uuid (the text of row(...), spelled out so the function is inlined).';
