"""The mix of non-BTC assets that diversifies best in BTC terms, BTC fixed at a target (pure).

Weights are fractions of the whole portfolio: BTC gets exactly ``target_btc_share``, the other
assets share ``1 - target_btc_share``, long only. The caps apply to the assets other than BTC:
each asset at most ``max_per_asset``, each category's non-BTC assets together at most
``max_per_category`` (BTC's own category counts only its other members). In BTC terms BTC
never moves, so the risk of a mix is that of its non-BTC part under the covariance of
``analytics.covariance``.

Methods (scipy.optimize SLSQP, analytic gradients):

* ``min_variance``: the lowest BTC-denominated variance.
* ``max_diversification``: the highest diversification ratio, sum(w sigma) / sqrt(w'Cw).
* ``risk_parity``: risk contributions w_i (Cw)_i as equal as the caps allow.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from analytics.categories import UNCATEGORIZED
from analytics.covariance import DAYS_PER_YEAR, CovarianceEstimate
from analytics.units import BTC

logger = logging.getLogger(__name__)

METHODS = ("min_variance", "max_diversification", "risk_parity")
# Every constraint holds to this after polishing (the acceptance bound is 1e-9).
CONSTRAINT_TOLERANCE = 1e-12


class InfeasibleConstraintError(ValueError):
    """The caps cannot hold together; ``constraint`` names the one that cannot be met."""

    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


@dataclass(frozen=True)
class Caps:
    """Long-only caps on the non-BTC part (fractions of the whole portfolio)."""

    target_btc_share: float = 0.5
    max_per_asset: float = 0.25
    max_per_category: float = 0.4


@dataclass(frozen=True)
class MixRisk:
    """Risk of a mix in BTC terms."""

    volatility_btc: float          # annualised (sqrt 365) volatility of the BTC value
    diversification_ratio: float   # sum(w sigma) / portfolio sigma (1 for a single asset)
    effective_bets: float          # exp(entropy of principal-component risk shares) (Meucci)


@dataclass(frozen=True)
class OptimizedMix:
    """Weights {symbol: weight} including BTC, with the problem that produced them."""

    method: str
    caps: Caps
    weights: dict[str, float]
    risk: MixRisk
    converged: bool


def _category_matrix(symbols: list[str], categories: Mapping[str, str]) -> tuple[list[str],
                                                                                  np.ndarray]:
    names = sorted({categories.get(s, UNCATEGORIZED) for s in symbols})
    member = np.array([[categories.get(s, UNCATEGORIZED) == c for s in symbols] for c in names],
                      dtype="float64").reshape(len(names), len(symbols))
    return names, member


# Caps field -> the name of the constraint in errors (the public API's query parameter).
_PARAMETERS = {"target_btc_share": "target_btc_pct", "max_per_asset": "max_per_asset",
               "max_per_category": "max_per_category"}


def check_feasible(n_assets_by_category: Mapping[str, int], caps: Caps) -> None:
    """Raise InfeasibleConstraintError when the caps cannot hold the non-BTC share.

    Raises:
        InfeasibleConstraintError: naming the API parameter (``target_btc_pct``,
            ``max_per_asset`` or ``max_per_category``).
    """
    rest = 1.0 - caps.target_btc_share
    for field, name in _PARAMETERS.items():
        value = getattr(caps, field)
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InfeasibleConstraintError(name, f"{name} must be in [0, 1], got {value}")
    n = sum(n_assets_by_category.values())
    if rest > 0 and n == 0:
        raise InfeasibleConstraintError(
            "target_btc_pct", f"target_btc_pct={caps.target_btc_share} leaves {rest:g} to "
            "other assets, but no other asset has enough history")
    if n * caps.max_per_asset < rest - CONSTRAINT_TOLERANCE:
        raise InfeasibleConstraintError(
            "max_per_asset", f"max_per_asset={caps.max_per_asset:g} x {n} assets "
            f"< {rest:g} to place outside BTC")
    room = sum(min(caps.max_per_category, k * caps.max_per_asset)
               for k in n_assets_by_category.values())
    if room < rest - CONSTRAINT_TOLERANCE:
        raise InfeasibleConstraintError(
            "max_per_category", f"max_per_category={caps.max_per_category:g} x "
            f"{len(n_assets_by_category)} categories holds at most {room:g} "
            f"< {rest:g} to place outside BTC")


def capped_equal_weights(member: np.ndarray, caps: Caps) -> np.ndarray:
    """Equal weights within each category's room, scaled to the non-BTC share (feasible)."""
    counts = member.sum(axis=1)
    room = np.minimum(caps.max_per_category, counts * caps.max_per_asset)
    per_asset = member.T @ np.where(counts > 0, room / np.maximum(counts, 1), 0.0)
    total = per_asset.sum()
    return per_asset * ((1.0 - caps.target_btc_share) / total) if total > 0 else per_asset


def polish(x: np.ndarray, member: np.ndarray, caps: Caps) -> np.ndarray:
    """Clip a solver's answer onto the constraints (it can miss them by ~1e-10).

    Clip to [0, max_per_asset], scale down categories over their cap, then put the missing or
    surplus share on the assets with room, in proportion to that room (or to their weight).
    """
    rest = 1.0 - caps.target_btc_share
    x = np.clip(x, 0.0, caps.max_per_asset)
    over = member @ x
    scale = np.where(over > caps.max_per_category, caps.max_per_category / np.maximum(over, 1e-300),
                     1.0)
    x = x * (member.T @ scale)
    gap = rest - x.sum()
    if gap > 0:
        room = np.minimum(caps.max_per_asset - x,
                          member.T @ (caps.max_per_category - member @ x))
        room = np.maximum(room, 0.0)
        x = x + gap * room / room.sum() if room.sum() > 0 else x
    elif gap < 0 and x.sum() > 0:
        x = x * (rest / x.sum())
    return x


def _violation(x: np.ndarray, member: np.ndarray, caps: Caps) -> float:
    rest = 1.0 - caps.target_btc_share
    return float(max(abs(x.sum() - rest), -x.min(initial=0.0),
                     (x - caps.max_per_asset).max(initial=0.0),
                     (member @ x - caps.max_per_category).max(initial=0.0)))


def _objective(method: str, cov: np.ndarray):
    """Objective and gradient of a method on a covariance scaled to unit mean variance."""
    sigma = np.sqrt(np.diag(cov))
    n = len(sigma)

    def min_variance(x):
        m = cov @ x
        return float(x @ m), 2.0 * m

    def max_diversification(x):
        m = cov @ x
        vol = math.sqrt(max(float(x @ m), 1e-300))
        num = float(sigma @ x)
        return -num / vol, -(sigma / vol - num * m / vol ** 3)

    def risk_parity(x):
        m = cov @ x
        rc = x * m
        d = rc - rc.sum() / n          # sum(d) == 0, so the budget term drops out of the gradient
        return float(d @ d) * n * n, 2.0 * (d * m + cov @ (d * x)) * n * n

    return {"min_variance": min_variance, "max_diversification": max_diversification,
            "risk_parity": risk_parity}[method]


def mix_risk(cov: np.ndarray, x: np.ndarray) -> MixRisk:
    """Volatility (annualised), diversification ratio and effective bets of weights ``x``."""
    variance = float(x @ cov @ x)
    vol = math.sqrt(max(variance, 0.0))
    if vol == 0.0:
        return MixRisk(volatility_btc=0.0, diversification_ratio=1.0, effective_bets=1.0)
    ratio = float(np.sqrt(np.diag(cov)) @ x) / vol
    eigval, eigvec = np.linalg.eigh(cov)
    shares = np.clip(eigval * (eigvec.T @ x) ** 2 / variance, 0.0, None)
    shares = shares[shares > 0] / shares.sum()
    bets = float(np.exp(-(shares * np.log(shares)).sum()))
    return MixRisk(volatility_btc=vol * math.sqrt(DAYS_PER_YEAR), diversification_ratio=ratio,
                   effective_bets=bets)


def solve_weights(cov: np.ndarray, member: np.ndarray, caps: Caps, method: str,
                  ) -> tuple[np.ndarray, bool]:
    """SLSQP on the non-BTC weights from the capped equal-weight start; polished answer."""
    n = cov.shape[0]
    rest = 1.0 - caps.target_btc_share
    start = capped_equal_weights(member, caps)
    if n == 0 or rest <= 0:
        return np.zeros(n), True
    scaled = cov / float(np.mean(np.diag(cov)))
    fun = _objective(method, scaled)
    constraints = [
        {"type": "eq", "fun": lambda x: np.array([x.sum() - rest]),
         "jac": lambda x: np.ones((1, n))},
        {"type": "ineq", "fun": lambda x: caps.max_per_category - member @ x,
         "jac": lambda x: -member},
    ]
    result = minimize(fun, start, jac=True, method="SLSQP", bounds=[(0.0, caps.max_per_asset)] * n,
                      constraints=constraints, options={"maxiter": 500, "ftol": 1e-14})
    x = polish(result.x if np.all(np.isfinite(result.x)) else start, member, caps)
    # SLSQP can stop on a point no better than where it began: never return worse than start.
    if fun(x)[0] > fun(start)[0]:
        x = start
    return x, bool(result.success)


def optimize_mix(estimate: CovarianceEstimate, categories: Mapping[str, str], *,
                 method: str = "min_variance", caps: Caps | None = None,
                 universe: list[str] | None = None) -> OptimizedMix:
    """The best mix of the estimated assets (optionally only ``universe``) with BTC at target.

    Args:
        estimate: covariance of BTC-denominated returns (``btc_covariance``).
        categories: ``{symbol: category}``.
        method: one of ``METHODS``.
        caps: target BTC share and caps (default ``Caps()``).
        universe: restrict to these symbols (those not estimated are simply absent).

    Returns:
        OptimizedMix whose weights include BTC and sum to 1.

    Raises:
        ValueError: unknown method.
        InfeasibleConstraintError: the caps cannot hold the non-BTC share.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    caps = caps or Caps()
    symbols = [s for s in estimate.symbols if universe is None or s in universe]
    names, member = _category_matrix(symbols, categories)
    check_feasible({c: int(k) for c, k in zip(names, member.sum(axis=1), strict=True)}, caps)
    cov = estimate.cov.loc[symbols, symbols].to_numpy(dtype="float64")
    x, converged = solve_weights(cov, member, caps, method)
    violation = _violation(x, member, caps)
    if violation > 1e-9:
        raise ValueError(f"optimizer answer misses a constraint by {violation:.3g}")
    weights = {BTC: float(caps.target_btc_share), **{s: float(w) for s, w in zip(symbols, x,
                                                                              strict=True)}}
    return OptimizedMix(method=method, caps=caps, weights=weights, risk=mix_risk(cov, x),
                        converged=converged)


def risk_of_weights(estimate: CovarianceEstimate, weights: Mapping[str, float]) -> MixRisk:
    """MixRisk of any mix {symbol: weight}.

    BTC has no risk in BTC terms; assets without an estimate are left out.
    """
    symbols = estimate.symbols
    x = np.array([float(weights.get(s, 0.0)) for s in symbols])
    return mix_risk(estimate.cov.to_numpy(dtype="float64"), x)
