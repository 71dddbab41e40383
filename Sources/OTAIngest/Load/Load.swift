// Load: `ota-ingest load`, historical files read in parts and landed through Landing.
// May call: IngestCore, Landing, Connectors' record readers, JSON. Never Pull.
