"""Low-BTC-correlation selection spread over categories, and the effective number of bets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.correlation import CorrelationResult
from analytics.selection import effective_number_of_bets, select_low_btc_correlation

TO_BTC = {"ETH": 0.8, "SOL": 0.7, "USDC": 0.05, "USDT": -0.02, "SPY": 0.3, "QQQ": 0.35,
          "GLD": 0.1, "AVAX": math.nan}
CATEGORIES = {"BTC": "stable_crypto", "ETH": "stable_crypto", "SOL": "high_vol_crypto",
              "AVAX": "high_vol_crypto", "USDC": "stablecoins", "USDT": "stablecoins",
              "SPY": "stocks", "QQQ": "stocks", "GLD": "commodities"}


def _result() -> CorrelationResult:
    names = ["BTC", *TO_BTC]
    m = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for s, r in TO_BTC.items():
        m.loc["BTC", s] = m.loc[s, "BTC"] = r
    m.loc["AVAX", :] = m.loc[:, "AVAX"] = math.nan
    n_obs = pd.DataFrame(60, index=names, columns=names).where(m.notna(), 5)
    return CorrelationResult(as_of=pd.Timestamp("2025-08-13", tz="UTC"), lookback_days=90,
                             min_obs=20, matrix=m, n_obs=n_obs)


def test_select_ranks_round_robin_over_categories():
    sel = select_low_btc_correlation(_result(), CATEGORIES)
    # Plain sorting would give USDT, USDC, GLD, SPY, QQQ; round 1 takes each category's best.
    assert list(sel.picks["symbol"]) == ["USDT", "GLD", "SPY", "USDC", "QQQ"]
    assert list(sel.picks["rank"]) == [1, 2, 3, 4, 5]
    assert list(sel.picks["category"][:3]) == ["stablecoins", "commodities", "stocks"]
    assert sel.picks.loc[0, "corr_btc"] == -0.02 and sel.picks.loc[0, "n_obs"] == 60


def test_select_threshold_max_picks_and_missing_numbers():
    sel = select_low_btc_correlation(_result(), CATEGORIES, threshold=0.3, max_picks=2)
    assert list(sel.picks["symbol"]) == ["USDT", "GLD"]       # SPY at 0.3 is not below 0.3
    everything = select_low_btc_correlation(_result(), CATEGORIES, threshold=1.0)
    assert "AVAX" not in set(everything.picks["symbol"])      # no number, never picked
    assert "BTC" not in set(everything.picks["symbol"])


def test_select_scores_btc_plus_picks():
    sel = select_low_btc_correlation(_result(), CATEGORIES, max_picks=3)
    # BTC, USDT, GLD, SPY: off-diagonals -0.02, 0.1, 0.3 (picks uncorrelated with each other)
    # 16 / (4 + 2 * (0.0004 + 0.01 + 0.09)) = 16 / 4.2008
    assert sel.effective_bets == pytest.approx(16 / 4.2008, rel=1e-12)


def test_effective_number_of_bets_hand_checked():
    names = ["A", "B", "C"]
    assert effective_number_of_bets(pd.DataFrame(np.eye(3), names, names)) == 3.0
    assert effective_number_of_bets(pd.DataFrame(np.ones((3, 3)), names, names)) == 1.0
    half = pd.DataFrame([[1, .5], [.5, 1]], ["A", "B"], ["A", "B"])
    assert effective_number_of_bets(half) == pytest.approx(4 / 2.5)
    gaps = pd.DataFrame(np.eye(3), names, names)
    gaps.loc["C", ["A", "B"]] = gaps.loc[["A", "B"], "C"] = math.nan
    assert effective_number_of_bets(gaps) == 2.0                 # C dropped, A and B kept


def test_effective_number_of_bets_rejects_bad_input():
    with pytest.raises(ValueError):
        effective_number_of_bets(pd.DataFrame(np.eye(2), ["A", "B"], ["A", "C"]))
    with pytest.raises(ValueError):
        effective_number_of_bets(pd.DataFrame([[math.nan]], ["A"], ["A"]))
    with pytest.raises(ValueError):
        select_low_btc_correlation(_result(), CATEGORIES, benchmark="XAU")
