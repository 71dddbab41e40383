// Export: the analysts' feeds (feeds.* views installed from sql/feeds) and their CSV/NDJSON exports.
// May call: IngestCore. Never pulls or transforms; Warehouse installs the feeds (FeedInstaller).
