// Reconcile: snapshots of what the OTA serves now, compared with facts, drift and repairs.
// May call: IngestCore, Connectors (inventory reads), Pull (to repair), Landing, Config.
