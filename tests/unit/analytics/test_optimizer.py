"""Optimizer in BTC terms: constraints to 1e-9, objective optimality, named infeasibility."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.covariance import CovarianceEstimate
from analytics.optimizer import (
    METHODS,
    Caps,
    InfeasibleConstraintError,
    capped_equal_weights,
    optimize_mix,
    risk_of_weights,
)


def _estimate(cov: np.ndarray, symbols: list[str]) -> CovarianceEstimate:
    frame = pd.DataFrame(cov, index=symbols, columns=symbols)
    return CovarianceEstimate(as_of=pd.Timestamp("2025-08-13", tz="UTC"), lookback_days=365,
                              cov=frame, n_obs=frame.astype("int64") * 0 + 300, shrinkage=0.1,
                              excluded={})


def _random_problem(n: int, seed: int) -> tuple[CovarianceEstimate, dict[str, str]]:
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, 3)) * 0.01
    cov = factors @ factors.T + np.diag(rng.uniform(1e-5, 4e-4, n))
    symbols = [f"S{i:02d}" for i in range(n)]
    cats = ("stocks", "commodities", "stable_crypto", "high_vol_crypto", "stablecoins")
    return _estimate(cov, symbols), {s: cats[i % len(cats)] for i, s in enumerate(symbols)}


def _check_constraints(mix, categories, caps: Caps) -> None:
    w = mix.weights
    assert w["BTC"] == caps.target_btc_share
    assert abs(sum(w.values()) - 1.0) <= 1e-9
    others = {s: v for s, v in w.items() if s != "BTC"}
    assert all(-1e-9 <= v <= caps.max_per_asset + 1e-9 for v in others.values())
    for cat in set(categories.values()):
        total = sum(v for s, v in others.items() if categories[s] == cat)
        assert total <= caps.max_per_category + 1e-9, cat


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_optimize_mix_meets_every_constraint_to_1e_9(method, seed):
    est, cats = _random_problem(15, seed)
    caps = Caps(target_btc_share=0.4, max_per_asset=0.08, max_per_category=0.15)
    mix = optimize_mix(est, cats, method=method, caps=caps)
    _check_constraints(mix, cats, caps)


@pytest.mark.parametrize("seed", [4, 5])
def test_min_variance_beats_capped_equal_weights_and_random_feasible_mixes(seed):
    est, cats = _random_problem(12, seed)
    caps = Caps(target_btc_share=0.5, max_per_asset=0.1, max_per_category=0.2)
    best = optimize_mix(est, cats, caps=caps).risk.volatility_btc
    member = np.array([[cats[s] == c for s in est.symbols] for c in sorted(set(cats.values()))],
                      dtype=float)
    equal = dict(zip(est.symbols, capped_equal_weights(member, caps), strict=True))
    assert best <= risk_of_weights(est, equal).volatility_btc + 1e-12
    rng = np.random.default_rng(seed)
    for _ in range(50):   # random points of the feasible set: mixes of feasible vertices-ish
        x = np.array(list(equal.values())) * rng.uniform(0.5, 1.0, 12)
        x *= 0.5 / x.sum()
        if (x <= 0.1).all() and (member @ x <= 0.2).all():
            assert best <= risk_of_weights(est, dict(zip(est.symbols, x, strict=True))
                                           ).volatility_btc + 1e-12


def test_min_variance_two_assets_matches_the_closed_form():
    cov = np.array([[4e-4, 1e-4], [1e-4, 1e-4]])
    est = _estimate(cov, ["GLD", "SPY"])
    mix = optimize_mix(est, {"GLD": "commodities", "SPY": "stocks"},
                       caps=Caps(target_btc_share=0.5, max_per_asset=1.0, max_per_category=1.0))
    share = (cov[1, 1] - cov[0, 1]) / (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert mix.weights["GLD"] == pytest.approx(0.5 * share, abs=1e-7)
    assert mix.weights["SPY"] == pytest.approx(0.5 * (1 - share), abs=1e-7)


def test_risk_parity_on_uncorrelated_assets_is_inverse_volatility():
    vols = np.array([0.01, 0.02, 0.04])
    est = _estimate(np.diag(vols ** 2), ["A", "B", "C"])
    mix = optimize_mix(est, {"A": "stocks", "B": "commodities", "C": "stablecoins"},
                       method="risk_parity", caps=Caps(0.0, 1.0, 1.0))
    want = (1 / vols) / (1 / vols).sum()
    np.testing.assert_allclose([mix.weights[s] for s in "ABC"], want, atol=1e-6)


def test_max_diversification_has_the_highest_ratio():
    est, cats = _random_problem(10, 7)
    caps = Caps(0.5, 0.2, 0.3)
    ratios = {m: optimize_mix(est, cats, method=m, caps=caps).risk.diversification_ratio
              for m in METHODS}
    assert ratios["max_diversification"] >= max(ratios.values()) - 1e-9


def test_target_one_puts_everything_in_btc():
    est, cats = _random_problem(5, 8)
    mix = optimize_mix(est, cats, caps=Caps(1.0, 0.25, 0.4))
    assert mix.weights["BTC"] == 1.0 and sum(mix.weights.values()) == 1.0
    assert mix.risk.volatility_btc == 0.0


@pytest.mark.parametrize(("caps", "constraint"), [
    (Caps(0.5, 0.05, 0.4), "max_per_asset"),       # 5 assets x 0.05 < 0.5
    (Caps(0.2, 0.25, 0.1), "max_per_category"),    # 5 categories x 0.1 < 0.8
])
def test_infeasible_caps_name_the_constraint(caps, constraint):
    est, cats = _random_problem(5, 9)
    with pytest.raises(InfeasibleConstraintError) as info:
        optimize_mix(est, cats, caps=caps)
    assert info.value.constraint == constraint
    assert constraint in str(info.value)


def test_unknown_method_is_refused():
    est, cats = _random_problem(3, 1)
    with pytest.raises(ValueError, match="method"):
        optimize_mix(est, cats, method="max_return")


def test_risk_of_weights_reports_annualised_btc_volatility():
    est = _estimate(np.array([[1e-4]]), ["GLD"])
    risk = risk_of_weights(est, {"BTC": 0.5, "GLD": 0.5})
    assert risk.volatility_btc == pytest.approx(0.5 * 0.01 * math.sqrt(365))
    assert risk.diversification_ratio == pytest.approx(1.0)
