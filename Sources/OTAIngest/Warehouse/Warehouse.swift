// Warehouse: the schema (migrations, then the analysts' feeds), seeds, retention and the SQL file sets in the binary.
// May call: IngestCore, WarehouseSQL. Calls no stage.
