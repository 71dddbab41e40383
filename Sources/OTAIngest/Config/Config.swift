// Config: the TOML file, its typed settings and the secrets they name (by reference only).
// May call: IngestCore. Called by every command; calls no stage.
