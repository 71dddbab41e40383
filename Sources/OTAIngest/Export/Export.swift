// Export: the analysts' feeds (feeds.* views installed from sql/feeds) and their CSV/NDJSON exports.
// May call: IngestCore, Warehouse (SQL file sets). Never pulls or transforms.
