-- What a night's step needs a person to look at, as data of its own: one
-- {"kind": N, "text": "..."} object per item, N ordering the items on the
-- night's summary (failed steps first). Earlier nights kept them as tab-separated
-- lines in counts->'attention'; they move here.

alter table ops.runs add column attention jsonb not null default '[]'::jsonb;

update ops.runs r
set attention = coalesce((
        select jsonb_agg(jsonb_build_object(
                   'kind', split_part(line, E'\t', 1)::int,
                   'text', substr(line, strpos(line, E'\t') + 1))
               order by ord)
        from regexp_split_to_table(r.counts->>'attention', E'\n') with ordinality as l(line, ord)
        where strpos(line, E'\t') > 1), '[]'::jsonb),
    counts = r.counts - 'attention'
where r.counts ? 'attention';

comment on column ops.runs.attention is
    'For a step of a nightly: what needs attention, as [{"kind": N, "text": "..."}] (N orders the items: failed steps first); [] for every other run.';
