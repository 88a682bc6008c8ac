"""The numpy rebalance_to_btc gives the plans of the pandas one it replaced (kept in
tests/support/rebalancing_reference.py): same trades, sides, order, skipped legs and reasons,
same before/after holdings and totals, on random holdings, prices, targets, fees, minimum
trades, lot sizes, target weights and frozen assets; and the same errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.rebalancing import rebalance_to_btc
from tests.support import rebalancing_reference as reference

SYMBOLS = ["ETH", "SOL", "SPY", "GLD", "ADA", "DOT"]
REL = 1e-9


def _same_frame(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    for column in old.columns:
        a, b = new[column].to_numpy(), old[column].to_numpy()
        if old[column].dtype.kind == "f" or new[column].dtype.kind == "f":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=REL, atol=1e-15)
        elif column == "value_sats":
            assert np.abs(a.astype(np.int64) - b.astype(np.int64)).max(initial=0) <= 1
        else:
            assert list(a) == list(b), column


def _same_plan(new, old) -> None:
    _same_frame(new.trades.reset_index(drop=True), old.trades.reset_index(drop=True))
    _same_frame(new.before, old.before)
    _same_frame(new.after, old.after)
    assert list(new.skipped["symbol"]) == list(old.skipped["symbol"])
    assert list(new.skipped["side"]) == list(old.skipped["side"])
    assert list(new.skipped.columns) == list(old.skipped.columns)
    for column in ("quantity", "value_btc", "value_usd"):
        np.testing.assert_allclose(new.skipped[column].to_numpy(float),
                                   old.skipped[column].to_numpy(float), rtol=REL)
    assert list(new.skipped["reason"]) == list(old.skipped["reason"])
    for name in ("btc_usd", "target_btc_share", "fees_btc", "rounding_btc", "btc_share_after"):
        assert getattr(new, name) == pytest.approx(getattr(old, name), rel=REL, abs=1e-15)


def _run(function, *args, **kwargs):
    try:
        return function(*args, **kwargs), None
    except ValueError as exc:
        return None, str(exc)


price = st.floats(1e-6, 50.0, allow_nan=False)
quantity = st.tuples(st.integers(0, 7), st.floats(1e-4, 1e4, allow_nan=False)).map(
    lambda t: 0.0 if t[0] == 0 else t[1])  # a zero holding one time in eight


@st.composite
def cases(draw):
    held = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=len(SYMBOLS),
                        unique=True))
    priced = list(dict.fromkeys([*held, *draw(st.lists(st.sampled_from(SYMBOLS), max_size=2))]))
    with_btc_row = draw(st.booleans())
    prices = {s: draw(price) for s in priced}
    btc_usd = draw(st.floats(1_000.0, 200_000.0))
    rows = ([("BTC", 1.0)] if with_btc_row else []) + list(prices.items())
    frame = pd.DataFrame({"symbol": [s for s, _ in rows], "price_btc": [p for _, p in rows],
                          "price_usd": [p * btc_usd for _, p in rows]})
    holdings = {s: draw(quantity) for s in held}
    if draw(st.booleans()):
        holdings["BTC"] = draw(quantity)
    options = {"target_btc_share": draw(st.floats(0.0, 1.0)),
               "fee_bps": draw(st.sampled_from([0.0, 10.0, 50.0, 250.0])),
               "band": draw(st.sampled_from([0.0, 0.0, 0.02])),
               "min_trade_usd": draw(st.sampled_from([0.0, 0.0, 10.0, 5_000.0])),
               "min_trade_btc": draw(st.sampled_from([0.0, 0.0, 0.001, 0.2])),
               "lot_sizes": {s: draw(st.sampled_from([1.0, 0.1, 5.0]))
                             for s in draw(st.lists(st.sampled_from(priced or ["ETH"]),
                                                    max_size=3, unique=True))}}
    if draw(st.integers(0, 3)) == 0:
        raw = [draw(st.floats(0.0, 1.0)) for _ in priced]
        if sum(raw) > 0:
            options["target_weights"] = {s: w / sum(raw) for s, w in zip(priced, raw, strict=True)}
    free = [s for s in held if s not in options.get("target_weights", {})]
    options["frozen"] = draw(st.lists(st.sampled_from(free), max_size=2)) if free else []
    return holdings, frame, options


@settings(max_examples=400, deadline=None)
@given(cases())
def test_numpy_rebalance_matches_the_pandas_reference(case):
    holdings, prices, options = case
    new, new_error = _run(rebalance_to_btc, holdings, prices, **options)
    old, old_error = _run(reference.rebalance_to_btc, holdings, prices, **options)
    assert new_error == old_error
    if old is not None:
        _same_plan(new, old)
        assert math.isclose(float(new.after["value_btc"].sum()) + new.fees_btc,
                            float(new.before["value_btc"].sum()), rel_tol=1e-9)


def test_reference_comparison_sees_a_changed_plan():
    # The comparison is not vacuous: a plan at another target differs from the reference's.
    prices = pd.DataFrame({"symbol": ["BTC", "ETH"], "price_btc": [1.0, 0.05],
                           "price_usd": [60_000.0, 3_000.0]})
    holdings = {"BTC": 1.0, "ETH": 10.0}
    with pytest.raises(AssertionError):
        _same_plan(rebalance_to_btc(holdings, prices, 0.6),
                   reference.rebalance_to_btc(holdings, prices, 0.7))


def test_duplicate_price_rows_use_the_last_like_the_reference():
    prices = pd.DataFrame({"symbol": ["ETH", "BTC", "ETH"], "price_btc": [float("nan"), 1.0, 0.04],
                           "price_usd": [1.0, 50_000.0, 2_000.0]})
    holdings = {"BTC": 0.5, "ETH": 40.0}
    _same_plan(rebalance_to_btc(holdings, prices, 0.5, fee_bps=30),
               reference.rebalance_to_btc(holdings, prices, 0.5, fee_bps=30))
