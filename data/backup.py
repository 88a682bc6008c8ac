"""``python -m data.backup create|restore``, the CLI name deployments use (data/store/backup.py)."""

import sys

from data.store.backup import main

if __name__ == "__main__":
    sys.exit(main())
