// Status: `ota-ingest status`, one screen of what the warehouse and its runs look like.
// May call: IngestCore; reads ops.* and recon.* only.
