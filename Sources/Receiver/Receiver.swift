// Serve: `ota-ingest serve`, the daemon: webhook pushes and pings, group commit, metrics, as services of one ServiceGroup.
// May call: IngestCore (run scope, landing, clock), OTAIngest's connectors' decoders and pulls (a ping's pull). Never Nightly.
