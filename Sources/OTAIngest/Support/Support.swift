// Support: small value types several stages share (CSV records, currencies).
// May call: nothing of ours beyond IngestCore.
