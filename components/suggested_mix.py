"""The Suggested mix panel (pure): optimizer controls and the proposal next to the current mix."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
from dash import html

from analytics.units import BTC
from components import ids
from components.format import fmt_pct

METHOD_LABELS = {"min_variance": "Min variance", "max_diversification": "Max diversification",
                 "risk_parity": "Risk parity"}


def _cap_input(label: str, component_id: str, value: int) -> dbc.InputGroup:
    return dbc.InputGroup([dbc.InputGroupText(label),
                           dbc.Input(id=component_id, type="number", min=1, max=100, step=1,
                                     value=value),
                           dbc.InputGroupText("%")], size="sm", className="mb-2")


def mix_controls() -> list:
    """Method, per-asset and per-category caps, and the "rebalance to this mix" switch."""
    return [
        dbc.RadioItems(id=ids.MIX_METHOD, value="min_variance", inline=True,
                       options=[{"label": v, "value": k} for k, v in METHOD_LABELS.items()],
                       className="small mb-2"),
        # Side by side only where the panel is wide enough for both labels and their values.
        dbc.Row([dbc.Col(_cap_input("Max per asset", ids.MIX_ASSET_CAP, 25), sm=6, lg=12,
                         xxl=6),
                 dbc.Col(_cap_input("Max per category", ids.MIX_CATEGORY_CAP, 40), sm=6, lg=12,
                         xxl=6)],
                className="g-2"),
        dbc.Switch(id=ids.MIX_SWITCH, label="Rebalance to this mix", value=False,
                   className="small mb-2"),
    ]


def _risk_row(label: str, risk: Mapping[str, float]) -> html.Tr:
    return html.Tr([html.Td(label), html.Td(fmt_pct(risk["volatility_btc"], 1),
                                            className="text-end font-monospace"),
                    html.Td(f"{risk['diversification_ratio']:.2f}",
                            className="text-end font-monospace"),
                    html.Td(f"{risk['effective_bets']:.1f}", className="text-end font-monospace")])


def mix_view(weights: Mapping[str, float], current: Mapping[str, float], *,
             risk: Mapping[str, float], current_risk: Mapping[str, float],
             excluded: Mapping[str, str],
             at_target_risk: Mapping[str, float] | None = None) -> html.Div:
    """Weights (proposal vs now) and risk in BTC terms; excluded assets with their reason.

    Args:
        weights: the proposal, ``{symbol: fraction}`` including BTC.
        current: the current mix, same shape.
        risk: the proposal's ``volatility_btc``, ``diversification_ratio``, ``effective_bets``.
        current_risk: the same figures of the current mix.
        excluded: ``{symbol: reason}`` of assets the optimizer left out.
        at_target_risk: today's non-BTC mix with BTC at the target (like for like).
    """
    symbols = sorted(set(weights) | set(current), key=lambda s: (s != BTC, -weights.get(s, 0)))
    rows = [html.Tr([html.Td(html.Strong(s)),
                     html.Td(fmt_pct(weights.get(s, 0.0), 1), className="text-end font-monospace"),
                     html.Td(fmt_pct(current.get(s, 0.0), 1),
                             className="text-end font-monospace text-body-secondary")])
            for s in symbols]
    head = html.Thead(html.Tr([html.Th("Asset"), html.Th("Proposal", className="text-end"),
                               html.Th("Now", className="text-end")]))
    table = dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True, className="mb-2")
    risk_table = dbc.Table([html.Thead(html.Tr([html.Th("In BTC terms"),
                                                html.Th("Vol (yr)", className="text-end"),
                                                html.Th("Div. ratio", className="text-end"),
                                                html.Th("Bets", className="text-end")])),
                            html.Tbody([_risk_row("Proposal", risk),
                                        _risk_row("Now", current_risk),
                                        *([_risk_row("Now, BTC at target", at_target_risk)]
                                          if at_target_risk else [])])],
                           size="sm", responsive=True, className="mb-1")
    notes = [html.Div(f"{s} left out: {why}", className="small text-body-secondary")
             for s, why in sorted(excluded.items())]
    return html.Div([risk_table, table, *notes])


def backtest_body(graph) -> dbc.Row:  # untyped: the layout's graph factory
    """Rebalance frequency, the strategies' BTC value lines and the summary table."""
    frequency = dbc.RadioItems(id=ids.BACKTEST_REBALANCE, value="monthly", inline=True,
                               options=[{"label": "Monthly", "value": "monthly"},
                                        {"label": "Quarterly", "value": "quarterly"}],
                               className="small mb-2")
    # The summary has six columns: five twelfths keep them all in view from lg up.
    return dbc.Row([dbc.Col([frequency, graph(ids.BACKTEST_CHART)], lg=7),
                    dbc.Col(html.Div(id=ids.BACKTEST_TABLE), lg=5)])


def history_range() -> dbc.RadioItems:
    """All history (daily) or the last 7 d / 24 h at hourly resolution."""
    return dbc.RadioItems(id=ids.HISTORY_RANGE, value="all", inline=True, className="small mb-1",
                          options=[{"label": "All (daily)", "value": "all"},
                                   {"label": "7 d (hourly)", "value": "7d"},
                                   {"label": "24 h (hourly)", "value": "24h"}])
