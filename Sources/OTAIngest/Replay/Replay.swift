// Replay: `ota-ingest dlq replay`, dead letters read again with today's rules and landed when they now pass.
// May call: IngestCore (run scope, landing), Connectors' and Load's record readers. Called by the dlq command only.
