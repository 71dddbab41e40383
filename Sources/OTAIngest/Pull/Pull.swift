// Pull: `ota-ingest pull`, the run of a connector's pulls per property, landing each batch with its watermark.
// May call: IngestCore, Connectors, Landing, Config. Never Transform, Reconcile, Export or Nightly.
