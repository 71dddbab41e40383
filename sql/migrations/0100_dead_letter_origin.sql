-- How a dead letter's record arrived, as a column: replay lands it under the same
-- origin, and a file's records (origin 'backfill') are read with the load's rules.
-- Rows written before this column existed take the origin their batch id names
-- (the rule replay used to apply to the id itself); a row without a batch id was
-- replayed as pulled, and keeps that.

alter table ops.dead_letters add column origin text not null default 'pull'
    check (origin in ('pull', 'recovery', 'push', 'ping', 'backfill'));

update ops.dead_letters
set origin = case
    when batch_id like '%/file:%' then 'backfill'
    when batch_id like '%/recovery:%' then 'recovery'
    when batch_id like '%push%' then 'push'
    else 'pull'
end
where batch_id is not null;

comment on column ops.dead_letters.origin is
    'How the record arrived: pull, recovery (a booking fetched again), push, ping or backfill (a loaded file); replay lands it under the same origin.';
