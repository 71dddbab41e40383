// The features are written in the core's vocabulary (runs, clock, counters, streams,
// landing): whoever imports OTAIngest reads the same names without a second import.
@_exported import IngestCore
