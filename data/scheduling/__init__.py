"""Background ingestion: the APScheduler runner, its job bodies, single-runner locks."""
