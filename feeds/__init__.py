"""Event sources and sinks: Redis stream readers, NDJSON files, the embedded server."""
