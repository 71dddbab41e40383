print("ota-ingest")
