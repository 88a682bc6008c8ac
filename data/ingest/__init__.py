"""Fetch -> validate -> store: the pipeline, bar quality checks, gap healing, custom assets."""
