// Transform: staging to facts (sql/transforms) and the data checks, in one transaction per run.
// May call: IngestCore, Warehouse (SQL file sets). Never a connector.
