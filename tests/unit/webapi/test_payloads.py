"""JSON payload builders of the API (webapi/payloads.py): no NaN, the documented shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics.correlation import CorrelationResult
from analytics.portfolio_value import value_portfolio
from queries.rebalance import plan_rebalance
from webapi.payloads import correlation_payload, portfolio_payload, rebalance_payload

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


def _valuation(eth_ts: pd.Timestamp = AS_OF, matic: bool = False):
    rows = [("BTC", 100_000.0, AS_OF), ("ETH", 5_000.0, eth_ts),
            *([("MATIC", 0.2165, pd.Timestamp("2025-03-24", tz="UTC"))] if matic else [])]
    latest = pd.DataFrame([(s, p, t, "sample", "close") for s, p, t in rows],
                          columns=["symbol", "price_usd", "ts", "source", "kind"])
    holdings = {"BTC": 1.0, "ETH": 20.0, **({"MATIC": 50_000.0} if matic else {})}
    return value_portfolio(holdings, latest, asset_kinds={}, now=AS_OF + pd.Timedelta(hours=6))


def test_rebalance_payload_lists_trades_and_before_after_in_the_portfolio_shape():
    valuation = _valuation()
    body = rebalance_payload(plan_rebalance(valuation, 0.75))   # sell 10 ETH
    json.dumps(body, allow_nan=False)
    assert [(t["symbol"], t["side"]) for t in body["trades"]] == [("ETH", "sell"), ("BTC", "buy")]
    assert body["trades"][0]["quantity"] == pytest.approx(10.0)
    assert body["trades"][1]["value_sats"] == 50_000_000
    assert body["before"] == portfolio_payload(valuation)
    assert set(body["after"]) == set(body["before"])
    for asset in body["after"]["assets"]:
        assert set(asset) == set(body["before"]["assets"][0])
        assert isinstance(asset["value_sats"], int)
    assert body["after"]["btc_allocation"] == pytest.approx(0.75)
    assert body["after"]["assets"][1]["quantity"] == pytest.approx(10.0)
    assert body["target_btc_pct"] == 0.75 and body["fees_btc"] == 0.0
    assert body["excluded"] == {}


def test_rebalance_never_trades_a_stale_holding_unless_asked():
    # MATIC's series ended 2025-03-24: valued (flagged) in before/after, never traded.
    valuation = _valuation(matic=True)
    body = rebalance_payload(plan_rebalance(valuation, 0.75))
    assert "MATIC" not in {t["symbol"] for t in body["trades"]}
    assert "stale price from 2025-03-24" in body["excluded"]["MATIC"]
    matic = [a for a in body["after"]["assets"] if a["symbol"] == "MATIC"][0]
    assert matic["stale"] is True and matic["quantity"] == 50_000.0
    # The target is the share of the whole value: ETH alone is sold to reach it.
    total = 1 + 1 + 50_000 * 0.2165 / 100_000
    assert body["after"]["btc_allocation"] == pytest.approx(0.75)
    assert body["trades"][0]["value_btc"] == pytest.approx(0.75 * total - 1)
    forced = rebalance_payload(plan_rebalance(valuation, 0.75, include_stale=True))
    assert "MATIC" in {t["symbol"] for t in forced["trades"]} and forced["excluded"] == {}


def test_rebalance_refuses_a_stale_btc_price():
    valuation = _valuation()
    later = value_portfolio({"BTC": 1.0, "ETH": 20.0}, pd.DataFrame(
        [("BTC", 100_000.0, AS_OF, "s", "close"), ("ETH", 5_000.0, AS_OF, "s", "close")],
        columns=["symbol", "price_usd", "ts", "source", "kind"]), asset_kinds={},
        now=AS_OF + pd.Timedelta(days=3))
    assert not valuation.btc_stale and later.btc_stale
    with pytest.raises(ValueError, match="BTC price"):
        plan_rebalance(later, 0.5)
