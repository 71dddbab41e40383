// Landing: staging writers, booking versions, the batch ledger and dead letters: how rows reach staging.* and ops.dead_letters.
// May call: PostgresClient and the rest of IngestCore. Called by pull, load, replay and the receiver; calls none of them.
