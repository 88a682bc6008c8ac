"""GET /api/diversification and GET /api/optimize (glue: strict parsing -> queries -> JSON).

``GET /api/diversification?lookback_days=90&threshold=0.5``
    200 ``{as_of, lookback_days, threshold, candidates, by_category, effective_bets}``:
    every configured asset whose correlation to BTC is below the threshold, ranked round robin
    over categories (``analytics.selection``), with ``corr_btc``, ``n_obs``, ``category`` and
    ``held``; effective bets of BTC + the held assets (``current``) and of BTC + the candidates
    (``proposal``); ``no_number``: assets without a correlation and why (series ended).
``GET /api/optimize?target_btc_pct=0.5&lookback_days=365&method=min_variance
&max_per_asset=0.25&max_per_category=0.4&universe=held[&fee_bps=0&min_trade_btc=0
&min_trade_usd=10&include_stale=false]``
    200 ``{weights, expected_volatility_btc, diversification_ratio, effective_bets, current,
    current_at_target, excluded, trades, skipped, rounding, fees_btc, after, not_traded, ...}``;
    weights are fractions of the whole portfolio, BTC fixed at the target; ``current_at_target``
    is today's non-BTC mix with BTC moved to the target (the like-for-like comparison).
    ``trades`` is one two-sided plan to the proposal (``analytics.mix_rebalancing``: sells of
    overweight, buys of underweight assets) under the /api/rebalance rules (fee, lot sizes,
    minimum trade; ``skipped`` legs with the reason); ``not_traded`` maps each asset the plan
    leaves alone (stale price, left out by the optimizer) to the reason; ``no_plan`` says why
    there are no trades at all (e.g. a stale BTC price; ``after`` is then null). 400
    ``{error, constraint}`` when the caps cannot hold.

A malformed, unknown or repeated query parameter is a 400; an unreadable store is a 503.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint

import services
from analytics.optimizer import METHODS, Caps, MixRisk
from errors import InvalidInputError
from queries.diversification import Diversification, diversification
from queries.optimize import UNIVERSES, OptimizeRequest, OptimizeResult, optimize_portfolio
from queries.rebalance import with_valuations
from webapi.common import query_params, query_response
from webapi.diversification import _FLOAT, _INT, parse_bool, parse_float
from webapi.payloads import rebalance_payload

logger = logging.getLogger(__name__)

bp = Blueprint("api_optimize", __name__)

OPTIMIZE_LOOKBACK = (30, 3650)     # the optimizer needs 30 returns per asset


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def parse_choice(name: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (exact, lower case)."""
    if raw is None:
        return default
    if raw not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(choices)}, got {raw[:40]!r}")
    return raw


def parse_int(name: str, raw: str | None, default: int, lo: int, hi: int) -> int:
    """A plain integer in [lo, hi]."""
    if raw is None:
        return default
    if not _INT.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise InvalidInputError(f"{name} must be an integer in [{lo}, {hi}], got {raw[:40]!r}")
    return int(raw)


def parse_threshold(raw: str | None) -> float:
    """threshold: a correlation in (-1, 1] (below -1 nothing could qualify)."""
    if raw is None:
        return 0.5
    value = float(raw) if _FLOAT.fullmatch(raw) else math.nan
    if not (math.isfinite(value) and -1.0 < value <= 1.0):
        raise InvalidInputError(f"threshold must be a number in (-1, 1], got {raw[:40]!r}")
    return value


def parse_diversification(args) -> dict[str, float]:  # untyped: a werkzeug MultiDict
    """``lookback_days`` and ``threshold`` of a query string (strict)."""
    return {"lookback_days": parse_int("lookback_days", args.get("lookback_days"), 90, 2, 3650),
            "threshold": parse_threshold(args.get("threshold"))}


def diversification_payload(view: Diversification) -> dict:
    """The /api/diversification body."""
    picks = view.selection.picks
    candidates = [{"rank": int(r.rank), "symbol": str(r.symbol), "category": str(r.category),
                   "corr_btc": _num(r.corr_btc), "n_obs": int(r.n_obs),
                   "held": str(r.symbol) in view.held} for r in picks.itertuples(index=False)]
    by_category: dict[str, list[str]] = {}
    for row in candidates:
        by_category.setdefault(row["category"], []).append(row["symbol"])
    return {
        "as_of": view.result.as_of.isoformat(), "lookback_days": view.result.lookback_days,
        "threshold": view.selection.threshold, "candidates": candidates,
        "by_category": by_category, "no_number": view.no_number,
        "effective_bets": {"current": _num(view.effective_bets_current),
                           "proposal": _num(view.effective_bets_proposal)},
    }


@bp.get("/api/diversification")
@query_params("lookback_days", "threshold")
def get_diversification():
    """Low-correlation candidates by category and effective bets now vs proposed."""
    return query_response(
        parse_diversification,
        lambda req: diversification(services.repository(), services.settings(), **req),
        lambda view, _req: diversification_payload(view),
        unavailable="diversification unavailable")


def parse_optimize(args) -> OptimizeRequest:  # untyped: a werkzeug MultiDict
    """The OptimizeRequest of a query string (strict)."""
    caps = Caps(
        target_btc_share=parse_float("target_btc_pct", args.get("target_btc_pct"), 0.5, 0, 1),
        max_per_asset=parse_float("max_per_asset", args.get("max_per_asset"), 0.25, 0, 1),
        max_per_category=parse_float("max_per_category", args.get("max_per_category"), 0.4,
                                     0, 1))
    return OptimizeRequest(
        method=parse_choice("method", args.get("method"), METHODS, "min_variance"), caps=caps,
        lookback_days=parse_int("lookback_days", args.get("lookback_days"), 365,
                                *OPTIMIZE_LOOKBACK),
        universe=parse_choice("universe", args.get("universe"), UNIVERSES, "held"),
        fee_bps=parse_float("fee_bps", args.get("fee_bps"), 0.0, 0, 10_000, hi_open=True),
        min_trade_btc=parse_float("min_trade_btc", args.get("min_trade_btc"), 0.0, 0,
                                  21_000_000),
        min_trade_usd=parse_float("min_trade_usd", args.get("min_trade_usd"),
                                  services.settings().rebalance.min_trade_usd, 0, 1e12),
        include_stale=parse_bool("include_stale", args.get("include_stale")))


def _risk(risk: MixRisk) -> dict:
    return {"expected_volatility_btc": _num(risk.volatility_btc),
            "diversification_ratio": _num(risk.diversification_ratio),
            "effective_bets": _num(risk.effective_bets)}


def optimize_payload(result: OptimizeResult, req: OptimizeRequest) -> dict:
    """The /api/optimize body: the proposal next to the current mix, and the trades."""
    if result.plan is None:
        plan = {"as_of": result.valuation.as_of.isoformat(), "trades": [], "skipped": [],
                "rounding": None, "fees_btc": 0.0, "after": None, "excluded": {}}
    else:
        plan = rebalance_payload(with_valuations(result.valuation, result.plan,
                                                 result.not_traded, priced=result.priced))
    return {
        "as_of": plan["as_of"], "covariance_as_of": result.estimate.as_of.isoformat(),
        "method": req.method, "lookback_days": req.lookback_days, "universe": req.universe,
        "target_btc_pct": req.caps.target_btc_share, "max_per_asset": req.caps.max_per_asset,
        "max_per_category": req.caps.max_per_category,
        "weights": result.mix.weights, **_risk(result.mix.risk),
        "current": {"weights": result.current_weights, **_risk(result.current_risk)},
        "current_at_target": {"weights": result.current_at_target,
                              **_risk(result.current_at_target_risk)},
        "shrinkage": result.estimate.shrinkage, "excluded": result.estimate.excluded,
        "converged": result.mix.converged,
        "trades": plan["trades"], "skipped": plan["skipped"], "rounding": plan["rounding"],
        "fees_btc": plan["fees_btc"], "after": plan["after"], "not_traded": plan["excluded"],
        "no_plan": result.no_plan,
    }


@bp.get("/api/optimize")
@query_params("target_btc_pct", "lookback_days", "method", "max_per_asset", "max_per_category",
              "universe", "fee_bps", "min_trade_btc", "min_trade_usd", "include_stale")
def get_optimize():
    """The optimizer's mix in BTC terms and the trades to reach it."""
    return query_response(
        parse_optimize,
        lambda req: optimize_portfolio(services.repository(), services.settings(), req,
                                       now=services.now()),
        optimize_payload, unavailable="optimizer unavailable", empty="no proposal")
