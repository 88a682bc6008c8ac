"""``python -m data.ingest``: fetch, validate, store history or quotes (data/ingest/pipeline.py)."""

import sys

from data.ingest.pipeline import main

if __name__ == "__main__":
    sys.exit(main())
