"""Pure JSON payload builders for /api/correlation and /api/rebalance."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics.correlation import CorrelationResult
from analytics.diversification_json import (
    correlation_payload,
    holdings_payload,
    rebalance_payload,
)
from analytics.rebalancing import rebalance_to_btc

AS_OF = pd.Timestamp("2025-08-13", tz="UTC")


def test_correlation_payload_turns_nan_into_null_and_counts_into_ints():
    names = ["BTC", "SPY"]
    result = CorrelationResult(
        as_of=AS_OF, lookback_days=90, min_obs=20,
        matrix=pd.DataFrame([[1.0, math.nan], [math.nan, 1.0]], names, names),
        n_obs=pd.DataFrame(np.array([[89, 5], [5, 60]], dtype="int64"), names, names))
    body = correlation_payload(result)
    text = json.dumps(body, allow_nan=False)           # raises if a NaN slipped through
    assert json.loads(text) == {
        "as_of": "2025-08-13T00:00:00+00:00", "lookback_days": 90, "min_obs": 20,
        "assets": ["BTC", "SPY"], "matrix": [[1.0, None], [None, 1.0]],
        "n_obs": [[89, 5], [5, 60]]}


def test_holdings_payload_has_the_portfolio_shape():
    frame = pd.DataFrame({"symbol": ["BTC", "ETH"], "quantity": [0.5, 10.0],
                          "price_btc": [1.0, 0.05], "price_usd": [100_000.0, 5_000.0],
                          "value_btc": [0.5, 0.5], "value_usd": [50_000.0, 50_000.0],
                          "weight": [0.5, 0.5]})
    body = holdings_payload(frame, as_of=AS_OF, btc_usd=100_000.0)
    assert body["portfolio_value_btc"] == 1.0 and body["value_usd"] == 100_000.0
    assert body["btc_allocation"] == 0.5
    assert body["holdings"] == {"BTC": 0.5, "ETH": 0.5}
    assert body["assets"][1]["quantity"] == 10.0
    assert body["assets"][1]["value_sats"] == 50_000_000
    json.dumps(body, allow_nan=False)


def test_rebalance_payload_lists_trades_before_and_after():
    prices = pd.DataFrame({"symbol": ["BTC", "ETH"], "price_btc": [1.0, 0.05],
                           "price_usd": [100_000.0, 5_000.0]})
    plan = rebalance_to_btc({"BTC": 1.0, "ETH": 20.0}, prices, 0.75)   # sell 10 ETH
    body = rebalance_payload(plan, as_of=AS_OF)
    json.dumps(body, allow_nan=False)
    assert [(t["symbol"], t["side"]) for t in body["trades"]] == [("ETH", "sell"), ("BTC", "buy")]
    assert body["trades"][0]["quantity"] == pytest.approx(10.0)
    assert body["trades"][1]["value_sats"] == 50_000_000
    assert body["before"]["btc_allocation"] == 0.5
    assert body["after"]["btc_allocation"] == pytest.approx(0.75)
    assert body["target_btc_pct"] == 0.75 and body["fees_btc"] == 0.0
