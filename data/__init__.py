"""IO shell: providers, cache, rate limits, storage, ingestion, scheduling."""
