"""Correlation: hand-checked pairs, mixed calendars, a plain per-pair reference, rolling to BTC."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.correlation import correlation_matrix, rolling_btc_correlation


def _frame(log_prices: dict[str, list[float]], start: str = "2025-01-02") -> pd.DataFrame:
    """Closes exp(log price) * 100 on consecutive days; None marks a missing bar."""
    n = len(next(iter(log_prices.values())))
    idx = pd.date_range(start, periods=n, freq="D", tz="UTC")
    data = {k: [np.nan if v is None else 100 * math.exp(v) for v in vals]
            for k, vals in log_prices.items()}
    return pd.DataFrame(data, index=idx)


def _plain_pair(prices: pd.DataFrame, a: str, b: str, lookback: int, as_of: pd.Timestamp,
                min_obs: int = 20) -> tuple[float, int]:
    """Reference: window, dates both have, consecutive log returns, textbook Pearson."""
    idx = prices.index
    w = prices[(idx > as_of - pd.Timedelta(days=lookback)) & (idx <= as_of)]
    pairs = [(x, y) for x, y in zip(w[a], w[b], strict=True)
             if not (math.isnan(x) or math.isnan(y))]
    xs = [math.log(p2[0] / p1[0]) for p1, p2 in zip(pairs, pairs[1:], strict=False)]
    ys = [math.log(p2[1] / p1[1]) for p1, p2 in zip(pairs, pairs[1:], strict=False)]
    n = len(xs)
    if n < min_obs:
        return math.nan, n
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return math.nan, n
    return sxy / math.sqrt(sxx * syy), n


def _random_panel(seed: int, n_days: int = 200, n_assets: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-03-01", periods=n_days, freq="D", tz="UTC")
    logp = np.cumsum(rng.normal(0, 0.03, (n_days, n_assets)), axis=0)
    frame = pd.DataFrame(100 * np.exp(logp), index=idx,
                         columns=[f"A{i}" for i in range(n_assets)])
    weekend = idx.day_of_week >= 5
    frame.loc[weekend, ["A3", "A4", "A5"]] = np.nan                 # equity calendar
    frame.loc[rng.random(n_days) < 0.2, "A6"] = np.nan               # irregular gaps
    frame.loc[(rng.random(n_days) < 0.1) | weekend, "A7"] = np.nan    # equity plus holidays
    frame.iloc[: n_days - 40, 8] = np.nan                            # listed late
    frame.iloc[:, 2] = frame.iloc[:, 2].where(rng.random(n_days) < 0.97)
    return frame


def test_correlation_matrix_hand_checked_pair():
    # log returns (x0.01): A = [1, 2, 3], B = [1, 3, 2] -> deviations [-1,0,1], [-1,1,0]
    # r = 1 / sqrt(2 * 2) = 0.5; C = -A -> r = -1.
    prices = _frame({"A": [0, .01, .03, .06], "B": [0, .01, .04, .06],
                     "C": [0, -.01, -.03, -.06]})
    res = correlation_matrix(prices, 10, min_obs=2)
    assert res.matrix.loc["A", "B"] == pytest.approx(0.5, abs=1e-12)
    assert res.matrix.loc["B", "A"] == pytest.approx(0.5, abs=1e-12)
    assert res.matrix.loc["A", "C"] == pytest.approx(-1.0, abs=1e-12)
    assert res.matrix.loc["A", "A"] == 1.0
    assert res.n_obs.loc["A", "B"] == 3
    assert res.as_of == pd.Timestamp("2025-01-05", tz="UTC")


def test_correlation_matrix_stock_crypto_pair_uses_friday_to_monday_return():
    # Thu 2 Jan .. Tue 7 Jan 2025. The stock has no Sat/Sun bar.
    # Common dates Thu, Fri, Mon, Tue -> crypto returns (x0.01) [1, 1, -2] (Fri->Mon spans the
    # weekend: 0.02 - 0.01), stock [1, 2, -1]. Deviations: x [1, 1, -2], y [1/3, 4/3, -5/3]
    # r = 5 / sqrt(6 * 14/3) = 5 / sqrt(28).
    prices = _frame({"BTC": [0, .01, .05, -.03, .02, .00],
                     "SPY": [0, .01, None, None, .03, .02]})
    res = correlation_matrix(prices, 30, min_obs=2)
    assert res.n_obs.loc["BTC", "SPY"] == 3
    assert res.matrix.loc["BTC", "SPY"] == pytest.approx(5 / math.sqrt(28), abs=1e-12)
    # The crypto asset alone still uses all its 5 daily returns.
    assert res.n_obs.loc["BTC", "BTC"] == 5
    # Forward-filling the stock (the wrong way) would give zero weekend returns and 5 pairs.
    wrong = correlation_matrix(prices.ffill(), 30, min_obs=2)
    assert wrong.n_obs.loc["BTC", "SPY"] == 5
    assert wrong.matrix.loc["BTC", "SPY"] != pytest.approx(5 / math.sqrt(28), abs=1e-3)


def test_correlation_matrix_needs_twenty_common_returns():
    rng = np.random.default_rng(1)
    walk = list(np.cumsum(rng.normal(0, 0.02, 22)))
    other = list(np.cumsum(rng.normal(0, 0.02, 22)))
    prices = _frame({"A": walk, "B": other})           # 21 returns
    assert correlation_matrix(prices, 30).n_obs.loc["A", "B"] == 21
    assert not math.isnan(correlation_matrix(prices, 30).matrix.loc["A", "B"])
    short = _frame({"A": walk, "B": [None, None] + other[2:]})   # 19 returns
    res = correlation_matrix(short, 30)
    assert res.n_obs.loc["A", "B"] == 19
    assert math.isnan(res.matrix.loc["A", "B"])
    assert math.isnan(res.matrix.loc["B", "B"])
    assert res.matrix.loc["A", "A"] == 1.0


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_correlation_matrix_window_excludes_its_start_and_includes_as_of(unit):
    prices = _frame({"A": [0, .01, .03, .06, .02], "B": [0, .02, .01, .05, .04]})
    prices.index = prices.index.as_unit(unit)
    as_of = pd.Timestamp("2025-01-05", tz="UTC")   # the 4th day; the 5th is after as_of
    res = correlation_matrix(prices, 3, as_of=as_of, min_obs=2)
    # Window (2 Jan, 5 Jan] -> closes of 3, 4, 5 Jan -> 2 returns.
    assert res.n_obs.loc["A", "B"] == 2
    assert res.as_of == as_of


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lookback", [30, 90, 365])
def test_correlation_matrix_equals_plain_pairwise_loop(seed, lookback):
    prices = _random_panel(seed)
    res = correlation_matrix(prices, lookback)
    as_of = prices.index[-1]
    for a in prices.columns:
        for b in prices.columns:
            want, n = _plain_pair(prices, a, b, lookback, as_of)
            assert res.n_obs.loc[a, b] == n, (a, b)
            got = res.matrix.loc[a, b]
            if math.isnan(want):
                assert math.isnan(got), (a, b)
            else:
                assert got == pytest.approx(want, abs=1e-12), (a, b)


def test_correlation_matrix_flat_series_and_empty_window_have_no_number():
    prices = _frame({"A": list(np.linspace(0, .3, 25)) , "USD": [0.0] * 25})
    res = correlation_matrix(prices, 60)
    assert math.isnan(res.matrix.loc["A", "USD"]) and res.n_obs.loc["A", "USD"] == 24
    far = correlation_matrix(prices, 5, as_of=pd.Timestamp("2030-01-01", tz="UTC"))
    assert far.matrix.isna().all().all() and (far.n_obs == 0).all().all()


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
def test_correlation_matrix_rejects_non_positive_or_infinite_closes(bad):
    prices = _frame({"A": [0, .01, .02], "B": [0, .01, .02]})
    prices.iloc[1, 0] = bad
    with pytest.raises(ValueError):
        correlation_matrix(prices, 10, min_obs=2)


def test_correlation_matrix_rejects_naive_index_and_bad_arguments():
    prices = _frame({"A": [0, .01, .02]})
    with pytest.raises(ValueError):
        correlation_matrix(prices.tz_localize(None), 10)
    with pytest.raises(ValueError):
        correlation_matrix(prices, 0)
    with pytest.raises(ValueError):
        correlation_matrix(prices, 10, as_of=pd.Timestamp("2025-01-03"))


@pytest.mark.parametrize("window", [30, 90])
def test_rolling_btc_correlation_equals_plain_pair_at_each_date(window):
    prices = _random_panel(7, n_days=160, n_assets=9).rename(columns={"A0": "BTC"})
    rolled = rolling_btc_correlation(prices, window, min_obs=15)
    assert list(rolled.columns) == [c for c in prices.columns if c != "BTC"]
    assert rolled.index.equals(prices.index)
    for t in prices.index[::7]:
        for symbol in rolled.columns:
            want, _ = _plain_pair(prices, symbol, "BTC", window, t, min_obs=15)
            got = rolled.loc[t, symbol]
            if math.isnan(want):
                assert math.isnan(got), (t, symbol)
            else:
                assert got == pytest.approx(want, abs=1e-12), (t, symbol)


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_rolling_btc_correlation_hand_checked_weekend_case(unit):
    prices = _frame({"BTC": [0, .01, .05, -.03, .02, .00],
                     "SPY": [0, .01, None, None, .03, .02]})
    prices.index = prices.index.as_unit(unit)
    rolled = rolling_btc_correlation(prices, 30, min_obs=2)
    assert rolled.loc[pd.Timestamp("2025-01-07", tz="UTC"), "SPY"] == pytest.approx(
        5 / math.sqrt(28), abs=1e-12)
    # On Sunday only Thu->Fri is a common return: one return, no number.
    assert math.isnan(rolled.loc[pd.Timestamp("2025-01-05", tz="UTC"), "SPY"])


def test_rolling_btc_correlation_requires_the_benchmark():
    with pytest.raises(ValueError):
        rolling_btc_correlation(_frame({"ETH": [0, .01, .02]}), 30)


def test_rolling_btc_correlation_on_the_sample_matches_the_matrix(repo):
    closes = repo.load_closes(["BTC", "ETH", "SPY", "GLD", "USDC", "MATIC"])
    rolled = rolling_btc_correlation(closes, 90)
    for t in [pd.Timestamp("2025-08-13", tz="UTC"), pd.Timestamp("2024-03-09", tz="UTC")]:
        matrix = correlation_matrix(closes, 90, as_of=t).matrix
        for symbol in rolled.columns:
            want, got = matrix.loc[symbol, "BTC"], rolled.loc[t, symbol]
            assert (math.isnan(want) and math.isnan(got)) or got == pytest.approx(
                want, abs=1e-12), (t, symbol)
    # MATIC's series ends 2025-03-24: no number 90 days later.
    assert math.isnan(rolled.loc[pd.Timestamp("2025-08-13", tz="UTC"), "MATIC"])
    assert not math.isnan(rolled.loc[pd.Timestamp("2025-03-24", tz="UTC"), "MATIC"])
