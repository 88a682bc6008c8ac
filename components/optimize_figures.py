"""Figures and tables (pure) of the backtest and correlation-drift panels."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.figures import BTC_ORANGE, PALETTE, _base_layout, axis_times
from components.format import fmt_btc, fmt_pct

STRATEGY_LABELS = {"current": "Current mix", "optimized": "Optimized (walk-forward)",
                   "btc_target": "BTC at target"}
STRATEGY_COLOURS = {"current": "#18bc9c", "optimized": "#3498db", "btc_target": BTC_ORANGE}


def backtest_figure(series: Mapping[str, pd.Series], *, dark: bool = False) -> go.Figure:
    """Each strategy's BTC value per day (index UTC dates)."""
    fig = go.Figure([go.Scatter(
        x=axis_times(s.index), y=s.to_numpy(), name=STRATEGY_LABELS.get(name, name),
        line={"color": STRATEGY_COLOURS.get(name, "#7f8c8d"), "width": 1.8},
        hovertemplate="%{x|%Y-%m-%d}: ₿%{y:.6f}<extra>" + name + "</extra>")
        for name, s in series.items()])
    fig.update_layout(hovermode="x unified")
    fig.update_yaxes(title_text="BTC", tickformat=".4f")
    return _base_layout(fig, dark=dark, height=320)


def backtest_table(summaries: Mapping[str, Mapping[str, float]]) -> dbc.Table:
    """Return, volatility, drawdown, turnover and fees per strategy (all in BTC terms)."""
    head = html.Thead(html.Tr([html.Th(h, className=c) for h, c in (
        ("Strategy", ""), ("Return", "text-end"), ("Vol (yr)", "text-end"),
        ("Max DD", "text-end"), ("Turnover", "text-end"), ("Fees", "text-end"))]))
    rows = [html.Tr([
        html.Td(STRATEGY_LABELS.get(name, name)),
        html.Td(fmt_pct(s["total_return_btc"], 1), className="text-end font-monospace"),
        html.Td(fmt_pct(s["volatility_btc_365"], 1), className="text-end font-monospace"),
        html.Td(fmt_pct(s["max_drawdown_btc"], 1), className="text-end font-monospace"),
        html.Td(f"{s['turnover']:.2f}", className="text-end font-monospace"),
        html.Td(fmt_btc(s["fees_btc"]), className="text-end font-monospace"),
    ]) for name, s in summaries.items()]
    return dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True, className="mb-0 small")


DRIFT_POINTS = 120  # points per line at most: a drawn year needs no more


def thinned(frame: pd.DataFrame, max_points: int = DRIFT_POINTS) -> pd.DataFrame:
    """Every k-th row (k as small as keeps ``max_points`` rows at most), the newest kept."""
    step = max(1, -(-len(frame) // max_points))
    return frame.iloc[::-1].iloc[::step].iloc[::-1]


def drift_figure(frame: pd.DataFrame, *, window_days: int, dark: bool = False,
                 left_out: tuple[str, ...] = (), max_points: int = DRIFT_POINTS) -> go.Figure:
    """Rolling correlation to BTC, one line per asset; gaps where a window has no number.

    At most ``max_points`` points per line, values to 3 decimals (the chart shows 2);
    ``left_out``: held assets without a line (named in the title as a count).
    """
    frame = thinned(frame, max_points).round(3)
    times = axis_times(frame.index)
    fig = go.Figure([go.Scatter(
        x=times, y=frame[s].to_numpy(), name=str(s), connectgaps=False,
        line={"color": PALETTE[i % len(PALETTE)], "width": 1.5},
        hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}<extra>" + str(s) + "</extra>")
        for i, s in enumerate(frame.columns)])
    fig.add_hline(y=0.5, line={"dash": "dot", "width": 1, "color": "#7f8c8d"})
    title = f"{window_days}-day correlation to BTC"
    if left_out:
        title += (f" (the {len(frame.columns)} largest holdings; {len(left_out)} more in"
                  " GET /api/correlation/rolling)")
    fig.update_layout(title={"text": title, "x": 0, "font": {"size": 12}})
    fig.update_yaxes(range=[-1, 1], title_text="corr")
    return _base_layout(fig, dark=dark, height=320)
