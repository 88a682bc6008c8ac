"""BTC-denominated returns and risk: hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.returns import (
    Drawdown,
    annualized_volatility,
    cumulative_returns,
    decompose_btc_return,
    max_drawdown,
    period_returns,
)


def days(n: int, start: str = "2025-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D", tz="UTC")


def test_volatility_is_annualized_with_365_periods():
    returns = pd.Series([np.nan, 0.01, -0.01, 0.02], index=days(4))
    mean = (0.01 - 0.01 + 0.02) / 3
    sample_var = ((0.01 - mean) ** 2 + (-0.01 - mean) ** 2 + (0.02 - mean) ** 2) / 2
    assert annualized_volatility(returns) == pytest.approx(math.sqrt(sample_var) * math.sqrt(365))


def test_volatility_needs_two_returns():
    assert annualized_volatility(pd.Series([np.nan, 0.01], index=days(2))) is None


def test_max_drawdown_with_dates():
    values = pd.Series([100.0, 120.0, 90.0, 110.0, 125.0, 100.0], index=days(6))
    dd = max_drawdown(values)
    # Peak 120 on day 2, trough 90 on day 3: 90 / 120 - 1 = -0.25; back at 120+ on day 5.
    assert dd == Drawdown(pytest.approx(-0.25), values.index[1], values.index[2], values.index[4])


def test_max_drawdown_not_recovered():
    values = pd.Series([100.0, 80.0, 90.0], index=days(3))
    dd = max_drawdown(values)
    assert dd.depth == pytest.approx(-0.2) and dd.recovery_date is None
    assert dd.peak_date == values.index[0] and dd.trough_date == values.index[1]


def test_max_drawdown_of_a_rising_series_is_zero():
    assert max_drawdown(pd.Series([1.0, 2.0, 3.0], index=days(3))) == Drawdown(0.0, None, None,
                                                                                None)


def test_max_drawdown_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        max_drawdown(pd.Series([np.nan], index=days(1)))


def test_cumulative_returns_compound():
    returns = pd.Series([np.nan, 0.10, -0.10], index=days(3))
    # 1 × 1.1 × 0.9 = 0.99
    assert cumulative_returns(returns).tolist() == pytest.approx([0.0, 0.10, -0.01])


def test_period_returns_read_back_from_the_last_day():
    # Value 100 on day 0, grows 1 % a day for 10 days.
    returns = pd.Series([np.nan] + [0.01] * 10, index=days(11))
    out = period_returns(returns, {"24h": 1, "7d": 7, "30d": 30})
    assert out["24h"] == pytest.approx(0.01)
    assert out["7d"] == pytest.approx(1.01 ** 7 - 1)
    assert out["30d"] is None  # the series does not reach back 30 days


def test_holding_only_btc_is_flat():
    returns = pd.Series([np.nan] + [0.0] * 400, index=days(401))
    assert period_returns(returns) == {"24h": 0.0, "7d": 0.0, "30d": 0.0, "90d": 0.0, "1y": 0.0}
    assert annualized_volatility(returns) == 0.0
    assert max_drawdown(cumulative_returns(returns) + 1).depth == 0.0


def test_decompose_btc_return_hand_example():
    # Asset +10 % in USD while BTC rose 25 % in USD: in BTC it lost 1.10 / 1.25 - 1 = -12 %.
    out = decompose_btc_return(0.10, 0.25)
    row = out.iloc[0]
    assert row["btc_return"] == pytest.approx(-0.12)
    assert row["usd_effect"] == pytest.approx(math.log(1.10))
    assert row["btc_effect"] == pytest.approx(-math.log(1.25))
    assert row["usd_effect"] + row["btc_effect"] == pytest.approx(math.log(0.88))


def test_decompose_btc_return_of_btc_itself_is_zero():
    usd = pd.Series([0.05, -0.3])
    out = decompose_btc_return(usd, usd)
    assert out["btc_return"].tolist() == pytest.approx([0.0, 0.0])
