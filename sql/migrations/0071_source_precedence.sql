-- Which source pricing reads when several serve the same rate cell (a hotel's
-- channel manager and an OTA's cursor feed): a rank per source, for every
-- property or for one. Facts keep every source's versions regardless
-- (facts.rates is keyed by source); feeds.pricing_current_rates marks the
-- preferred one. Loaded from seeds/source_precedence.csv by `ota-ingest seed`.

create table dims.source_precedence (
    property_code  text not null default '',
    source         text not null,
    rank           integer not null check (rank > 0),
    primary key (property_code, source)
);
comment on table dims.source_precedence is
    'Which source pricing prefers for a rate cell several sources serve: the lowest rank wins. A row with property_code '''' applies to every property; a row naming a property overrides it there. A source with no row ranks after every ranked one.';
comment on column dims.source_precedence.property_code is 'The property the rank applies to; '''' for every property.';
comment on column dims.source_precedence.source is 'The configured source name, as in facts.rates.source.';
comment on column dims.source_precedence.rank is '1 = preferred first; ties are all preferred.';

grant select on dims.source_precedence to ota_analyst;
grant select, insert, update, delete, truncate on dims.source_precedence to ota_ingest;
