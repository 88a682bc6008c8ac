"""Dashboard performance panel (pure): the stats row and the value-vs-HODL figure."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from components.figures import BTC_ORANGE, _base_layout
from components.format import fmt_signed_pct

STATS = (  # (report key, label)
    ("twr_btc", "TWR in BTC"), ("mwr_btc", "XIRR in BTC (yearly)"),
    ("twr_usd", "TWR in USD"), ("mwr_usd", "XIRR in USD (yearly)"),
    ("vs_hodl_sats", "vs. just holding BTC"), ("volatility_btc_365", "Volatility in BTC (yearly)"),
    ("max_drawdown_btc", "Max drawdown in BTC"),
)


def fmt_sats_signed(sats: int) -> str:
    """'+1,234,567 sats' / '−12 sats'."""
    return f"{sats:+,} sats".replace("-", "−")


def stat_text(key: str, report: Mapping) -> tuple[str, str]:
    """(text, colour class) of one statistic."""
    value = report.get(key)
    if key == "vs_hodl_sats":
        return fmt_sats_signed(int(value)), "text-success" if value > 0 else (
            "text-danger" if value < 0 else "")
    if key == "max_drawdown_btc":
        depth = value["depth"] if value else None
        text = fmt_signed_pct(depth, 1)
        return (f"{text} ({value['peak']} → {value['trough']})" if depth else text), ""
    if key == "volatility_btc_365":
        return ("—" if value is None else f"{value * 100:.1f}%"), ""
    cls = ("" if value is None or value == 0 else "text-success" if value > 0
           else "text-danger")
    return fmt_signed_pct(value, 1), cls


def performance_stats(report: Mapping) -> dbc.Row:
    """One small tile per statistic, plus the period it covers."""
    tiles = []
    for key, label in STATS:
        text, cls = stat_text(key, report)
        tiles.append(dbc.Col(html.Div([
            html.Div(label, className="small text-body-secondary"),
            html.Div(text, className=f"font-monospace fw-semibold {cls}",
                     id=f"performance-{key.replace('_', '-')}")]),
            xs=6, md=3, className="mb-2"))
    period = html.Div(f"{report['start']} → {report['end']} · in BTC, holding BTC is flat: "
                      "a BTC return is the excess over just holding BTC.",
                      className="small text-body-secondary mb-2")
    return html.Div([dbc.Row(tiles, className="g-2"), period])


def performance_figure(report: Mapping, *, dark: bool = False) -> go.Figure:
    """Portfolio value in BTC per day against the HODL line (every flow bought BTC)."""
    series = report["series"]
    days = [row["date"] for row in series]
    fig = go.Figure([
        go.Scatter(x=days, y=[r["value_btc"] for r in series], name="Portfolio (BTC)",
                   line={"color": "#18bc9c", "width": 2},
                   hovertemplate="%{x|%Y-%m-%d}: ₿%{y:.8f}<extra>portfolio</extra>"),
        go.Scatter(x=days, y=[r["hodl_btc"] for r in series], name="Just holding BTC",
                   line={"color": BTC_ORANGE, "width": 1.5, "dash": "dash"},
                   hovertemplate="₿%{y:.8f}<extra>HODL</extra>"),
    ])
    fig.update_layout(hovermode="x unified")
    fig.update_yaxes(title_text="BTC", tickformat=".4f")
    return _base_layout(fig, dark=dark, height=320)
