-- Run by `ota-ingest migrate` before any migration, on every run: the ledger of
-- applied migrations must exist before the first one is recorded in it.
create schema if not exists ops;
comment on schema ops is
    'Operations: run ledger, landed batches, watermarks, dead letters, pipeline metrics, schema migrations.';

create table if not exists ops.schema_migrations (
    version     integer primary key,
    name        text not null,
    checksum    text not null,
    applied_at  timestamptz not null default now()
);
comment on table ops.schema_migrations is
    'One row per applied file of sql/migrations; checksum is the SHA-256 of the file as applied.';
comment on column ops.schema_migrations.version is 'The NNNN prefix of the migration file name.';
comment on column ops.schema_migrations.name is 'The migration file name, e.g. 0001_schemas.sql.';
comment on column ops.schema_migrations.checksum is 'Hex SHA-256 of the file; a changed applied file is refused.';
comment on column ops.schema_migrations.applied_at is 'When the migration was committed.';
