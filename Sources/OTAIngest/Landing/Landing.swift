// Landing: staging writers, booking versions, batch ledger and dead letters: how rows reach staging.*.
// May call: IngestCore, PostgresClient. Called by pull, load, replay and the receiver; calls none of them.
