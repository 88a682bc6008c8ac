"""BTC-denominated covariance: pairwise alignment without forward fill, shrinkage, exclusions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.covariance import btc_covariance, pairwise_covariance, shrink_to_diagonal

DAYS = pd.date_range("2024-01-01", periods=200, freq="D", tz="UTC")


def _closes(n_assets: int, *, days=DAYS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rets = rng.normal(0, 0.02, size=(len(days), n_assets + 1))
    rets[:, 1:] += 0.5 * rets[:, [0]]          # every asset partly follows BTC in USD
    prices = 100 * np.exp(np.cumsum(rets, axis=0))
    cols = ["BTC", *[f"A{i}" for i in range(n_assets)]]
    return pd.DataFrame(prices, index=days, columns=cols)


def test_btc_covariance_complete_data_keeps_variances_and_scales_covariances():
    closes = _closes(4)
    est = btc_covariance(closes, 365)
    ratio = np.log(closes.drop(columns="BTC").div(closes["BTC"], axis=0))
    plain = np.cov(np.diff(ratio.to_numpy(), axis=0).T, ddof=1)
    got = est.cov.to_numpy()
    np.testing.assert_allclose(np.diag(got), np.diag(plain), rtol=1e-12)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(got[off], (1 - est.shrinkage) * plain[off], rtol=1e-12)
    assert 0 <= est.shrinkage < 0.5
    assert (est.n_obs.to_numpy() == 199).all()


def test_shrinkage_intensity_is_the_ledoit_wolf_formula_written_out():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 25))
    cov, var_est, _ = pairwise_covariance(np.cumsum(x, axis=1))
    r = np.diff(np.cumsum(x, axis=1), axis=1)
    n = r.shape[1]
    c = r - r.mean(axis=1, keepdims=True)
    num = den = 0.0
    for i in range(3):
        for j in range(3):
            if i != j:
                s = (c[i] * c[j]).sum() / n
                num += ((c[i] * c[j] - s) ** 2).mean() / n
                den += ((c[i] * c[j]).sum() / (n - 1)) ** 2
    _, delta = shrink_to_diagonal(cov, var_est)
    assert delta == pytest.approx(min(max(num / den, 0.0), 1.0), rel=1e-10)


def test_btc_covariance_stock_uses_weekday_returns_without_forward_fill():
    closes = _closes(2)
    weekend = closes.index.day_of_week >= 5
    closes.loc[weekend, "A1"] = np.nan            # a stock: no weekend bars
    est = btc_covariance(closes, 365)
    stock = np.log(closes["A1"] / closes["BTC"]).dropna()
    want = np.var(np.diff(stock.to_numpy()), ddof=1)
    assert est.cov.loc["A1", "A1"] == pytest.approx(want, rel=1e-12)
    assert est.n_obs.loc["A1", "A1"] == len(stock) - 1
    # A forward-filled series would have had a return on every calendar day.
    assert est.n_obs.loc["A1", "A0"] == len(stock) - 1 < 199


def test_btc_covariance_is_positive_definite_with_fewer_days_than_assets():
    closes = _closes(40, days=DAYS[:25])
    est = btc_covariance(closes, 365, min_obs=20)
    assert len(est.symbols) == 40
    assert np.linalg.eigvalsh(est.cov.to_numpy())[0] > 0
    assert 0 < est.shrinkage <= 1


def test_btc_covariance_excludes_short_and_ended_series_with_reasons():
    closes = _closes(3)
    closes.loc[closes.index < DAYS[-20], "A0"] = np.nan   # listed 20 days ago
    closes.loc[closes.index > DAYS[100], "A1"] = np.nan   # series ended (renamed, delisted)
    closes["NEW"] = np.nan                                # configured, nothing stored
    est = btc_covariance(closes, 365)
    assert est.symbols == ["A2"]
    assert est.excluded["A0"] == "only 19 daily returns in the window (need 30)"
    assert est.excluded["A1"] == f"series ended {DAYS[100]:%Y-%m-%d}"
    assert est.excluded["NEW"] == "no stored price history"


def test_btc_covariance_window_ignores_later_prices():
    closes = _closes(3)
    as_of = DAYS[150]
    before = btc_covariance(closes, 90, as_of=as_of)
    closes.loc[closes.index > as_of, "A0"] *= 3.0
    after = btc_covariance(closes, 90, as_of=as_of)
    pd.testing.assert_frame_equal(before.cov, after.cov)


def test_btc_covariance_refuses_a_frame_without_btc():
    with pytest.raises(ValueError, match="BTC"):
        btc_covariance(_closes(2).drop(columns="BTC"))
