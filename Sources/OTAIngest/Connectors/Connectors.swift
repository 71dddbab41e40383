// Connectors: one folder per dialect (Connector: what it reads, its pulls, client, parsers), the registry, and the caller, retries and rate limits they share.
// May call: IngestCore (landing, counters, clock), HTTPClient, Config, JSON, Pull's context and property workers. Never another runner.
