"""``python -m data.scheduler``: the CLI name deployments use (code: data/scheduling/runner.py)."""

import sys

from data.scheduling.runner import main

if __name__ == "__main__":
    sys.exit(main())
