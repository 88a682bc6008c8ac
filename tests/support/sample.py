"""The checkout's paths and the sample store's clock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "prices_daily.csv"
FIXTURES = ROOT / "tests" / "fixtures"
# The sample's last day plus a few hours: prices are fresh relative to it. The ``now`` fixture
# (tests/conftest.py) pins the process clock here; code outside a test function uses it as is.
NOW = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)
