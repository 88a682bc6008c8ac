"""A hand-built valuation: BTC at 100,000 USD, 1 BTC + 5 ETH at 4,000 + 40 SPY at 500."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.portfolio_value import value_portfolio
from tests.support.sample import NOW

AS_OF = pd.Timestamp("2025-08-13", tz="UTC")


@pytest.fixture
def valuation():
    latest = pd.DataFrame({
        "symbol": ["BTC", "ETH", "SPY"], "price_usd": [100_000.0, 4_000.0, 500.0],
        "ts": [AS_OF, AS_OF, AS_OF - pd.Timedelta(days=1)], "source": ["sample"] * 3,
        "kind": ["close"] * 3})
    return value_portfolio({"BTC": 1.0, "ETH": 5.0, "SPY": 40.0}, latest,
                           asset_kinds={"BTC": "crypto", "ETH": "crypto", "SPY": "equity"},
                           now=NOW)
