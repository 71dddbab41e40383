// Warehouse: the schema (migrations), seeds, retention and the SQL file sets compiled into the binary.
// May call: IngestCore, WarehouseSQL. Calls no stage.
