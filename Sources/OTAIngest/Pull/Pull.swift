// Pull: `ota-ingest pull`, one run per command through RunScope; the connector of the source's kind does the reading.
// May call: IngestCore, Connectors (through ConnectorRegistry), Config. Never Transform, Reconcile, Export or Nightly.
