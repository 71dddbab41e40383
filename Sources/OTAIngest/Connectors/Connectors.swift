// Connectors: one folder per dialect (what it reads and how), plus the caller, retries and rate limits they share.
// May call: IngestCore (landing rows, counters, clock), HTTPClient, Config, JSON. Never a runner.
