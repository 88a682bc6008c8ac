"""Market data: adapters, HTTP, rate limits, retries, cache, registry, the demo feed."""
