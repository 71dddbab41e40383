-- Signed rate updates carry an idempotency key (Standard Webhooks' webhook-id, or
-- the body's event_id): a retried delivery must be a no-op. The observation log is
-- partitioned by load date, so no unique index on it can span days; this ledger is
-- the key's one home, written in the same transaction as the observation.
create table ops.webhook_receipts (
    source           text not null,
    property_code    text not null,
    idempotency_key  text not null,
    body_hash        text not null,
    received_at      timestamptz not null default now(),
    run_id           text not null,
    primary key (source, property_code, idempotency_key)
);
comment on table ops.webhook_receipts is
    'One row per signed webhook delivery stored (a rate update), keyed by its idempotency key: a redelivery finds its row and lands nothing. Pruned with the ops ledgers.';
comment on column ops.webhook_receipts.source is 'The {source} of /webhooks/ota/{source}.';
comment on column ops.webhook_receipts.property_code is 'The property the update is for.';
comment on column ops.webhook_receipts.idempotency_key is 'webhook-id (Standard Webhooks) or the body''s event_id (HMAC-signed).';
comment on column ops.webhook_receipts.body_hash is 'sha256 of the raw body, hex: the same key with another body is counted as a collision.';
comment on column ops.webhook_receipts.received_at is 'Commit time.';
comment on column ops.webhook_receipts.run_id is 'The `serve` run that stored it.';
create index webhook_receipts_received_at_idx on ops.webhook_receipts (received_at);
