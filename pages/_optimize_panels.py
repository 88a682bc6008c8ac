"""Dashboard glue for the Suggested mix panel and the drift/backtest panels (thin callbacks).

Used by ``pages.dashboard`` (a module starting with ``_`` is not a page of its own), which
calls ``register_callbacks()``.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback

import services
from analytics.backtest import FREQUENCIES
from analytics.optimizer import METHODS, Caps, MixRisk
from components import figures, ids, optimize_figures
from components.suggested_mix import mix_view
from errors import DataError
from pages._panel_cache import cached_panel
from queries.backtest import BacktestRequest, backtest_portfolio
from queries.correlation_drift import correlation_drift
from queries.history_hourly import hourly_history
from queries.optimize import OptimizeRequest, OptimizeResult, optimize_portfolio
from queries.rebalance import Rebalance, with_valuations


def _fraction(value: object, default: float) -> float | None:
    """A percentage input (1..100) as a fraction; None when it is not one."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        return None
    return float(value) / 100.0


def mix_request(target_pct: object, method: object, asset_cap: object,
                category_cap: object) -> OptimizeRequest | str:
    """The OptimizeRequest of the panel's inputs, or the message saying which input is wrong."""
    target = _fraction(target_pct, 0.5)
    asset, category = _fraction(asset_cap, 0.25), _fraction(category_cap, 0.4)
    if target is None:
        return "Enter a target BTC share between 0 and 100 %."
    if asset is None or category is None:
        return "Caps are percentages between 0 and 100."
    if method not in METHODS:
        return "Pick an optimization method."
    return OptimizeRequest(method=str(method), caps=Caps(target, asset, category))


def run_mix(request: OptimizeRequest) -> OptimizeResult:
    """The optimizer on the app's store at the current time."""
    return optimize_portfolio(services.repository(), services.settings(), request,
                              now=services.now())


def mix_rebalance(target_pct: object, method: object, asset_cap: object,
                  category_cap: object) -> Rebalance:
    """The two-sided plan to the suggested mix (the rebalance table when the switch is on).

    Raises:
        ValueError: a bad input or caps that cannot hold (the message says which).
        DataError: the store cannot be read.
    """
    request = mix_request(target_pct, method, asset_cap, category_cap)
    if isinstance(request, str):
        raise ValueError(request)
    result = run_mix(request)
    if result.plan is None:
        raise ValueError(result.no_plan)
    return with_valuations(result.valuation, result.plan, result.not_traded,
                           priced=result.priced)


def _risk(risk: MixRisk) -> dict[str, float]:
    return {"volatility_btc": risk.volatility_btc,
            "diversification_ratio": risk.diversification_ratio,
            "effective_bets": risk.effective_bets}


def update_suggested_mix(target_pct, method, asset_cap, category_cap, _version):
    """The optimizer's proposal next to the current mix, in BTC terms."""
    request = mix_request(target_pct, method, asset_cap, category_cap)
    if isinstance(request, str):
        return dbc.Alert(request, color="warning", className="py-2 mb-0 small")
    try:
        result = run_mix(request)
    except (DataError, ValueError) as exc:
        return dbc.Alert(f"No suggestion: {exc}", color="warning", className="py-2 mb-0 small")
    return mix_view(result.mix.weights, result.current_weights, risk=_risk(result.mix.risk),
                    current_risk=_risk(result.current_risk), excluded=result.estimate.excluded,
                    at_target_risk=_risk(result.current_at_target_risk))


def _summary(result) -> dict[str, float]:  # untyped: analytics.backtest.StrategyResult
    return {"total_return_btc": result.total_return_btc,
            "volatility_btc_365": result.volatility_btc_365,
            "max_drawdown_btc": result.max_drawdown_btc, "turnover": result.turnover,
            "fees_btc": result.fees_btc}


def update_backtest(rebalance, target_pct, _version, theme):
    """Three years of the strategies in BTC terms, rebalanced monthly or quarterly."""
    dark, target = theme == "dark", _fraction(target_pct, 0.5)
    if rebalance not in FREQUENCIES or target is None:
        return figures.empty_figure("Pick a rebalance frequency and a target.", dark=dark), None
    try:
        backtest = backtest_portfolio(services.repository(), services.settings(),
                                      BacktestRequest(rebalance=rebalance, target_btc_share=target))
    except (DataError, ValueError) as exc:
        return figures.empty_figure(f"No backtest: {exc}", dark=dark), None
    return (optimize_figures.backtest_figure(
        {n: r.series for n, r in backtest.results.items()}, dark=dark),
            optimize_figures.backtest_table({n: _summary(r) for n, r in backtest.results.items()}))


DRIFT_LINES = 12  # the drift chart's lines: the largest holdings (all: the API)


def update_drift(_version, theme):
    """Rolling 90-day correlation to BTC of the largest held assets over the last year."""
    try:
        drift = correlation_drift(services.repository(), services.settings(), top=DRIFT_LINES)
    except (DataError, ValueError) as exc:
        return figures.empty_figure(f"No correlation drift: {exc}", dark=theme == "dark")
    return optimize_figures.drift_figure(drift.frame, window_days=drift.window_days,
                                         dark=theme == "dark", left_out=drift.left_out)


HOURLY_RANGES = {"24h": 1, "7d": 7}


def hourly_history_figure(window: str, *, dark: bool):
    """The value chart at hourly resolution over 24 h or 7 d (flat line: the start, held as BTC)."""
    try:
        frame = hourly_history(services.repository(), services.settings(),
                               days=HOURLY_RANGES[window])
    except (DataError, ValueError) as exc:
        return figures.empty_figure(f"No hourly view: {exc}", dark=dark)
    values = frame["value_btc"].dropna()
    held = float(values.iloc[0]) if len(values) else 0.0
    return figures.history_figure(pd.DataFrame({"value_btc": values, "held_btc": held}),
                                  dark=dark, freq="h")


def register_callbacks() -> None:
    """Register this module's callbacks with the app being built.

    Called by ``pages.dashboard`` each time Dash executes it (once per app): a module-level
    ``@callback`` here would register only with the first app of the process, as Python
    imports this helper module once.
    """
    callback(Output(ids.MIX_TABLE, "children"),
             Input(ids.REBALANCE_TARGET, "value"), Input(ids.MIX_METHOD, "value"),
             Input(ids.MIX_ASSET_CAP, "value"), Input(ids.MIX_CATEGORY_CAP, "value"),
             Input(ids.HOLDINGS_VERSION, "data"))(update_suggested_mix)
    callback(Output(ids.BACKTEST_CHART, "figure"), Output(ids.BACKTEST_TABLE, "children"),
             Input(ids.BACKTEST_REBALANCE, "value"), Input(ids.REBALANCE_TARGET, "value"),
             Input(ids.HOLDINGS_VERSION, "data"),
             Input(ids.THEME_STORE, "data"))(cached_panel(update_backtest))
    callback(Output(ids.DRIFT_CHART, "figure"), Input(ids.HOLDINGS_VERSION, "data"),
             Input(ids.THEME_STORE, "data"))(cached_panel(update_drift))
