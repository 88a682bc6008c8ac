"""``python -m data.ledger import|export``, the CLI name users know (data/store/ledger_io.py)."""

import sys

from data.store.ledger_io import main

if __name__ == "__main__":
    sys.exit(main())
